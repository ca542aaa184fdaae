package httpapi

import (
	"strconv"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// The bodies of every product read and list page are written by hand, not by encoding/json's
// reflection, which took about two thirds of the HTTP layer's CPU for a product read before
// compression (BenchmarkServeProduct's profile): products and their parts by catalogjson, the
// API's own shapes (a selection of fields, a list page) here. The output is byte for byte what
// encoding/json writes with HTML escaping off (writeJSON's settings): TestEncodeMatchesStdlib
// and FuzzEncodeProduct hold the two equal. A value there is no hand-written form for (an
// attribute holding a list, a facet) goes through encoding/json, inside the same buffer.

// appendBody appends v's JSON and a newline, as json.Encoder does, when v is one of the
// hand-written types; ok is false for any other type.
func appendBody(b []byte, v any) (_ []byte, ok bool, err error) {
	switch v := v.(type) {
	case catalog.Product:
		b, err = catalogjson.AppendProduct(b, &v)
	case *catalog.Product:
		b, err = catalogjson.AppendProduct(b, v)
	case productView:
		b, err = appendProductView(b, &v)
	case summaryList:
		b, err = appendSummaryList(b, &v)
	default:
		return b, false, nil
	}
	return append(b, '\n'), true, err
}

// appendProductView writes a product with the fields a selection chose (fields.go).
func appendProductView(b []byte, v *productView) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = catalogjson.AppendString(b, v.ID)
	str := func(name string, s *string) {
		if s != nil {
			b = append(b, name...)
			b = catalogjson.AppendString(b, *s)
		}
	}
	str(`,"name":`, v.Name)
	str(`,"description":`, v.Description)
	str(`,"category":`, v.Category)
	str(`,"brand":`, v.Brand)
	if v.Attributes != nil {
		b = append(b, `,"attributes":`...)
		if b, err = catalogjson.AppendAttributes(b, *v.Attributes); err != nil {
			return b, err
		}
	}
	if v.Image != nil {
		b = append(b, `,"image":`...)
		b = catalogjson.AppendMedia(b, v.Image)
	}
	if v.Media != nil {
		b = append(b, `,"media":`...)
		b = catalogjson.AppendMediaList(b, *v.Media)
	}
	if v.Options != nil {
		b = append(b, `,"options":`...)
		b = catalogjson.AppendOptions(b, *v.Options)
	}
	if v.Status != nil {
		b = append(b, `,"status":`...)
		b = catalogjson.AppendString(b, string(*v.Status))
	}
	switch vs := v.Variants.(type) {
	case nil:
	case *[]catalog.Variant:
		if vs != nil {
			b = append(b, `,"variants":`...)
			if b, err = catalogjson.AppendVariants(b, *vs); err != nil {
				return b, err
			}
		}
	default:
		b = append(b, `,"variants":`...)
		if b, err = catalogjson.AppendStdlib(b, vs); err != nil {
			return b, err
		}
	}
	if v.VariantCount != nil {
		b = append(b, `,"variant_count":`...)
		b = strconv.AppendInt(b, int64(*v.VariantCount), 10)
	}
	if v.PriceRanges != nil {
		b = append(b, `,"price_ranges":`...)
		b = catalogjson.AppendPriceRanges(b, *v.PriceRanges)
	}
	if v.Availability != nil {
		b = append(b, `,"availability":`...)
		b = catalogjson.AppendAvailability(b, *v.Availability)
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
			if b, err = catalogjson.AppendTime(b, *t.at); err != nil {
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
		b = catalogjson.AppendString(b, l.NextCursor)
	}
	if l.Total != nil {
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, *l.Total, 10)
	}
	if len(l.Facets) > 0 {
		b = append(b, `,"facets":`...)
		var err error
		if b, err = catalogjson.AppendStdlib(b, l.Facets); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
