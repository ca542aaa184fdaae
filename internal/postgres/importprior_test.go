package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

func priorStore(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// historyLine is a price_history line as the prior-price rule reads it.
type historyLine struct {
	vid, currency string
	amount        int64
	applied       *time.Time // nil: scheduled, never applied
}

func insertHistory(t *testing.T, s *postgres.Store, lines []historyLine) {
	t.Helper()
	rows := make([][]any, len(lines))
	for i, l := range lines {
		rows[i] = []any{l.vid, l.vid, "set", l.currency, l.amount, time.Unix(0, 0).UTC(), l.applied, "test", time.Unix(0, 0).UTC()}
	}
	if _, err := s.Pool().CopyFrom(context.Background(), pgx.Identifier{"price_history"},
		[]string{"variant_id", "product_id", "kind", "currency", "amount", "valid_from", "applied_at", "actor", "created_at"},
		pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
}

// TestPriorPriceSQLIsTheRule (property): on random histories the import's prior price in SQL
// is catalog.PriorPrice's, to the microsecond: lines applied exactly at the window's start,
// just inside and outside it, exactly at the moment of the change and after it, lines
// applied at the same moment (the later ID counts), scheduled lines never applied, and no
// history at all.
func TestPriorPriceSQLIsTheRule(t *testing.T) {
	ctx := context.Background()
	s := priorStore(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 6))
	at := time.Now().UTC().Truncate(time.Microsecond)
	from := at.Add(-catalog.PriorPriceWindow)
	moments := []time.Time{from, from.Add(-time.Microsecond), from.Add(time.Microsecond), at, at.Add(-time.Microsecond),
		at.Add(time.Hour), from.Add(-24 * time.Hour), from.Add(24 * time.Hour)}
	const pairs = 400
	var lines []historyLine
	vids, curs, amounts := make([]string, pairs), make([]string, pairs), make([]int64, pairs)
	for i := range pairs {
		vids[i], curs[i] = catalog.NewID(), []string{"USD", "EUR"}[rng.IntN(2)]
		amounts[i] = int64(rng.IntN(12)) * 10
		var pick []time.Time
		for range rng.IntN(7) {
			var m time.Time
			switch r := rng.IntN(10); {
			case r < 5:
				m = moments[rng.IntN(len(moments))]
			case r < 6 && len(pick) > 0:
				m = pick[rng.IntN(len(pick))] // a tie
			default:
				m = at.Add(-time.Duration(rng.Int64N(int64(2 * catalog.PriorPriceWindow)))).Truncate(time.Microsecond)
			}
			pick = append(pick, m)
		}
		for _, m := range pick {
			l := historyLine{vid: vids[i], currency: curs[i], amount: int64(rng.IntN(12)) * 10}
			if rng.IntN(8) > 0 {
				l.applied = &m
			}
			lines = append(lines, l)
		}
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] }) // IDs in no time order
	insertHistory(t, s, lines)
	got, err := s.ImportPriors(ctx, vids, curs, amounts, at)
	if err != nil {
		t.Fatal(err)
	}
	show := func(p *int64) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprint(*p)
	}
	for i := range pairs {
		rows, err := s.Pool().Query(ctx, `SELECT id, amount, applied_at FROM price_history WHERE variant_id = $1 AND currency = $2`, vids[i], curs[i])
		if err != nil {
			t.Fatal(err)
		}
		entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.PriceEntry, error) {
			var e catalog.PriceEntry
			err := r.Scan(&e.ID, &e.Price.Amount, &e.AppliedAt)
			return e, err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := catalog.PriorPrice(entries, at, amounts[i]); show(got[i]) != show(want) {
			for _, e := range entries {
				t.Logf("  line %d: %d applied %v", e.ID, e.Price.Amount, e.AppliedAt)
			}
			t.Errorf("prior price of %d at %s: SQL %s, catalog.PriorPrice %s", amounts[i], at.Format(time.RFC3339Nano), show(got[i]), show(want))
		}
	}
}

// TestImportPriorReadBoundedToTheWindow: the buffers the prior-price read touches for a
// price do not grow with its history before the 30-day window (EXPLAIN (ANALYZE, BUFFERS)):
// one variant with 10 lines before the window and one with 3,000, each with the same 5 lines
// inside it, the old lines spread over the table as daily imports leave them.
func TestImportPriorReadBoundedToTheWindow(t *testing.T) {
	ctx := context.Background()
	s := priorStore(t)
	at := time.Now().UTC().Truncate(time.Microsecond)
	short, long := catalog.NewID(), catalog.NewID()
	var lines []historyLine
	for d := 3000; d >= 1; d-- {
		day := at.Add(-time.Duration(d) * 24 * time.Hour / 50) // 50 lines a day: 60 days
		for _, vid := range []string{long, short} {
			inWindow := day.After(at.Add(-catalog.PriorPriceWindow))
			if vid == short && !inWindow && d%100 != 0 {
				continue
			}
			if inWindow && d%300 != 0 {
				continue
			}
			lines = append(lines, historyLine{vid: vid, currency: "EUR", amount: int64(1000 + d%7), applied: &day})
		}
		for range 5 { // other variants' lines of the day
			lines = append(lines, historyLine{vid: catalog.NewID(), currency: "EUR", amount: 1, applied: &day})
		}
	}
	insertHistory(t, s, lines)
	if _, err := s.Pool().Exec(ctx, `VACUUM (ANALYZE) price_history`); err != nil {
		t.Fatal(err)
	}
	var counts [2]int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE variant_id = $1), count(*) FILTER (WHERE variant_id = $2) FROM price_history`,
		short, long).Scan(&counts[0], &counts[1]); err != nil {
		t.Fatal(err)
	}
	buffers := func(vid string) int64 {
		// The second run: the first may set hint bits and read the catalog.
		var n int64
		for range 2 {
			var err error
			if n, err = s.ExplainImportPriors(ctx, []string{vid}, []string{"EUR"}, []int64{1}, at); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	bs, bl := buffers(short), buffers(long)
	t.Logf("buffers: %d lines of history %d, %d lines %d", counts[0], bs, counts[1], bl)
	if bl > bs+3 { // an index one level deeper is the most a longer history may cost
		t.Errorf("prior-price read of a price with %d history lines touched %d buffers, with %d lines %d: it grows with the history before the window",
			counts[1], bl, counts[0], bs)
	}
}
