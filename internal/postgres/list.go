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
			if rare, err = s.rareTerms(ctx, terms); err != nil {
				return err
			}
		}
		query, args, with, filtered := listSQL(q, terms, rare)
		return s.listPage(ctx, &page, q, query, args, with, filtered)
	})
	return page, storeError(ctx, err)
}

// rareMatches is where a search switches plans. Below it, fetching every match through the
// full-text index and sorting them is cheap; above it, walking the sort-order index and
// checking each row finds a page of matches within a few thousand rows. The planner cannot
// tell the two apart from its statistics (it guesses the same selectivity for a word in every
// product and for a word in one), so the store counts, bounded, instead.
const rareMatches = 2000

func (s *Store) rareTerms(ctx context.Context, terms []string) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM products WHERE search @@ plainto_tsquery('english', $1) LIMIT $2) m`,
		strings.Join(terms, " "), rareMatches+1).Scan(&n)
	return n <= rareMatches, err
}

// listPage reads one page (and the total, when asked) from one snapshot.
func (s *Store) listPage(ctx context.Context, page *catalog.ProductPage, q catalog.ListQuery, query string, args []any, with string, filtered sqlBuilder) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
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
		if q.WithTotal {
			var n int64
			if err := tx.QueryRow(ctx, with+`SELECT count(*)`+productFrom+filtered.whereSQL(), filtered.args...).Scan(&n); err != nil {
				return err
			}
			page.Total = &n
		}
		return nil
	})
}

// listSQL builds the page query for q (and what the count query needs): a keyset condition on
// (sort column, id) after the cursor, and ORDER BY the same pair, which an index serves.
//
// With rare search terms the matches are fetched first through the full-text index (a
// materialized CTE the planner cannot flatten) and only they are sorted.
func listSQL(q catalog.ListQuery, terms []string, rare bool) (query string, args []any, with string, filtered sqlBuilder) {
	var b sqlBuilder
	var ctes []string
	if q.Filter.Category != "" {
		ctes = append(ctes, `RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = `+b.arg(q.Filter.Category)+`
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug)`)
		b.where = append(b.where, "p.category IN (SELECT slug FROM subtree)")
	}
	from := productFrom
	if rare && len(terms) > 0 {
		ctes = append(ctes, `matches AS MATERIALIZED (SELECT id FROM products WHERE search @@ plainto_tsquery('english', `+b.arg(strings.Join(terms, " "))+`))`)
		from = ` FROM matches m JOIN products p ON p.id = m.id JOIN inventory i ON i.product_id = p.id`
	}
	if len(ctes) > 0 {
		with = "WITH " + strings.Join(ctes, ", ") + " "
	}
	b.filter(q.Filter, terms)
	filtered = b.clone()

	col, dir, cmp := orderOf(q.Sort)
	if c := q.After; c != nil {
		b.where = append(b.where, "("+col+", p.id) "+cmp+" ("+b.arg(cursorKey(c))+", "+b.arg(c.ID)+"::uuid)")
	}
	query = with + `SELECT ` + productColumns + from + b.whereSQL() +
		` ORDER BY ` + col + ` ` + dir + `, p.id ` + dir + ` LIMIT ` + b.arg(q.Limit+1)
	return query, b.args, with, filtered
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

func (b *sqlBuilder) clone() sqlBuilder {
	return sqlBuilder{where: append([]string(nil), b.where...), args: append([]any(nil), b.args...)}
}

func (b *sqlBuilder) whereSQL() string {
	if len(b.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.where, " AND ")
}

func (b *sqlBuilder) filter(f catalog.ProductFilter, terms []string) {
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
	if len(terms) > 0 {
		b.where = append(b.where, "p.search @@ plainto_tsquery('english', "+b.arg(strings.Join(terms, " "))+")")
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
