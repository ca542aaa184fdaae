package app

import (
	"context"
	"time"

	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/readcache"
)

// listenForCache runs the NOTIFY listener that invalidates the read cache, with the heartbeat
// that proves it is still hearing (ADR 0025, 2026-12-03): this instance notifies itself through
// the pool every readcache.HeartbeatInterval, and each heartbeat that comes back on the listening
// connection confirms every change committed before it. Until ctx ends.
func (a *App) listenForCache(ctx context.Context, pg *postgres.Store, cache *readcache.Store) {
	hb := readcache.NewHeartbeat(cache)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pg.Listen(ctx, hb.Changed, cache.Clear)
	}()
	t := time.NewTicker(readcache.HeartbeatInterval(a.cfg.CacheTTL))
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case <-t.C:
		}
		sent := time.Now() // before the send: a confirmation never claims more than it proved
		_, err := pg.Pool().Exec(ctx, "SELECT pg_notify($1, $2)", postgres.ProductChannel, hb.Payload(sent))
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			// Once per outage: without confirmations the cache falls back to its TTL, as before.
			a.log.Warn("read cache heartbeat failed; entries are revalidated after their TTL until it is back", "err", err)
			failing = true
		case err == nil && failing:
			a.log.Info("read cache heartbeat back")
			failing = false
		}
	}
}
