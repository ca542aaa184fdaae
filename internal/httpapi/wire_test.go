package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/sqlite"
)

var updateWire = flag.Bool("update-wire", false, "rewrite testdata/wire.golden from this build")

// wirePositions is a writer that always stands at one position, so every write answers with
// Catalog-Read-After and reads take the replica routing path.
type wirePositions struct{}

func (wirePositions) WritePosition(context.Context) (catalog.ReadPosition, error) {
	return catalog.ParseReadPosition("16/B374D848")
}

// TestWireUnchanged sends a table of requests through the whole handler (every middleware on:
// request IDs, deadlines, the access log, metrics, both rate limits, CORS, read-after routing,
// the read cache's held answers, compression) over a real connection, and compares what a client
// and an operator see with testdata/wire.golden: every response header (Date aside), the body,
// every log line's fields (time and duration aside) and the request metrics. The golden file was
// written by the build before the per-request path was cut (ADR 0025, 2026-12-02): the cuts must
// keep every answer and log line as it was. Refresh only for an intended change:
// go test -run TestWireUnchanged ./internal/httpapi/ -args -update-wire
func TestWireUnchanged(t *testing.T) {
	got := wireTranscript(t)
	path := filepath.Join("testdata", "wire.golden")
	if *updateWire {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		gl, wl := "", ""
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("the wire changed at line %d of %s:\n got: %s\nwant: %s\n(run with -update-wire only if the change is intended)", i+1, path, gl, wl)
		}
	}
}

// wireTranscript serves the table and returns the normalised transcript.
func wireTranscript(t *testing.T) string {
	t.Helper()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := httpapi.NewKeys([]string{key})
	if err != nil {
		t.Fatal(err)
	}
	cors, err := access.NewCORS([]string{"https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	// Limits on a stopped clock, so the remaining counts and reset times are the same each run;
	// the key's burst runs out within the table.
	perIP, _ := access.ParseLimit("100/s:1000")
	perKey, _ := access.ParseLimit("1/s:5")
	limits := &httpapi.RateLimits{PerIP: access.NewLimiter(perIP, 100, clock), PerKey: access.NewLimiter(perKey, 100, clock)}
	var logs lockedBuffer
	m := httpapi.NewMetrics()
	srv := httpapi.New(httpapi.Options{Store: readcache.New(store, time.Hour, 1<<20), Keys: keys, CORS: cors,
		Limits: limits, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m, OpenAPI: api.OpenAPI,
		ReadPositions: wirePositions{}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	var out strings.Builder
	ids := newIDNames()
	n := 0
	send := func(method, path, body string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == "" {
			req.Body, req.ContentLength = nil, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if n++; req.Header.Get("X-Request-Id") == "" {
			req.Header.Set("X-Request-Id", "req-"+strconv.Itoa(n))
		}
		before := len(logs.String())
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "> %s %s %s\n", method, ids.replace(path), strings.Join(hdr, " | "))
		fmt.Fprintf(&out, "< %d\n", resp.StatusCode)
		names := make([]string, 0, len(resp.Header))
		for k := range resp.Header {
			names = append(names, k)
		}
		slices.Sort(names)
		coded := resp.Header.Get("Content-Encoding") != ""
		for _, k := range names {
			v := strings.Join(resp.Header[k], ", ")
			switch {
			case k == "Date":
				continue
			case k == "Content-Length":
				if n, err := strconv.Atoi(v); method != "HEAD" && resp.StatusCode != http.StatusNotModified && (err != nil || n != len(raw)) {
					t.Errorf("%s %s: Content-Length %q for a body of %d bytes", method, path, v, len(raw))
				}
				if coded {
					v = "<coded length>" // compressed ids differ from run to run
				}
			case k == "X-Request-Id" && generatedID.MatchString(v):
				v = "<generated>"
			}
			fmt.Fprintf(&out, "< %s: %s\n", k, ids.replace(v))
		}
		fmt.Fprintf(&out, "< body: %s\n", ids.replace(decodeBody(t, resp.Header.Get("Content-Encoding"), raw)))
		// The access line is written before the answer's last byte leaves, so it is there.
		for _, line := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			if line != "" {
				fmt.Fprintf(&out, "log: %s\n", ids.replace(logFields(t, line, coded)))
			}
		}
		out.WriteString("\n")
		return resp
	}

	// A product to read, made through the API (keyed: this uses the key's burst too).
	created := send("POST", "/products", `{"name":"Mug","category":"kitchen","status":"active","description":"`+
		strings.Repeat("A mug for tea. ", 120)+`","variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}]}`,
		"Authorization", "Bearer "+key)
	if created.StatusCode != http.StatusCreated {
		// The category is missing: make it, then the product.
		send("POST", "/categories", `{"slug":"kitchen","name":"Kitchen"}`, "Authorization", "Bearer "+key)
		created = send("POST", "/products", `{"name":"Mug","category":"kitchen","status":"active","description":"`+
			strings.Repeat("A mug for tea. ", 120)+`","variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}]}`,
			"Authorization", "Bearer "+key)
	}
	loc := created.Header.Get("Location")
	if created.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("the product was not made: %d %q", created.StatusCode, loc)
	}
	p := loc[strings.LastIndex(loc, "/products/"):]
	etag := strings.Trim(created.Header.Get("ETag"), `"`)
	send("POST", "/products", `{"name":"Cup","category":"kitchen","status":"draft","variants":[{"sku":"CUP-1","prices":[{"currency":"USD","amount":99}]}]}`,
		"Authorization", "Bearer "+key)

	send("GET", p, "")                            // a miss, then hits
	send("GET", p, "")                            // identity from memory
	send("GET", p, "", "Accept-Encoding", "gzip") // the cache's own gzip document
	send("GET", p, "", "Accept-Encoding", "gzip")
	send("GET", p, "", "Accept-Encoding", "zstd")
	send("GET", p, "", "Accept-Encoding", "gzip;q=0.5, zstd;q=0.1")
	send("GET", p, "", "Accept-Encoding", "gzip, zstd")
	send("HEAD", p, "", "Accept-Encoding", "gzip")
	send("HEAD", p, "")
	send("GET", p, "", "If-None-Match", `"`+etag+`"`)
	send("GET", p, "", "If-None-Match", `"`+etag+`-gzip"`, "Accept-Encoding", "gzip")
	send("GET", p, "", "If-None-Match", `"0.0"`, "Accept-Encoding", "gzip")
	send("GET", p+"?fields=id,name", "", "Accept-Encoding", "gzip")
	send("GET", p+"?fields=nope", "")
	send("GET", p, "", "Origin", "https://shop.example", "Accept-Encoding", "gzip")
	send("GET", p, "", "Origin", "https://evil.example")
	send("GET", p, "", "X-Request-Id", "bad id with spaces")
	send("GET", p, "", "X-Request-Id", strings.Repeat("x", 129))
	send("GET", p, "", "Catalog-Read-After", "16/B374D848")
	send("GET", p, "", "Catalog-Read-After", "nonsense")
	send("GET", p, "", "Authorization", "Bearer wrong-key-0123456789abcdef")
	send("GET", p, "", "Authorization", "Basic Zm9vOmJhcg==")
	send("GET", "/products/not-a-uuid", "")
	send("GET", "/products/%00", "")
	send("GET", "/products?limit=2", "", "Accept-Encoding", "gzip")
	send("GET", "/products?limit=x", "")
	send("GET", "/skus/MUG-1", "")
	send("GET", "/health", "")
	send("GET", "/ready", "")
	send("DELETE", "/health", "")
	send("GET", "/nowhere", "")
	send("GET", "//products", "")
	send("OPTIONS", "/products", "")
	send("OPTIONS", "/products", "", "Origin", "https://shop.example", "Access-Control-Request-Method", "POST")
	send("OPTIONS", "/products", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	send("BREW", "/products", "")
	send("GET", "/events", "")
	send("GET", p, "", "X-Big", strings.Repeat("b", 70<<10))
	// Keyed requests until the key's burst runs out: private answers, then 429.
	send("GET", p, "", "Authorization", "Bearer "+key, "Accept-Encoding", "gzip")
	send("PATCH", p, `{"name":"Big mug"}`, "Authorization", "Bearer "+key, "If-Match", `"`+etag+`"`)
	send("GET", p, "", "Authorization", "Bearer "+key)
	send("GET", p, "", "Authorization", "Bearer "+key)
	send("GET", p, "") // anonymous after the write: the cache was invalidated

	// The request metrics: every route, method and status counted once per request.
	mux := httptest.NewServer(m.Handler())
	defer mux.Close()
	mr, err := http.Get(mux.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer mr.Body.Close()
	sc := bufio.NewScanner(mr.Body)
	for sc.Scan() {
		l := sc.Text()
		for _, prefix := range []string{"catalog_http_requests_total{", "catalog_http_request_duration_seconds_count{", "catalog_rate_limited_total{"} {
			if strings.HasPrefix(l, prefix) {
				fmt.Fprintf(&out, "metric: %s\n", l)
			}
		}
	}
	return out.String()
}

var (
	generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)
	uuidRE      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// idNames names each UUID by its order of first appearance, so a transcript keeps which ids are
// the same without the ids themselves (they are random).
type idNames struct {
	mu    sync.Mutex
	names map[string]string
}

func newIDNames() *idNames { return &idNames{names: map[string]string{}} }

func (n *idNames) replace(s string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		name, ok := n.names[id]
		if !ok {
			name = "<id" + strconv.Itoa(len(n.names)+1) + ">"
			n.names[id] = name
		}
		return name
	})
}

// decodeBody returns the body as sent before its content coding.
func decodeBody(t *testing.T, coding string, raw []byte) string {
	t.Helper()
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		b, err := d.DecodeAll(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return string(raw)
}

// logFields is a log line's fields in key order, without those that differ from run to run.
// coded: the answer was compressed, so its size differs from run to run with the ids in it.
func logFields(t *testing.T, line string, coded bool) string {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal([]byte(line), &f); err != nil {
		t.Fatalf("a log line is not JSON: %q", line)
	}
	delete(f, "time")
	if _, ok := f["bytes"].(float64); ok && coded {
		f["bytes"] = "<coded length>"
	}
	if _, ok := f["duration_ms"].(float64); ok {
		f["duration_ms"] = "<number>"
	}
	if id, ok := f["request_id"].(string); ok && generatedID.MatchString(id) {
		f["request_id"] = "<generated>"
	}
	b, err := json.Marshal(f) // map keys sorted
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
