package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/hostile"
	"github.com/acme/catalog/internal/httpapi"
)

// maxBodies are the most expensive bodies just under MaxBodyBytes: many tiny array items, many
// tiny members, one long string, deep nesting.
func maxBodies(tg hostile.Targets) map[string][]byte {
	valid := `{"name":"Big","category":"` + tg.Category + `","status":"active","variants":[{"sku":"BIG-1","prices":[{"currency":"USD","amount":1}]}]}`
	fill := func(b []byte) []byte {
		if len(b) > httpapi.MaxBodyBytes {
			panic(fmt.Sprintf("body of %d bytes", len(b)))
		}
		return b
	}
	return map[string][]byte{
		"media 200k": fill(hostile.HugeArrayBody(valid, "media", 200_000)),
		// Decoded and validated whole, then refused by its last price: the body's cost, not a
		// 2,048-variant write's (which the store's benchmarks measure).
		"variants 2048":    fill(bytes.Replace(hostile.Variants(tg.Category, 2048), []byte(`"currency":"EUR","amount":2047`), []byte(`"currency":"XXX","amount":2047`), 1)),
		"attributes 90k":   fill(hostile.HugeMapBody(valid, "attributes", 90_000)),
		"one long string":  fill([]byte(`{"description":"` + strings.Repeat("x", httpapi.MaxBodyBytes-32) + `"}`)),
		"nesting":          fill([]byte(strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000))),
		"lines 20k":        fill(hostile.HugeLines(20_000)),
		"description 5000": fill([]byte(strings.Replace(valid, `"name"`, `"description":"`+strings.Repeat("é", 5000)+`","name"`, 1))),
	}
}

// BenchmarkMaxBody reports the bytes one maximum-size hostile body allocates through the real
// handler (SQLite store), beside httpapi.BodyBudget.
func BenchmarkMaxBody(b *testing.B) {
	srv, tg := hostileServer(b, stores[0].open(b))
	for name, body := range maxBodies(tg) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var total uint64
			for b.Loop() {
				req := httptest.NewRequest("POST", "/products", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+hostile.Key)
				req.Header.Set("Content-Type", "application/json")
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				srv.ServeHTTP(httptest.NewRecorder(), req)
				runtime.ReadMemStats(&after)
				total += after.TotalAlloc - before.TotalAlloc
			}
			per := total / uint64(b.N)
			b.ReportMetric(float64(per)/(1<<20), "MiB/req")
			b.Logf("%s: %.2f MiB allocated per request (body %.2f MiB), budget %d MiB", name, float64(per)/(1<<20), float64(len(body))/(1<<20), httpapi.BodyBudget>>20)
		})
	}
}

// BenchmarkBodyFlood sends 256 concurrent maximum-size bodies over real connections and reports
// the peak heap in use beside the stated bound: baseline + DefaultConcurrentBodies x
// BodyBudget.
func BenchmarkBodyFlood(b *testing.B) {
	srv, tg := hostileServer(b, stores[0].open(b))
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	bodies := maxBodies(tg)
	var list [][]byte
	for _, body := range bodies {
		list = append(list, body)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range 256 {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", ts.URL+"/products", bytes.NewReader(list[i%len(list)]))
				req.Header.Set("Authorization", "Bearer "+hostile.Key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					b.Errorf("status %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
	}
	close(stop)
	bound := base.HeapInuse + httpapi.DefaultConcurrentBodies*httpapi.BodyBudget
	// The client's copies of the bodies live in this process too: 256 requests in flight.
	clientSide := uint64(256 * httpapi.MaxBodyBytes)
	b.ReportMetric(float64(peak.Load()-base.HeapInuse)/(1<<20), "MiB-peak-over-base")
	b.Logf("peak heap in use %.0f MiB (baseline %.0f MiB); bound %.0f MiB (baseline + %d x %d MiB) + client side up to %.0f MiB",
		float64(peak.Load())/(1<<20), float64(base.HeapInuse)/(1<<20), float64(bound)/(1<<20),
		httpapi.DefaultConcurrentBodies, httpapi.BodyBudget>>20, float64(clientSide)/(1<<20))
	if peak.Load() > bound+clientSide {
		b.Errorf("peak heap %d bytes over the bound %d", peak.Load(), bound+clientSide)
	}
}
