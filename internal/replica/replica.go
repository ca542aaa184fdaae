// Package replica routes the catalog's public reads to a read replica (an Aurora reader, a
// PostgreSQL streaming standby) and everything else to the writer, within a staleness bound and
// with read-your-writes for a client that presents its last write's position (ADR 0022).
//
// The Router wraps two catalog.Stores. It embeds the writer, so every method it does not name
// (writes, reservations, stock, movements, the change feed, whatever is added later) goes to the
// writer; only the public reads listed in this file can go to the reader. A read goes to the
// reader when the last probe found it up, within MaxLag of the writer, and past the caller's
// read position, and the caller is not a back-office reader. A read the reader fails with an
// outage (refused, timed out, shut down) is answered by the writer, and the reader is left
// alone for a back-off before it is probed again: no request sees the replica's outage.
package replica

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Writer is the primary store: it takes every write and knows its WAL position.
type Writer interface {
	catalog.Store
	// WritePosition returns a position at or past every write committed before the call.
	WritePosition(ctx context.Context) (catalog.ReadPosition, error)
}

// Reader is a replica's store: it answers reads and says how far it has replayed.
type Reader interface {
	catalog.Store
	Replay(ctx context.Context) (Replay, error)
}

// Replay is a replica's replay status.
type Replay struct {
	// Primary is true when the server is not in recovery: it is the writer (a reader endpoint
	// with no replica behind it), so it is current.
	Primary bool
	// Replayed is the WAL position replayed so far; valid when Known.
	Replayed catalog.ReadPosition
	Known    bool
	// SinceLastReplay is the age of the last replayed transaction (negative: none yet).
	SinceLastReplay time.Duration
	// ReportedLag is the server's own measure of how far behind it is, when it has one
	// (LagReported): an Aurora reader, whose replay position PostgreSQL's functions may not
	// give, reports replica_lag_in_msec (docs/adr/0022-replica-reads.md, 2026-12-02). Used
	// only when the positions cannot be compared.
	ReportedLag time.Duration
	LagReported bool
}

// Options tune a Router. The zero value works.
type Options struct {
	// MaxLag is the staleness bound: a reader further behind the writer is not read
	// (default DefaultMaxLag).
	MaxLag time.Duration
	// ProbeInterval is how often the reader's replay position and the writer's position are
	// compared (default DefaultProbeInterval).
	ProbeInterval time.Duration
	// ReadTimeout bounds one read on the reader; past it the writer answers
	// (default DefaultReadTimeout).
	ReadTimeout time.Duration
	// RetryBase and RetryCap bound the back-off after the reader failed: the wait doubles from
	// RetryBase to RetryCap while it keeps failing (defaults 1s and 30s).
	RetryBase, RetryCap time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxLag        = time.Second
	DefaultProbeInterval = 200 * time.Millisecond
	DefaultReadTimeout   = 2 * time.Second
	DefaultRetryBase     = time.Second
	DefaultRetryCap      = 30 * time.Second
)

// Targets and reasons, the metrics' label values.
const (
	TargetReader = "reader"
	TargetWriter = "writer"

	// A public read the writer answered because the reader was down or not probed yet,
	ReasonDown = "down"
	// was further behind than MaxLag,
	ReasonLag = "lag"
	// had not replayed the caller's last write,
	ReasonBehind = "behind_client"
	// or failed this read.
	ReasonError = "error"
)

// Router is a catalog.Store over a writer and a reader.
type Router struct {
	Writer
	reader Reader
	opts   Options

	mu    sync.Mutex
	state state
	// prev is the writer's position at the previous probe and when it was read: a reader that
	// has replayed that far is at most that old, whatever the WAL written since.
	prev struct {
		pos catalog.ReadPosition
		at  time.Time
		ok  bool
	}

	readerReads, writerReads                    atomic.Int64
	fbDown, fbLag, fbBehind, fbError, writerOut atomic.Int64
}

// state is what the last probe or failure said about the reader.
type state struct {
	up        bool
	replay    Replay
	lag       time.Duration // observed; -1 when unknown
	checked   time.Time     // when up was last established
	downUntil time.Time     // no reads and no probe before this
	failures  int
}

var _ catalog.Store = (*Router)(nil)

// New returns a Router. The reader counts as down until Probe (or Run) has checked it.
func New(w Writer, r Reader, opts Options) *Router {
	opts.MaxLag = cmp.Or(opts.MaxLag, DefaultMaxLag)
	opts.ProbeInterval = cmp.Or(opts.ProbeInterval, DefaultProbeInterval)
	opts.ReadTimeout = cmp.Or(opts.ReadTimeout, DefaultReadTimeout)
	opts.RetryBase = cmp.Or(opts.RetryBase, DefaultRetryBase)
	opts.RetryCap = max(cmp.Or(opts.RetryCap, DefaultRetryCap), opts.RetryBase)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Router{Writer: w, reader: r, opts: opts, state: state{lag: -1}}
}

// Run probes the reader every ProbeInterval until ctx ends.
func (r *Router) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.ProbeInterval)
	defer t.Stop()
	for {
		r.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe compares the reader's replay position with the writer's and records the lag: zero when
// the reader has replayed everything the writer had written just before; the time since the
// previous probe when it has replayed what the writer had then (WAL written since, such as a
// checkpoint's, costs no more than a probe interval); else the age of the last transaction it
// replayed, and at least the time since the previous probe (the writer has moved on since then,
// so the replica is at least that stale). When the positions cannot be compared (the reader
// gives none, or the writer cannot say its own, as an Aurora writer without logical
// replication refuses), a lag the reader reports itself (Aurora) is the lag. A reader in its
// back-off is not probed.
func (r *Router) Probe(ctx context.Context) {
	sampled := r.opts.Now()
	r.mu.Lock()
	wait := sampled.Before(r.state.downUntil)
	r.mu.Unlock()
	if wait {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.ReadTimeout)
	defer cancel()
	wpos, werr := r.Writer.WritePosition(ctx)
	if werr != nil && ctx.Err() != nil {
		return // shutting down, or the writer hangs: nothing learnt about the reader
	}
	rep, err := r.reader.Replay(ctx)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // shutting down
		}
		r.down()
		return
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.prev
	positions := werr == nil
	if positions {
		r.prev.pos, r.prev.at, r.prev.ok = wpos, sampled, true
	}
	lag := time.Duration(-1)
	switch {
	case rep.Primary:
		lag = 0
	case positions && rep.Known && rep.Replayed >= wpos:
		lag = 0
	case positions && rep.Known && prev.ok && rep.Replayed >= prev.pos:
		lag = now.Sub(prev.at)
	case rep.LagReported && rep.ReportedLag >= 0:
		lag = rep.ReportedLag
	case positions && rep.SinceLastReplay >= 0:
		lag = rep.SinceLastReplay
		if prev.ok {
			lag = max(lag, now.Sub(prev.at))
		}
	}
	if !positions && lag < 0 {
		// Without the writer's position the lag is unknown; the writer's own trouble is
		// not the reader's, so no back-off: keep the last verdict until it expires.
		return
	}
	r.state = state{up: true, replay: rep, lag: lag, checked: now}
}

// down records a reader failure and starts (or lengthens) its back-off.
func (r *Router) down() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.failures++
	d := r.opts.RetryBase << min(r.state.failures-1, 16)
	if d > r.opts.RetryCap || d <= 0 {
		d = r.opts.RetryCap
	}
	r.state.up = false
	r.state.lag = -1
	r.state.downUntil = r.opts.Now().Add(d)
}

// Status is the router's view of the reader, for metrics and logs.
type Status struct {
	Up  bool
	Lag time.Duration // -1 when unknown
	// Reads by target, and the public reads the writer answered, by reason.
	ReaderReads, WriterReads                               int64
	FallbackDown, FallbackLag, FallbackBehind, FallbackErr int64
}

// Status returns the current view and counters.
func (r *Router) Status() Status {
	r.mu.Lock()
	st := r.state
	r.mu.Unlock()
	up := st.up && r.fresh(st)
	lag := st.lag
	if !up {
		lag = -1
	}
	return Status{Up: up, Lag: lag,
		ReaderReads: r.readerReads.Load(), WriterReads: r.writerReads.Load() + r.writerOut.Load(),
		FallbackDown: r.fbDown.Load(), FallbackLag: r.fbLag.Load(), FallbackBehind: r.fbBehind.Load(), FallbackErr: r.fbError.Load()}
}

// fresh reports whether a probe's verdict is recent enough to act on: a probe that stopped
// answering (a reader hanging without refusing) must not leave an old "caught up" standing.
func (r *Router) fresh(st state) bool {
	return r.opts.Now().Sub(st.checked) <= r.opts.MaxLag+2*r.opts.ProbeInterval
}

// pick chooses the store for a public read in ctx: the reader, or the writer and why.
func (r *Router) pick(ctx context.Context) (bool, string) {
	if catalog.WriterReads(ctx) {
		return false, ""
	}
	r.mu.Lock()
	st := r.state
	r.mu.Unlock()
	switch {
	case !st.up || !r.fresh(st):
		return false, ReasonDown
	case st.lag < 0 || st.lag > r.opts.MaxLag:
		return false, ReasonLag
	}
	if p, ok := catalog.ReadAfter(ctx); ok && !st.replay.Primary && (!st.replay.Known || st.replay.Replayed < p) {
		return false, ReasonBehind
	}
	return true, ""
}

// read runs a public read on the reader when pick allows, and on the writer otherwise or when
// the reader fails with an outage.
func read[T any](r *Router, ctx context.Context, fn func(context.Context, catalog.Store) (T, error)) (T, error) {
	useReader, reason := r.pick(ctx)
	if !useReader {
		r.writerReads.Add(1)
		r.count(reason)
		return fn(ctx, r.Writer)
	}
	rctx, cancel := context.WithTimeout(ctx, r.opts.ReadTimeout)
	v, err := fn(rctx, r.reader)
	cancel()
	fallback, down := r.failed(ctx, err)
	if !fallback {
		r.readerReads.Add(1)
		return v, err
	}
	if down {
		r.down()
	}
	r.writerReads.Add(1)
	r.count(ReasonError)
	return fn(ctx, r.Writer)
}

func (r *Router) count(reason string) {
	switch reason {
	case ReasonDown:
		r.fbDown.Add(1)
	case ReasonLag:
		r.fbLag.Add(1)
	case ReasonBehind:
		r.fbBehind.Add(1)
	case ReasonError:
		r.fbError.Add(1)
	}
}

// failed reports whether the writer should answer a read the reader answered with err, and
// whether the reader is down (to be left alone for a back-off). The store's unavailable and
// internal codes (refused, reset, shut down, over the read timeout) mean down. A conflict is a
// standby cancelling the query for WAL it must replay (SQLSTATE 40001, "conflict with
// recovery": a read cannot conflict otherwise): the writer answers, the reader stays up. Answers
// such as not_found or invalid are the reader's to give, and a request that has itself ended
// gets its own error: the writer would not help.
func (r *Router) failed(ctx context.Context, err error) (fallback, down bool) {
	if err == nil || ctx.Err() != nil {
		return false, false
	}
	switch catalog.ErrorCode(err) {
	case catalog.CodeUnavailable, catalog.CodeInternal:
		return true, true
	case catalog.CodeConflict:
		return true, false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true, true
	}
	return false, false
}

// Close closes both stores.
func (r *Router) Close() error {
	return errors.Join(r.reader.Close(), r.Writer.Close())
}

// The public reads. Each is one statement or one read-only transaction on one server, so it is
// as consistent on the reader as on the writer, only possibly older.

func (r *Router) Product(ctx context.Context, id string) (catalog.Product, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.Product, error) { return s.Product(ctx, id) })
}

func (r *Router) ProductVersions(ctx context.Context, id string) (int64, int64, error) {
	v, err := read(r, ctx, func(ctx context.Context, s catalog.Store) ([2]int64, error) {
		a, b, err := s.ProductVersions(ctx, id)
		return [2]int64{a, b}, err
	})
	return v[0], v[1], err
}

func (r *Router) VariantBySKU(ctx context.Context, sku string) (catalog.Product, catalog.Variant, error) {
	type pv struct {
		p catalog.Product
		v catalog.Variant
	}
	x, err := read(r, ctx, func(ctx context.Context, s catalog.Store) (pv, error) {
		p, v, err := s.VariantBySKU(ctx, sku)
		return pv{p, v}, err
	})
	return x.p, x.v, err
}

func (r *Router) Variant(ctx context.Context, productID, variantID string) (catalog.Variant, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.Variant, error) {
		return s.Variant(ctx, productID, variantID)
	})
}

func (r *Router) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.ProductPage, error) { return s.ListProducts(ctx, q) })
}

func (r *Router) Facets(ctx context.Context, q catalog.ListQuery, fr catalog.FacetRequest) ([]catalog.Facet, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) ([]catalog.Facet, error) { return s.Facets(ctx, q, fr) })
}

func (r *Router) Category(ctx context.Context, slug string) (catalog.Category, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.Category, error) { return s.Category(ctx, slug) })
}

func (r *Router) Categories(ctx context.Context) ([]catalog.Category, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) ([]catalog.Category, error) { return s.Categories(ctx) })
}

func (r *Router) Collection(ctx context.Context, slug string) (catalog.Collection, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.Collection, error) { return s.Collection(ctx, slug) })
}

func (r *Router) Collections(ctx context.Context) ([]catalog.Collection, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) ([]catalog.Collection, error) { return s.Collections(ctx) })
}

func (r *Router) Attribute(ctx context.Context, key string) (catalog.AttributeDefinition, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) (catalog.AttributeDefinition, error) {
		return s.Attribute(ctx, key)
	})
}

func (r *Router) AttributeList(ctx context.Context) ([]catalog.AttributeDefinition, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) ([]catalog.AttributeDefinition, error) {
		return s.AttributeList(ctx)
	})
}

func (r *Router) PriceHistory(ctx context.Context, variantID, currency string) ([]catalog.PriceEntry, error) {
	return read(r, ctx, func(ctx context.Context, s catalog.Store) ([]catalog.PriceEntry, error) {
		return s.PriceHistory(ctx, variantID, currency)
	})
}
