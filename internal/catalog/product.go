package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a product's lifecycle state.
type Status string

// Product statuses.
const (
	StatusDraft    Status = "draft"
	StatusActive   Status = "active"
	StatusArchived Status = "archived"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusDraft || s == StatusActive || s == StatusArchived
}

// Money is an amount in the minor units of an ISO 4217 currency (cents for USD, yen for JPY).
// It is never a float.
type Money struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// MaxAmount bounds prices so sums of many lines cannot overflow an int64.
const MaxAmount = 1_000_000_000_000 // 10 billion in a two-digit currency

func validCurrency(field, c string, p *Problems) bool {
	switch _, ok := MinorUnits(c); {
	case c == "":
		p.Add(field, "is required")
	case !ok:
		p.Add(field, "%q is not an ISO 4217 currency code (upper case, e.g. USD)", c)
	default:
		return true
	}
	return false
}

func validAmount(field string, a int64, p *Problems) {
	switch {
	case a < 0:
		p.Add(field, "must not be negative")
	case a > MaxAmount:
		p.Add(field, "must be at most %d minor units", int64(MaxAmount))
	}
}

// Stock is a variant's inventory: units on hand, units held by open reservations, and the
// difference, which is what can still be sold.
type Stock struct {
	OnHand    int64 `json:"on_hand"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
	// Version increases on every stock change; it is part of the product's ETag.
	Version int64 `json:"-"`
}

// NewStock returns a Stock with Available derived.
func NewStock(onHand, reserved, version int64) Stock {
	return Stock{OnHand: onHand, Reserved: reserved, Available: onHand - reserved, Version: version}
}

// Product is what the shopper sees: one item of the catalog, sold and stocked as one or more
// variants. A product without options has exactly one variant.
type Product struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Brand       string     `json:"brand"`
	Attributes  Attributes `json:"attributes"`
	Media       []Media    `json:"media"`
	Options     []Option   `json:"options"`
	Status      Status     `json:"status"`
	// Variants are in position order. Single reads carry them all; list items leave them out
	// (nil) and carry PriceRanges and Availability instead.
	Variants []Variant `json:"variants,omitempty"`
	// VariantCount is the number of variants, set on every read.
	VariantCount int `json:"variant_count"`
	// PriceRanges holds, per currency any variant is priced in, the lowest and highest current
	// price ("from $12"), ordered by currency code.
	PriceRanges  []PriceRange `json:"price_ranges"`
	Availability Availability `json:"availability"`
	// Version increases on every write to the product or any of its variants (prices
	// included); stock changes do not move it (see StockVersion).
	Version int64 `json:"version"`
	// StockVersion changes whenever any variant's stock changes; the ETag combines both.
	StockVersion int64     `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PriceRange is the lowest and highest current price of a product's variants in one currency.
type PriceRange struct {
	Currency string `json:"currency"`
	Min      int64  `json:"min"`
	Max      int64  `json:"max"`
}

// Availability sums a product's variants' stock.
type Availability struct {
	InStock bool `json:"in_stock"`
	// Available is the sum of the variants' available units.
	Available int64 `json:"available"`
}

// Summarize derives VariantCount, PriceRanges and Availability from p.Variants. Stores call it
// after loading a product with its variants; lists compute the same figures in SQL.
func (p *Product) Summarize() {
	p.VariantCount = len(p.Variants)
	p.PriceRanges = PriceRangesOf(p.Variants)
	p.Availability = Availability{}
	for _, v := range p.Variants {
		if v.Stock.Available > 0 {
			p.Availability.Available += v.Stock.Available
		}
	}
	p.Availability.InStock = p.Availability.Available > 0
}

// PriceRangesOf returns the per-currency price ranges of variants, ordered by currency.
func PriceRangesOf(variants []Variant) []PriceRange {
	byCur := map[string]*PriceRange{}
	var order []string
	for _, v := range variants {
		for _, pr := range v.Prices {
			r, ok := byCur[pr.Currency]
			if !ok {
				byCur[pr.Currency] = &PriceRange{Currency: pr.Currency, Min: pr.Amount, Max: pr.Amount}
				order = append(order, pr.Currency)
				continue
			}
			r.Min, r.Max = min(r.Min, pr.Amount), max(r.Max, pr.Amount)
		}
	}
	sortStrings(order)
	out := make([]PriceRange, 0, len(order))
	for _, c := range order {
		out = append(out, *byCur[c])
	}
	return out
}

// Variant returns the variant with id, and whether p has it.
func (p Product) Variant(id string) (Variant, bool) {
	for _, v := range p.Variants {
		if v.ID == id {
			return v, true
		}
	}
	return Variant{}, false
}

// Media is one image of a product. Its position is its index in Product.Media. A variant shows
// one of its product's media (Variant.Image names the URL).
type Media struct {
	URL string `json:"url"`
	Alt string `json:"alt,omitempty"`
}

// Input returns the product-level writable fields of p, the starting point of a patch.
func (p Product) Input() ProductInput {
	return ProductInput{
		Name: p.Name, Description: p.Description, Category: p.Category, Brand: p.Brand,
		Attributes: p.Attributes, Media: p.Media, Options: p.Options, Status: p.Status,
	}
}

// ProductInput is what a client writes when it creates or replaces a product. Variants are
// given on create only; afterwards each variant is added, changed and removed on its own, so a
// change to one of 400 variants does not rewrite the others.
type ProductInput struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Category    string     `json:"category"`
	Brand       string     `json:"brand,omitempty"`
	Attributes  Attributes `json:"attributes,omitempty"`
	Media       []Media    `json:"media,omitempty"`
	Options     []Option   `json:"options,omitempty"`
	Status      Status     `json:"status,omitempty"`
	// Variants: exactly one without option values when Options is empty; otherwise one per
	// combination of option values the shop sells (each combination at most once).
	Variants []VariantInput `json:"variants,omitempty"`
}

// Limits on product fields.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 5000
	MaxBrandLength       = 100
	MaxMedia             = 50
	MaxImageURL          = 2048
	MaxAltText           = 500
	MaxVariants          = 2048
)

var skuRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,62}[A-Za-z0-9]$`)

// ValidSKU reports whether s is a well-formed SKU: 3 to 64 ASCII letters, digits, dots, dashes
// or underscores, starting and ending with a letter or digit. SKUs keep their case but are
// unique regardless of it.
func ValidSKU(s string) bool { return skuRE.MatchString(s) }

// Normalize trims surrounding white space from the free-text fields and turns empty
// collections into empty (non-nil) ones, so stores and responses see one canonical form.
func (in *ProductInput) Normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	in.Brand = strings.TrimSpace(in.Brand)
	in.Category = strings.TrimSpace(in.Category)
	if in.Attributes == nil {
		in.Attributes = Attributes{}
	}
	if in.Media == nil {
		in.Media = []Media{}
	}
	for i := range in.Media {
		in.Media[i].URL = strings.TrimSpace(in.Media[i].URL)
		in.Media[i].Alt = strings.TrimSpace(in.Media[i].Alt)
	}
	if in.Options == nil {
		in.Options = []Option{}
	}
	for i := range in.Options {
		in.Options[i].normalize()
	}
	for i := range in.Variants {
		in.Variants[i].Normalize()
	}
}

// Validate checks a product to be created: its own fields and its variants against its
// options. Attribute values are checked separately against their definitions
// (ValidateAttributes), which only the store can read.
func (in ProductInput) Validate() error {
	var p Problems
	in.validateOwn(&p)
	in.validateVariants(&p)
	return p.Err()
}

// ValidateReplace checks a product-level replace or patch: everything but variants, which
// must be absent (they are managed one by one).
func (in ProductInput) ValidateReplace() error {
	var p Problems
	in.validateOwn(&p)
	if in.Variants != nil {
		p.Add("variants", "cannot be replaced with the product: add, change or remove variants at /products/{id}/variants")
	}
	return p.Err()
}

func (in ProductInput) validateOwn(p *Problems) {
	validText(p, "name", in.Name, MaxNameLength, true, Identifier)
	validText(p, "description", in.Description, MaxDescriptionLength, false, Multiline)
	validText(p, "brand", in.Brand, MaxBrandLength, false, Identifier)
	switch {
	case in.Category == "":
		p.Add("category", "is required")
	case !checkText(p, "category", in.Category, Identifier):
	case !ValidSlug(in.Category):
		p.Add("category", "must be a category slug (lower-case letters, digits and single dashes)")
	}
	in.Attributes.validateShape("attributes", p)
	validMedia(in.Media, p)
	validOptions(in.Options, p)
	switch {
	case in.Status == "":
		p.Add("status", "is required: draft, active or archived")
	case !in.Status.Valid():
		p.Add("status", "must be draft, active or archived")
	}
}

func validMedia(media []Media, p *Problems) {
	if len(media) > MaxMedia {
		p.Add("media", "must have at most %d images", MaxMedia)
		return
	}
	seen := map[string]bool{}
	for i, m := range media {
		field := fmt.Sprintf("media[%d]", i)
		if checkText(p, field+".url", m.URL, Identifier) {
			switch {
			case !validImageURL(m.URL):
				p.Add(field+".url", "must be an absolute http or https URL of at most %d characters", MaxImageURL)
			case seen[m.URL]:
				p.Add(field+".url", "appears twice")
			}
			seen[m.URL] = true
		}
		validText(p, field+".alt", m.Alt, MaxAltText, false, Line)
	}
}

func (in ProductInput) validateVariants(p *Problems) {
	switch n := len(in.Variants); {
	case n == 0:
		p.Add("variants", "must have at least one variant (a product without options has exactly one)")
		return
	case n > MaxVariants:
		p.Add("variants", "must have at most %d variants", MaxVariants)
		return
	case len(in.Options) == 0 && n > 1:
		p.Add("variants", "a product without options has exactly one variant; declare options (e.g. Size) to sell several")
	}
	skus := map[string]int{}
	combos := map[string]int{}
	media := mediaURLs(in.Media)
	for i, v := range in.Variants {
		field := fmt.Sprintf("variants[%d]", i)
		v.validate(field, in.Options, media, p)
		if k := strings.ToLower(v.SKU); k != "" {
			if j, dup := skus[k]; dup {
				p.Add(field+".sku", "%s is also the SKU of variants[%d]: every variant needs its own", v.SKU, j)
			}
			skus[k] = i
		}
		if len(in.Options) > 0 {
			c := ComboKey(in.Options, v.Options)
			if j, dup := combos[c]; dup {
				p.Add(field+".options", "the combination %s is also variants[%d]: each combination at most once", c, j)
			}
			combos[c] = i
		}
	}
}

func mediaURLs(media []Media) map[string]bool {
	m := make(map[string]bool, len(media))
	for _, x := range media {
		m[x.URL] = true
	}
	return m
}

func validText(p *Problems, field, s string, max int, required bool, rule TextRule) {
	switch {
	case required && s == "":
		p.Add(field, "is required")
	case !checkText(p, field, s, rule):
	case utf8.RuneCountInString(s) > max:
		p.Add(field, "must be at most %d characters", max)
	}
}

func validImageURL(raw string) bool {
	if len(raw) > MaxImageURL {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// SortKey returns the key products are sorted by when listed by name: the name in lower case,
// computed here so every store orders names identically.
func SortKey(name string) string { return strings.ToLower(name) }
