package pggrow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Clone grows the catalog in pool to n products by copying existing products in SQL, with
// their variants, prices and stock, under new IDs (v4 UUIDs: PostgreSQL 15 makes no v7),
// names and SKUs suffixed with the round. Each round copies up to as many products as there
// are (doubling), taken in the order of a hash of their IDs: a uniform draw whatever the IDs'
// kind (v7 IDs in ID order would be the oldest products), so every value's share (category,
// brand, colour, price, in stock) stays the original's. A round is one transaction; VACUUM
// ANALYZE runs at the end. The column lists are read from the catalog, so a column another
// change adds is copied too. logf, if set, hears each round. It reports whether it copied
// anything: an empty catalog, or one already that large, is left as it is.
func Clone(ctx context.Context, pool *pgxpool.Pool, n int, logf func(format string, args ...any)) (bool, error) {
	cloned := false
	for round := 1; ; round++ {
		var have int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM products`).Scan(&have); err != nil {
			return cloned, fmt.Errorf("clone: %w", err)
		}
		if have >= n || have == 0 {
			break
		}
		start := time.Now()
		take := min(have, n-have)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE clone_p ON COMMIT DROP AS
				SELECT id AS old, gen_random_uuid() AS new FROM (SELECT id FROM products ORDER BY md5(id::text) LIMIT $1) x`, take); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE clone_v ON COMMIT DROP AS
				SELECT v.id AS old, gen_random_uuid() AS new FROM variants v JOIN clone_p ON v.product_id = clone_p.old`); err != nil {
				return err
			}
			// The round number makes names and SKUs unique across rounds.
			suffix := fmt.Sprintf("-c%d", round)
			return withoutIndexes(ctx, tx, func() error {
				for _, table := range Tables {
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
		})
		if err != nil {
			return cloned, fmt.Errorf("clone round %d: %w", round, err)
		}
		if logf != nil {
			logf("cloned %d products (%d -> %d) in %s", take, have, have+take, time.Since(start).Round(time.Second))
		}
		cloned = true
	}
	if !cloned {
		return false, nil
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return true, fmt.Errorf("clone: %w", err)
	}
	return true, nil
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
