package sweep_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
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
	clock, s := storeWith(ctx, t, "SW-1", 2000)
	const n = sweep.Batch + 100
	for i := range n {
		if _, err := s.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "SW-1", Quantity: 1}}, TTLSeconds: 60}, fmt.Sprint(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	released := make(chan int, 10)
	go sweep.Run(ctx, s, sweep.Options{Interval: 10 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Expired: func(k int) { released <- k }})
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
	_, v, err := s.VariantBySKU(ctx, "SW-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Stock.Reserved != 0 || v.Stock.Available != 2000 {
		t.Fatalf("stock after the sweep: %+v", v.Stock)
	}
}

// records is a slog.Handler that keeps what it is given.
type records struct {
	mu  sync.Mutex
	all []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// find returns the attributes of the records with message msg.
func (h *records) find(msg string) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, r := range h.all {
		if r.Message != msg {
			continue
		}
		if r.Level != slog.LevelInfo {
			continue
		}
		attrs := map[string]any{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.Any()
			return true
		})
		out = append(out, attrs)
	}
	return out
}

// TestOnceLogsWhatItDoes: each expired reservation and each applied price is logged at info
// with its IDs and counts, and the purges log their counts, through the logger it is given.
func TestOnceLogsWhatItDoes(t *testing.T) {
	ctx := context.Background()
	clock, s := storeWith(ctx, t, "LOG-1", 10)
	p, v, err := s.VariantBySKU(ctx, "LOG-1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: "LOG-1", Quantity: 3}}, TTLSeconds: 60}, "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	from := clock.Now().Add(time.Minute)
	until := from.Add(time.Hour)
	if _, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "USD", Amount: 7, ValidFrom: &from, ValidUntil: &until}, "a", 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)

	h := &records{}
	if err := sweep.Once(ctx, s, sweep.Options{Log: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	expired := h.find("reservation expired")
	if len(expired) != 1 || expired[0]["reservation_id"] != r.ID || expired[0]["units"] != int64(3) || expired[0]["lines"] != int64(1) {
		t.Fatalf("expiry log lines: %v", expired)
	}
	applied := h.find("scheduled price applied")
	if len(applied) != 1 || applied[0]["product_id"] != p.ID || applied[0]["variant_id"] != v.ID || applied[0]["amount"] != int64(7) ||
		applied[0]["kind"] != catalog.PriceSet {
		t.Fatalf("price log lines: %v", applied)
	}
	// The sale window ends: the price before it comes back, logged as a revert.
	clock.Advance(time.Hour)
	if err := sweep.Once(ctx, s, sweep.Options{Log: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	reverted := h.find("sale window ended; price reverted")
	if len(reverted) != 1 || reverted[0]["variant_id"] != v.ID || reverted[0]["amount"] != int64(1) || reverted[0]["kind"] != catalog.PriceRevert {
		t.Fatalf("revert log lines: %v", reverted)
	}

	// A month later the expired reservation is purged, and that is logged with its count.
	clock.Advance(sweep.DefaultRetention + time.Hour)
	if err := sweep.Once(ctx, s, sweep.Options{Log: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	if purged := h.find("purged finished reservations past their retention"); len(purged) != 1 || purged[0]["count"] != int64(1) {
		t.Fatalf("purge log lines: %v", purged)
	}
	if _, err := s.Reservation(ctx, r.ID); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Fatalf("Reservation(%s) after the purge: %v, want not_found", r.ID, err)
	}
	// The change feed's events are past their 7 days too: purged, and a consumer at the start
	// is told to re-sync.
	if purged := h.find("purged change-feed events past their retention"); len(purged) != 1 || purged[0]["count"].(int64) < 5 {
		t.Fatalf("event purge log lines: %v", purged)
	}
	if _, err := s.Events(ctx, catalog.EventQuery{Limit: 10}); catalog.ErrorCode(err) != catalog.CodeGone {
		t.Fatalf("Events(after=0) after the purge: %v, want gone", err)
	}
}

// storeWith opens an embedded store on a fake clock holding one active product, sku, with
// onHand units, closed when the test ends.
func storeWith(ctx context.Context, t *testing.T, sku string, onHand int64) (*storetest.FakeClock, *sqlite.Store) {
	t.Helper()
	clock := storetest.NewFakeClock()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "x", Name: "X"}); err != nil {
		t.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Sweep", Category: "x", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1}}, InitialStock: onHand}}}
	in.Normalize()
	if err := s.Import(ctx, []catalog.NewProduct{{ProductInput: in}}); err != nil {
		t.Fatal(err)
	}
	return clock, s
}

// TestIntervalIsCappedForSaleWindows: whatever the configuration asks, sweeps run at least
// every MaxInterval, so a sale window that ends at 12:00 is reverted within the minute; a
// shorter interval is kept.
func TestIntervalIsCappedForSaleWindows(t *testing.T) {
	if sweep.MaxInterval > 30*time.Second {
		t.Fatalf("MaxInterval %s: sale windows would not start and end within the minute", sweep.MaxInterval)
	}
	for _, tc := range []struct{ asked, want time.Duration }{
		{0, time.Second}, {10 * time.Millisecond, 10 * time.Millisecond}, {30 * time.Second, 30 * time.Second},
		{5 * time.Minute, sweep.MaxInterval}, {time.Hour, sweep.MaxInterval},
	} {
		if got := (sweep.Options{Interval: tc.asked}).Effective().Interval; got != tc.want {
			t.Errorf("Options{Interval: %s}.Effective().Interval = %s, want %s", tc.asked, got, tc.want)
		}
	}
}

// TestOncePurgesWebhookDeliveryLog: delivery-log lines past their retention go, in batches of
// Batch (a backlog larger than one batch is worked off in one sweep), and younger ones stay.
func TestOncePurgesWebhookDeliveryLog(t *testing.T) {
	ctx := context.Background()
	clock, s := storeWith(ctx, t, "LOG-1", 1)
	w, err := s.CreateWebhook(ctx, catalog.WebhookInput{URL: "https://hooks.example.com/x"}, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ClaimWebhook(ctx, "t", time.Hour); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	record := func(n int) {
		for i := range n {
			d := &catalog.WebhookDelivery{EventID: "e", EventType: catalog.EventStockChanged, Sequence: 1, Attempt: i + 1, Outcome: catalog.DeliveryFailed}
			if _, err := s.RecordWebhookAttempt(ctx, w.ID, "t", catalog.WebhookAttempt{Delivery: d, NextAttemptAt: clock.Now()}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(sweep.Batch + 7)
	clock.Advance(2 * time.Hour)
	record(3)
	h := &records{}
	if err := sweep.Once(ctx, s, sweep.Options{DeliveryRetention: time.Hour, Log: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	if purged := h.find("purged webhook delivery log lines past their retention"); len(purged) != 1 || purged[0]["count"] != int64(sweep.Batch+7) {
		t.Fatalf("delivery-log purge log lines: %v", purged)
	}
	page, err := s.WebhookDeliveries(ctx, w.ID, 0, 100)
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("after the purge the log holds %d lines (%v), want the 3 younger ones", len(page.Items), err)
	}
}

// TestOncePurgesFinishedImportJobs: finished import jobs past their retention go (their
// reports are not kept forever); an unfinished one stays.
func TestOncePurgesFinishedImportJobs(t *testing.T) {
	ctx := context.Background()
	clock, s := storeWith(ctx, t, "IMP-1", 1)
	var ids []string
	for i := range 3 {
		j, _, err := s.CreateImportJob(ctx, catalog.ImportJobInput{Format: "jsonl", Digest: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			j.State = catalog.ImportSucceeded
			if err := s.SaveImportJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, j.ID)
	}
	clock.Advance(2 * time.Hour)
	h := &records{}
	if err := sweep.Once(ctx, s, sweep.Options{ImportRetention: time.Hour, Log: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	if purged := h.find("purged finished import jobs past their retention"); len(purged) != 1 || purged[0]["count"] != int64(2) {
		t.Fatalf("import job purge log lines: %v", purged)
	}
	if _, err := s.ImportJob(ctx, ids[0]); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("finished job kept: %v", err)
	}
	if _, err := s.ImportJob(ctx, ids[2]); err != nil {
		t.Errorf("unfinished job purged: %v", err)
	}
}
