// Package sweep runs the catalog's timed work: it releases reservations whose hold has expired,
// makes scheduled prices current, and purges what the service no longer needs (idempotency keys
// past their window, finished reservations, change-feed events, webhook delivery-log lines and
// finished import jobs past their retention; never the stock movements, which are the audit). Every instance runs
// it; the stores let concurrent sweeps skip each other's rows, so more instances only make it
// faster.
package sweep

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Batch bounds the rows one sweep transaction touches, keeping its locks short.
const Batch = 500

// DefaultRetention is how long finished reservations are kept when Options leave it zero.
const DefaultRetention = 30 * 24 * time.Hour

// MaxInterval is the longest time between sweeps. Sale windows start and end to the minute
// (catalog.MinSaleWindow), so a price due at 12:00:00 must be applied by 12:00:59 whatever the
// configuration says: a longer interval is shortened to this.
const MaxInterval = 30 * time.Second

// Options configure the sweeper. The zero value works.
type Options struct {
	// Interval is the time between sweeps (0: one second; at most MaxInterval).
	Interval time.Duration
	// Retention is how long finished reservations are kept (0: DefaultRetention).
	Retention time.Duration
	// EventRetention is how long change-feed events are kept (0: catalog.DefaultEventRetention).
	EventRetention time.Duration
	// DeliveryRetention is how long the webhook delivery log keeps an attempt (0:
	// catalog.DefaultDeliveryRetention).
	DeliveryRetention time.Duration
	// ImportRetention is how long a finished import job is kept (0:
	// catalog.DefaultImportJobRetention).
	ImportRetention time.Duration
	// Log receives one line per expired reservation and applied price, and the purge counts.
	Log *slog.Logger
	// Expired, when set, is told how many reservations each batch released (for metrics).
	Expired func(int)
}

// Effective returns the options a sweep runs with: the defaults filled in and the interval
// capped at MaxInterval.
func (o Options) Effective() Options { return o.withDefaults() }

func (o Options) withDefaults() Options {
	o.Interval = min(cmp.Or(o.Interval, time.Second), MaxInterval)
	o.Retention = cmp.Or(o.Retention, DefaultRetention)
	o.EventRetention = cmp.Or(o.EventRetention, catalog.DefaultEventRetention)
	o.DeliveryRetention = cmp.Or(o.DeliveryRetention, catalog.DefaultDeliveryRetention)
	o.ImportRetention = cmp.Or(o.ImportRetention, catalog.DefaultImportJobRetention)
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Run sweeps every interval until ctx ends.
func Run(ctx context.Context, inv catalog.Inventory, opts Options) {
	asked := opts.Interval
	opts = opts.withDefaults()
	if asked > opts.Interval {
		opts.Log.Warn("sweep interval shortened: sale windows start and end to the minute", "asked", asked, "interval", opts.Interval)
	}
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := Once(ctx, inv, opts)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			opts.Log.Warn("sweep failed; retrying every interval", "err", err)
			failing = true
		case err == nil && failing:
			opts.Log.Info("sweep recovered")
			failing = false
		}
	}
}

// Once releases every expired reservation, applies every due price and purges what is past
// its time, in batches.
func Once(ctx context.Context, inv catalog.Inventory, opts Options) error {
	opts = opts.withDefaults()
	for {
		rs, err := inv.ExpireReservations(ctx, Batch)
		if err != nil {
			return err
		}
		for _, r := range rs {
			units := int64(0)
			for _, l := range r.Lines {
				units += l.Quantity
			}
			opts.Log.Info("reservation expired", "reservation_id", r.ID, "lines", len(r.Lines), "units", units,
				"expires_at", r.ExpiresAt)
		}
		if len(rs) > 0 && opts.Expired != nil {
			opts.Expired(len(rs))
		}
		if len(rs) < Batch {
			break
		}
	}
	for {
		ps, err := inv.ApplyDuePrices(ctx, Batch)
		if err != nil {
			return err
		}
		for _, p := range ps {
			msg := "scheduled price applied"
			if p.Kind == catalog.PriceRevert {
				msg = "sale window ended; price reverted"
			}
			opts.Log.Info(msg, "price_entry_id", p.EntryID, "product_id", p.ProductID, "variant_id", p.VariantID,
				"kind", p.Kind, "currency", p.Price.Currency, "amount", p.Price.Amount, "at", p.At)
		}
		if len(ps) < Batch {
			break
		}
	}
	keys, err := purge(ctx, func(ctx context.Context) (int, error) { return inv.PurgeIdempotencyKeys(ctx, Batch) })
	if keys > 0 {
		opts.Log.Info("purged idempotency keys past their window", "count", keys, "window", catalog.IdempotencyTTL)
	}
	if err != nil {
		return err
	}
	reservations, err := purge(ctx, func(ctx context.Context) (int, error) {
		return inv.PurgeReservations(ctx, opts.Retention, Batch)
	})
	if reservations > 0 {
		opts.Log.Info("purged finished reservations past their retention", "count", reservations, "retention", opts.Retention)
	}
	if err != nil {
		return err
	}
	if imp, ok := inv.(catalog.Importer); ok {
		jobs, err := purge(ctx, func(ctx context.Context) (int, error) { return imp.PurgeImportJobs(ctx, opts.ImportRetention, Batch) })
		if jobs > 0 {
			opts.Log.Info("purged finished import jobs past their retention", "count", jobs, "retention", opts.ImportRetention)
		}
		if err != nil {
			return err
		}
	}
	feed, ok := inv.(catalog.EventFeed)
	if !ok {
		return nil
	}
	events, err := purge(ctx, func(ctx context.Context) (int, error) { return feed.PurgeEvents(ctx, opts.EventRetention, Batch) })
	if events > 0 {
		opts.Log.Info("purged change-feed events past their retention", "count", events, "retention", opts.EventRetention)
	}
	if err != nil {
		return err
	}
	hooks, ok := inv.(catalog.Webhooks)
	if !ok {
		return nil
	}
	logs, err := purge(ctx, func(ctx context.Context) (int, error) {
		return hooks.PurgeWebhookDeliveries(ctx, opts.DeliveryRetention, Batch)
	})
	if logs > 0 {
		opts.Log.Info("purged webhook delivery log lines past their retention", "count", logs, "retention", opts.DeliveryRetention)
	}
	return err
}

// purge runs one batch statement until a batch comes back short, one transaction per batch, so
// a backlog is worked off without one long transaction.
func purge(ctx context.Context, batch func(context.Context) (int, error)) (int, error) {
	total := 0
	for {
		n, err := batch(ctx)
		total += n
		if err != nil || n < Batch {
			return total, err
		}
	}
}
