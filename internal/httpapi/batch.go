package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Batch bodies: up to catalog.MaxBatchLines lines, refused while tokenising beyond that.
var (
	stockBatchSpec = bodySpec{required: []string{"/lines", "/lines/*/sku", "/lines/*/delta", "/lines/*/reason"},
		maxItems: map[string]int{"/lines": catalog.MaxBatchLines}}
	priceBatchSpec = bodySpec{required: []string{"/lines", "/lines/*/sku", "/lines/*/currency", "/lines/*/amount"},
		maxItems: map[string]int{"/lines": catalog.MaxBatchLines}}
)

type stockBatchBody struct {
	Lines []struct {
		SKU    string `json:"sku"`
		Delta  int64  `json:"delta"`
		Reason string `json:"reason"`
		Note   string `json:"note"`
	} `json:"lines"`
}

type priceBatchBody struct {
	Lines []struct {
		SKU        string    `json:"sku"`
		Currency   string    `json:"currency"`
		Amount     int64     `json:"amount"`
		CompareAt  *int64    `json:"compare_at"`
		ValidFrom  *dateTime `json:"valid_from"`
		ValidUntil *dateTime `json:"valid_until"`
	} `json:"lines"`
}

// batchResult is the answer to a batch: one result per line, in the lines' order.
type batchResult[T any] struct {
	Lines []T `json:"lines"`
}

// stockBatch serves POST /batch/stock: adjustments of up to 1,000 variants by SKU, all or
// nothing. A refused batch names every bad line (400 for malformed lines, 422 for lines the
// catalog refuses: unknown SKUs, stock that would go negative).
func (s *Server) stockBatch(w http.ResponseWriter, r *http.Request) {
	var body stockBatchBody
	if _, err := s.decodeJSON(w, r, &body, stockBatchSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	lines := make([]catalog.StockLine, len(body.Lines))
	for i, l := range body.Lines {
		lines[i] = catalog.StockLine{SKU: l.SKU, Adjustment: catalog.Adjustment{Delta: l.Delta, Reason: l.Reason, Note: l.Note}}
	}
	if err := catalog.ValidateStockLines(lines); err != nil {
		writeError(w, r, err)
		return
	}
	idem, err := idempotency(r, "stock batch", lines)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ms, err := s.store.AdjustStockBatch(r.Context(), lines, Actor(r.Context()), idem)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, batchResult[catalog.Movement]{Lines: ms})
}

// priceBatch serves POST /batch/prices: prices of up to 1,000 variants by SKU and currency, now,
// scheduled or as sale windows (as PUT .../prices/{currency} takes one), all or nothing.
func (s *Server) priceBatch(w http.ResponseWriter, r *http.Request) {
	var body priceBatchBody
	if _, err := s.decodeJSON(w, r, &body, priceBatchSpec); err != nil {
		writeDecodeError(w, r, err)
		return
	}
	var problems catalog.Problems
	lines := make([]catalog.PriceLine, len(body.Lines))
	for i, l := range body.Lines {
		lines[i] = catalog.PriceLine{SKU: l.SKU, PriceChange: catalog.PriceChange{Currency: l.Currency, Amount: l.Amount, CompareAt: l.CompareAt,
			ValidFrom:  l.ValidFrom.parse(fmt.Sprintf("lines[%d].valid_from", i), &problems),
			ValidUntil: l.ValidUntil.parse(fmt.Sprintf("lines[%d].valid_until", i), &problems)}}
	}
	// Checked here against this clock to answer every bad line at once; the store checks
	// again against its own, inside its transaction.
	if err := catalog.ValidatePriceLines(lines, time.Now()); err != nil || len(problems) > 0 {
		var e *catalog.Error
		if errors.As(err, &e) && len(e.Fields) == 1 && e.Fields[0].Field == "lines" {
			writeError(w, r, err)
			return
		}
		if e != nil {
			problems = append(problems, e.Fields...)
		}
		writeError(w, r, catalog.BatchInvalid(problems))
		return
	}
	idem, err := idempotency(r, "price batch", lines)
	if err != nil {
		writeError(w, r, err)
		return
	}
	es, err := s.store.SetPriceBatch(r.Context(), lines, Actor(r.Context()), idem)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, batchResult[catalog.PriceEvent]{Lines: es})
}
