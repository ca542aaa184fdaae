// Package awsevents publishes the catalog's events to an Amazon EventBridge bus, so other AWS
// services subscribe with rules instead of webhooks. It batches within PutEvents' limits and
// retries the entries EventBridge reports as failed.
package awsevents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// PutEvents limits (EventBridge API reference, PutEvents; "Calculating Amazon EventBridge
// PutEvents event entry size"): at most 10 entries per request, and the entries of one request
// together under 256 KB, counted as 14 bytes for Time plus the UTF-8 bytes of Source,
// DetailType, Detail and each Resources entry.
const (
	MaxEntries      = 10
	MaxRequestBytes = 256 * 1024
	timeBytes       = 14
)

// Putter is the one EventBridge call used; *eventbridge.Client has it.
type Putter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Event is one catalog event as EventBridge carries it: DetailType is the event's type
// ("catalog.product.updated"), Detail its JSON, Resources the IDs it concerns.
type Event struct {
	DetailType string
	Detail     string
	Time       time.Time
	Resources  []string
	// Summary replaces Detail when Detail would not fit in an entry (a product with 2,048
	// variants): a consumer reads the full state from the API or the change feed.
	Summary string
}

// Publisher sends events to one bus under one source.
type Publisher struct {
	client Putter
	bus    string
	source string
	// Attempts bounds the tries for entries EventBridge reports as failed (throttling, internal
	// errors); Backoff is the wait before the second try, doubled each time.
	Attempts int
	Backoff  time.Duration
	// Concurrency is how many requests may be in flight at once (1: one after the other, so
	// events reach the bus in order). Each PutEvents call costs tens of milliseconds from a
	// task, so one stream of 10-entry requests carries a few hundred events a second; more
	// streams carry more, in an order EventBridge does not keep anyway.
	Concurrency int
}

// New returns a publisher to bus (its name or ARN) with events from source ("catalog").
func New(client Putter, bus, source string) *Publisher {
	return &Publisher{client: client, bus: bus, source: source, Attempts: 4, Backoff: 100 * time.Millisecond}
}

// NewFromEnvironment uses the default AWS configuration (the task role on ECS). The
// AWS_ENDPOINT_URL_EVENTBRIDGE variable points it elsewhere (a VPC endpoint, or a test).
func NewFromEnvironment(ctx context.Context, bus, source string) (*Publisher, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return New(eventbridge.NewFromConfig(cfg), bus, source), nil
}

func (p *Publisher) entry(e Event) (types.PutEventsRequestEntry, int) {
	detail := e.Detail
	size := func(d string) int {
		n := timeBytes + len(p.source) + len(e.DetailType) + len(d)
		for _, r := range e.Resources {
			n += len(r)
		}
		return n
	}
	n := size(detail)
	if n >= MaxRequestBytes && e.Summary != "" {
		detail, n = e.Summary, size(e.Summary)
	}
	return types.PutEventsRequestEntry{
		EventBusName: aws.String(p.bus),
		Source:       aws.String(p.source),
		DetailType:   aws.String(e.DetailType),
		Detail:       aws.String(detail),
		Time:         aws.Time(e.Time),
		Resources:    e.Resources,
	}, n
}

// ErrTooLarge is returned for an event that does not fit in an entry even summarized.
var ErrTooLarge = errors.New("awsevents: event larger than a PutEvents entry may be")

// Publish sends events in sequence order, in as few requests as the limits allow
// (Concurrency of them at a time), retrying the entries EventBridge reports as failed (only
// those: the ones accepted are not sent twice) with backoff. It returns how many of the leading
// events were accepted: all of them and nil, or fewer and an error, so a caller that keeps the
// rest for later never skips an event. A request's entries may reach the bus out of order when
// some are retried; a standard bus does not keep order anyway, and each event carries its
// sequence.
func (p *Publisher) Publish(ctx context.Context, events []Event) (int, error) {
	// Split into requests first, each within the entry and size limits.
	var batches [][]types.PutEventsRequestEntry
	var batch []types.PutEventsRequestEntry
	bytes := 0
	var tooLarge error
	for _, e := range events {
		en, n := p.entry(e)
		if n >= MaxRequestBytes {
			// The events before it can still go; it stops the rest.
			tooLarge = fmt.Errorf("%w: %s of %d bytes", ErrTooLarge, e.DetailType, n)
			break
		}
		if len(batch) == MaxEntries || bytes+n >= MaxRequestBytes {
			batches = append(batches, batch)
			batch, bytes = nil, 0
		}
		batch = append(batch, en)
		bytes += n
	}
	if len(batch) > 0 {
		batches = append(batches, batch)
	}
	width := max(p.Concurrency, 1)
	done := 0
	for len(batches) > 0 {
		window := batches[:min(width, len(batches))]
		batches = batches[len(window):]
		accepted := make([]int, len(window))
		errs := make([]error, len(window))
		if len(window) == 1 {
			accepted[0], errs[0] = p.put(ctx, window[0])
		} else {
			var wg sync.WaitGroup
			for i, b := range window {
				wg.Add(1)
				go func() {
					defer wg.Done()
					accepted[i], errs[i] = p.put(ctx, b)
				}()
			}
			wg.Wait()
		}
		// Only the leading run of fully accepted requests counts, plus the accepted head of
		// the first one that was not: a later request's events will be sent again.
		for i, b := range window {
			done += accepted[i]
			if errs[i] != nil || accepted[i] < len(b) {
				return done, errs[i]
			}
		}
	}
	return done, tooLarge
}

// put sends one request's entries until all are accepted or the attempts run out, and
// returns how many leading entries were accepted.
func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry) (int, error) {
	accepted := make([]bool, len(entries))
	prefix := func() int {
		n := 0
		for n < len(accepted) && accepted[n] {
			n++
		}
		return n
	}
	pending := make([]int, len(entries)) // indices into entries still to send
	for i := range pending {
		pending[i] = i
	}
	wait := p.Backoff
	for attempt := 1; ; attempt++ {
		send := make([]types.PutEventsRequestEntry, len(pending))
		for k, i := range pending {
			send[k] = entries[i]
		}
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: send})
		if err != nil {
			// The SDK already retried retryable errors; what reaches here is final for now.
			return prefix(), fmt.Errorf("put %d events to %s: %w", len(send), p.bus, err)
		}
		// Entries come back in request order; those with an ErrorCode failed, and so does any
		// entry the answer leaves out.
		var failed []int
		var codes []string
		for k, i := range pending {
			if k < len(out.Entries) && out.Entries[k].ErrorCode == nil {
				accepted[i] = true
				continue
			}
			failed = append(failed, i)
			if k < len(out.Entries) {
				codes = append(codes, aws.ToString(out.Entries[k].ErrorCode))
			}
		}
		if len(failed) == 0 {
			return len(entries), nil
		}
		if attempt >= p.Attempts {
			return prefix(), fmt.Errorf("put events to %s: %d of %d still failing after %d attempts (%s)",
				p.bus, len(failed), len(entries), attempt, strings.Join(codes, ", "))
		}
		select {
		case <-ctx.Done():
			return prefix(), ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
		pending = failed
	}
}
