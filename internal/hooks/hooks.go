// Package hooks is the webhook delivery worker (ADR 0017). Every instance runs one. A worker
// claims a due subscription with a row lease, so no two instances ever deliver to one
// subscription at once; reads the change feed after the subscription's cursor; sends the
// events it selects one at a time, in feed order, signed the Standard Webhooks way; moves the
// cursor only after a 2xx; and on a failure stores when to try again (webhook.NextAttempt), so
// a restart keeps the backoff. Delivery is at least once: the event's ID is the webhook-id
// header, the same on every attempt, so receivers drop duplicates.
package hooks

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/webhook"
)

// Store is what the worker needs of a catalog store.
type Store interface {
	catalog.Webhooks
	Events(ctx context.Context, q catalog.EventQuery) (catalog.EventPage, error)
}

// Defaults of Options.
const (
	DefaultLease   = 30 * time.Second
	DefaultPoll    = time.Second
	DefaultTimeout = 10 * time.Second
	DefaultBatch   = 100
)

// Options configure a Worker. The zero value works, but Client should be set: the default
// refuses every address that is not public (egress.Policy{}).
type Options struct {
	// Owner names this worker in the leases it takes; default a random name.
	Owner string
	// Lease is how long a claim lasts without renewal (every recorded attempt renews it); a
	// crashed worker's subscriptions are taken over after it. Default DefaultLease.
	Lease time.Duration
	// Poll is how long an idle subscription waits before its feed is read again, and how long
	// the worker sleeps when nothing is due. Default DefaultPoll.
	Poll time.Duration
	// Timeout bounds one delivery; it is capped at a third of Lease, so a send always ends
	// well within the lease that covers it. Default DefaultTimeout.
	Timeout time.Duration
	// Batch is how many feed events one claim reads. Default DefaultBatch.
	Batch int
	// Client sends the requests; it must refuse internal destinations at dial time
	// (egress.Policy.Client). Default egress.Policy{}.Client(Timeout).
	Client *http.Client
	// Now is the worker's clock (the store's clock in tests). Default time.Now.
	Now func() time.Time
	// Backoff schedules the next attempt after a failure; default webhook.NextAttempt.
	Backoff func(attempt int, failingSince, now time.Time, rnd *mrand.Rand) (time.Time, bool)
	// Log receives a line per failed delivery and per disabled subscription.
	Log *slog.Logger
	// Delivered, when set, is told each attempt's outcome (catalog.Delivery*), for metrics.
	Delivered func(outcome string)
	// Disabled, when set, is told each subscription the worker disables, for metrics (the
	// stacks alarm on it).
	Disabled func(reason string)
}

// Worker delivers webhooks.
type Worker struct {
	store  Store
	opts   Options
	sender webhook.Sender
	mu     sync.Mutex
	rnd    *mrand.Rand
}

// New returns a worker delivering from store.
func New(store Store, opts Options) *Worker {
	opts.Lease = cmp.Or(opts.Lease, DefaultLease)
	opts.Poll = cmp.Or(opts.Poll, DefaultPoll)
	opts.Timeout = min(cmp.Or(opts.Timeout, DefaultTimeout), opts.Lease/3)
	opts.Batch = min(cmp.Or(opts.Batch, DefaultBatch), catalog.MaxEventLimit)
	if opts.Owner == "" {
		b := make([]byte, 8)
		rand.Read(b)
		opts.Owner = "worker-" + hex.EncodeToString(b)
	}
	if opts.Client == nil {
		opts.Client = egress.Policy{}.Client(opts.Timeout)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = webhook.NextAttempt
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Delivered == nil {
		opts.Delivered = func(string) {}
	}
	if opts.Disabled == nil {
		opts.Disabled = func(string) {}
	}
	var seed [32]byte
	rand.Read(seed[:])
	return &Worker{store: store, opts: opts, sender: webhook.Sender{Client: opts.Client, Now: opts.Now},
		rnd: mrand.New(mrand.NewChaCha8(seed))}
}

// Run works until ctx ends: it serves every due subscription, then sleeps for Poll.
func (w *Worker) Run(ctx context.Context) {
	failing := false
	for {
		_, err := w.Once(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			w.opts.Log.Warn("webhook worker failed; retrying every poll", "err", err)
			failing = true
		case err == nil && failing:
			w.opts.Log.Info("webhook worker recovered")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.opts.Poll):
		}
	}
}

// Once claims and serves due subscriptions until none is left, and returns how many it served.
// It reads first and claims only when there is work (anyDue): a claim is a write, and an idle
// catalog (no subscriptions, none enabled, or all caught up) should not write every poll on
// every instance.
func (w *Worker) Once(ctx context.Context) (int, error) {
	if due, err := w.anyDue(ctx); err != nil || !due {
		return 0, err
	}
	n := 0
	for ctx.Err() == nil {
		h, ok, err := w.store.ClaimWebhook(ctx, w.opts.Owner, w.opts.Lease)
		if err != nil || !ok {
			return n, err
		}
		n++
		if err := w.serve(ctx, h); err != nil && ctx.Err() == nil {
			if errors.Is(err, catalog.ErrLeaseLost) {
				w.opts.Log.Warn("webhook lease lost (another worker took it over, or the subscription was deleted)", "webhook_id", h.ID)
				continue
			}
			return n, err
		}
	}
	return n, nil
}

// anyDue reports whether there is work: an enabled subscription whose next attempt is due and
// whose cursor the feed has moved past. It reads the subscriptions (at most
// catalog.MaxWebhooks) and, when some are due, one event after the lowest of their cursors:
// none means every due subscription is caught up, so nothing is claimed (a feed that fell
// behind retention answers gone: that is work, the claim disables the subscription). A
// subscription leased by another worker may count: the claim then finds nothing, as before.
func (w *Worker) anyDue(ctx context.Context) (bool, error) {
	now := w.opts.Now()
	after, due, lowest := "", false, int64(0)
	for {
		page, err := w.store.ListWebhooks(ctx, after, catalog.MaxWebhooks)
		if err != nil {
			return false, err
		}
		for _, h := range page.Items {
			if h.Enabled && !h.NextAttemptAt.After(now) {
				if !due || h.Cursor < lowest {
					lowest = h.Cursor
				}
				due = true
			}
		}
		if page.Next == "" || len(page.Items) == 0 {
			break
		}
		after = page.Next
	}
	if !due {
		return false, nil
	}
	page, err := w.store.Events(ctx, catalog.EventQuery{After: lowest, Limit: 1})
	if catalog.ErrorCode(err) == catalog.CodeGone {
		return true, nil
	}
	return len(page.Events) > 0, err
}

// serve delivers what the feed holds for one claimed subscription, then releases it.
func (w *Worker) serve(ctx context.Context, h catalog.Webhook) error {
	secrets, err := secretsOf(h)
	if err != nil {
		return w.finish(ctx, h, catalog.WebhookAttempt{Cursor: h.Cursor, NextAttemptAt: w.opts.Now(), Disable: "its secret cannot be read: rotate it", Release: true})
	}
	page, err := w.store.Events(ctx, catalog.EventQuery{After: h.Cursor, Limit: w.opts.Batch})
	if catalog.ErrorCode(err) == catalog.CodeGone {
		return w.finish(ctx, h, catalog.WebhookAttempt{Cursor: h.Cursor, NextAttemptAt: w.opts.Now(), Disable: catalog.DisabledFellBehind, Release: true})
	}
	if err != nil {
		// Give the subscription back at once: the store's trouble is not the receiver's fault.
		w.finish(ctx, h, catalog.WebhookAttempt{Cursor: h.Cursor, Failures: h.Failures, FailingSince: h.FailingSince,
			NextAttemptAt: w.opts.Now().Add(w.opts.Poll), Release: true})
		return err
	}
	cursor := h.Cursor
	for _, e := range page.Events {
		seq, err := strconv.ParseInt(e.Sequence, 10, 64)
		if err != nil {
			return fmt.Errorf("event %s has sequence %q: %w", e.ID, e.Sequence, err)
		}
		if !h.Wants(e.Type) {
			cursor = seq // skipped, so a rare type does not leave the cursor behind retention
			continue
		}
		done, err := w.deliver(ctx, &h, e, seq, cursor, secrets)
		if err != nil || done {
			return err
		}
		cursor = seq
	}
	next := w.opts.Now()
	if len(page.Events) < w.opts.Batch {
		next = next.Add(w.opts.Poll) // caught up: look again after a poll
	}
	return w.finish(ctx, h, catalog.WebhookAttempt{Cursor: cursor, NextAttemptAt: next, Release: true})
}

// deliver makes one attempt at event e and records it; done reports that the claim is over (a
// failure scheduled a retry, or the subscription was disabled).
func (w *Worker) deliver(ctx context.Context, h *catalog.Webhook, e catalog.Event, seq, cursor int64, secrets []webhook.Secret) (done bool, err error) {
	body, err := json.Marshal(e)
	if err != nil {
		return true, err
	}
	sctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	out := w.sender.Send(sctx, webhook.Message{ID: e.ID, URL: h.URL, Body: body, Secrets: secrets})
	cancel()
	if ctx.Err() != nil && !out.OK() {
		// Shutting down: the attempt was cut short by us, not failed by the receiver. The
		// event stays after the cursor and the next worker sends it again.
		return true, w.finish(ctx, *h, catalog.WebhookAttempt{Cursor: cursor, Failures: h.Failures, FailingSince: h.FailingSince,
			NextAttemptAt: w.opts.Now(), Release: true})
	}
	if ctx.Err() != nil {
		// Accepted just as we were told to stop: record it, so the next worker does not send
		// it again.
		err := w.finish(ctx, *h, catalog.WebhookAttempt{Cursor: seq, NextAttemptAt: w.opts.Now(), Release: true,
			Delivery: &catalog.WebhookDelivery{EventID: e.ID, EventType: e.Type, Sequence: seq, Attempt: h.Failures + 1,
				Status: out.Status, DurationMS: out.Duration.Milliseconds(), Outcome: catalog.DeliveryDelivered}})
		if err == nil {
			w.opts.Delivered(catalog.DeliveryDelivered)
		}
		return true, err
	}
	now := w.opts.Now()
	d := &catalog.WebhookDelivery{EventID: e.ID, EventType: e.Type, Sequence: seq, Attempt: h.Failures + 1, Status: out.Status,
		DurationMS: out.Duration.Milliseconds(), Outcome: catalog.DeliveryDelivered}
	a := catalog.WebhookAttempt{Delivery: d, Cursor: seq, NextAttemptAt: now}
	switch {
	case out.OK():
	case out.Gone:
		d.Outcome, d.Error = catalog.DeliveryGone, out.Err.Error()
		a.Cursor, a.Disable, a.Release = cursor, catalog.DisabledGone, true
	default:
		d.Outcome, d.Error = catalog.DeliveryFailed, errorText(out.Err)
		if errors.Is(out.Err, egress.ErrForbidden) {
			d.Outcome = catalog.DeliveryRefused
		}
		since := now
		if h.FailingSince != nil {
			since = *h.FailingSince
		}
		at, disable := w.opts.Backoff(d.Attempt, since, now, w.random())
		a.Cursor, a.Failures, a.FailingSince, a.NextAttemptAt, a.Release = cursor, d.Attempt, &since, at, true
		if disable {
			a.Disable, a.NextAttemptAt = catalog.DisabledFailingFor, now
		}
	}
	if d.Outcome != catalog.DeliveryDelivered {
		w.opts.Log.Warn("webhook delivery failed", "webhook_id", h.ID, "event_id", e.ID, "attempt", d.Attempt,
			"status", d.Status, "err", d.Error, "next_attempt_at", a.NextAttemptAt, "disable", a.Disable)
	}
	enabled, err := w.store.RecordWebhookAttempt(ctx, h.ID, w.opts.Owner, a, w.opts.Lease)
	if err != nil {
		return true, err
	}
	// Counted once recorded: a reader of the metric finds the attempt in the delivery log, and
	// an attempt whose record failed is sent again and counted then, not twice.
	w.opts.Delivered(d.Outcome)
	if a.Disable != "" {
		w.opts.Log.Warn("webhook disabled", "webhook_id", h.ID, "reason", a.Disable)
		w.opts.Disabled(a.Disable)
	}
	h.Failures, h.FailingSince = 0, nil
	if !enabled && !a.Release {
		// Disabled through the API meanwhile: stop, and give the lease back so a re-enable
		// is served at once rather than after the lease expires.
		return true, w.finish(ctx, *h, catalog.WebhookAttempt{Cursor: seq, NextAttemptAt: now, Release: true})
	}
	return a.Release || !enabled, nil
}

// finish records a and ends the claim; it still runs while the worker shuts down, so the lease
// goes back at once instead of expiring.
func (w *Worker) finish(ctx context.Context, h catalog.Webhook, a catalog.WebhookAttempt) error {
	a.Release = true
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := w.store.RecordWebhookAttempt(fctx, h.ID, w.opts.Owner, a, 0)
	if a.Disable != "" && err == nil {
		w.opts.Log.Warn("webhook disabled", "webhook_id", h.ID, "reason", a.Disable)
		w.opts.Disabled(a.Disable)
	}
	return err
}

func (w *Worker) random() *mrand.Rand {
	w.mu.Lock()
	defer w.mu.Unlock()
	return mrand.New(mrand.NewPCG(w.rnd.Uint64(), w.rnd.Uint64()))
}

// errorText is what the log keeps of a failed attempt: bounded, one line.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 500 {
		s = strings.ToValidUTF8(s[:500], "")
	}
	if catalog.TextProblem(s, catalog.Line) != "" {
		return "the attempt failed (the error text is not printable)"
	}
	return s
}

func secretsOf(h catalog.Webhook) ([]webhook.Secret, error) {
	cur, err := webhook.ParseSecret(h.Secret)
	if err != nil {
		return nil, err
	}
	out := []webhook.Secret{cur}
	if h.PreviousSecret != "" {
		if prev, err := webhook.ParseSecret(h.PreviousSecret); err == nil {
			out = append(out, prev)
		}
	}
	return out, nil
}
