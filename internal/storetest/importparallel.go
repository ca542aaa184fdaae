package storetest

import (
	"errors"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// Batches applied side by side (ADR 0026): a batch marked catalog.OnlyCreates writes only
// when every valid line creates a product.
func importParallelTests() []namedTest {
	return []namedTest{
		{"ImportOnlyCreatesRefusesUpdates", testImportOnlyCreates},
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
