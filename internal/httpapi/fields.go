package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Bounds on fields=: more names than any table holds cannot be a real request, and the length
// bound keeps a hostile value from costing more than a line of parsing.
const (
	MaxFields      = 32
	MaxFieldsBytes = 512
)

// fieldSet holds one bit per field of a fieldTable, in the table's order. A set is canonical:
// fields=name,id and fields=id,name,name are the same set, so they get the same body and the
// same ETag.
type fieldSet uint32

// fieldTable names a resource's top-level fields in the order the body carries them; bit i of a
// fieldSet is names[i]. id is always names[0] and always included.
type fieldTable struct {
	names   []string
	allowed fieldSet // the fields this route may select
	nested  bool     // whether variants.<field> names select variant fields
}

func (t fieldTable) bit(name string) (fieldSet, bool) {
	for i, n := range t.names {
		if n == name && t.allowed&(1<<i) != 0 {
			return 1 << i, true
		}
	}
	return 0, false
}

func (t fieldTable) valid() string {
	var b strings.Builder
	for i, n := range t.names {
		if t.allowed&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Product fields, in the order of catalog.Product's JSON, with image (the first of media) beside
// media.
const (
	pfID fieldSet = 1 << iota
	pfName
	pfDescription
	pfCategory
	pfBrand
	pfAttributes
	pfImage
	pfMedia
	pfOptions
	pfStatus
	pfVariants
	pfVariantCount
	pfPriceRanges
	pfAvailability
	pfVersion
	pfCreatedAt
	pfUpdatedAt
	pfAll = pfUpdatedAt<<1 - 1
)

var productNames = []string{"id", "name", "description", "category", "brand", "attributes", "image", "media",
	"options", "status", "variants", "variant_count", "price_ranges", "availability", "version", "created_at", "updated_at"}

var (
	// A single read selects among every field; without fields= it carries the full product
	// (image aside: media holds it).
	productFields = fieldTable{names: productNames, allowed: pfAll, nested: true}
	// List items never carry variants (ADR 0012); fields= may ask for the rest.
	listFields = fieldTable{names: productNames, allowed: pfAll &^ pfVariants}
)

// summaryFields are a list item's fields without fields=: everything a product card shows, and
// not the long description or every image (ProductSummary in the OpenAPI document).
const summaryFields = pfAll &^ (pfDescription | pfMedia | pfVariants)

// Variant fields, in the order of catalog.Variant's JSON; GET /skus/{sku} adds product.
const (
	vfID fieldSet = 1 << iota
	vfProductID
	vfSKU
	vfOptions
	vfPosition
	vfBarcode
	vfWeightGrams
	vfAttributes
	vfImage
	vfPurchaseLimit
	vfPrices
	vfStock
	vfCreatedAt
	vfUpdatedAt
	vfProduct
	vfAll = vfProduct<<1 - 1
)

var variantNames = []string{"id", "product_id", "sku", "options", "position", "barcode", "weight_grams",
	"attributes", "image", "purchase_limit", "prices", "stock", "created_at", "updated_at", "product"}

var (
	variantFields = fieldTable{names: variantNames, allowed: vfAll &^ vfProduct}
	skuFields     = fieldTable{names: variantNames, allowed: vfAll}
)

// selection is what fields= asked for: the set of top-level fields (id always in it) and, when
// the set holds variants, which of their fields (every one, vfAll&^vfProduct, for whole ones).
type selection struct {
	set      fieldSet
	variants fieldSet
	given    bool // whether fields= was given at all
}

// nestedPrefix starts a variant field's name in a product's fields=: variants.sku.
const nestedPrefix = "variants."

// parseFields reads fields= against t. Every name must be one of t's (or, where t allows
// variants, variants.<a variant field>); the error names the first that is not and lists the
// valid ones.
func parseFields(v url.Values, t fieldTable) (selection, error) {
	vals, ok := v["fields"]
	if !ok {
		return selection{}, nil
	}
	valid := t.valid()
	if t.nested {
		valid += ", " + nestedPrefix + "<" + variantFields.valid() + ">"
	}
	switch {
	case len(vals) > 1:
		return selection{}, catalog.InvalidField("fields", "must be given once (list several fields separated by commas)")
	case len(vals[0]) > MaxFieldsBytes:
		return selection{}, catalog.InvalidField("fields", "must be at most %d bytes", MaxFieldsBytes)
	case vals[0] == "":
		return selection{}, catalog.InvalidField("fields", "must name at least one field (valid: %s)", valid)
	case strings.Count(vals[0], ",") >= MaxFields:
		return selection{}, catalog.InvalidField("fields", "at most %d fields", MaxFields)
	}
	sel := selection{set: pfID, given: true}
	whole := false
	for name := range strings.SplitSeq(vals[0], ",") {
		if name == "" {
			return selection{}, catalog.InvalidField("fields", "has an empty field name (valid: %s)", valid)
		}
		if sub, ok := strings.CutPrefix(name, nestedPrefix); ok && t.nested {
			bit, ok := variantFields.bit(sub)
			if !ok {
				return selection{}, catalog.InvalidField("fields", "%q is not a variant field (valid: %s)", name, variantFields.valid())
			}
			sel.set |= pfVariants
			sel.variants |= vfID | bit
			continue
		}
		bit, ok := t.bit(name)
		if !ok {
			return selection{}, catalog.InvalidField("fields", "%q is not a field here (valid: %s)", name, valid)
		}
		whole = whole || (t.nested && bit == pfVariants)
		sel.set |= bit
	}
	if whole {
		sel.variants = vfAll &^ vfProduct // variants named whole: every field, whatever else was named
	}
	return sel, nil
}

// fieldsOf parses fields= from r's query; the list and single-read handlers call it before
// reading the store, so a bad request costs no query.
func fieldsOf(r *http.Request, t fieldTable) (selection, error) {
	if r.URL.RawQuery == "" {
		return selection{}, nil // nothing to parse: no map for an empty query (every hot read)
	}
	v, err := queryValues(r)
	if err != nil {
		return selection{}, err
	}
	return parseFields(v, t)
}

// qualify makes a representation's entity tag name its selection: "3.1" with fields= becomes
// "3.1.f1a3" (and "3.1.f1a3.v5" with some variant fields). The body of a selection is a pure
// function of the versions and the selection, so the tag stays strong; two selections never
// share a tag, so a cache revalidating one never gets a 304 for another. ifMatchVersion reads
// the product version before the first '.', so the tag still works as If-Match.
func (sel selection) qualify(tag string) string {
	if !sel.given {
		return tag
	}
	q := strings.TrimSuffix(tag, `"`) + ".f" + strconv.FormatUint(uint64(sel.set), 16)
	if sel.set&pfVariants != 0 && sel.variants != vfAll&^vfProduct {
		q += ".v" + strconv.FormatUint(uint64(sel.variants), 16)
	}
	return q + `"`
}

// productView is a product with only some fields: each pointer points into the product it
// views, so building one allocates nothing and it marshals in one pass, without the fields left
// out. Field order and omitempty follow catalog.Product, so a view of every field marshals to
// the same bytes as the product.
type productView struct {
	ID           string                `json:"id"`
	Name         *string               `json:"name,omitempty"`
	Description  *string               `json:"description,omitempty"`
	Category     *string               `json:"category,omitempty"`
	Brand        *string               `json:"brand,omitempty"`
	Attributes   *catalog.Attributes   `json:"attributes,omitempty"`
	Image        *catalog.Media        `json:"image,omitempty"`
	Media        *[]catalog.Media      `json:"media,omitempty"`
	Options      *[]catalog.Option     `json:"options,omitempty"`
	Status       *catalog.Status       `json:"status,omitempty"`
	Variants     any                   `json:"variants,omitempty"` // *[]catalog.Variant or []variantView
	VariantCount *int                  `json:"variant_count,omitempty"`
	PriceRanges  *[]catalog.PriceRange `json:"price_ranges,omitempty"`
	Availability *catalog.Availability `json:"availability,omitempty"`
	Version      *int64                `json:"version,omitempty"`
	CreatedAt    *time.Time            `json:"created_at,omitempty"`
	UpdatedAt    *time.Time            `json:"updated_at,omitempty"`
}

// viewProduct returns the fields of set of *p. image is the first of media, left out when
// the product has none. Variants, when in set, come whole.
func viewProduct(p *catalog.Product, set fieldSet) productView {
	v := productView{ID: p.ID}
	if set&pfName != 0 {
		v.Name = &p.Name
	}
	if set&pfDescription != 0 {
		v.Description = &p.Description
	}
	if set&pfCategory != 0 {
		v.Category = &p.Category
	}
	if set&pfBrand != 0 {
		v.Brand = &p.Brand
	}
	if set&pfAttributes != 0 {
		v.Attributes = &p.Attributes
	}
	if set&pfImage != 0 && len(p.Media) > 0 {
		v.Image = &p.Media[0]
	}
	if set&pfMedia != 0 {
		v.Media = &p.Media
	}
	if set&pfOptions != 0 {
		v.Options = &p.Options
	}
	if set&pfStatus != 0 {
		v.Status = &p.Status
	}
	if set&pfVariants != 0 && len(p.Variants) > 0 { // omitempty, as on catalog.Product
		v.Variants = &p.Variants
	}
	if set&pfVariantCount != 0 {
		v.VariantCount = &p.VariantCount
	}
	if set&pfPriceRanges != 0 {
		v.PriceRanges = &p.PriceRanges
	}
	if set&pfAvailability != 0 {
		v.Availability = &p.Availability
	}
	if set&pfVersion != 0 {
		v.Version = &p.Version
	}
	if set&pfCreatedAt != 0 {
		v.CreatedAt = &p.CreatedAt
	}
	if set&pfUpdatedAt != 0 {
		v.UpdatedAt = &p.UpdatedAt
	}
	return v
}

// viewSelection is viewProduct for a selection, with only the variant fields it names.
func viewSelection(p *catalog.Product, sel selection) productView {
	v := viewProduct(p, sel.set)
	if v.Variants != nil && sel.variants != vfAll&^vfProduct {
		views := make([]variantView, len(p.Variants))
		for i := range p.Variants {
			views[i] = viewVariant(&p.Variants[i], sel.variants)
		}
		v.Variants = views
	}
	return v
}

// variantView is productView's counterpart for a variant; Product is set on GET /skus/{sku}.
type variantView struct {
	ID            string              `json:"id"`
	ProductID     *string             `json:"product_id,omitempty"`
	SKU           *string             `json:"sku,omitempty"`
	Options       *map[string]string  `json:"options,omitempty"`
	Position      *int                `json:"position,omitempty"`
	Barcode       *string             `json:"barcode,omitempty"`
	WeightGrams   *int64              `json:"weight_grams,omitempty"`
	Attributes    *catalog.Attributes `json:"attributes,omitempty"`
	Image         *string             `json:"image,omitempty"`
	PurchaseLimit *int64              `json:"purchase_limit,omitempty"`
	Prices        *[]catalog.Price    `json:"prices,omitempty"`
	Stock         *catalog.Stock      `json:"stock,omitempty"`
	CreatedAt     *time.Time          `json:"created_at,omitempty"`
	UpdatedAt     *time.Time          `json:"updated_at,omitempty"`
	Product       *catalog.Product    `json:"product,omitempty"`
}

// viewVariant returns the fields of set of *v; the fields catalog.Variant leaves out when empty
// are left out here too.
func viewVariant(v *catalog.Variant, set fieldSet) variantView {
	out := variantView{ID: v.ID}
	if set&vfProductID != 0 {
		out.ProductID = &v.ProductID
	}
	if set&vfSKU != 0 {
		out.SKU = &v.SKU
	}
	if set&vfOptions != 0 {
		out.Options = &v.Options
	}
	if set&vfPosition != 0 {
		out.Position = &v.Position
	}
	if set&vfBarcode != 0 && v.Barcode != "" {
		out.Barcode = &v.Barcode
	}
	if set&vfWeightGrams != 0 && v.WeightGrams != nil {
		out.WeightGrams = v.WeightGrams
	}
	if set&vfAttributes != 0 {
		out.Attributes = &v.Attributes
	}
	if set&vfImage != 0 && v.Image != "" {
		out.Image = &v.Image
	}
	if set&vfPurchaseLimit != 0 && v.PurchaseLimit != 0 {
		out.PurchaseLimit = &v.PurchaseLimit
	}
	if set&vfPrices != 0 {
		out.Prices = &v.Prices
	}
	if set&vfStock != 0 {
		out.Stock = &v.Stock
	}
	if set&vfCreatedAt != 0 {
		out.CreatedAt = &v.CreatedAt
	}
	if set&vfUpdatedAt != 0 {
		out.UpdatedAt = &v.UpdatedAt
	}
	return out
}

// summaryList is the body of a product list: items are views (the summary without fields=).
type summaryList struct {
	Items      []productView `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
	Total      *int64        `json:"total,omitempty"`
	// Facets is there only when the request asked for it (facets=...).
	Facets []catalog.Facet `json:"facets,omitempty"`
}

// writeProductPage answers a list request with page's items as set selects (summaryFields
// when fields= was not given).
func writeProductPage(w http.ResponseWriter, page catalog.ProductPage, sel selection, facets []catalog.Facet) {
	set := sel.set
	if !sel.given {
		set = summaryFields
	}
	body := summaryList{Items: make([]productView, len(page.Items)), Total: page.Total, Facets: facets}
	for i := range page.Items {
		body.Items[i] = viewProduct(&page.Items[i], set)
	}
	if page.Next != nil {
		body.NextCursor = page.Next.String()
	}
	w.Header().Set("Cache-Control", listCacheControl)
	writeJSON(w, http.StatusOK, body)
}
