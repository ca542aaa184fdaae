package access

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// Targets: an Allow of a known client costs under 1 µs (it runs on every request), one of a new
// client evicting another from a full table (a flood of addresses) under 3 µs, and a bucket
// under 400 bytes, so the default table of 100000 per limiter stays under 40 MB however many
// addresses flood it.
const (
	targetAllowNs      = 1000
	targetAllowEvictNs = 3000
	targetBucketBytes  = 400
)

func BenchmarkLimiterAllowKnownClients(b *testing.B) {
	l := NewLimiter(Limit{Rate: 1e9, Burst: 1e6}, 100_000, nil)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "10.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		l.Allow(keys[i%len(keys)])
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/allow")
	if b.N > 1000 {
		b.Logf("Allow of a known client: %.0f ns (target < %d ns)", ns, targetAllowNs)
	}
}

// BenchmarkLimiterAllowFlood: every call is a new client in a full table (200000 addresses
// cycling through 100000 buckets), the worst case.
func BenchmarkLimiterAllowFlood(b *testing.B) {
	l := NewLimiter(Limit{Rate: 50, Burst: 100}, 100_000, nil)
	keys := make([]string, 200_000) // twice the table: half the calls evict
	for i := range keys {
		keys[i] = "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		l.Allow(keys[i%len(keys)])
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/allow")
	if b.N > 1000 {
		b.Logf("Allow of a new client evicting another: %.0f ns (target < %d ns)", ns, targetAllowEvictNs)
	}
}

func BenchmarkLimiterBucketMemory(b *testing.B) {
	const n = 100_000
	var before, after runtime.MemStats
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewLimiter(Limit{Rate: 50, Burst: 100}, n, nil)
		for i := range n {
			l.Allow("2001:db8::" + strconv.Itoa(i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(per, "B/bucket")
		b.Logf("%d buckets: %.0f bytes each, %.1f MB in all (target < %d bytes each)", l.Len(), per, per*n/1e6, targetBucketBytes)
		runtime.KeepAlive(l)
	}
}
