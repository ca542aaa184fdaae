package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// ListProducts returns one page in keyset order: the cursor's sort key and ID bound the scan, so
// deep pages cost what the first page costs and concurrent inserts neither repeat nor skip rows.
func (s *Store) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	if err := q.Validate(); err != nil {
		return catalog.ProductPage{}, err
	}
	// Collections (issue 15): a collection's list is driven by its membership (collections.go).
	if q.Filter.Collection != "" {
		return s.listCollection(ctx, q)
	}
	if page, ok := q.EmptySearch(); ok {
		return page, s.categoryExists(ctx, q.Filter.Category)
	}
	var page catalog.ProductPage
	terms := catalog.SearchTerms(q.Filter.Query)

	where, args := filterSQL(q.Filter, terms)
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		args = append([]any{q.Filter.Category}, args...)
	}

	col, dir, cmp := orderOf(q.Sort)
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if c := q.After; c != nil {
		pageWhere = append(pageWhere, "("+col+", p.id) "+cmp+" (?, ?)")
		pageArgs = append(pageArgs, cursorKey(c), c.ID)
	}
	query := with + `SELECT ` + productColumns + productFrom + whereSQL(pageWhere) +
		` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir + ` LIMIT ?`
	pageArgs = append(pageArgs, q.Limit+1)

	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Items = make([]catalog.Product, 0, q.Limit)
		for rows.Next() {
			p, err := scanProduct(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			page.Next = q.NextCursor(page.Items[q.Limit-1])
		}
		if q.WithTotal {
			var n int64
			if err := tx.QueryRowContext(ctx, with+`SELECT count(*)`+productFrom+whereSQL(where), args...).Scan(&n); err != nil {
				return err
			}
			page.Total = &n
		}
		return nil
	})
	if err == nil && len(page.Items) == 0 {
		err = s.categoryExists(ctx, q.Filter.Category)
	}
	return page, err
}

// categoryExists tells an unknown category from an empty one; lists ask only when a page came
// back empty, so a filled page costs nothing more.
func (s *Store) categoryExists(ctx context.Context, slug string) error {
	if slug == "" {
		return nil
	}
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM categories WHERE slug = ?`, slug).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return catalog.UnknownCategory(slug)
	}
	return storeError(ctx, err)
}

func filterSQL(f catalog.ProductFilter, terms []string) (where []string, args []any) {
	if f.Category != "" {
		where = append(where, "p.category IN (SELECT slug FROM subtree)")
	}
	if len(f.Statuses) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(f.Statuses)), ", ")
		where = append(where, "p.status IN ("+marks+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if f.Brand != "" {
		where = append(where, "p.brand = ? COLLATE NOCASE")
		args = append(args, f.Brand)
	}
	if f.Currency != "" {
		where = append(where, "p.price_currency = ?")
		args = append(args, f.Currency)
	}
	if f.MinPrice != nil {
		where = append(where, "p.price_amount >= ?")
		args = append(args, *f.MinPrice)
	}
	if f.MaxPrice != nil {
		where = append(where, "p.price_amount <= ?")
		args = append(args, *f.MaxPrice)
	}
	if f.InStock != nil {
		if *f.InStock {
			where = append(where, "i.on_hand > i.reserved")
		} else {
			where = append(where, "i.on_hand <= i.reserved")
		}
	}
	if len(terms) > 0 {
		where = append(where, "p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)")
		args = append(args, ftsQuery(terms))
	}
	return where, args
}

func whereSQL(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// orderOf returns the sort column, the direction, and the comparison that selects rows after a
// cursor in that direction.
func orderOf(s catalog.Sort) (col, dir, cmp string) {
	switch s {
	case catalog.SortName, catalog.SortNameDesc:
		col = "p.name_key"
	case catalog.SortPrice, catalog.SortPriceDesc:
		col = "p.price_amount"
	default:
		col = "p.created_at"
	}
	if s.Descending() {
		return col, "DESC", "<"
	}
	return col, "ASC", ">"
}

func cursorKey(c *catalog.Cursor) any {
	switch c.Sort {
	case catalog.SortName, catalog.SortNameDesc:
		return c.NameKey
	case catalog.SortPrice, catalog.SortPriceDesc:
		return c.Price
	default:
		return c.Created.UnixMicro()
	}
}
