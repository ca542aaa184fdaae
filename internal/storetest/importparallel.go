package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// Batches applied side by side (ADR 0026): a batch marked catalog.OnlyCreates writes only
// when every valid line creates a product; and the dry runs those batches were validated by.
func importParallelTests() []namedTest {
	return []namedTest{
		{"ImportOnlyCreatesRefusesUpdates", testImportOnlyCreates},
		{"ImportDryRunPredictsTheWrite", testImportDryRunPredictsTheWrite},
	}
}

func testImportOnlyCreates(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	upsert(t, s, false, input("A-1", "A", "imp", 100))
	_, cursor := feed(t, s, 0)
	only := catalog.OnlyCreates(ctx(t))
	for name, touching := range map[string]catalog.ProductInput{
		"an update":         input("A-1", "A changed", "imp", 200),
		"an unchanged line": input("A-1", "A", "imp", 100),
	} {
		items := []catalog.ImportItem{{Line: 1, Product: input("N-1", "New", "imp", 100)}, {Line: 2, Product: touching}}
		res, err := s.UpsertProducts(only, items, false)
		if !errors.Is(err, catalog.ErrNotOnlyCreates) {
			t.Fatalf("OnlyCreates batch with %s = %+v, %v; want ErrNotOnlyCreates", name, res, err)
		}
		if _, _, err := s.VariantBySKU(ctx(t), "N-1"); catalog.ErrorCode(err) != catalog.CodeNotFound {
			t.Errorf("refused OnlyCreates batch with %s created N-1: %v", name, err)
		}
		if a, _ := bySKU(t, s, "A-1"); a.Name != "A" || a.Version != 1 {
			t.Errorf("refused OnlyCreates batch with %s changed A: %q v%d", name, a.Name, a.Version)
		}
		if evs, _ := feed(t, s, cursor); len(evs) != 0 {
			t.Errorf("refused OnlyCreates batch with %s recorded %d events", name, len(evs))
		}
	}
	// Creates, and a line refused on its own, are what such a batch may hold; a dry run is
	// never refused for updating.
	bad := input("X-1", "X", "imp", 100)
	bad.Category = "nope"
	items := []catalog.ImportItem{{Line: 1, Product: input("N-1", "New", "imp", 100)}, {Line: 2, Product: bad}}
	res := must(s.UpsertProducts(only, items, false))(t)
	if res.Created != 1 || len(res.Problems) != 1 || res.Problems[0].Line != 2 {
		t.Fatalf("OnlyCreates batch of creates = %+v, want 1 created, line 2 refused", res)
	}
	dry := must(s.UpsertProducts(only, []catalog.ImportItem{{Line: 1, Product: input("A-1", "A again", "imp", 100)}}, true))(t)
	if dry.Updated != 1 {
		t.Fatalf("OnlyCreates dry run of an update = %+v, want 1 updated", dry)
	}
}

// testImportDryRunPredictsTheWrite: a dry run of a batch says exactly what applying it then
// does (counts, and the lines refused with their fields), over random batches that create,
// update, leave unchanged and refuse lines (unknown category, SKUs of two products, a removed
// option value in use, a repeated product): the validation pass's "valid" is the write's.
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
