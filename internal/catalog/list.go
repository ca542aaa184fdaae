package catalog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Sort orders a product list. Every order ends with the product ID, so it is total and keyset
// pagination never skips or repeats a row.
type Sort string

// Sort orders.
const (
	SortNewest    Sort = "newest" // created_at descending
	SortOldest    Sort = "oldest" // created_at ascending
	SortName      Sort = "name"   // name ascending, case-insensitive
	SortNameDesc  Sort = "-name"
	SortPrice     Sort = "price" // lowest variant price in Filter.Currency ascending
	SortPriceDesc Sort = "-price"
	// SortPosition is a collection's own order; it needs a collection filter.
	SortPosition Sort = "position"
	// SortRelevance ranks the matches of a query by tier, then ID (ADR 0021); it needs q.
	SortRelevance Sort = "relevance"
)

// Sorts lists the accepted orders.
var Sorts = []Sort{SortNewest, SortOldest, SortName, SortNameDesc, SortPrice, SortPriceDesc, SortPosition, SortRelevance}

// Valid reports whether s is a known order.
func (s Sort) Valid() bool {
	for _, v := range Sorts {
		if s == v {
			return true
		}
	}
	return false
}

// Descending reports whether s orders from high to low.
func (s Sort) Descending() bool {
	return s == SortNewest || s == SortNameDesc || s == SortPriceDesc || s == SortRelevance
}

// Page size limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxQueryLength bounds a full-text query.
	MaxQueryLength = 200
)

// ProductFilter selects products. Zero fields do not filter.
type ProductFilter struct {
	// Category selects the category and all its descendants.
	Category string
	// Statuses selects any of the listed statuses; empty selects every status.
	Statuses []Status
	Brand    string
	// Currency selects prices in one currency: MinPrice, MaxPrice and the price sorts require
	// it, and then only products with a price in it are listed. A product's price is its
	// lowest variant price in that currency ("from $12").
	Currency string
	MinPrice *int64
	MaxPrice *int64
	// Attributes select by filterable attributes (attr.<key>=...); a product matches a filter
	// when it, or any of its variants, has a matching value. All filters must match.
	Attributes []AttributeFilter
	// InStock selects products with available stock (true) or without (false).
	InStock *bool
	// Query is a full-text search over name, brand and description: every word must match.
	Query string
	// Collection selects the members of one collection (see SortPosition).
	Collection string
}

// Validate checks the filter's fields.
func (f ProductFilter) Validate() error {
	var p Problems
	if f.Category != "" && checkText(&p, "category", f.Category, Identifier) && !ValidSlug(f.Category) {
		p.Add("category", "must be a category slug")
	}
	checkText(&p, "brand", f.Brand, Identifier)
	checkText(&p, "currency", f.Currency, Identifier)
	checkText(&p, "q", f.Query, Line)
	if f.Collection != "" && checkText(&p, "collection", f.Collection, Identifier) && !ValidSlug(f.Collection) {
		p.Add("collection", "must be a collection slug")
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			p.Add("status", "must be draft, active, archived or all")
		}
	}
	if utf8Len(f.Brand) > MaxBrandLength {
		p.Add("brand", "must be at most %d characters", MaxBrandLength)
	}
	if f.Currency != "" && TextProblem(f.Currency, Identifier) == "" {
		if _, ok := MinorUnits(f.Currency); !ok {
			p.Add("currency", "%q is not an ISO 4217 currency code", f.Currency)
		}
	}
	if len(f.Attributes) > MaxAttributeFilters {
		p.Add("attr", "at most %d attribute filters", MaxAttributeFilters)
	}
	if (f.MinPrice != nil || f.MaxPrice != nil) && f.Currency == "" {
		p.Add("currency", "is required with min_price and max_price: amounts in different currencies do not compare")
	}
	if f.MinPrice != nil && *f.MinPrice < 0 {
		p.Add("min_price", "must not be negative")
	}
	if f.MaxPrice != nil && *f.MaxPrice < 0 {
		p.Add("max_price", "must not be negative")
	}
	if f.MinPrice != nil && f.MaxPrice != nil && *f.MinPrice > *f.MaxPrice {
		p.Add("min_price", "must not be greater than max_price")
	}
	if utf8Len(f.Query) > MaxQueryLength {
		p.Add("q", "must be at most %d characters", MaxQueryLength)
	}
	return p.Err()
}

// fingerprint identifies the filter and order a cursor was issued for.
func (f ProductFilter) fingerprint(s Sort) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%v|%s|%s|", s, f.Category, f.Statuses, f.Brand, f.Currency)
	for _, v := range []*int64{f.MinPrice, f.MaxPrice} {
		if v != nil {
			fmt.Fprint(h, *v)
		}
		fmt.Fprint(h, "|")
	}
	if f.InStock != nil {
		fmt.Fprint(h, *f.InStock)
	}
	fmt.Fprintf(h, "|%s", f.Query)
	for _, a := range f.Attributes {
		fmt.Fprintf(h, "|%s", a.fingerprint())
	}
	if f.Collection != "" { // appended only when set, so cursors issued before collections stay valid
		fmt.Fprintf(h, "|collection=%s", f.Collection)
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// ListQuery asks for one page of products.
type ListQuery struct {
	Filter ProductFilter
	Sort   Sort
	Limit  int
	// After continues a previous page; nil starts at the beginning.
	After *Cursor
	// WithTotal asks for the number of products matching the filter (an extra count query).
	WithTotal bool
	// Summary allows a store to leave out of each item what a list's summary does not show:
	// the description (empty) and every image but the first (media cut to one). A store may
	// still return them in full.
	Summary bool
}

// Validate checks the query and that its cursor belongs to it.
func (q ListQuery) Validate() error {
	if err := q.Filter.Validate(); err != nil {
		return err
	}
	if !q.Sort.Valid() {
		return InvalidField("sort", "must be one of relevance, newest, oldest, name, -name, price, -price, position")
	}
	if field, problem := q.relevanceProblem(); field != "" {
		return InvalidField(field, "%s", problem)
	}
	if q.Sort == SortPosition && q.Filter.Collection == "" {
		return InvalidField("sort", "position is a collection's order: it needs a collection")
	}
	if (q.Sort == SortPrice || q.Sort == SortPriceDesc) && q.Filter.Currency == "" {
		return InvalidField("currency", "is required with sort=%s: prices in different currencies do not compare", q.Sort)
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		return InvalidField("limit", "must be between 1 and %d", MaxLimit)
	}
	if q.After != nil && q.After.fingerprint != q.Filter.fingerprint(q.Sort) {
		return InvalidField("cursor", "was issued for a different filter or sort; start again without a cursor")
	}
	return nil
}

// EmptySearch reports whether q asks for a search without one searchable word (only
// punctuation, say), which no product matches; page is then the whole answer.
func (q ListQuery) EmptySearch() (page ProductPage, ok bool) {
	if q.Filter.Query == "" || len(SearchTerms(q.Filter.Query)) > 0 {
		return page, false
	}
	page.Items = []Product{}
	if q.WithTotal {
		page.Total = new(int64)
	}
	return page, true
}

// ProductPage is one page of a product list.
type ProductPage struct {
	Items []Product
	// Next continues the list; nil on the last page.
	Next *Cursor
	// Total is set when the query asked for it.
	Total *int64
}

// Cursor marks the position after the last product of a page: that product's sort key and ID.
// Clients see it as an opaque string.
type Cursor struct {
	Sort    Sort
	NameKey string
	Price   int64
	Created time.Time
	// Position is the collection position key (SortPosition).
	Position int64
	// Tier is the relevance tier (SortRelevance): TierText to TierExact.
	Tier int
	ID   string

	fingerprint string
}

// NextPositionCursor returns the cursor that continues q (sorted by SortPosition) after the
// product with the given ID and collection position key.
func (q ListQuery) NextPositionCursor(id string, position int64) *Cursor {
	return &Cursor{Sort: q.Sort, Position: position, ID: id, fingerprint: q.Filter.fingerprint(q.Sort)}
}

// NextCursor returns the cursor that continues q after product p (whose PriceRanges must hold
// the filter's currency when the list is sorted by price).
func (q ListQuery) NextCursor(p Product) *Cursor {
	var price int64
	for _, r := range p.PriceRanges {
		if r.Currency == q.Filter.Currency {
			price = r.Min
		}
	}
	return &Cursor{
		Sort: q.Sort, NameKey: SortKey(p.Name), Price: price, Created: p.CreatedAt, ID: p.ID,
		fingerprint: q.Filter.fingerprint(q.Sort),
	}
}

type cursorJSON struct {
	V int    `json:"v"`
	S Sort   `json:"s"`
	K string `json:"k"`
	I string `json:"i"`
	F string `json:"f"`
}

const cursorVersion = 1

// String encodes the cursor for a client.
func (c *Cursor) String() string {
	var k string
	switch c.Sort {
	case SortName, SortNameDesc:
		k = c.NameKey
	case SortPrice, SortPriceDesc:
		k = strconv.FormatInt(c.Price, 10)
	case SortPosition:
		k = strconv.FormatInt(c.Position, 10)
	case SortRelevance:
		k = strconv.Itoa(c.Tier)
	default:
		k = strconv.FormatInt(c.Created.UnixMicro(), 10)
	}
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, S: c.Sort, K: k, I: c.ID, F: c.fingerprint})
	return base64.RawURLEncoding.EncodeToString(b)
}

// The creation times a cursor may hold: years 1 to 9999.
var (
	minCursorMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// MaxCursorLength bounds what ParseCursor reads.
const MaxCursorLength = 1024

// ParseCursor decodes a cursor a client sent back.
func ParseCursor(s string) (*Cursor, error) {
	bad := func(why string) error { return InvalidField("cursor", "is not a cursor this API issued (%s)", why) }
	if len(s) > MaxCursorLength {
		return nil, bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad("not base64url")
	}
	var j cursorJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil || dec.More() {
		return nil, bad("malformed")
	}
	if j.V != cursorVersion {
		return nil, bad("unknown version")
	}
	if !ValidID(j.I) {
		return nil, bad("bad position")
	}
	// The key goes to the store as a bound parameter: it must pass the rule names pass.
	if TextProblem(j.K, Identifier) != "" || TextProblem(j.F, Identifier) != "" {
		return nil, bad("bad key")
	}
	c := &Cursor{Sort: j.S, ID: j.I, fingerprint: j.F}
	switch j.S {
	case SortName, SortNameDesc:
		if utf8Len(j.K) > MaxNameLength*4 {
			return nil, bad("bad key")
		}
		c.NameKey = j.K
	case SortPrice, SortPriceDesc:
		n, err := strconv.ParseInt(j.K, 10, 64)
		if err != nil || n < 0 {
			return nil, bad("bad key")
		}
		c.Price = n
	case SortPosition:
		n, err := strconv.ParseInt(j.K, 10, 64) // any int64: the front of a list grows downwards
		if err != nil {
			return nil, bad("bad key")
		}
		c.Position = n
	case SortRelevance:
		n, err := strconv.Atoi(j.K)
		if err != nil || n < TierText || n > TierExact {
			return nil, bad("bad key")
		}
		c.Tier = n
	case SortNewest, SortOldest:
		n, err := strconv.ParseInt(j.K, 10, 64)
		// Both stores hold years 1 to 9999 at most; a key outside is forged.
		if err != nil || n < minCursorMicros || n > maxCursorMicros {
			return nil, bad("bad key")
		}
		c.Created = time.UnixMicro(n).UTC()
	default:
		return nil, bad("unknown sort")
	}
	return c, nil
}

func utf8Len(s string) int { return len([]rune(s)) }

// UnknownCategory is the answer to a list filtered by a category that does not exist: a
// not_found naming the filter, so a typo in a slug is not mistaken for an empty category.
func UnknownCategory(slug string) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("category %q not found", slug),
		Fields: []FieldError{{Field: "category", Problem: fmt.Sprintf("no category %q exists", slug)}}}
}
