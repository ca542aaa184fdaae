package importer_test

import (
	"context"
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
)

// jittery delays each upsert by a random few milliseconds, so batches in flight together
// reach the store in either order, and records how many were in the store at once, per pass.
type jittery struct {
	catalog.Store
	rng *rand.Rand

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
	d := time.Duration(s.rng.IntN(4)) * time.Millisecond
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.in--; s.mu.Unlock() }()
	time.Sleep(d)
	return s.Store.UpsertProducts(ctx, items, dry)
}

// importFile runs a JSONL file as one job with batches of 3 products, on a fresh store; a
// partial job skips the validation pass.
func importFile(t *testing.T, body string, parallel int, seed uint64, partial bool) (catalog.Store, *jittery, catalog.ImportJob) {
	t.Helper()
	base := open(t)
	s := &jittery{Store: base, rng: rand.New(rand.NewPCG(seed, 7))}
	r := importer.New(s, importer.Config{Dir: t.TempDir(), BatchSize: 3, Parallel: parallel})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	defer func() { cancel(); _ = r.Stop(context.Background()) }()
	job, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Partial: partial, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return base, s, wait(t, base, job.ID)
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
// order the store takes the batches in flight in.
func TestParallelEqualsSequential(t *testing.T) {
	for seed := range uint64(24) {
		rng := rand.New(rand.NewPCG(seed, 1))
		body, skus := randomFile(rng, 24)
		// Partial: the random lines are often refused, and a job validated first would stop.
		// The apply pass then guesses creates from the batch before (validation's guess is
		// TestParallelAppliesCreatesSideBySide's).
		const partial = true
		one, _, j1 := importFile(t, body, 1, seed, partial)
		two, _, j2 := importFile(t, body, 2, seed, partial)
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
