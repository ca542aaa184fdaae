package catalog

import (
	"slices"
)

// ProductPatch is a JSON Merge Patch (RFC 7396) of a product's own writable fields, decoded: a
// nil field is absent and keeps its value; a null in the document removes an optional field,
// which the decoder records as the field's empty value (or, for an attribute, an entry in
// RemoveAttributes). Required fields (name, category, status) cannot be null: the decoder
// refuses that before a ProductPatch exists. Variants are patched one by one (VariantPatch).
type ProductPatch struct {
	Name        *string
	Description *string
	Category    *string
	Brand       *string
	// Attributes merges into the current attributes; RemoveAttributes drops keys. With
	// ClearAttributes (the document said "attributes": null) every current key goes first.
	Attributes       map[string]any
	RemoveAttributes map[string]bool
	ClearAttributes  bool
	// Media and Options replace the list whole (arrays are never merged); an empty slice
	// clears it.
	Media   *[]Media
	Options *[]Option
	Status  *Status
}

// Apply returns cur with the patch merged in. It never modifies cur's maps or slices.
func (pp ProductPatch) Apply(cur ProductInput) ProductInput {
	out := cur
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&out.Name, pp.Name)
	set(&out.Description, pp.Description)
	set(&out.Category, pp.Category)
	set(&out.Brand, pp.Brand)
	if pp.Status != nil {
		out.Status = *pp.Status
	}
	if pp.ClearAttributes || len(pp.Attributes) > 0 || len(pp.RemoveAttributes) > 0 {
		out.Attributes = cur.Attributes.merge(pp.ClearAttributes, pp.Attributes, pp.RemoveAttributes)
	}
	if pp.Media != nil {
		out.Media = slices.Clone(*pp.Media)
	}
	if pp.Options != nil {
		out.Options = make([]Option, len(*pp.Options))
		for i, o := range *pp.Options {
			out.Options[i] = Option{Name: o.Name, Values: slices.Clone(o.Values)}
		}
	}
	out.Variants = nil
	out.Normalize()
	return out
}

// Same reports whether a and b hold the same product-level writable fields, so a patch that
// changes nothing can leave the product (its version and ETag) untouched. Nil and empty
// collections are the same.
func (in ProductInput) Same(b ProductInput) bool {
	return in.Name == b.Name && in.Description == b.Description &&
		in.Category == b.Category && in.Brand == b.Brand && in.Status == b.Status &&
		in.Attributes.Equal(b.Attributes) && slices.Equal(in.Media, b.Media) &&
		slices.EqualFunc(in.Options, b.Options, func(x, y Option) bool {
			return x.Name == y.Name && slices.Equal(x.Values, y.Values)
		})
}

// PatchOutcome decides a patch of cur inside the store's transaction, after the row is locked:
// a stale ifVersion fails with CodePreconditionFailed, an invalid result with CodeInvalid; a
// patch that changes nothing returns changed == false and must not be written. Attribute
// values and option reconciliation are the store's to check next (they need definitions and
// the variants).
func PatchOutcome(cur Product, pp ProductPatch, ifVersion int64) (in ProductInput, changed bool, err error) {
	if ifVersion != 0 && cur.Version != ifVersion {
		return in, false, StaleVersion(cur.Version, ifVersion)
	}
	before := cur.Input()
	before.Normalize()
	in = pp.Apply(before)
	if err := in.ValidateReplace(); err != nil {
		return in, false, err
	}
	return in, !in.Same(before), nil
}

// Same reports whether a and b hold the same variant fields.
func (in VariantInput) Same(b VariantInput) bool {
	eqPtr := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	if in.SKU != b.SKU || in.Barcode != b.Barcode || in.Image != b.Image || in.PurchaseLimit != b.PurchaseLimit ||
		!eqPtr(in.WeightGrams, b.WeightGrams) || !in.Attributes.Equal(b.Attributes) || len(in.Options) != len(b.Options) {
		return false
	}
	for k, v := range in.Options {
		if b.Options[k] != v {
			return false
		}
	}
	return slices.EqualFunc(in.Prices, b.Prices, func(x, y PriceInput) bool {
		return x.Currency == y.Currency && x.Amount == y.Amount && eqPtr(x.CompareAt, y.CompareAt)
	})
}

// VariantPatchOutcome decides a variant patch inside the store's transaction: the stale
// version, the validation against the product's options and media, and whether anything
// changed. SKU uniqueness and the combination's are the store's to check next.
func VariantPatchOutcome(p Product, cur Variant, vp VariantPatch, ifVersion int64) (in VariantInput, changed bool, err error) {
	if ifVersion != 0 && p.Version != ifVersion {
		return in, false, StaleVersion(p.Version, ifVersion)
	}
	before := cur.Input()
	before.Normalize()
	in = vp.Apply(before)
	if err := in.ValidateVariant(p.Options, p.Media); err != nil {
		return in, false, err
	}
	return in, !in.Same(before), nil
}
