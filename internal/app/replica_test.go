package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/replica"
)

// TestReplicaReadsOverHTTP runs the service with a writer and a streaming replica: a write
// answers with Catalog-Read-After and a read presenting it sees the write; public reads go to
// the replica; with the replica stopped every read still answers 200 from the writer; started
// again, the replica is read again. A malformed Catalog-Read-After is a 400 naming the header.
func TestReplicaReadsOverHTTP(t *testing.T) {
	rep := pgtest.StartReplica(t)
	// Generous: under the whole suite's load a restarted replica has taken over 45 s to replay
	// and be probed again (a flake, not a defect); the waits below say what they waited for.
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	u := pgtest.URL(t)
	const key = "k3y-for-replica-tests-0123456789abcdef"
	// A lag bound far above the test's own pauses: the token read below must reach the writer
	// because of its token, not because a slow machine let the paused replica pass the bound.
	cfg := testConfig(t, map[string]string{"DATABASE_URL": u, "DATABASE_READER_URL": rep.URL(u), "CACHE_TTL": "0",
		"DB_READER_MAX_LAG": "30s", "API_KEYS": "editor:catalog:" + key})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a, err := Start(ctx, cfg, Options{Listener: ln, Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("not ready within 30s")
	}
	router := a.positions.router.Load()
	if router == nil {
		t.Fatal("DATABASE_READER_URL set, but no replica router")
	}
	base := "http://" + a.Addr().String()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	do := func(method, path, body string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	auth := map[string]string{"Authorization": "Bearer " + key}
	if r := do("POST", "/categories", `{"slug":"mugs","name":"Mugs"}`, auth); r.StatusCode != 201 {
		t.Fatalf("POST /categories = %d", r.StatusCode)
	}
	// The replica lags from here: only the writer has the product.
	if err := rep.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	created := do("POST", "/products", `{"name":"Mug","category":"mugs","status":"active","variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":900}]}]}`, auth)
	if created.StatusCode != 201 {
		b, _ := io.ReadAll(created.Body)
		t.Fatalf("POST /products = %d %s", created.StatusCode, b)
	}
	token := created.Header.Get("Catalog-Read-After")
	if _, err := catalog.ParseReadPosition(token); err != nil {
		t.Fatalf("write answered Catalog-Read-After %q: %v", token, err)
	}
	var p struct{ ID string }
	if err := json.NewDecoder(created.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the router to probe the replica", func() bool { return router.Status().Up })
	if r := do("GET", "/products/"+p.ID, "", map[string]string{"Catalog-Read-After": token}); r.StatusCode != 200 {
		t.Fatalf("GET with the write's token while the replica lags = %d, want 200 (read your writes)", r.StatusCode)
	}
	if st := router.Status(); st.FallbackBehind == 0 {
		t.Fatalf("%+v: the token read should have gone to the writer", st)
	}
	if r := do("GET", "/products/"+p.ID, "", map[string]string{"Catalog-Read-After": "not-a-position"}); r.StatusCode != 400 {
		t.Fatalf("malformed Catalog-Read-After = %d, want 400", r.StatusCode)
	} else {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"field":"Catalog-Read-After"`) {
			t.Fatalf("malformed Catalog-Read-After body %s does not name the header", b)
		}
	}
	if err := rep.ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	replicaWait(t, "a probe to find the replica caught up", router.Status, &logs)
	before := router.Status().ReaderReads
	for _, path := range []string{"/products/" + p.ID, "/skus/MUG-1", "/products?limit=5", "/categories", "/attributes"} {
		if r := do("GET", path, "", nil); r.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, r.StatusCode)
		}
	}
	if st := router.Status(); st.ReaderReads < before+5 {
		t.Fatalf("public reads on the replica: %d, want at least %d", st.ReaderReads, before+5)
	}

	// The service's reader connections are on the replica, named so.
	var readerConns int
	if err := rep.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'catalog-reader'", &readerConns); err != nil || readerConns == 0 {
		t.Fatalf("catalog-reader connections on the replica: %d, %v; want some", readerConns, err)
	}

	// The replica goes away mid-test: no 5xx, the writer answers.
	if err := rep.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if r := do("GET", "/products/"+p.ID, "", nil); r.StatusCode != 200 {
			t.Fatalf("GET %d with the replica stopped = %d, want 200 from the writer", i, r.StatusCode)
		}
	}
	if st := router.Status(); st.FallbackErr+st.FallbackDown < 20 || st.Up {
		t.Fatalf("replica stopped: %+v, want 20 fallbacks and the reader down", st)
	}
	// The operator is told why reads moved to the writer, once, not once per probe.
	waitFor(t, "the failed probe to be logged", func() bool { return strings.Contains(logs.String(), "replica probe failed") })
	// Back: read again after the back-off.
	if err := rep.Start(); err != nil {
		t.Fatal(err)
	}
	// Up is not enough: a replica just restarted may be over the lag bound until it has
	// replayed what it missed (then the writer answers, rightly).
	if err := rep.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	replicaWait(t, "the replica to be read again", router.Status, &logs)
	before = router.Status().ReaderReads
	if r := do("GET", "/products/"+p.ID, "", nil); r.StatusCode != 200 {
		t.Fatalf("GET after the replica returned = %d", r.StatusCode)
	}
	if st := router.Status(); st.ReaderReads != before+1 {
		t.Fatalf("%+v: the returned replica did not answer", st)
	}
	if n := strings.Count(logs.String(), "replica probe failed"); n != 1 {
		t.Errorf("%d warnings of a failed probe for one outage, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "replica probe succeeds again") {
		t.Errorf("the replica's return was not logged:\n%s", logs.String())
	}
	families, err := a.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, want := range []string{"catalog_db_reads_total", "catalog_db_reader_fallbacks_total", "catalog_db_reader_lag_seconds", "catalog_db_reader_up"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("metric %s not exported", want)
		}
	}
}

// replicaWait waits for the router to read the replica again (up, no lag), up to 90 s; on a
// timeout it says where the router was and what the service logged at warning level, so a
// slow replica and a broken probe can be told apart.
func replicaWait(t *testing.T, what string, status func() replica.Status, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := status()
		if st.Up && st.Lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			var warnings []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
					warnings = append(warnings, l)
				}
			}
			t.Fatalf("timed out after 90s waiting for %s; router status %+v; warnings:\n%s", what, st, strings.Join(warnings, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
