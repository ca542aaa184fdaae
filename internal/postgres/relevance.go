package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// Relevance (ADR 0021) ranks by tier, then ID, both descending. The tiers nest (a name match is
// a name-or-brand match is a match), so tier t is "matches at t, not at t+1". Migration 0009
// gives the two upper tiers columns of their own, name_search and label_search (name and
// brand), each with a GIN index and its own statistics.

// searchPlanKey, in a context, overrides the store's choice of search plan with a forcedPlan:
// tests run every plan over one catalog and compare their pages.
type searchPlanKey struct{}

type forcedPlan struct {
	rare       bool // fetch every match
	fetchTiers bool // with rare false: fetch the name and name-or-brand tiers, walk the rest
}

// relevancePlan is how relevanceSQL reads a page: every match fetched and ranked (rare), or
// the tiers in order, each walked in ID order or, when its own matches are few, fetched
// through its column's index (fetchName: the name tier; fetchLabel: the name-or-brand tier).
type relevancePlan struct {
	rare, fetchName, fetchLabel bool
	anchor                      string // with rare: termsChoice.anchor
}

// tierPlan chooses, for common terms, how each of the two upper tiers is read: a tier whose
// column matches few products (a word common in descriptions but in no name) is fetched
// through that column's index rather than walked, since a walk would read the whole table to
// find it empty. The choice is rareTerms' on the column's own statistics and bounded counts.
func (s *Store) tierPlan(ctx context.Context, db querier, q catalog.ListQuery, terms []string, lexemes *[][]string) (plan relevancePlan, counts []countRun, err error) {
	for _, t := range []struct {
		tier   int
		column string
		fetch  *bool
	}{{catalog.TierName, "name_search", &plan.fetchName}, {catalog.TierBrand, "label_search", &plan.fetchLabel}} {
		if q.After != nil && q.After.Tier < t.tier {
			continue // the page starts below this tier
		}
		if t.tier == catalog.TierBrand && q.After == nil && !plan.fetchName {
			// Name or brand matches include the name matches: more than the balance too, so
			// walked, without counting them again.
			continue
		}
		choice, err := s.rareTermsIn(ctx, db, t.column, columnCountSQL(t.column), terms, q.Limit, "id", lexemes, false)
		if err != nil {
			return plan, nil, err
		}
		*t.fetch = choice.rare
		counts = append(counts, choice.counts...)
	}
	return plan, counts, nil
}

// exactIDs returns the subquery of the products with a variant whose SKU (any case) or barcode
// is the whole query, or "" when the query can be neither. variants_sku and variants_barcode
// answer it.
func exactIDs(b *sqlBuilder, query string) string {
	code, ok := catalog.ExactCode(query)
	if !ok {
		return ""
	}
	a := b.arg(code)
	return `SELECT product_id FROM variants WHERE lower(sku) = lower(` + a + `) OR barcode = ` + a
}

// exactMatch is the search condition's alternative for an exact SKU or barcode: " OR ..." to
// append, or "", and the subquery of those products' IDs (exactIDs).
func exactMatch(b *sqlBuilder, query string) (cond, ids string) {
	if ids = exactIDs(b, query); ids != "" {
		return " OR " + idsIn("p.id", ids), ids
	}
	return "", ""
}

// idsIn is the condition "col is one of the IDs subquery returns", written so that it is a
// primary-key probe per ID whatever the planner guesses: the subquery runs once into an array
// and "= ANY (array)" is an index condition. As "id IN (subquery)" the planner may hash the IDs
// and walk the whole primary key to probe the hash, and it did when its estimate for an SKU's
// words was 5% of the variants (a prefix term it had no statistics for): one product's SKU read
// 8,045 pages at 60,000 products, the whole table.
func idsIn(col, subquery string) string {
	return col + " = ANY (ARRAY(" + subquery + "))"
}

// variantProducts is the condition on products' id: a variant matches the tsquery condition
// match (on the variants' search column), or, when ids (exactIDs) is given, is the exact code.
func variantProducts(match, ids string) string {
	sub := "SELECT product_id FROM variants WHERE " + match
	if ids != "" {
		sub += " UNION " + ids
	}
	return idsIn("id", sub)
}

// relevanceSQL builds the page and count statements of q sorted by relevance.
//
// The common plan: one part per tier, appended in tier order under one LIMIT. PostgreSQL's
// Append runs its branches in order and the LIMIT stops it, so a page reads the tiers that fill
// it and no more. A part walks the primary key in ID order checking each row (about
// page/selectivity rows, whatever the catalog size) or, for a tier with few matches, fetches
// them through its column's index and sorts them. A cursor (tier, ID) drops the tiers above
// it and bounds its own tier's part.
//
// The rare plan: every match comes through the full-text indexes into a materialized CTE (as
// in listSQL), is given its tier and sorted; there are at most √(page × catalog size) of them.
func relevanceSQL(q catalog.ListQuery, terms []string, plan relevancePlan) (query string, args []any, count string, countArgs []any) {
	var b sqlBuilder
	with := ""
	if q.Filter.Category != "" {
		with = "WITH " + categorySubtree(b.arg(q.Filter.Category)) + ", "
	} else {
		with = "WITH "
	}
	priceJoin := ""
	if q.Filter.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(q.Filter.Currency)
	}
	if q.Filter.Category != "" {
		b.where = append(b.where, categoryWalked)
	}
	// The tiers walk the ID order (or the few matches fetched): attribute filters are checked
	// on each row (attrset.go), never by hashing every matching variant first.
	b.walked = true
	b.filter(q.Filter)
	tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
	idx := searchMatch(&b, tsq, plan.anchor) // the rare fetch's condition on a search column
	exact, codeIDs := "", exactIDs(&b, q.Filter.Query)
	if codeIDs != "" {
		exact = idsIn("p.id", codeIDs)
	}
	or := func(conds ...string) string {
		var out []string
		for _, c := range conds {
			if c != "" {
				out = append(out, c)
			}
		}
		return "(" + strings.Join(out, " OR ") + ")"
	}
	filters := append([]string(nil), b.where...)
	count = strings.TrimSuffix(strings.TrimSuffix(with, ", "), "WITH ") + ` SELECT count(*) FROM products p` + priceJoin +
		whereOf(append(filters, or("p.search @@ "+tsq, skuMatch(tsq), exact)))
	countArgs = append([]any(nil), b.args...)

	// The limit stays a parameter, unlike listSQL's: a relevance page is planned every
	// execution whatever the limit, as its costs hang on the tsquery parameter, which a
	// generic plan cannot see (12 pages of three searches at 100k: 12 custom plans each, with
	// LIMIT $n and with the number written in). A literal would only multiply the statements.
	limit := b.arg(q.Limit + 1)
	after, afterTier := "", catalog.TierExact
	if c := q.After; c != nil {
		after, afterTier = b.arg(c.ID)+"::uuid", c.Tier
	}
	if plan.rare {
		const cols = `id, name_key, created_at, status, brand, category, attributes, name_search, label_search`
		tier := "CASE WHEN p.name_search @@ " + tsq + " THEN 3 WHEN p.label_search @@ " + tsq + " THEN 2 ELSE 1 END"
		if exact != "" {
			tier = "CASE WHEN " + exact + " THEN 4 ELSE " + tier + " END"
		}
		keyset := ""
		if after != "" {
			keyset = " WHERE (tier, id) < (" + strconv.Itoa(afterTier) + ", " + after + ")"
		}
		// One branch per way of matching, each through its own index, as in listSQL; the
		// products a variant matches are probed by primary key (idsIn).
		query = with + `matches AS MATERIALIZED (
			SELECT ` + cols + ` FROM products WHERE ` + idx + `
			UNION
			SELECT ` + cols + ` FROM products WHERE ` + variantProducts(idx, codeIDs) + `),
		ranked AS (SELECT p.id, ` + tier + ` AS tier FROM matches p` + priceJoin + whereOf(filters) + `),
		page AS (SELECT id, tier FROM ranked` + keyset + ` ORDER BY tier DESC, id DESC LIMIT ` + limit + `)
		SELECT ` + listColumns + `, r.tier FROM page r JOIN products p ON p.id = r.id
		ORDER BY r.tier DESC, r.id DESC`
		return query, b.args, count, countArgs
	}

	notExact := ""
	if exact != "" {
		notExact = " AND NOT " + exact
	}
	tiers := []struct {
		tier   int
		cond   string
		column string // fetched through this column's index, when set
	}{
		{catalog.TierExact, exact, ""},
		{catalog.TierName, "ts_match_vq(p.name_search, " + tsq + ")" + notExact, "name_search"},
		{catalog.TierBrand, "ts_match_vq(p.label_search, " + tsq + ") AND NOT ts_match_vq(p.name_search, " + tsq + ")" + notExact, "label_search"},
		{catalog.TierText, or("ts_match_vq(p.search, "+tsq+")", skuMatch(tsq)) + " AND NOT ts_match_vq(p.label_search, " + tsq + ")" + notExact, ""},
	}
	if !plan.fetchName {
		tiers[1].column = ""
	}
	if !plan.fetchLabel {
		tiers[2].column = ""
	}
	var parts []string
	for _, t := range tiers {
		if t.tier > afterTier || (t.tier == catalog.TierExact && exact == "") {
			continue
		}
		where := append(append([]string(nil), filters...), t.cond)
		if after != "" && t.tier == afterTier {
			where = append(where, "p.id < "+after)
		}
		from := ` FROM products p`
		if t.column != "" {
			// A materialized CTE, so that only its index can find the tier's rows, with the
			// columns the filters and the tier conditions read: no second lookup per row.
			cte := "tier" + strconv.Itoa(t.tier)
			with += cte + ` AS MATERIALIZED (SELECT id, status, brand, category, attributes, name_search, label_search
				FROM products WHERE ` + t.column + ` @@ ` + tsq + `), `
			from = ` FROM ` + cte + ` p`
		}
		parts = append(parts, `(SELECT `+strconv.Itoa(t.tier)+` AS tier, p.id`+from+priceJoin+whereOf(where)+
			` ORDER BY p.id DESC LIMIT `+limit+`)`)
	}
	query = with + `ranked AS (SELECT * FROM (` + strings.Join(parts, "\n\t\tUNION ALL ") + `) tiers
			LIMIT ` + limit + `)
		SELECT ` + listColumns + `, r.tier FROM ranked r JOIN products p ON p.id = r.id
		ORDER BY r.tier DESC, r.id DESC`
	return query, b.args, count, countArgs
}

func whereOf(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
