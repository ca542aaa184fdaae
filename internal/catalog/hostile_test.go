package catalog_test

import (
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/hostile"
)

// TestForgedCursorIsAccepted keeps hostile.ForgedCursor honest: with a benign key it passes
// every check, so the hostile ones test the key and not a fingerprint mismatch.
func TestForgedCursorIsAccepted(t *testing.T) {
	for _, sort := range []string{"name", "newest"} {
		key := "mug"
		if sort == "newest" {
			key = "1700000000000000"
		}
		c, err := catalog.ParseCursor(hostile.ForgedCursor(sort, key))
		if err != nil {
			t.Fatalf("ParseCursor(forged %s) = %v", sort, err)
		}
		q := catalog.ListQuery{Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}, Sort: catalog.Sort(sort), Limit: 20, After: c}
		if err := q.Validate(); err != nil {
			t.Fatalf("Validate(forged %s cursor) = %v, want nil: hostile.ForgedCursor's fingerprint no longer matches", sort, err)
		}
	}
}
