// Package relay forwards the change feed to an EventBridge bus. Every instance runs a Relay;
// the one holding the lease on the feed consumer "eventbridge" reads the events after the
// consumer's stored position, publishes them in sequence order and stores the new position
// once they are accepted, so a restart or a takeover resumes where the last holder stopped.
// Delivery is at least once: an event is published again only when its acceptance was not
// recorded (a crash, a lost lease, a partial failure); never skipped, except past the feed's
// retention, which is logged and counted (ADR 0018).
package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/catalog"
)

// maxPublish bounds one Publish call (its requests and retries).
const maxPublish = 5 * time.Second

// Consumer is the feed consumer name the EventBridge relay keeps its position under.
const Consumer = "eventbridge"

// Publisher sends events in order and reports how many of the leading ones were accepted
// (*awsevents.Publisher is one).
type Publisher interface {
	Publish(ctx context.Context, events []awsevents.Event) (int, error)
}

// Store is what the relay needs of the catalog store.
type Store interface {
	catalog.EventFeed
	catalog.FeedConsumers
}

// Options tune a Relay. The zero value works.
type Options struct {
	// Name is the feed consumer (Consumer by default).
	Name string
	// Owner names this instance in the lease: unique per process (by default the host name
	// and a random ID).
	Owner string
	// Start is where the consumer begins the first time it runs (the head by default).
	Start catalog.FeedStart
	// LeaseTTL is how long a lease lasts without renewal (30 s): how long the other instances
	// wait before taking over from a holder that died without releasing. The holder renews it
	// every third of it; standbys try to claim it as often.
	LeaseTTL time.Duration
	// Poll is how often the holder reads the feed when it is idle (100 ms).
	Poll time.Duration
	// Batch is how many events one read takes (100).
	Batch int
	// BackoffBase and BackoffCap bound the wait after a failure: doubled from the base per
	// failure in a row, up to the cap, with jitter (500 ms, 30 s).
	BackoffBase, BackoffCap time.Duration
	Log                     *slog.Logger
	// Hooks report what the relay does, for metrics. Any may be nil.
	Hooks Hooks
	// Now is the clock lag is measured with (time.Now).
	Now func() time.Time
}

// Hooks are called by the relay's goroutine; they must not block.
type Hooks struct {
	// Published reports the events one publish accepted, and each one's lag: the time from
	// its change to its acceptance.
	Published func(lags []time.Duration)
	// Failed reports a publish that left n events unaccepted (they are retried).
	Failed func(n int)
	// Skipped reports n events lost to the feed's retention: the position was older than the
	// oldest event kept.
	Skipped func(n int64)
	// Leading reports whether this instance holds the lease, whenever that changes.
	Leading func(bool)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = Consumer
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		if len(host) > 100 {
			host = host[:100]
		}
		o.Owner = host + "/" + strconv.Itoa(os.Getpid()) + "/" + catalog.NewID()
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	o.LeaseTTL = max(o.LeaseTTL, catalog.MinFeedLeaseTTL)
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Batch <= 0 || o.Batch > catalog.MaxEventLimit {
		o.Batch = catalog.DefaultEventLimit
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 500 * time.Millisecond
	}
	if o.BackoffCap <= 0 {
		o.BackoffCap = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Relay forwards the feed to a Publisher while it holds the consumer's lease.
type Relay struct {
	store Store
	pub   Publisher
	opts  Options

	// The loop's state: only Run's goroutine touches it.
	held     bool
	until    time.Time // the lease's end as this instance last claimed it (the store's clock)
	renewAt  time.Time // when to renew (this process's clock)
	position int64
	failures int
}

// New returns a relay from store to pub.
func New(store Store, pub Publisher, opts Options) *Relay {
	return &Relay{store: store, pub: pub, opts: opts.withDefaults()}
}

// Owner is the name this relay holds the lease under.
func (r *Relay) Owner() string { return r.opts.Owner }

// Run forwards events until ctx ends, then releases the lease so another instance takes over
// at once instead of after the TTL.
func (r *Relay) Run(ctx context.Context) {
	defer r.release(ctx)
	for ctx.Err() == nil {
		wait, err := r.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.failures++
			wait = backoff(r.failures, r.opts.BackoffBase, r.opts.BackoffCap)
			level := slog.LevelWarn
			if r.failures > 1 {
				level = slog.LevelDebug // one warning per outage, not one per retry
			}
			r.opts.Log.Log(ctx, level, "event relay: retrying", "consumer", r.opts.Name, "position", r.position,
				"failures", r.failures, "next_in", wait.Round(time.Millisecond).String(), "err", err.Error())
		} else if r.failures > 0 {
			r.opts.Log.Info("event relay: recovered", "consumer", r.opts.Name, "position", r.position, "failures", r.failures)
			r.failures = 0
		}
		if wait > 0 {
			r.sleep(ctx, wait)
		}
	}
}

// step does one unit of work and says how long to wait before the next: claim or renew the
// lease when due, then read one page and publish it.
func (r *Relay) step(ctx context.Context) (time.Duration, error) {
	if !r.held || !time.Now().Before(r.renewAt) {
		if err := r.claim(ctx); err != nil {
			return 0, err
		}
		if !r.held {
			return r.opts.LeaseTTL / 3, nil // a standby: try again in a while
		}
	}
	page, err := r.store.Events(ctx, catalog.EventQuery{After: r.position, Limit: r.opts.Batch})
	if oldest, gone := catalog.OldestKept(err); gone {
		return 0, r.skipTo(ctx, oldest-1)
	}
	if err != nil {
		return 0, fmt.Errorf("read the feed after %d: %w", r.position, err)
	}
	if len(page.Events) == 0 {
		return r.opts.Poll, nil
	}
	evs := make([]awsevents.Event, len(page.Events))
	for i, e := range page.Events {
		if evs[i], err = entry(e); err != nil {
			return 0, err
		}
	}
	// Shutdown does not cut a publish short: a request cancelled in flight may have been
	// accepted without this relay learning it, and its events would be sent again. It is
	// bounded instead, well inside the lease (a publish outlasting the lease could overlap the
	// next holder's) and the shutdown's budget.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(r.opts.LeaseTTL/2, maxPublish))
	n, perr := r.pub.Publish(pctx, evs)
	cancel()
	if n > 0 {
		now := r.opts.Now()
		lags := make([]time.Duration, n)
		for i, e := range page.Events[:n] {
			lags[i] = now.Sub(e.Time)
		}
		if h := r.opts.Hooks.Published; h != nil {
			h(lags)
		}
		// Store what was accepted even when shutdown has begun: otherwise the next holder
		// publishes it again.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		err := r.advance(actx, seq(page.Events[n-1]))
		cancel()
		if err != nil {
			return 0, err
		}
	}
	if perr != nil {
		if h := r.opts.Hooks.Failed; h != nil {
			h(len(evs) - n)
		}
		return 0, fmt.Errorf("publish %d events after %d: %w", len(evs)-n, r.position, perr)
	}
	if len(page.Events) < r.opts.Batch {
		return r.opts.Poll, nil
	}
	return 0, nil // a full page: more may be waiting
}

// claim takes or renews the lease.
func (r *Relay) claim(ctx context.Context) error {
	l, err := r.store.ClaimFeedConsumer(ctx, r.opts.Name, r.opts.Owner, r.opts.LeaseTTL, r.opts.Start)
	if catalog.ErrorCode(err) == catalog.CodeConflict {
		r.lost("another instance holds the lease")
		return nil
	}
	if err != nil {
		// Still holding it until it ends, but not knowing whether the renewal took: stop
		// publishing until a claim succeeds.
		r.lost("the lease could not be renewed")
		return fmt.Errorf("claim the lease: %w", err)
	}
	r.renewAt = time.Now().Add(r.opts.LeaseTTL / 3)
	r.until = l.Until
	if !r.held || r.position != l.Position {
		r.opts.Log.Info("event relay: holding the lease; publishing", "consumer", r.opts.Name, "owner", r.opts.Owner,
			"position", l.Position, "created", l.Created)
	}
	if !r.held {
		r.held = true
		if h := r.opts.Hooks.Leading; h != nil {
			h(true)
		}
	}
	r.position = l.Position
	return nil
}

func (r *Relay) lost(why string) {
	if !r.held {
		return
	}
	r.held = false
	r.opts.Log.Info("event relay: not holding the lease; standing by", "consumer", r.opts.Name, "owner", r.opts.Owner,
		"position", r.position, "reason", why)
	if h := r.opts.Hooks.Leading; h != nil {
		h(false)
	}
}

// advance stores position; a refusal means the lease was lost (another holder now publishes
// from the stored position: what this one published since is published again).
func (r *Relay) advance(ctx context.Context, position int64) error {
	err := r.store.AdvanceFeedConsumer(ctx, r.opts.Name, r.opts.Owner, position)
	if catalog.ErrorCode(err) == catalog.CodeConflict {
		r.lost("the lease ended before the position was stored")
		return nil
	}
	if err != nil {
		return fmt.Errorf("store position %d: %w", position, err)
	}
	r.position = position
	return nil
}

// skipTo moves a position that fell behind the feed's retention to just before the oldest
// event kept. An EventBridge bus's subscribers cannot re-sync from us, so the alternative
// would be to stop forever; the loss is logged as an error and counted.
func (r *Relay) skipTo(ctx context.Context, position int64) error {
	from := r.position
	if err := r.advance(ctx, position); err != nil || r.position != position {
		return err // not holding the lease any more: the next holder finds the same gap
	}
	r.opts.Log.Error("event relay: the stored position was older than the oldest event kept; events in between were purged before they were published and are lost to the bus",
		"consumer", r.opts.Name, "position", from, "resumes_after", position, "at_most_lost", position-from)
	if h := r.opts.Hooks.Skipped; h != nil {
		h(position - from)
	}
	return nil
}

// release ends the lease at shutdown, with a short deadline of its own (ctx has ended).
func (r *Relay) release(ctx context.Context) {
	if !r.held {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := r.store.ReleaseFeedConsumer(rctx, r.opts.Name, r.opts.Owner); err != nil {
		r.opts.Log.Warn("event relay: could not release the lease; another instance takes over when it expires",
			"consumer", r.opts.Name, "until", r.until, "err", err.Error())
	}
	r.lost("shutting down")
}

func (r *Relay) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff is the wait after the n-th failure in a row: base doubled per failure up to limit,
// drawn from its upper half so instances retrying together spread out.
func backoff(n int, base, limit time.Duration) time.Duration {
	d := limit
	if n < 32 {
		d = min(base<<(n-1), limit)
	}
	return d/2 + rand.N(d/2+1)
}

func seq(e catalog.Event) int64 {
	n, _ := strconv.ParseInt(e.Sequence, 10, 64)
	return n
}

// summary is an event without its data, for the rare event too large for an entry; a
// consumer reads the state from the API.
type summary struct {
	catalog.Event
	DataOmitted bool `json:"dataomitted"`
}

// entry is e as EventBridge carries it: the detail-type is the event type and the detail the
// whole CloudEvent (id, sequence and subject included), so rules match on detail.subject or
// detail.data fields and consumers drop duplicates by detail.id.
func entry(e catalog.Event) (awsevents.Event, error) {
	detail, err := json.Marshal(e)
	if err != nil {
		return awsevents.Event{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	s := summary{Event: e, DataOmitted: true}
	s.Data = nil
	short, err := json.Marshal(s)
	if err != nil {
		return awsevents.Event{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	return awsevents.Event{DetailType: e.Type, Detail: string(detail), Summary: string(short), Time: e.Time}, nil
}

var _ Publisher = (*awsevents.Publisher)(nil)
