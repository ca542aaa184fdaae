package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/acme/catalog/internal/catalog"
)

// The bodies of every product read and list page are written by hand here, not by
// encoding/json's reflection, which took about two thirds of the HTTP layer's CPU for a product
// read before compression (BenchmarkServeProduct's profile). The output is byte for byte what
// encoding/json writes with HTML escaping off (writeJSON's settings): TestEncodeMatchesStdlib
// and FuzzEncodeProduct hold the two equal. A value it has no hand-written form for (an
// attribute holding a list, a facet) goes through encoding/json, inside the same buffer.

// errNotEncodable: a value encoding/json would refuse too (a NaN, a year past 9999), so the
// caller falls back to encoding/json to answer exactly as it would.
var errNotEncodable = errors.New("value encoding/json refuses")

// appendBody appends v's JSON and a newline, as json.Encoder does, when v is one of the
// hand-written types; ok is false for any other type.
func appendBody(b []byte, v any) (_ []byte, ok bool, err error) {
	switch v := v.(type) {
	case catalog.Product:
		b, err = appendProduct(b, &v)
	case *catalog.Product:
		b, err = appendProduct(b, v)
	case productView:
		b, err = appendProductView(b, &v)
	case summaryList:
		b, err = appendSummaryList(b, &v)
	default:
		return b, false, nil
	}
	return append(b, '\n'), true, err
}

func appendProduct(b []byte, p *catalog.Product) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, p.Name)
	b = append(b, `,"description":`...)
	b = appendString(b, p.Description)
	b = append(b, `,"category":`...)
	b = appendString(b, p.Category)
	b = append(b, `,"brand":`...)
	b = appendString(b, p.Brand)
	b = append(b, `,"attributes":`...)
	if b, err = appendAttributes(b, p.Attributes); err != nil {
		return b, err
	}
	b = append(b, `,"media":`...)
	b = appendMediaList(b, p.Media)
	b = append(b, `,"options":`...)
	b = appendOptions(b, p.Options)
	b = append(b, `,"status":`...)
	b = appendString(b, string(p.Status))
	if len(p.Variants) > 0 {
		b = append(b, `,"variants":`...)
		if b, err = appendVariants(b, p.Variants); err != nil {
			return b, err
		}
	}
	b = append(b, `,"variant_count":`...)
	b = strconv.AppendInt(b, int64(p.VariantCount), 10)
	b = append(b, `,"price_ranges":`...)
	b = appendPriceRanges(b, p.PriceRanges)
	b = append(b, `,"availability":`...)
	b = appendAvailability(b, p.Availability)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, p.Version, 10)
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, p.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, p.UpdatedAt); err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

func appendVariants(b []byte, vs []catalog.Variant) ([]byte, error) {
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
	b = appendString(b, v.ID)
	b = append(b, `,"product_id":`...)
	b = appendString(b, v.ProductID)
	b = append(b, `,"sku":`...)
	b = appendString(b, v.SKU)
	b = append(b, `,"options":`...)
	b = appendStringMap(b, v.Options)
	b = append(b, `,"position":`...)
	b = strconv.AppendInt(b, int64(v.Position), 10)
	if v.Barcode != "" {
		b = append(b, `,"barcode":`...)
		b = appendString(b, v.Barcode)
	}
	if v.WeightGrams != nil {
		b = append(b, `,"weight_grams":`...)
		b = strconv.AppendInt(b, *v.WeightGrams, 10)
	}
	b = append(b, `,"attributes":`...)
	if b, err = appendAttributes(b, v.Attributes); err != nil {
		return b, err
	}
	if v.Image != "" {
		b = append(b, `,"image":`...)
		b = appendString(b, v.Image)
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
	if b, err = appendTime(b, v.CreatedAt); err != nil {
		return b, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, v.UpdatedAt); err != nil {
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
		b = appendString(b, p.Currency)
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
			if b, err = appendTime(b, *p.SaleEndsAt); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendMediaList(b []byte, ms []catalog.Media) []byte {
	if ms == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMedia(b, &ms[i])
	}
	return append(b, ']')
}

func appendMedia(b []byte, m *catalog.Media) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, m.URL)
	if m.Alt != "" {
		b = append(b, `,"alt":`...)
		b = appendString(b, m.Alt)
	}
	return append(b, '}')
}

func appendOptions(b []byte, os []catalog.Option) []byte {
	if os == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range os {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, os[i].Name)
		b = append(b, `,"values":`...)
		if os[i].Values == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, v := range os[i].Values {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendPriceRanges(b []byte, rs []catalog.PriceRange) []byte {
	if rs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"currency":`...)
		b = appendString(b, r.Currency)
		b = append(b, `,"min":`...)
		b = strconv.AppendInt(b, r.Min, 10)
		b = append(b, `,"max":`...)
		b = strconv.AppendInt(b, r.Max, 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendAvailability(b []byte, a catalog.Availability) []byte {
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
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

func appendAttributes(b []byte, a catalog.Attributes) ([]byte, error) {
	if a == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	for i, k := range sortedKeys(a) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
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
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case float64:
		return appendFloat(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	}
	return appendStdlib(b, v)
}

// appendStdlib writes v through encoding/json with writeJSON's settings, without the newline.
func appendStdlib(b []byte, v any) ([]byte, error) {
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
		return b, errNotEncodable
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

// appendTime writes t as time.Time.MarshalJSON does (RFC 3339 with the fraction's trailing
// zeros cut), which refuses years outside 0-9999.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, errNotEncodable
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string as encoding/json does without HTML escaping: quotes,
// backslashes and control characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029
// escaped (JavaScript reads them as line ends).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
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

// appendProductView writes a product with the fields a selection chose (fields.go).
func appendProductView(b []byte, v *productView) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID)
	str := func(name string, s *string) {
		if s != nil {
			b = append(b, name...)
			b = appendString(b, *s)
		}
	}
	str(`,"name":`, v.Name)
	str(`,"description":`, v.Description)
	str(`,"category":`, v.Category)
	str(`,"brand":`, v.Brand)
	if v.Attributes != nil {
		b = append(b, `,"attributes":`...)
		if b, err = appendAttributes(b, *v.Attributes); err != nil {
			return b, err
		}
	}
	if v.Image != nil {
		b = append(b, `,"image":`...)
		b = appendMedia(b, v.Image)
	}
	if v.Media != nil {
		b = append(b, `,"media":`...)
		b = appendMediaList(b, *v.Media)
	}
	if v.Options != nil {
		b = append(b, `,"options":`...)
		b = appendOptions(b, *v.Options)
	}
	if v.Status != nil {
		b = append(b, `,"status":`...)
		b = appendString(b, string(*v.Status))
	}
	switch vs := v.Variants.(type) {
	case nil:
	case *[]catalog.Variant:
		if vs != nil {
			b = append(b, `,"variants":`...)
			if b, err = appendVariants(b, *vs); err != nil {
				return b, err
			}
		}
	default:
		b = append(b, `,"variants":`...)
		if b, err = appendStdlib(b, vs); err != nil {
			return b, err
		}
	}
	if v.VariantCount != nil {
		b = append(b, `,"variant_count":`...)
		b = strconv.AppendInt(b, int64(*v.VariantCount), 10)
	}
	if v.PriceRanges != nil {
		b = append(b, `,"price_ranges":`...)
		b = appendPriceRanges(b, *v.PriceRanges)
	}
	if v.Availability != nil {
		b = append(b, `,"availability":`...)
		b = appendAvailability(b, *v.Availability)
	}
	if v.Version != nil {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, *v.Version, 10)
	}
	for _, t := range []struct {
		name string
		at   *time.Time
	}{{`,"created_at":`, v.CreatedAt}, {`,"updated_at":`, v.UpdatedAt}} {
		if t.at != nil {
			b = append(b, t.name...)
			if b, err = appendTime(b, *t.at); err != nil {
				return b, err
			}
		}
	}
	return append(b, '}'), nil
}

// appendSummaryList writes a list page.
func appendSummaryList(b []byte, l *summaryList) ([]byte, error) {
	b = append(b, `{"items":`...)
	if l.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range l.Items {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendProductView(b, &l.Items[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if l.NextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendString(b, l.NextCursor)
	}
	if l.Total != nil {
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, *l.Total, 10)
	}
	if len(l.Facets) > 0 {
		b = append(b, `,"facets":`...)
		var err error
		if b, err = appendStdlib(b, l.Facets); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
