package catalogjson

import (
	"strconv"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// appendEventData writes data's JSON when data is a price or stock event's data (by value: a
// nil pointer is left to encoding/json), the bytes json.Marshal writes for it (HTML escaping
// on, by AppendStringHTML; times and numbers hold no character it escapes). An import batch
// writes a price event per repriced variant and currency (about 7,500 for 1,000 products:
// encoding/json was 15-20% of a repriced batch's Go CPU) and every reservation a stock event.
// ok is false for any other data, and for a time encoding/json refuses: NewEvent then gives
// the data to catalog.NewEvent, so its answer, or its error, is exactly the library's.
// TestEventJSONIsMarshal and FuzzEventJSON hold the two equal.
func appendEventData(b []byte, data any) (_ []byte, ok bool) {
	switch d := data.(type) {
	case catalog.PriceEvent:
		return appendPriceEvent(b, &d)
	case catalog.StockLevel:
		return appendStockLevel(b, &d), true
	}
	return b, false
}

func appendPriceEvent(b []byte, e *catalog.PriceEvent) ([]byte, bool) {
	var err error
	b = append(b, `{"product_id":`...)
	b = AppendStringHTML(b, e.ProductID)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"variant_id":`...)
	b = AppendStringHTML(b, e.VariantID)
	b = append(b, `,"kind":`...)
	b = AppendStringHTML(b, string(e.Kind))
	b = append(b, `,"price":{"currency":`...)
	b = AppendStringHTML(b, e.Price.Currency)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, e.Price.Amount, 10)
	b = append(b, '}')
	b = appendOptionalInt(b, `,"compare_at":`, e.CompareAt)
	b = append(b, `,"valid_from":`...)
	if b, err = AppendTime(b, e.ValidFrom); err != nil {
		return b, false
	}
	if b, err = appendOptionalTime(b, `,"valid_until":`, e.ValidUntil); err != nil {
		return b, false
	}
	if b, err = appendOptionalTime(b, `,"applied_at":`, e.AppliedAt); err != nil {
		return b, false
	}
	if b, err = appendOptionalTime(b, `,"ended_at":`, e.EndedAt); err != nil {
		return b, false
	}
	if e.Actor != "" {
		b = append(b, `,"actor":`...)
		b = AppendStringHTML(b, e.Actor)
	}
	b = append(b, `,"created_at":`...)
	if b, err = AppendTime(b, e.CreatedAt); err != nil {
		return b, false
	}
	b = appendOptionalInt(b, `,"prior_price":`, e.PriorPrice)
	if b, err = appendOptionalTime(b, `,"sale_ends_at":`, e.SaleEndsAt); err != nil {
		return b, false
	}
	return append(b, '}'), true
}

func appendStockLevel(b []byte, s *catalog.StockLevel) []byte {
	b = append(b, `{"variant_id":`...)
	b = AppendStringHTML(b, s.VariantID)
	b = append(b, `,"product_id":`...)
	b = AppendStringHTML(b, s.ProductID)
	b = append(b, `,"sku":`...)
	b = AppendStringHTML(b, s.SKU)
	b = append(b, `,"kind":`...)
	b = AppendStringHTML(b, string(s.Kind))
	b = append(b, `,"on_hand":`...)
	b = strconv.AppendInt(b, s.OnHand, 10)
	b = append(b, `,"reserved":`...)
	b = strconv.AppendInt(b, s.Reserved, 10)
	b = append(b, `,"available":`...)
	b = strconv.AppendInt(b, s.Available, 10)
	if s.ReservationID != "" {
		b = append(b, `,"reservation_id":`...)
		b = AppendStringHTML(b, s.ReservationID)
	}
	return append(b, '}')
}

func appendOptionalTime(b []byte, key string, t *time.Time) ([]byte, error) {
	if t == nil {
		return b, nil
	}
	return AppendTime(append(b, key...), *t)
}

func appendOptionalInt(b []byte, key string, v *int64) []byte {
	if v == nil {
		return b
	}
	return strconv.AppendInt(append(b, key...), *v, 10)
}
