// Package sweep runs the catalog's timed work: it releases reservations whose hold has expired
// and makes scheduled prices current. Every instance runs it; the stores let concurrent sweeps
// skip each other's rows, so more instances only make it faster.
package sweep

import (
	"context"
	"log/slog"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Batch bounds the rows one sweep transaction touches, keeping its locks short.
const Batch = 500

// Run sweeps every interval until ctx ends. expired, when set, is told how many reservations
// each sweep released (for metrics).
func Run(ctx context.Context, inv catalog.Inventory, interval time.Duration, log *slog.Logger, expired func(int)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := Once(ctx, inv, expired)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			log.Warn("sweep failed; retrying every interval", "err", err)
			failing = true
		case err == nil && failing:
			log.Info("sweep recovered")
			failing = false
		}
	}
}

// Once releases every expired reservation and applies every due price, in batches.
func Once(ctx context.Context, inv catalog.Inventory, expired func(int)) error {
	for {
		n, err := inv.ExpireReservations(ctx, Batch)
		if err != nil {
			return err
		}
		if n > 0 && expired != nil {
			expired(n)
		}
		if n < Batch {
			break
		}
	}
	for {
		n, err := inv.ApplyDuePrices(ctx, Batch)
		if err != nil {
			return err
		}
		if n < Batch {
			return nil
		}
	}
}
