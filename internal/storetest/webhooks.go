package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Webhook subscriptions (issue 17, ADR 0017): the subscription store, its cursor, leases and
// delivery log.
func webhookTests() []namedTest {
	return []namedTest{
		{"WebhookRoundTrip", testWebhookRoundTrip},
		{"WebhookStartsAtFeedHead", testWebhookStartsAtFeedHead},
		{"WebhookSecretRotation", testWebhookSecretRotation},
		{"WebhookLease", testWebhookLease},
		{"WebhookClaimOnceUnderConcurrency", testWebhookClaimOnce},
		{"WebhookAttemptsAndLog", testWebhookAttemptsAndLog},
		{"WebhookLimit", testWebhookLimit},
		{"WebhookCursorPatch", testWebhookCursorPatch},
	}
}

const (
	hookSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	hookSecret2 = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

func newHook(t *testing.T, s catalog.Store, types ...string) catalog.Webhook {
	t.Helper()
	return must(s.CreateWebhook(ctx(t), catalog.WebhookInput{URL: "https://hooks.example.com/catalog", EventTypes: types}, hookSecret))(t)
}

func testWebhookRoundTrip(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	w := must(s.CreateWebhook(c, catalog.WebhookInput{URL: " https://hooks.example.com/a ",
		EventTypes: []string{catalog.EventStockChanged, catalog.EventProductCreated, catalog.EventStockChanged}}, hookSecret))(t)
	if w.ID == "" || w.URL != "https://hooks.example.com/a" || !w.Enabled || w.Secret != "" || w.PreviousSecret != "" {
		t.Fatalf("CreateWebhook = %+v, want an enabled subscription without secrets shown", w)
	}
	if want := []string{catalog.EventProductCreated, catalog.EventStockChanged}; fmt.Sprint(w.EventTypes) != fmt.Sprint(want) {
		t.Errorf("event types = %v, want %v (sorted, no repeats)", w.EventTypes, want)
	}
	got := must(s.Webhook(c, w.ID))(t)
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", w) {
		t.Errorf("Webhook = %+v\nwant %+v", got, w)
	}
	_, err := s.CreateWebhook(c, catalog.WebhookInput{URL: "https://x.example", EventTypes: []string{"catalog.nope"}}, hookSecret)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.Webhook(c, catalog.NewID())
	wantCode(t, err, catalog.CodeNotFound)

	clock.Advance(time.Minute)
	u, all := "https://hooks.example.com/b", []string{}
	w = must(s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{URL: &u, EventTypes: &all}))(t)
	if w.URL != u || len(w.EventTypes) != 0 || !w.UpdatedAt.Equal(clock.Now()) {
		t.Errorf("after patch: %+v", w)
	}
	off := false
	w = must(s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{Enabled: &off}))(t)
	if w.Enabled || w.DisabledReason != catalog.DisabledByAPI || w.DisabledAt == nil {
		t.Errorf("disabled: %+v, want the API named as the reason", w)
	}
	if _, ok, err := s.ClaimWebhook(c, "a", time.Minute); err != nil || ok {
		t.Errorf("ClaimWebhook of a disabled subscription = %v, %v; want none", ok, err)
	}
	on := true
	clock.Advance(time.Minute)
	w = must(s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{Enabled: &on}))(t)
	if !w.Enabled || w.DisabledReason != "" || w.DisabledAt != nil || !w.NextAttemptAt.Equal(clock.Now()) {
		t.Errorf("re-enabled: %+v, want enabled, reason cleared, due now", w)
	}
	bad := []string{"nope"}
	_, err = s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{EventTypes: &bad})
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.UpdateWebhook(c, catalog.NewID(), catalog.WebhookPatch{Enabled: &on})
	wantCode(t, err, catalog.CodeNotFound)

	for range 4 {
		newHook(t, s)
	}
	var ids []string
	after := ""
	for {
		page := must(s.ListWebhooks(c, after, 2))(t)
		for _, h := range page.Items {
			if h.Secret != "" {
				t.Fatal("ListWebhooks shows a secret")
			}
			ids = append(ids, h.ID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(ids) != 5 {
		t.Errorf("ListWebhooks over pages of 2 = %d subscriptions, want 5", len(ids))
	}
	if err := s.DeleteWebhook(c, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Webhook(c, w.ID)
	wantCode(t, err, catalog.CodeNotFound)
	wantCode(t, s.DeleteWebhook(c, w.ID), catalog.CodeNotFound)
	_, err = s.WebhookDeliveries(c, w.ID, 0, 10)
	wantCode(t, err, catalog.CodeNotFound)
}

func testWebhookStartsAtFeedHead(t *testing.T, s catalog.Store, _ *FakeClock) {
	c := ctx(t)
	category(t, s, "hooks", "")
	category(t, s, "hooks-2", "")
	_, head := feed(t, s, 0)
	if head == 0 {
		t.Fatal("no events after two writes")
	}
	w := newHook(t, s)
	if w.Cursor != head {
		t.Errorf("a new subscription's cursor = %d, want the feed's head %d", w.Cursor, head)
	}
	// After a purge has emptied the feed, the head is still the last sequence handed out.
	category(t, s, "hooks-3", "")
	_, head = feed(t, s, head)
	for {
		n, err := s.PurgeEvents(c, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if w := newHook(t, s); w.Cursor != head {
		t.Errorf("after a purge, a new subscription's cursor = %d, want %d", w.Cursor, head)
	}
	page := must(s.Events(c, catalog.EventQuery{After: head}))(t)
	if len(page.Events) != 0 {
		t.Errorf("events after the head: %d", len(page.Events))
	}
}

func testWebhookSecretRotation(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	w := newHook(t, s)
	claimed, ok := must2(s.ClaimWebhook(c, "w1", time.Minute))(t)
	if !ok || claimed.Secret != hookSecret || claimed.PreviousSecret != "" {
		t.Fatalf("claim = %v %+v, want the subscription with its one secret", ok, claimed)
	}
	release(t, s, claimed, "w1")
	r := must(s.RotateWebhookSecret(c, w.ID, hookSecret2))(t)
	if r.Secret != "" || r.PreviousSecretExpiresAt == nil || !r.PreviousSecretExpiresAt.Equal(clock.Now().Add(catalog.WebhookSecretOverlap)) {
		t.Fatalf("RotateWebhookSecret = %+v, want the old secret to expire in 24h", r)
	}
	claimed, ok = must2(s.ClaimWebhook(c, "w1", time.Minute))(t)
	if !ok || claimed.Secret != hookSecret2 || claimed.PreviousSecret != hookSecret {
		t.Fatalf("claim during the overlap = %+v, want both secrets", claimed)
	}
	release(t, s, claimed, "w1")
	clock.Advance(catalog.WebhookSecretOverlap)
	claimed, ok = must2(s.ClaimWebhook(c, "w1", time.Minute))(t)
	if !ok || claimed.Secret != hookSecret2 || claimed.PreviousSecret != "" || claimed.PreviousSecretExpiresAt != nil {
		t.Fatalf("claim after the overlap = %+v, want the new secret only", claimed)
	}
	if got := must(s.Webhook(c, w.ID))(t); got.PreviousSecretExpiresAt != nil {
		t.Errorf("after the overlap the subscription still shows previous_secret_expires_at %v", got.PreviousSecretExpiresAt)
	}
	_, err := s.RotateWebhookSecret(c, catalog.NewID(), hookSecret2)
	wantCode(t, err, catalog.CodeNotFound)
}

// release ends owner's lease on w, leaving it due at once.
func release(t *testing.T, s catalog.Store, w catalog.Webhook, owner string) {
	t.Helper()
	if _, err := s.RecordWebhookAttempt(ctx(t), w.ID, owner, catalog.WebhookAttempt{Cursor: w.Cursor, NextAttemptAt: w.NextAttemptAt, Release: true}, 0); err != nil {
		t.Fatal(err)
	}
}

func testWebhookLease(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	w := newHook(t, s)
	a, ok := must2(s.ClaimWebhook(c, "a", 30*time.Second))(t)
	if !ok || a.ID != w.ID {
		t.Fatalf("first claim = %v, want the subscription", ok)
	}
	if _, ok := must2(s.ClaimWebhook(c, "b", 30*time.Second))(t); ok {
		t.Fatal("a second worker claimed a leased subscription")
	}
	// Renewing (recording an attempt) extends the lease.
	clock.Advance(20 * time.Second)
	if _, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Cursor: a.Cursor, NextAttemptAt: clock.Now()}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Second)
	if _, ok := must2(s.ClaimWebhook(c, "b", 30*time.Second))(t); ok {
		t.Fatal("a renewed lease was taken")
	}
	// A crashed worker's lease expires; the next worker takes over and the first is fenced off.
	clock.Advance(11 * time.Second)
	if _, ok := must2(s.ClaimWebhook(c, "b", 30*time.Second))(t); !ok {
		t.Fatal("an expired lease was not taken over")
	}
	_, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Cursor: a.Cursor + 5, NextAttemptAt: clock.Now()}, 30*time.Second)
	if !errors.Is(err, catalog.ErrLeaseLost) && catalog.ErrorCode(err) != catalog.CodeConflict {
		t.Fatalf("RecordWebhookAttempt by the old owner = %v, want ErrLeaseLost", err)
	}
	if got := must(s.Webhook(c, w.ID))(t); got.Cursor != a.Cursor {
		t.Errorf("the fenced-off worker moved the cursor to %d", got.Cursor)
	}
	// Not due: a subscription whose next attempt is later is not claimed.
	if _, err := s.RecordWebhookAttempt(c, w.ID, "b", catalog.WebhookAttempt{Cursor: a.Cursor, NextAttemptAt: clock.Now().Add(time.Hour), Release: true}, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := must2(s.ClaimWebhook(c, "c", time.Minute))(t); ok {
		t.Error("claimed a subscription not due for an hour")
	}
	clock.Advance(time.Hour)
	if _, ok := must2(s.ClaimWebhook(c, "c", time.Minute))(t); !ok {
		t.Error("a due subscription was not claimed")
	}
}

func testWebhookClaimOnce(t *testing.T, s catalog.Store, _ *FakeClock) {
	c := ctx(t)
	for range 3 {
		newHook(t, s)
	}
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				w, ok, err := s.ClaimWebhook(c, fmt.Sprintf("worker-%d", i), time.Minute)
				if err != nil {
					if catalog.ErrorCode(err) == catalog.CodeUnavailable {
						continue // a busy SQLite writer; the claim is retried
					}
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				claims[w.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claims) != 3 {
		t.Errorf("claimed %d subscriptions, want 3", len(claims))
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("subscription %s claimed %d times under one lease", id, n)
		}
	}
}

func testWebhookAttemptsAndLog(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	w := newHook(t, s)
	if _, ok := must2(s.ClaimWebhook(c, "a", time.Minute))(t); !ok {
		t.Fatal("no claim")
	}
	since := clock.Now()
	for i := 1; i <= 5; i++ {
		d := &catalog.WebhookDelivery{EventID: fmt.Sprintf("ev-%d", i), EventType: catalog.EventStockChanged, Sequence: w.Cursor + 1,
			Attempt: i, Outcome: catalog.DeliveryFailed, Status: 500, DurationMS: 12, Error: "receiver answered 500"}
		enabled, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Delivery: d, Cursor: w.Cursor, Failures: i,
			FailingSince: &since, NextAttemptAt: clock.Now().Add(time.Duration(i) * time.Second)}, time.Minute)
		if err != nil || !enabled {
			t.Fatalf("RecordWebhookAttempt %d = %v, %v", i, enabled, err)
		}
		clock.Advance(time.Second)
	}
	got := must(s.Webhook(c, w.ID))(t)
	if got.Failures != 5 || got.FailingSince == nil || !got.FailingSince.Equal(since) || got.Cursor != w.Cursor {
		t.Errorf("after 5 failures: %+v", got)
	}
	// The log, newest first, in pages.
	var attempts []int
	before := int64(0)
	for {
		page := must(s.WebhookDeliveries(c, w.ID, before, 2))(t)
		for _, d := range page.Items {
			attempts = append(attempts, d.Attempt)
			if d.Status != 500 || d.Outcome != catalog.DeliveryFailed || d.DurationMS != 12 || d.EventType != catalog.EventStockChanged {
				t.Errorf("log line %+v", d)
			}
		}
		if page.Next == 0 {
			break
		}
		before = page.Next
	}
	if fmt.Sprint(attempts) != "[5 4 3 2 1]" {
		t.Errorf("delivery log attempts = %v, want [5 4 3 2 1] (newest first)", attempts)
	}
	// Success moves the cursor and clears the failures.
	d := &catalog.WebhookDelivery{EventID: "ev-ok", EventType: catalog.EventStockChanged, Sequence: w.Cursor + 1, Attempt: 6,
		Outcome: catalog.DeliveryDelivered, Status: 204}
	if _, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Delivery: d, Cursor: w.Cursor + 1, NextAttemptAt: clock.Now()}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got = must(s.Webhook(c, w.ID))(t)
	if got.Cursor != w.Cursor+1 || got.Failures != 0 || got.FailingSince != nil {
		t.Errorf("after a delivery: %+v", got)
	}
	// A disabling attempt says why, and the worker hears it is disabled.
	enabled, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Cursor: got.Cursor, NextAttemptAt: clock.Now(),
		Disable: catalog.DisabledGone, Release: true}, 0)
	if err != nil || enabled {
		t.Fatalf("disabling attempt = %v, %v; want disabled", enabled, err)
	}
	got = must(s.Webhook(c, w.ID))(t)
	if got.Enabled || got.DisabledReason != catalog.DisabledGone || got.DisabledAt == nil || !got.DisabledAt.Equal(clock.Now()) {
		t.Errorf("disabled: %+v", got)
	}
	// The purge removes log lines past the retention, in batches.
	clock.Advance(time.Hour)
	other := newHook(t, s)
	if _, ok := must2(s.ClaimWebhook(c, "b", time.Minute))(t); !ok {
		t.Fatal("no claim of the second subscription")
	}
	fresh := &catalog.WebhookDelivery{EventID: "fresh", EventType: catalog.EventStockChanged, Sequence: 1, Attempt: 1, Outcome: catalog.DeliveryDelivered, Status: 200}
	if _, err := s.RecordWebhookAttempt(c, other.ID, "b", catalog.WebhookAttempt{Delivery: fresh, Cursor: other.Cursor, NextAttemptAt: clock.Now()}, time.Minute); err != nil {
		t.Fatal(err)
	}
	n1 := must(s.PurgeWebhookDeliveries(c, 30*time.Minute, 4))(t)
	n2 := must(s.PurgeWebhookDeliveries(c, 30*time.Minute, 4))(t)
	if n1 != 4 || n2 != 2 {
		t.Errorf("purge in batches of 4 = %d then %d, want 4 then 2", n1, n2)
	}
	if page := must(s.WebhookDeliveries(c, other.ID, 0, 10))(t); len(page.Items) != 1 {
		t.Errorf("the purge removed a line within the retention")
	}
	// Deleting a subscription deletes its log.
	if err := s.DeleteWebhook(c, other.ID); err != nil {
		t.Fatal(err)
	}
	if n := must(s.PurgeWebhookDeliveries(c, 0, 100))(t); n != 0 {
		t.Errorf("a deleted subscription left %d log lines", n)
	}
}

func testWebhookLimit(t *testing.T, s catalog.Store, _ *FakeClock) {
	for range catalog.MaxWebhooks {
		newHook(t, s)
	}
	_, err := s.CreateWebhook(ctx(t), catalog.WebhookInput{URL: "https://one.too.many"}, hookSecret)
	wantCode(t, err, catalog.CodeConflict)
}

// testWebhookCursorPatch: moving the cursor (after a re-sync from an export) forgets the
// failures, which were at the event after the old cursor, and makes the subscription due.
func testWebhookCursorPatch(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := ctx(t)
	w := newHook(t, s)
	if _, ok := must2(s.ClaimWebhook(c, "a", time.Minute))(t); !ok {
		t.Fatal("no claim")
	}
	since := clock.Now()
	if _, err := s.RecordWebhookAttempt(c, w.ID, "a", catalog.WebhookAttempt{Cursor: w.Cursor, Failures: 3, FailingSince: &since,
		NextAttemptAt: clock.Now().Add(time.Hour), Release: true}, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	cur := w.Cursor + 40
	got := must(s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{Cursor: &cur}))(t)
	if got.Cursor != cur || got.Failures != 0 || got.FailingSince != nil || !got.NextAttemptAt.Equal(clock.Now()) {
		t.Errorf("after moving the cursor: %+v", got)
	}
	neg := int64(-1)
	_, err := s.UpdateWebhook(c, w.ID, catalog.WebhookPatch{Cursor: &neg})
	wantCode(t, err, catalog.CodeInvalid)
}
