package catalog

import (
	"slices"
	"strings"
)

// TreeOrder returns categories parents first, each parent followed by its sub-tree, siblings by
// name. Categories whose parent is missing from the list are treated as roots.
func TreeOrder(cats []Category) []Category {
	known := make(map[string]bool, len(cats))
	for _, c := range cats {
		known[c.Slug] = true
	}
	children := make(map[string][]Category)
	for _, c := range cats {
		parent := c.Parent
		if !known[parent] {
			parent = ""
		}
		children[parent] = append(children[parent], c)
	}
	for _, kids := range children {
		slices.SortFunc(kids, func(a, b Category) int {
			if c := strings.Compare(SortKey(a.Name), SortKey(b.Name)); c != 0 {
				return c
			}
			return strings.Compare(a.Slug, b.Slug)
		})
	}
	out := make([]Category, 0, len(cats))
	seen := make(map[string]bool, len(cats))
	var walk func(parent string)
	walk = func(parent string) {
		for _, c := range children[parent] {
			if seen[c.Slug] {
				continue
			}
			seen[c.Slug] = true
			out = append(out, c)
			walk(c.Slug)
		}
	}
	walk("")
	return out
}

// CheckPlacement checks that putting slug under parent keeps the tree a tree no deeper than
// MaxCategoryDepth. parents maps every existing category to its parent ("" for roots); slug may
// be new (creation) or existing (a move).
func CheckPlacement(parents map[string]string, slug, parent string) error {
	if parent == "" {
		return checkHeight(parents, slug, 1)
	}
	if _, ok := parents[parent]; !ok {
		return InvalidField("parent", "category %q does not exist", parent)
	}
	depth := 1
	for p := parent; p != ""; p = parents[p] {
		if p == slug {
			return InvalidField("parent", "%q is inside %q: moving it there would make a cycle", parent, slug)
		}
		depth++
		if depth > MaxCategoryDepth+1 {
			break
		}
	}
	return checkHeight(parents, slug, depth)
}

// checkHeight checks that slug at depth, with its existing sub-tree, fits MaxCategoryDepth.
func checkHeight(parents map[string]string, slug string, depth int) error {
	children := make(map[string][]string)
	for c, p := range parents {
		children[p] = append(children[p], c)
	}
	var height func(s string, seen int) int
	height = func(s string, seen int) int {
		h := 0
		if seen > MaxCategoryDepth {
			return h
		}
		for _, c := range children[s] {
			h = max(h, height(c, seen+1))
		}
		return h + 1
	}
	if depth+height(slug, 0)-1 > MaxCategoryDepth {
		return InvalidField("parent", "the category tree may be at most %d levels deep", MaxCategoryDepth)
	}
	return nil
}
