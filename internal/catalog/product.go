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

func (m Money) validate(field string, p *Problems) {
	if m.Currency == "" {
		p.Add(field+".currency", "is required")
	} else if _, ok := MinorUnits(m.Currency); !ok {
		p.Add(field+".currency", "%q is not an ISO 4217 currency code (upper case, e.g. USD)", m.Currency)
	}
	switch {
	case m.Amount < 0:
		p.Add(field+".amount", "must not be negative")
	case m.Amount > MaxAmount:
		p.Add(field+".amount", "must be at most %d minor units", int64(MaxAmount))
	}
}

// Stock is a product's inventory: units on hand, units held by open reservations, and the
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

// Product is an item in the catalog.
type Product struct {
	ID          string            `json:"id"`
	SKU         string            `json:"sku"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Category    string            `json:"category"`
	Brand       string            `json:"brand"`
	Attributes  map[string]string `json:"attributes"`
	Images      []string          `json:"images"`
	Status      Status            `json:"status"`
	Price       Money             `json:"price"`
	Stock       Stock             `json:"stock"`
	// Version increases on every write to the product itself (price changes included).
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Input returns the writable fields of p, the starting point of a patch.
func (p Product) Input() ProductInput {
	return ProductInput{
		SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Brand: p.Brand, Attributes: p.Attributes, Images: p.Images, Status: p.Status, Price: p.Price,
	}
}

// ProductInput is what a client writes when it creates or replaces a product.
type ProductInput struct {
	SKU         string            `json:"sku"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Category    string            `json:"category"`
	Brand       string            `json:"brand,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Images      []string          `json:"images,omitempty"`
	Status      Status            `json:"status,omitempty"`
	Price       Money             `json:"price"`
}

// Limits on product fields.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 5000
	MaxBrandLength       = 100
	MaxAttributes        = 50
	MaxAttributeKey      = 64
	MaxAttributeValue    = 500
	MaxImages            = 20
	MaxImageURL          = 2048
)

var skuRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,62}[A-Za-z0-9]$`)

// ValidSKU reports whether s is a well-formed SKU: 3 to 64 ASCII letters, digits, dots, dashes
// or underscores, starting and ending with a letter or digit. SKUs keep their case but are
// unique regardless of it.
func ValidSKU(s string) bool { return skuRE.MatchString(s) }

// Normalize trims surrounding white space from the free-text fields and turns empty
// collections into empty (non-nil) ones, so stores and responses see one canonical form.
func (in *ProductInput) Normalize() {
	in.SKU = strings.TrimSpace(in.SKU)
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	in.Brand = strings.TrimSpace(in.Brand)
	in.Category = strings.TrimSpace(in.Category)
	if in.Attributes == nil {
		in.Attributes = map[string]string{}
	}
	if in.Images == nil {
		in.Images = []string{}
	}
}

// Validate checks every field and reports all problems at once.
func (in ProductInput) Validate() error {
	var p Problems
	switch {
	case in.SKU == "":
		p.Add("sku", "is required")
	case !checkText(&p, "sku", in.SKU, Identifier):
	case !ValidSKU(in.SKU):
		p.Add("sku", "must be 3-64 letters, digits, '.', '-' or '_', starting and ending with a letter or digit")
	}
	validText(&p, "name", in.Name, MaxNameLength, true, Identifier)
	validText(&p, "description", in.Description, MaxDescriptionLength, false, Multiline)
	validText(&p, "brand", in.Brand, MaxBrandLength, false, Identifier)
	switch {
	case in.Category == "":
		p.Add("category", "is required")
	case !checkText(&p, "category", in.Category, Identifier):
	case !ValidSlug(in.Category):
		p.Add("category", "must be a category slug (lower-case letters, digits and single dashes)")
	}
	if len(in.Attributes) > MaxAttributes {
		p.Add("attributes", "must have at most %d entries", MaxAttributes)
	}
	for k, v := range in.Attributes {
		if why := TextProblem(k, Identifier); why != "" {
			// The key itself is unprintable, so the field names the map, not the key.
			p.Add("attributes", "a key %s", why)
			continue
		}
		field := "attributes." + k
		if k == "" || utf8.RuneCountInString(k) > MaxAttributeKey || strings.TrimSpace(k) != k {
			p.Add("attributes", "key %q must be 1-%d characters without surrounding spaces", k, MaxAttributeKey)
			continue
		}
		validText(&p, field, v, MaxAttributeValue, false, Line)
	}
	if len(in.Images) > MaxImages {
		p.Add("images", "must have at most %d URLs", MaxImages)
	}
	for i, raw := range in.Images {
		if !checkText(&p, fmt.Sprintf("images[%d]", i), raw, Identifier) {
			continue
		}
		if !validImageURL(raw) {
			p.Add(fmt.Sprintf("images[%d]", i), "must be an absolute http or https URL of at most %d characters", MaxImageURL)
		}
	}
	switch {
	case in.Status == "":
		p.Add("status", "is required: draft, active or archived")
	case !in.Status.Valid():
		p.Add("status", "must be draft, active or archived")
	}
	in.Price.validate("price", &p)
	return p.Err()
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
