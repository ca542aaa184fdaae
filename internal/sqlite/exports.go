package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/acme/catalog/internal/catalog"
)

// Export streams the products matching q from one read transaction, in keyset pages of
// catalog.ExportPageSize, with the feed cursor of its snapshot (ADR 0020). SQLite takes a WAL
// read snapshot at a transaction's first read, and its first read is the cursor: the highest
// sequence AUTOINCREMENT has handed out. One writer commits at a time and numbers its events
// as it commits, so every event up to the cursor is in the snapshot and every later one is not:
// the feed after the cursor holds exactly the changes the export does not show.
func (s *Store) Export(ctx context.Context, q catalog.ExportQuery, begin func(catalog.ExportHead) error, each func(catalog.Product) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	var callerErr error
	call := func(err error) error {
		if err != nil {
			callerErr = err
		}
		return err
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var cursor int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)`).Scan(&cursor); err != nil {
			return err
		}
		if err := exportFilterExists(ctx, tx, q.Filter); err != nil {
			return err
		}
		head := catalog.ExportHead{Cursor: cursor}
		if q.Columns {
			if err := exportColumns(ctx, tx, &head); err != nil {
				return err
			}
		}
		if err := call(begin(head)); err != nil {
			return err
		}
		var after *exportKey
		for {
			ids, last, more, err := exportPage(ctx, tx, q.Filter, after)
			if err != nil || len(ids) == 0 {
				return err
			}
			ps, err := productsByID(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if err := call(each(p)); err != nil {
					return err
				}
			}
			if !more {
				return nil
			}
			after = &last
		}
	})
	if callerErr != nil && errors.Is(err, callerErr) {
		return callerErr
	}
	return err
}

// productsByID reads the products with the given IDs and all their variants, in the order of
// ids: two statements for the whole page (the IDs passed as one JSON array).
func productsByID(ctx context.Context, tx *sql.Tx, ids []string) ([]catalog.Product, error) {
	list := encodeJSON(ids)
	rows, err := tx.QueryContext(ctx, `SELECT `+productColumns+` FROM json_each(?) k JOIN products p ON p.id = k.value ORDER BY k.key`, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ps := make([]catalog.Product, 0, len(ids))
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vs, err := variantsOf(ctx, tx, `v.product_id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, err
	}
	byProduct := make(map[string][]catalog.Variant, len(ps))
	for _, v := range vs {
		byProduct[v.ProductID] = append(byProduct[v.ProductID], v)
	}
	for i := range ps {
		ps[i].Variants = byProduct[ps[i].ID]
		if ps[i].Variants == nil {
			ps[i].Variants = []catalog.Variant{}
		}
		finishProduct(&ps[i])
	}
	return ps, nil
}

// exportFilterExists answers an unknown category or collection with not_found, as lists do.
func exportFilterExists(ctx context.Context, tx *sql.Tx, f catalog.ProductFilter) error {
	var category, collection bool
	if err := tx.QueryRowContext(ctx, `SELECT ? = '' OR EXISTS (SELECT 1 FROM categories WHERE slug = ?),
		? = '' OR EXISTS (SELECT 1 FROM collections WHERE slug = ?)`, f.Category, f.Category, f.Collection, f.Collection).Scan(&category, &collection); err != nil {
		return err
	}
	if !category {
		return catalog.UnknownCategory(f.Category)
	}
	if !collection {
		return catalog.UnknownCollection(f.Collection)
	}
	return nil
}

// exportColumns fills head's columns from the snapshot: option names in use, defined attribute
// keys, currencies in use and whether any price has a compare-at amount.
func exportColumns(ctx context.Context, tx *sql.Tx, head *catalog.ExportHead) error {
	list := func(query string) ([]string, error) {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	var err error
	if head.Options, err = list(`SELECT DISTINCT json_extract(o.value, '$.name') AS n FROM products p, json_each(p.options) o ORDER BY n`); err != nil {
		return err
	}
	if head.Attributes, err = list(`SELECT key FROM attribute_definitions ORDER BY key`); err != nil {
		return err
	}
	if head.Currencies, err = list(`SELECT DISTINCT currency FROM variant_prices ORDER BY currency`); err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM variant_prices WHERE compare_at IS NOT NULL)`).Scan(&head.CompareAt)
}

// exportKey is the keyset position of an export: the last product's creation time (Unix µs)
// and ID.
type exportKey struct {
	created int64
	id      string
}

// exportPage returns the IDs of the next page of products matching f after the key, in
// (created_at, id) order, the last one's key, and whether more may follow. A page ends early
// at catalog.ExportPageVariants variants.
func exportPage(ctx context.Context, tx *sql.Tx, f catalog.ProductFilter, after *exportKey) (ids []string, last exportKey, more bool, err error) {
	terms := catalog.SearchTerms(f.Query)
	from, where, args := filterSQL(f, terms)
	with := ""
	if f.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		args = append([]any{f.Category}, args...)
	}
	if f.Query != "" && len(terms) == 0 {
		where = append(where, "0") // only punctuation: nothing matches (as lists)
	}
	if f.Collection != "" {
		where = append(where, "p.id IN (SELECT product_id FROM collection_products WHERE collection = ?)")
		args = append(args, f.Collection)
	}
	if after != nil {
		where = append(where, "(p.created_at, p.id) > (?, ?)")
		args = append(args, after.created, after.id)
	}
	args = append(args, catalog.ExportPageSize)
	rows, err := tx.QueryContext(ctx, with+`SELECT p.id, p.created_at, p.variant_count`+from+whereSQL(where)+` ORDER BY p.created_at, p.id LIMIT ?`, args...)
	if err != nil {
		return nil, exportKey{}, false, err
	}
	defer rows.Close()
	variants := 0
	for rows.Next() {
		var n int
		if err := rows.Scan(&last.id, &last.created, &n); err != nil {
			return nil, last, false, err
		}
		ids = append(ids, last.id)
		if variants += n; variants >= catalog.ExportPageVariants {
			return ids, last, true, nil // a page of big products: the rest on the next page
		}
	}
	return ids, last, len(ids) == catalog.ExportPageSize, rows.Err()
}
