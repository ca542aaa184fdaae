package readcache

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// sized answers products whose descriptions differ in size by orders of magnitude, as real
// catalogs' do, and counts what the cache asks of it.
type sized struct {
	catalog.Store
	versions    map[string]int64
	reads, vers int
	during      func(id string) // called inside ProductVersions: what happens while a lookup runs
}

func (s *sized) Product(_ context.Context, id string) (catalog.Product, error) {
	s.reads++
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "p"))
	// Text that compresses about as well as prose: random letters and spaces.
	rng := rand.New(rand.NewPCG(uint64(n), 0))
	desc := make([]byte, 100+(n*7919)%5000)
	for i := range desc {
		desc[i] = " etaoinshrdlucmfwyp"[rng.IntN(19)]
	}
	return catalog.Product{ID: id, Name: "Product " + id, Description: string(desc),
		Version: s.versions[id], Variants: []catalog.Variant{{ID: id + "-v", SKU: "SKU-" + id, Prices: []catalog.Price{{Currency: "USD", Amount: 100}}}}}, nil
}

func (s *sized) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	s.vers++
	if s.during != nil {
		s.during(id)
	}
	return s.versions[id], 0, nil
}

type blob int

func (b blob) CacheBytes() int64 { return int64(b) }

// check holds the cache's bookkeeping to what it holds: the queue and the map name the same
// entries, the bytes are their sum, and the sum is within the bound.
func check(t *testing.T, c *Store, step string) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	var sum int64
	n := 0
	var prev *entry
	for e := c.head; e != nil; e = e.next {
		if e.prev != prev || c.entries[e.doc.ID] != e {
			t.Fatalf("%s: queue and map disagree at %s", step, e.doc.ID)
		}
		sum += e.bytes
		n++
		prev = e
	}
	if prev != c.tail || n != len(c.entries) {
		t.Fatalf("%s: %d entries in the queue, %d in the map", step, n, len(c.entries))
	}
	if sum != c.bytes || c.usedBytes.Load() != sum || c.count.Load() != int64(n) {
		t.Fatalf("%s: bytes %d (usage %d), entries' sum %d; count %d, want %d", step, c.bytes, c.usedBytes.Load(), sum, c.count.Load(), n)
	}
	if c.bytes > c.maxBytes {
		t.Fatalf("%s: %d bytes held, bound %d", step, c.bytes, c.maxBytes)
	}
}

// TestBoundedByBytes drives the cache with random reads, memo values, invalidations, clears
// and version changes (seeded, so a failure replays): after every step it holds no more than
// its bound and its bookkeeping adds up.
func TestBoundedByBytes(t *testing.T) {
	skipSerialWhenShort(t)
	ctx := context.Background()
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 1))
		inner := &sized{versions: map[string]int64{}}
		c := New(inner, time.Hour, 64<<10)
		clock := time.Unix(0, 0)
		c.now = func() time.Time { return clock }
		for i := range 3000 {
			id := fmt.Sprintf("p%d", rng.IntN(200))
			step := fmt.Sprintf("seed %d step %d", seed, i)
			switch op := rng.IntN(20); {
			case op < 10:
				if _, err := c.Product(ctx, id); err != nil {
					t.Fatal(err)
				}
			case op < 15:
				c.Memo(ctx, id, strconv.Itoa(rng.IntN(6)), func(Doc) (any, error) { return blob(rng.IntN(4000)), nil })
			case op < 17:
				c.Invalidate(id)
			case op < 18:
				inner.versions[id]++
				clock = clock.Add(2 * time.Hour) // everything expires: the next reads revalidate
			case op < 19:
				clock = clock.Add(2 * time.Hour)
			default:
				c.Clear()
			}
			check(t, c, step)
		}
		if u := c.Usage(); u.Evictions == 0 || u.Hits == 0 || u.Revalidated == 0 {
			t.Fatalf("seed %d: %+v: every path should have been taken", seed, u)
		}
	}
}

// TestExpiredEntryRevalidated: past its TTL an entry is served again after one version lookup
// when the versions have not moved, with its memo values, and read again when they have.
func TestExpiredEntryRevalidated(t *testing.T) {
	ctx := context.Background()
	inner := &sized{versions: map[string]int64{"p1": 1}}
	c := New(inner, time.Second, 1<<20)
	clock := time.Unix(0, 0)
	c.now = func() time.Time { return clock }
	c.Product(ctx, "p1")
	builds := 0
	build := func(d Doc) (any, error) { builds++; return d.Version, nil }
	c.Memo(ctx, "p1", "k", build)
	clock = clock.Add(2 * time.Second)
	if v, ok, _ := c.Memo(ctx, "p1", "k", build); !ok || v != int64(1) || builds != 1 || inner.reads != 1 || inner.vers != 1 {
		t.Fatalf("unchanged after the TTL: Memo %v %v, %d builds, %d reads, %d version lookups; want the kept value, 1 build, 1 read, 1 lookup", v, ok, builds, inner.reads, inner.vers)
	}
	c.Memo(ctx, "p1", "k", build)
	if inner.vers != 1 {
		t.Fatalf("%d version lookups within the renewed TTL, want 1", inner.vers)
	}
	clock = clock.Add(2 * time.Second)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok, _ := c.Memo(gone, "p1", "k", build); ok {
		t.Fatal("Memo answered past the TTL without a version lookup")
	}
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); !ok || inner.reads != 1 || builds != 1 {
		t.Fatalf("after a caller went away mid-revalidation: ok %v, %d reads, %d builds; want the entry kept and revalidated", ok, inner.reads, builds)
	}
	// Another product's write while the lookup runs: no reason to drop this one.
	inner.during = func(string) { c.Invalidate("p2") }
	clock = clock.Add(2 * time.Second)
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); !ok || inner.reads != 1 {
		t.Fatalf("another product invalidated during the lookup: ok %v, %d reads; want the entry revalidated", ok, inner.reads)
	}
	// This product's write while the lookup runs: the versions read may predate it.
	inner.during = func(id string) { c.Invalidate(id) }
	clock = clock.Add(2 * time.Second)
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); ok {
		t.Fatal("Memo answered from an entry invalidated while its lookup ran")
	}
	inner.during = nil
	c.Product(ctx, "p1") // fills again
	builds = 0
	c.Memo(ctx, "p1", "k", build)
	inner.versions["p1"] = 2 // a write whose notification was lost
	clock = clock.Add(2 * time.Second)
	if _, ok, _ := c.Memo(ctx, "p1", "k", build); ok {
		t.Fatal("Memo answered after the versions moved")
	}
	if p, _ := c.Product(ctx, "p1"); p.Version != 2 || inner.reads != 3 {
		t.Fatalf("after the versions moved: version %d, %d reads; want 2 and 3", p.Version, inner.reads)
	}
	if u := c.Usage(); u.Hits != 3 || u.Revalidated != 3 || u.Misses != 3 {
		t.Fatalf("usage %+v, want 3 hits, 3 revalidations, 3 misses", u)
	}
}

// zipfDraws returns n draws of ranks 0..items-1 with P(k) proportional to 1/(k+1)^s.
func zipfDraws(rng *rand.Rand, items, n int, s float64) []int {
	cum := make([]float64, items)
	total := 0.0
	for k := range items {
		total += 1 / math.Pow(float64(k+1), s)
		cum[k] = total
	}
	out := make([]int, n)
	for i := range out {
		x := rng.Float64() * total
		lo, hi := 0, items-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		out[i] = lo
	}
	return out
}

// TestSieveHoldsAZipfWorkingSet: with room for a tenth of the catalog and reads drawn by
// Zipf(1.1), as the wrk bench's hot reads are, the hit ratio comes close to the best any
// policy could do with that room (the share of reads that go to the top tenth): the hand
// spares what was read since it last passed, so hot entries stay.
func TestSieveHoldsAZipfWorkingSet(t *testing.T) {
	skipSerialWhenShort(t)
	ctx := context.Background()
	const items, reads = 5000, 200_000
	inner := &sized{versions: map[string]int64{}}
	p, _ := inner.Product(ctx, "p0000")
	// Equal sizes, so the room is a count: what p0000 takes once read twice (its document and
	// the decoded struct a hit keeps) for all.
	probe := New(constant{p: p}, time.Hour, 1<<20)
	probe.Product(ctx, "p0000")
	probe.Product(ctx, "p0000")
	c := New(constant{p: p}, time.Hour, probe.Usage().Bytes*items/10)
	draws := zipfDraws(rand.New(rand.NewPCG(7, 7)), items, reads, 1.1)
	for _, k := range draws[:reads/4] { // warm up
		c.Product(ctx, fmt.Sprintf("p%04d", k))
	}
	h0, m0 := c.Stats()
	for _, k := range draws[reads/4:] {
		c.Product(ctx, fmt.Sprintf("p%04d", k))
	}
	h1, m1 := c.Stats()
	ratio := float64(h1-h0) / float64(h1-h0+m1-m0)
	// The best: the top tenth's share of the reads.
	top := 0
	for _, k := range draws[reads/4:] {
		if k < items/10 {
			top++
		}
	}
	best := float64(top) / float64(len(draws[reads/4:]))
	t.Logf("hit ratio %.3f with room for %d of %d products; the top %d take %.3f of reads", ratio, items/10, items, items/10, best)
	if ratio < best-0.05 {
		t.Fatalf("hit ratio %.3f, want at least %.3f (the top tenth's share %.3f less 0.05)", ratio, best-0.05, best)
	}
}

// constant answers the same product under every ID, so every entry costs the same.
type constant struct {
	catalog.Store
	p catalog.Product
}

func (c constant) Product(_ context.Context, id string) (catalog.Product, error) {
	p := c.p
	p.ID = id
	return p, nil
}

// TestProductBytesTracksHeap holds the estimate to the heap that decoded products really take
// (decoding allocates every string, slice and map afresh, as a store's read does), within a
// quarter either way: the cache's bound is only as good as this estimate.
func TestProductBytesTracksHeap(t *testing.T) {
	inner := &sized{versions: map[string]int64{}}
	p, _ := inner.Product(context.Background(), "p42")
	p.Attributes = catalog.Attributes{"material": "cotton", "weight": 1.5, "tags": []any{"a", "b"}}
	p.Media = []catalog.Media{{URL: "https://img.example.com/p42/1.jpg"}, {URL: "https://img.example.com/p42/2.jpg"}}
	for i := range 4 {
		p.Variants = append(p.Variants, catalog.Variant{ID: fmt.Sprintf("v%d", i), SKU: fmt.Sprintf("SKU-42-%d", i),
			Options: map[string]string{"size": "M", "colour": "blue"}, Prices: []catalog.Price{{Currency: "USD", Amount: 1999}, {Currency: "EUR", Amount: 1899}}})
	}
	doc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	kept := make([]catalog.Product, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range kept {
		if err := json.Unmarshal(doc, &kept[i]); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// The struct itself is in kept's array, allocated before: the heap grew by what it owns.
	measured := float64(after.HeapAlloc-before.HeapAlloc) / n
	estimated := float64(ProductBytes(&kept[0])) - float64(reflect.TypeFor[catalog.Product]().Size())
	t.Logf("a product of %d variants (%d bytes of JSON): estimated %.0f bytes, measured %.0f", len(p.Variants), len(doc), estimated, measured)
	if estimated < 0.75*measured || estimated > 1.25*measured {
		t.Fatalf("ProductBytes estimates %.0f bytes beyond the struct, the heap grew by %.0f per product", estimated, measured)
	}
	runtime.KeepAlive(kept)
}

// safeSized is sized behind a mutex, for concurrent readers.
type safeSized struct {
	catalog.Store
	mu sync.Mutex
	s  sized
}

func (s *safeSized) Product(ctx context.Context, id string) (catalog.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.Product(ctx, id)
}

func (s *safeSized) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.s.ProductVersions(ctx, id)
}

// TestConcurrentUse: readers, memo builders, writers, clears and expiry at once (run with
// -race): every answer is a product of the ID asked, every kept value belongs to its entry,
// and the bookkeeping adds up afterwards.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	inner := &safeSized{s: sized{versions: map[string]int64{}}}
	c := New(inner, 5*time.Millisecond, 256<<10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 2))
			for range 2000 {
				id := fmt.Sprintf("p%d", rng.IntN(300))
				switch rng.IntN(10) {
				case 0:
					c.Invalidate(id)
				case 1:
					if rng.IntN(50) == 0 {
						c.Clear()
					}
				case 2, 3, 4:
					v, ok, err := c.Memo(ctx, id, "k", func(d Doc) (any, error) { return d.ID, nil })
					if err != nil || (ok && v != id) {
						t.Errorf("Memo(%s) = %v, %v, %v", id, v, ok, err)
						return
					}
				default:
					p, err := c.Product(ctx, id)
					if err != nil || p.ID != id {
						t.Errorf("Product(%s) = %s, %v", id, p.ID, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	check(t, c, "after concurrent use")
}
