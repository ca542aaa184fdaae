package httpapi

import (
	"bytes"
	"errors"
	"maps"
	"net/http"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acme/catalog/internal/catalog"
)

// decodeProductPatch reads a JSON Merge Patch (RFC 7396) of a product. It keeps absent, null and
// a value apart: absent keeps a field, null removes an optional one (and is refused on a required
// one, naming it), attributes merge key by key, media and options replace the whole list. All
// problems are reported at once. The body is decoded into raw members first so this one function
// holds every rule of the merge. A "variants" member is refused with 422 (see variantsRefused):
// the variants have routes of their own.
func (s *Server) decodeProductPatch(w http.ResponseWriter, r *http.Request) (catalog.ProductPatch, error) {
	var (
		pp  catalog.ProductPatch
		doc map[string]jsontext.Value
		p   catalog.Problems
	)
	if _, err := s.decodeJSON(w, r, &doc, productPatchSpec); err != nil {
		return pp, err
	}
	if doc == nil {
		return pp, catalog.InvalidField("body", "must be a JSON object (a merge patch)")
	}
	if _, ok := doc["variants"]; ok {
		return pp, errVariantsInPatch
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) { // problems in a stable order
		v := doc[k]
		switch k {
		case "name":
			pp.Name = requiredString(&p, k, v)
		case "category":
			pp.Category = requiredString(&p, k, v)
		case "description":
			pp.Description = optionalString(&p, k, v)
		case "brand":
			pp.Brand = optionalString(&p, k, v)
		case "status":
			if s := requiredString(&p, k, v); s != nil {
				pp.Status = (*catalog.Status)(s)
			}
		case "attributes":
			pp.Attributes, pp.RemoveAttributes, pp.ClearAttributes = attributesPatch(&p, k, v)
		case "media":
			media := []catalog.Media{}
			if !isNull(v) {
				if err := jsonv2.Unmarshal(v, &media, jsonv2.RejectUnknownMembers(true)); err != nil || media == nil {
					p.Add(k, "must be a JSON array of {url, alt} objects (it replaces the list; null clears it)")
					continue
				}
			}
			pp.Media = &media
		case "options":
			opts := []catalog.Option{}
			if !isNull(v) {
				if err := jsonv2.Unmarshal(v, &opts, jsonv2.RejectUnknownMembers(true)); err != nil || opts == nil {
					p.Add(k, "must be a JSON array of {name, values} objects (it replaces the list; null clears it)")
					continue
				}
			}
			pp.Options = &opts
		default:
			p.Add(memberField(k), "is not a known field")
		}
	}
	return pp, p.Err()
}

// errVariantsInPatch marks a product patch that names variants; the handler answers 422.
var errVariantsInPatch = errors.New("variants in a product patch")

// attributesPatch reads the merge patch of an attributes object: null clears them all, a
// member set to null removes that key, any other member sets it (its type is checked against
// the attribute's definition by the store).
func attributesPatch(p *catalog.Problems, field string, v jsontext.Value) (set map[string]any, remove map[string]bool, clear bool) {
	if isNull(v) {
		return nil, nil, true
	}
	var raw map[string]jsontext.Value
	if err := jsonv2.Unmarshal(v, &raw); err != nil || raw == nil {
		p.Add(field, "must be a JSON object of attribute values (null removes an attribute)")
		return nil, nil, false
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if isNull(raw[k]) {
			if remove == nil {
				remove = map[string]bool{}
			}
			remove[k] = true
			continue
		}
		var val any
		if err := jsonv2.Unmarshal(raw[k], &val); err != nil {
			p.Add(memberField(field, k), "must be a string, a number or true/false")
			continue
		}
		switch val.(type) {
		case string, float64, bool:
		default:
			p.Add(memberField(field, k), "must be a string, a number or true/false")
			continue
		}
		if set == nil {
			set = map[string]any{}
		}
		set[k] = val
	}
	return set, remove, false
}

// decodeVariantPatch reads a JSON Merge Patch of one variant. Options merge by name (only the
// named options change; null is refused, a variant has a value for every option of its
// product); attributes merge key by key; prices replace the whole list; null removes barcode,
// weight, image and the purchase limit.
func (s *Server) decodeVariantPatch(w http.ResponseWriter, r *http.Request) (catalog.VariantPatch, error) {
	var (
		vp  catalog.VariantPatch
		doc map[string]jsontext.Value
		p   catalog.Problems
	)
	if _, err := s.decodeJSON(w, r, &doc, variantPatchSpec); err != nil {
		return vp, err
	}
	if doc == nil {
		return vp, catalog.InvalidField("body", "must be a JSON object (a merge patch)")
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		v := doc[k]
		switch k {
		case "sku":
			vp.SKU = requiredString(&p, k, v)
		case "barcode":
			vp.Barcode = optionalString(&p, k, v)
		case "image":
			vp.Image = optionalString(&p, k, v)
		case "weight_grams":
			var wg *int64
			if !isNull(v) {
				var n int64
				if err := jsonv2.Unmarshal(v, &n); err != nil {
					p.Add(k, "must be a JSON integer (grams; null removes it)")
					continue
				}
				wg = &n
			}
			vp.WeightGrams = &wg
		case "purchase_limit":
			var n int64
			if !isNull(v) {
				if err := jsonv2.Unmarshal(v, &n); err != nil {
					p.Add(k, "must be a JSON integer (units; 0 or null: no limit)")
					continue
				}
			}
			vp.PurchaseLimit = &n
		case "options":
			if isNull(v) {
				p.Add(k, "cannot be removed (null): a variant has a value for each option of its product")
				continue
			}
			var raw map[string]jsontext.Value
			if err := jsonv2.Unmarshal(v, &raw); err != nil || raw == nil {
				p.Add(k, "must be a JSON object of option name to value (only the named options change)")
				continue
			}
			opts := map[string]string{}
			for _, name := range slices.Sorted(maps.Keys(raw)) {
				// A null would decode as "" and read as a value; an option cannot be removed from
				// one variant, only from the product.
				if isNull(raw[name]) {
					p.Add(memberField(k, name), "cannot be removed (null): a variant has a value for each option of its product")
					continue
				}
				if val := requiredString(&p, memberField(k, name), raw[name]); val != nil {
					opts[name] = *val
				}
			}
			if len(opts) > 0 {
				vp.Options = opts
			}
		case "attributes":
			vp.Attributes, vp.RemoveAttribute, vp.ClearAttributes = attributesPatch(&p, k, v)
		case "prices":
			if isNull(v) {
				p.Add(k, "cannot be removed (null): a variant has at least one price")
				continue
			}
			var prices []catalog.PriceInput
			if err := jsonv2.Unmarshal(v, &prices, jsonv2.RejectUnknownMembers(true)); err != nil || prices == nil {
				p.Add(k, "must be a JSON array of {currency, amount, compare_at} objects (it replaces the list)")
				continue
			}
			vp.Prices = &prices
		default:
			p.Add(memberField(k), "is not a known field")
		}
	}
	return vp, p.Err()
}

// memberField names an unknown member the way the decoder names any field, so an empty or
// unprintable name still names something readable.
func memberField(path ...string) string {
	var ptr jsontext.Pointer
	for _, tok := range path {
		ptr = ptr.AppendToken(tok)
	}
	return fieldOf(ptr)
}

func isNull(v jsontext.Value) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func requiredString(p *catalog.Problems, field string, v jsontext.Value) *string {
	if isNull(v) {
		p.Add(field, "is required and cannot be removed (null)")
		return nil
	}
	var s string
	if err := jsonv2.Unmarshal(v, &s); err != nil {
		p.Add(field, "must be a JSON string")
		return nil
	}
	return &s
}

// optionalString returns "" for null: removing an optional text field empties it.
func optionalString(p *catalog.Problems, field string, v jsontext.Value) *string {
	if isNull(v) {
		s := ""
		return &s
	}
	return requiredString(p, field, v)
}

// decodeCategoryPatch reads a JSON Merge Patch of a category: "parent": null removes the
// parent (the category becomes a root); "name": null is refused, a category needs a name.
func (s *Server) decodeCategoryPatch(w http.ResponseWriter, r *http.Request) (catalog.CategoryPatch, error) {
	var (
		cp  catalog.CategoryPatch
		doc map[string]jsontext.Value
		p   catalog.Problems
	)
	if _, err := s.decodeJSON(w, r, &doc, patchSpec); err != nil {
		return cp, err
	}
	if doc == nil {
		return cp, catalog.InvalidField("body", "must be a JSON object (a merge patch)")
	}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "name":
			cp.Name = requiredString(&p, k, doc[k])
		case "parent":
			cp.Parent = optionalString(&p, k, doc[k])
		default:
			p.Add(memberField(k), "is not a known field")
		}
	}
	return cp, p.Err()
}
