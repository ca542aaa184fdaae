package httpapi

import (
	"bytes"
	"maps"
	"net/http"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acme/catalog/internal/catalog"
)

// decodeProductPatch reads a JSON Merge Patch (RFC 7396) of a product. It keeps absent, null and
// a value apart: absent keeps a field, null removes an optional one (and is refused on a required
// one, naming it), attributes merge key by key, images and every other value replace. All
// problems are reported at once. The body is decoded into raw members first so this one function
// holds every rule of the merge.
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
	for _, k := range slices.Sorted(maps.Keys(doc)) { // problems in a stable order
		v := doc[k]
		switch k {
		case "sku":
			pp.SKU = requiredString(&p, k, v)
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
		case "price":
			decodePricePatch(&p, v, &pp)
		case "attributes":
			if isNull(v) {
				pp.ClearAttributes = true
				continue
			}
			var attrs map[string]*string
			if err := jsonv2.Unmarshal(v, &attrs); err != nil {
				p.Add(k, "must be a JSON object of strings (null removes an attribute)")
				continue
			}
			pp.Attributes = attrs
		case "images":
			images := []string{}
			if !isNull(v) {
				if err := jsonv2.Unmarshal(v, &images); err != nil || images == nil {
					p.Add(k, "must be a JSON array of URL strings (it replaces the list; null clears it)")
					continue
				}
			}
			pp.Images = &images
		default:
			p.Add(memberField(k), "is not a known field")
		}
	}
	return pp, p.Err()
}

func decodePricePatch(p *catalog.Problems, v jsontext.Value, pp *catalog.ProductPatch) {
	if isNull(v) {
		p.Add("price", "is required and cannot be removed (null)")
		return
	}
	var price map[string]jsontext.Value
	if err := jsonv2.Unmarshal(v, &price); err != nil || price == nil {
		p.Add("price", "must be a JSON object with currency and amount")
		return
	}
	for _, k := range slices.Sorted(maps.Keys(price)) {
		pv, field := price[k], "price."+k
		switch k {
		case "currency":
			pp.Currency = requiredString(p, field, pv)
		case "amount":
			if isNull(pv) {
				p.Add(field, "is required and cannot be removed (null)")
				continue
			}
			var n int64
			if err := jsonv2.Unmarshal(pv, &n); err != nil {
				p.Add(field, "must be a JSON integer (minor units)")
				continue
			}
			pp.Amount = &n
		default:
			p.Add(memberField("price", k), "is not a known field")
		}
	}
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
