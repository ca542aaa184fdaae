package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"sync/atomic"
	"testing"
)

// startServing starts the service with env on a local port and waits until it is ready; it
// returns it, a client, and the base URL. Both are closed when the test ends.
func startServing(t *testing.T, env map[string]string) (*App, *http.Client, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(context.Background(), testConfig(t, env), Options{Log: slog.New(slog.DiscardHandler), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown() })
	<-a.Ready()
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return a, c, "http://" + a.Addr().String()
}

// TestReadCacheMetrics: the read cache's counters and size are exported, and move with reads
// (the wrk bench reads its hit ratio from them).
func TestReadCacheMetrics(t *testing.T) {
	a, c, base := startServing(t, map[string]string{"CACHE_MAX_BYTES": "2MiB"})
	resp, err := c.Get(base + "/products?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("no product in the sample catalog: %v", err)
	}
	for range 3 {
		if got := get(t, c, base+"/products/"+page.Items[0].ID); got != 200 {
			t.Fatalf("GET product = %d", got)
		}
	}
	families, err := a.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				values[f.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	for name, want := range map[string]func(float64) bool{
		"catalog_read_cache_hits_total":          func(v float64) bool { return v >= 2 },
		"catalog_read_cache_misses_total":        func(v float64) bool { return v == 1 },
		"catalog_read_cache_revalidations_total": func(v float64) bool { return v == 0 },
		"catalog_read_cache_evictions_total":     func(v float64) bool { return v == 0 },
		"catalog_read_cache_entries":             func(v float64) bool { return v == 1 },
		"catalog_read_cache_bytes":               func(v float64) bool { return v > 0 && v < 2<<20 },
		"catalog_read_cache_max_bytes":           func(v float64) bool { return v == 2<<20 },
	} {
		if v, ok := values[name]; !ok || !want(v) {
			t.Errorf("%s = %v (exported: %v)", name, v, ok)
		}
	}
}

// TestReadCacheSizedByTask: without CACHE_MAX_BYTES, a service in an ECS task bounds its cache
// by an eighth of the task's memory, read from the task metadata endpoint (a fake served here);
// an endpoint that fails leaves the default, and the service still starts.
func TestReadCacheSizedByTask(t *testing.T) {
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/task-1/task" {
			http.Error(w, "no such task", http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"Limits": {"CPU": 0.25, "Memory": 512}, "Containers": [{"Limits": {"CPU": 2, "Memory": 64}}]}`))
	}))
	defer meta.Close()
	for uri, want := range map[string]float64{
		meta.URL + "/v4/task-1": 64 << 20, // 512 MiB / 8
		meta.URL + "/v4/gone":   256 << 20,
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, err := Start(context.Background(), testConfig(t, map[string]string{"ECS_CONTAINER_METADATA_URI_V4": uri}),
			Options{Log: slog.New(slog.DiscardHandler), Listener: ln})
		if err != nil {
			t.Fatal(err)
		}
		<-a.Ready()
		families, err := a.metrics.Registry.Gather()
		a.Shutdown()
		if err != nil {
			t.Fatal(err)
		}
		var got float64
		for _, f := range families {
			if f.GetName() == "catalog_read_cache_max_bytes" {
				got = f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		if got != want {
			t.Errorf("metadata at %s: cache bound %v bytes, want %v", uri, got, want)
		}
	}
}

// TestGCSizedByTask: a service that owns its process and runs in an ECS task sets a soft
// memory limit of 5/8 of the task's memory and a growth of 400% (config.GC, ADR 0027), asking
// the metadata endpoint once for both the GC and the read cache; an App embedded in another
// process (OwnsProcess false) leaves the process's collector alone.
func TestGCSizedByTask(t *testing.T) {
	var asked atomic.Int32
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Write([]byte(`{"Limits": {"CPU": 2, "Memory": 8192}}`))
	}))
	defer meta.Close()
	limit0, percent0 := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	debug.SetGCPercent(percent0)
	restore := func() { debug.SetMemoryLimit(limit0); debug.SetGCPercent(percent0) }
	defer restore()
	for _, owns := range []bool{false, true} {
		asked.Store(0)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, err := Start(context.Background(), testConfig(t, map[string]string{"ECS_CONTAINER_METADATA_URI_V4": meta.URL + "/v4/task-1"}),
			Options{Log: slog.New(slog.DiscardHandler), Listener: ln, OwnsProcess: owns})
		if err != nil {
			t.Fatal(err)
		}
		limit, percent := debug.SetMemoryLimit(-1), debug.SetGCPercent(percent0)
		restore()
		<-a.Ready()
		a.Shutdown()
		wantLimit, wantPercent := limit0, percent0
		if owns {
			wantLimit, wantPercent = 5120<<20, 400
		}
		if limit != wantLimit || percent != wantPercent {
			t.Errorf("OwnsProcess=%v: memory limit %d, GC percent %d; want %d, %d", owns, limit, percent, wantLimit, wantPercent)
		}
		if n := asked.Load(); n != 1 {
			t.Errorf("OwnsProcess=%v: the metadata endpoint was asked %d times, want once", owns, n)
		}
	}
}
