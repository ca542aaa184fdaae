package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// cloneBase is how many products the facets bench generates with the store's own writes
// before it grows a kept database to a larger size by cloning them in SQL.
const cloneBase = 100_000

// cloneTables are the tables that hold a product: each row is copied with the product's (and
// its variant's) new ID. Events, price history and stock movements are not copied: no read
// the facets bench measures reads them.
var cloneTables = []string{"products", "variants", "product_prices", "variant_prices", "inventory"}

// growByCloning grows the catalog in pool to n products by copying existing products in SQL,
// with their variants, prices and stock, under new IDs (v4 UUIDs: PostgreSQL 15 makes no v7),
// names and SKUs suffixed with the round. Each round copies up to as many products as there
// are (doubling), taken in the order of a hash of their IDs: a uniform draw whatever the IDs'
// kind (v7 IDs in ID order would be the oldest products), so every value's share (category,
// brand, colour, price, in stock) stays the generator's. A round is one transaction; ANALYZE runs at the end. The column lists are read
// from the catalog, so a column another change adds is copied too.
func growByCloning(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	ctx := context.Background()
	cloned := false
	for round := 1; ; round++ {
		var have int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM products`).Scan(&have); err != nil {
			tb.Fatal(err)
		}
		if have >= n || have == 0 {
			break
		}
		start := time.Now()
		take := min(have, n-have)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			// The round number makes names and SKUs unique across rounds.
			suffix := fmt.Sprintf("-c%d", round)
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE clone_p ON COMMIT DROP AS
				SELECT id AS old, gen_random_uuid() AS new FROM (SELECT id FROM products ORDER BY md5(id::text) LIMIT $1) x`, take); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE clone_v ON COMMIT DROP AS
				SELECT v.id AS old, gen_random_uuid() AS new FROM variants v JOIN clone_p ON v.product_id = clone_p.old`); err != nil {
				return err
			}
			for _, table := range cloneTables {
				q, err := cloneSQL(ctx, tx, table, suffix)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("clone %s: %w", table, err)
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("cloned %d products (%d -> %d) in %s", take, have, have+take, time.Since(start).Round(time.Second))
		cloned = true
	}
	if !cloned {
		return // a kept database already that large was settled when it was made
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

// cloneSQL is the INSERT ... SELECT that copies table's rows of the products in clone_p.
func cloneSQL(ctx context.Context, tx pgx.Tx, table, suffix string) (string, error) {
	rows, err := tx.Query(ctx, `SELECT attname FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
		ORDER BY attnum`, table)
	if err != nil {
		return "", err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	var exprs []string
	joinP, joinV := false, false
	for _, c := range cols {
		e := "x." + c
		switch {
		case table == "products" && c == "id", c == "product_id":
			e, joinP = "clone_p.new", true
		case table == "variants" && c == "id", c == "variant_id":
			e, joinV = "clone_v.new", true
		case table == "products" && (c == "name" || c == "name_key"), table == "variants" && c == "sku":
			e = "x." + c + " || '" + suffix + "'"
		}
		exprs = append(exprs, e)
	}
	from := " FROM " + table + " x"
	if joinV {
		col := "variant_id"
		if table == "variants" {
			col = "id"
		}
		from += " JOIN clone_v ON clone_v.old = x." + col
	}
	if joinP {
		col := "product_id"
		if table == "products" {
			col = "id"
		}
		from += " JOIN clone_p ON clone_p.old = x." + col
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(exprs, ", ") + from, nil
}

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
	growByCloning(t, s.Pool(), 500)
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
