package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// TestCollectionPagesPlannedOnce holds a collection's position pages to PostgreSQL's kept
// generic plan, as TestListPagesPlannedOnce holds list pages: with LIMIT $n the generic plan
// was priced for a tenth of the membership, dearer than the custom plans, and every page was
// planned afresh.
func TestCollectionPagesPlannedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 products")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := syntheticStore(ctx, t, 10000)
	if _, err := s.CreateCollection(ctx, catalog.CollectionInput{Slug: "picks", Name: "Picks"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `SELECT id::text FROM products ORDER BY id LIMIT $1`, catalog.MaxCollectionProducts)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for len(ids) > 0 {
		n := min(len(ids), catalog.MaxMembershipWrite)
		if _, err := s.AddToCollection(ctx, "picks", ids[:n], nil); err != nil {
			t.Fatal(err)
		}
		ids = ids[n:]
	}
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	red := catalog.AttributeFilter{Key: "colour", Type: catalog.AttrEnum, Values: []string{"red"}}
	for _, tc := range []struct {
		name   string
		filter catalog.ProductFilter
	}{
		{"active", catalog.ProductFilter{Collection: "picks", Statuses: []catalog.Status{catalog.StatusActive}}},
		{"active, colour=red", catalog.ProductFilter{Collection: "picks", Statuses: []catalog.Status{catalog.StatusActive}, Attributes: []catalog.AttributeFilter{red}}},
	} {
		before, _, err := s.PlansOf(ctx, "CROSS JOIN LATERAL")
		if err != nil {
			t.Fatal(err)
		}
		q := catalog.ListQuery{Sort: catalog.SortPosition, Limit: 20, Summary: true, Filter: tc.filter}
		const pages = 12
		followPages(ctx, t, s, q, pages)
		after, generic, err := s.PlansOf(ctx, "CROSS JOIN LATERAL")
		if err != nil {
			t.Fatal(err)
		}
		// PostgreSQL plans the first five executions before it weighs the generic plan.
		if custom := after - before; custom > 6 {
			t.Errorf("%s: %d position pages, %d planned afresh; want at most 6", tc.name, pages, custom)
		}
		t.Logf("%s: %d pages: %d custom plans (%d generic for every shape so far)", tc.name, pages, after-before, generic)
	}
}
