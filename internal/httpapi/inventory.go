package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// stockBody is the body of GET /products/{id}/variants/{variantID}/stock.
type stockBody struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	SKU       string `json:"sku"`
	catalog.Stock
}

func (s *Server) getStock(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.readVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Stock moves quickly in a sale: clients revalidate every second.
	w.Header().Set("Cache-Control", "public, max-age=1")
	writeJSON(w, http.StatusOK, stockBody{ProductID: v.ProductID, VariantID: v.ID, SKU: v.SKU, Stock: v.Stock})
}

// idempotency reads the Idempotency-Key header of a request whose meaning is operation + body.
func idempotency(r *http.Request, operation string, body any) (*catalog.Idempotency, error) {
	return catalog.NewIdempotency(Actor(r.Context()), r.Header.Get("Idempotency-Key"), operation, body)
}

func (s *Server) adjustStock(w http.ResponseWriter, r *http.Request) {
	var a catalog.Adjustment
	if _, err := s.decodeJSON(w, r, &a, plainSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	if err := a.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	// Everything the client sent is checked before the store is asked about the variant.
	idem, err := idempotency(r, "adjust "+r.PathValue("variantID"), a)
	if err != nil {
		writeError(w, r, err)
		return
	}
	vid, err := s.ownedVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, err := s.store.AdjustStock(r.Context(), vid, a, Actor(r.Context()), idem)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, m)
}

type movementList struct {
	Items      []catalog.Movement `json:"items"`
	NextBefore int64              `json:"next_before,omitempty"`
}

func (s *Server) listMovements(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	limit, before := catalog.DefaultLimit, int64(0)
	for name := range q {
		if name != "limit" && name != "before" {
			p.Add(name, "is not a known query parameter (known: limit, before)")
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > catalog.MaxLimit {
			p.Add("limit", "must be an integer between 1 and %d", catalog.MaxLimit)
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			p.Add("before", "must be a movement id (a positive integer)")
		}
		before = n
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	vid, err := s.ownedVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ms, err := s.store.Movements(r.Context(), vid, before, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body := movementList{Items: ms}
	if body.Items == nil {
		body.Items = []catalog.Movement{}
	}
	if len(ms) == limit {
		body.NextBefore = ms[len(ms)-1].ID
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) createReservation(w http.ResponseWriter, r *http.Request) {
	var in catalog.ReservationInput
	if _, err := s.decodeJSON(w, r, &in, reservationSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	if err := in.Validate(); err != nil {
		s.countReservation("invalid")
		writeError(w, r, err)
		return
	}
	idem, err := idempotency(r, "reserve", in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	res, err := s.store.Reserve(r.Context(), in, Actor(r.Context()), idem)
	switch catalog.ErrorCode(err) {
	case "":
		s.countReservation(replayed(res, "reserved", "reserve_replayed"))
	case catalog.CodeInsufficientStock:
		s.countReservation("insufficient_stock")
	case catalog.CodePurchaseLimit:
		// A flash sale's limit doing its job, not an error of the service.
		s.countReservation("purchase_limit")
	case catalog.CodeInvalid:
		s.countReservation("invalid")
	default:
		s.countReservation("error")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/reservations/"+res.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, res)
}

// replayed picks the outcome to count: an idempotent replay changed nothing and is counted as
// one, so the counters measure reservations, not retries.
func replayed(r catalog.Reservation, outcome, replay string) string {
	if r.Replayed {
		return replay
	}
	return outcome
}

func (s *Server) countReservation(outcome string) {
	if s.metrics != nil {
		s.metrics.Reservation(outcome, 1)
	}
}

func (s *Server) getReservation(w http.ResponseWriter, r *http.Request) {
	res, err := s.store.Reservation(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) finishReservation(commit bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		op, outcome, replay := "release "+id, "released", "release_replayed"
		if commit {
			op, outcome, replay = "commit "+id, "committed", "commit_replayed"
		}
		idem, err := idempotency(r, op, nil)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var res catalog.Reservation
		if commit {
			res, err = s.store.CommitReservation(r.Context(), id, Actor(r.Context()), idem)
		} else {
			res, err = s.store.ReleaseReservation(r.Context(), id, Actor(r.Context()), idem)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		s.countReservation(replayed(res, outcome, replay))
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, res)
	}
}

// priceResult is the answer to a price change: the variant as it is now, and the history line
// the change wrote (applied, or scheduled).
type priceResult struct {
	Variant catalog.Variant    `json:"variant"`
	Price   catalog.PriceEntry `json:"price"`
}

// setPrice sets, schedules or opens a sale window for the variant's price in the path's
// currency: 200 when the price is current now, 202 when it waits for its valid_from.
func (s *Server) setPrice(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body struct {
		Amount     int64     `json:"amount"`
		CompareAt  *int64    `json:"compare_at"`
		ValidFrom  *dateTime `json:"valid_from"`
		ValidUntil *dateTime `json:"valid_until"`
	}
	if _, err := s.decodeJSON(w, r, &body, priceSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	var problems catalog.Problems
	c := catalog.PriceChange{Currency: r.PathValue("currency"), Amount: body.Amount, CompareAt: body.CompareAt,
		ValidFrom: body.ValidFrom.parse("valid_from", &problems), ValidUntil: body.ValidUntil.parse("valid_until", &problems)}
	if err := problems.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	// The store validates the change against its own clock, inside its transaction.
	vid, err := s.ownedVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, e, err := s.store.SetPrice(r.Context(), vid, c, Actor(r.Context()), version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if e.AppliedAt == nil {
		status = http.StatusAccepted
	}
	s.writeVariantWrite(w, r, status, v, priceResult{Variant: v, Price: e})
}

// removePrice drops the variant's price in a currency, with its scheduled changes.
func (s *Server) removePrice(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	currency := r.PathValue("currency")
	if _, ok := catalog.MinorUnits(currency); !ok {
		writeError(w, r, catalog.InvalidField("currency", "%q is not an ISO 4217 currency code (upper case, e.g. USD)", currency))
		return
	}
	vid, err := s.ownedVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.store.RemovePrice(r.Context(), vid, currency, Actor(r.Context()), version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeVariantWrite(w, r, http.StatusOK, v, v)
}

type priceList struct {
	Items []catalog.PriceEntry `json:"items"`
}

// publicPrice is a price history line as the public sees it: a price that was current, without
// who set it. Scheduled lines, and a window's planned end, are the shop's plans, not yet public.
type publicPrice struct {
	ID        int64             `json:"id"`
	Kind      catalog.PriceKind `json:"kind"`
	Price     catalog.Money     `json:"price"`
	CompareAt *int64            `json:"compare_at,omitempty"`
	ValidFrom time.Time         `json:"valid_from"`
	AppliedAt *time.Time        `json:"applied_at"`
	EndedAt   *time.Time        `json:"ended_at,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
}

type publicPriceList struct {
	Items []publicPrice `json:"items"`
}

// priceHistory shows a back-office key every line, scheduled ones and actors included; the
// public sees the prices of active products' variants that were current (a shop must be able to
// show the price a discount is measured against), never a scheduled sale or who set a price
// (issue 13, ADR 0007).
func (s *Server) priceHistory(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var p catalog.Problems
	for name := range q {
		if name != "currency" {
			p.Add(name, "is not a known query parameter (known: currency)")
		}
	}
	currency := q.Get("currency")
	if _, ok := catalog.MinorUnits(currency); currency != "" && !ok {
		p.Add("currency", "%q is not an ISO 4217 currency code (upper case, e.g. USD)", currency)
	}
	if err := p.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	v, _, err := s.readVariant(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h, err := s.store.PriceHistory(r.Context(), v.ID, currency)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	if canRead(r) {
		if h == nil {
			h = []catalog.PriceEntry{}
		}
		writeJSON(w, http.StatusOK, priceList{Items: h})
		return
	}
	out := publicPriceList{Items: []publicPrice{}}
	for _, e := range h {
		if e.AppliedAt == nil {
			continue // scheduled, or cancelled before it applied
		}
		out.Items = append(out.Items, publicPrice{ID: e.ID, Kind: e.Kind, Price: e.Price, CompareAt: e.CompareAt,
			ValidFrom: e.ValidFrom, AppliedAt: e.AppliedAt, EndedAt: e.EndedAt, CreatedAt: e.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}
