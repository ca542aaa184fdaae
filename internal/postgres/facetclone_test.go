package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pggrow"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// cloneBase is how many products the facets bench generates with the store's own writes
// before it grows a kept database to a larger size by cloning them in SQL (pggrow.Clone).
const cloneBase = 100_000

// TestGrowByCloning grows 200 generated products to 500: every table holding a product grows
// in proportion, a clone reads back like its original (variants, prices, stock), and the
// facet counts keep the generator's shares (each of 500 is a whole copy or a uniform draw).
func TestGrowByCloning(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 4, FacetBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.FacetBenchCatalog(t, s, 200)
	if _, err := pggrow.Clone(ctx, s.Pool(), 500, t.Logf); err != nil {
		t.Fatal(err)
	}
	var products, variants, inventory, prices, skus int
	if err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM variants),
		(SELECT count(*) FROM inventory), (SELECT count(*) FROM variant_prices), (SELECT count(DISTINCT lower(sku)) FROM variants)`).
		Scan(&products, &variants, &inventory, &prices, &skus); err != nil {
		t.Fatal(err)
	}
	if products != 500 || variants != 1000 || inventory != 1000 || prices != 1000 || skus != 1000 {
		t.Fatalf("after cloning: %d products, %d variants, %d inventory, %d prices, %d SKUs; want 500, 1000 x4",
			products, variants, inventory, prices, skus)
	}
	var clone, original string
	if err := s.Pool().QueryRow(ctx, `SELECT c.id, o.id FROM products c JOIN products o ON c.name = o.name || '-c1' LIMIT 1`).Scan(&clone, &original); err != nil {
		t.Fatal(err)
	}
	c, err := s.Product(ctx, clone)
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Product(ctx, original)
	if err != nil {
		t.Fatal(err)
	}
	if c.Brand != o.Brand || c.Category != o.Category || len(c.Variants) != len(o.Variants) ||
		c.Variants[0].Prices[0].Amount != o.Variants[0].Prices[0].Amount || c.Variants[0].Stock.Available != o.Variants[0].Stock.Available {
		t.Errorf("clone %+v\ndiffers from its original %+v", c, o)
	}
	// Half the generator's products are in stock; a uniform draw of the third round keeps that.
	r, err := catalog.ParseFacets("in_stock", "", func(string) (catalog.AttributeDefinition, error) { return catalog.AttributeDefinition{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	fs, err := s.Facets(ctx, catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1}, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range fs[0].Values {
		if v.Count < 200 || v.Count > 300 {
			t.Errorf("in_stock=%s: %d of 500 products, want about 250", v.Value, v.Count)
		}
	}
}
