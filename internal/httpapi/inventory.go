package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// stockBody is the body of GET /products/{id}/stock.
type stockBody struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	catalog.Stock
}

func (s *Server) getStock(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Product(r.Context(), r.PathValue("id"))
	if err == nil {
		err = visible(r, p)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Stock moves quickly in a sale: clients revalidate every second.
	w.Header().Set("Cache-Control", "public, max-age=1")
	writeJSON(w, http.StatusOK, stockBody{ProductID: p.ID, SKU: p.SKU, Stock: p.Stock})
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
	id := r.PathValue("id")
	idem, err := idempotency(r, "adjust "+id, a)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, err := s.store.AdjustStock(r.Context(), id, a, Actor(r.Context()), idem)
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
	ms, err := s.store.Movements(r.Context(), r.PathValue("id"), before, limit)
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

type priceResult struct {
	Product catalog.Product    `json:"product"`
	Price   catalog.PriceEntry `json:"price"`
}

func (s *Server) setPrice(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatchVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body struct {
		Price     catalog.Money `json:"price"`
		ValidFrom *dateTime     `json:"valid_from"`
	}
	if _, err := s.decodeJSON(w, r, &body, priceSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	var problems catalog.Problems
	c := catalog.PriceChange{Price: body.Price, ValidFrom: body.ValidFrom.parse("valid_from", &problems)}
	if err := problems.Err(); err != nil {
		writeError(w, r, err)
		return
	}
	p, e, err := s.store.SetPrice(r.Context(), r.PathValue("id"), c, Actor(r.Context()), version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, priceResult{Product: p, Price: e})
}

type priceList struct {
	Items []catalog.PriceEntry `json:"items"`
}

// publicPrice is a price entry as the public sees it: no actor.
type publicPrice struct {
	ID        int64         `json:"id"`
	Price     catalog.Money `json:"price"`
	ValidFrom time.Time     `json:"valid_from"`
	AppliedAt *time.Time    `json:"applied_at,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

type publicPriceList struct {
	Items []publicPrice `json:"items"`
}

// priceHistory shows a back-office key every entry, scheduled ones and actors included; the
// public sees past and current prices of active products only (a shop must be able to show the
// price a discount is measured against), never a scheduled sale or who set a price.
func (s *Server) priceHistory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !canRead(r) {
		p, err := s.store.Product(r.Context(), id)
		if err == nil {
			err = visible(r, p)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
	}
	h, err := s.store.PriceHistory(r.Context(), id)
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
	now := time.Now()
	out := publicPriceList{Items: []publicPrice{}}
	for _, e := range h {
		// An entry is public once it applies: applied by the sweeper, or simply due.
		if e.AppliedAt == nil && e.ValidFrom.After(now) {
			continue
		}
		out.Items = append(out.Items, publicPrice{ID: e.ID, Price: e.Price, ValidFrom: e.ValidFrom, AppliedAt: e.AppliedAt, CreatedAt: e.CreatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}
