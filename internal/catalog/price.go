package catalog

import (
	"time"
)

// PriceChange sets a variant's price in one currency, now or from a time in the future, and
// optionally only until a time: a sale window, after which the price reverts by itself to the
// one in effect before the window began.
type PriceChange struct {
	Currency  string `json:"currency"`
	Amount    int64  `json:"amount"`
	CompareAt *int64 `json:"compare_at,omitempty"`
	// ValidFrom, when set and in the future, schedules the price.
	ValidFrom *time.Time `json:"valid_from,omitempty"`
	// ValidUntil, when set, ends the price at that time (a sale window).
	ValidUntil *time.Time `json:"valid_until,omitempty"`
}

// Scheduled reports whether the change takes effect later than now, and when it takes effect
// (at the stores' microsecond precision).
func (c PriceChange) Scheduled(now time.Time) (time.Time, bool) {
	if c.ValidFrom != nil && c.ValidFrom.After(now) {
		return c.ValidFrom.UTC().Truncate(time.Microsecond), true
	}
	return now, false
}

// Until returns the end of the sale window at store precision, or nil.
func (c PriceChange) Until() *time.Time {
	if c.ValidUntil == nil {
		return nil
	}
	t := c.ValidUntil.UTC().Truncate(time.Microsecond)
	return &t
}

// CheckSaleWindow refuses a sale window (c.ValidUntil set) on a variant without a current
// price in c's currency (hasCurrent): there would be nothing to revert to when it ends. Both
// stores call it for a single price and for each batch line.
func CheckSaleWindow(c PriceChange, hasCurrent bool) error {
	if c.ValidUntil == nil || hasCurrent {
		return nil
	}
	return InvalidField("valid_until", "a sale window needs a current price in %s to revert to: set one first", c.Currency)
}

// MaxPriceSchedule bounds how far ahead a price may be scheduled or a window may end.
const MaxPriceSchedule = 366 * 24 * time.Hour

// MinSaleWindow is the shortest sale window: the sweeper applies and reverts prices to the
// minute, so a shorter window could be missed.
const MinSaleWindow = time.Minute

// Validate checks the change against now: no back-dating (a minute of clock skew allowed), no
// more than a year ahead, a window's end after its start.
func (c PriceChange) Validate(now time.Time) error {
	var p Problems
	validCurrency("currency", c.Currency, &p)
	validAmount("amount", c.Amount, &p)
	validCompareAt("compare_at", c.Amount, c.CompareAt, &p)
	if c.ValidFrom != nil {
		switch {
		case c.ValidFrom.Before(now.Add(-time.Minute)):
			p.Add("valid_from", "must not be in the past")
		case c.ValidFrom.After(now.Add(MaxPriceSchedule)):
			p.Add("valid_from", "must be within a year")
		}
	}
	if c.ValidUntil != nil {
		start, _ := c.Scheduled(now)
		switch {
		case c.ValidUntil.Before(start.Add(MinSaleWindow)):
			p.Add("valid_until", "must be at least %s after the price takes effect (%s)", MinSaleWindow, start.Format(time.RFC3339))
		case c.ValidUntil.After(now.Add(MaxPriceSchedule)):
			p.Add("valid_until", "must be within a year")
		}
	}
	return p.Err()
}

// PriceKind says what a price history line records.
type PriceKind string

// Price history kinds: a price set by a client (now or scheduled), or the end of a sale window
// reverting to the price before it.
const (
	PriceSet    PriceKind = "set"
	PriceRevert PriceKind = "revert"
)

// PriceEntry is one line of a variant's price history.
type PriceEntry struct {
	ID        int64     `json:"id"`
	VariantID string    `json:"variant_id"`
	Kind      PriceKind `json:"kind"`
	Price     Money     `json:"price"`
	CompareAt *int64    `json:"compare_at,omitempty"`
	ValidFrom time.Time `json:"valid_from"`
	// ValidUntil ends a sale window.
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	// AppliedAt is when the price became current; nil while scheduled.
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	// EndedAt is when a window's price stopped being current: reverted at its end, or replaced
	// by another change first.
	EndedAt *time.Time `json:"ended_at,omitempty"`
	// Actor is who set the price; private reads only.
	Actor     string    `json:"actor,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AppliedPrice is a price change the sweeper made: a scheduled price that became current, or a
// sale window that ended and reverted.
type AppliedPrice struct {
	EntryID   int64
	VariantID string
	ProductID string
	Kind      PriceKind
	Price     Money
	At        time.Time
}

// PriceSweepActor is the actor of the history lines the price sweeper writes.
const PriceSweepActor = "system:prices"

// PriorPriceWindow is the period before a price reduction whose lowest price is the "prior
// price" (EU Directive 98/6/EC Art. 6a, as amended by the Omnibus Directive 2019/2161).
const PriorPriceWindow = 30 * 24 * time.Hour

// PriorPrice returns the prior price of a reduction to amount taking effect at at: the lowest
// price in effect at any moment of the 30 days before at, from applied, the history lines of
// one variant and currency that became current (AppliedAt set), in any order. A price counts
// from its AppliedAt until the next line's AppliedAt. It returns nil when the change is not a
// reduction (amount is not below the price in effect just before at), or when no price was in
// effect before at. Progressive reductions (a second cut during a sale) are each measured the
// same way, against the 30 days before them, so the prior price never hides an earlier cut.
func PriorPrice(applied []PriceEntry, at time.Time, amount int64) *int64 {
	from := at.Add(-PriorPriceWindow)
	// Find the price in effect just before at, and the lowest in effect during [from, at).
	var current *PriceEntry
	var lowest *int64
	for i := range applied {
		e := &applied[i]
		if e.AppliedAt == nil || !e.AppliedAt.Before(at) {
			continue
		}
		if current == nil || e.AppliedAt.After(*current.AppliedAt) || (e.AppliedAt.Equal(*current.AppliedAt) && e.ID > current.ID) {
			current = e
		}
		end := at
		for j := range applied {
			n := &applied[j]
			if n.AppliedAt == nil || n == e {
				continue
			}
			later := n.AppliedAt.After(*e.AppliedAt) || (n.AppliedAt.Equal(*e.AppliedAt) && n.ID > e.ID)
			if later && n.AppliedAt.Before(end) {
				end = *n.AppliedAt
			}
		}
		// In effect during [AppliedAt, end): does that overlap [from, at)?
		if end.After(from) {
			if lowest == nil || e.Price.Amount < *lowest {
				v := e.Price.Amount
				lowest = &v
			}
		}
	}
	if current == nil || amount >= current.Price.Amount {
		return nil
	}
	return lowest
}
