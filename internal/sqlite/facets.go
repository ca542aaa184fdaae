package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// Facets counts q's products per value of each requested facet in SQL, one grouped statement
// per facet in one read transaction (one snapshot), each with every filter but its own.
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
	if _, ok := q.EmptySearch(); ok {
		return r.EmptyFacets(), nil
	}
	out := make([]catalog.Facet, 0, len(r.Facets))
	err = s.read(ctx, func(tx *sql.Tx) error {
		for _, spec := range r.Facets {
			f, err := facet(ctx, tx, spec, spec.FilterFor(q.Filter), priceCur)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// facetBase is the selection a facet counts over: its WITH clause, FROM clause and
// conditions, and their arguments in statement order (the WITH clause's first).
func facetBase(f catalog.ProductFilter) (with, from string, where []string, withArgs, args []any) {
	from, where, args = filterSQL(f, catalog.SearchTerms(f.Query))
	if f.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ?
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug) `
		withArgs = []any{f.Category}
	}
	if f.Collection != "" {
		where = append(where, "p.id IN (SELECT product_id FROM collection_products WHERE collection = ?)")
		args = append(args, f.Collection)
	}
	return with, from, where, withArgs, args
}

func facet(ctx context.Context, tx *sql.Tx, spec catalog.FacetSpec, f catalog.ProductFilter, currency string) (catalog.Facet, error) {
	with, from, where, withArgs, args := facetBase(f)
	out := catalog.Facet{Name: spec.Name, Values: []catalog.FacetValue{}, Exact: true}
	var query string
	switch spec.Name {
	case catalog.FacetBrand:
		// Brands compare without case (as the brand filter does): one value per brand.
		query = with + `SELECT min(p.brand), count(*)` + from +
			whereSQL(append(where, "p.brand <> ''")) + ` GROUP BY p.brand COLLATE NOCASE`
	case catalog.FacetCategory:
		// A product counts in its own category only; parents do not sum their children.
		query = with + `SELECT p.category, count(*)` + from +
			whereSQL(append(where, "p.category IS NOT NULL AND p.category <> ''")) + ` GROUP BY p.category`
	case catalog.FacetInStock:
		query = with + `SELECT CASE WHEN EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = p.id AND i.on_hand > i.reserved)
			THEN 'true' ELSE 'false' END AS s, count(*)` + from + whereSQL(where) + ` GROUP BY s`
	case catalog.FacetPrice:
		if f.Currency != currency {
			// Buckets in the request's currency when the list names none (PriceCurrency).
			f.Currency = currency
			with, from, where, withArgs, args = facetBase(f)
		}
		return priceFacet(ctx, tx, out, with+`SELECT %s AS b, count(*)`+from+whereSQL(where)+` GROUP BY b`,
			catalog.PriceBoundaries(f.Currency), append(withArgs, args...))
	default:
		// A product counts once per value it or any of its variants has.
		// The selected products drive the join (attribute_values_product), so the cost
		// follows the selection, not the number of values the key has catalog-wide.
		query = with + `SELECT av.text_value, av.num_value, count(DISTINCT p.id)` + from +
			` CROSS JOIN attribute_values av ON av.product_id = p.id AND av.key = ?` + whereSQL(where) +
			` GROUP BY av.text_value, av.num_value`
		args = append(append([]any(nil), args[:fromArgs(f)]...), append([]any{spec.Key}, args[fromArgs(f):]...)...)
	}
	rows, err := tx.QueryContext(ctx, query, append(withArgs, args...)...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var v catalog.FacetValue
		if spec.Key != "" {
			var text sql.NullString
			var num sql.NullFloat64
			if err := rows.Scan(&text, &num, &v.Count); err != nil {
				return out, err
			}
			v.Value = text.String
			if num.Valid {
				v.Value = catalog.FormatAttrNumber(num.Float64)
			}
		} else if err := rows.Scan(&v.Value, &v.Count); err != nil {
			return out, err
		}
		out.Values = append(out.Values, v)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Values, out.Exact = catalog.SortFacetValues(out.Values)
	return out, nil
}

// fromArgs is the number of arguments filterSQL's FROM clause takes (the currency's).
func fromArgs(f catalog.ProductFilter) int {
	if f.Currency != "" {
		return 1
	}
	return 0
}

// priceFacet counts products per price bucket of their lowest price in the currency; query
// has a %s where the bucket expression goes (the boundaries are integers this code made, so
// they are written into the statement).
func priceFacet(ctx context.Context, tx *sql.Tx, out catalog.Facet, query string, bounds []int64, args []any) (catalog.Facet, error) {
	rows, err := tx.QueryContext(ctx, strings.Replace(query, "%s", bucketCase(bounds), 1), args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	counts := make([]int64, len(bounds)+1)
	for rows.Next() {
		var b int
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			return out, err
		}
		counts[b] = n
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	for i, n := range counts {
		if n > 0 {
			out.Values = append(out.Values, catalog.PriceBucket(bounds, i, n))
		}
	}
	return out, nil
}

// bucketCase maps pp.min_amount to its bucket number.
func bucketCase(bounds []int64) string {
	var b strings.Builder
	b.WriteString("CASE")
	for i, x := range bounds {
		b.WriteString(" WHEN pp.min_amount < " + strconv.FormatInt(x, 10) + " THEN " + strconv.Itoa(i))
	}
	b.WriteString(" ELSE " + strconv.Itoa(len(bounds)) + " END")
	return b.String()
}
