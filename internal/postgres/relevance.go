package postgres

import (
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/catalog"
)

// Relevance (ADR 0021) ranks by tier, then ID, both descending. The tiers nest (a name match is
// a name-or-brand match is a match), so tier t is "matches at t, not at t+1". The weights of the
// search column (migration 0006: name A, brand B, description C) tell them apart: 'blue':A
// matches blue in the name only, 'blue':AB in the name or the brand.

// searchPlanKey, in a context, overrides the store's choice of search plan (true: rare, fetch
// every match): tests run both plans over one catalog and compare their pages.
type searchPlanKey struct{}

// weightedTSQuery is tsQuery with every term restricted to the given weights.
func weightedTSQuery(terms []string, weights string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString("'")
		b.WriteString(strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(t))
		b.WriteString("':")
		if i == len(terms)-1 {
			b.WriteString("*")
		}
		b.WriteString(weights)
	}
	return b.String()
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
// append, or "".
func exactMatch(b *sqlBuilder, query string) string {
	if ids := exactIDs(b, query); ids != "" {
		return " OR p.id IN (" + ids + ")"
	}
	return ""
}

// exactUnion adds the exact matches to a rare search's matches CTE.
func exactUnion(exact, cols string) string {
	if exact == "" {
		return ""
	}
	return `
			UNION
			SELECT ` + cols + ` FROM products p WHERE ` + strings.TrimPrefix(exact, " OR ")
}

// relevanceSQL builds the page and count statements of q sorted by relevance.
//
// Common terms: one index walk per tier, in ID order, each stopping at the page size, appended
// in tier order under one LIMIT: PostgreSQL's Append runs its branches in order and the LIMIT
// stops it, so a page reads about page/selectivity rows of the first tier that fills it, never
// every match. A cursor (tier, ID) drops the tiers above it and bounds its own tier's walk.
//
// Rare terms: every match comes through the full-text indexes into a materialized CTE (as in
// listSQL), is given its tier and sorted; there are at most √(page × catalog size) of them.
func relevanceSQL(q catalog.ListQuery, terms []string, rare bool) (query string, args []any, count string, countArgs []any) {
	var b sqlBuilder
	with := ""
	if q.Filter.Category != "" {
		with = `WITH RECURSIVE subtree (slug) AS (
			SELECT slug FROM categories WHERE slug = ` + b.arg(q.Filter.Category) + `
			UNION ALL SELECT c.slug FROM categories c JOIN subtree t ON c.parent = t.slug), `
	} else {
		with = "WITH "
	}
	priceJoin := ""
	if q.Filter.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(q.Filter.Currency)
	}
	if q.Filter.Category != "" {
		b.where = append(b.where, "p.category IN (SELECT slug FROM subtree)")
	}
	b.filter(q.Filter)
	tsq := "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
	exact := ""
	if ids := exactIDs(&b, q.Filter.Query); ids != "" {
		exact = "p.id IN (" + ids + ")"
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
	// Arguments the count does not use come after its own: PostgreSQL refuses a parameter
	// it cannot type.
	// The weighted queries are added only by what uses them, for the same reason: the walk
	// below the name tier does not.
	lazy := func(weights string) func() string {
		sql := ""
		return func() string {
			if sql == "" {
				sql = "to_tsquery('" + searchConfig + "', " + b.arg(weightedTSQuery(terms, weights)) + ")"
			}
			return sql
		}
	}
	nameQ, labelQ := lazy("A"), lazy("AB")

	limit := b.arg(q.Limit + 1)
	after, afterTier := "", catalog.TierExact
	if c := q.After; c != nil {
		after, afterTier = b.arg(c.ID)+"::uuid", c.Tier
	}
	if rare {
		const cols = `id, name_key, created_at, status, brand, category, attributes, search`
		tier := "CASE WHEN p.search @@ " + nameQ() + " THEN 3 WHEN p.search @@ " + labelQ() + " THEN 2 ELSE 1 END"
		if exact != "" {
			tier = "CASE WHEN " + exact + " THEN 4 ELSE " + tier + " END"
		}
		keyset := ""
		if after != "" {
			keyset = " WHERE (tier, id) < (" + strconv.Itoa(afterTier) + ", " + after + ")"
		}
		exactIn := ""
		if exact != "" {
			exactIn = " UNION " + strings.TrimSuffix(strings.TrimPrefix(exact, "p.id IN ("), ")")
		}
		query = with + `matches AS MATERIALIZED (
			SELECT ` + cols + ` FROM products WHERE id IN (
				SELECT id FROM products WHERE search @@ ` + tsq + `
				UNION SELECT product_id FROM variants WHERE search @@ ` + tsq + exactIn + `)),
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
		tier int
		cond func() string
	}{
		{catalog.TierExact, func() string { return exact }},
		{catalog.TierName, func() string { return "ts_match_vq(p.search, " + nameQ() + ")" + notExact }},
		{catalog.TierBrand, func() string {
			return "ts_match_vq(p.search, " + labelQ() + ") AND NOT ts_match_vq(p.search, " + nameQ() + ")" + notExact
		}},
		{catalog.TierText, func() string {
			return or("ts_match_vq(p.search, "+tsq+")", skuMatch(tsq)) + " AND NOT ts_match_vq(p.search, " + labelQ() + ")" + notExact
		}},
	}
	var parts []string
	for _, t := range tiers {
		if t.tier > afterTier || (t.tier == catalog.TierExact && exact == "") {
			continue
		}
		where := append(append([]string(nil), filters...), t.cond())
		if after != "" && t.tier == afterTier {
			where = append(where, "p.id < "+after)
		}
		parts = append(parts, `(SELECT `+strconv.Itoa(t.tier)+` AS tier, p.id FROM products p`+priceJoin+whereOf(where)+
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
