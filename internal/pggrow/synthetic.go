package pggrow

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/seed"
)

// The scale series needs a million products, and the store's import (the product path a real
// shop uses) loads a few hundred to about 1,600 a second on this machine: an hour or more. So
// past the first size the series grows the catalog inside PostgreSQL: each new synthetic
// product i is a copy of the structure of one product the generator made (its template, drawn
// by a hash of i: status, options and variants, currencies, compare-at and barcode presence,
// weight presence, warranty, waterproof, colours), with everything the generator draws
// independently drawn again from the generator's own lists and ranges by hashes of i: name
// words, brand, material, use, category, creation time, base price (and from it every
// variant's price in every currency, larger sizes dearer), weight and each variant's stock. IDs
// are new UUIDv7s in index order; SKUs, barcodes and image URLs are product i's as the
// generator would write them. Not copied: the logs a real import writes beside the rows (the
// creation events, the price history and the opening stock movements), which no measured read
// touches.

// Synthetic adds n synthetic products numbered from first, copying the structure of the
// templates products numbered 0..templates-1 (made by seed.LoadSynthetic with seed). It runs
// as one transaction: the secondary indexes and foreign keys of the tables it fills are dropped
// first and made again at the end (a bulk build is several times faster than maintaining
// four GIN indexes row by row), so a failure leaves the catalog as it was.
func Synthetic(ctx context.Context, pool *pgxpool.Pool, templates, first, n int, seedValue uint64) error {
	if templates < 1 || first < templates || n < 1 {
		return fmt.Errorf("grow: templates %d, first %d, n %d: want 1 <= templates <= first, n >= 1", templates, first, n)
	}
	if first+n > 100_000_000 {
		return fmt.Errorf("grow: synthetic SKUs have 8 digits: %d products is too many", first+n)
	}
	voc := seed.SyntheticVocabulary()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	exec := func(what, sql string, args ...any) error {
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return fmt.Errorf("grow: %s: %w", what, err)
		}
		return nil
	}
	if err := exec("settings", `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	// draw(i, salt, m) is a uniform draw from 0..m-1, a pure function of (seed, i, salt), as
	// the generator's draws are of (seed, index).
	if err := exec("draw", fmt.Sprintf(`CREATE OR REPLACE FUNCTION pg_temp.draw(i bigint, salt int, m bigint) RETURNS bigint
		LANGUAGE sql IMMUTABLE AS $$ SELECT (((hashint8extended(i, %d * 256 + salt) %% m) + m) %% m) $$`, seedValue%(1<<40))); err != nil {
		return err
	}
	// gtin13 is seed's gtin13: "2", 11 digits of n, the GS1 check digit.
	if err := exec("gtin13", `CREATE OR REPLACE FUNCTION pg_temp.gtin13(n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
		SELECT b || ((10 - (SELECT sum(substr(b, k, 1)::int * CASE WHEN k % 2 = 0 THEN 3 ELSE 1 END) FROM generate_series(1, 12) k) % 10) % 10)::text
		FROM (SELECT '2' || lpad((n % 100000000000)::text, 11, '0') AS b) x $$`); err != nil {
		return err
	}
	// Templates, numbered densely in a random-looking order by the draw below.
	if err := exec("templates", `CREATE TEMP TABLE grow_tpl ON COMMIT DROP AS
		SELECT (row_number() OVER (ORDER BY v.sku) - 1)::int AS t, v.product_id AS id, substr(v.sku, 5)::int AS k
		FROM variants v WHERE v.position = 0 AND v.sku ~ '^SYN-[0-9]{8}$' AND substr(v.sku, 5)::int < $1`, templates); err != nil {
		return err
	}
	var found int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM grow_tpl`).Scan(&found); err != nil {
		return fmt.Errorf("grow: templates: %w", err)
	}
	if found != templates {
		return fmt.Errorf("grow: %d synthetic products numbered below %d, want all %d of them", found, templates, templates)
	}
	// The new products and their draws (the salts number the generator's draws).
	uuid7 := func(i, counter, tag string) string {
		// 48 bits of milliseconds (one per 256 products from now), version 7, a 12-bit
		// counter, the RFC 9562 variant and 62 bits from an md5 of the index.
		return fmt.Sprintf(`(lpad(to_hex($1::bigint + (%[1]s - $2) / 256), 12, '0') || '7' || lpad(to_hex(((%[1]s - $2) %% 256) * 16 + %[2]s), 3, '0')
			|| substr('89ab', pg_temp.draw(%[1]s, 99, 4)::int + 1, 1) || substr(md5(%[1]s || '%[3]s' || %[2]s), 1, 15))::uuid`, i, counter, tag)
	}
	now := time.Now().UnixMilli()
	epoch, span := seed.SyntheticEpochSpan()
	if err := exec("products drawn", `CREATE TEMP TABLE grow_p ON COMMIT DROP AS
		SELECT g.i, t.id AS tid, t.k AS tk, `+uuid7("g.i", "15", "/p/")+` AS id,
			($4::text[])[pg_temp.draw(g.i, 1, cardinality($4::text[]))::int + 1] AS adj,
			($5::text[])[pg_temp.draw(g.i, 2, cardinality($5::text[]))::int + 1] AS noun,
			($6::text[])[pg_temp.draw(g.i, 3, cardinality($6::text[]))::int + 1] AS brand,
			($7::text[])[pg_temp.draw(g.i, 4, cardinality($7::text[]))::int + 1] AS material,
			($8::text[])[pg_temp.draw(g.i, 5, cardinality($8::text[]))::int + 1] AS use,
			($9::text[])[pg_temp.draw(g.i, 6, cardinality($9::text[]))::int + 1] AS category,
			$10::timestamptz + pg_temp.draw(g.i, 7, $11) * interval '1 microsecond' AS created,
			99 + pg_temp.draw(g.i, 8, 100000) AS base,
			50 + pg_temp.draw(g.i, 9, 5000) AS weight
		FROM generate_series($2::bigint, $2::bigint + $3 - 1) g (i)
		JOIN grow_tpl t ON t.t = pg_temp.draw(g.i, 0, $12)`,
		now, first, n, voc.Adjectives, voc.Nouns, voc.Brands, voc.Materials, voc.Uses, voc.Leaves, epoch, span.Microseconds(), templates); err != nil {
		return err
	}
	if err := exec("variants drawn", `CREATE TEMP TABLE grow_v ON COMMIT DROP AS
		SELECT g.i, g.id AS pid, v.position AS j, `+uuid7("g.i", "v.position", "/v/")+` AS id, v.id AS tvid, g.tk, g.created, g.weight,
			g.base + g.base * coalesce(array_position($3::text[], v.options->>'Size') - 1, 0) / 25 AS usd
		FROM grow_p g JOIN variants v ON v.product_id = g.tid`, now, first, voc.Sizes); err != nil {
		return err
	}
	if err := exec("prices drawn", `CREATE TEMP TABLE grow_vp ON COMMIT DROP AS
		SELECT nv.id AS vid, nv.pid, vp.currency, a.amount, CASE WHEN vp.compare_at IS NOT NULL THEN greatest(a.amount * 5 / 4, a.amount + 1) END AS compare_at
		FROM grow_v nv JOIN variant_prices vp ON vp.variant_id = nv.tvid
		CROSS JOIN LATERAL (SELECT greatest(1, CASE vp.currency WHEN 'EUR' THEN nv.usd * 92 / 100 WHEN 'GBP' THEN nv.usd * 79 / 100 ELSE nv.usd END) AS amount) a`); err != nil {
		return err
	}

	steps := []struct{ what, sql string }{
		{"products", `INSERT INTO products (id, name, name_key, description, category, brand, attributes, media, options, status, version, variant_count, created_at, updated_at)
			SELECT g.id, w.name, lower(w.name), g.adj || ' ' || lower(g.noun) || ' by ' || g.brand || ', made of ' || g.material || ', for ' || g.use || '.',
				g.category, g.brand, p.attributes || jsonb_build_object('material', g.material),
				jsonb_set(replace(p.media::text, 'syn-' || lpad(g.tk::text, 8, '0') || '/', 'syn-' || lpad(g.i::text, 8, '0') || '/')::jsonb, '{0,alt}', to_jsonb(g.adj || ' ' || lower(g.noun))),
				p.options, p.status, 1, p.variant_count, g.created, g.created
			FROM grow_p g JOIN products p ON p.id = g.tid
			CROSS JOIN LATERAL (SELECT g.adj || ' ' || g.noun || ' ' || g.i AS name) w
			ORDER BY g.i`},
		{"variants", `INSERT INTO variants (id, product_id, sku, options, position, barcode, weight_grams, attributes, image, purchase_limit, created_at, updated_at)
			SELECT nv.id, nv.pid, 'SYN-' || lpad(nv.i::text, 8, '0') || CASE WHEN nv.j = 0 THEN '' ELSE '-' || nv.j END,
				v.options, v.position, CASE WHEN v.barcode = '' THEN '' ELSE pg_temp.gtin13(nv.i * 16 + nv.j) END,
				CASE WHEN v.weight_grams IS NOT NULL THEN nv.weight + nv.j * 10 END, v.attributes,
				replace(v.image, 'syn-' || lpad(nv.tk::text, 8, '0') || '/', 'syn-' || lpad(nv.i::text, 8, '0') || '/'),
				v.purchase_limit, nv.created, nv.created
			FROM grow_v nv JOIN variants v ON v.id = nv.tvid
			ORDER BY nv.i, nv.j`},
		// Stock as the generator draws it: 0..199, and a tenth of variants at 0.
		{"inventory", `INSERT INTO inventory (variant_id, product_id, on_hand, reserved, version, updated_at)
			SELECT id, pid, CASE WHEN pg_temp.draw(i * 16 + j, 20, 10) = 0 THEN 0 ELSE pg_temp.draw(i * 16 + j, 21, 200) END, 0, 1, created
			FROM grow_v ORDER BY i, j`},
		{"variant prices", `INSERT INTO variant_prices (variant_id, currency, product_id, amount, compare_at)
			SELECT vid, currency, pid, amount, compare_at FROM grow_vp ORDER BY vid, currency`},
		{"product prices", `INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
			SELECT pid, currency, min(amount), max(amount) FROM grow_vp GROUP BY pid, currency ORDER BY pid, currency`},
	}
	err = withoutIndexes(ctx, tx, func() error {
		for _, st := range steps {
			if err := exec(st.what, st.sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}
