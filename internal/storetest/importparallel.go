package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Batches applied side by side (ADR 0026): a write batch says when it holds the locks of the
// products it updates (catalog.WhenHeld), and holds them; and the dry runs those batches were
// validated by.
func importParallelTests() []namedTest {
	return []namedTest{
		{"ImportHeldBeforeWrites", testImportHeldBeforeWrites},
		{"ImportDryRunPredictsTheWrite", testImportDryRunPredictsTheWrite},
	}
}

func testImportHeldBeforeWrites(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	upsert(t, s, false, input("A-1", "A", "imp", 100))
	a, _ := bySKU(t, s, "A-1")
	calls := 0
	var raced error
	held := catalog.WhenHeld(ctx(t), func() {
		calls++
		if calls > 1 {
			return
		}
		// Nothing of the batch is visible yet, and a writer of the updated product waits
		// for the batch: its short deadline ends first.
		if _, _, err := s.VariantBySKU(ctx(t), "N-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
			t.Errorf("when held, N-1 is visible already: %v", err)
		}
		short, cancel := context.WithTimeout(ctx(t), 300*time.Millisecond)
		defer cancel()
		_, raced = s.PatchProduct(short, a.ID, catalog.ProductPatch{Name: ptr("Raced")}, 0)
	})
	items := []catalog.ImportItem{{Line: 1, Product: input("N-1", "New", "imp", 100)}, {Line: 2, Product: input("A-1", "A changed", "imp", 200)}}
	res := must(s.UpsertProducts(held, items, false))(t)
	if res.Created != 1 || res.Updated != 1 {
		t.Fatalf("batch = %+v, want 1 created, 1 updated", res)
	}
	if calls == 0 {
		t.Fatal("the store never said it holds the batch's locks")
	}
	if raced == nil {
		t.Error("a concurrent write of the updated product went through while the batch said it held the product")
	}
	if p, _ := bySKU(t, s, "A-1"); p.Name != "A changed" || p.Version != a.Version+1 {
		t.Errorf("A-1 = %q v%d, want the batch's %q v%d", p.Name, p.Version, "A changed", a.Version+1)
	}
}

func testImportDryRunPredictsTheWrite(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	rng := rand.New(rand.NewPCG(17, 3))
	for round := range 25 {
		items := make([]catalog.ImportItem, 4)
		for i := range items {
			k := rng.IntN(8)
			in := catalog.ProductInput{Name: fmt.Sprintf("P%d v%d", k, rng.IntN(2)), Category: "imp", Status: catalog.StatusActive,
				Options: []catalog.Option{{Name: "Size", Values: []string{"A"}}}}
			in.Variants = []catalog.VariantInput{{SKU: fmt.Sprintf("D-%d", k), Options: map[string]string{"Size": "A"},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: int64(100 + rng.IntN(2))}}}}
			if rng.IntN(3) == 0 {
				other := fmt.Sprintf("D-%d", rng.IntN(10))
				if other != in.Variants[0].SKU {
					in.Options[0].Values = []string{"A", "B"}
					in.Variants = append(in.Variants, catalog.VariantInput{SKU: other, Options: map[string]string{"Size": "B"},
						Prices: []catalog.PriceInput{{Currency: "USD", Amount: 50}}})
				}
			}
			if rng.IntN(12) == 0 {
				in.Category = "nope"
			}
			in.Normalize()
			items[i] = catalog.ImportItem{Line: round*10 + i + 1, Product: in}
		}
		dry := must(s.UpsertProducts(ctx(t), items, true))(t)
		wet := must(s.UpsertProducts(ctx(t), items, false))(t)
		if d, w := [3]int{dry.Created, dry.Updated, dry.Unchanged}, [3]int{wet.Created, wet.Updated, wet.Unchanged}; d != w {
			t.Fatalf("round %d: dry run (created, updated, unchanged) = %v, the write %v", round, d, w)
		}
		if d, w := refusedFields(dry), refusedFields(wet); !slices.Equal(d, w) {
			t.Fatalf("round %d: dry run refused %v, the write %v", round, d, w)
		}
	}
}

func refusedFields(r catalog.ImportResult) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, fmt.Sprintf("%d %s", p.Line, p.Field))
	}
	return out
}
