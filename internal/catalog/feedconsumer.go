package catalog

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// FeedConsumers keeps the position of named consumers of the change feed inside the store
// (the EventBridge relay, each webhook subscription), so a consumer resumes where it stopped
// after a restart, and a lease, so that of many instances running the same consumer only one
// reads and delivers at a time. Positions are feed cursors (EventPage.Next).
//
// Leases are timed by the store's clock. An owner that stops renewing (a task killed without
// a chance to release) loses its lease when the TTL passes and another owner takes over from
// the stored position: delivery is at least once, never skipped.
type FeedConsumers interface {
	// ClaimFeedConsumer takes the lease on consumer name for owner until ttl from now, or
	// renews it when owner already holds it, and returns the consumer's stored position. A
	// consumer claimed for the first time is created at start. While another owner's lease
	// runs, it fails with CodeConflict and changes nothing.
	ClaimFeedConsumer(ctx context.Context, name, owner string, ttl time.Duration, start FeedStart) (FeedLease, error)
	// AdvanceFeedConsumer stores position as the consumer's position, only while owner holds
	// an unexpired lease (CodeConflict otherwise: a stale owner never moves the position). A
	// position below the stored one is CodeInvalid: positions only move forward.
	AdvanceFeedConsumer(ctx context.Context, name, owner string, position int64) error
	// ReleaseFeedConsumer ends owner's lease at once, so another owner need not wait out the
	// TTL (a graceful shutdown). Releasing a lease not held is a no-op.
	ReleaseFeedConsumer(ctx context.Context, name, owner string) error
}

// FeedStart says where a consumer claimed for the first time begins.
type FeedStart int

const (
	// FeedStartHead begins after the newest event: the consumer hears of changes made from
	// now on (ADR 0018: replaying a week of history into a new bus is a flood, not a sync).
	FeedStartHead FeedStart = iota
	// FeedStartOldest begins at the oldest event still kept.
	FeedStartOldest
)

// FeedLease is a consumer's state as a claim leaves it.
type FeedLease struct {
	Name  string
	Owner string
	// Position is the cursor of the last event the consumer has delivered.
	Position int64
	// Until is when the lease ends unless renewed.
	Until time.Time
	// Created reports that this claim created the consumer.
	Created bool
}

// Limits of consumer names and owners: stored as keys, logged, shown in metrics.
const (
	MaxFeedConsumerName  = 200
	MaxFeedConsumerOwner = 200
	// MinFeedLeaseTTL keeps a lease from lapsing between the renewals of a healthy owner.
	MinFeedLeaseTTL = time.Second
)

// ValidateFeedConsumer checks a consumer's name, owner and lease TTL (ttl < 0 skips the TTL
// check: advancing and releasing take none).
func ValidateFeedConsumer(name, owner string, ttl time.Duration) error {
	var p Problems
	check := func(field, v string, limit int) {
		switch {
		case v == "":
			p.Add(field, "is required")
		case !utf8.ValidString(v) || len(v) > limit:
			p.Add(field, "must be valid UTF-8 of at most %d bytes", limit)
		}
	}
	check("name", name, MaxFeedConsumerName)
	check("owner", owner, MaxFeedConsumerOwner)
	if ttl >= 0 && ttl < MinFeedLeaseTTL {
		p.Add("ttl", "must be at least %s", MinFeedLeaseTTL)
	}
	return p.Err()
}

// LeaseHeld is the answer to a claim while another owner's lease runs, or to an advance by an
// owner whose lease has ended.
func LeaseHeld(name, owner string) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf("the lease on feed consumer %q is not held by %q", name, owner)}
}

// PositionBehind is the answer to an advance below the stored position.
func PositionBehind(name string, position, stored int64) error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf("feed consumer %q is at %d", name, stored),
		Fields: []FieldError{{Field: "position", Problem: fmt.Sprintf("must be at least %d (positions only move forward)", stored)}}}
}
