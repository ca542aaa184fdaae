package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Option is one dimension a product varies in (Size, Colour), with its values in display order.
type Option struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Option limits.
const (
	MaxOptions          = 3
	MaxOptionValues     = 100
	MaxOptionNameLength = 50
	MaxOptionValue      = 100
)

func (o *Option) normalize() {
	o.Name = strings.TrimSpace(o.Name)
	for i := range o.Values {
		o.Values[i] = strings.TrimSpace(o.Values[i])
	}
}

// Has reports whether v is one of o's values.
func (o Option) Has(v string) bool { return slices.Contains(o.Values, v) }

func validOptions(opts []Option, p *Problems) {
	if len(opts) > MaxOptions {
		p.Add("options", "must have at most %d options", MaxOptions)
		return
	}
	names := map[string]int{}
	for i, o := range opts {
		field := fmt.Sprintf("options[%d]", i)
		validText(p, field+".name", o.Name, MaxOptionNameLength, true, Identifier)
		if j, dup := names[strings.ToLower(o.Name)]; dup && o.Name != "" {
			p.Add(field+".name", "%q is also options[%d]: option names are unique regardless of case", o.Name, j)
		}
		names[strings.ToLower(o.Name)] = i
		switch n := len(o.Values); {
		case n == 0:
			p.Add(field+".values", "must have at least one value")
		case n > MaxOptionValues:
			p.Add(field+".values", "must have at most %d values", MaxOptionValues)
			continue
		}
		seen := map[string]int{}
		for k, v := range o.Values {
			vf := fmt.Sprintf("%s.values[%d]", field, k)
			validText(p, vf, v, MaxOptionValue, true, Identifier)
			if j, dup := seen[v]; dup && v != "" {
				p.Add(vf, "%q is also values[%d]", v, j)
			}
			seen[v] = k
		}
	}
}

// ComboKey names a variant's combination of option values in the product's option order, e.g.
// "Size=M / Colour=Red". Two variants of one product may not share one.
func ComboKey(opts []Option, values map[string]string) string {
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = o.Name + "=" + values[o.Name]
	}
	return strings.Join(parts, " / ")
}

// Variant is what is sold and stocked: one SKU of a product, standing for one combination of
// the product's option values, with its own prices, stock and reservations.
type Variant struct {
	ID        string `json:"id"`
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	// Options maps each of the product's option names to this variant's value; empty for the
	// only variant of a product without options.
	Options map[string]string `json:"options"`
	// Position orders the variants of a product (creation order; 0 first).
	Position    int        `json:"position"`
	Barcode     string     `json:"barcode,omitempty"`
	WeightGrams *int64     `json:"weight_grams,omitempty"`
	Attributes  Attributes `json:"attributes"`
	// Image is the URL of one of the product's media, the one that shows this variant.
	Image string `json:"image,omitempty"`
	// PurchaseLimit is the most units of this SKU one reservation may hold; 0 means no limit.
	PurchaseLimit int64 `json:"purchase_limit,omitempty"`
	// Prices holds one current price per currency, ordered by currency code.
	Prices    []Price   `json:"prices"`
	Stock     Stock     `json:"stock"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ProductVersion is the product's version when the variant was read (a variant's ETag is
	// its product's).
	ProductVersion int64 `json:"-"`
}

// Price is a variant's current price in one currency.
type Price struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	// CompareAt is the "was" price a shop shows struck through; when set it is above Amount.
	CompareAt *int64 `json:"compare_at,omitempty"`
	// PriorPrice is the lowest price of the 30 days before the current reduction (the EU
	// Omnibus "prior price"); set only while a reduction is in effect. See PriorPrice.
	PriorPrice *int64 `json:"prior_price,omitempty"`
	// SaleEndsAt is when the current price, a sale window's, reverts by itself.
	SaleEndsAt *time.Time `json:"sale_ends_at,omitempty"`
}

// Price returns v's current price in currency, and whether it has one.
func (v Variant) Price(currency string) (Price, bool) {
	for _, p := range v.Prices {
		if p.Currency == currency {
			return p, true
		}
	}
	return Price{}, false
}

// Input returns the writable fields of v, the starting point of a patch.
func (v Variant) Input() VariantInput {
	in := VariantInput{SKU: v.SKU, Options: v.Options, Barcode: v.Barcode, WeightGrams: v.WeightGrams,
		Attributes: v.Attributes, Image: v.Image, PurchaseLimit: v.PurchaseLimit}
	for _, p := range v.Prices {
		in.Prices = append(in.Prices, PriceInput{Currency: p.Currency, Amount: p.Amount, CompareAt: p.CompareAt})
	}
	return in
}

// VariantInput is what a client writes for one variant.
type VariantInput struct {
	SKU           string            `json:"sku"`
	Options       map[string]string `json:"options,omitempty"`
	Barcode       string            `json:"barcode,omitempty"`
	WeightGrams   *int64            `json:"weight_grams,omitempty"`
	Attributes    Attributes        `json:"attributes,omitempty"`
	Image         string            `json:"image,omitempty"`
	PurchaseLimit int64             `json:"purchase_limit,omitempty"`
	// Prices sets the current price per currency. Changing one records it in the price history.
	Prices []PriceInput `json:"prices"`
	// InitialStock, on create only, puts units on hand with an "initial" stock movement.
	InitialStock int64 `json:"initial_stock,omitempty"`
}

// PriceInput is one current price of a variant as a client writes it.
type PriceInput struct {
	Currency  string `json:"currency"`
	Amount    int64  `json:"amount"`
	CompareAt *int64 `json:"compare_at,omitempty"`
}

// Variant limits.
const (
	MaxWeightGrams      = 10_000_000 // 10 tonnes
	MaxPricesPerVariant = 50
)

// Normalize trims the text fields and sorts prices by currency, the order stores return.
func (in *VariantInput) Normalize() {
	in.SKU = strings.TrimSpace(in.SKU)
	in.Barcode = strings.TrimSpace(in.Barcode)
	in.Image = strings.TrimSpace(in.Image)
	if in.Options == nil {
		in.Options = map[string]string{}
	}
	for k, v := range in.Options {
		in.Options[k] = strings.TrimSpace(v)
	}
	if in.Attributes == nil {
		in.Attributes = Attributes{}
	}
	if in.Prices == nil {
		in.Prices = []PriceInput{}
	}
	sort.SliceStable(in.Prices, func(i, j int) bool { return in.Prices[i].Currency < in.Prices[j].Currency })
}

// ValidateVariant checks a variant added to, or changed on, a product with these options and
// media. Uniqueness of the SKU across the catalog and of the combination within the product is
// the store's to check (it sees the other variants).
func (in VariantInput) ValidateVariant(opts []Option, media []Media) error {
	var p Problems
	in.validate("", opts, mediaURLs(media), &p)
	return p.Err()
}

func (in VariantInput) validate(prefix string, opts []Option, media map[string]bool, p *Problems) {
	f := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + "." + name
	}
	switch {
	case in.SKU == "":
		p.Add(f("sku"), "is required")
	case !checkText(p, f("sku"), in.SKU, Identifier):
	case !ValidSKU(in.SKU):
		p.Add(f("sku"), "must be 3-64 letters, digits, '.', '-' or '_', starting and ending with a letter or digit")
	}
	validVariantOptions(f("options"), opts, in.Options, p)
	if in.Barcode != "" && checkText(p, f("barcode"), in.Barcode, Identifier) {
		if why := GTINProblem(in.Barcode); why != "" {
			p.Add(f("barcode"), "%s", why)
		}
	}
	if in.WeightGrams != nil && (*in.WeightGrams < 0 || *in.WeightGrams > MaxWeightGrams) {
		p.Add(f("weight_grams"), "must be between 0 and %d", MaxWeightGrams)
	}
	in.Attributes.validateShape(f("attributes"), p)
	if in.Image != "" && checkText(p, f("image"), in.Image, Identifier) && !media[in.Image] {
		p.Add(f("image"), "must be the URL of one of the product's media")
	}
	if in.PurchaseLimit < 0 || in.PurchaseLimit > MaxQuantity {
		p.Add(f("purchase_limit"), "must be between 0 (no limit) and %d", MaxQuantity)
	}
	validPrices(f("prices"), in.Prices, p)
	if in.InitialStock < 0 || in.InitialStock > MaxQuantity {
		p.Add(f("initial_stock"), "must be between 0 and %d", MaxQuantity)
	}
}

func validVariantOptions(field string, opts []Option, vals map[string]string, p *Problems) {
	if len(opts) == 0 {
		if len(vals) > 0 {
			p.Add(field, "must be empty: the product has no options")
		}
		return
	}
	for _, o := range opts {
		switch v, ok := vals[o.Name]; {
		case !ok:
			p.Add(field+"."+o.Name, "is required: the product varies in %s (one of %s)", o.Name, strings.Join(o.Values, ", "))
		case !o.Has(v):
			p.Add(field+"."+o.Name, "%q is not a value of option %s (one of %s)", v, o.Name, strings.Join(o.Values, ", "))
		}
	}
	for k := range vals {
		if !slices.ContainsFunc(opts, func(o Option) bool { return o.Name == k }) {
			if TextProblem(k, Identifier) != "" || utf8.RuneCountInString(k) > MaxOptionNameLength {
				p.Add(field, "has a key that is not an option of the product")
			} else {
				p.Add(field+"."+k, "is not an option of the product")
			}
		}
	}
}

func validPrices(field string, prices []PriceInput, p *Problems) {
	switch n := len(prices); {
	case n == 0:
		p.Add(field, "must have at least one price")
		return
	case n > MaxPricesPerVariant:
		p.Add(field, "must have at most %d prices (one per currency)", MaxPricesPerVariant)
		return
	}
	seen := map[string]bool{}
	for i, pr := range prices {
		pf := fmt.Sprintf("%s[%d]", field, i)
		if validCurrency(pf+".currency", pr.Currency, p) {
			if seen[pr.Currency] {
				p.Add(pf+".currency", "%s appears twice: one price per currency", pr.Currency)
			}
			seen[pr.Currency] = true
		}
		validAmount(pf+".amount", pr.Amount, p)
		validCompareAt(pf+".compare_at", pr.Amount, pr.CompareAt, p)
	}
}

func validCompareAt(field string, amount int64, compareAt *int64, p *Problems) {
	if compareAt == nil {
		return
	}
	switch {
	case *compareAt > MaxAmount:
		p.Add(field, "must be at most %d minor units", int64(MaxAmount))
	case *compareAt <= amount:
		p.Add(field, "must be above the amount (%d): it is the price a shopper saves from", amount)
	}
}

// GTINProblem says why s is not a GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN) or GTIN-14 with a
// correct check digit, or "" when it is one.
func GTINProblem(s string) string {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "must be a GTIN: 8, 12, 13 or 14 digits"
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return "must be a GTIN: digits only"
		}
		d := int(c - '0')
		if i == len(s)-1 {
			if want := (10 - sum%10) % 10; d != want {
				return fmt.Sprintf("has a wrong check digit (expected %d): mistyped?", want)
			}
			break
		}
		// Weights 3,1,3,1... counted from the digit left of the check digit.
		if (len(s)-1-i)%2 == 1 {
			sum += 3 * d
		} else {
			sum += d
		}
	}
	return ""
}

// VariantPatch is a JSON Merge Patch of a variant's writable fields, decoded. Nil fields are
// absent. Prices, when present, replace the variant's whole price list (arrays are never
// merged); each currency whose price changes gets a price history line.
type VariantPatch struct {
	SKU         *string
	Options     map[string]string // merged: only the named options change
	Barcode     *string           // "" removes it
	WeightGrams **int64           // set to a nil *int64 to remove
	// Attributes merge: a nil value removes that key; ClearAttributes drops all first.
	Attributes      map[string]any
	RemoveAttribute map[string]bool
	ClearAttributes bool
	Image           *string
	PurchaseLimit   *int64
	Prices          *[]PriceInput
}

// Apply returns cur with the patch merged in; cur is never modified.
func (vp VariantPatch) Apply(cur VariantInput) VariantInput {
	out := cur
	if vp.SKU != nil {
		out.SKU = *vp.SKU
	}
	if len(vp.Options) > 0 {
		out.Options = make(map[string]string, len(cur.Options))
		for k, v := range cur.Options {
			out.Options[k] = v
		}
		for k, v := range vp.Options {
			out.Options[k] = v
		}
	}
	if vp.Barcode != nil {
		out.Barcode = *vp.Barcode
	}
	if vp.WeightGrams != nil {
		out.WeightGrams = *vp.WeightGrams
	}
	if vp.ClearAttributes || len(vp.Attributes) > 0 || len(vp.RemoveAttribute) > 0 {
		out.Attributes = cur.Attributes.merge(vp.ClearAttributes, vp.Attributes, vp.RemoveAttribute)
	}
	if vp.Image != nil {
		out.Image = *vp.Image
	}
	if vp.PurchaseLimit != nil {
		out.PurchaseLimit = *vp.PurchaseLimit
	}
	if vp.Prices != nil {
		out.Prices = slices.Clone(*vp.Prices)
	}
	out.InitialStock = 0
	out.Normalize()
	return out
}

// OptionChange is what ReconcileOptions decides for the existing variants when a product's
// options are replaced.
type OptionChange struct {
	// Values maps variant ID to its new option values, for every variant whose values change.
	Values map[string]map[string]string
}

// ReconcileOptions decides how a product's variants follow a change of its options from old to
// next. Options are matched by name. A new option gives every existing variant its first value;
// a removed option is dropped from every variant, which is refused when two variants would then
// stand for the same combination; a removed value still used by a variant is refused, naming the
// variant. A product keeps at least one option once it has several variants.
func ReconcileOptions(next []Option, variants []Variant) (OptionChange, error) {
	ch := OptionChange{Values: map[string]map[string]string{}}
	var p Problems
	if len(next) == 0 && len(variants) > 1 {
		p.Add("options", "cannot be removed while the product has %d variants: remove variants until one is left", len(variants))
		return ch, p.Err()
	}
	combos := map[string]string{}
	for _, v := range variants {
		vals := map[string]string{}
		changed := false
		for _, o := range next {
			cur, ok := v.Options[o.Name]
			switch {
			case !ok:
				vals[o.Name], changed = o.Values[0], true
			case !o.Has(cur):
				p.Add("options", "value %q of option %s is used by variant %s: change or remove that variant first", cur, o.Name, v.SKU)
			default:
				vals[o.Name] = cur
			}
		}
		if len(vals) != len(v.Options) {
			changed = true
		}
		key := ComboKey(next, vals)
		if other, dup := combos[key]; dup && len(next) > 0 {
			p.Add("options", "variants %s and %s would both stand for %s", other, v.SKU, key)
		}
		combos[key] = v.SKU
		if changed {
			ch.Values[v.ID] = vals
		}
	}
	return ch, p.Err()
}

func sortStrings(s []string) { sort.Strings(s) }
