package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
)

// An attribute filter ("colour=red") matches a product whose own attributes hold the value or
// one of whose variants' do. Left to the planner, the condition "p.attributes @? path OR EXISTS
// (variant whose attributes @? path)" was read by hashing every matching variant (a bitmap scan
// of variants_attributes and a heap page per match) before the walk in sort order: pages read
// grew with the matches, 9,450 for colour=red under newest at 100,000 products, and the plan
// flipped at 1M (docs/performance.md, "Scale"). The cheap plan depends on how many products
// match, as for a category (categoryset.go):
//
//   - a common value is checked on each row walked in sort order (about (page+1) / share
//     rows, each its heap page and, when the product's own attributes do not hold the value, a
//     probe of its variants), written so that no index can collect the matches first
//     (attrWalked);
//   - a rare value's product IDs are collected through the GIN indexes products_attributes
//     and variants_attributes, a heap page per match, into a hash that each walked row is
//     checked against (attrCollected); the walk of IDs then reads the sort order's index
//     alone, without the heap, until the page is full (listSQL's "top").
//
//   - between the two, a value common on products but rare on variants (or held by products
//     only: waterproof, material) is checked per walked row on the product and against a hash
//     of the few matching variants' product IDs (attrVariantsHashed), which spares each walked
//     row the probe of its variants.
//
// The store chooses per filter by the planner's estimates of the matching products and
// variants (ANALYZE samples the attributes objects whole, so a value in more than about 1% of
// rows is seen; a rarer one is estimated at a handful and collected, which is right), against
// attrSetBound, and keeps the choice for the statistics' TTL as it keeps search plans.
//
// A number filter is always walked: a jsonpath comparison (@ >= 2) cannot use the GIN index,
// so collecting its matches would read the whole table. A rare number range therefore reads
// pages in proportion to the catalog (watched in the scale series); an expression index per
// numeric attribute would fix it (docs/adr/0021).

// attrCheck is how a page checks one attribute filter.
type attrCheck int

const (
	attrWalk         attrCheck = iota // per walked row, the product and its variants (attrWalked)
	attrHashVariants                  // per walked row the product, its variants against a hash
	attrCollect                       // against a hash of every match (attrCollected)
)

// attrSetBound is the number of matching rows (products and variants) up to which collecting
// them reads fewer pages than walking the sort order: matches × 1 = (limit+1) × rows / matches
// × walkedRowPages. 9,165 at 1M products, 2,898 at 100,000.
func attrSetBound(limit int, rows float64) int {
	return int(math.Sqrt(float64(limit+1) * walkedRowPages * rows))
}

// collectable reports whether f's matches can be read through the GIN indexes: equality on a
// value (enum, text, boolean). A number filter compares, and GIN cannot answer a comparison.
func collectable(f catalog.AttributeFilter) bool {
	return f.Type != catalog.AttrNumber && len(f.Values) > 0
}

// attrEstimateSQL asks the planner how many products and how many variants match the
// jsonpath $1; it runs in the simple protocol, so the path reaches the planner as a literal it
// can estimate.
const attrEstimateSQL = `EXPLAIN (FORMAT JSON) SELECT 1 FROM products WHERE attributes @? $1::jsonpath
	UNION ALL SELECT 1 FROM variants WHERE attributes @? $1::jsonpath`

// attrChecks says how a page of q checks each of its attribute filters (see above).
func (s *Store) attrChecks(ctx context.Context, db querier, q catalog.ListQuery) ([]attrCheck, error) {
	if len(q.Filter.Attributes) == 0 {
		return nil, nil
	}
	checks := make([]attrCheck, len(q.Filter.Attributes))
	var bound int
	for i, f := range q.Filter.Attributes {
		if !collectable(f) {
			continue
		}
		if bound == 0 {
			stats, err := s.searchStatistics(ctx, db, "products", "search")
			if err != nil || stats.rows <= 0 {
				return checks, err // never analyzed: walk
			}
			bound = attrSetBound(q.Limit, stats.rows)
		}
		path := attrPath(f)
		all := choiceKey{column: "attributes", tsquery: path, limit: bound}
		variants := choiceKey{column: "variants.attributes", tsquery: path, limit: bound}
		c, ok := s.cachedChoice(ctx, all)
		cv, okv := s.cachedChoice(ctx, variants)
		if !ok || !okv {
			products, vs, err := attrEstimate(ctx, db, path)
			if err != nil {
				return nil, err
			}
			c.rare, cv.rare = products+vs <= float64(bound), vs <= float64(bound)
			s.keepChoice(all, termsChoice{rare: c.rare})
			s.keepChoice(variants, termsChoice{rare: cv.rare})
		}
		switch {
		case c.rare:
			checks[i] = attrCollect
		case cv.rare && q.Sort != catalog.SortPrice && q.Sort != catalog.SortPriceDesc:
			// Not in a price walk: the condition joins the price row's product, and the
			// planner, pricing the hash as cheap, split the walk among parallel workers, each
			// filling its own page (1,476 pages for waterproof=true at 100k, 844 walked).
			checks[i] = attrHashVariants
		}
	}
	return checks, nil
}

// attrEstimate is the planner's estimate of the products and of the variants whose attributes
// match path.
func attrEstimate(ctx context.Context, db querier, path string) (products, variants float64, err error) {
	var raw []byte
	if err := db.QueryRow(ctx, attrEstimateSQL, pgx.QueryExecModeSimpleProtocol, path).Scan(&raw); err != nil {
		return 0, 0, fmt.Errorf("estimate attribute matches: %w", err)
	}
	type node struct {
		Rows  float64 `json:"Plan Rows"`
		Plans []node  `json:"Plans"`
	}
	var out []struct {
		Plan node `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 || len(out[0].Plan.Plans) != 2 {
		return 0, 0, fmt.Errorf("estimate attribute matches: unexpected EXPLAIN output (%v): %s", err, raw)
	}
	return out[0].Plan.Plans[0].Rows, out[0].Plan.Plans[1].Rows, nil
}

// attrWalked is the condition "the product (alias p) or one of its variants matches path",
// checked per row: jsonb_path_exists is the function form of @?, no index condition, and the
// OFFSET 0 keeps PostgreSQL from turning the EXISTS into a hash of every matching variant.
func attrWalked(path string) string {
	return "(jsonb_path_exists(p.attributes, " + path + ") OR EXISTS (SELECT 1 FROM variants av WHERE av.product_id = p.id AND jsonb_path_exists(av.attributes, " + path + ") OFFSET 0))"
}

// attrVariantsHashed is attrWalked with the variants' side read once into a hash of the
// matching variants' product IDs (written as attrCollected is).
func attrVariantsHashed(id, path string) string {
	return "(jsonb_path_exists(p.attributes, " + path + ") OR NOT (" + id + " NOT IN (SELECT av.product_id FROM variants av WHERE av.attributes @? " + path + ")))"
}

// attrCollected is the condition "id is one of the products matching path", written as
// categoryInHash is so that PostgreSQL 15 hashes the matching IDs once (a hashed SubPlan) and
// checks each walked row against them: as IN (subquery) it would be planned as a semi-join.
// Both subqueries read through their GIN index; IDs are never NULL, so NOT ... NOT IN is IN.
func attrCollected(id, path string) string {
	return "NOT (" + id + " NOT IN (SELECT ap.id FROM products ap WHERE ap.attributes @? " + path +
		" UNION ALL SELECT av.product_id FROM variants av WHERE av.attributes @? " + path + "))"
}
