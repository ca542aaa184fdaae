package postgres

import (
	"context"
	"time"
)

// ProductChannel is where the database announces changed product IDs (migration 0003).
const ProductChannel = "catalog_product"

// Listen calls changed with the ID of every product whose row or stock changes, from any
// instance, until ctx ends. It holds one connection of its own. Whenever notifications may have
// been missed (the connection dropped, or has just been made again) it calls lost, so the
// caller can forget everything it cached.
func (s *Store) Listen(ctx context.Context, changed func(id string), lost func()) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, changed, lost)
		if ctx.Err() != nil {
			return
		}
		lost()
		_ = err // the connection is gone; the loop makes a new one
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, changed func(id string), lost func()) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The listening connection leaves the pool: it must not serve queries, and it is closed,
	// not returned, when listening ends.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+ProductChannel); err != nil {
		return err
	}
	lost() // anything cached before LISTEN took effect may be stale
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		changed(n.Payload)
	}
}
