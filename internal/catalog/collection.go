package catalog

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Collection is a named, hand-ordered list of products: a flash-sale landing page, "new this
// week". A product may be in any number of collections.
type Collection struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// ProductCount counts every member, whatever its status; public lists show active ones.
	ProductCount int64 `json:"product_count"`
	// Version increases on every change to the collection or its list, a member's deletion
	// included.
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CollectionInput creates a collection.
type CollectionInput struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// CollectionPatch changes a collection's name or description; a nil field is left unchanged.
type CollectionPatch struct {
	Name        *string
	Description *string
}

// Limits on collections.
const (
	MaxCollectionNameLength        = 200
	MaxCollectionDescriptionLength = 5000
	// MaxCollectionProducts bounds one collection, so a reorder that must renumber the whole
	// list (see PositionKeys) stays one bounded statement.
	MaxCollectionProducts = 10_000
	// MaxMembershipWrite bounds the product IDs one request may add or set.
	MaxMembershipWrite = 1_000
	// MaxCollections bounds the collections a catalog holds, so GET /collections, which has no
	// pages, stays bounded.
	MaxCollections = 1_000
)

// Collections is the part of Store that keeps collections. Methods that change a collection's
// list take a row lock on the collection (or the one writer), so concurrent changes serialise.
type Collections interface {
	CreateCollection(ctx context.Context, in CollectionInput) (Collection, error)
	Collection(ctx context.Context, slug string) (Collection, error)
	// Collections returns every collection, by slug.
	Collections(ctx context.Context) ([]Collection, error)
	// UpdateCollection applies patch; a patch that changes nothing writes nothing.
	UpdateCollection(ctx context.Context, slug string, patch CollectionPatch, ifVersion int64) (Collection, error)
	// DeleteCollection removes the collection and its list, never the products.
	DeleteCollection(ctx context.Context, slug string, ifVersion int64) error
	// SetCollectionProducts replaces the list with ids, in that order. Unknown and repeated IDs
	// are refused with CodeUnprocessable naming their index.
	SetCollectionProducts(ctx context.Context, slug string, ids []string, ifVersion int64) (Collection, error)
	// AddToCollection inserts ids, in their order, before the product now at index *position
	// (0 is the front), or at the end when position is nil or past the end. A product already
	// in the collection is moved.
	AddToCollection(ctx context.Context, slug string, ids []string, position *int) (Collection, error)
	// RemoveFromCollection takes one product out of the collection.
	RemoveFromCollection(ctx context.Context, slug, id string) (Collection, error)
}

// Normalize trims surrounding white space.
func (in *CollectionInput) Normalize() {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
}

// Validate checks every field.
func (in CollectionInput) Validate() error {
	var p Problems
	validSlugField(&p, "slug", in.Slug)
	validText(&p, "name", in.Name, MaxCollectionNameLength, true, Identifier)
	validText(&p, "description", in.Description, MaxCollectionDescriptionLength, false, Multiline)
	return p.Err()
}

// Normalize trims surrounding white space.
func (in *CollectionPatch) Normalize() {
	for _, f := range []**string{&in.Name, &in.Description} {
		if *f != nil {
			s := strings.TrimSpace(**f)
			*f = &s
		}
	}
}

// Validate checks the fields that are set.
func (in CollectionPatch) Validate() error {
	var p Problems
	if in.Name == nil && in.Description == nil {
		p.Add("body", "nothing to change: set name, description or both")
	}
	if in.Name != nil {
		validText(&p, "name", *in.Name, MaxCollectionNameLength, true, Identifier)
	}
	if in.Description != nil {
		validText(&p, "description", *in.Description, MaxCollectionDescriptionLength, false, Multiline)
	}
	return p.Err()
}

// Apply returns c with the patch applied, and whether anything changed.
func (in CollectionPatch) Apply(c Collection) (Collection, bool) {
	out := c
	if in.Name != nil {
		out.Name = *in.Name
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	return out, out.Name != c.Name || out.Description != c.Description
}

// ValidateMembership checks the product IDs of a membership write, before any store sees them:
// at most MaxMembershipWrite, each a product ID, none twice (CodeUnprocessable, naming the
// index of the repeat and of the first). Add needs at least one ID; a set may empty the list.
func ValidateMembership(ids []string, position *int, atLeastOne bool) error {
	var p Problems
	switch {
	case len(ids) > MaxMembershipWrite:
		p.Add("product_ids", "must have at most %d IDs per request", MaxMembershipWrite)
		return p.Err()
	case atLeastOne && len(ids) == 0:
		p.Add("product_ids", "must name at least one product")
	}
	if position != nil && *position < 0 {
		p.Add("position", "must be 0 (the front) or more")
	}
	for i, id := range ids {
		if !ValidID(id) {
			p.Add(fmt.Sprintf("product_ids[%d]", i), "must be a product ID (a lower-case UUID)")
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	first := make(map[string]int, len(ids))
	var dup Problems
	for i, id := range ids {
		if j, ok := first[id]; ok {
			dup.Add(fmt.Sprintf("product_ids[%d]", i), "repeats product_ids[%d] (%s): a product is in a collection once", j, id)
			continue
		}
		first[id] = i
	}
	return Unprocessable(dup)
}

// UnknownProducts is the refusal of a membership write naming products that do not exist:
// known holds the IDs that do.
func UnknownProducts(ids []string, known map[string]bool) error {
	var p Problems
	for i, id := range ids {
		if !known[id] {
			p.Add(fmt.Sprintf("product_ids[%d]", i), "no product %s exists", id)
		}
	}
	return Unprocessable(p)
}

// Unprocessable returns nil for no problems, or a CodeUnprocessable *Error listing them.
func Unprocessable(p Problems) error {
	err := p.Err()
	if e, ok := err.(*Error); ok {
		e.Code = CodeUnprocessable
		e.Message = fmt.Sprintf("product_ids names %d products that do not exist or repeat an earlier one; fields lists each", len(p))
		if len(p) == 1 {
			e.Message = "product_ids names a product that does not exist or repeats an earlier one; fields says which"
		}
	}
	return err
}

// Position keys. A collection's order is kept as sparse integer keys, PositionStep apart when
// the list is written whole, so inserting or moving products writes only their own rows: new
// keys go after the last (appending), before the first (pinning to the top), or are spread
// between their neighbours'. Only when two neighbours' gap is used up (about 20 inserts at one
// spot inside the list) is the whole list renumbered, in the same transaction.
const PositionStep int64 = 1 << 20

// PositionKeys returns n increasing keys after lo (when hasLo) and before hi (when hasHi), or
// ok false when they do not fit and the list must be renumbered (see RenumberedKeys). Keys may
// be negative: the front grows downwards.
func PositionKeys(lo int64, hasLo bool, hi int64, hasHi bool, n int) (keys []int64, ok bool) {
	keys = make([]int64, n)
	span := PositionStep * int64(n)
	switch {
	case !hasLo && !hasHi:
		return RenumberedKeys(n), true
	case !hasHi:
		if lo > math.MaxInt64-span {
			return nil, false
		}
		for i := range keys {
			keys[i] = lo + PositionStep*int64(i+1)
		}
	case !hasLo:
		if hi < math.MinInt64+span {
			return nil, false
		}
		for i := range keys {
			keys[i] = hi - PositionStep*int64(n-i)
		}
	default:
		// Keys come from PositionKeys, so two neighbours are at most about 2^62 apart... unless
		// the list is lopsided; a gap that could overflow the spread below is renumbered too.
		gap := hi - lo
		if gap <= int64(n) || gap > math.MaxInt64/int64(n+1) {
			return nil, false
		}
		for i := range keys {
			keys[i] = lo + gap*int64(i+1)/int64(n+1)
		}
	}
	return keys, true
}

// RenumberedKeys returns the keys of a list of n written whole: PositionStep, 2 x PositionStep...
func RenumberedKeys(n int) []int64 {
	keys := make([]int64, n)
	for i := range keys {
		keys[i] = PositionStep * int64(i+1)
	}
	return keys
}

// CollectionNotFound is the answer for an unknown collection slug.
func CollectionNotFound(slug string) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("collection %q not found", slug)}
}

// UnknownCollection is the answer to a list filtered by a collection that does not exist: a
// not_found naming the filter, as for an unknown category.
func UnknownCollection(slug string) error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf("collection %q not found", slug),
		Fields: []FieldError{{Field: "collection", Problem: fmt.Sprintf("no collection %q exists", slug)}}}
}

// StaleCollection is the answer to a conditional collection write whose version is no longer
// current.
func StaleCollection(current, want int64) error {
	return Errorf(CodePreconditionFailed,
		"the collection changed since you read it (your version %d, current %d): read it again and retry", want, current)
}

// CollectionTooLarge refuses a write that would take a collection past MaxCollectionProducts.
func CollectionTooLarge(slug string, have, adding int) error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf("collection %q would hold %d products; at most %d are allowed", slug, have+adding, MaxCollectionProducts),
		Fields: []FieldError{{Field: "product_ids", Problem: fmt.Sprintf("a collection holds at most %d products (it has %d)", MaxCollectionProducts, have)}}}
}
