package sqlite

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// TestPriorPriceReadsEnoughHistory checks the four lines priorPrice reads against
// catalog.PriorPrice over the whole history, for random histories (repeated timestamps
// included) and random moments.
func TestPriorPriceReadsEnoughHistory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	for round := range 200 {
		variant := catalog.NewID()
		var full []catalog.PriceEntry
		err := s.write(ctx, func(tx *sql.Tx) error {
			for range 1 + rng.IntN(30) {
				at := base.Add(time.Duration(rng.IntN(90)) * day / 2)
				if rng.IntN(4) == 0 && len(full) > 0 {
					at = *full[rng.IntN(len(full))].AppliedAt // same moment as another line
				}
				amount := int64(100 * (1 + rng.IntN(10)))
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO price_history (variant_id, product_id, currency, amount, valid_from, applied_at, actor, created_at)
					VALUES (?, ?, 'EUR', ?, ?, ?, 'test', ?) RETURNING id`, variant, variant, amount, at.UnixMicro(), at.UnixMicro(), at.UnixMicro()).Scan(&id); err != nil {
					return err
				}
				full = append(full, catalog.PriceEntry{ID: id, Price: catalog.Money{Currency: "EUR", Amount: amount}, AppliedAt: &at})
			}
			for range 10 {
				at := base.Add(time.Duration(rng.IntN(120)) * day / 2)
				amount := int64(100 * (1 + rng.IntN(10)))
				got, err := priorPrice(ctx, tx, variant, "EUR", at, amount)
				if err != nil {
					return err
				}
				want := catalog.PriorPrice(full, at, amount)
				if (got == nil) != (want == nil) || got != nil && *got != *want {
					t.Errorf("round %d: prior price of %d at %s = %v, want %v (history %d lines)", round, amount, at, deref(got), deref(want), len(full))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
