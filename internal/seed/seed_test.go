package seed

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
)

func TestSampleIsValidAndRealistic(t *testing.T) {
	c, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Products) < 100 {
		t.Fatalf("sample has %d products, want at least 100", len(c.Products))
	}
	depth := map[string]int{}
	maxDepth := 0
	for _, cat := range c.Categories {
		depth[cat.Slug] = depth[cat.Parent] + 1
		maxDepth = max(maxDepth, depth[cat.Slug])
	}
	if maxDepth < 3 {
		t.Fatalf("category tree is %d deep, want at least 3", maxDepth)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":    `{"categories":[],"products":[],"extra":1}`,
		"orphan category":  `{"categories":[{"slug":"a","name":"A","parent":"b"}],"products":[]}`,
		"unknown category": `{"categories":[],"products":[{"sku":"ABC","name":"x","category":"none","status":"active","price":{"currency":"USD","amount":1},"stock":1}]}`,
		"invalid product":  `{"categories":[{"slug":"a","name":"A"}],"products":[{"sku":"A","name":"x","category":"a","status":"active","price":{"currency":"USD","amount":1},"stock":1}]}`,
		"duplicate sku":    `{"categories":[{"slug":"a","name":"A"}],"products":[{"sku":"ABC","name":"x","category":"a","status":"active","price":{"currency":"USD","amount":1},"stock":1},{"sku":"abc","name":"y","category":"a","status":"active","price":{"currency":"USD","amount":1},"stock":1}]}`,
		"negative stock":   `{"categories":[{"slug":"a","name":"A"}],"products":[{"sku":"ABC","name":"x","category":"a","status":"active","price":{"currency":"USD","amount":1},"stock":-1}]}`,
		"not json":         `{`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSyntheticIsDeterministicAndValid(t *testing.T) {
	a, b := Synthetic(500, 7), Synthetic(500, 7)
	for i := range a.Products {
		if a.Products[i].SKU != b.Products[i].SKU || a.Products[i].Name != b.Products[i].Name || a.Products[i].Price != b.Products[i].Price {
			t.Fatalf("product %d differs between runs with one seed", i)
		}
		if err := a.Products[i].Validate(); err != nil {
			t.Fatalf("product %d: %v", i, err)
		}
	}
	for _, c := range a.Categories {
		if err := c.Validate(); err != nil {
			t.Fatalf("category %s: %v", c.Slug, err)
		}
	}
}

func TestLoadReportsProgress(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var reports []int
	if err := Load(ctx, s, Synthetic(2500, 1), func(done, total int) { reports = append(reports, done) }); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 3 || reports[2] != 2500 {
		t.Fatalf("progress reports %v, want 1000, 2000, 2500", reports)
	}
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1, WithTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	if *page.Total != 2500 {
		t.Fatalf("loaded %d products", *page.Total)
	}
}

// TestSeedTwiceAddsFreshSKUs: a second synthetic seed continues the numbering after the first,
// so it adds its products instead of colliding; a catalog that does collide is refused with a
// message naming the SKU, not the driver's error.
func TestSeedTwiceAddsFreshSKUs(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for round, want := range []int{0, 7, 14} {
		first, err := NextSynthetic(ctx, s)
		if err != nil || first != want {
			t.Fatalf("round %d: NextSynthetic = %d, %v; want %d", round, first, err, want)
		}
		if err := Load(ctx, s, SyntheticFrom(first, 7, uint64(round)), nil); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 5, WithTotal: true,
		Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive, catalog.StatusDraft, catalog.StatusArchived}}})
	if err != nil || page.Total == nil || *page.Total != 21 {
		t.Fatalf("after three seeds of 7: total %v, %v; want 21", page.Total, err)
	}
	err = Load(ctx, s, SyntheticFrom(3, 2, 1), nil)
	if catalog.ErrorCode(err) != catalog.CodeConflict {
		t.Fatalf("a colliding seed: %v, want a conflict", err)
	}
	for _, raw := range []string{"constraint", "UNIQUE", "2067", "SQLSTATE"} {
		if strings.Contains(err.Error(), raw) {
			t.Fatalf("a colliding seed's error shows the driver's: %v", err)
		}
	}
	if !strings.Contains(err.Error(), "SYN-00000003") {
		t.Fatalf("a colliding seed's error does not name the SKU: %v", err)
	}
}
