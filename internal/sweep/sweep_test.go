package sweep_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
	"github.com/acme/catalog/internal/sweep"
)

// TestRunReleasesExpiredReservations: with nobody calling, an expired reservation's units come
// back, in batches larger than one sweep transaction.
func TestRunReleasesExpiredReservations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := storetest.NewFakeClock()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.CreateCategory(ctx, catalog.CategoryInput{Slug: "x", Name: "X"})
	in := catalog.ProductInput{SKU: "SW-1", Name: "Sweep", Category: "x", Status: catalog.StatusActive, Price: catalog.Money{Currency: "USD", Amount: 1}}
	in.Normalize()
	if err := s.Import(ctx, []catalog.NewProduct{{ProductInput: in, OnHand: 2000}}); err != nil {
		t.Fatal(err)
	}
	const n = sweep.Batch + 100
	for i := range n {
		if _, err := s.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "SW-1", Quantity: 1}}, TTLSeconds: 60}, fmt.Sprint(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	released := make(chan int, 10)
	go sweep.Run(ctx, s, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)), func(k int) { released <- k })
	total := 0
	deadline := time.After(20 * time.Second)
	for total < n {
		select {
		case k := <-released:
			total += k
		case <-deadline:
			t.Fatalf("released %d of %d", total, n)
		}
	}
	p, err := s.ProductBySKU(ctx, "SW-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Stock.Reserved != 0 || p.Stock.Available != 2000 {
		t.Fatalf("stock after the sweep: %+v", p.Stock)
	}
}
