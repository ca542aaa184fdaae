package catalog

import (
	"maps"
	"slices"
)

// ProductPatch is a JSON Merge Patch (RFC 7396) of a product's writable fields, decoded: a nil
// field is absent and keeps its value; a null in the document removes an optional field, which
// the decoder records as the field's empty value (or, for an attribute, a nil entry). Required
// fields (sku, name, category, status, price and its parts) cannot be null: the decoder refuses
// that before a ProductPatch exists.
type ProductPatch struct {
	SKU         *string
	Name        *string
	Description *string
	Category    *string
	Brand       *string
	// Attributes merges into the current attributes: a nil value removes that key. With
	// ClearAttributes (the document said "attributes": null) every current key goes first.
	Attributes      map[string]*string
	ClearAttributes bool
	// Images replaces the list whole (arrays are never merged); an empty slice clears it.
	Images   *[]string
	Status   *Status
	Currency *string
	Amount   *int64
}

// Apply returns cur with the patch merged in. It never modifies cur's map or slice.
func (pp ProductPatch) Apply(cur ProductInput) ProductInput {
	out := cur
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&out.SKU, pp.SKU)
	set(&out.Name, pp.Name)
	set(&out.Description, pp.Description)
	set(&out.Category, pp.Category)
	set(&out.Brand, pp.Brand)
	set(&out.Price.Currency, pp.Currency)
	if pp.Amount != nil {
		out.Price.Amount = *pp.Amount
	}
	if pp.Status != nil {
		out.Status = *pp.Status
	}
	if pp.ClearAttributes || len(pp.Attributes) > 0 {
		attrs := map[string]string{}
		if !pp.ClearAttributes {
			maps.Copy(attrs, cur.Attributes)
		}
		for k, v := range pp.Attributes {
			if v == nil {
				delete(attrs, k)
			} else {
				attrs[k] = *v
			}
		}
		out.Attributes = attrs
	}
	if pp.Images != nil {
		out.Images = slices.Clone(*pp.Images)
	}
	out.Normalize()
	return out
}

// Same reports whether a and b hold the same writable fields, so a patch that changes nothing
// can leave the product (its version, ETag and price history) untouched. Nil and empty
// collections are the same.
func (in ProductInput) Same(b ProductInput) bool {
	return in.SKU == b.SKU && in.Name == b.Name && in.Description == b.Description &&
		in.Category == b.Category && in.Brand == b.Brand && in.Status == b.Status && in.Price == b.Price &&
		maps.Equal(in.Attributes, b.Attributes) && slices.Equal(in.Images, b.Images)
}

// PatchOutcome decides a patch of cur inside the store's transaction, after the row is locked:
// a stale ifVersion fails with CodePreconditionFailed, an invalid result with CodeInvalid; a
// patch that changes nothing returns changed == false and must not be written.
func PatchOutcome(cur Product, pp ProductPatch, ifVersion int64) (in ProductInput, changed bool, err error) {
	if ifVersion != 0 && cur.Version != ifVersion {
		return in, false, StaleVersion(cur.Version, ifVersion)
	}
	before := cur.Input()
	before.Normalize()
	in = pp.Apply(before)
	if err := in.Validate(); err != nil {
		return in, false, err
	}
	return in, !in.Same(before), nil
}
