package seed

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stores opens an empty store of each kind for a test.
func stores(t *testing.T) map[string]func(t *testing.T) catalog.Store {
	return map[string]func(t *testing.T) catalog.Store{
		"sqlite": func(t *testing.T) catalog.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) catalog.Store {
			s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// TestSampleLoads loads the sample on both stores and reads back what it shows: every product,
// the typed attributes, the variants with their prices, the sale running now (its price
// current, with the prior price and its end) and the scheduled one (still the old price, its
// change waiting in the history).
func TestSampleLoads(t *testing.T) {
	c, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			before := time.Now()
			if err := Load(ctx, s, c, nil); err != nil {
				t.Fatal(err)
			}
			all := []catalog.Status{catalog.StatusActive, catalog.StatusDraft, catalog.StatusArchived}
			page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1, WithTotal: true, Filter: catalog.ProductFilter{Statuses: all}})
			if err != nil || page.Total == nil || *page.Total != int64(len(c.Products)) {
				t.Fatalf("after Load: total %v, %v; want %d", page.Total, err, len(c.Products))
			}
			defs, err := s.AttributeList(ctx)
			if err != nil || len(defs) != len(c.Attributes) {
				t.Fatalf("AttributeList = %d definitions, %v; want %d", len(defs), err, len(c.Attributes))
			}
			variants := 0
			for _, p := range c.Products {
				variants += len(p.Variants)
			}
			for _, p := range c.Products {
				for _, want := range p.Variants {
					got, v, err := s.VariantBySKU(ctx, want.SKU)
					if err != nil {
						t.Fatalf("VariantBySKU(%q): %v", want.SKU, err)
					}
					if v.Stock.OnHand != want.InitialStock || got.Name != p.Name || len(v.Prices) != len(want.Prices) {
						t.Fatalf("VariantBySKU(%q) = %s, on hand %d, %d prices; want %s, %d, %d",
							want.SKU, got.Name, v.Stock.OnHand, len(v.Prices), p.Name, want.InitialStock, len(want.Prices))
					}
				}
			}

			// The running sale: its price is current, shows the price before it as the prior
			// price, and ends by itself.
			running, scheduled := c.Sales[0], c.Sales[len(c.Sales)-1]
			if running.StartsIn != 0 || scheduled.StartsIn == 0 {
				t.Fatalf("the sample's first sale should run now and its last be scheduled")
			}
			_, v, err := s.VariantBySKU(ctx, running.SKUs[0])
			if err != nil {
				t.Fatal(err)
			}
			pr, ok := v.Price(running.Currency)
			switch {
			case !ok || pr.Amount != running.Amount:
				t.Errorf("%s in %s = %+v, want the sale's %d", v.SKU, running.Currency, pr, running.Amount)
			case pr.SaleEndsAt == nil || pr.SaleEndsAt.Before(before.Add(time.Duration(running.Lasts))):
				t.Errorf("%s: sale ends at %v, want %s after the load", v.SKU, pr.SaleEndsAt, time.Duration(running.Lasts))
			case pr.PriorPrice == nil || *pr.PriorPrice <= running.Amount:
				t.Errorf("%s: prior price %v, want the price before the sale", v.SKU, pr.PriorPrice)
			}

			// The scheduled sale: the price is unchanged, the change waits in the history.
			_, v, err = s.VariantBySKU(ctx, scheduled.SKUs[0])
			if err != nil {
				t.Fatal(err)
			}
			if pr, _ := v.Price(scheduled.Currency); pr.Amount == scheduled.Amount {
				t.Errorf("%s: the scheduled sale's price %d is current already", v.SKU, pr.Amount)
			}
			h, err := s.PriceHistory(ctx, v.ID, scheduled.Currency)
			if err != nil {
				t.Fatal(err)
			}
			waiting := false
			for _, e := range h {
				waiting = waiting || (e.AppliedAt == nil && e.Price.Amount == scheduled.Amount && e.ValidUntil != nil)
			}
			if !waiting {
				t.Errorf("%s: no scheduled sale in the price history %+v", v.SKU, h)
			}

			// A filter on a typed, filterable attribute finds the phone.
			f, err := catalog.ParseAttributeFilter(mustAttr(t, ctx, s, "screen_inches"), "6..7")
			if err != nil {
				t.Fatal(err)
			}
			page, err = s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 10, Filter: catalog.ProductFilter{Attributes: []catalog.AttributeFilter{f}, Statuses: all}})
			if err != nil || len(page.Items) != 1 || !strings.Contains(page.Items[0].Name, "Smartphone") {
				t.Errorf("attr.screen_inches=6..7: %d items, %v; want the phone", len(page.Items), err)
			}
			t.Logf("%s: %d products, %d variants, %d attribute definitions, %d sales", name, len(c.Products), variants, len(defs), len(c.Sales))
		})
	}
}

func mustAttr(t *testing.T, ctx context.Context, s catalog.Store, key string) catalog.AttributeDefinition {
	t.Helper()
	d, err := s.Attribute(ctx, key)
	if err != nil {
		t.Fatalf("Attribute(%q): %v", key, err)
	}
	return d
}

func TestLoadReportsProgress(t *testing.T) {
	ctx := context.Background()
	s := stores(t)["sqlite"](t)
	var reports []int
	if err := Load(ctx, s, Synthetic(2500, 1), func(done, total int) { reports = append(reports, done) }); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 3 || reports[2] != 2500 {
		t.Fatalf("progress reports %v, want 1000, 2000, 2500", reports)
	}
	all := []catalog.Status{catalog.StatusActive, catalog.StatusDraft, catalog.StatusArchived}
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1, WithTotal: true, Filter: catalog.ProductFilter{Statuses: all}})
	if err != nil {
		t.Fatal(err)
	}
	if *page.Total != 2500 {
		t.Fatalf("loaded %d products", *page.Total)
	}
}

// TestLoadSyntheticStreams: the streamed load stores what the materialized catalog holds, on
// both stores, variants and their stock included.
func TestLoadSyntheticStreams(t *testing.T) {
	const n = 1200
	want := Synthetic(n, 5)
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			var reports []int
			if err := LoadSynthetic(ctx, s, 0, n, 5, func(done, total int) { reports = append(reports, done) }); err != nil {
				t.Fatal(err)
			}
			if len(reports) != 2 || reports[1] != n {
				t.Fatalf("progress reports %v, want 1000, %d", reports, n)
			}
			for _, i := range []int{0, 1, n / 2, n - 1} {
				wp := want.Products[i]
				for _, wv := range wp.Variants {
					p, v, err := s.VariantBySKU(ctx, wv.SKU)
					if err != nil {
						t.Fatalf("VariantBySKU(%q): %v", wv.SKU, err)
					}
					if p.Name != wp.Name || len(p.Variants) != len(wp.Variants) || v.Stock.OnHand != wv.InitialStock || len(v.Prices) != len(wv.Prices) {
						t.Fatalf("%s: product %q with %d variants, on hand %d, %d prices; want %q, %d, %d, %d",
							wv.SKU, p.Name, len(p.Variants), v.Stock.OnHand, len(v.Prices), wp.Name, len(wp.Variants), wv.InitialStock, len(wv.Prices))
					}
				}
			}
		})
	}
}

// TestSeedTwiceAddsFreshSKUs: a second synthetic seed continues the numbering after the first,
// so it adds its products instead of colliding; a catalog that does collide is refused with a
// message naming the SKU, not the driver's error. The sample then loads on top, its colour
// enum sharing the key the synthetic one defined.
func TestSeedTwiceAddsFreshSKUs(t *testing.T) {
	ctx := context.Background()
	s := stores(t)["sqlite"](t)
	for round, want := range []int{0, 7, 14} {
		first, err := NextSynthetic(ctx, s)
		if err != nil || first != want {
			t.Fatalf("round %d: NextSynthetic = %d, %v; want %d", round, first, err, want)
		}
		if err := LoadSynthetic(ctx, s, first, 7, uint64(round), nil); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	all := []catalog.Status{catalog.StatusActive, catalog.StatusDraft, catalog.StatusArchived}
	page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortName, Limit: 5, WithTotal: true, Filter: catalog.ProductFilter{Statuses: all}})
	if err != nil || page.Total == nil || *page.Total != 21 {
		t.Fatalf("after three seeds of 7: total %v, %v; want 21", page.Total, err)
	}
	err = LoadSynthetic(ctx, s, 3, 2, 1, nil)
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
	c, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	if err := Load(ctx, s, c, nil); err != nil {
		t.Fatalf("the sample on top of a synthetic seed: %v", err)
	}
	colour := mustAttr(t, ctx, s, "colour")
	for _, v := range []string{"teal", "heather grey"} { // one from each catalog
		if !strings.Contains(strings.Join(colour.Values, ","), v) {
			t.Errorf("colour values %v lack %q", colour.Values, v)
		}
	}
}

// TestAttributeTypeClash: a catalog whose attribute key is defined with another type is
// refused before any product is added, naming the key.
func TestAttributeTypeClash(t *testing.T) {
	ctx := context.Background()
	s := stores(t)["sqlite"](t)
	if _, err := s.CreateAttribute(ctx, catalog.AttributeDefinitionInput{Key: "material", Name: "Material", Type: catalog.AttrNumber}); err != nil {
		t.Fatal(err)
	}
	err := LoadSynthetic(ctx, s, 0, 5, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "material") {
		t.Fatalf("LoadSynthetic over a number 'material' = %v, want an error naming it", err)
	}
	if first, _ := NextSynthetic(ctx, s); first != 0 {
		t.Fatalf("%d products were added before the clash was found", first)
	}
}
