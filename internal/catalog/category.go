package catalog

import (
	"regexp"
	"strings"
	"time"
)

// Category is a node of the category tree. Products belong to exactly one category; listing a
// category includes the products of its sub-categories.
type Category struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Parent    string    `json:"parent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version grows with every change of the category: its events' entityversion.
	Version int64 `json:"-"`
}

// CategoryInput creates a category.
type CategoryInput struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// CategoryPatch renames or moves a category. A nil field is left unchanged; an empty Parent
// makes the category a root.
type CategoryPatch struct {
	Name   *string `json:"name,omitempty"`
	Parent *string `json:"parent,omitempty"`
}

// Limits on categories.
const (
	MaxSlugLength         = 64
	MaxCategoryNameLength = 100
	// MaxCategoryDepth bounds the tree so sub-tree queries stay cheap and cycles are caught.
	MaxCategoryDepth = 10
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s is a category slug: lower-case letters and digits in words joined
// by single dashes, at most 64 characters.
func ValidSlug(s string) bool { return len(s) <= MaxSlugLength && slugRE.MatchString(s) }

// validSlugField checks a required slug field: present, printable, and a slug.
func validSlugField(p *Problems, field, s string) {
	switch {
	case s == "":
		p.Add(field, "is required")
	case !checkText(p, field, s, Identifier):
	case !ValidSlug(s):
		p.Add(field, "must be at most %d lower-case letters, digits and single dashes", MaxSlugLength)
	}
}

// Normalize trims surrounding white space.
func (in *CategoryInput) Normalize() {
	in.Slug = strings.TrimSpace(in.Slug)
	in.Name = strings.TrimSpace(in.Name)
	in.Parent = strings.TrimSpace(in.Parent)
}

// Validate checks every field.
func (in CategoryInput) Validate() error {
	var p Problems
	validSlugField(&p, "slug", in.Slug)
	validText(&p, "name", in.Name, MaxCategoryNameLength, true, Identifier)
	if in.Parent != "" && checkText(&p, "parent", in.Parent, Identifier) && !ValidSlug(in.Parent) {
		p.Add("parent", "must be a category slug")
	}
	if in.Parent != "" && in.Parent == in.Slug {
		p.Add("parent", "a category cannot be its own parent")
	}
	return p.Err()
}

// Normalize trims surrounding white space.
func (in *CategoryPatch) Normalize() {
	if in.Name != nil {
		s := strings.TrimSpace(*in.Name)
		in.Name = &s
	}
	if in.Parent != nil {
		s := strings.TrimSpace(*in.Parent)
		in.Parent = &s
	}
}

// Validate checks the fields that are set.
func (in CategoryPatch) Validate() error {
	var p Problems
	if in.Name == nil && in.Parent == nil {
		p.Add("name", "nothing to change: set name, parent or both")
	}
	if in.Name != nil {
		validText(&p, "name", *in.Name, MaxCategoryNameLength, true, Identifier)
	}
	if in.Parent != nil && *in.Parent != "" && checkText(&p, "parent", *in.Parent, Identifier) && !ValidSlug(*in.Parent) {
		p.Add("parent", "must be a category slug, or empty to make the category a root")
	}
	return p.Err()
}
