package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// Facets counts q's products per value of each requested facet in SQL, one grouped statement
// per facet in one read-only repeatable-read transaction (one snapshot), each with every
// filter but its own.
func (s *Store) Facets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]catalog.Facet, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := s.categoryExists(ctx, q.Filter.Category); err != nil {
		return nil, err
	}
	if _, ok := q.EmptySearch(); ok {
		return r.EmptyFacets(), nil
	}
	var out []catalog.Facet
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		out = make([]catalog.Facet, 0, len(r.Facets))
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			subtree, err := subtreeSlugs(ctx, tx, q.Filter.Category)
			if err != nil {
				return err
			}
			for _, spec := range r.Facets {
				f, err := facet(ctx, tx, spec, spec.FilterFor(q.Filter), subtree)
				if err != nil {
					return err
				}
				out = append(out, f)
			}
			return nil
		})
	})
	return out, err
}

// facetSQL builds the statement counting one facet over the products f selects; sel is the
// select list and grouping, given the builder (for its arguments) and the product alias p.
func facetSQL(f catalog.ProductFilter, subtree []string, sel func(b *sqlBuilder) (cols, from, where, group string)) (string, []any) {
	var b sqlBuilder
	if f.Category != "" {
		// The subtree's slugs as a literal array (see subtreeSlugs): the planner estimates
		// category = ANY from statistics and walks products_category for a small category,
		// where behind a recursive CTE it guesses and scans the whole catalog.
		b.where = append(b.where, "p.category = ANY ("+b.arg(subtree)+"::text[])")
	}
	cols, extraFrom, extraWhere, group := sel(&b)
	priceJoin := ""
	if f.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(f.Currency)
	}
	b.filter(f)
	if terms := catalog.SearchTerms(f.Query); len(terms) > 0 {
		tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
		b.where = append(b.where, "(p.search @@ "+tsq+" OR "+skuMatch(tsq)+")")
	}
	if f.Collection != "" {
		b.where = append(b.where, "p.id IN (SELECT product_id FROM collection_products WHERE collection = "+b.arg(f.Collection)+")")
	}
	if extraWhere != "" {
		b.where = append(b.where, extraWhere)
	}
	return `SELECT ` + cols + ` FROM products p` + priceJoin + extraFrom + b.whereSQL() + ` GROUP BY ` + group, b.args
}

func facet(ctx context.Context, tx pgx.Tx, spec catalog.FacetSpec, f catalog.ProductFilter, subtree []string) (catalog.Facet, error) {
	out := catalog.Facet{Name: spec.Name, Values: []catalog.FacetValue{}, Exact: true}
	if spec.Name == catalog.FacetPrice {
		bounds := catalog.PriceBoundaries(f.Currency)
		query, args := facetSQL(f, subtree, func(*sqlBuilder) (string, string, string, string) {
			return bucketCase(bounds) + " AS bucket, count(*)", "", "", "bucket"
		})
		return priceFacet(ctx, tx, out, query, args, bounds)
	}
	sel := facetSelect(spec)
	query, args := facetSQL(f, subtree, sel)
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return out, err
	}
	out.Values, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.FacetValue, error) {
		var v catalog.FacetValue
		err := r.Scan(&v.Value, &v.Count)
		return v, err
	})
	if err != nil {
		return out, err
	}
	if spec.Type == catalog.AttrNumber {
		// One spelling on every store: 10 and 10.0 are the value "10".
		for i, v := range out.Values {
			if n, err := strconv.ParseFloat(v.Value, 64); err == nil {
				out.Values[i].Value = catalog.FormatAttrNumber(n)
			}
		}
	}
	out.Values, out.Exact = catalog.SortFacetValues(out.Values)
	return out, nil
}

// subtreeSlugs returns the slugs of the category and its descendants (none without one).
func subtreeSlugs(ctx context.Context, db querier, slug string) ([]string, error) {
	if slug == "" {
		return nil, nil
	}
	var out []string
	err := db.QueryRow(ctx, `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = $1
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug)
		SELECT coalesce(array_agg(slug), '{}') FROM subtree`, slug).Scan(&out)
	return out, err
}

// facetSelect is the select list, extra FROM, condition and grouping of a facet other than price.
func facetSelect(spec catalog.FacetSpec) func(b *sqlBuilder) (cols, from, where, group string) {
	switch spec.Name {
	case catalog.FacetBrand:
		// Brands compare without case (as the brand filter does): one value per brand.
		return func(*sqlBuilder) (string, string, string, string) {
			return "min(p.brand), count(*)", "", "p.brand <> ''", "lower(p.brand)"
		}
	case catalog.FacetCategory:
		// A product counts in its own category only; parents do not sum their children.
		return func(*sqlBuilder) (string, string, string, string) {
			return "p.category, count(*)", "", "p.category IS NOT NULL AND p.category <> ''", "p.category"
		}
	case catalog.FacetInStock:
		return func(*sqlBuilder) (string, string, string, string) {
			return `CASE WHEN EXISTS (SELECT 1 FROM inventory si WHERE si.product_id = p.id AND si.on_hand > si.reserved)
				THEN 'true' ELSE 'false' END AS s, count(*)`, "", "", "s"
		}
	}
	// A product counts once per value it or any of its variants has: the lateral union
	// removes a product's repeats before the count.
	return func(b *sqlBuilder) (string, string, string, string) {
		k := b.arg(spec.Key) + "::text"
		return "x.v #>> '{}', count(*)", ` CROSS JOIN LATERAL (
				SELECT p.attributes -> ` + k + ` AS v
				UNION SELECT fv.attributes -> ` + k + ` FROM variants fv WHERE fv.product_id = p.id) x`,
			"x.v IS NOT NULL AND jsonb_typeof(x.v) <> 'null'", "x.v"
	}
}

// priceFacet counts products per bucket of their lowest price in the currency.
func priceFacet(ctx context.Context, tx pgx.Tx, out catalog.Facet, query string, args []any, bounds []int64) (catalog.Facet, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return out, err
	}
	counts := make([]int64, len(bounds)+1)
	var b int32
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&b, &n}, func() error {
		counts[b] = n
		return nil
	})
	if err != nil {
		return out, err
	}
	for i, n := range counts {
		if n > 0 {
			out.Values = append(out.Values, catalog.PriceBucket(bounds, i, n))
		}
	}
	return out, nil
}

// bucketCase maps pp.min_amount to its bucket number; the boundaries are integers this code
// made, so they are written into the statement.
func bucketCase(bounds []int64) string {
	var b strings.Builder
	b.WriteString("CASE")
	for i, x := range bounds {
		b.WriteString(" WHEN pp.min_amount < " + strconv.FormatInt(x, 10) + " THEN " + strconv.Itoa(i))
	}
	b.WriteString(" ELSE " + strconv.Itoa(len(bounds)) + " END")
	return b.String()
}

// ExplainFacets returns EXPLAIN (ANALYZE, BUFFERS) of each facet statement of r, as Facets runs
// them: the plans behind the figures in docs/performance.md.
func (s *Store) ExplainFacets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]string, error) {
	var out []string
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		subtree, err := subtreeSlugs(ctx, c, q.Filter.Category)
		if err != nil {
			return err
		}
		for _, spec := range r.Facets {
			f := spec.FilterFor(q.Filter)
			var query string
			var args []any
			switch spec.Name {
			case catalog.FacetPrice:
				bounds := catalog.PriceBoundaries(f.Currency)
				query, args = facetSQL(f, subtree, func(*sqlBuilder) (string, string, string, string) {
					return bucketCase(bounds) + " AS bucket, count(*)", "", "", "bucket"
				})
			default:
				query, args = facetSQL(f, subtree, facetSelect(spec))
			}
			rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+query, args...)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			out = append(out, spec.Name+":\n"+strings.Join(lines, "\n"))
		}
		return nil
	})
	return out, err
}
