package catalog

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Webhook is a subscription: the change feed's events of some types, POSTed to a URL and signed
// with the subscription's secret (ADR 0017). Each subscription follows the feed with its own
// cursor, so one slow receiver holds up no other.
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// EventTypes selects the events delivered; empty delivers every type.
	EventTypes []string `json:"event_types"`
	Enabled    bool     `json:"enabled"`
	// DisabledReason and DisabledAt say why and when the subscription stopped (by the API, a
	// day of failures, a 410 from the receiver, or a cursor past the feed's retention).
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	// Cursor is the sequence of the last event delivered (or skipped as not selected): the
	// next delivery is the first selected event after it.
	Cursor int64 `json:"cursor"`
	// Failures counts the failed attempts at the event after the cursor since FailingSince.
	Failures     int        `json:"failures"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// NextAttemptAt is when the worker next looks at the subscription.
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// PreviousSecretExpiresAt, during a rotation's overlap, is when the old secret stops
	// signing.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`

	// Secret and PreviousSecret (in the whsec_ text form) sign deliveries; only the worker's
	// claim carries them. A client sees a secret once, when it is made.
	Secret         string `json:"-"`
	PreviousSecret string `json:"-"`
}

// Webhook limits.
const (
	// MaxWebhooks bounds the subscriptions a catalog keeps: each one is a feed reader and a
	// stream of outbound requests.
	MaxWebhooks = 100
	// WebhookSecretOverlap is how long a rotated-out secret still signs, so receivers can
	// switch to the new one without dropping a delivery.
	WebhookSecretOverlap = 24 * time.Hour
	// MaxWebhookURL bounds a subscription's URL.
	MaxWebhookURL = 2048
	// DefaultDeliveryLimit and MaxDeliveryLimit page the delivery log.
	DefaultDeliveryLimit = 50
	MaxDeliveryLimit     = 500
	// DefaultDeliveryRetention is how long the delivery log keeps an attempt.
	DefaultDeliveryRetention = 7 * 24 * time.Hour
)

// Reasons a subscription is disabled.
const (
	DisabledByAPI      = "disabled through the API"
	DisabledFellBehind = "fell behind retention: re-sync from an export"
	DisabledGone       = "the receiver answered 410 Gone"
	DisabledFailingFor = "deliveries failed for 24h"
)

// WebhookInput is the body of POST /webhooks.
type WebhookInput struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types,omitempty"`
}

// Normalize trims the URL and puts the types in a stable order without repeats.
func (in *WebhookInput) Normalize() {
	in.URL = strings.TrimSpace(in.URL)
	in.EventTypes = normalizeTypes(in.EventTypes)
}

func normalizeTypes(ts []string) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		t = strings.TrimSpace(t)
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// Validate checks the fields a store can check; the URL's destination is checked by the
// caller against the egress policy (egress.Policy.CheckURL), which needs the network.
func (in WebhookInput) Validate() error {
	var p Problems
	checkWebhookURL(&p, in.URL)
	checkEventTypes(&p, in.EventTypes)
	return p.Err()
}

func checkWebhookURL(p *Problems, u string) {
	switch {
	case u == "":
		p.Add("url", "is required")
	case len(u) > MaxWebhookURL:
		p.Add("url", "must be at most %d characters", MaxWebhookURL)
	case TextProblem(u, Identifier) != "":
		p.Add("url", "%s", TextProblem(u, Identifier))
	}
}

func checkEventTypes(p *Problems, ts []string) {
	if len(ts) > len(EventTypes) {
		p.Add("event_types", "must hold at most %d types", len(EventTypes))
		return
	}
	for i, t := range ts {
		if !slices.Contains(EventTypes, t) {
			if TextProblem(t, Identifier) != "" || len(t) > 100 {
				p.Add("event_types", "holds something that is not an event type")
			} else {
				p.Add("event_types", "item %d: %q is not an event type (see EventType in GET /openapi.yaml)", i, t)
			}
		}
	}
}

// WebhookPatch is a merge patch of a subscription: absent fields stay. Enabled true re-enables
// a disabled subscription (its failures forgotten, retried at once); Cursor moves where it
// resumes (after a re-sync from an export, the cursor the export gave).
type WebhookPatch struct {
	URL        *string
	EventTypes *[]string
	Enabled    *bool
	Cursor     *int64
}

// Normalize trims and orders as WebhookInput.Normalize does.
func (p *WebhookPatch) Normalize() {
	if p.URL != nil {
		u := strings.TrimSpace(*p.URL)
		p.URL = &u
	}
	if p.EventTypes != nil {
		ts := normalizeTypes(*p.EventTypes)
		p.EventTypes = &ts
	}
}

// Validate checks the patch's fields.
func (p WebhookPatch) Validate() error {
	var ps Problems
	if p.URL != nil {
		checkWebhookURL(&ps, *p.URL)
	}
	if p.EventTypes != nil {
		checkEventTypes(&ps, *p.EventTypes)
	}
	if p.Cursor != nil && *p.Cursor < 0 {
		ps.Add("cursor", "must be the sequence of an event (a non-negative whole number)")
	}
	return ps.Err()
}

// Wants reports whether the subscription selects events of type typ.
func (w Webhook) Wants(typ string) bool {
	return len(w.EventTypes) == 0 || slices.Contains(w.EventTypes, typ)
}

// WebhookPage is a page of subscriptions, by ID.
type WebhookPage struct {
	Items []Webhook `json:"items"`
	// Next, when set, is the after= value of the next page.
	Next string `json:"next,omitempty"`
}

// Delivery outcomes.
const (
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // an error or another status: retried later
	DeliveryGone      = "gone"      // 410: the subscription is disabled
	DeliveryRefused   = "refused"   // the destination address is not allowed (the dial guard)
)

// WebhookDelivery is one attempt in a subscription's delivery log.
type WebhookDelivery struct {
	ID        int64  `json:"id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Sequence  int64  `json:"sequence"`
	// Attempt counts the attempts at this event, 1 for the first.
	Attempt int    `json:"attempt"`
	Outcome string `json:"outcome"`
	// Status is the receiver's HTTP status, 0 when none arrived.
	Status     int       `json:"status"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	At         time.Time `json:"at"`
}

// DeliveryPage is a page of a delivery log, newest first.
type DeliveryPage struct {
	Items []WebhookDelivery `json:"items"`
	// Next, when set, is the before= value of the next (older) page.
	Next int64 `json:"next,omitempty"`
}

// WebhookAttempt is what the delivery worker records: the state a subscription moves to, and
// the delivery log line of the attempt that moved it (none when only the cursor moves past
// events the subscription does not select, or the worker found nothing to do).
type WebhookAttempt struct {
	Delivery      *WebhookDelivery
	Cursor        int64
	Failures      int
	FailingSince  *time.Time
	NextAttemptAt time.Time
	// Disable, when set, disables the subscription with this reason.
	Disable string
	// Release ends the lease; otherwise it is renewed.
	Release bool
}

// ErrLeaseLost is the answer to a worker whose lease on a subscription ended (it expired and
// another worker took it, or the subscription was deleted): it must stop delivering to it.
var ErrLeaseLost = Errorf(CodeConflict, "the webhook's lease is held by another worker")

// ErrWebhookNotFound is the answer for an unknown subscription.
var ErrWebhookNotFound = Errorf(CodeNotFound, "webhook not found")

// Webhooks keeps subscriptions, their feed cursors and leases, and their delivery logs.
type Webhooks interface {
	// CreateWebhook subscribes in.URL with secret; its cursor starts at the feed's head, so
	// it receives the changes made from now on.
	CreateWebhook(ctx context.Context, in WebhookInput, secret string) (Webhook, error)
	Webhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns up to limit subscriptions with IDs after after, by ID.
	ListWebhooks(ctx context.Context, after string, limit int) (WebhookPage, error)
	UpdateWebhook(ctx context.Context, id string, patch WebhookPatch) (Webhook, error)
	// DeleteWebhook removes a subscription and its delivery log.
	DeleteWebhook(ctx context.Context, id string) error
	// RotateWebhookSecret makes secret the signing secret; the one it replaces keeps signing
	// for WebhookSecretOverlap.
	RotateWebhookSecret(ctx context.Context, id, secret string) (Webhook, error)
	// WebhookDeliveries returns up to limit log lines with IDs below before (0: the newest),
	// newest first.
	WebhookDeliveries(ctx context.Context, id string, before int64, limit int) (DeliveryPage, error)

	// ClaimWebhook leases to owner, for lease, one enabled subscription that is due and whose
	// lease (if any) has expired, with its secrets; ok is false when none is.
	ClaimWebhook(ctx context.Context, owner string, lease time.Duration) (w Webhook, ok bool, err error)
	// RecordWebhookAttempt applies a to the subscription owner leases, renewing the lease for
	// lease (or ending it, a.Release), and reports whether it is still enabled. A lost lease
	// answers ErrLeaseLost and changes nothing.
	RecordWebhookAttempt(ctx context.Context, id, owner string, a WebhookAttempt, lease time.Duration) (enabled bool, err error)
	// PurgeWebhookDeliveries deletes at most limit log lines older than retention.
	PurgeWebhookDeliveries(ctx context.Context, retention time.Duration, limit int) (int, error)
}
