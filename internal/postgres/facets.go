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
// ADR 0023). A selection of more than the store's facet budget is counted on a sample of it
// (facetsSQL), its counts scaled and marked inexact.
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
		query, args := facetsSQL(q.Filter, r, priceCur, subtree, s.facetBudget)
		rows, err := c.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = collectFacets(rows, r, priceCur)
		return err
	})
	return out, err
}

// DefaultFacetBudget is how many products a facet count reads at most when Options leave it
// unset: at 1M products a category page's four facets over 500 products measured 2.6x a read
// by ID at p99, over 1,000 5.4x (target 5x; docs/performance.md, "Facets").
const DefaultFacetBudget = 500

// maxMergedSlugs bounds the per-category branches the sample's ordered read merges; a larger
// category tree is read with the category list as one condition (and sorted).
const maxMergedSlugs = 16

// facetsSQL builds the statement counting every facet of r over the products f selects. Its
// rows are (facet index, value, count); a facet with no rows has no values. With a budget > 0
// a last row (-1, cut, n) says whether the counts are of a sample (see sampleSQL).
func facetsSQL(f catalog.ProductFilter, r catalog.FacetRequest, priceCur string, subtree []string, budget int) (string, []any) {
	var b sqlBuilder
	base := f
	for _, spec := range r.Facets {
		base = spec.FilterFor(base)
	}
	// own[i] is facet i's own filter as a condition ("" without one): facet j counts a row
	// only where every other facet's own filter holds. A facet alone has no other: its own
	// filter's arguments would be sent unused, and PostgreSQL refuses a parameter it cannot type.
	own := make([]string, len(r.Facets))
	for i, spec := range r.Facets {
		if len(r.Facets) > 1 {
			own[i] = strings.Join(b.facetConds(spec.Own(f), subtree), " AND ")
		}
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
	lateral := ` CROSS JOIN LATERAL (` + strings.Join(branches, " UNION ALL ") + `) f (i, g, v)`
	if budget <= 0 {
		b.where = b.facetConds(base, subtree)
		return `SELECT f.i, coalesce(min(f.v), f.g), count(*) FROM products p` + join + lateral +
			b.whereSQL() + ` GROUP BY f.i, f.g`, b.args
	}
	return sampleSQL(&b, base, subtree, join, lateral, budget), b.args
}

// sampleSQL counts the facets over at most budget products of the selection base: the ones
// whose ID hashes lowest (uuid_hash, the expression migration 0016 indexes with and without the
// category). It reads the selection in hash order and stops after budget+1 products, so:
//   - a selection of at most budget products is read whole and counted exactly, as without
//     a budget (cut is NULL);
//   - a larger one is counted on the budget products whose hash is below the next one's, cut:
//     a uniform random sample without replacement (the hash knows nothing of the values), the
//     same one on every request until the catalog changes (no flicker between pages). The
//     share of the hash space below cut estimates the share of the selection sampled (the
//     k-minimum-values estimate), and collectFacets divides the counts by it.
//
// Read in hash order, a single category is a range of products_category_idhash and the whole
// catalog one of products_idhash; a category tree merges each slug's range (up to
// maxMergedSlugs), so the read is about budget rows whatever the selection's size.
func sampleSQL(b *sqlBuilder, base catalog.ProductFilter, subtree []string, join, lateral string, budget int) string {
	withoutCat := base
	withoutCat.Category = ""
	conds := b.facetConds(withoutCat, nil)
	limit := strconv.Itoa(budget + 1)
	// The product's columns the facets and their own filters read (facetConds: brand,
	// category, attributes; stock and variants by ID) and its price are carried along from the
	// selection, not read again: a second join may be planned as a hash of every price in the
	// currency, and each product's index probe and heap block would be paid twice.
	price, again := "", ""
	if join != "" {
		price, again = ", pp.min_amount", " CROSS JOIN LATERAL (SELECT p.min_amount) pp (min_amount)"
	}
	pick := func(extra string) string {
		where := conds
		if extra != "" {
			where = append([]string{extra}, conds...)
		}
		q := `SELECT p.id, p.brand, p.category, p.attributes, uuid_hash(p.id) AS h` + price + ` FROM products p` + join
		if len(where) > 0 {
			q += ` WHERE ` + strings.Join(where, " AND ")
		}
		return q + ` ORDER BY uuid_hash(p.id) LIMIT ` + limit
	}
	var picked string
	switch {
	case base.Category == "":
		picked = pick("")
	case len(subtree) == 0:
		// The category went between the check and the read: nothing is in it.
		picked = pick("false")
	case len(subtree) == 1:
		// Equality, not = ANY: the planner then knows the index's order is the hash's.
		picked = pick("p.category = " + b.arg(subtree[0]))
	case len(subtree) <= maxMergedSlugs:
		parts := make([]string, len(subtree))
		for i, slug := range subtree {
			parts[i] = "(" + pick("p.category = "+b.arg(slug)) + ")"
		}
		picked = `SELECT * FROM (` + strings.Join(parts, " UNION ALL ") + `) m ORDER BY h LIMIT ` + limit
	default:
		picked = pick("p.category = ANY (" + b.arg(subtree) + "::text[])")
	}
	n := strconv.Itoa(budget)
	return `WITH k AS MATERIALIZED (` + picked + `),
		t AS (SELECT CASE WHEN count(*) > ` + n + ` THEN max(h) END AS cut, count(*) AS n FROM k)
		SELECT f.i, coalesce(min(f.v), f.g), count(*) FROM k p` + again + lateral + `
		WHERE (SELECT cut FROM t) IS NULL OR p.h < (SELECT cut FROM t)
		GROUP BY f.i, f.g
		UNION ALL SELECT -1, coalesce(cut::text, ''), n FROM t`
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

// collectFacets reads facetsSQL's rows into one Facet per requested facet, scaling the counts
// of a sample (sampleSQL's last row) to the selection.
func collectFacets(rows pgx.Rows, r catalog.FacetRequest, priceCur string) ([]catalog.Facet, error) {
	var bounds []int64
	if priceCur != "" {
		bounds = catalog.PriceBoundaries(priceCur)
	}
	buckets := make([]int64, len(bounds)+1)
	out := r.EmptyFacets()
	cut := ""
	var i int32
	var v string
	var n int64
	_, err := pgx.ForEachRow(rows, []any{&i, &v, &n}, func() error {
		if i < 0 {
			cut = v
			return nil
		}
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
	share := 1.0
	if cut != "" {
		h, err := strconv.ParseInt(cut, 10, 32)
		if err != nil {
			return nil, &catalog.Error{Code: catalog.CodeInternal, Message: "facet sample cut " + cut + " is not a hash"}
		}
		share = hashShare(int32(h))
	}
	for k, spec := range r.Facets {
		if spec.Name == catalog.FacetPrice {
			for b, n := range buckets {
				if n > 0 {
					out[k].Values = append(out[k].Values, catalog.PriceBucket(bounds, b, n))
				}
			}
		}
		if cut != "" {
			out[k].Scale(share)
		}
		if spec.Name != catalog.FacetPrice {
			exact := out[k].Exact
			out[k].Values, out[k].Exact = catalog.SortFacetValues(out[k].Values)
			out[k].Exact = out[k].Exact && exact
		}
	}
	return out, nil
}

// hashShare is the share of uuid_hash's range (all of int4) below h: the share of a selection
// a sample cut at h holds, estimated.
func hashShare(h int32) float64 {
	return (float64(h) + (1 << 31)) / (1 << 32)
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
	err := db.QueryRow(ctx, "WITH "+categorySubtree("$1")+`
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
		query, args := facetsSQL(q.Filter, r, priceCur, subtree, s.facetBudget)
		rows, err := c.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}
