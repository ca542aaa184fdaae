package catalog

import "strings"

// Relevance tiers (ADR 0021). Under SortRelevance a product's score is the highest tier it
// reaches, and products are ordered by tier, then by ID, both descending: a small integer both
// stores compute exactly, so both return the same order and a cursor (tier, ID) pages through
// it without OFFSET. A tier is a set a store can walk in ID order on its own, which is what
// lets PostgreSQL stop after a page instead of scoring every match of a common word.
const (
	// TierText: every term matches somewhere (name, brand, description, or a variant's SKU).
	TierText = 1
	// TierBrand: every term matches the name or the brand.
	TierBrand = 2
	// TierName: every term matches the name.
	TierName = 3
	// TierExact: the whole query is one of the product's variants' SKUs (any case) or barcodes.
	TierExact = 4
)

// ExactCode returns the query as a SKU or barcode to look up for TierExact, and false when it
// can be neither (no store lookup is needed then).
func ExactCode(q string) (string, bool) {
	q = strings.TrimSpace(q)
	if ValidSKU(q) || GTINProblem(q) == "" {
		return q, true
	}
	return "", false
}

// relevanceProblem is the rule behind SortRelevance's 400: it ranks the matches of q, and a
// collection keeps its own order.
func (q ListQuery) relevanceProblem() (field, problem string) {
	if q.Sort != SortRelevance {
		return "", ""
	}
	if strings.TrimSpace(q.Filter.Query) == "" {
		return "sort", "relevance ranks the matches of q: give q, or another sort"
	}
	if q.Filter.Collection != "" {
		return "sort", "relevance is not available within a collection: use position, newest, oldest, name, -name, price or -price"
	}
	return "", ""
}

// NextRelevanceCursor returns the cursor that continues q (sorted by SortRelevance) after the
// product with the given ID and tier.
func (q ListQuery) NextRelevanceCursor(id string, tier int) *Cursor {
	return &Cursor{Sort: q.Sort, Tier: tier, ID: id, fingerprint: q.Filter.fingerprint(q.Sort)}
}

// DefaultSort is the order of a list that names none: a collection's own order, relevance when
// there is a query, newest first otherwise.
func DefaultSort(f ProductFilter) Sort {
	switch {
	case f.Collection != "":
		return SortPosition
	case strings.TrimSpace(f.Query) != "":
		return SortRelevance
	}
	return SortNewest
}
