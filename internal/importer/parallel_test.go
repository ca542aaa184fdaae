package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// jittery delays each upsert by a random few milliseconds, so batches in flight together
// reach the store in either order, and records how many were in the store at once, per pass.
type jittery struct {
	catalog.Store
	rng *rand.Rand

	// held is the most the store's writes are held back after it says it holds its locks
	// (default 3ms).
	held time.Duration

	mu           sync.Mutex
	in, maxApply int
	maxDry       int
}

func (s *jittery) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dry bool) (catalog.ImportResult, error) {
	s.mu.Lock()
	s.in++
	if dry {
		s.maxDry = max(s.maxDry, s.in)
	} else {
		s.maxApply = max(s.maxApply, s.in)
	}
	d := s.delay()
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.in--; s.mu.Unlock() }()
	time.Sleep(d)
	// Once the store says it holds the batch's locks, the importer may start the next batch;
	// the store's writes are held back a little, so that batch may well write first.
	outer := ctx
	ctx = catalog.WhenHeld(ctx, func() {
		catalog.Held(outer)
		s.mu.Lock()
		d := s.delay()
		if s.held > 0 {
			d = time.Duration(s.rng.Int64N(int64(s.held)))
		}
		s.mu.Unlock()
		time.Sleep(d)
	})
	return s.Store.UpsertProducts(ctx, items, dry)
}

// delay is a random few milliseconds; s.mu is held.
func (s *jittery) delay() time.Duration { return time.Duration(s.rng.IntN(4)) * time.Millisecond }

// stores are the stores the importer's parallel tests run on: SQLite takes one batch at a
// time (a batch waits for the write connection), PostgreSQL several, each locking its products
// after it read the SKUs' owners.
var stores = []struct {
	name string
	open func(t *testing.T) catalog.Store
}{{"sqlite", open}, {"postgres", openPostgres}}

func openPostgres(t *testing.T) catalog.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(context.Background(), catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// importFile runs a JSONL file as one job with batches of 3 products, on a fresh SQLite store;
// a partial job skips the validation pass.
func importFile(t *testing.T, body string, parallel int, seed uint64, partial bool) (catalog.Store, *jittery, catalog.ImportJob) {
	t.Helper()
	base := open(t)
	s, j := importInto(t, base, body, parallel, seed, partial)
	return base, s, j
}

// importInto runs a JSONL file as one job with batches of 3 products on base.
func importInto(t *testing.T, base catalog.Store, body string, parallel int, seed uint64, partial bool) (*jittery, catalog.ImportJob) {
	t.Helper()
	return importWith(t, &jittery{Store: base, rng: rand.New(rand.NewPCG(seed, 7))}, body, parallel, partial)
}

// importWith runs a JSONL file as one job with batches of 3 products on s.
func importWith(t *testing.T, s *jittery, body string, parallel int, partial bool) (*jittery, catalog.ImportJob) {
	t.Helper()
	base := s.Store
	r := importer.New(s, importer.Config{Dir: t.TempDir(), BatchSize: 3, Parallel: parallel})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	defer func() { cancel(); _ = r.Stop(context.Background()) }()
	job, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Partial: partial, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return s, wait(t, base, job.ID)
}

// state is what a catalog holds for skus: each SKU's product name and price.
func state(t *testing.T, s catalog.Store, skus []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sku := range skus {
		p, v, err := s.VariantBySKU(context.Background(), sku)
		switch {
		case catalog.ErrorCode(err) == catalog.CodeNotFound:
			out[sku] = "absent"
		case err != nil:
			t.Fatal(err)
		default:
			var prices []string
			for _, pr := range v.Prices {
				prices = append(prices, fmt.Sprintf("%s %d", pr.Currency, pr.Amount))
			}
			out[sku] = fmt.Sprintf("%s v%d, %d variants, %v", p.Name, p.Version, len(p.Variants), prices)
		}
	}
	return out
}

// randomFile writes n lines over a small pool of SKUs: lines create products, update them
// (a later line of the file renames an earlier product, adds a variant, or changes a price),
// repeat a line exactly, or are refused (an unknown category, SKUs of two products).
func randomFile(rng *rand.Rand, n int) (string, []string) {
	var b strings.Builder
	var skus []string
	for i := range n {
		k := rng.IntN(12)
		sku := fmt.Sprintf("S-%d", k)
		vs := fmt.Sprintf(`{"sku":%q,"options":{"Size":"A"},"prices":[{"currency":"USD","amount":%d}]}`, sku, 100+rng.IntN(3))
		values := `["A"]`
		if rng.IntN(3) == 0 { // a second variant, perhaps another product's SKU
			other := fmt.Sprintf("S-%d", rng.IntN(14))
			if other != sku {
				vs += fmt.Sprintf(`,{"sku":%q,"options":{"Size":"B"},"prices":[{"currency":"USD","amount":50}]}`, other)
				values = `["A","B"]`
				skus = append(skus, other)
			}
		}
		cat := "misc"
		if rng.IntN(10) == 0 {
			cat = "nope"
		}
		fmt.Fprintf(&b, `{"name":"P%d line %d","category":%q,"status":"active","options":[{"name":"Size","values":%s}],"variants":[%s]}`+"\n",
			k, i%3, cat, values, vs)
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	return b.String(), slices.Compact(skus)
}

// TestParallelEqualsSequential: a job applied with two batches in the store at once leaves the
// catalog, and reports counts, exactly as the same job applied one batch at a time, whatever
// order the store takes the batches in flight in, on both stores. The files mix creates and
// updates, name SKUs again a batch later (a SKU one batch creates, the next updates), and
// update one product through different SKUs in neighbouring batches (only the locks order
// those). On PostgreSQL a batch reads the SKUs' owners before it locks: without the SKU check
// the next batch would create a SKU this one creates too, first.
func TestParallelEqualsSequential(t *testing.T) {
	seeds := uint64(24)
	if testing.Short() {
		// The test command's race step: a few files still run batches side by side.
		seeds = 3
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for seed := range seeds {
				rng := rand.New(rand.NewPCG(seed, 1))
				body, skus := randomFile(rng, 24)
				// Partial: the random lines are often refused, and a job validated first would
				// stop.
				const partial = true
				one, two := st.open(t), st.open(t)
				_, j1 := importInto(t, one, body, 1, seed, partial)
				_, j2 := importInto(t, two, body, 2, seed, partial)
				same(t, seed, one, two, j1, j2, skus)
				// The file again, as a daily re-import: every line an update or unchanged.
				_, j1 = importInto(t, one, body, 1, seed, partial)
				_, j2 = importInto(t, two, body, 2, seed, partial)
				same(t, seed, one, two, j1, j2, skus)
			}
		})
	}
}

// same fails t unless two jobs, and the catalogs they left, agree.
func same(t *testing.T, seed uint64, one, two catalog.Store, j1, j2 catalog.ImportJob, skus []string) {
	t.Helper()
	if j1.State != j2.State || j1.Reason != j2.Reason {
		t.Fatalf("seed %d: jobs %s (%s), %s (%s)", seed, j1.State, j1.Reason, j2.State, j2.Reason)
	}
	counts := func(j catalog.ImportJob) [5]int64 {
		return [5]int64{j.Products, j.Created, j.Updated, j.Unchanged, j.Failed}
	}
	if c1, c2 := counts(j1), counts(j2); c1 != c2 {
		t.Errorf("seed %d: counts (products, created, updated, unchanged, failed) = %v one batch at a time, %v two", seed, c1, c2)
	}
	if p1, p2 := refused(j1), refused(j2); !reflect.DeepEqual(p1, p2) {
		t.Errorf("seed %d: refused lines = %v one batch at a time, %v two", seed, p1, p2)
	}
	if s1, s2 := state(t, one, skus), state(t, two, skus); !reflect.DeepEqual(s1, s2) {
		t.Errorf("seed %d: catalogs differ:\none batch at a time %v\ntwo %v", seed, s1, s2)
	}
}

// refused is a job's problems as line and field (rules name product IDs, which differ).
func refused(j catalog.ImportJob) []string {
	var out []string
	for _, p := range j.Errors {
		out = append(out, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	return out
}

// TestParallelAppliesCreatesSideBySide: with Parallel 2 the dry runs overlap, and so do the
// batches of creates; a batch that updates what an earlier one touches waits for it.
func TestParallelAppliesCreatesSideBySide(t *testing.T) {
	var creates strings.Builder
	for i := range 30 {
		fmt.Fprintf(&creates, `{"name":"C%d","category":"misc","status":"active","variants":[{"sku":"C-%d","prices":[{"currency":"USD","amount":100}]}]}`+"\n", i, i)
	}
	_, s, j := importFile(t, creates.String(), 2, 1, false)
	if j.State != catalog.ImportSucceeded || j.Created != 30 {
		t.Fatalf("creates job = %s (%s), %d created", j.State, j.Reason, j.Created)
	}
	if s.maxDry != 2 || s.maxApply != 2 {
		t.Errorf("creates: at most %d dry runs and %d batches in the store at once, want 2 and 2", s.maxDry, s.maxApply)
	}
	// Each batch updates a product the batch before creates: validation cannot tell (its dry
	// runs write nothing), the SKUs do.
	var chain strings.Builder
	for i := range 30 {
		sku := fmt.Sprintf("U-%d", i)
		switch b := i / 3; {
		case i%3 == 0:
			sku = fmt.Sprintf("K-%d", b)
		case i%3 == 1 && b > 0:
			sku = fmt.Sprintf("K-%d", b-1)
		}
		fmt.Fprintf(&chain, `{"name":"C%d","category":"misc","status":"active","variants":[{"sku":%q,"prices":[{"currency":"USD","amount":100}]}]}`+"\n", i, sku)
	}
	for _, partial := range []bool{false, true} {
		_, s, j = importFile(t, chain.String(), 2, 1, partial)
		if j.State != catalog.ImportSucceeded || j.Created != 21 || j.Updated != 9 {
			t.Fatalf("chained job (partial %v) = %s (%s), %d created, %d updated, want 21 and 9", partial, j.State, j.Reason, j.Created, j.Updated)
		}
		if s.maxApply != 1 {
			t.Errorf("chained batches (partial %v): %d in the store at once, want 1", partial, s.maxApply)
		}
	}
}

// TestParallelOrdersSharedProducts: neighbouring batches name different SKUs of one product,
// so they run side by side, and the later must still write the product after the earlier (it
// waits for the product's lock, taken before the earlier batch says it holds its locks).
func TestParallelOrdersSharedProducts(t *testing.T) {
	const k = 12
	var values, variants []string
	for i := range k {
		values = append(values, fmt.Sprintf("%q", fmt.Sprint(i)))
		variants = append(variants, fmt.Sprintf(`{"sku":"A-%d","options":{"Size":"%d"},"prices":[{"currency":"USD","amount":100}]}`, i, i))
	}
	opts := fmt.Sprintf(`[{"name":"Size","values":[%s]}]`, strings.Join(values, ","))
	create := fmt.Sprintf(`{"name":"A","category":"misc","status":"active","options":%s,"variants":[%s]}`+"\n", opts, strings.Join(variants, ","))
	var b strings.Builder
	for i := range k { // batches of 3: the product's line and two creates
		fmt.Fprintf(&b, `{"name":"A %d","category":"misc","status":"active","options":%s,"variants":[%s]}`+"\n", i, opts, variants[i])
		for j := range 2 {
			fmt.Fprintf(&b, `{"name":"F","category":"misc","status":"active","variants":[{"sku":"F-%d-%d","prices":[{"currency":"USD","amount":100}]}]}`+"\n", i, j)
		}
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for seed := range uint64(4) {
				s := st.open(t)
				if _, j := importInto(t, s, create, 1, seed, false); j.State != catalog.ImportSucceeded || j.Created != 1 {
					t.Fatalf("create = %s (%s), %d created", j.State, j.Reason, j.Created)
				}
				// Writes held back up to 30ms after the locks: longer than the next batch takes
				// to reach its own lock statement.
				js, j := importWith(t, &jittery{Store: s, rng: rand.New(rand.NewPCG(seed, 7)), held: 30 * time.Millisecond}, b.String(), 2, false)
				if j.State != catalog.ImportSucceeded || j.Updated != k || j.Created != 2*k {
					t.Fatalf("updates = %s (%s), %d updated, %d created", j.State, j.Reason, j.Updated, j.Created)
				}
				if js.maxApply != 2 {
					t.Errorf("at most %d batches in the store at once, want 2", js.maxApply)
				}
				p, _, err := s.VariantBySKU(context.Background(), "A-0")
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("A %d", k-1); p.Name != want || p.Version != k+1 {
					t.Errorf("seed %d: product %q version %d, want %q version %d (the last line written last)", seed, p.Name, p.Version, want, k+1)
				}
				// Every version in file order: version 2+i is line i's name.
				if got := namesByVersion(t, s, p.ID); len(got) != k {
					t.Errorf("seed %d: %d update events, want %d", seed, len(got), k)
				} else {
					for i, name := range got {
						if want := fmt.Sprintf("A %d", i); name != want {
							t.Errorf("seed %d: version %d is %q, want %q: batches wrote the product out of file order", seed, i+2, name, want)
						}
					}
				}
			}
		})
	}
}

// namesByVersion returns the names product id's update events carry, in version order.
func namesByVersion(t *testing.T, s catalog.Store, id string) []string {
	t.Helper()
	byVersion := map[int64]string{}
	var versions []int64
	for after := int64(0); ; {
		page, err := s.Events(context.Background(), catalog.EventQuery{After: after, Types: []string{catalog.EventProductUpdated}, Limit: catalog.MaxEventLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			var d struct {
				ID      string `json:"id"`
				Name    string `json:"name"`
				Version int64  `json:"version"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.ID == id {
				byVersion[d.Version] = d.Name
				versions = append(versions, d.Version)
			}
		}
		if len(page.Events) == 0 {
			break
		}
		after = page.Next
	}
	slices.Sort(versions)
	out := make([]string, len(versions))
	for i, v := range versions {
		out[i] = byVersion[v]
	}
	return out
}
