package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// Facets counts q's products per value of every requested facet in one statement: one pass
// over the products the filter selects without any facet's own filter, each product giving a
// row per facet value it has, counted where every other facet's own filter holds (multi-select,
// ADR 0023). The selection, its prices and its products' heap blocks are read once, not once
// per facet; in_stock and attr.<key> still probe each selected product's inventory or variants.
func (s *Store) Facets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]catalog.Facet, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	priceCur, err := r.PriceCurrency(q.Filter)
	if err != nil {
		return nil, err
	}
	if err := s.categoryExists(ctx, q.Filter.Category); err != nil {
		return nil, err
	}
	if _, ok := q.EmptySearch(); ok || len(r.Facets) == 0 {
		return r.EmptyFacets(), nil
	}
	var out []catalog.Facet
	err = s.read(ctx, func(c *pgxpool.Conn) error {
		subtree, err := subtreeSlugs(ctx, c, q.Filter.Category)
		if err != nil {
			return err
		}
		query, args := facetsSQL(q.Filter, r, priceCur, subtree)
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = collectFacets(rows, r, priceCur)
		return err
	})
	return out, err
}

// facetsSQL builds the statement counting every facet of r over the products f selects. Its
// rows are (facet index, value, count); a facet with no rows has no values.
func facetsSQL(f catalog.ProductFilter, r catalog.FacetRequest, priceCur string, subtree []string) (string, []any) {
	var b sqlBuilder
	base := f
	for _, spec := range r.Facets {
		base = spec.FilterFor(base)
	}
	// own[i] is facet i's own filter as a condition ("" without one): facet j counts a row
	// only where every other facet's own filter holds.
	own := make([]string, len(r.Facets))
	for i, spec := range r.Facets {
		own[i] = strings.Join(b.facetConds(spec.Own(f), subtree), " AND ")
	}
	join := ""
	switch {
	case f.Currency != "":
		// The list's currency selects: only products priced in it are counted, in every facet.
		join = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(f.Currency)
	case priceCur != "":
		// Only the price facet needs a price: it counts the products that have one.
		join = ` LEFT JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(priceCur)
	}
	branches := make([]string, len(r.Facets))
	for i, spec := range r.Facets {
		var where []string
		for j, c := range own {
			if j != i && c != "" {
				where = append(where, "("+c+")")
			}
		}
		idx := strconv.Itoa(i)
		// Each branch gives (facet, group, spelling): brands group without case and show one
		// of their spellings; other values are their own spelling.
		var sel string
		switch spec.Name {
		case catalog.FacetBrand:
			sel, where = `SELECT `+idx+`, lower(p.brand), p.brand`, append(where, "p.brand <> ''")
		case catalog.FacetCategory:
			// A product counts in its own category only; parents do not sum their children.
			sel, where = `SELECT `+idx+`, p.category, NULL`, append(where, "p.category IS NOT NULL AND p.category <> ''")
		case catalog.FacetInStock:
			sel = `SELECT ` + idx + `, CASE WHEN EXISTS (SELECT 1 FROM inventory si WHERE si.product_id = p.id AND si.on_hand > si.reserved)
				THEN 'true' ELSE 'false' END, NULL`
		case catalog.FacetPrice:
			sel, where = `SELECT `+idx+`, `+bucketCase(catalog.PriceBoundaries(priceCur))+`::text, NULL`, append(where, "pp.min_amount IS NOT NULL")
		default:
			// A product counts once per value it or any of its variants has: the union removes
			// a product's repeats (jsonb equality: 10 and 10.0 are one value).
			k := b.arg(spec.Key) + "::text"
			sel = `SELECT ` + idx + `, x.v::text, x.v #>> '{}' FROM (SELECT p.attributes -> ` + k + ` AS v
				UNION SELECT fv.attributes -> ` + k + ` FROM variants fv WHERE fv.product_id = p.id) x`
			where = append(where, "x.v IS NOT NULL AND jsonb_typeof(x.v) <> 'null'")
		}
		if len(where) > 0 {
			sel += ` WHERE ` + strings.Join(where, " AND ")
		}
		branches[i] = sel
	}
	b.where = b.facetConds(base, subtree)
	return `SELECT f.i, coalesce(min(f.v), f.g), count(*) FROM products p` + join +
		` CROSS JOIN LATERAL (` + strings.Join(branches, " UNION ALL ") + `) f (i, g, v)` +
		b.whereSQL() + ` GROUP BY f.i, f.g`, b.args
}

// facetConds returns f's conditions on the product p (and its price pp), adding their
// arguments to b: the list's own conditions (list.go), so the same products match.
func (b *sqlBuilder) facetConds(f catalog.ProductFilter, subtree []string) []string {
	saved := b.where
	b.where = nil
	defer func() { b.where = saved }()
	if f.Category != "" {
		// The subtree's slugs as a literal array (see subtreeSlugs): the planner estimates
		// category = ANY from statistics and walks products_category for a small category,
		// where behind a recursive CTE it guesses and scans the whole catalog.
		b.where = append(b.where, "p.category = ANY ("+b.arg(subtree)+"::text[])")
	}
	b.filter(f)
	if terms := catalog.SearchTerms(f.Query); len(terms) > 0 {
		tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
		b.where = append(b.where, "(p.search @@ "+tsq+" OR "+skuMatch(tsq)+")")
	}
	if f.Collection != "" {
		b.where = append(b.where, "p.id IN (SELECT product_id FROM collection_products WHERE collection = "+b.arg(f.Collection)+")")
	}
	return b.where
}

// collectFacets reads facetsSQL's rows into one Facet per requested facet.
func collectFacets(rows pgx.Rows, r catalog.FacetRequest, priceCur string) ([]catalog.Facet, error) {
	var bounds []int64
	if priceCur != "" {
		bounds = catalog.PriceBoundaries(priceCur)
	}
	buckets := make([]int64, len(bounds)+1)
	out := r.EmptyFacets()
	var i int32
	var v string
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&i, &v, &n}, func() error {
		spec := r.Facets[i]
		switch {
		case spec.Name == catalog.FacetPrice:
			b, err := strconv.Atoi(v)
			if err != nil || b < 0 || b >= len(buckets) {
				return &catalog.Error{Code: catalog.CodeInternal, Message: "price bucket " + v + " out of range"}
			}
			buckets[b] = n
		case spec.Type == catalog.AttrNumber:
			// One spelling on every store: 10 and 10.0 are the value "10". Each product holds
			// a number once, but two products may spell it differently: their counts add up.
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				v = catalog.FormatAttrNumber(x)
			}
			out[i].Values = addFacetValue(out[i].Values, v, n)
		default:
			out[i].Values = append(out[i].Values, catalog.FacetValue{Value: v, Count: n})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, spec := range r.Facets {
		if spec.Name == catalog.FacetPrice {
			for b, n := range buckets {
				if n > 0 {
					out[k].Values = append(out[k].Values, catalog.PriceBucket(bounds, b, n))
				}
			}
			continue
		}
		out[k].Values, out[k].Exact = catalog.SortFacetValues(out[k].Values)
	}
	return out, nil
}

// addFacetValue adds n to value v's count, or appends it.
func addFacetValue(vs []catalog.FacetValue, v string, n int64) []catalog.FacetValue {
	for k := range vs {
		if vs[k].Value == v {
			vs[k].Count += n
			return vs
		}
	}
	return append(vs, catalog.FacetValue{Value: v, Count: n})
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

// ExplainFacets returns EXPLAIN (ANALYZE, BUFFERS) of the statement Facets runs for q and r:
// the plan behind the figures in docs/performance.md.
func (s *Store) ExplainFacets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]string, error) {
	priceCur, err := r.PriceCurrency(q.Filter)
	if err != nil {
		return nil, err
	}
	var out []string
	err = s.read(ctx, func(c *pgxpool.Conn) error {
		subtree, err := subtreeSlugs(ctx, c, q.Filter.Category)
		if err != nil {
			return err
		}
		query, args := facetsSQL(q.Filter, r, priceCur, subtree)
		rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}
