package storetest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// exportBenchSize is the catalog BenchExport loads; EXPORT_BENCH_PRODUCTS changes it.
func exportBenchSize() int {
	if n, err := strconv.Atoi(os.Getenv("EXPORT_BENCH_PRODUCTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchExport loads a catalog (FacetBenchCatalog: two variants a product) and exports all of it
// per iteration, encoding each product as GET /exports does, and prints products and variants
// per second and the heap in use at its highest during an export beside the heap before it:
// the export's memory must not grow with the catalog.
func BenchExport(b *testing.B, open BenchOpener, settle func(testing.TB, catalog.Store)) {
	s := open(b)
	n := exportBenchSize()
	start := time.Now()
	FacetBenchCatalog(b, s, n)
	if settle != nil {
		settle(b, s)
	}
	b.Logf("loaded %d products in %s", n, time.Since(start).Round(time.Second))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() { // sample the heap while exports run
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	var products, variants int
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		w := bufio.NewWriterSize(io.Discard, 64<<10)
		enc := json.NewEncoder(w)
		t0 := time.Now()
		err := s.Export(context.Background(), catalog.ExportQuery{}, func(h catalog.ExportHead) error { return enc.Encode(map[string]int64{"cursor": h.Cursor}) },
			func(p catalog.Product) error {
				products++
				variants += len(p.Variants)
				return enc.Encode(p)
			})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(t0)
	}
	b.StopTimer()
	close(done)
	if products != n*b.N {
		b.Fatalf("exported %d products in %d runs, want %d each", products, b.N, n)
	}
	sec := elapsed.Seconds()
	b.ReportMetric(float64(products)/sec, "products/s")
	b.ReportMetric(float64(variants)/sec, "variants/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.Logf("export of %d products (%d variants): %.0f products/s, %.0f variants/s (rows), %.1f s each; heap %.1f MiB before, %.1f MiB at most during (target: bounded, independent of the catalog's size)",
		n, variants/b.N, float64(products)/sec, float64(variants)/sec, sec/float64(b.N), float64(base)/(1<<20), float64(peak.Load())/(1<<20))
}
