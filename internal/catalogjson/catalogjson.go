// Package catalogjson writes the catalog's types as JSON by hand: byte for byte what
// encoding/json writes for them, without its reflection, which took about two thirds of the
// HTTP layer's CPU for a product read before compression (ADR 0024). Append* write with HTML
// escaping off, as the API answers; MarshalProduct writes what json.Marshal does (HTML escaping
// on), as events carry products. A value there is no hand-written form for (an attribute
// holding a list) goes through encoding/json, inside the same buffer. httpapi's
// TestEncodeMatchesStdlib, TestEncodeKnowsEveryField and FuzzEncodeProduct hold every form
// equal to encoding/json's, through the API's encoder and MarshalProduct. NewEvent writes the
// data of product, price and stock events, the events written by the thousand; price and
// stock data (events.go) are held to json.Marshal by TestEventJSONIsMarshal and FuzzEventJSON.
package catalogjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/acme/catalog/internal/catalog"
)

// ErrNotEncodable: a value encoding/json would refuse too (a NaN, a year past 9999), so the
// caller falls back to encoding/json to answer exactly as it would.
var ErrNotEncodable = errors.New("value encoding/json refuses")

// AppendProduct writes p as the API answers it (HTML escaping off).
func AppendProduct(b []byte, p *catalog.Product) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = AppendString(b, p.ID)
	b = append(b, `,"name":`...)
	b = AppendString(b, p.Name)
	b = append(b, `,"description":`...)
	b = AppendString(b, p.Description)
	b = append(b, `,"category":`...)
	b = AppendString(b, p.Category)
	b = append(b, `,"brand":`...)
	b = AppendString(b, p.Brand)
	b = append(b, `,"attributes":`...)
	if b, err = AppendAttributes(b, p.Attributes); err != nil {
		return b, err
	}
	b = append(b, `,"media":`...)
	b = AppendMediaList(b, p.Media)
	b = append(b, `,"options":`...)
	b = AppendOptions(b, p.Options)
	b = append(b, `,"status":`...)
	b = AppendString(b, string(p.Status))
	if len(p.Variants) > 0 {
		b = append(b, `,"variants":`...)
		if b, err = AppendVariants(b, p.Variants); err != nil {
			return b, err
		}
	}
	b = append(b, `,"variant_count":`...)
	b = strconv.AppendInt(b, int64(p.VariantCount), 10)
	b = append(b, `,"price_ranges":`...)
	b = AppendPriceRanges(b, p.PriceRanges)
	b = append(b, `,"availability":`...)
	b = AppendAvailability(b, p.Availability)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, p.Version, 10)
	b = append(b, `,"created_at":`...)
	if b, err = AppendTime(b, p.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = AppendTime(b, p.UpdatedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// AppendVariants writes a product's variants.
func AppendVariants(b []byte, vs []catalog.Variant) ([]byte, error) {
	if vs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendVariant(b, &vs[i]); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendVariant(b []byte, v *catalog.Variant) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = AppendString(b, v.ID)
	b = append(b, `,"product_id":`...)
	b = AppendString(b, v.ProductID)
	b = append(b, `,"sku":`...)
	b = AppendString(b, v.SKU)
	b = append(b, `,"options":`...)
	b = appendStringMap(b, v.Options)
	b = append(b, `,"position":`...)
	b = strconv.AppendInt(b, int64(v.Position), 10)
	if v.Barcode != "" {
		b = append(b, `,"barcode":`...)
		b = AppendString(b, v.Barcode)
	}
	if v.WeightGrams != nil {
		b = append(b, `,"weight_grams":`...)
		b = strconv.AppendInt(b, *v.WeightGrams, 10)
	}
	b = append(b, `,"attributes":`...)
	if b, err = AppendAttributes(b, v.Attributes); err != nil {
		return b, err
	}
	if v.Image != "" {
		b = append(b, `,"image":`...)
		b = AppendString(b, v.Image)
	}
	if v.PurchaseLimit != 0 {
		b = append(b, `,"purchase_limit":`...)
		b = strconv.AppendInt(b, v.PurchaseLimit, 10)
	}
	b = append(b, `,"prices":`...)
	if b, err = appendPrices(b, v.Prices); err != nil {
		return b, err
	}
	b = append(b, `,"stock":{"on_hand":`...)
	b = strconv.AppendInt(b, v.Stock.OnHand, 10)
	b = append(b, `,"reserved":`...)
	b = strconv.AppendInt(b, v.Stock.Reserved, 10)
	b = append(b, `,"available":`...)
	b = strconv.AppendInt(b, v.Stock.Available, 10)
	b = append(b, `},"created_at":`...)
	if b, err = AppendTime(b, v.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = AppendTime(b, v.UpdatedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func appendPrices(b []byte, ps []catalog.Price) ([]byte, error) {
	if ps == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range ps {
		p := &ps[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"currency":`...)
		b = AppendString(b, p.Currency)
		b = append(b, `,"amount":`...)
		b = strconv.AppendInt(b, p.Amount, 10)
		if p.CompareAt != nil {
			b = append(b, `,"compare_at":`...)
			b = strconv.AppendInt(b, *p.CompareAt, 10)
		}
		if p.PriorPrice != nil {
			b = append(b, `,"prior_price":`...)
			b = strconv.AppendInt(b, *p.PriorPrice, 10)
		}
		if p.SaleEndsAt != nil {
			b = append(b, `,"sale_ends_at":`...)
			var err error
			if b, err = AppendTime(b, *p.SaleEndsAt); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// AppendMediaList writes a product's media.
func AppendMediaList(b []byte, ms []catalog.Media) []byte {
	if ms == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendMedia(b, &ms[i])
	}
	return append(b, ']')
}

// AppendMedia writes one image.
func AppendMedia(b []byte, m *catalog.Media) []byte {
	b = append(b, `{"url":`...)
	b = AppendString(b, m.URL)
	if m.Alt != "" {
		b = append(b, `,"alt":`...)
		b = AppendString(b, m.Alt)
	}
	return append(b, '}')
}

// AppendOptions writes a product's options.
func AppendOptions(b []byte, os []catalog.Option) []byte {
	if os == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range os {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = AppendString(b, os[i].Name)
		b = append(b, `,"values":`...)
		if os[i].Values == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, v := range os[i].Values {
				if j > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// AppendPriceRanges writes a product's price ranges.
func AppendPriceRanges(b []byte, rs []catalog.PriceRange) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"currency":`...)
		b = AppendString(b, r.Currency)
		b = append(b, `,"min":`...)
		b = strconv.AppendInt(b, r.Min, 10)
		b = append(b, `,"max":`...)
		b = strconv.AppendInt(b, r.Max, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// AppendAvailability writes a product's availability.
func AppendAvailability(b []byte, a catalog.Availability) []byte {
	b = append(b, `{"in_stock":`...)
	b = strconv.AppendBool(b, a.InStock)
	b = append(b, `,"available":`...)
	b = strconv.AppendInt(b, a.Available, 10)
	return append(b, '}')
}

// appendStringMap writes m with its keys in order, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		b = AppendString(b, m[k])
	}
	return append(b, '}')
}

// AppendAttributes writes attributes with their keys in order, as encoding/json does.
func AppendAttributes(b []byte, a catalog.Attributes) ([]byte, error) {
	if a == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	for i, k := range sortedKeys(a) {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, a[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// sortedKeys returns m's keys in order; a few keys, so a small sort.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendValue writes an attribute's value: the kinds a JSON document decodes to by hand, any
// other through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return appendFloat(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	}
	return AppendStdlib(b, v)
}

// AppendStdlib writes v through encoding/json with HTML escaping off, without the newline.
func AppendStdlib(b []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, err
	}
	out := buf.Bytes()
	return out[:len(out)-1], nil
}

// appendFloat writes f as encoding/json does: the shortest decimal that reads back as f, in
// exponent form below 1e-6 and from 1e21 up, with a one-digit negative exponent ("1e-7").
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, ErrNotEncodable
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// AppendTime writes t as time.Time.MarshalJSON does (RFC 3339 with the fraction's trailing
// zeros cut). It refuses what MarshalJSON refuses, a year outside 0-9999 or a zone offset of
// 24 hours or more, by the same check: AppendText is MarshalJSON's strict form without the
// quotes.
func AppendTime(b []byte, t time.Time) ([]byte, error) {
	out, err := t.AppendText(append(b, '"'))
	if err != nil { // AppendText returns no slice with its error
		return b, ErrNotEncodable
	}
	return append(out, '"'), nil
}

const hexDigits = "0123456789abcdef"

// AppendString writes s as a JSON string as encoding/json does without HTML escaping: quotes,
// backslashes and control characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029
// escaped (JavaScript reads them as line ends).
func AppendString(b []byte, s string) []byte { return appendString(b, s, plain) }

// AppendStringHTML writes s as json.Marshal does (HTML escaping on): as AppendString, with <, >
// and & as \u003c, \u003e and \u0026. Event data is written with it, in one pass, where
// MarshalProduct escapes a whole document after AppendProduct.
func AppendStringHTML(b []byte, s string) []byte { return appendString(b, s, html) }

// AppendLogString writes s as log/slog's JSON handler quotes it: as AppendString, except that
// backspace and form feed are \u0008 and \u000c, not \b and \f. The access log writes its line
// with it (httpapi, ADR 0029), byte for byte what slog writes.
func AppendLogString(b []byte, s string) []byte { return appendString(b, s, slogStyle) }

// quoting is how appendString differs between its callers.
type quoting int

const (
	plain     quoting = iota // encoding/json without HTML escaping
	html                     // encoding/json's default: <, > and & escaped too
	slogStyle                // log/slog's JSON handler: \b and \f as \u00XX
)

func appendString(b []byte, s string, q quoting) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (q != html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b' && q != slogStyle:
				b = append(b, '\\', 'b')
			case c == '\f' && q != slogStyle:
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// MarshalProduct returns what json.Marshal(p) returns: AppendProduct's bytes with HTML's
// characters escaped, as encoding/json escapes them by default (they stand only inside
// strings, so escaping the document escapes its strings; both forms already escape U+2028
// and U+2029). A product AppendProduct refuses goes to encoding/json, for its exact error.
func MarshalProduct(p *catalog.Product) ([]byte, error) {
	scratch := scratches.Get().(*[]byte)
	defer scratches.Put(scratch)
	b, err := AppendProduct((*scratch)[:0], p)
	if cap(b) <= maxScratch {
		*scratch = b
	}
	if err != nil {
		return json.Marshal(p)
	}
	if !bytes.ContainsAny(b, "<>&") {
		return bytes.Clone(b), nil // exact: events keep it
	}
	var out bytes.Buffer
	out.Grow(len(b) + 64)
	json.HTMLEscape(&out, b)
	return out.Bytes(), nil
}

// scratches are MarshalProduct's buffers: it writes into one, then copies out exactly what it
// returns, so a batch of events leaves no half-empty buffers behind. One over maxScratch (a
// product of hundreds of variants) is not kept.
var scratches = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxScratch = 64 << 10

// NewEvent is catalog.NewEvent for entity (catalog.EventData), with the data of product,
// price and stock events written by hand: the same bytes, in a fraction of encoding/json's
// time. A product event (created, updated) carries the whole product, about 2.7 kB with 4
// variants, written by MarshalProduct in under half encoding/json's time; an import batch
// writes a thousand of them, and up to a price event per repriced variant and currency. Any
// other data, and a value the hand-written forms refuse, goes to catalog.NewEvent
// (encoding/json), the reference these forms are tested against.
func NewEvent(ctx context.Context, typ string, entity any) (catalog.Event, error) {
	subject, version, data := catalog.EventData(entity)
	// A switch, so the product's copy (it escapes, through MarshalProduct) is made on the
	// product's path only: declared in an if, it was allocated for every event (288 B).
	switch d := data.(type) {
	case catalog.Product:
		b, err := MarshalProduct(&d)
		if err != nil {
			return catalog.Event{}, fmt.Errorf("event %s: %w", typ, err)
		}
		return catalog.NewEventJSON(ctx, typ, subject, version, b), nil
	case catalog.PriceEvent, catalog.StockLevel:
		// 512 bytes hold an import's price event (355) with room; one with every field set at
		// its longest (621) grows it once. The event keeps the buffer.
		if b, ok := appendEventData(make([]byte, 0, 512), data); ok {
			return catalog.NewEventJSON(ctx, typ, subject, version, b), nil
		}
	}
	return catalog.NewEvent(ctx, typ, subject, version, data)
}
