package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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

	l := listSQL(q, terms)
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, l.page, l.pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Items = make([]catalog.Product, 0, q.Limit)
		var tiers []int
		for rows.Next() {
			var extra []any
			var tier int
			if l.relevance {
				extra = append(extra, &tier)
			}
			p, err := scanListItem(rows, extra...)
			if err != nil {
				return err
			}
			page.Items, tiers = append(page.Items, p), append(tiers, tier)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			if l.relevance {
				page.Next = q.NextRelevanceCursor(page.Items[q.Limit-1].ID, tiers[q.Limit-1])
			} else {
				page.Next = q.NextCursor(page.Items[q.Limit-1])
			}
		}
		if q.WithTotal {
			var n int64
			if err := tx.QueryRowContext(ctx, l.count, l.countArgs...).Scan(&n); err != nil {
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

// listQueries are the statements of one list page: the page itself and the count of every
// match.
type listQueries struct {
	page, count         string
	pageArgs, countArgs []any
	// relevance: each page row ends with its relevance tier.
	relevance bool
}

// listSQL builds the statements of a list page (the plan test explains them).
func listSQL(q catalog.ListQuery, terms []string) listQueries {
	from, where, args := filterSQL(q.Filter, terms)
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		args = append([]any{q.Filter.Category}, args...)
	}
	col, dir, cmp := orderOf(q.Sort)
	// Sorted by price, the product's ID is taken from the price summary's row, so one index
	// (currency, min_amount, product_id) gives the whole order.
	idCol := "p.id"
	if q.Sort == catalog.SortPrice || q.Sort == catalog.SortPriceDesc {
		idCol = "pp.product_id"
	}
	count := with + `SELECT count(*)` + from + whereSQL(where)
	if q.Sort == catalog.SortRelevance {
		page, pageArgs := relevanceSQL(q, terms)
		return listQueries{page: page, pageArgs: pageArgs, count: count, countArgs: args, relevance: true}
	}
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if c := q.After; c != nil {
		pageWhere = append(pageWhere, "("+col+", "+idCol+") "+cmp+" (?, ?)")
		pageArgs = append(pageArgs, cursorKey(c), c.ID)
	}
	page := with + `SELECT ` + listColumns +
		from + whereSQL(pageWhere) + ` ORDER BY ` + col + ` ` + dir + `, ` + idCol + ` ` + dir + ` LIMIT ?`
	pageArgs = append(pageArgs, q.Limit+1)
	return listQueries{page: page, pageArgs: pageArgs, count: count, countArgs: args}
}

// listColumns are a list item: the product's own fields, then its variant count, available
// units, stock version and price ranges, computed in SQL for the page's rows only: no query per
// item.
const listColumns = productColumns + `,
		p.variant_count,
		(SELECT coalesce(sum(max(i.on_hand - i.reserved, 0)), 0) FROM inventory i WHERE i.product_id = p.id),
		(SELECT coalesce(sum(i.version), 0) FROM inventory i WHERE i.product_id = p.id),
		(SELECT json_group_array(json_array(r.currency, r.min_amount, r.max_amount))
			FROM (SELECT currency, min_amount, max_amount FROM product_prices pr WHERE pr.product_id = p.id ORDER BY currency) r)`

// scanListItem reads a row of listColumns (and any extra columns after them into extra).
func scanListItem(row scanner, extra ...any) (catalog.Product, error) {
	var ranges string
	var count int
	var available, stockVersion int64
	p, err := scanProduct(row, append([]any{&count, &available, &stockVersion, &ranges}, extra...)...)
	if err != nil {
		return p, err
	}
	p.VariantCount, p.StockVersion = count, stockVersion
	p.Availability = catalog.Availability{InStock: available > 0, Available: available}
	if p.PriceRanges, err = decodeRanges(ranges); err != nil {
		return p, fmt.Errorf("product %s price ranges: %w", p.ID, err)
	}
	return p, nil
}

// decodeRanges reads the [[currency, min, max], ...] the list query builds.
func decodeRanges(s string) ([]catalog.PriceRange, error) {
	var raw [][3]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, err
	}
	out := make([]catalog.PriceRange, len(raw))
	for i, r := range raw {
		if err := errors.Join(json.Unmarshal(r[0], &out[i].Currency), json.Unmarshal(r[1], &out[i].Min), json.Unmarshal(r[2], &out[i].Max)); err != nil {
			return nil, err
		}
	}
	return out, nil
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

// filterSQL returns the FROM clause (joined with the product's price summary in the filter's
// currency when there is one: products without a price in it are not listed), the conditions
// and their arguments, in order.
func filterSQL(f catalog.ProductFilter, terms []string) (from string, where []string, args []any) {
	from = ` FROM products p`
	if f.Currency != "" {
		from += ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ?`
		args = append(args, f.Currency)
	}
	if f.Category != "" {
		where = append(where, "p.category IN (SELECT slug FROM subtree)")
	}
	if len(f.Statuses) > 0 {
		where = append(where, "p.status IN ("+marks(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if f.Brand != "" {
		where = append(where, "p.brand = ? COLLATE NOCASE")
		args = append(args, f.Brand)
	}
	if f.MinPrice != nil {
		where = append(where, "pp.min_amount >= ?")
		args = append(args, *f.MinPrice)
	}
	if f.MaxPrice != nil {
		where = append(where, "pp.min_amount <= ?")
		args = append(args, *f.MaxPrice)
	}
	if f.InStock != nil {
		cond := "EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = p.id AND i.on_hand > i.reserved)"
		if !*f.InStock {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	// A product matches an attribute filter when it or any of its variants has a matching
	// value; attribute_values holds both, typed, indexed by key and value.
	for _, a := range f.Attributes {
		switch {
		case a.Type == catalog.AttrNumber:
			cond := "p.id IN (SELECT product_id FROM attribute_values WHERE key = ? AND num_value IS NOT NULL"
			args = append(args, a.Key)
			if a.Min != nil {
				cond += " AND num_value >= ?"
				args = append(args, *a.Min)
			}
			if a.Max != nil {
				cond += " AND num_value <= ?"
				args = append(args, *a.Max)
			}
			where = append(where, cond+")")
		default:
			where = append(where, "p.id IN (SELECT product_id FROM attribute_values WHERE key = ? AND text_value IN ("+marks(len(a.Values))+"))")
			args = append(args, a.Key)
			for _, v := range a.Values {
				args = append(args, v)
			}
		}
	}
	// Every term must match a word of the product's name, brand or description, or of one of
	// its variants' SKUs (ADR 0011); the last term may be a prefix. A query that is a
	// variant's SKU or barcode matches that product too (ADR 0021).
	if len(terms) > 0 {
		var conds []string
		for i, t := range terms {
			conds = append(conds, `(p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)
			OR p.id IN (SELECT v.product_id FROM variants v WHERE v.seq IN (SELECT rowid FROM variants_fts WHERE variants_fts MATCH ?)))`)
			q := ftsQuery(t, i == len(terms)-1)
			args = append(args, q, q)
		}
		cond := strings.Join(conds, " AND ")
		if code, ok := catalog.ExactCode(f.Query); ok {
			cond = "((" + cond + ") OR p.id IN (" + exactIDs + "))"
			args = append(args, code, code)
		}
		where = append(where, cond)
	}
	return from, where, args
}

// exactIDs selects the products with a variant whose SKU (any case) or barcode is the query;
// variants_sku and variants_barcode answer it.
const exactIDs = `SELECT product_id FROM variants WHERE sku = ? COLLATE NOCASE OR barcode = ?`

// ftsColumnsQuery is the FTS5 query matching every term (the last as a prefix) within the
// given columns: "{name} : (...)" is a name match, "{name brand} : (...)" each term in the name
// or the brand, as PostgreSQL's weights A and AB say.
func ftsColumnsQuery(terms []string, columns string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = ftsQuery(t, i == len(terms)-1)
	}
	return "{" + columns + "} : (" + strings.Join(parts, " AND ") + ")"
}

// relevanceSQL builds the page statement of q sorted by relevance (ADR 0021): every match is
// given its tier, and the matches are sorted by (tier, ID) after the cursor. Unlike
// PostgreSQL's tier walks this reads every match; the embedded store serves small catalogs.
func relevanceSQL(q catalog.ListQuery, terms []string) (page string, args []any) {
	from, where, filterArgs := filterSQL(q.Filter, terms)
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		args = append(args, q.Filter.Category)
	}
	tier := `CASE WHEN p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?) THEN 3
			WHEN p.seq IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?) THEN 2 ELSE 1 END`
	var tierArgs []any
	if code, ok := catalog.ExactCode(q.Filter.Query); ok {
		tier = "CASE WHEN p.id IN (" + exactIDs + ") THEN 4 ELSE " + tier + " END"
		tierArgs = append(tierArgs, code, code)
	}
	tierArgs = append(tierArgs, ftsColumnsQuery(terms, "name"), ftsColumnsQuery(terms, "name brand"))
	args = append(append(args, tierArgs...), filterArgs...)
	keyset := ""
	if c := q.After; c != nil {
		keyset = " WHERE (r.tier, r.rid) < (?, ?)"
		args = append(args, c.Tier, c.ID)
	}
	page = with + `SELECT ` + listColumns + `, r.tier
		FROM (SELECT p.id AS rid, ` + tier + ` AS tier` + from + whereSQL(where) + `) r
		JOIN products p ON p.id = r.rid` + keyset + `
		ORDER BY r.tier DESC, r.rid DESC LIMIT ?`
	return page, append(args, q.Limit+1)
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

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
		col = "pp.min_amount"
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
