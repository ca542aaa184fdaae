package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
