package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

// exportLines splits an export body into its lines, each decoded as a generic JSON object.
func exportLines(t *testing.T, b []byte) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("export line %q is not a JSON object: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestExportStreamsJSONLines(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i, body := range []string{product("EXP-1", 100), product("EXP-2", 200), strings.Replace(product("EXP-3", 300), `"active"`, `"draft"`, 1)} {
		_, b := e.do("POST", "/products", body, auth, 201)
		ids = append(ids, decode[catalog.Product](t, b).ID)
		if i == 0 {
			e.do("POST", "/products/"+ids[0]+"/variants/"+decode[catalog.Product](t, b).Variants[0].ID+"/stock/adjustments", `{"delta":7,"reason":"received"}`, auth, 201)
		}
	}
	_, fb := e.do("GET", "/events?limit=1000", "", auth, 200)
	feed := decode[catalog.EventPage](t, fb)

	resp, b := e.do("GET", "/exports", "", auth, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q, want application/x-ndjson", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	lines := exportLines(t, b)
	if len(lines) != len(ids)+2 {
		t.Fatalf("export has %d lines, want a start, %d products and an end:\n%s", len(lines), len(ids), b)
	}
	want := strconv.FormatInt(feed.Next, 10)
	if got := string(lines[0]["cursor"]); got != want || resp.Header.Get(httpapi.ExportCursorHeader) != want {
		t.Errorf("cursor line %s, header %q; want both %s (the feed's last event)", got, resp.Header.Get(httpapi.ExportCursorHeader), want)
	}
	raw := bytes.Split(b, []byte("\n"))
	for i, id := range ids { // every status by default, drafts too, in creation order
		_, pb := e.do("GET", "/products/"+id, "", auth, 200)
		if got := string(raw[i+1]); got != strings.TrimSpace(string(pb)) {
			t.Errorf("export line %d:\n%s\nwant the body of GET /products/%s:\n%s", i+1, got, id, pb)
		}
	}
	end := lines[len(lines)-1]
	if string(end["end"]) != "true" || string(end["count"]) != "3" || string(end["cursor"]) != want {
		t.Errorf("last line = %s, want {\"end\":true,\"count\":3,\"cursor\":%s}", raw[len(raw)-2], want)
	}

	// Filters are the list's.
	_, b = e.do("GET", "/exports?status=draft", "", auth, 200)
	if lines := exportLines(t, b); len(lines) != 3 || !strings.Contains(string(b), "EXP-3") {
		t.Errorf("GET /exports?status=draft = %s, want only the draft", b)
	}
}

func TestExportCompressed(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.do("POST", "/products", product("GZ-"+strconv.Itoa(i), 100+i), auth, 201)
	}
	_, plain := e.do("GET", "/exports", "", auth, 200)
	resp, b := e.do("GET", "/exports", "", with(auth, "Accept-Encoding", "gzip"), 200)
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", ce)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Errorf("the gzip export decodes to %d bytes that differ from the plain export's %d", len(unzipped), len(plain))
	}
	if len(b) >= len(plain)/2 {
		t.Errorf("gzip export is %d bytes for %d plain: not compressed", len(b), len(plain))
	}
}

// TestExportCSV: a CSV export is the import layout (internal/bulk): read back, each product is
// what a create takes, with its stock on hand as initial stock; the count is a trailer.
func TestExportCSV(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/attributes", `{"key":"glaze","name":"Glaze","type":"text"}`, auth, 201)
	_, b := e.do("POST", "/products", strings.Replace(tee, `"status":"active",`, `"status":"active","attributes":{"glaze":"gloss"},"brand":"Acme",`, 1), auth, 201)
	teeP := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/products", product("CSV-1", 250), auth, 201)
	mugP := decode[catalog.Product](t, b)
	e.do("PUT", "/products/"+mugP.ID+"/variants/"+mugP.Variants[0].ID+"/prices/EUR", `{"amount":240,"compare_at":300}`, auth, 200)

	req, _ := http.NewRequest("GET", e.url+"/exports?format=csv", nil)
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /exports?format=csv: %d %v\n%s", resp.StatusCode, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := resp.Trailer.Get(httpapi.ExportCountTrailer); got != "2" {
		t.Errorf("trailer %s = %q, want 2", httpapi.ExportCountTrailer, got)
	}
	if resp.Header.Get(httpapi.ExportCursorHeader) == "" {
		t.Error("a CSV export has no cursor header")
	}
	rd := bulk.NewCSVReader(bytes.NewReader(body), func(key string) (catalog.AttributeType, bool) { return catalog.AttrText, key == "glaze" })
	for _, want := range []catalog.Product{teeP, mugP} {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("reading the CSV export back: %v\n%s", err, body)
		}
		_, pb := e.do("GET", "/products/"+want.ID, "", auth, 200)
		in := decode[catalog.Product](t, pb).FullInput()
		in.Normalize()
		rec.Product.Normalize()
		// The layout's one header orders options by column (by name), for every product.
		byName := func(a, b catalog.Option) int { return strings.Compare(a.Name, b.Name) }
		slices.SortFunc(in.Options, byName)
		slices.SortFunc(rec.Product.Options, byName)
		wj, _ := json.Marshal(in)
		gj, _ := json.Marshal(rec.Product)
		if string(wj) != string(gj) {
			t.Errorf("CSV line %d reads back as\n%s\nwant what a create of %s takes\n%s", rec.Line, gj, want.Name, wj)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after two products the CSV holds more: %v", err)
	}
}

// failingExport fails after its first product, as a dropped database connection would.
type failingExport struct {
	catalog.Store
	err error
}

func (f failingExport) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	n := 0
	err := f.Store.Export(ctx, q, begin, func(p catalog.Product) error {
		if n++; n > 1 {
			return f.err
		}
		return each(p)
	})
	return err
}

func TestExportTruncationIsVisible(t *testing.T) {
	broken := catalog.Wrap(catalog.CodeUnavailable, errors.New("connection reset"), "the database is unavailable")
	e := newEnvWith(t, func(o *httpapi.Options) {
		o.Store = failingExport{Store: o.Store, err: broken}
	})
	e.do("POST", "/products", product("TR-1", 100), auth, 201)
	e.do("POST", "/products", product("TR-2", 100), auth, 201)
	_, b := e.do("GET", "/exports", "", auth, 200)
	lines := exportLines(t, b)
	if len(lines) != 3 {
		t.Fatalf("truncated export has %d lines, want start, one product, error:\n%s", len(lines), b)
	}
	last := lines[2]
	if _, ok := last["end"]; ok {
		t.Errorf("a failed export ends with an end line:\n%s", b)
	}
	var detail struct {
		Code, Message string
		RequestID     string `json:"request_id"`
	}
	if err := json.Unmarshal(last["error"], &detail); err != nil || detail.Code != "unavailable" || detail.RequestID == "" {
		t.Errorf("last line of a failed export = %s, want an error line with code unavailable and the request ID", b)
	}

	// Before anything is sent, a failure is an ordinary error answer.
	e.do("GET", "/exports?category=nope", "", auth, 404)

	// A CSV export has no room for an error row: it is cut off, which the client sees.
	req, _ := http.NewRequest("GET", e.url+"/exports?format=csv", nil)
	req.Header.Set("Authorization", auth["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err == nil { // the headers may or may not have left before the failure
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Trailer.Get(httpapi.ExportCountTrailer) != "" {
			t.Errorf("a failed CSV export has the count trailer %q", resp.Trailer.Get(httpapi.ExportCountTrailer))
		}
	}
	if err == nil {
		t.Error("a failed CSV export read to its end without error")
	}
}

func TestExportRefusals(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/exports", "", nil, 401)
	for _, q := range []string{"sort=name", "limit=5", "cursor=x", "fields=name", "facets=brand", "format=xml", "total=true", "status=nope", "attr.nope=1"} {
		resp, b := e.do("GET", "/exports?"+q, "", auth, 400)
		name, _, _ := strings.Cut(q, "=")
		if !strings.Contains(string(b), `"field":"`+name+`"`) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET /exports?%s: %s, want a JSON 400 naming %s", q, b, name)
		}
	}
	e.do("GET", "/exports?collection=nope", "", auth, 404)
}

// slowExport holds each product until released, so tests can keep exports running.
type slowExport struct {
	catalog.Store
	started chan struct{}
	release chan struct{}
	delay   time.Duration
}

func (s slowExport) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	return s.Store.Export(ctx, q, func(c catalog.ExportHead) error {
		if s.started != nil {
			s.started <- struct{}{}
		}
		if s.release != nil {
			<-s.release
		}
		return begin(c)
	}, func(p catalog.Product) error {
		time.Sleep(s.delay)
		return each(p)
	})
}

func TestExportsAtOnceAreBounded(t *testing.T) {
	slow := slowExport{started: make(chan struct{}, 4), release: make(chan struct{})}
	e := newEnvWith(t, func(o *httpapi.Options) {
		slow.Store = o.Store
		o.Store = slow
	})
	e.do("POST", "/products", product("B-1", 100), auth, 201)
	var wg sync.WaitGroup
	for range httpapi.MaxConcurrentExports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", e.url+"/exports", nil)
			req.Header.Set("Authorization", auth["Authorization"])
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for range httpapi.MaxConcurrentExports {
		<-slow.started
	}
	resp, _ := e.do("GET", "/exports", "", auth, 503)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("a refused export has no Retry-After")
	}
	close(slow.release)
	wg.Wait()
	e.do("GET", "/exports", "", auth, 200)
}

// An export outlives the request deadline: the whole catalog takes longer than one request.
func TestExportOutlivesRequestTimeout(t *testing.T) {
	slow := slowExport{delay: 60 * time.Millisecond}
	e := newEnvWith(t, func(o *httpapi.Options) {
		o.RequestTimeout = 50 * time.Millisecond
		slow.Store = o.Store
		o.Store = slow
	})
	for i := range 3 {
		e.do("POST", "/products", product("SLOW-"+strconv.Itoa(i), 100), auth, 201)
	}
	_, b := e.do("GET", "/exports", "", auth, 200)
	if lines := exportLines(t, b); len(lines) != 5 || string(lines[4]["end"]) != "true" {
		t.Errorf("an export longer than the request timeout was cut:\n%s", b)
	}
}
