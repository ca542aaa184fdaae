package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is one change to the catalog, recorded in the same transaction as the change (the
// transactional outbox), in the CloudEvents 1.0 JSON format so any CloudEvents SDK reads it.
type Event struct {
	SpecVersion string `json:"specversion"`
	// ID is unique per event and the same on every delivery, so consumers drop duplicates.
	ID string `json:"id"`
	// Source names the producer: "catalog" or as configured (EVENT_SOURCE).
	Source string `json:"source"`
	// Type is one of EventTypes.
	Type string `json:"type"`
	// Subject is the entity: "products/<id>", "reservations/<id>", "categories/<slug>".
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	// Data is the entity's new state (nil for deletions: the subject names what went).
	Data json.RawMessage `json:"data,omitempty"`

	// Extensions (CloudEvents extension attributes: lower-case letters and digits).

	// Sequence is the event's position in commit order: the change feed's cursor. It is a
	// decimal string, as the CloudEvents sequence extension asks.
	Sequence string `json:"sequence"`
	// Actor is the name of the key (or system process) that made the change; never a key.
	Actor string `json:"actor"`
	// EntityVersion is the entity's version after the change, when it has one.
	EntityVersion int64 `json:"entityversion,omitempty"`
}

// OrderKey names the line of versions an event belongs to: a consumer holds, per key, the
// entityversion of the last event it applied, applies an event only if its entityversion is
// greater, and drops it otherwise (docs/events.md, "Order per entity"). The subject alone is
// not enough: a variant's own events, its stock events and its price events (per currency,
// scheduled apart from applied) each have their own version.
func (e Event) OrderKey() string {
	kind, _, _ := strings.Cut(strings.TrimPrefix(e.Type, "catalog."), ".")
	switch kind {
	case "price":
		var d struct {
			Price Money `json:"price"`
		}
		_ = json.Unmarshal(e.Data, &d) // a price event always carries its line; "" if not
		if e.Type == EventPriceScheduled {
			kind = "scheduled"
		}
		return kind + " " + e.Subject + " " + d.Price.Currency
	}
	return kind + " " + e.Subject
}

// CloudEventsVersion is the CloudEvents specification version events follow.
const CloudEventsVersion = "1.0"

// DefaultEventSource is the CloudEvents source of events (and their EventBridge Source)
// unless EVENT_SOURCE says otherwise.
const DefaultEventSource = "catalog"

// Event types. Each write of the catalog records exactly one of these per entity it changes.
const (
	EventProductCreated       = "catalog.product.created"
	EventProductUpdated       = "catalog.product.updated"
	EventProductDeleted       = "catalog.product.deleted"
	EventVariantCreated       = "catalog.variant.created"
	EventVariantUpdated       = "catalog.variant.updated"
	EventVariantDeleted       = "catalog.variant.deleted"
	EventPriceChanged         = "catalog.price.changed"
	EventPriceScheduled       = "catalog.price.scheduled"
	EventStockChanged         = "catalog.stock.changed"
	EventReservationCreated   = "catalog.reservation.created"
	EventReservationCommitted = "catalog.reservation.committed"
	EventReservationReleased  = "catalog.reservation.released"
	EventReservationExpired   = "catalog.reservation.expired"
	EventCategoryCreated      = "catalog.category.created"
	EventCategoryUpdated      = "catalog.category.updated"
	EventCategoryDeleted      = "catalog.category.deleted"
	EventCollectionChanged    = "catalog.collection.changed"
	EventCollectionDeleted    = "catalog.collection.deleted"
	EventAttributeChanged     = "catalog.attribute.changed"
	EventAttributeDeleted     = "catalog.attribute.deleted"
)

// EventTypes lists every event type, for validation and the documentation.
var EventTypes = []string{
	EventProductCreated, EventProductUpdated, EventProductDeleted,
	EventVariantCreated, EventVariantUpdated, EventVariantDeleted,
	EventPriceChanged, EventPriceScheduled, EventStockChanged,
	EventReservationCreated, EventReservationCommitted, EventReservationReleased, EventReservationExpired,
	EventCategoryCreated, EventCategoryUpdated, EventCategoryDeleted,
	EventCollectionChanged, EventCollectionDeleted, EventAttributeChanged, EventAttributeDeleted,
}

// NewEvent returns an event of type typ about subject with data (marshalled to JSON), stamped
// with the actor recorded in ctx. The store sets ID, Sequence and Time when it records it.
// Stores build events with catalogjson.NewEvent, which writes the frequent kinds' data by
// hand; this one is plain encoding/json, the reference its tests compare against.
func NewEvent(ctx context.Context, typ, subject string, version int64, data any) (Event, error) {
	e := NewEventJSON(ctx, typ, subject, version, nil)
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return e, fmt.Errorf("event %s: %w", typ, err)
		}
		e.Data = b
	}
	return e, nil
}

// NewEventJSON is NewEvent for data already written as JSON (catalogjson.NewEvent writes
// product, price and stock data by hand): the bytes are kept as given.
func NewEventJSON(ctx context.Context, typ, subject string, version int64, data []byte) Event {
	return Event{SpecVersion: CloudEventsVersion, Type: typ, Subject: subject, DataContentType: "application/json",
		Actor: ActorOf(ctx), EntityVersion: version, Data: data}
}

// EventQuery asks for a page of the change feed.
type EventQuery struct {
	// After is the sequence of the last event the consumer has; 0 starts at the oldest kept.
	After int64
	// Types selects event types; empty selects all.
	Types []string
	Limit int
}

// Feed limits.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
	// DefaultEventRetention is how long events stay replayable.
	DefaultEventRetention = 7 * 24 * time.Hour
)

// ParseEventQuery reads the change feed's query parameters: after, types (comma-separated),
// limit.
func ParseEventQuery(after, types, limit string) (EventQuery, error) {
	q := EventQuery{Limit: DefaultEventLimit}
	var p Problems
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			p.Add("after", "must be the sequence of an event (a non-negative whole number)")
		}
		q.After = n
	}
	if types != "" {
		for _, t := range strings.Split(types, ",") {
			t = strings.TrimSpace(t)
			switch {
			case !slices.Contains(EventTypes, t):
				if TextProblem(t, Identifier) != "" || len(t) > 100 {
					p.Add("types", "holds something that is not an event type")
				} else {
					p.Add("types", "%q is not an event type (see GET /openapi.yaml, EventType)", t)
				}
			case !slices.Contains(q.Types, t):
				q.Types = append(q.Types, t)
			}
		}
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxEventLimit {
			p.Add("limit", "must be between 1 and %d", MaxEventLimit)
		}
		q.Limit = n
	}
	return q, p.Err()
}

// EventPage is one page of the change feed.
type EventPage struct {
	Events []Event `json:"events"`
	// Next is the cursor to continue with: the last event's sequence, or After when the page
	// is empty (the consumer is up to date and polls again later).
	Next int64 `json:"next"`
}

// FeedGone is the answer to a consumer whose cursor is older than the retention window: the
// events after it were purged, so following the feed would skip changes.
func FeedGone(after, oldest int64) error {
	return &Error{Code: CodeGone,
		Message: fmt.Sprintf("events after %d are no longer kept (the oldest kept is %d): re-sync from an export (GET /exports), then follow the feed from the cursor it gives", after, oldest),
		Fields:  []FieldError{{Field: "after", Problem: fmt.Sprintf("must be at least %d", oldest-1)}},
		Err:     feedFloor(oldest)}
}

// feedFloor carries FeedGone's oldest kept sequence for OldestKept.
type feedFloor int64

func (f feedFloor) Error() string { return fmt.Sprintf("oldest kept event %d", int64(f)) }

// OldestKept returns the oldest sequence still kept when err is FeedGone's answer, so a
// consumer that cannot re-sync (an EventBridge bus) skips to it.
func OldestKept(err error) (int64, bool) {
	var f feedFloor
	if errors.As(err, &f) {
		return int64(f), true
	}
	return 0, false
}

// EventFeed is the change feed a store keeps: the outbox its writes fill, read in commit order.
type EventFeed interface {
	// Events returns up to q.Limit events with a sequence above q.After, in sequence order. A
	// cursor older than the oldest kept event answers FeedGone.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// PurgeEvents deletes at most limit events older than retention and returns how many.
	PurgeEvents(ctx context.Context, retention time.Duration, limit int) (int, error)
}

// MaxEventVariants bounds the variants a product event carries, so an event stays small
// whatever the product's size: a bigger product's event carries its own fields and
// variant_count only (each variant change has its own event).
const MaxEventVariants = 100

// EventData returns the event type's subject, entity version and data for an entity a write
// produced: products, variants, reservations, categories, collections, attribute definitions,
// stock levels, prices, or Deleted.
func EventData(v any) (subject string, version int64, data any) {
	switch e := v.(type) {
	case Product:
		if len(e.Variants) > MaxEventVariants {
			e.Variants = nil
		}
		return "products/" + e.ID, e.Version, e
	case Variant:
		return "products/" + e.ProductID + "/variants/" + e.ID, e.ProductVersion, e
	case Reservation:
		return "reservations/" + e.ID, ReservationStateVersion(e.Status), e
	case Category:
		return "categories/" + e.Slug, e.Version, e
	case Collection:
		return "collections/" + e.Slug, e.Version, e
	case AttributeDefinition:
		return "attributes/" + e.Key, e.Version, e
	case StockLevel:
		return "products/" + e.ProductID + "/variants/" + e.VariantID, e.Version, e
	case PriceEvent:
		return "products/" + e.ProductID + "/variants/" + e.VariantID, e.Version, e
	case Deleted:
		return e.Subject, e.Version, nil
	}
	return "", 0, v
}

// StockLevel is the data of a catalog.stock.changed event: a variant's stock after a movement.
type StockLevel struct {
	VariantID string       `json:"variant_id"`
	ProductID string       `json:"product_id"`
	SKU       string       `json:"sku"`
	Kind      MovementKind `json:"kind"`
	OnHand    int64        `json:"on_hand"`
	Reserved  int64        `json:"reserved"`
	Available int64        `json:"available"`
	// ReservationID names the reservation that moved the units, if one did.
	ReservationID string `json:"reservation_id,omitempty"`
	// Version is the variant's stock version after the movement (the event's entityversion):
	// movements of one variant hold its inventory row, so it grows in their commit order even
	// where the feed's xid order differs.
	Version int64 `json:"-"`
}

// StockChange is the stock event's data for movement m (its on_hand and reserved are after it).
func StockChange(m Movement) StockLevel {
	return StockLevel{VariantID: m.VariantID, ProductID: m.ProductID, SKU: m.SKU, Kind: m.Kind,
		OnHand: m.OnHand, Reserved: m.Reserved, Available: m.OnHand - m.Reserved, ReservationID: m.ReservationID,
		Version: m.StockVersion}
}

// PriceEvent is the data of catalog.price.changed (a price applied: set now, applied by the
// sweeper at its valid_from, or reverted at a sale window's end) and catalog.price.scheduled.
type PriceEvent struct {
	ProductID string `json:"product_id"`
	PriceEntry
	// PriorPrice and SaleEndsAt are the variant's price in this currency as GET answers
	// after the change (Price.PriorPrice, Price.SaleEndsAt), so a consumer shows the "was"
	// price and the sale's end from the event alone: set on catalog.price.changed only (a
	// scheduled price's prior price is known when it applies).
	PriorPrice *int64     `json:"prior_price,omitempty"`
	SaleEndsAt *time.Time `json:"sale_ends_at,omitempty"`
	// Version is the event's entityversion: the product's price version, which the store moves
	// by one with every price event of the product's variants while holding the product's row,
	// so it grows in commit order for each variant and currency (scheduled prices included).
	Version int64 `json:"-"`
}

// PriceApplied is the data of catalog.price.changed for history line e of a variant of
// productID becoming current: prior is the prior price the store computed for it
// (PriorPrice, as it keeps it for GET) and saleEndsAt the end of the sale window it opened
// (nil: none, or the end of one). Every path that makes a price current (a single set, a
// batch line, a variant patch or an import line, the sweeper's scheduled line or window end)
// builds its event here, so the event and GET agree.
func PriceApplied(productID string, e PriceEntry, prior *int64, saleEndsAt *time.Time) PriceEvent {
	return PriceEvent{ProductID: productID, PriceEntry: e, PriorPrice: prior, SaleEndsAt: saleEndsAt}
}

// PriceScheduled is the data of catalog.price.scheduled for history line e, a price set for
// later: its window's end is e.ValidUntil, its prior price is computed when it applies.
func PriceScheduled(productID string, e PriceEntry) PriceEvent {
	return PriceEvent{ProductID: productID, PriceEntry: e}
}

// Deleted names what a deletion removed (its event carries no data).
type Deleted struct {
	Subject string
	Version int64
}

// ReservationStateVersion is a reservation event's entityversion: 1 when held (created), 2
// once finished (committed, released or expired). A reservation moves one way and finishes
// once, so its state order is its own; the number lets consumers apply one rule to every event.
func ReservationStateVersion(s ReservationStatus) int64 {
	if s == ReservationHeld || s == "" {
		return 1
	}
	return 2
}

// ReservationEvent is the event type of a reservation reaching status to.
func ReservationEvent(to ReservationStatus) string {
	switch to {
	case ReservationCommitted:
		return EventReservationCommitted
	case ReservationReleased:
		return EventReservationReleased
	case ReservationExpired:
		return EventReservationExpired
	}
	return EventReservationCreated
}
