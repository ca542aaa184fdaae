package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/catalog"
)

// ListProducts returns one page in keyset order: the cursor's sort key and ID bound an index
// scan, so deep pages cost what the first page costs and concurrent inserts neither repeat nor
// skip rows.
func (s *Store) ListProducts(ctx context.Context, q catalog.ListQuery) (catalog.ProductPage, error) {
	if err := q.Validate(); err != nil {
		return catalog.ProductPage{}, err
	}
	// Collections (issue 15): a collection's list is driven by its membership (collections.go).
	if q.Filter.Collection != "" {
		return s.listCollection(ctx, q)
	}
	if page, ok := q.EmptySearch(); ok {
		return page, s.categoryExists(ctx, q.Filter.Category)
	}
	var page catalog.ProductPage
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		st, err := s.listStatements(ctx, c, q)
		if err != nil {
			return err
		}
		return s.listPage(ctx, c, &page, q, st)
	})
	if err == nil && len(page.Items) == 0 {
		return page, s.categoryExists(ctx, q.Filter.Category)
	}
	return page, err
}

// categoryExists tells an unknown category from an empty one; lists ask only when a page came
// back empty, so a filled page costs nothing more.
func (s *Store) categoryExists(ctx context.Context, slug string) error {
	if slug == "" {
		return nil
	}
	var exists bool
	err := s.read(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM categories WHERE slug = $1)`, slug).Scan(&exists)
	})
	if err == nil && !exists {
		return catalog.UnknownCategory(slug)
	}
	return err
}

// listStatements is what a page of q takes: its query, the query counting the total, and the
// counts the search plan choice ran.
type listStatements struct {
	query, count    string
	args, countArgs []any
	counts          []countRun
	// rare: the page query fetches every match through the full-text index (see listSQL).
	rare bool
	// relevance: each row ends with its relevance tier (relevanceSQL).
	relevance bool
}

// forceSearchIndex keeps a rare search on the full-text index. The planner prices a prefix
// match through a GIN index as a read of much of the index, the whole of it while the index
// has no statistics (after a bulk load, until VACUUM), and would scan the table instead.
const forceSearchIndex = `SET LOCAL enable_seqscan = off`

// listStatements chooses the search plan for q's terms, if any, and builds its statements.
func (s *Store) listStatements(ctx context.Context, db querier, q catalog.ListQuery) (listStatements, error) {
	var st listStatements
	terms := catalog.SearchTerms(q.Filter.Query)
	var choice termsChoice
	var lexemes [][]string // looked up once, for every column's plan choice
	if len(terms) > 0 {
		var err error
		if choice, err = s.rareTerms(ctx, db, terms, q.Limit, walkColumn(q.Sort), &lexemes); err != nil {
			return st, err
		}
		st.counts = choice.counts
	}
	forced, isForced := ctx.Value(searchPlanKey{}).(forcedPlan)
	if isForced {
		choice.rare = forced.rare
		if !forced.rare {
			choice.anchor = ""
		}
	}
	if q.Sort == catalog.SortRelevance {
		plan := relevancePlan{rare: choice.rare, anchor: choice.anchor}
		if !choice.rare && !isForced {
			tiers, counts, err := s.tierPlan(ctx, db, q, terms, &lexemes)
			if err != nil {
				return st, err
			}
			plan.fetchName, plan.fetchLabel = tiers.fetchName, tiers.fetchLabel
			st.counts = append(st.counts, counts...)
		}
		if isForced && !choice.rare {
			plan.fetchName, plan.fetchLabel = forced.fetchTiers, forced.fetchTiers
		}
		st.query, st.args, st.count, st.countArgs = relevanceSQL(q, terms, plan)
		// Fetching through a full-text index needs forceSearchIndex, as a rare search does.
		st.rare, st.relevance = plan.rare || plan.fetchName || plan.fetchLabel, true
		return st, nil
	}
	rare := choice.rare
	hashed := false
	if !rare {
		var counts []countRun
		var err error
		if hashed, counts, err = s.hashCategory(ctx, db, q); err != nil {
			return st, err
		}
		st.counts = append(st.counts, counts...)
	}
	var attrs []attrCheck
	if !rare {
		var err error
		if attrs, err = s.attrChecks(ctx, db, q); err != nil {
			return st, err
		}
	}
	st.query, st.args, st.count, st.countArgs = listSQL(q, terms, rare, choice.anchor, hashed, attrs...)
	st.rare = rare
	return st, nil
}

// listPage reads one page, and the total when asked, from one snapshot: a page alone is one
// statement on the pool; a page with its total is two statements in a read-only repeatable-read
// transaction, whose BEGIN and COMMIT are round trips only that case pays for.
func (s *Store) listPage(ctx context.Context, c *pgxpool.Conn, page *catalog.ProductPage, q catalog.ListQuery, st listStatements) error {
	read := func(db querier) error {
		rows, err := db.Query(ctx, st.query, st.args...)
		if err != nil {
			return err
		}
		var tiers []int
		page.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (catalog.Product, error) {
			if !st.relevance {
				return scanListItem(r)
			}
			var tier int
			p, err := scanListItem(r, &tier)
			tiers = append(tiers, tier)
			return p, err
		})
		if err != nil {
			return err
		}
		if len(page.Items) > q.Limit {
			page.Items = page.Items[:q.Limit]
			if st.relevance {
				page.Next = q.NextRelevanceCursor(page.Items[q.Limit-1].ID, tiers[q.Limit-1])
			} else {
				page.Next = q.NextCursor(page.Items[q.Limit-1])
			}
		}
		return nil
	}
	if !q.WithTotal && st.rare {
		return read(onIndexes(c)) // forceSearchIndex in the page's own round trip
	}
	if !q.WithTotal {
		return read(c)
	}
	opts := pgx.TxOptions{AccessMode: pgx.ReadOnly}
	if q.WithTotal {
		opts.IsoLevel = pgx.RepeatableRead
	}
	return pgx.BeginTxFunc(ctx, c, opts, func(tx pgx.Tx) error {
		if st.rare {
			if _, err := tx.Exec(ctx, forceSearchIndex); err != nil {
				return err
			}
		}
		if err := read(tx); err != nil {
			return err
		}
		if !q.WithTotal {
			return nil
		}
		var n int64
		if err := tx.QueryRow(ctx, st.count, st.countArgs...).Scan(&n); err != nil {
			return err
		}
		page.Total = &n
		return nil
	})
}

// listSQL builds the page query for q, and the count query for its total: a keyset condition
// on (sort column, id) after the cursor, and ORDER BY the same pair, which an index serves.
//
// With rare search terms (see rareTerms) the matches are fetched first through the full-text
// index, with the columns the filters and the sort need, into a materialized CTE that stands
// in for the products table (alias p), so no other index can be chosen to find them; they
// are filtered and sorted there, and only the page's rows are then read in full.
//
// With hashCategory (categoryset.go) the category is checked on the walked price rows
// against a hash of its products' IDs.
//
// Attribute filter i is checked as attrs[i] says (attrset.go; walked when absent). When one is
// collected, the walk finds the page's IDs in the sort order's index first ("top", read from
// the index alone when the other conditions are on its columns) and reads only those products
// in full. With rare search terms they are checked on the matches.
func listSQL(q catalog.ListQuery, terms []string, rare bool, anchor string, hashCategory bool, attrs ...attrCheck) (query string, args []any, count string, countArgs []any) {
	var b sqlBuilder
	col, dir, cmp := orderOf(q.Sort)
	// Price orders walk product_prices_sort (currency, min_amount, product_id): the keyset
	// names its columns so the cursor bounds that index scan.
	idCol := "p.id"
	if q.Sort == catalog.SortPrice || q.Sort == catalog.SortPriceDesc {
		idCol = "pp.product_id"
	}
	collected := false
	b.walked, b.walkID = true, idCol
	if !rare || len(terms) == 0 {
		b.attrChecks = attrs
		for i := range q.Filter.Attributes {
			collected = collected || i < len(attrs) && attrs[i] == attrCollect
		}
	}
	with := ""
	if q.Filter.Category != "" {
		with = "WITH " + categorySubtree(b.arg(q.Filter.Category)) + " "
		if hashCategory {
			b.where = append(b.where, categoryInHash)
		} else {
			b.where = append(b.where, categoryWalked)
		}
	}
	// A currency joins the product's price summary in it: products without a price in that
	// currency drop out, and its lowest price is what price sorts and ranges use.
	priceJoin := ""
	if q.Filter.Currency != "" {
		priceJoin = ` JOIN product_prices pp ON pp.product_id = p.id AND pp.currency = ` + b.arg(q.Filter.Currency)
	}
	b.filter(q.Filter)
	match, tsq := "", ""
	exact, codeIDs := "", ""
	if len(terms) > 0 {
		tsq = "to_tsquery('" + searchConfig + "', " + b.arg(tsQuery(terms)) + ")"
		match = searchMatch(&b, tsq, anchor)
		exact, codeIDs = exactMatch(&b, q.Filter.Query)
		b.where = append(b.where, "(p."+match+" OR "+skuMatch(tsq)+exact+")")
	}
	count = with + `SELECT count(*) FROM products p` + priceJoin + b.whereSQL()
	countArgs = append([]any(nil), b.args...)
	rare = rare && match != ""
	switch {
	case rare:
		b.where = b.where[:len(b.where)-1] // the matches CTE applies the search
	case match != "":
		// Common terms: the page comes from walking the sort order and checking each row. The
		// function form of @@ is no index condition, so the planner cannot second-guess the
		// store's choice with its estimate for a prefix, which knows no upper bound either.
		b.where[len(b.where)-1] = "(ts_match_vq(p.search, " + tsq + ") OR " + skuMatch(tsq) + exact + ")"
	}

	if c := q.After; c != nil {
		b.where = append(b.where, "("+col+", "+idCol+") "+cmp+" ("+b.arg(cursorKey(c))+", "+b.arg(c.ID)+"::uuid)")
	}
	// The limit is written into the statement, not passed: with LIMIT $n the planner prices a
	// generic plan for a tenth of the table, so PostgreSQL planned every page afresh (0.5-0.9
	// ms of planning a page at 100k, pg_stat_statements plans = calls); with the number, the
	// generic plan costs what a custom one does and is kept after five executions. q.Limit is
	// validated (1 to catalog.MaxLimit): at most that many statements per shape.
	limit := strconv.Itoa(q.Limit + 1)
	if with == "" {
		with = "WITH "
	} else {
		with += ", "
	}
	if !rare && collected {
		query = with + `top AS MATERIALIZED (SELECT ` + idCol + ` AS id, ` + col + ` AS k FROM products p` + priceJoin + b.whereSQL() +
			` ORDER BY ` + col + ` ` + dir + `, ` + idCol + ` ` + dir + ` LIMIT ` + limit + `),
		page AS MATERIALIZED (SELECT ` + pageColumns(q) + `, top.k FROM top JOIN products p ON p.id = top.id)` + pageFigures + ` ORDER BY p.k ` + dir + `, p.id ` + dir
		return query, b.args, count, countArgs
	}
	if !rare {
		query = with + `page AS MATERIALIZED (SELECT ` + pageColumns(q) + `, ` + col + ` AS k FROM products p` + priceJoin + b.whereSQL() +
			` ORDER BY ` + col + ` ` + dir + `, ` + idCol + ` ` + dir + ` LIMIT ` + limit + `)` + pageFigures + ` ORDER BY p.k ` + dir + `, p.id ` + dir
		return query, b.args, count, countArgs
	}
	const cols = `id, name_key, created_at, status, brand, category, attributes`
	query = with + `matches AS MATERIALIZED (
			SELECT ` + cols + ` FROM products WHERE ` + match + `
			UNION
			SELECT ` + cols + ` FROM products WHERE ` + variantProducts(match, codeIDs) + `),
		top AS (SELECT p.id, ` + col + ` AS k FROM matches p` + priceJoin + b.whereSQL() + ` ORDER BY ` + col + ` ` + dir + `, ` + idCol + ` ` + dir + ` LIMIT ` + limit + `)
		SELECT ` + itemColumns(q) + ` FROM top JOIN products p ON p.id = top.id
		ORDER BY top.k ` + dir + `, top.id ` + dir
	return query, b.args, count, countArgs
}

// skuMatch is the search condition on a product's variants' SKUs.
func skuMatch(tsq string) string {
	return "EXISTS (SELECT 1 FROM variants sv WHERE sv.product_id = p.id AND sv.search @@ " + tsq + ")"
}

// listColumns are a list item: the product's own fields, then its variant count, available
// units and stock version summed over its variants' inventory, and its price ranges (as
// "currency min max" text, which costs less to build and read than JSON objects). The
// subqueries run for the page's rows only.
const listColumns = productColumns + listFigures

// summaryColumns are listColumns for a catalog.ListQuery.Summary page: the same columns, the
// description left empty and media cut to its first image, so neither is sent nor decoded.
const summaryColumns = `p.id::text, p.name, '', p.category, p.brand, p.attributes, jsonb_path_query_array(p.media, '$[0]'),
	p.options, p.status, p.version, p.created_at, p.updated_at` + listFigures

const listFigures = `,
	p.variant_count,
	(SELECT ARRAY[coalesce(sum(greatest(i.on_hand - i.reserved, 0)), 0), coalesce(sum(i.version), 0)]::bigint[]
		FROM inventory i WHERE i.product_id = p.id),
	ARRAY(SELECT r.currency || ' ' || r.min_amount || ' ' || r.max_amount FROM product_prices r WHERE r.product_id = p.id ORDER BY r.currency)`

// pageColumns are a page's rows in listSQL's page CTE (alias p), in listColumns' order up to
// the variant count: the figures after it are pageFigures'.
func pageColumns(q catalog.ListQuery) string {
	if q.Summary {
		return `p.id, p.name, '' AS description, p.category, p.brand, p.attributes, jsonb_path_query_array(p.media, '$[0]') AS media,
	p.options, p.status, p.version, p.created_at, p.updated_at, p.variant_count`
	}
	return `p.id, p.name, p.description, p.category, p.brand, p.attributes, p.media, p.options,
	p.status, p.version, p.created_at, p.updated_at, p.variant_count`
}

// pageFigures completes listSQL's page CTE (alias p) into listColumns rows: each product's stock
// sums and price ranges for the whole page at once, one index scan of inventory and one of
// product_prices over the page's IDs, where listFigures' subqueries run two index scans per
// row. A page of 21 rows: 630-720 -> 500-515 us of PostgreSQL CPU at 100k, two thirds of it
// those subqueries (docs/performance.md). A product without stock rows or prices gets what
// listFigures gives it: zeros and no ranges.
const pageFigures = `,
	ids AS MATERIALIZED (SELECT array_agg(id) AS a FROM page),
	inv AS (SELECT i.product_id, ARRAY[sum(greatest(i.on_hand - i.reserved, 0)), sum(i.version)]::bigint[] AS s
		FROM inventory i WHERE i.product_id = ANY ((SELECT a FROM ids)::uuid[]) GROUP BY i.product_id),
	pr AS (SELECT r.product_id, array_agg(r.currency || ' ' || r.min_amount || ' ' || r.max_amount ORDER BY r.currency) AS a
		FROM product_prices r WHERE r.product_id = ANY ((SELECT a FROM ids)::uuid[]) GROUP BY r.product_id)
	SELECT p.id::text, p.name, p.description, p.category, p.brand, p.attributes, p.media, p.options,
		p.status, p.version, p.created_at, p.updated_at, p.variant_count,
		coalesce(inv.s, ARRAY[0, 0]::bigint[]), coalesce(pr.a, ARRAY[]::text[])
	FROM page p LEFT JOIN inv ON inv.product_id = p.id LEFT JOIN pr ON pr.product_id = p.id`

// itemColumns are the columns of q's items.
func itemColumns(q catalog.ListQuery) string {
	if q.Summary {
		return summaryColumns
	}
	return listColumns
}

// scanListItem reads a row of listColumns, and any columns after them into extra.
func scanListItem(row pgx.Row, extra ...any) (catalog.Product, error) {
	var (
		p      catalog.Product
		stats  []int64
		ranges []string
	)
	if err := row.Scan(append(scanProductInto(&p, &p.VariantCount, &stats, &ranges), extra...)...); err != nil {
		return p, err
	}
	fixProduct(&p)
	if len(stats) == 2 {
		p.Availability.Available, p.StockVersion = stats[0], stats[1]
	}
	p.Availability.InStock = p.Availability.Available > 0
	p.PriceRanges = make([]catalog.PriceRange, len(ranges))
	for i, r := range ranges {
		cur, amounts, _ := strings.Cut(r, " ")
		lo, hi, _ := strings.Cut(amounts, " ")
		min, err1 := strconv.ParseInt(lo, 10, 64)
		max, err2 := strconv.ParseInt(hi, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return p, fmt.Errorf("price range %q of product %s: %w", r, p.ID, err)
		}
		p.PriceRanges[i] = catalog.PriceRange{Currency: cur, Min: min, Max: max}
	}
	return p, nil
}

// attrPath is the SQL/JSON path that selects a matching value of f in an attributes object:
// numbers compare as numbers, and a value of another type never matches.
func attrPath(f catalog.AttributeFilter) string {
	var conds []string
	lit := func(v any) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return strings.TrimSpace(buf.String())
	}
	switch f.Type {
	case catalog.AttrNumber:
		if f.Min != nil {
			conds = append(conds, "@ >= "+strconv.FormatFloat(*f.Min, 'f', -1, 64))
		}
		if f.Max != nil {
			conds = append(conds, "@ <= "+strconv.FormatFloat(*f.Max, 'f', -1, 64))
		}
		if len(conds) == 0 {
			conds = append(conds, "@.type() == \"number\"")
		}
		return "$." + lit(f.Key) + " ? (" + strings.Join(conds, " && ") + ")"
	case catalog.AttrBoolean:
		for _, v := range f.Values {
			conds = append(conds, "@ == "+strconv.FormatBool(v == "true"))
		}
	default:
		for _, v := range f.Values {
			conds = append(conds, "@ == "+lit(v))
		}
	}
	if len(conds) == 0 {
		conds = append(conds, "false")
	}
	return "$." + lit(f.Key) + " ? (" + strings.Join(conds, " || ") + ")"
}

// sqlBuilder accumulates WHERE conditions and numbered arguments.
type sqlBuilder struct {
	where []string
	args  []any
	// walked: a page walks an order, and filter writes each attribute filter i for it as
	// attrChecks[i] says (attrset.go; attrWalk when absent). Unset, the planner reads
	// attribute filters as it likes (exports and facets read every match anyway).
	walked     bool
	attrChecks []attrCheck
	// walkID is the walked row's product ID column, p.id when empty.
	walkID string
}

func (b *sqlBuilder) idCol() string {
	if b.walkID == "" {
		return "p.id"
	}
	return b.walkID
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) whereSQL() string {
	if len(b.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.where, " AND ")
}

// filter adds the conditions of f other than its search terms.
func (b *sqlBuilder) filter(f catalog.ProductFilter) {
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			statuses[i] = string(st)
		}
		if len(statuses) == 1 {
			b.where = append(b.where, "p.status = "+b.arg(statuses[0]))
		} else {
			b.where = append(b.where, "p.status = ANY ("+b.arg(statuses)+")")
		}
	}
	if f.Brand != "" {
		b.where = append(b.where, "lower(p.brand) = lower("+b.arg(f.Brand)+")")
	}
	if f.MinPrice != nil && f.Currency != "" {
		b.where = append(b.where, "pp.min_amount >= "+b.arg(*f.MinPrice))
	}
	if f.MaxPrice != nil && f.Currency != "" {
		b.where = append(b.where, "pp.min_amount <= "+b.arg(*f.MaxPrice))
	}
	for i, a := range f.Attributes {
		path := b.arg(attrPath(a)) + "::jsonpath"
		check := attrWalk
		if i < len(b.attrChecks) {
			check = b.attrChecks[i]
		}
		switch {
		case !b.walked:
			b.where = append(b.where, "(p.attributes @? "+path+" OR EXISTS (SELECT 1 FROM variants av WHERE av.product_id = p.id AND av.attributes @? "+path+"))")
		case check == attrCollect:
			b.where = append(b.where, attrCollected(b.idCol(), path))
		case check == attrHashVariants:
			b.where = append(b.where, attrVariantsHashed("p.id", path))
		default:
			b.where = append(b.where, attrWalked(path))
		}
	}
	if f.InStock != nil {
		// In stock: any variant has units available.
		inStock := "EXISTS (SELECT 1 FROM inventory si WHERE si.product_id = p.id AND si.on_hand > si.reserved)"
		if *f.InStock {
			b.where = append(b.where, inStock)
		} else {
			b.where = append(b.where, "NOT "+inStock)
		}
	}
}

// orderOf returns the sort column, the direction, and the comparison that selects rows after a
// cursor in that direction.
func orderOf(s catalog.Sort) (col, dir, cmp string) {
	switch s {
	case catalog.SortName, catalog.SortNameDesc:
		col = "p.name_key"
	case catalog.SortPrice, catalog.SortPriceDesc:
		col = "pp.min_amount"
	default:
		col = "p.created_at"
	}
	if s.Descending() {
		return col, "DESC", "<"
	}
	return col, "ASC", ">"
}

func cursorKey(c *catalog.Cursor) any {
	switch c.Sort {
	case catalog.SortName, catalog.SortNameDesc:
		return c.NameKey
	case catalog.SortPrice, catalog.SortPriceDesc:
		return c.Price
	default:
		return c.Created
	}
}
