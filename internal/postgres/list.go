package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// ListProducts returns one page in keyset order: the cursor's sort key and ID bound an index
// scan, so deep pages cost what the first page costs and concurrent inserts neither repeat nor
// skip rows.
func (s *Store) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	if err := q.Validate(); err != nil {
		return catalog.ProductPage{}, err
	}
	if page, ok := q.EmptySearch(); ok {
		return page, nil
	}
	var page catalog.ProductPage
	terms := catalog.SearchTerms(q.Filter.Query)

	err := s.withAuthRetry(ctx, func() error {
		rare := false
		if len(terms) > 0 {
			var err error
			if rare, _, err = s.rareTerms(ctx, terms, q.Limit); err != nil {
				return err
			}
		}
		query, args, count, countArgs := listSQL(q, terms, rare)
		return s.listPage(ctx, &page, q, query, args, count, countArgs)
	})
	return page, storeError(ctx, err)
}

// listPage reads one page, and the total when asked, from one snapshot: a page alone is one
// statement on the pool; a page with its total is two statements in a read-only repeatable-read
// transaction, whose BEGIN and COMMIT are round trips only that case pays for.
func (s *Store) listPage(ctx context.Context, page *catalog.ProductPage, q catalog.ListQuery, query string, args []any, count string, countArgs []any) error {
	read := func(db querier) error {
		rows, err := db.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		page.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) { return scanProduct(r) })
		if err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			page.Next = q.NextCursor(page.Items[q.Limit-1])
		}
		return nil
	}
	if !q.WithTotal {
		return read(s.pool)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := read(tx); err != nil {
			return err
		}
		var n int64
		if err := tx.QueryRow(ctx, count, countArgs...).Scan(&n); err != nil {
			return err
		}
		page.Total = &n
		return nil
	})
}

// listSQL builds the page query for q, and the count query for its total: a keyset condition
// on (sort column, id) after the cursor, and ORDER BY the same pair, which an index serves.
//
// With rare search terms (see rareTerms) the matches are fetched first through the full-text
// index, with the columns the filters and the sort need, into a materialized CTE that stands
// in for the products table (alias p), so no other index can be chosen to find them; they
// are filtered and sorted there, and only the page's rows are then read in full.
func listSQL(q catalog.ListQuery, terms []string, rare bool) (query string, args []any, count string, countArgs []any) {
	var b sqlBuilder
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ` + b.arg(q.Filter.Category) + `
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		b.where = append(b.where, "p.category IN (SELECT slug FROM subtree)")
	}
	b.filter(q.Filter)
	match := ""
	if len(terms) > 0 {
		match = "search @@ plainto_tsquery('english', " + b.arg(strings.Join(terms, " ")) + ")"
	}
	rare = rare && match != ""
	if match != "" && !rare {
		b.where = append(b.where, "p."+match)
	}
	col, dir, cmp := orderOf(q.Sort)
	count = with + `SELECT count(*)` + productFrom + b.whereSQL()
	if rare {
		count += map[bool]string{true: " AND ", false: " WHERE "}[len(b.where) > 0] + "p." + match
	}
	countArgs = append([]any(nil), b.args...)

	if c := q.After; c != nil {
		b.where = append(b.where, "("+col+", p.id) "+cmp+" ("+b.arg(cursorKey(c))+", "+b.arg(c.ID)+"::uuid)")
	}
	limit := b.arg(q.Limit + 1)
	if !rare {
		query = with + `SELECT ` + productColumns + productFrom + b.whereSQL() +
			` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir + ` LIMIT ` + limit
		return query, b.args, count, countArgs
	}
	from := ` FROM matches p`
	if q.Filter.InStock != nil {
		from += ` JOIN inventory i ON i.product_id = p.id`
	}
	if with == "" {
		with = "WITH "
	} else {
		with += ", "
	}
	query = with + `matches AS MATERIALIZED (
			SELECT id, name_key, price_amount, created_at, status, brand, price_currency, category FROM products WHERE ` + match + `),
		top AS (SELECT p.id, ` + col + ` AS k` + from + b.whereSQL() + ` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir + ` LIMIT ` + limit + `)
		SELECT ` + productColumns + ` FROM top JOIN products p ON p.id = top.id JOIN inventory i ON i.product_id = p.id
		ORDER BY top.k ` + dir + `, top.id ` + dir
	return query, b.args, count, countArgs
}

// sqlBuilder accumulates WHERE conditions and numbered arguments.
type sqlBuilder struct {
	where []string
	args  []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) whereSQL() string {
	if len(b.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.where, " AND ")
}

// filter adds the conditions of f other than its search terms.
func (b *sqlBuilder) filter(f catalog.ProductFilter) {
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			statuses[i] = string(st)
		}
		if len(statuses) == 1 {
			b.where = append(b.where, "p.status = "+b.arg(statuses[0]))
		} else {
			b.where = append(b.where, "p.status = ANY ("+b.arg(statuses)+")")
		}
	}
	if f.Brand != "" {
		b.where = append(b.where, "p.brand = "+b.arg(f.Brand))
	}
	if f.Currency != "" {
		b.where = append(b.where, "p.price_currency = "+b.arg(f.Currency))
	}
	if f.MinPrice != nil {
		b.where = append(b.where, "p.price_amount >= "+b.arg(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		b.where = append(b.where, "p.price_amount <= "+b.arg(*f.MaxPrice))
	}
	if f.InStock != nil {
		if *f.InStock {
			b.where = append(b.where, "i.on_hand > i.reserved")
		} else {
			b.where = append(b.where, "i.on_hand <= i.reserved")
		}
	}
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
		return c.Created
	}
}
