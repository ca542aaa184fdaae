package catalog

import (
	"encoding/json"
	"strconv"
	"time"
)

// appendEventJSON writes data's JSON when data is event data that writes its own (by value:
// a nil pointer is left to encoding/json), the same bytes encoding/json.Marshal writes for it
// (HTML escaping on), without its reflection. Price events are written by the thousand in an
// import batch (one a repriced variant and currency: encoding/json was 15-20% of a repriced
// batch's Go CPU) and stock events on every reservation. ok is false for any other data, and
// for a value the hand-written form does not cover (a time encoding/json refuses): NewEvent
// then gives it to encoding/json, so its answer, or its error, is exactly the library's.
// TestEventJSONIsMarshal and FuzzEventJSON hold the two equal.
func appendEventJSON(b []byte, data any) (_ []byte, ok bool) {
	switch d := data.(type) {
	case PriceEvent:
		return d.appendJSON(b)
	case StockLevel:
		return d.appendJSON(b)
	}
	return b, false
}

func (e PriceEvent) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	b = append(b, `{"product_id":`...)
	b = appendJSONString(b, e.ProductID)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"variant_id":`...)
	b = appendJSONString(b, e.VariantID)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = append(b, `,"price":{"currency":`...)
	b = appendJSONString(b, e.Price.Currency)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, e.Price.Amount, 10)
	b = append(b, '}')
	b = appendOptionalInt(b, `,"compare_at":`, e.CompareAt)
	b = append(b, `,"valid_from":`...)
	b = appendJSONTime(b, e.ValidFrom, &ok)
	b = appendOptionalTime(b, `,"valid_until":`, e.ValidUntil, &ok)
	b = appendOptionalTime(b, `,"applied_at":`, e.AppliedAt, &ok)
	b = appendOptionalTime(b, `,"ended_at":`, e.EndedAt, &ok)
	if e.Actor != "" {
		b = append(b, `,"actor":`...)
		b = appendJSONString(b, e.Actor)
	}
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, e.CreatedAt, &ok)
	b = appendOptionalInt(b, `,"prior_price":`, e.PriorPrice)
	b = appendOptionalTime(b, `,"sale_ends_at":`, e.SaleEndsAt, &ok)
	return append(b, '}'), ok
}

func (s StockLevel) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"variant_id":`...)
	b = appendJSONString(b, s.VariantID)
	b = append(b, `,"product_id":`...)
	b = appendJSONString(b, s.ProductID)
	b = append(b, `,"sku":`...)
	b = appendJSONString(b, s.SKU)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(s.Kind))
	b = append(b, `,"on_hand":`...)
	b = strconv.AppendInt(b, s.OnHand, 10)
	b = append(b, `,"reserved":`...)
	b = strconv.AppendInt(b, s.Reserved, 10)
	b = append(b, `,"available":`...)
	b = strconv.AppendInt(b, s.Available, 10)
	if s.ReservationID != "" {
		b = append(b, `,"reservation_id":`...)
		b = appendJSONString(b, s.ReservationID)
	}
	return append(b, '}'), true
}

// appendJSONString writes s as encoding/json does: printable ASCII that needs no escape as it
// stands (IDs, SKUs, currencies, kinds: nearly every string here), anything else through the
// library, which knows its escapes (HTML characters, control characters, U+2028 and U+2029,
// invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime writes t as time.Time.MarshalJSON does (the same strict RFC 3339); a time it
// refuses clears ok.
func appendJSONTime(b []byte, t time.Time, ok *bool) []byte {
	out, err := t.AppendText(append(b, '"'))
	if err != nil { // AppendText returns no slice with its error
		*ok = false
		return b
	}
	return append(out, '"')
}

func appendOptionalTime(b []byte, key string, t *time.Time, ok *bool) []byte {
	if t == nil {
		return b
	}
	return appendJSONTime(append(b, key...), *t, ok)
}

func appendOptionalInt(b []byte, key string, v *int64) []byte {
	if v == nil {
		return b
	}
	return strconv.AppendInt(append(b, key...), *v, 10)
}
