package postgres

import (
	"math"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestBalanceByWalkedOrder: the balance point is √(page × heap pages) for a walk in an order the
// heap follows, √(page × rows) for a products index it does not follow, and √(page × rows ×
// walkedRowPages) for a walk in another table's order, whatever the ID order's correlation.
func TestBalanceByWalkedOrder(t *testing.T) {
	c := columnStats{rows: 1_000_000, pages: 100_000, order: map[string]float64{"id": 1, "created_at": 0.01, "name_key": -1}}
	for _, tc := range []struct {
		sort catalog.Sort
		want float64
	}{
		{catalog.SortRelevance, math.Sqrt(21 * 100_000)},
		{catalog.SortNameDesc, math.Sqrt(21 * 100_000)}, // a reversed order is followed too
		{catalog.SortNewest, math.Sqrt(21 * 1_000_000 * (1 - 0.9*0.01*0.01))},
		{catalog.SortPrice, math.Sqrt(21 * 1_000_000 * walkedRowPages)},
		{catalog.SortPosition, math.Sqrt(21 * 1_000_000 * walkedRowPages)},
	} {
		if got := c.balance(20, walkColumn(tc.sort)); math.Abs(got-tc.want) > 0.5 {
			t.Errorf("balance(20, %q) for sort %s = %.0f, want %.0f", walkColumn(tc.sort), tc.sort, got, tc.want)
		}
	}
	if got := (columnStats{}).balance(20, "id"); got != rareMatches {
		t.Errorf("without statistics: %.0f, want %d", got, rareMatches)
	}
}
