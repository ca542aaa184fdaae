package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// sequenceBatch bounds the events one sequencer pass numbers, so a backlog never makes one
// poll long; the next poll numbers the next batch.
const sequenceBatch = 5000

// emit records, in tx, the event of type typ about entity (see catalog.EventData). A write adds
// one call to it before it commits, so the event exists if and only if the write does. The
// event gets its sequence later (sequence), once its transaction is below every running one.
func (s *Store) emit(ctx context.Context, tx pgx.Tx, typ string, entity any) error {
	return emitAt(ctx, tx, s.clock.Now(), typ, entity)
}

func emitAt(ctx context.Context, tx pgx.Tx, at time.Time, typ string, entity any) error {
	if ctx.Value(noOutbox{}) != nil {
		return nil
	}
	e, err := catalogjson.NewEvent(ctx, typ, entity)
	if err != nil {
		return err
	}
	var body *string
	if e.Data != nil {
		b := string(e.Data)
		body = &b
	}
	if pe, ok := entity.(catalog.PriceEvent); ok {
		// Every price event moves its product's price version, under the product's row lock
		// (taken by the write already, or by this update), so per variant and currency the
		// versions grow in commit order; the feed's xid order may differ (ADR 0014). The
		// move is part of the event's insert: one statement per price event, not two.
		tag, err := tx.Exec(ctx, `WITH pv AS (UPDATE products SET price_version = price_version + 1 WHERE id = $5 RETURNING price_version)
			INSERT INTO events (id, type, subject, actor, entity_version, data, at) SELECT $1::text, $2::text, $3::text, $4::text, price_version, $6::json, $7::timestamptz FROM pv`,
			catalog.NewID(), e.Type, e.Subject, e.Actor, pe.ProductID, body, at)
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("price event for product %s: %w", pe.ProductID, catalog.ErrProductNotFound)
		}
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO events (id, type, subject, actor, entity_version, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		catalog.NewID(), e.Type, e.Subject, e.Actor, e.EntityVersion, body, at)
	return err
}

// emitAfter is emit for a write's last step: it passes err on, and records the event only when
// err is nil.
func (s *Store) emitAfter(ctx context.Context, tx pgx.Tx, err error, typ string, entity any) error {
	if err != nil {
		return err
	}
	return s.emit(ctx, tx, typ, entity)
}

// emitDeleted is emitAfter for the deletion of a slug-named entity (a category, collection or
// attribute definition): it also keeps the deletion's version as the slug's tombstone, so an
// entity created again under the slug continues above it (nextVersion) and consumers applying
// "only if newer" take its events.
func (s *Store) emitDeleted(ctx context.Context, tx pgx.Tx, err error, typ string, d catalog.Deleted) error {
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO entity_tombstones (subject, version) VALUES ($1, $2)
		ON CONFLICT (subject) DO UPDATE SET version = greatest(entity_tombstones.version, excluded.version)`, d.Subject, d.Version); err != nil {
		return err
	}
	return s.emit(ctx, tx, typ, d)
}

// nextVersion is the SQL of the first version of a slug-named entity created with the slug in
// parameter param: one above its tombstone's, or 1.
func nextVersion(prefix, param string) string {
	return `(SELECT coalesce(max(version), 0) + 1 FROM entity_tombstones WHERE subject = '` + prefix + `' || ` + param + `::text)`
}

// sequence numbers the events of finished transactions, in (xid, insertion) order, after the
// last number handed out. The event_state row lock serialises sequencers, and each statement's
// snapshot is taken after that lock, so it sees every earlier pass's numbers; a pass that finds
// the row locked leaves the work to the one holding it. Every transaction with an xid below
// the snapshot's xmin has ended, so no event can later appear among the ones numbered here.
func (s *Store) sequence(ctx context.Context) error {
	// A read first, so a feed read with nothing to number (an idle catalog polled by the
	// relay, webhook workers and consumers) writes nothing: the lock and the update run only
	// when a finished transaction left events unnumbered (an index probe of
	// events_unsequenced). An event that becomes numberable just after is numbered by the next
	// read, as it would be if it had ended after this pass.
	var pending bool
	if err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE seq IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot()))`).Scan(&pending)
	}); err != nil || !pending {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var last int64
		err := tx.QueryRow(ctx, `SELECT last_seq FROM event_state FOR UPDATE SKIP LOCKED`).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE events e SET seq = $1 + r.rn
			FROM (SELECT local, row_number() OVER (ORDER BY xid, local) AS rn FROM events
				WHERE seq IS NULL AND xid < pg_snapshot_xmin(pg_current_snapshot())
				ORDER BY xid, local LIMIT $2) r
			WHERE e.local = r.local`, last, sequenceBatch)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE event_state SET last_seq = last_seq + $1`, tag.RowsAffected())
		return err
	})
}

// Events numbers what finished since the last poll, then reads the feed. The floor and the
// page are read in one REPEATABLE READ snapshot, so a purge between them cannot skip events.
func (s *Store) Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error) {
	page := catalog.EventPage{Events: []catalog.Event{}, Next: q.After}
	if q.Limit <= 0 || q.Limit > catalog.MaxEventLimit {
		q.Limit = catalog.DefaultEventLimit
	}
	if err := s.sequence(ctx); err != nil {
		return page, err
	}
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			var floor int64
			if err := tx.QueryRow(ctx, `SELECT purged_through FROM event_state`).Scan(&floor); err != nil {
				return err
			}
			if q.After < floor {
				return catalog.FeedGone(q.After, floor+1)
			}
			types := q.Types
			if types == nil {
				types = []string{}
			}
			rows, err := tx.Query(ctx, `SELECT seq, id, type, subject, actor, entity_version, data::text, at FROM events
				WHERE seq > $1 AND (cardinality($2::text[]) = 0 OR type = ANY ($2)) ORDER BY seq LIMIT $3`, q.After, types, q.Limit)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var seq int64
				var data *string
				e := catalog.Event{SpecVersion: catalog.CloudEventsVersion, Source: s.source, DataContentType: "application/json"}
				if err := rows.Scan(&seq, &e.ID, &e.Type, &e.Subject, &e.Actor, &e.EntityVersion, &data, &e.Time); err != nil {
					return err
				}
				if data != nil {
					e.Data = []byte(*data)
				}
				e.Sequence, e.Time = strconv.FormatInt(seq, 10), e.Time.UTC()
				page.Events = append(page.Events, e)
				page.Next = seq
			}
			return rows.Err()
		})
	})
	return page, err
}

// PurgeEvents deletes at most limit numbered events older than retention, in sequence order,
// and raises the floor to the highest sequence it removed.
func (s *Store) PurgeEvents(ctx context.Context, retention time.Duration, limit int) (int, error) {
	if err := s.sequence(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var top *int64
		if err := tx.QueryRow(ctx, `SELECT max(seq) FROM (SELECT seq FROM events WHERE seq IS NOT NULL AND at <= $1 ORDER BY seq LIMIT $2) o`,
			s.clock.Now().Add(-retention), limit).Scan(&top); err != nil || top == nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE seq <= $1`, *top)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, `UPDATE event_state SET purged_through = greatest(purged_through, $1)`, *top)
		return err
	})
	return n, err
}

// emitImported records catalog.product.created for each imported product in one statement,
// each built from what was inserted (catalog.CreatedProduct), not read back.
func emitImported(ctx context.Context, tx pgx.Tx, ps []newProduct, now time.Time) error {
	events := make([]pending, 0, len(ps))
	for _, np := range ps {
		e, err := newPending(ctx, now, catalog.EventProductCreated, catalog.CreatedProduct(np.id, np.in, np.vids, np.created))
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return emitMany(ctx, tx, events)
}

// emitPrice records a price applied (set now, applied by the sweeper, reverted at a window's
// end) or scheduled, when err is nil.
func emitPrice(ctx context.Context, tx pgx.Tx, err error, at time.Time, typ string, pe catalog.PriceEvent) error {
	if err != nil {
		return err
	}
	return emitAt(ctx, tx, at, typ, pe)
}

// pending is an event built in Go, written with others in one statement (emitMany).
type pending struct {
	at time.Time
	e  catalog.Event
}

// emitMany records events in one statement, in the order given (the identity column keeps
// it within the transaction).
func emitMany(ctx context.Context, tx pgx.Tx, ps []pending) error {
	if len(ps) == 0 || ctx.Value(noOutbox{}) != nil {
		return nil
	}
	n := len(ps)
	// No data travels as '' (never JSON), so the array has a plain element type and pgx encodes
	// it without reflection.
	ids, types, subjects, actors, datas, ats := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	versions := make([]int64, n)
	for i, p := range ps {
		ids[i], types[i], subjects[i], actors[i], versions[i], ats[i], datas[i] = catalog.NewID(), p.e.Type, p.e.Subject, p.e.Actor, p.e.EntityVersion, p.at, string(p.e.Data)
	}
	_, err := tx.Exec(ctx, `INSERT INTO events (id, type, subject, actor, entity_version, data, at)
		SELECT id, type, subject, actor, version, nullif(data, '')::json, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[]) WITH ORDINALITY
			AS t(id, type, subject, actor, version, data, at, n) ORDER BY n`,
		ids, types, subjects, actors, versions, datas, ats)
	return err
}

// newPending builds the event of type typ about entity.
func newPending(ctx context.Context, at time.Time, typ string, entity any) (pending, error) {
	if _, ok := entity.(catalog.PriceEvent); ok {
		// A price event's version is taken as it is recorded (emitAt), not built in Go.
		return pending{}, errors.New("price events are recorded by emitAt")
	}
	e, err := catalogjson.NewEvent(ctx, typ, entity)
	return pending{at: at, e: e}, err
}

// emitMoves records one catalog.stock.changed per movement applied.
func emitMoves(ctx context.Context, tx pgx.Tx, ms []*catalog.Movement) error {
	ps := make([]pending, 0, len(ms))
	for _, m := range ms {
		p, err := newPending(ctx, m.At, catalog.EventStockChanged, catalog.StockChange(*m))
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	return emitMany(ctx, tx, ps)
}

// emitFinished records the reservations' move to status to, when err is nil.
func emitFinished(ctx context.Context, tx pgx.Tx, err error, rs []*catalog.Reservation, to catalog.ReservationStatus, now time.Time) error {
	if err != nil {
		return err
	}
	ps := make([]pending, 0, len(rs))
	for _, r := range rs {
		p, err := newPending(ctx, now, catalog.ReservationEvent(to), *r)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	return emitMany(ctx, tx, ps)
}

// reserveOneEvents returns the CTEs that record the hot path's events inside its one
// statement (catalog.reservation.created and the line's catalog.stock.changed, built from the
// row the guarded update returned, so they exist only if the reservation does), with their
// arguments numbered from next. upd is the update's CTE; $1 is the reservation's ID, $5 the
// time and $7 the SKU, as in reserveOneOn.
func reserveOneEvents(ctx context.Context, r catalog.Reservation, next int) (string, []any, error) {
	if ctx.Value(noOutbox{}) != nil {
		return "", nil, nil
	}
	e, err := catalogjson.NewEvent(ctx, catalog.EventReservationCreated, r)
	if err != nil {
		return "", nil, err
	}
	a, b, actor, data := "$"+strconv.Itoa(next), "$"+strconv.Itoa(next+1), "$"+strconv.Itoa(next+2), "$"+strconv.Itoa(next+3)
	ev := strconv.FormatInt(e.EntityVersion, 10) // a constant (the held state's), not user input
	cte := `ev_stock AS (
			INSERT INTO events (id, type, subject, actor, entity_version, data, at)
			SELECT ` + b + `, 'catalog.stock.changed', 'products/' || product_id || '/variants/' || variant_id, ` + actor + `, version,
				json_build_object('variant_id', variant_id, 'product_id', product_id, 'sku', $7::text, 'kind', 'reserve',
					'on_hand', on_hand, 'reserved', reserved, 'available', on_hand - reserved, 'reservation_id', $1::uuid::text), $5 FROM upd
		), ev_res AS (
			INSERT INTO events (id, type, subject, actor, entity_version, data, at)
			SELECT ` + a + `, 'catalog.reservation.created', 'reservations/' || $1::uuid::text, ` + actor + `, ` + ev + `, ` + data + `::json, $5 FROM upd
		), `
	return cte, []any{catalog.NewID(), catalog.NewID(), e.Actor, string(e.Data)}, nil
}

// noOutbox, set in a context, makes the store record no events: only the outbox benchmark sets
// it (export_test.go), to measure what the outbox costs.
type noOutbox struct{}
