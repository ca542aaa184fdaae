package postgres

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/catalog/internal/catalog"
)

// A search can be answered two ways. Walking the sort-order index and checking each row reads
// about page/selectivity rows: cheap for common words, the whole table for a word nobody uses.
// Fetching every match through the full-text index and sorting them reads as many rows as
// there are matches: cheap for rare words, a large share of the table for common ones. The
// two cost the same where matches² = page × catalog size (in rows; in pages read, page × the
// table's pages, as a walk reads rows in heap order: columnStats.balance), so if the store
// picks by the number of matches, neither plan reads more than √(page × size) rows: about
// 4,600 for a page of 20 in a million products, 1,450 in 100,000.
//
// The number of matches comes from PostgreSQL's own statistics where it can: ANALYZE keeps the
// most common lexemes of the search column and their frequencies, and a query whose lexemes
// are all among them has bounds on its matches without reading the table: at most the
// rarest lexeme's, at least the product of the frequencies. When both bounds fall on the same
// side of the balance point, that decides. Otherwise (words that may or may not go together,
// a lexeme missing from the list, which is rarer than every lexeme on it, or a table ANALYZE
// has not seen yet, after a fresh bulk load) the store counts the matches, bounded at the
// balance point. The planner cannot make this
// choice itself: it prices a lexeme it has no statistics for at 0.5% of the table, which in a
// million products makes an absent word look common enough to walk the whole index for.

// rareMatches is the balance point used while the table's size is unknown.
const rareMatches = 2000

// statsTTL is how long the store trusts what it last read of the statistics.
const statsTTL = time.Minute

// searchStats caches what the statistics say of each search column of products (search, and
// the relevance tiers' name_search and label_search).
type searchStats struct {
	mu      sync.Mutex
	columns map[string]*columnStats
	// lexemes are what each term stems to: fixed by the text search configuration (a
	// migration), so kept until the cache is full.
	lexemes map[string][]string
	// choices are plan choices (termsChoice without its counts) for statsTTL, as the
	// statistics are: any plan gives the same page, so a choice made from slightly old counts
	// costs at most some pages, and a repeated search skips its counts' round trips.
	choices map[choiceKey]cachedChoice
}

// planCacheSize bounds each of the caches of searchStats; a full cache starts again.
const planCacheSize = 4096

type choiceKey struct {
	column, tsquery, walk string
	limit                 int
	anchored              bool
}

type cachedChoice struct {
	rare   bool
	anchor string
	at     time.Time
}

// freshPlanKey, in a context, makes the plan choice ignore its cache (ExplainList shows what a
// first search costs, counts included).
type freshPlanKey struct{}

type columnStats struct {
	checked time.Time
	rows    float64 // the planner's row count for the table; 0 if never analyzed
	pages   float64 // the table's pages, as rows
	// order is how closely the heap follows each order a walk may take (pg_stats
	// correlation, -1 to 1, of id, created_at and name_key); a missing one counts as 0.
	order map[string]float64
	freq  map[string]float64 // lexeme -> share of rows containing it; nil without statistics
}

// balance is the number of matches at which fetching them all costs what walking an order to
// fill a page of limit costs, in pages read. A fetch reads about a page per match (matches of a
// query are scattered). A walk reads page/s rows in the walked order, s the matches' share, and
// what a walked row costs depends on whether the heap follows that order:
//   - it does (the ID order: UUIDv7, appended in time order): rows come a heap page at a time,
//     about 1/rowsPerPage pages per row, so matches² = (limit+1) × rows / rowsPerPage, that is
//     √((limit+1) × pages), where ADR 0011 had √((limit+1) × rows) and so fetched pairs of
//     common words (2% of 30,000 products: 1,964 pages) that a walk reads in 275;
//   - it does not (names, creation times of an imported catalog): each row is a heap page of
//     its own, so matches² = (limit+1) × rows, ADR 0011's balance;
//   - the walk is in another table's order (prices, in product_prices): each row is also a
//     primary-key probe of its product, walkedRowPages in all, so matches² = (limit+1) × rows
//     × walkedRowPages. Pricing that walk as an ID walk walked a pair of words in 2% of 20,000
//     products in price order, 4,913 pages, where fetching its matches read 2,007.
//
// The first two interpolate by the square of pg_stats' correlation, as the planner's costs
// do. walk is the walked column (walkColumn), "" for a walk in another table's order.
func (c columnStats) balance(limit int, walk string) float64 {
	if c.rows <= 0 {
		return rareMatches
	}
	if walk == "" {
		return math.Sqrt(float64(limit+1) * c.rows * walkedRowPages)
	}
	corr := c.order[walk]
	perRow := 1.0
	if c.pages > 0 && c.rows > c.pages {
		perRow = 1 + (c.pages/c.rows-1)*corr*corr
	}
	return math.Sqrt(float64(limit+1) * c.rows * perRow)
}

// walkedRowPages is what a row walked in another table's order reads: its heap page and a
// primary-key probe (root, inner page from about 100,000 rows, leaf).
const walkedRowPages = 4

// walkColumn is the column of products whose index a walk for sort follows (see balance), or
// "" when the walk is in another table's order and looks each product up by ID.
func walkColumn(sort catalog.Sort) string {
	switch sort {
	case catalog.SortRelevance:
		return "id" // the tiers are walked in ID order (relevanceSQL)
	case catalog.SortNewest, catalog.SortOldest:
		return "created_at"
	case catalog.SortName, catalog.SortNameDesc:
		return "name_key"
	}
	return "" // prices (product_prices), collection positions
}

// searchConfig is the text search configuration of the search column (migration 0005):
// english with accents folded.
const searchConfig = "catalog_english"

// matchCountSQL counts the matches of the tsquery text $1, stopping at $2.
const matchCountSQL = `SELECT count(*) FROM (SELECT id FROM products WHERE search @@ to_tsquery('` + searchConfig + `', $1)
	UNION SELECT product_id FROM variants WHERE search @@ to_tsquery('` + searchConfig + `', $1) LIMIT $2) m`

// columnCountSQL counts a search column's matches of the tsquery text $1, stopping at $2.
func columnCountSQL(column string) string {
	return `SELECT count(*) FROM (SELECT 1 FROM products WHERE ` + column + ` @@ to_tsquery('` + searchConfig + `', $1) LIMIT $2) m`
}

// tsQuery builds the to_tsquery text for terms (ADR 0011): every term AND-ed, the last as a
// prefix. Terms hold only letters and digits (catalog.SearchTerms), and each is quoted besides,
// so nothing a client types is tsquery syntax; to_tsquery stems and folds each one as it does
// the products' text.
func tsQuery(terms []string) string {
	if len(terms) == 0 {
		return ""
	}
	return tsQueryWords(terms) + ":*"
}

// searchMatch is the condition "a search column matches tsq" (SQL) for a fetch through the
// column's full-text index: with an anchor (termsChoice), the index finds the anchor's matches
// and each is checked against the whole query.
func searchMatch(b *sqlBuilder, tsq, anchor string) string {
	if anchor == "" {
		return "search @@ " + tsq
	}
	return "search @@ to_tsquery('" + searchConfig + "', " + b.arg(anchor) + ") AND ts_match_vq(search, " + tsq + ")"
}

// tsQueryWords is tsQuery with no term a prefix.
func tsQueryWords(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString("'")
		b.WriteString(strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(t))
		b.WriteString("'")
	}
	return b.String()
}

// countRun is a count the plan choice ran, kept so that ExplainList can show its cost.
type countRun struct {
	sql  string
	args []any
}

// termsChoice is how a search's matches are read: rare says fetch every match through the
// full-text indexes (else walk an order); anchor, when set, is the tsquery text of every term
// but the last, which few products match: the fetch's index condition is then the anchor and
// the whole query is checked per match. A prefix term's completions can be in much of the
// catalog (the "1" of a variant SKU's "-1" suffix), and GIN reads every completion's entries
// before it can intersect them with the other terms: a page for one SKU grew with the catalog.
type termsChoice struct {
	rare   bool
	anchor string
	counts []countRun
}

// rareTerms chooses how the matches of terms are read for a page of limit products (see
// termsChoice). lexemes holds the terms' lexemes once looked up (termLexemes), so that the
// choices for the several columns of one search ask the database once. walk is the column
// whose order the walk follows (walkColumn).
func (s *Store) rareTerms(ctx context.Context, db querier, terms []string, limit int, walk string, lexemes *[][]string) (termsChoice, error) {
	return s.rareTermsIn(ctx, db, "search", matchCountSQL, terms, limit, walk, lexemes, true)
}

// rareTermsIn is rareTerms for the matches of one search column of products, counted (when the
// statistics cannot decide) by countSQL, which takes the tsquery text and the bound. With
// anchored, a query of several terms whose leading terms are few (counted to the same bound)
// is rare with those terms as its anchor, and the whole query is not counted.
func (s *Store) rareTermsIn(ctx context.Context, db querier, column, countSQL string, terms []string, limit int, walk string, cached *[][]string, anchored bool) (choice termsChoice, err error) {
	key := choiceKey{column: column, tsquery: tsQuery(terms), walk: walk, limit: limit, anchored: anchored}
	if c, ok := s.cachedChoice(ctx, key); ok {
		choice.rare, choice.anchor = c.rare, c.anchor
		return choice, nil
	}
	defer func() {
		if err == nil {
			s.keepChoice(key, choice)
		}
	}()
	stats, err := s.searchStatistics(ctx, db, "products", column)
	if err != nil {
		return choice, err
	}
	rows, freq, balance := stats.rows, stats.freq, stats.balance(limit, walk)
	bound := int(balance) + 1
	count := func(sql, tsq string, bound int) (int, error) {
		var n int
		choice.counts = append(choice.counts, countRun{sql: sql, args: []any{tsq, bound}})
		err := onIndexes(db).QueryRow(ctx, sql, tsq, bound).Scan(&n)
		return n, err
	}
	// leadCommon: the statistics show the terms but the last to be common together (their
	// lower bound is above the balance point), so counting them alone cannot find an anchor.
	leadCommon := false
	// counted is the tsquery text the counts below run: the query itself, or without the
	// prefix (countWords).
	counted := tsQuery(terms)
	if freq != nil {
		if *cached == nil {
			if *cached, err = s.termLexemes(ctx, db, terms); err != nil {
				return choice, err
			}
		}
		lexemes := *cached
		if countWords(lexemes, freq) {
			counted = tsQueryWords(terms)
		}
		// Matches of all the lexemes lie between the product of their frequencies (were they
		// independent) and the smallest of them (were they always together, as the parts of
		// "heavy-duty" are). Only a decision both bounds agree on is taken without counting.
		// The last term matches as a prefix: at least as often as the most common listed
		// lexeme it begins, with no upper bound from the statistics (any number of rarer
		// words may begin with it).
		lower, upper := rows, rows
		lowerKnown, upperKnown := len(lexemes) > 0, len(lexemes) > 0
		for i, ls := range lexemes {
			prefix := i == len(lexemes)-1
			if prefix {
				leadCommon = i > 0 && lowerKnown && lower > balance
				upperKnown = false
			}
			// A hyphenated word stems to itself and its parts ("heavy-duty": heavy-duty,
			// heavy, duty), and every text with the word has the parts: the word's own
			// frequency is the term's, not the product of all three.
			compound := ""
			for _, l := range ls {
				if strings.Contains(l, "-") {
					compound = l
				}
			}
			term := 1.0
			for _, l := range ls {
				f, ok := freq[l]
				if prefix {
					f, ok = 0, true
					for e, ef := range freq {
						if strings.HasPrefix(e, l) {
							f = max(f, ef)
						}
					}
				}
				if !ok {
					lowerKnown, upperKnown = false, false
					break
				}
				if compound == "" {
					term *= f
				} else if l == compound {
					term = f
				}
				if !prefix {
					upper = min(upper, rows*f)
				}
			}
			lower *= term
		}
		switch {
		case upperKnown && upper <= balance:
			choice.rare = true
			return choice, nil
		case lowerKnown && lower > balance && len(lexemes) == 1:
			return choice, nil
		case lowerKnown && lower > balance:
			// The product of several words' frequencies is a bound only if the words are
			// independent; words that never go together ("compact wireless" where every product
			// has one adjective) match nothing, and a walk for nothing reads the whole table:
			// 10 s a search at 1M products. A count of the column's own matches, bounded at a
			// quarter of the balance, confirms the walk: a page a match (GIN rechecks a prefix
			// in the heap), so it costs a quarter of what the walk may, and a walk it lets
			// through reads at most 4 balances (a count to the whole balance would cost one
			// balance on every common search's first page: 6,170 pages instead of 1,568 for a
			// ranked pair at 1M, three columns counted).
			confirm := bound/4 + 1
			n, err := count(columnCountSQL(column), counted, confirm)
			if err != nil {
				return choice, err
			}
			if n >= confirm {
				return choice, nil
			}
		}
	}
	if anchored && len(terms) > 1 && !leadCommon && freq != nil {
		// The count reads the variants' matches too: the leading terms may be common there
		// (an SKU's "syn" in every variant) though the products' text never has them.
		v, err := s.searchStatistics(ctx, db, "variants", "search")
		if err != nil {
			return choice, err
		}
		leadCommon = v.freq != nil && leadLower(v.rows, v.freq, (*cached)[:len(terms)-1]) > balance
	}
	if anchored && len(terms) > 1 && !leadCommon && freq != nil {
		anchor := tsQueryWords(terms[:len(terms)-1])
		n, err := count(countSQL, anchor, bound)
		if err != nil {
			return choice, err
		}
		if float64(n) <= balance {
			choice.rare, choice.anchor = true, anchor
			return choice, nil
		}
	}
	n, err := count(countSQL, counted, bound)
	choice.rare = float64(n) <= balance
	return choice, err
}

// countWords says whether the counts that choose a plan may match the last term as a whole
// word instead of a prefix: when its lexemes are among the column's common ones. GIN cannot
// intersect a prefix with the other terms as it reads them: it first collects every match of
// every lexeme the prefix begins into a bitmap, so its cost grows with the catalog (at 1M
// products 'waterproof' & 'lamp':* took 51-54 ms in the index against 4-7 ms for 'waterproof'
// & 'lamp'; at 100,000, 1.2 ms against 0.3-0.5 ms). The word's count is a lower bound of the
// prefix's, short by its rarer completions ("lamps" stems to "lamp"; "lampshade" is left
// out): a walk it confirms is confirmed, and a fetch it chooses reads at most those few
// matches more. The plan choice changes no result, only what a page reads.
func countWords(lexemes [][]string, freq map[string]float64) bool {
	if len(lexemes) == 0 || len(lexemes[len(lexemes)-1]) == 0 {
		return false
	}
	for _, l := range lexemes[len(lexemes)-1] {
		if _, ok := freq[l]; !ok {
			return false
		}
	}
	return true
}

// leadLower is the least share of rows that match every one of lexemes (the product of their
// frequencies), times rows, or 0 when a lexeme is not among the common ones.
func leadLower(rows float64, freq map[string]float64, lexemes [][]string) float64 {
	lower := rows
	for _, ls := range lexemes {
		for _, l := range ls {
			f, ok := freq[l]
			if !ok {
				return 0
			}
			lower *= f
		}
	}
	return lower
}

// termLexemes returns the lexemes each term stems to, in the terms' order, asking the
// database only for terms it has not stemmed before.
func (s *Store) termLexemes(ctx context.Context, db querier, terms []string) ([][]string, error) {
	out := make([][]string, len(terms))
	var missing []string
	s.stats.mu.Lock()
	for i, t := range terms {
		ls, ok := s.stats.lexemes[t]
		if !ok {
			missing = append(missing, t)
		}
		out[i] = ls
	}
	s.stats.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `SELECT tsvector_to_array(to_tsvector('`+searchConfig+`', t)) FROM unnest($1::text[]) WITH ORDINALITY u (t, n) ORDER BY n`, missing)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[[]string])
	if err != nil {
		return nil, err
	}
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	if s.stats.lexemes == nil || len(s.stats.lexemes)+len(missing) > planCacheSize {
		s.stats.lexemes = make(map[string][]string)
	}
	for i, t := range missing {
		if found[i] == nil {
			found[i] = []string{} // a stop word for PostgreSQL: no lexeme, and known
		}
		s.stats.lexemes[t] = found[i]
	}
	for i, t := range terms {
		out[i] = s.stats.lexemes[t]
	}
	return out, nil
}

func (s *Store) cachedChoice(ctx context.Context, key choiceKey) (cachedChoice, bool) {
	if fresh, _ := ctx.Value(freshPlanKey{}).(bool); fresh {
		return cachedChoice{}, false
	}
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	c, ok := s.stats.choices[key]
	return c, ok && time.Since(c.at) < statsTTL
}

func (s *Store) keepChoice(key choiceKey, choice termsChoice) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	if s.stats.choices == nil || len(s.stats.choices) >= planCacheSize {
		s.stats.choices = make(map[choiceKey]cachedChoice)
	}
	s.stats.choices[key] = cachedChoice{rare: choice.rare, anchor: choice.anchor, at: time.Now()}
}

// searchStatistics returns what ANALYZE last said of a search column of a table: the table's
// row count and each common lexeme's share of rows (nil without statistics).
func (s *Store) searchStatistics(ctx context.Context, db querier, table, column string) (columnStats, error) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	if s.stats.columns == nil {
		s.stats.columns = make(map[string]*columnStats)
	}
	key := table + "." + column
	st := s.stats.columns[key]
	if st == nil {
		st = &columnStats{}
		s.stats.columns[key] = st
	}
	if time.Since(st.checked) < statsTTL {
		return *st, nil
	}
	var (
		rows, pages float64
		orderCols   []string
		orders      []float64
		elems       []string
		freqs       []float64
	)
	err := db.QueryRow(ctx, `SELECT greatest(c.reltuples, 0)::float8, greatest(c.relpages, 0)::float8,
			(SELECT array_agg(i.attname::text) FROM pg_stats i WHERE i.schemaname = n.nspname AND i.tablename = c.relname AND i.attname IN ('id', 'created_at', 'name_key') AND i.correlation IS NOT NULL),
			(SELECT array_agg(i.correlation::float8) FROM pg_stats i WHERE i.schemaname = n.nspname AND i.tablename = c.relname AND i.attname IN ('id', 'created_at', 'name_key') AND i.correlation IS NOT NULL),
			s.most_common_elems::text::text[], s.most_common_elem_freqs::float8[]
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = $1
		WHERE c.oid = $2::regclass`, column, table).Scan(&rows, &pages, &orderCols, &orders, &elems, &freqs)
	if err != nil {
		return columnStats{}, err
	}
	var freq map[string]float64
	// The frequencies list has three entries more than the lexemes (minimum, maximum, nulls).
	if elems != nil && len(freqs) >= len(elems) {
		freq = make(map[string]float64, len(elems))
		for i, e := range elems {
			freq[e] = freqs[i]
		}
	}
	*st = columnStats{checked: time.Now(), rows: rows, pages: pages, freq: freq, order: map[string]float64{}}
	for i, c := range orderCols {
		if i < len(orders) {
			st.order[c] = orders[i]
		}
	}
	return *st, nil
}

// seqscanOff is forceSearchIndex for one batch: set_config(..., true) lasts until the end of
// the transaction, and a batch without BEGIN runs as one implicit transaction that ends at its
// Sync, so the statement queued after it is planned without sequential scans and the setting
// is gone when the batch returns, in one round trip (BEGIN, SET LOCAL, the query and COMMIT
// took four).
const seqscanOff = `SELECT set_config('enable_seqscan', 'off', true)`

// batcher sends several statements in one round trip: a pool, a connection or a transaction.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// onIndexes returns db with every statement run as forceSearchIndex runs it, in one round
// trip each: counts and fetches through the full-text indexes. The planner prices a prefix of
// which it knows nothing at 0.5% of the table, and a bounded count of few matches "LIMIT n"
// looks cheapest as a sequential scan that stops early: with none to find, it reads the whole
// table (2,831 pages at 30,000 products for a word in no name). db without batches, or a
// transaction (whose setting would outlast the statement), is returned as it is; callers in a
// transaction set forceSearchIndex themselves.
func onIndexes(db querier) querier {
	if _, tx := db.(pgx.Tx); tx {
		return db
	}
	if b, ok := db.(batcher); ok {
		return indexQuerier{db: db, b: b}
	}
	return db
}

type indexQuerier struct {
	db querier
	b  batcher
}

func (q indexQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	var batch pgx.Batch
	batch.Queue(seqscanOff)
	batch.Queue(sql, args...)
	br := q.b.SendBatch(ctx, &batch)
	if _, err := br.Exec(); err != nil {
		return nil, errors.Join(err, br.Close())
	}
	rows, err := br.Query()
	if err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (q indexQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := q.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}

func (q indexQuerier) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return q.db.Exec(ctx, sql, args...)
}

// batchRows are a batch's last result: closing them closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		r.rows.Close()
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
