package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// TestMetricLabelsBounded: 300 requests with distinct unknown methods and paths add no
// Prometheus series and no EMF line beyond the one their first instance adds.
func TestMetricLabelsBounded(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := httpapi.NewMetrics()
	var emf bytes.Buffer
	m.EMF = httpapi.NewEMF(&emf, "Catalog", "test")
	srv := httpapi.New(httpapi.Options{Store: store, Metrics: m, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	rng := rand.New(rand.NewPCG(6, 300))
	randomMethod := func() string {
		var b strings.Builder
		for range 3 + rng.IntN(10) {
			b.WriteByte(byte('A' + rng.IntN(26)))
		}
		return b.String()
	}
	send := func() {
		req := httptest.NewRequest(randomMethod(), "/products", nil)
		srv.ServeHTTP(httptest.NewRecorder(), req)
		req = httptest.NewRequest(randomMethod(), "/nowhere/"+randomMethod(), nil)
		srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	series := func() int {
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "catalog_http_") {
				n += len(mf.GetMetric())
			}
		}
		return n
	}
	send()
	before := series()
	for range 300 {
		send()
	}
	if after := series(); after != before {
		t.Errorf("300 requests with random methods and paths: %d series, want %d (labels not bounded)", after, before)
	}
	if err := m.EMF.Flush(time.Now()); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(emf.String(), "\n"); lines > 2 {
		t.Errorf("EMF wrote %d lines for 2 routes at most:\n%s", lines, emf.String())
	}
}
