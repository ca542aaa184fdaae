package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

// TestReadCacheMetrics: the read cache's counters and size are exported, and move with reads
// (the wrk bench reads its hit ratio from them).
func TestReadCacheMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(context.Background(), testConfig(t, map[string]string{"CACHE_MAX_BYTES": "2MiB"}),
		Options{Log: slog.New(slog.DiscardHandler), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	<-a.Ready()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	base := "http://" + a.Addr().String()
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
