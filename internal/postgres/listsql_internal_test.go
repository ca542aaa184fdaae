package postgres

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestListSQLLimitIsALiteral holds every list statement listSQL builds (sorts, filters,
// cursors, common and rare search terms) to a LIMIT written as a number: with LIMIT $n
// PostgreSQL priced the generic plan for a tenth of the table and planned every page afresh
// (TestListPagesPlannedOnce measures that on a catalog; this covers the shapes it does not).
func TestListSQLLimitIsALiteral(t *testing.T) {
	limitParam := regexp.MustCompile(`(?i)LIMIT\s+\$`)
	sorts := []catalog.Sort{catalog.SortNewest, catalog.SortOldest, catalog.SortName, catalog.SortNameDesc, catalog.SortPrice, catalog.SortPriceDesc}
	r := rand.New(rand.NewPCG(16, 16))
	min, max := int64(100), int64(90000)
	inStock := true
	for i := range 200 {
		q := catalog.ListQuery{Sort: sorts[r.IntN(len(sorts))], Limit: 1 + r.IntN(catalog.MaxLimit), Summary: r.IntN(2) == 0}
		if q.Sort == catalog.SortPrice || q.Sort == catalog.SortPriceDesc || r.IntN(3) == 0 {
			q.Filter.Currency = "USD"
			if r.IntN(2) == 0 {
				q.Filter.MinPrice, q.Filter.MaxPrice = &min, &max
			}
		}
		if r.IntN(3) == 0 {
			q.Filter.Category = "shoes"
		}
		if r.IntN(3) == 0 {
			q.Filter.InStock = &inStock
		}
		if r.IntN(2) == 0 {
			q.Filter.Statuses = []catalog.Status{catalog.StatusActive}
		}
		if r.IntN(2) == 0 {
			q.After = &catalog.Cursor{Sort: q.Sort, ID: "01a23794-75b1-7078-8a6a-0ae02aaa7d17", NameKey: "m", Price: 5000}
		}
		var terms []string
		if r.IntN(2) == 0 {
			terms = []string{"blue", "shoe"}
		}
		rare := len(terms) > 0 && r.IntN(2) == 0
		hashed := q.Filter.Category != "" && r.IntN(2) == 0
		query, _, _, _ := listSQL(q, terms, rare, "", hashed)
		if limitParam.MatchString(query) {
			t.Fatalf("shape %d (%+v, terms %v, rare %v, hashed %v) passes its limit as a parameter:\n%s", i, q, terms, rare, hashed, query)
		}
	}
}
