package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MovementKind says what moved stock.
type MovementKind string

// Movement kinds. Adjustments change on-hand; reservations move units between available and
// reserved; commits take reserved units out of on-hand; releases and expiries give them back.
const (
	MoveAdjustment MovementKind = "adjustment"
	MoveReserve    MovementKind = "reserve"
	MoveCommit     MovementKind = "commit"
	MoveRelease    MovementKind = "release"
	MoveExpire     MovementKind = "expire"
	MoveInitial    MovementKind = "initial"
)

// Movement is one entry of a variant's append-only stock log. The sums of OnHandDelta and
// ReservedDelta over a variant's log equal its current on-hand and reserved quantities.
type Movement struct {
	ID            int64        `json:"id"`
	VariantID     string       `json:"variant_id"`
	ProductID     string       `json:"product_id"`
	SKU           string       `json:"sku"`
	Kind          MovementKind `json:"kind"`
	OnHandDelta   int64        `json:"on_hand_delta"`
	ReservedDelta int64        `json:"reserved_delta"`
	OnHand        int64        `json:"on_hand"`
	Reserved      int64        `json:"reserved"`
	Reason        string       `json:"reason,omitempty"`
	// Note is the free text an adjustment was given (a purchase order, a ticket).
	Note          string    `json:"note,omitempty"`
	ReservationID string    `json:"reservation_id,omitempty"`
	Actor         string    `json:"actor"`
	At            time.Time `json:"at"`
	// StockVersion is the variant's stock version after the movement (its event's
	// entityversion); not part of the movement log's JSON.
	StockVersion int64 `json:"-"`
}

// Adjustment reasons.
var AdjustmentReasons = []string{"received", "returned", "damaged", "lost", "count_correction", "other"}

// Adjustment adds (positive) or removes (negative) units on hand.
type Adjustment struct {
	Delta  int64  `json:"delta"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// MaxQuantity bounds one adjustment or reservation line.
const MaxQuantity = 1_000_000

// Validate checks the adjustment.
func (a Adjustment) Validate() error {
	var p Problems
	if a.Delta == 0 || a.Delta > MaxQuantity || a.Delta < -MaxQuantity {
		p.Add("delta", "must be a non-zero whole number of units between -%d and %d", MaxQuantity, MaxQuantity)
	}
	ok := false
	for _, r := range AdjustmentReasons {
		ok = ok || a.Reason == r
	}
	if !ok {
		p.Add("reason", "must be one of %s", strings.Join(AdjustmentReasons, ", "))
	}
	validText(&p, "note", a.Note, 500, false, Multiline)
	return p.Err()
}

// CheckStockLeft refuses adjustment a of the variant with sku when it would leave its
// available stock negative (onHand and reserved are its locked stock). The single path
// (POST .../stock) and each batch line call it, so both name the same field with the same rule.
func CheckStockLeft(a Adjustment, sku string, onHand, reserved int64) error {
	if onHand+a.Delta >= reserved {
		return nil
	}
	problem := fmt.Sprintf("removing %d units of %s would leave available stock negative: %d on hand, %d reserved, %d available",
		-a.Delta, sku, onHand, reserved, onHand-reserved)
	return &Error{Code: CodeInsufficientStock, Message: problem, Fields: []FieldError{{Field: "delta", Problem: problem}}}
}

// CanDelete checks that a variant (or a product, summing its variants) with this stock may be
// deleted: its movement log and price history are kept, but units still on hand or reserved
// would vanish from the books without a movement saying where they went. Such a product is
// archived instead, or its stock adjusted to zero first.
func CanDelete(onHand, reserved int64) error {
	switch {
	case reserved > 0:
		return &Error{Code: CodeConflict, Message: "units of this product are reserved: commit or release the reservations first, or archive the product",
			Fields: []FieldError{{Field: "reserved", Problem: fmt.Sprintf("%d units are reserved; must be 0 to delete", reserved)}}}
	case onHand > 0:
		return &Error{Code: CodeConflict, Message: "units of this product are on hand: archive it instead, or adjust its stock to zero first",
			Fields: []FieldError{{Field: "on_hand", Problem: fmt.Sprintf("%d units are on hand; must be 0 to delete", onHand)}}}
	}
	return nil
}

// ReservationStatus is where a reservation is in its life.
type ReservationStatus string

// Reservation statuses. Only a held reservation changes; each of the others is final.
const (
	ReservationHeld      ReservationStatus = "held"
	ReservationCommitted ReservationStatus = "committed"
	ReservationReleased  ReservationStatus = "released"
	ReservationExpired   ReservationStatus = "expired"
)

// ReservationLine is one SKU (a variant) and quantity of a reservation.
type ReservationLine struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	VariantID string `json:"variant_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
}

// ReservationInput asks to hold units of several SKUs, all or nothing.
type ReservationInput struct {
	Lines []ReservationLine `json:"lines"`
	// TTLSeconds is how long the units are held; 0 means DefaultReservationTTL.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// Reservation limits.
const (
	DefaultReservationTTL = 15 * time.Minute
	MinReservationTTL     = 30 * time.Second
	MaxReservationTTL     = 2 * time.Hour
	MaxReservationLines   = 100
)

// TTL returns the hold time the input asks for. A TTLSeconds outside the accepted range (which
// Validate refuses) gives the default rather than a product that overflows a Duration.
func (in ReservationInput) TTL() time.Duration {
	if !in.ttlInRange() {
		return DefaultReservationTTL
	}
	return time.Duration(in.TTLSeconds) * time.Second
}

// ttlInRange compares seconds with seconds, before any multiplication: 18446744104 s times 1e9
// wraps around to a plausible duration.
func (in ReservationInput) ttlInRange() bool {
	return in.TTLSeconds >= int64(MinReservationTTL/time.Second) && in.TTLSeconds <= int64(MaxReservationTTL/time.Second)
}

// Validate checks the lines and TTL. A SKU may appear only once.
func (in ReservationInput) Validate() error {
	var p Problems
	if len(in.Lines) == 0 || len(in.Lines) > MaxReservationLines {
		p.Add("lines", "must have 1 to %d lines", MaxReservationLines)
	}
	seen := map[string]bool{}
	for i, l := range in.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		switch key := strings.ToLower(l.SKU); {
		case !checkText(&p, field+".sku", l.SKU, Identifier):
		case !ValidSKU(l.SKU):
			p.Add(field+".sku", "must be a SKU")
		case seen[key]:
			p.Add(field+".sku", "%s appears twice: put the whole quantity on one line", l.SKU)
		default:
			seen[key] = true
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			p.Add(field+".quantity", "must be between 1 and %d", MaxQuantity)
		}
	}
	if in.TTLSeconds != 0 && !in.ttlInRange() {
		p.Add("ttl_seconds", "must be between %d and %d", int(MinReservationTTL.Seconds()), int(MaxReservationTTL.Seconds()))
	}
	return p.Err()
}

// Reservation holds units of several variants for a checkout.
type Reservation struct {
	ID        string            `json:"id"`
	Status    ReservationStatus `json:"status"`
	Lines     []ReservationLine `json:"lines"`
	ExpiresAt time.Time         `json:"expires_at"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	// Replayed says this is the remembered answer to an earlier request with the same
	// idempotency key: nothing changed this time. It is not part of the answer itself.
	Replayed bool `json:"-"`
}

// Idempotency identifies a request a client may retry: the caller, its key, and a fingerprint
// of what it asked. A retry with the same key and fingerprint gets the first result; the same key
// with another fingerprint is refused.
type Idempotency struct {
	Actor       string
	Key         string
	Fingerprint string
}

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 200

// IdempotencyTTL is how long a key is remembered.
const IdempotencyTTL = 24 * time.Hour

// NewIdempotency returns the idempotency of a request to operation with body; nil when the
// client sent no key.
func NewIdempotency(actor, key, operation string, body any) (*Idempotency, error) {
	if key == "" {
		return nil, nil
	}
	if err := CheckText("Idempotency-Key", key, Identifier); err != nil {
		return nil, err
	}
	if len(key) > MaxIdempotencyKey {
		return nil, InvalidField("Idempotency-Key", "must be 1-%d bytes", MaxIdempotencyKey)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte(operation+"\n"), b...))
	return &Idempotency{Actor: actor, Key: key, Fingerprint: hex.EncodeToString(sum[:])}, nil
}

// ErrIdempotencyMismatch is returned when a key is reused for a different request.
var ErrIdempotencyMismatch = Errorf(CodeIdempotencyMismatch, "this Idempotency-Key was used for a different request; use a new key")

// Inventory is the part of a store that counts stock and keeps prices. Every method is one
// transaction. Methods taking an *Idempotency replay the first result for a repeated key.
//
// Stock, reservations and prices belong to variants: the variantID arguments name one.
type Inventory interface {
	AdjustStock(ctx context.Context, variantID string, a Adjustment, actor string, idem *Idempotency) (Movement, error)
	// Movements lists a variant's stock log, newest first, after the movement ID before (0:
	// from the newest).
	Movements(ctx context.Context, variantID string, before int64, limit int) ([]Movement, error)

	// Reserve holds every line or none. A line above its variant's purchase limit is refused
	// with PurchaseLimitExceeded before any stock is looked at.
	Reserve(ctx context.Context, in ReservationInput, actor string, idem *Idempotency) (Reservation, error)
	Reservation(ctx context.Context, id string) (Reservation, error)
	CommitReservation(ctx context.Context, id, actor string, idem *Idempotency) (Reservation, error)
	ReleaseReservation(ctx context.Context, id, actor string, idem *Idempotency) (Reservation, error)
	// ExpireReservations releases held reservations whose time is up, at most limit of them, and
	// returns them as they now are.
	ExpireReservations(ctx context.Context, limit int) ([]Reservation, error)

	// SetPrice sets or schedules a variant's price in one currency, or opens a sale window. An
	// immediate price ends any sale window running in that currency (its price is replaced).
	// The product's version moves when the current price changes; ifVersion is the product's.
	// The returned variant shows the prices after the change.
	SetPrice(ctx context.Context, variantID string, c PriceChange, actor string, ifVersion int64) (Variant, PriceEntry, error)
	// RemovePrice drops a variant's price in a currency (and cancels its scheduled changes);
	// refused for the variant's last price.
	RemovePrice(ctx context.Context, variantID, currency, actor string, ifVersion int64) (Variant, error)
	// PriceHistory lists a variant's price history, oldest first; currency "" lists every
	// currency.
	PriceHistory(ctx context.Context, variantID, currency string) ([]PriceEntry, error)
	// ApplyDuePrices makes scheduled prices whose time has come current and reverts sale
	// windows that have ended, at most limit changes, each exactly once across every instance
	// sweeping at the same time, and returns them.
	ApplyDuePrices(ctx context.Context, limit int) ([]AppliedPrice, error)

	// PurgeIdempotencyKeys deletes at most limit idempotency keys older than IdempotencyTTL
	// (they replay nothing any more) and returns how many.
	PurgeIdempotencyKeys(ctx context.Context, limit int) (int, error)
	// PurgeReservations deletes at most limit finished (committed, released, expired)
	// reservations, with their lines, last changed more than retention ago, and returns how
	// many. Held reservations and the stock movements of every reservation are kept.
	PurgeReservations(ctx context.Context, retention time.Duration, limit int) (int, error)
}

// ExpiryActor is the actor of movements the expiry sweeper makes.
const ExpiryActor = "system:expiry"

// CanFinish checks that r may move to status to at now: only a held reservation changes, once,
// and a held one past its expiry can only expire.
func CanFinish(r Reservation, to ReservationStatus, now time.Time) error {
	if r.Status != ReservationHeld {
		return Errorf(CodeConflict, "the reservation is already %s", r.Status)
	}
	if to != ReservationExpired && !now.Before(r.ExpiresAt) {
		return Errorf(CodeConflict, "the reservation expired at %s; its units are being returned to stock", r.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// FinishMovement is the stock movement that ends line l of reservation r with status to.
func FinishMovement(r Reservation, l ReservationLine, to ReservationStatus, actor string, now time.Time) Movement {
	m := Movement{VariantID: l.VariantID, ProductID: l.ProductID, SKU: l.SKU, ReservedDelta: -l.Quantity, ReservationID: r.ID, Actor: actor, At: now}
	switch to {
	case ReservationCommitted:
		m.Kind, m.OnHandDelta = MoveCommit, -l.Quantity
	case ReservationExpired:
		m.Kind = MoveExpire
	default:
		m.Kind = MoveRelease
	}
	return m
}

// ShortageError is the answer to a reservation some lines of which stock cannot cover.
func ShortageError(shortages []Shortage) error {
	parts := make([]string, len(shortages))
	for i, sh := range shortages {
		parts[i] = fmt.Sprintf("%s (asked %d, available %d)", sh.SKU, sh.Requested, sh.Available)
	}
	return &Error{Code: CodeInsufficientStock, Shortages: shortages,
		Message: "not enough stock, nothing was reserved: " + strings.Join(parts, ", ")}
}

// PurchaseLimitExceeded is the answer to a reservation line above its variant's purchase limit.
func PurchaseLimitExceeded(line int, sku string, limit, asked int64) error {
	return &Error{Code: CodePurchaseLimit,
		Message: fmt.Sprintf("at most %d units of %s may be reserved at once (asked %d), nothing was reserved", limit, sku, asked),
		Fields:  []FieldError{{Field: fmt.Sprintf("lines[%d].quantity", line), Problem: fmt.Sprintf("must be at most %d: the purchase limit of %s", limit, sku)}}}
}
