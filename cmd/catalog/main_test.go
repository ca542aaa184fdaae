package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const testKey = "e2e-key-0123456789abcdef"

type instance struct {
	base string
	port int
	// metrics is the base URL of the metrics port.
	metrics string
	stop    context.CancelFunc
	done    chan int
	stdout  *syncBuffer
}

// start runs the real program (run) on a free port with env added to a test environment, and
// waits until it is ready.
func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	port := freePort(t)
	if p, err := strconv.Atoi(env["PORT"]); err == nil {
		port = p
	}
	vars := map[string]string{"PORT": strconv.Itoa(port), "DATA_DIR": t.TempDir(), "API_KEYS": testKey, "LOG_LEVEL": "info"}
	for k, v := range env {
		vars[k] = v
	}
	vars["PORT"] = strconv.Itoa(port)
	if vars["METRICS_PORT"] == "" {
		vars["METRICS_PORT"] = strconv.Itoa(freePort(t))
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{base: fmt.Sprintf("http://127.0.0.1:%d", port), port: port, stop: cancel, done: make(chan int, 1), stdout: &syncBuffer{},
		metrics: "http://127.0.0.1:" + vars["METRICS_PORT"]}
	stderr := &syncBuffer{}
	go func() {
		in.done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, in.stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-in.done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop within 30s")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-in.done:
			t.Fatalf("the server exited with %d:\n%s\n%s", code, stderr, in.stdout)
		default:
		}
		resp, err := http.Get(in.base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return in
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the server was not ready within 60s:\n%s", in.stdout)
	return nil
}

func call(t *testing.T, c *http.Client, method, url, body string, auth bool, want int) []byte {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+testKey)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	return b
}

// exercise drives the API the way the shop's apps do, with every response checked against the
// OpenAPI document.
func exercise(t *testing.T, base string, wantSample bool) {
	c := apitest.Client(t)
	var list struct {
		Items []catalog.Product
		Total int64
	}
	json.Unmarshal(call(t, c, "GET", base+"/products?total=true&limit=5", "", false, 200), &list)
	if wantSample && (list.Total < 100 || len(list.Items) != 5) {
		t.Fatalf("the sample catalog is not there: total %d, page %d", list.Total, len(list.Items))
	}
	var cats struct{ Items []catalog.Category }
	json.Unmarshal(call(t, c, "GET", base+"/categories", "", false, 200), &cats)
	if wantSample && len(cats.Items) < 10 {
		t.Fatalf("%d categories", len(cats.Items))
	}
	call(t, c, "POST", base+"/categories", `{"slug":"e2e-root","name":"E2E"}`, true, 201)
	call(t, c, "POST", base+"/categories", `{"slug":"e2e-leaf","name":"E2E leaf","parent":"e2e-root"}`, true, 201)
	// On the sample the key is defined already (409); on an empty store this defines it.
	defineAttribute(t, c, base, `{"key":"capacity_l","name":"Capacity","type":"number","unit":"l","filterable":true}`)
	var p catalog.Product
	json.Unmarshal(call(t, c, "POST", base+"/products", `{"name":"End to end kettle","category":"e2e-leaf","brand":"Testware","status":"active",
		"description":"A stainless kettle for tests.","attributes":{"capacity_l":1.7},
		"options":[{"name":"Colour","values":["steel","black"]}],
		"variants":[{"sku":"E2E-1","options":{"Colour":"steel"},"prices":[{"currency":"EUR","amount":4999}],"initial_stock":3},
		            {"sku":"E2E-2","options":{"Colour":"black"},"prices":[{"currency":"EUR","amount":5499},{"currency":"USD","amount":5999}]}]}`, true, 201), &p)
	if len(p.Variants) != 2 || p.VariantCount != 2 {
		t.Fatalf("created product has %d variants (variant_count %d), want 2", len(p.Variants), p.VariantCount)
	}
	call(t, c, "GET", base+"/products/"+p.ID, "", false, 200)
	call(t, c, "GET", base+"/skus/e2e-1", "", false, 200)
	json.Unmarshal(call(t, c, "GET", base+"/products?category=e2e-root&q=kettle&currency=EUR&min_price=100&attr.capacity_l=1..2&total=true", "", false, 200), &list)
	if list.Total != 1 || list.Items[0].ID != p.ID {
		t.Fatalf("filtered search found %d", list.Total)
	}
	if r := list.Items[0].PriceRanges; len(r) != 2 || r[0] != (catalog.PriceRange{Currency: "EUR", Min: 4999, Max: 5499}) {
		t.Fatalf("list item price ranges %+v, want EUR 4999-5499 and USD", r)
	}
	steel := p.Variants[0]
	call(t, c, "PATCH", base+"/products/"+p.ID+"/variants/"+steel.ID, `{"prices":[{"currency":"EUR","amount":3999}]}`, true, 200)
	call(t, c, "POST", base+"/products/"+p.ID+"/variants/"+steel.ID+"/stock/adjustments", `{"delta":-3,"reason":"count_correction"}`, true, 201)
	concurrentPatches(t, c, base, p.ID)
	call(t, c, "PATCH", base+"/categories/e2e-leaf", `{"name":"Leaf"}`, true, 200)
	call(t, c, "DELETE", base+"/categories/e2e-leaf", "", true, 409)
	call(t, c, "POST", base+"/products", `{"name":`, true, 400)
	call(t, c, "GET", base+"/nowhere", "", false, 404)
	call(t, c, "DELETE", base+"/products/"+p.ID, "", true, 204)
	call(t, c, "DELETE", base+"/categories/e2e-leaf", "", true, 204)
	call(t, c, "GET", base+"/health", "", false, 200)
	// The metrics are not on the public port.
	call(t, c, "GET", base+"/metrics", "", false, 404)
	call(t, c, "GET", base+"/openapi.yaml", "", false, 200)
}

// defineAttribute defines an attribute, or finds it defined already.
func defineAttribute(t *testing.T, c *http.Client, base, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/attributes", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		t.Fatalf("POST /attributes %s: %d: %s", body, resp.StatusCode, b)
	}
}

func TestEndToEndSQLite(t *testing.T) {
	in := start(t, nil)
	exercise(t, in.base, true)
	if b := call(t, http.DefaultClient, "GET", in.metrics+"/metrics", "", false, 200); !strings.Contains(string(b), "catalog_http_requests_total") {
		t.Fatalf("the metrics port serves no request counts:\n%s", b)
	}
	if err := healthcheck(context.Background(), nil, func(k string) string {
		if k == "PORT" {
			return strconv.Itoa(in.port)
		}
		return ""
	}); err != nil {
		t.Fatalf("healthcheck against a live server: %v", err)
	}
	logs := in.stdout.String()
	if !strings.Contains(logs, `"route":"POST /products"`) || strings.Contains(logs, testKey) {
		t.Fatalf("access log: route missing or API key leaked:\n%s", logs)
	}
}

func TestEndToEndPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if code := run(context.Background(), []string{"migrate"}, func(k string) string {
		return map[string]string{"DATABASE_URL": url}[k]
	}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate exited %d", code)
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"seed", "1500"}, func(k string) string {
		return map[string]string{"DATABASE_URL": url}[k]
	}, &out, io.Discard); code != 0 {
		t.Fatalf("seed exited %d", code)
	}
	if !strings.Contains(out.String(), "1500 products") {
		t.Fatalf("seed summary: %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"seed", "20"}, func(k string) string {
		return map[string]string{"DATABASE_URL": url}[k]
	}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "added SKUs SYN-00001500 to SYN-00001519") {
		t.Fatalf("a second seed exited %d: %q", code, out.String())
	}
	in := start(t, map[string]string{"DATABASE_URL": url})
	exercise(t, in.base, false)
}

// TestGracefulShutdown stops the server while a request is half sent: the request completes,
// new connections are refused, and run returns 0.
func TestGracefulShutdown(t *testing.T) {
	in := start(t, map[string]string{"DRAIN_DELAY": "300ms", "SHUTDOWN_TIMEOUT": "10s"})
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", in.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"slug":"in-flight","name":"In flight"}`
	fmt.Fprintf(conn, "POST /categories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", testKey, len(body), body[:10])
	time.Sleep(100 * time.Millisecond)
	in.stop() // SIGTERM

	// While draining, /health fails but requests are still served.
	time.Sleep(50 * time.Millisecond)
	resp, err := http.Get(in.base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("/health while draining: %d", resp.StatusCode)
	}

	time.Sleep(500 * time.Millisecond) // past the drain delay: Shutdown is waiting for us
	fmt.Fprint(conn, body[10:])
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v", err)
	}
	r.Body.Close()
	if r.StatusCode != 201 {
		t.Fatalf("in-flight request: %d", r.StatusCode)
	}
	select {
	case code := <-in.done:
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		in.done <- code
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit")
	}
	if _, err := http.Get(in.base + "/health"); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
	if !strings.Contains(in.stdout.String(), `"msg":"stopped"`) {
		t.Fatal("no stopped log line")
	}
}

func TestCommandErrors(t *testing.T) {
	env := func(k string) string { return "" }
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"seed", "many"}, 1, "N must be"},
		{[]string{"seed", "1", "2"}, 1, "usage"},
		{[]string{"seed", "-synthetic"}, 1, "usage"},
		{[]string{"seed", "-synthetic", "0"}, 1, "N must be"},
		{[]string{"serve", "extra"}, 1, "unexpected arguments"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), tc.args, env, io.Discard, &stderr); code != tc.want || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.want, tc.msg)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), nil, func(k string) string { return map[string]string{"PORT": "x"}[k] }, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "PORT") {
		t.Errorf("bad PORT: exit %d, %q", code, stderr.String())
	}
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"version"}, env, &stdout, io.Discard); code != 0 || !strings.HasPrefix(stdout.String(), "catalog ") {
		t.Errorf("version: %d %q", code, stdout.String())
	}
	if err := healthcheck(context.Background(), nil, func(k string) string { return strconv.Itoa(freePort(t)) }); err == nil {
		t.Error("healthcheck succeeded with no server")
	}
}

// TestSeedTwice: a second seed N adds N more products with fresh SKUs and says so; the sample
// loads on top of them (sharing attribute keys: its colour enum gains its values); a second
// seed of the sample says it is already there. None shows a driver error.
func TestSeedTwice(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"seed", "3"}, "added SKUs SYN-00000000 to SYN-00000002"},
		{[]string{"seed", "-synthetic", "3"}, "added SKUs SYN-00000003 to SYN-00000005"},
		{[]string{"seed"}, "products in"},
		{[]string{"seed"}, "the sample catalog is already loaded"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), c.args, getenv, &out, &errOut); code != 0 || !strings.Contains(out.String(), c.want) {
			t.Fatalf("%v exited %d: %q %q; want %q", c.args, code, out.String(), errOut.String(), c.want)
		}
	}
}
