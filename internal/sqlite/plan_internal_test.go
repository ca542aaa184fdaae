package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// explain returns SQLite's query plan of a list page, one line per step.
func explain(t *testing.T, s *Store, q catalog.ListQuery) string {
	t.Helper()
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	l := listSQL(q, catalog.SearchTerms(q.Filter.Query))
	rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+l.page, l.pageArgs...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

// TestListPlansUseIndexes keeps the list orders and filters on indexes: a page in an order reads
// the rows it returns from the order's index, a filtered page starts from the filter's index;
// neither scans the catalog.
func TestListPlansUseIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	active := []catalog.Status{catalog.StatusActive}
	lo, hi := 10.0, 20.0
	for _, c := range []struct {
		name string
		q    catalog.ListQuery
		want []string // substrings the plan must contain
	}{
		{"newest", catalog.ListQuery{Sort: catalog.SortNewest, Limit: 20, Filter: catalog.ProductFilter{Statuses: active}},
			[]string{"products_status_created"}},
		{"name", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Statuses: active}},
			[]string{"products_status_name"}},
		{"price in one currency", catalog.ListQuery{Sort: catalog.SortPrice, Limit: 20, Filter: catalog.ProductFilter{Currency: "EUR"}},
			[]string{"product_prices_sort"}},
		{"-price in one currency, active", catalog.ListQuery{Sort: catalog.SortPriceDesc, Limit: 20, Filter: catalog.ProductFilter{Currency: "EUR", Statuses: active}},
			[]string{"product_prices_sort"}},
		{"attr text filter", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{
			Attributes: []catalog.AttributeFilter{{Key: "colour", Type: catalog.AttrEnum, Values: []string{"red", "blue"}}}}},
			[]string{"attribute_values_text"}},
		{"attr number range", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{
			Attributes: []catalog.AttributeFilter{{Key: "screen_inches", Type: catalog.AttrNumber, Min: &lo, Max: &hi}}}},
			[]string{"attribute_values_num"}},
		{"search", catalog.ListQuery{Sort: catalog.SortName, Limit: 20, Filter: catalog.ProductFilter{Query: "blue shi"}},
			[]string{"products_fts", "variants_fts"}},
	} {
		plan := explain(t, s, c.q)
		for _, w := range c.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: the plan does not use %s:\n%s", c.name, w, plan)
			}
		}
		// A filter's index drives the plan when the filter is selective (then its matches are
		// sorted); otherwise the order's index does, and the page reads only its rows.
		if strings.Contains(plan, "SCAN p\n") || strings.Contains(plan, "SCAN p ") {
			t.Errorf("%s: the page scans the catalog:\n%s", c.name, plan)
		}
		if !strings.Contains(c.name, "attr") && c.name != "search" && strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s: the page sorts the catalog instead of reading an index in order:\n%s", c.name, plan)
		}
		if testing.Verbose() {
			t.Logf("%s:\n%s", c.name, plan)
		}
	}
}

// TestPointPlansUseIndexes keeps the statements of single-product and variant writes on
// indexes, so their cost does not grow with the catalog or the product's variant count.
func TestPointPlansUseIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, now := catalog.NewID(), int64(1)
	for name, c := range map[string]struct {
		sql  string
		args []any
		want string
	}{
		"a variant by ID":            {variantsSQL("v.id = ?"), []any{id}, "v USING INDEX sqlite_autoindex_variants_1"},
		"a product's variants":       {variantsSQL("v.product_id = ?"), []any{id}, "variants_product"},
		"a price range kept":         {refreshPriceSQL, []any{id, "EUR", id, "EUR", id, "EUR"}, "variant_prices_product"},
		"the prior price's history":  {priorPriceSQL, []any{id, "EUR", now, id, "EUR", now, now, id, "EUR", now, now, id, "EUR", now, now, id, "EUR", now}, "price_history_variant"},
		"a reservation line's stock": {reserveLookupSQL, []any{"SKU-1"}, "variants_sku"},
	} {
		rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+c.sql, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		p := plan.String()
		if !strings.Contains(p, c.want) {
			t.Errorf("%s: the plan does not use %s:\n%s", name, c.want, p)
		}
		for _, line := range strings.Split(p, "\n") {
			// A scan of a subquery's few rows is fine; a scan of a table is not.
			if strings.HasPrefix(line, "SCAN ") && !strings.HasPrefix(line, "SCAN (") && line != "SCAN CONSTANT ROW" && !strings.Contains(line, "SUBQUERY") {
				t.Errorf("%s: the plan scans a table (%s):\n%s", name, line, p)
			}
		}
	}
}
