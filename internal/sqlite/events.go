package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// emit records, in tx, the event of type typ about entity (a product, variant, reservation,
// category, collection or attribute definition, or the subject string of a deleted one). A
// write adds one call to it before it commits, so the event exists if and only if the write
// does (the transactional outbox).
func (s *Store) emit(ctx context.Context, tx *sql.Tx, typ string, entity any) error {
	return emitAt(ctx, tx, s.clock.Now(), typ, entity)
}

func emitAt(ctx context.Context, tx *sql.Tx, at time.Time, typ string, entity any) error {
	if ctx.Value(noOutbox{}) != nil {
		return nil
	}
	e, err := catalogjson.NewEvent(ctx, typ, entity)
	if err != nil {
		return err
	}
	var body any
	if e.Data != nil {
		body = string(e.Data)
	}
	if pe, ok := entity.(catalog.PriceEvent); ok {
		// Every price event moves its product's price version (one writer at a time, so in
		// commit order), so consumers order a variant's prices per currency by it. The event
		// takes the next version and the trigger events_price_version (migration 0013) stores
		// it on the product in the same statement: one statement per price event, not two.
		res, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, subject, actor, entity_version, data, at)
			SELECT ?, ?, ?, ?, price_version + 1, ?, ? FROM products WHERE id = ?`,
			catalog.NewID(), e.Type, e.Subject, e.Actor, body, at.UnixMicro(), pe.ProductID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(fmt.Errorf("price event for product %s: %w", pe.ProductID, catalog.ErrProductNotFound), err)
		}
		return nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (id, type, subject, actor, entity_version, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		catalog.NewID(), e.Type, e.Subject, e.Actor, e.EntityVersion, body, at.UnixMicro())
	return err
}

// emitDeleted is emitAfter for the deletion of a slug-named entity (a category, collection or
// attribute definition): it also keeps the deletion's version as the slug's tombstone, so an
// entity created again under the slug continues above it (nextVersion) and consumers applying
// "only if newer" take its events.
func (s *Store) emitDeleted(ctx context.Context, tx *sql.Tx, err error, typ string, d catalog.Deleted) error {
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO entity_tombstones (subject, version) VALUES (?, ?)
		ON CONFLICT (subject) DO UPDATE SET version = max(version, excluded.version)`, d.Subject, d.Version); err != nil {
		return err
	}
	return s.emit(ctx, tx, typ, d)
}

// nextVersion is the SQL of the first version of a slug-named entity whose slug is the next
// parameter: one above its tombstone's, or 1.
func nextVersion(prefix string) string {
	return `(SELECT coalesce(max(version), 0) + 1 FROM entity_tombstones WHERE subject = '` + prefix + `' || ?)`
}

// emitStock records a variant's stock after a movement: one catalog.stock.changed per variant
// a movement changes.
func emitStock(ctx context.Context, tx *sql.Tx, m catalog.Movement) error {
	return emitAt(ctx, tx, m.At, catalog.EventStockChanged, catalog.StockChange(m))
}

// emitPrice records a price applied (now or by the sweeper) or scheduled.
func emitPrice(ctx context.Context, tx *sql.Tx, at time.Time, typ string, pc catalog.PriceEvent) error {
	return emitAt(ctx, tx, at, typ, pc)
}

// Events reads the feed in sequence order. The read transaction sees one snapshot, so the
// floor check and the page agree.
func (s *Store) Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error) {
	page := catalog.EventPage{Events: []catalog.Event{}, Next: q.After}
	if q.Limit <= 0 || q.Limit > catalog.MaxEventLimit {
		q.Limit = catalog.DefaultEventLimit
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var floor int64
		if err := tx.QueryRowContext(ctx, `SELECT purged_through FROM event_floor`).Scan(&floor); err != nil {
			return err
		}
		if q.After < floor {
			return catalog.FeedGone(q.After, floor+1)
		}
		query := `SELECT seq, id, type, subject, actor, entity_version, data, at FROM events WHERE seq > ?`
		args := []any{q.After}
		if len(q.Types) > 0 {
			query += ` AND type IN (?` + strings.Repeat(`, ?`, len(q.Types)-1) + `)`
			for _, t := range q.Types {
				args = append(args, t)
			}
		}
		args = append(args, q.Limit)
		rows, err := tx.QueryContext(ctx, query+` ORDER BY seq LIMIT ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq, at int64
			var data sql.NullString
			e := catalog.Event{SpecVersion: catalog.CloudEventsVersion, Source: s.source, DataContentType: "application/json"}
			if err := rows.Scan(&seq, &e.ID, &e.Type, &e.Subject, &e.Actor, &e.EntityVersion, &data, &at); err != nil {
				return err
			}
			if data.Valid {
				e.Data = []byte(data.String)
			}
			e.Sequence, e.Time = strconv.FormatInt(seq, 10), micros(at)
			page.Events = append(page.Events, e)
			page.Next = seq
		}
		return rows.Err()
	})
	return page, err
}

// PurgeEvents deletes at most limit events older than retention, oldest first, and raises the
// floor to the highest sequence it removed.
func (s *Store) PurgeEvents(ctx context.Context, retention time.Duration, limit int) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		var top sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT max(seq), count(*) FROM (SELECT seq FROM events WHERE at <= ? ORDER BY seq LIMIT ?)`,
			s.clock.Now().Add(-retention).UnixMicro(), limit).Scan(&top, &n)
		if err != nil || !top.Valid {
			return err
		}
		// Everything up to top goes, so the floor stays exact: a later write's event never has
		// a sequence below it.
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq <= ?`, top.Int64)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(k)
		_, err = tx.ExecContext(ctx, `UPDATE event_floor SET purged_through = max(purged_through, ?)`, top.Int64)
		return err
	})
	return n, err
}

// emitAfter is emit for a write's last step: it passes err on, and records the event only when
// err is nil.
func (s *Store) emitAfter(ctx context.Context, tx *sql.Tx, err error, typ string, entity any) error {
	if err != nil {
		return err
	}
	return s.emit(ctx, tx, typ, entity)
}

// noOutbox, set in a context, makes the store record no events: only the outbox benchmark sets
// it (export_test.go), to measure what the outbox costs.
type noOutbox struct{}
