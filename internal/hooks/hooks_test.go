package hooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/egress"
	"github.com/acme/catalog/internal/hooks"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/storetest"
	"github.com/acme/catalog/internal/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// opener opens a fresh store on clock (nil: the real clock).
type opener func(t *testing.T, clock catalog.Clock) catalog.Store

// eachStore runs fn against both stores.
func eachStore(t *testing.T, fn func(t *testing.T, open opener)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			fn(t, func(t *testing.T, clock catalog.Clock) catalog.Store { return openStore(t, name, clock) })
		})
	}
}

// openStore opens a fresh store of the named kind, closed when tb ends.
func openStore(tb testing.TB, name string, clock catalog.Clock) catalog.Store {
	tb.Helper()
	var s catalog.Store
	var err error
	if name == "sqlite" {
		s, err = sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "c.db"), sqlite.Options{Clock: clock})
	} else {
		s, err = postgres.Open(context.Background(), pgtest.URL(tb), postgres.Options{Clock: clock, MaxConns: 8})
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// loopback is the allow-list the tests' receivers need (they listen on 127.0.0.1).
var loopback = egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, AllowHTTP: true}

// receiver is a webhook receiver: it verifies every request's signature with the secrets it
// holds, fails the test on two requests at once, and answers what answer says.
type receiver struct {
	t        testing.TB
	srv      *httptest.Server
	now      func() time.Time
	mu       sync.Mutex
	secrets  []webhook.Secret
	inflight atomic.Int32
	calls    []call
	answer   func(n int, r *http.Request) int // n counts requests from 1
}

type call struct {
	id     string
	typ    string
	seq    int64
	status int
}

func newReceiver(t testing.TB, now func() time.Time, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{t: t, now: now, answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if n := rc.inflight.Add(1); n > 1 {
		rc.t.Errorf("%d deliveries to one subscription at once", n)
	}
	inflight := true
	defer func() {
		if inflight {
			rc.inflight.Add(-1)
		}
	}()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rc.mu.Lock()
	secrets := slices.Clone(rc.secrets)
	n := len(rc.calls) + 1
	rc.mu.Unlock()
	for _, s := range secrets {
		if err := webhook.Verify(r.Header, body, s, rc.now()); err != nil {
			rc.t.Errorf("Verify(secret %s...) = %v", s.String()[:10], err)
		}
	}
	var e catalog.Event
	if err := json.Unmarshal(body, &e); err != nil {
		rc.t.Errorf("body is not an event: %v", err)
	}
	if r.Header.Get(webhook.HeaderID) != e.ID {
		rc.t.Errorf("webhook-id %q, want the event's ID %q", r.Header.Get(webhook.HeaderID), e.ID)
	}
	status := rc.answer(n, r)
	seq, _ := strconv.ParseInt(e.Sequence, 10, 64)
	rc.mu.Lock()
	rc.calls = append(rc.calls, call{id: e.ID, typ: e.Type, seq: seq, status: max(status, 0)})
	rc.mu.Unlock()
	if status == hang {
		// The client gives up first; from then on it may send again, so this request no
		// longer counts as in flight (it was recorded above, in the order it came).
		rc.inflight.Add(-1)
		inflight = false
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
}

func (rc *receiver) trust(secret string) {
	s, err := webhook.ParseSecret(secret)
	if err != nil {
		rc.t.Fatal(err)
	}
	rc.mu.Lock()
	rc.secrets = append(rc.secrets, s)
	rc.mu.Unlock()
}

func (rc *receiver) snapshot() []call {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.calls)
}

// hang, as an answer, holds the request until the client gives up.
const hang = -1

func ok(int, *http.Request) int { return http.StatusNoContent }

// subscribe creates a subscription to the receiver with a fresh secret the receiver trusts.
func subscribe(t *testing.T, s catalog.Store, rc *receiver, types ...string) catalog.Webhook {
	t.Helper()
	secret := webhook.NewSecret().String()
	h, err := s.CreateWebhook(context.Background(), catalog.WebhookInput{URL: rc.srv.URL + "/hook", EventTypes: types}, secret)
	if err != nil {
		t.Fatal(err)
	}
	rc.trust(secret)
	return h
}

func writeCategories(t *testing.T, s catalog.Store, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.CreateCategory(context.Background(), catalog.CategoryInput{Slug: fmt.Sprintf("%s-%d", prefix, i), Name: "C"}); err != nil {
			t.Fatal(err)
		}
	}
}

func worker(s catalog.Store, clock *storetest.FakeClock, opts hooks.Options) *hooks.Worker {
	if opts.Client == nil {
		opts.Client = loopback.Client(time.Second)
	}
	if clock != nil {
		opts.Now = clock.Now
	}
	return hooks.New(s, opts)
}

// disables records what a worker's Disabled hook is told (it is what the metrics count).
type disables struct {
	mu      sync.Mutex
	reasons []string
}

func (d *disables) hook(reason string) {
	d.mu.Lock()
	d.reasons = append(d.reasons, reason)
	d.mu.Unlock()
}

func (d *disables) check(t *testing.T, want string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.reasons) != 1 || d.reasons[0] != want {
		t.Errorf("Disabled hook told %q, want once %q", d.reasons, want)
	}
}

func once(t *testing.T, w *hooks.Worker) {
	t.Helper()
	if _, err := w.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func hook(t testing.TB, s catalog.Store, id string) catalog.Webhook {
	t.Helper()
	h, err := s.Webhook(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func deliveries(t *testing.T, s catalog.Store, id string) []catalog.WebhookDelivery {
	t.Helper()
	page, err := s.WebhookDeliveries(context.Background(), id, 0, catalog.MaxDeliveryLimit)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(page.Items)
	return page.Items
}

// TestDeliversSelectedEventsSignedInOrder: a subscription gets the types it selected, in feed
// order, each signed so the receiver's Verify accepts it; the cursor moves past the rest; a
// secret rotation signs with both secrets during the overlap.
func TestDeliversSelectedEventsSignedInOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, ok)
		h := subscribe(t, s, rc, catalog.EventCategoryCreated)
		writeCategories(t, s, "a", 3)
		if _, err := s.CreateAttribute(context.Background(), catalog.AttributeDefinitionInput{Key: "fabric", Name: "Fabric", Type: catalog.AttrText}); err != nil {
			t.Fatal(err)
		}
		writeCategories(t, s, "b", 2)
		if _, err := s.CreateAttribute(context.Background(), catalog.AttributeDefinitionInput{Key: "size", Name: "Size", Type: catalog.AttrText}); err != nil {
			t.Fatal(err)
		}
		once(t, worker(s, clock, hooks.Options{}))
		calls := rc.snapshot()
		if len(calls) != 5 {
			t.Fatalf("receiver got %d requests, want the 5 category events", len(calls))
		}
		for i, c := range calls {
			if c.typ != catalog.EventCategoryCreated || (i > 0 && c.seq <= calls[i-1].seq) {
				t.Errorf("request %d: %s seq %d; want category events in feed order", i, c.typ, c.seq)
			}
		}
		page, err := s.Events(context.Background(), catalog.EventQuery{After: h.Cursor})
		if err != nil {
			t.Fatal(err)
		}
		if got := hook(t, s, h.ID); got.Cursor != page.Next || got.Failures != 0 {
			t.Errorf("cursor = %d, want %d (past the last event, a skipped one)", got.Cursor, page.Next)
		}
		log := deliveries(t, s, h.ID)
		if len(log) != 5 || log[0].Outcome != catalog.DeliveryDelivered || log[0].Status != 204 || log[0].Attempt != 1 {
			t.Errorf("delivery log = %+v", log)
		}

		// Rotation: the receiver holding only the old secret and one holding only the new both
		// verify (receiver.trust makes it check every secret it holds).
		newSecret := webhook.NewSecret().String()
		if _, err := s.RotateWebhookSecret(context.Background(), h.ID, newSecret); err != nil {
			t.Fatal(err)
		}
		rc.trust(newSecret)
		clock.Advance(2 * time.Second) // past the poll the caught-up subscription waits
		writeCategories(t, s, "c", 1)
		once(t, worker(s, clock, hooks.Options{}))
		if n := len(rc.snapshot()); n != 6 {
			t.Fatalf("after the rotation the receiver got %d requests, want 6", n)
		}
	})
}

// TestRetriesAfter500AndTimeout: failures are retried on the stored schedule with the same
// webhook-id, by a new worker after each failure (a restart), and the cursor moves only once
// the receiver answers 2xx.
func TestRetriesAfter500AndTimeout(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, func(n int, r *http.Request) int {
			switch n {
			case 1, 2:
				return http.StatusInternalServerError
			case 3:
				return hang // longer than the worker waits
			}
			return http.StatusOK
		})
		h := subscribe(t, s, rc)
		writeCategories(t, s, "r", 2)
		w := worker(s, clock, hooks.Options{Timeout: 300 * time.Millisecond})
		var statuses []int
		for attempt := 1; attempt <= 4; attempt++ {
			once(t, w)
			got := hook(t, s, h.ID)
			log := deliveries(t, s, h.ID)
			last := log[len(log)-1]
			statuses = append(statuses, last.Status)
			if attempt < 4 {
				if got.Failures != attempt || got.Cursor != h.Cursor {
					t.Fatalf("after failure %d: failures %d cursor %d, want %d and %d", attempt, got.Failures, got.Cursor, attempt, h.Cursor)
				}
				step := min(webhook.FirstRetry<<(attempt-1), webhook.MaxRetryDelay)
				if wait := got.NextAttemptAt.Sub(clock.Now()); wait < step/2 || wait > step {
					t.Errorf("retry %d scheduled in %s, want between %s and %s", attempt, wait, step/2, step)
				}
				// Not due yet: nothing is sent.
				once(t, w)
				if n := len(deliveries(t, s, h.ID)); n != len(log) {
					t.Fatalf("an attempt was made before the retry was due")
				}
				clock.Advance(got.NextAttemptAt.Sub(clock.Now()))
				// A restart between attempts: a new worker (another owner) keeps the
				// stored schedule and attempt count.
				w = worker(s, clock, hooks.Options{Timeout: 300 * time.Millisecond, Owner: fmt.Sprint("restarted-", attempt)})
			}
		}
		if fmt.Sprint(statuses) != "[500 500 0 200]" {
			t.Errorf("statuses = %v, want [500 500 0 200]", statuses)
		}
		calls := rc.snapshot()
		for _, c := range calls[:4] {
			if c.id != calls[0].id {
				t.Errorf("a retry carried webhook-id %s, want %s", c.id, calls[0].id)
			}
		}
		if len(calls) != 5 || calls[4].seq <= calls[0].seq {
			t.Errorf("after the retries the second event was not delivered: %+v", calls)
		}
		log := deliveries(t, s, h.ID)
		if log[2].Error == "" || log[2].Status != 0 || log[3].Attempt != 4 {
			t.Errorf("the timed-out attempt's log line = %+v, the success's = %+v", log[2], log[3])
		}
	})
}

// TestDisablesAfterADayOfFailures: a receiver that fails for 24h is disabled and says why.
func TestDisablesAfterADayOfFailures(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, func(int, *http.Request) int { return http.StatusServiceUnavailable })
		h := subscribe(t, s, rc)
		writeCategories(t, s, "d", 1)
		var dis disables
		w := worker(s, clock, hooks.Options{Disabled: dis.hook})
		start := clock.Now()
		for i := 0; ; i++ {
			if i > 200 {
				t.Fatal("still enabled after 200 attempts")
			}
			once(t, w)
			got := hook(t, s, h.ID)
			if !got.Enabled {
				if got.DisabledReason != catalog.DisabledFailingFor || got.DisabledAt == nil {
					t.Errorf("disabled with %q at %v", got.DisabledReason, got.DisabledAt)
				}
				if d := got.DisabledAt.Sub(start); d < webhook.DisableAfter || d > webhook.DisableAfter+webhook.MaxRetryDelay {
					t.Errorf("disabled after %s of failures, want 24h to 25h", d)
				}
				break
			}
			clock.Advance(got.NextAttemptAt.Sub(clock.Now()))
		}
		// Disabled: nothing more is sent, however long we wait.
		n := len(rc.snapshot())
		clock.Advance(48 * time.Hour)
		once(t, w)
		if len(rc.snapshot()) != n {
			t.Error("a disabled subscription was delivered to")
		}
		if n < 20 || n > 60 {
			t.Errorf("%d attempts in a day, want the exponential schedule's 20-60", n)
		}
		dis.check(t, catalog.DisabledFailingFor)
	})
}

// TestGoneDisables: a 410 disables the subscription at once.
func TestGoneDisables(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, func(int, *http.Request) int { return http.StatusGone })
		h := subscribe(t, s, rc)
		writeCategories(t, s, "g", 2)
		var dis disables
		once(t, worker(s, clock, hooks.Options{Disabled: dis.hook}))
		dis.check(t, catalog.DisabledGone)
		got := hook(t, s, h.ID)
		if got.Enabled || got.DisabledReason != catalog.DisabledGone || got.Cursor != h.Cursor {
			t.Errorf("after a 410: %+v, want disabled (410), cursor unmoved", got)
		}
		if calls := rc.snapshot(); len(calls) != 1 {
			t.Errorf("%d requests after a 410, want 1", len(calls))
		}
		if log := deliveries(t, s, h.ID); len(log) != 1 || log[0].Outcome != catalog.DeliveryGone {
			t.Errorf("log = %+v", log)
		}
	})
}

// TestFellBehindRetention: a subscription whose cursor is older than the feed's retention is
// disabled with the reason that tells the operator what to do.
func TestFellBehindRetention(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, ok)
		h := subscribe(t, s, rc)
		writeCategories(t, s, "f", 3)
		clock.Advance(8 * 24 * time.Hour)
		for {
			n, err := s.PurgeEvents(context.Background(), catalog.DefaultEventRetention, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		var dis disables
		once(t, worker(s, clock, hooks.Options{Disabled: dis.hook}))
		dis.check(t, catalog.DisabledFellBehind)
		got := hook(t, s, h.ID)
		if got.Enabled || got.DisabledReason != catalog.DisabledFellBehind {
			t.Errorf("after falling behind: enabled %v reason %q, want %q", got.Enabled, got.DisabledReason, catalog.DisabledFellBehind)
		}
		if len(rc.snapshot()) != 0 {
			t.Error("events were delivered across a gap")
		}
	})
}

// TestDialGuardRefusesLoopback: a subscription whose host resolves to a loopback address when
// it is called (here "localhost", as a DNS answer changed after the URL was accepted would) is
// never connected to; the log says the attempt was refused.
func TestDialGuardRefusesLoopback(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, ok)
		// Stored as if the create-time check had passed (it resolved elsewhere then).
		u := strings.Replace(rc.srv.URL, "127.0.0.1", "localhost", 1)
		h, err := s.CreateWebhook(context.Background(), catalog.WebhookInput{URL: u}, webhook.NewSecret().String())
		if err != nil {
			t.Fatal(err)
		}
		writeCategories(t, s, "x", 1)
		once(t, worker(s, clock, hooks.Options{Client: egress.Policy{AllowHTTP: true}.Client(time.Second)}))
		if n := len(rc.snapshot()); n != 0 {
			t.Fatalf("the receiver on loopback got %d requests", n)
		}
		log := deliveries(t, s, h.ID)
		if len(log) != 1 || log[0].Outcome != catalog.DeliveryRefused || !strings.Contains(log[0].Error, "not public") {
			t.Errorf("log = %+v, want one refused attempt", log)
		}
		if got := hook(t, s, h.ID); got.Cursor != h.Cursor || !got.Enabled || got.Failures != 1 {
			t.Errorf("after the refusal: %+v", got)
		}
	})
}

// TestRestartMidRetryNeverParallel: workers on two "instances" compete for one subscription
// while the receiver fails now and then; one is stopped mid-retry and another started, and a
// crashed worker's lease is waited out. Every event arrives, in order, and the receiver never
// sees two requests at once (it fails the test if it does).
func TestRestartMidRetryNeverParallel(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		s := open(t, nil)
		rc := newReceiver(t, time.Now, func(n int, _ *http.Request) int {
			time.Sleep(time.Duration(mrand.IntN(5)) * time.Millisecond)
			if n%3 == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		})
		h := subscribe(t, s, rc)
		const events = 30
		writeCategories(t, s, "p", events)
		// A worker that crashed holding the lease: the others wait for it to expire.
		crashed, found, err := s.ClaimWebhook(context.Background(), "crashed", time.Second)
		if err != nil || !found || crashed.ID != h.ID {
			t.Fatalf("claim = %v, %v", found, err)
		}
		started := time.Now()
		fast := func(int, time.Time, time.Time, *mrand.Rand) (time.Time, bool) {
			return time.Now().Add(20 * time.Millisecond), false
		}
		opts := func(owner string) hooks.Options {
			return hooks.Options{Owner: owner, Lease: 3 * time.Second, Poll: 10 * time.Millisecond, Backoff: fast}
		}
		run := func(owner string) (stop func()) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); worker(s, nil, opts(owner)).Run(ctx) }()
			return func() { cancel(); <-done }
		}
		stopA, stopB := run("a"), run("b")
		// Stop a mid-retry: as soon as some failures have happened.
		deadline := time.Now().Add(30 * time.Second)
		for len(rc.snapshot()) < 6 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		stopA()
		stopC := run("c")
		for accepted(rc.snapshot()) < events && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		// The receiver answers before the worker records the cursor: stopping the workers in
		// between would leave the last event to be sent again (at least once), not a cursor
		// behind what was delivered. Wait for the record, as a running service would.
		for hook(t, s, h.ID).Cursor < lastAccepted(rc.snapshot()) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		stopB()
		stopC()
		calls := rc.snapshot()
		if len(calls) == 0 || calls[0].status == 0 {
			t.Fatal("nothing delivered")
		}
		if d := time.Since(started); d < time.Second {
			t.Errorf("delivered within %s, before the crashed worker's lease expired", d)
		}
		var seen []int64
		for _, c := range calls {
			if c.status/100 != 2 {
				continue
			}
			if n := len(seen); n > 0 && c.seq < seen[n-1] {
				t.Fatalf("event %d accepted after event %d: out of order", c.seq, seen[n-1])
			}
			if n := len(seen); n == 0 || seen[n-1] != c.seq {
				seen = append(seen, c.seq)
			}
		}
		if len(seen) != events {
			t.Errorf("%d distinct events accepted, want %d", len(seen), events)
		}
		if got := hook(t, s, h.ID); got.Cursor != seen[len(seen)-1] {
			t.Errorf("cursor %d, want the last event %d", got.Cursor, seen[len(seen)-1])
		}
	})
}

// lastAccepted is the highest event sequence the receiver answered 2xx to.
func lastAccepted(calls []call) int64 {
	var last int64
	for _, c := range calls {
		if c.status/100 == 2 && c.seq > last {
			last = c.seq
		}
	}
	return last
}

func accepted(calls []call) int {
	seen := map[int64]bool{}
	for _, c := range calls {
		if c.status/100 == 2 {
			seen[c.seq] = true
		}
	}
	return len(seen)
}

// TestRandomOutcomesKeepOrder is a property test: under random receiver answers (2xx, 500, 404,
// timeouts) interleaved with random writes, every request is for the first selected event not
// yet accepted (never one ahead of it), the accepted events are exactly the selected part of
// the feed in order, each attempt is in the log with its attempt number, and the cursor ends at
// the feed's last event.
func TestRandomOutcomesKeepOrder(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { randomOutcomes(t, open, seed) })
		}
	})
}

func randomOutcomes(t *testing.T, open opener, seed uint64) {
	rnd := mrand.New(mrand.NewPCG(seed, 17))
	clock := storetest.NewFakeClock()
	s := open(t, clock.Now)
	var draining atomic.Bool
	var mu sync.Mutex
	rc := newReceiver(t, clock.Now, func(int, *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		switch p := rnd.IntN(100); {
		case draining.Load() || p < 55:
			return http.StatusOK
		case p < 80:
			return http.StatusInternalServerError
		case p < 90:
			return http.StatusNotFound
		default:
			return hang
		}
	})
	selected := []string{catalog.EventCategoryCreated, catalog.EventCategoryUpdated}
	h := subscribe(t, s, rc, selected...)
	// The timeout must be far above a quick answer's time on a loaded machine: an answer the
	// worker gives up on after the receiver recorded it reads as accepted here and sent again
	// there. Each hang costs the timeout, so it is not larger than that needs.
	w := worker(s, clock, hooks.Options{Timeout: 750 * time.Millisecond})
	c := context.Background()
	writes := 0
	write := func() {
		mu.Lock()
		k := rnd.IntN(3)
		mu.Unlock()
		slug := fmt.Sprintf("c-%d", writes)
		writes++
		var err error
		switch k {
		case 0:
			_, err = s.CreateCategory(c, catalog.CategoryInput{Slug: slug, Name: "C"})
		case 1:
			_, err = s.CreateAttribute(c, catalog.AttributeDefinitionInput{Key: strings.ReplaceAll(slug, "-", "_"), Name: "A", Type: catalog.AttrText})
		default:
			if writes > 1 {
				name := fmt.Sprint("renamed ", writes)
				_, err = s.UpdateCategory(c, "c-0", catalog.CategoryPatch{Name: &name})
				if catalog.ErrorCode(err) == catalog.CodeNotFound {
					err = nil
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 40 {
		mu.Lock()
		n := rnd.IntN(3)
		mu.Unlock()
		for range n {
			write()
		}
		once(t, w)
		if got := hook(t, s, h.ID); got.NextAttemptAt.After(clock.Now()) {
			clock.Advance(got.NextAttemptAt.Sub(clock.Now()))
		}
	}
	draining.Store(true)
	for range 200 {
		once(t, w)
		got := hook(t, s, h.ID)
		if !got.Enabled {
			t.Fatalf("disabled: %s", got.DisabledReason)
		}
		clock.Advance(max(got.NextAttemptAt.Sub(clock.Now()), 2*time.Second))
		if got.Failures == 0 && got.NextAttemptAt.After(clock.Now().Add(-2*time.Second)) {
			page, err := s.Events(c, catalog.EventQuery{After: got.Cursor})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) == 0 {
				break
			}
		}
	}

	feedAll, last := allEvents(t, s, h.Cursor)
	var want []int64
	for _, e := range feedAll {
		if slices.Contains(selected, e.Type) {
			seq, _ := strconv.ParseInt(e.Sequence, 10, 64)
			want = append(want, seq)
		}
	}
	var accepted []int64
	next := 0
	for i, cl := range rc.snapshot() {
		if next >= len(want) || cl.seq != want[next] {
			t.Fatalf("request %d is for event %d, want %d (the first selected event not yet accepted)", i, cl.seq, want[min(next, len(want)-1)])
		}
		if cl.status/100 == 2 {
			accepted = append(accepted, cl.seq)
			next++
		}
	}
	if fmt.Sprint(accepted) != fmt.Sprint(want) {
		t.Errorf("accepted %v\nwant     %v", accepted, want)
	}
	got := hook(t, s, h.ID)
	if got.Cursor != last {
		t.Errorf("cursor %d, want the feed's last event %d", got.Cursor, last)
	}
	log := deliveries(t, s, h.ID)
	if len(log) != len(rc.snapshot()) {
		t.Errorf("%d log lines for %d requests", len(log), len(rc.snapshot()))
	}
	attempt := map[int64]int{}
	for _, d := range log {
		attempt[d.Sequence]++
		if d.Attempt != attempt[d.Sequence] {
			t.Errorf("log line for event %d says attempt %d, want %d", d.Sequence, d.Attempt, attempt[d.Sequence])
		}
	}
	t.Logf("seed %d: %d writes, %d selected events, %d requests", seed, writes, len(want), len(log))
}

// allEvents reads the whole feed after cursor.
func allEvents(t *testing.T, s catalog.Store, after int64) ([]catalog.Event, int64) {
	t.Helper()
	var out []catalog.Event
	for {
		page, err := s.Events(context.Background(), catalog.EventQuery{After: after, Limit: catalog.MaxEventLimit})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
		if len(page.Events) == 0 {
			return out, after
		}
		after = page.Next
	}
}

// TestDisabledMidDeliveryStops: a subscription disabled through the API while the worker is
// delivering to it gets nothing more, and its lease is given back, so re-enabling it resumes
// at once (not after the lease would have expired).
func TestDisabledMidDeliveryStops(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		var id atomic.Value
		rc := newReceiver(t, clock.Now, func(n int, r *http.Request) int {
			if n == 1 {
				off := false
				if _, err := s.UpdateWebhook(context.Background(), id.Load().(string), catalog.WebhookPatch{Enabled: &off}); err != nil {
					t.Error(err)
				}
			}
			return http.StatusOK
		})
		h := subscribe(t, s, rc)
		id.Store(h.ID)
		writeCategories(t, s, "m", 3)
		w := worker(s, clock, hooks.Options{})
		once(t, w)
		if n := len(rc.snapshot()); n != 1 {
			t.Fatalf("%d requests after the subscription was disabled during the first, want 1", n)
		}
		got := hook(t, s, h.ID)
		if got.Enabled || got.DisabledReason != catalog.DisabledByAPI {
			t.Fatalf("state %+v", got)
		}
		on := true
		if _, err := s.UpdateWebhook(context.Background(), h.ID, catalog.WebhookPatch{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		once(t, w)
		if n := len(rc.snapshot()); n != 3 {
			t.Errorf("after re-enabling, %d requests in all, want 3 (the lease was not given back?)", n)
		}
	})
}

// TestCountedOnceRecorded: an outcome is counted only after its attempt is in the delivery
// log, so whoever reads the count (a metric, an alarm, a test) finds the attempt behind it; a
// count before the record raced cmd/catalog's end-to-end test under load.
func TestCountedOnceRecorded(t *testing.T) {
	eachStore(t, func(t *testing.T, open opener) {
		clock := storetest.NewFakeClock()
		s := open(t, clock.Now)
		rc := newReceiver(t, clock.Now, func(n int, _ *http.Request) int {
			if n == 1 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		h := subscribe(t, s, rc, catalog.EventCategoryCreated)
		writeCategories(t, s, "a", 1)
		var counted []string
		opts := hooks.Options{Delivered: func(outcome string) {
			counted = append(counted, outcome)
			log := deliveries(t, s, h.ID)
			found := false
			for _, d := range log {
				found = found || (d.Attempt == len(counted) && d.Outcome == outcome)
			}
			if len(log) != len(counted) || !found {
				t.Errorf("counted %q with the delivery log at %+v", outcome, log)
			}
		}}
		once(t, worker(s, clock, opts))
		clock.Advance(time.Hour) // past the retry's backoff
		once(t, worker(s, clock, opts))
		if !slices.Equal(counted, []string{catalog.DeliveryFailed, catalog.DeliveryDelivered}) {
			t.Errorf("counted %v, want a failure then a delivery", counted)
		}
	})
}
