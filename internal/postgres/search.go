package postgres

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A search can be answered two ways. Walking the sort-order index and checking each row reads
// about page/selectivity rows: cheap for common words, the whole table for a word nobody uses.
// Fetching every match through the full-text index and sorting them reads as many rows as
// there are matches: cheap for rare words, a large share of the table for common ones. The
// two cost the same where matches² = page × catalog size, so if the store picks by the number
// of matches, neither plan reads more than √(page × size) rows: about 4,600 for a page of 20
// in a million products, 1,450 in 100,000.
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
}

type columnStats struct {
	checked time.Time
	rows    float64            // the planner's row count for products; 0 if never analyzed
	freq    map[string]float64 // lexeme -> share of products containing it; nil without statistics
}

// searchConfig is the text search configuration of the search column (migration 0005):
// english with accents folded.
const searchConfig = "catalog_english"

// matchCountSQL counts the matches of the tsquery text $1, stopping at $2.
const matchCountSQL = `SELECT count(*) FROM (SELECT id FROM products WHERE search @@ to_tsquery('` + searchConfig + `', $1)
	UNION SELECT product_id FROM variants WHERE search @@ to_tsquery('` + searchConfig + `', $1) LIMIT $2) m`

// tsQuery builds the to_tsquery text for terms (ADR 0011): every term AND-ed, the last as a
// prefix. Terms hold only letters and digits (catalog.SearchTerms), and each is quoted besides,
// so nothing a client types is tsquery syntax; to_tsquery stems and folds each one as it does
// the products' text.
func tsQuery(terms []string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteString("'")
		b.WriteString(strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(t))
		b.WriteString("'")
	}
	if len(terms) > 0 {
		b.WriteString(":*")
	}
	return b.String()
}

// rareTerms reports whether fetching and sorting every match is the cheaper plan for terms
// and a page of limit products, and the bound it counted matches to, if it had to count.
// lexemes holds the terms' lexemes once looked up (termLexemes), so that the choices for the
// several columns of one search ask the database once.
func (s *Store) rareTerms(ctx context.Context, db querier, terms []string, limit int, lexemes *[][]string) (rare bool, counted int, err error) {
	return s.rareTermsIn(ctx, db, "search", matchCountSQL, terms, limit, lexemes)
}

// rareTermsIn is rareTerms for the matches of one search column of products, counted (when the
// statistics cannot decide) by countSQL, which takes the tsquery text and the bound.
func (s *Store) rareTermsIn(ctx context.Context, db querier, column, countSQL string, terms []string, limit int, cached *[][]string) (rare bool, counted int, err error) {
	rows, freq, err := s.searchStatistics(ctx, db, column)
	if err != nil {
		return false, 0, err
	}
	balance := float64(rareMatches)
	if rows > 0 {
		balance = math.Sqrt(float64(limit+1) * rows)
	}
	if freq != nil {
		if *cached == nil {
			if *cached, err = termLexemes(ctx, db, terms); err != nil {
				return false, 0, err
			}
		}
		lexemes := *cached
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
			for _, l := range ls {
				if prefix {
					f := 0.0
					for e, ef := range freq {
						if strings.HasPrefix(e, l) {
							f = max(f, ef)
						}
					}
					lower, upperKnown = lower*f, false
					continue
				}
				f, ok := freq[l]
				if !ok {
					lowerKnown, upperKnown = false, false
					break
				}
				lower, upper = lower*f, min(upper, rows*f)
			}
		}
		switch {
		case upperKnown && upper <= balance:
			return true, 0, nil
		case lowerKnown && lower > balance:
			return false, 0, nil
		}
	}
	var n int
	counted = int(balance) + 1
	err = db.QueryRow(ctx, countSQL, tsQuery(terms), counted).Scan(&n)
	return float64(n) <= balance, counted, err
}

// termLexemes returns the lexemes each term stems to, in the terms' order.
func termLexemes(ctx context.Context, db querier, terms []string) ([][]string, error) {
	rows, err := db.Query(ctx, `SELECT tsvector_to_array(to_tsvector('`+searchConfig+`', t)) FROM unnest($1::text[]) WITH ORDINALITY u (t, n) ORDER BY n`, terms)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[[]string])
}

func (s *Store) searchStatistics(ctx context.Context, db querier, column string) (rows float64, freq map[string]float64, err error) {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	if s.stats.columns == nil {
		s.stats.columns = make(map[string]*columnStats)
	}
	st := s.stats.columns[column]
	if st == nil {
		st = &columnStats{}
		s.stats.columns[column] = st
	}
	if time.Since(st.checked) < statsTTL {
		return st.rows, st.freq, nil
	}
	var elems []string
	var freqs []float64
	err = db.QueryRow(ctx, `SELECT greatest(c.reltuples, 0)::float8, s.most_common_elems::text::text[], s.most_common_elem_freqs::float8[]
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = $1
		WHERE c.oid = 'products'::regclass`, column).Scan(&rows, &elems, &freqs)
	if err != nil {
		return 0, nil, err
	}
	freq = nil
	// The frequencies list has three entries more than the lexemes (minimum, maximum, nulls).
	if elems != nil && len(freqs) >= len(elems) {
		freq = make(map[string]float64, len(elems))
		for i, e := range elems {
			freq[e] = freqs[i]
		}
	}
	st.rows, st.freq, st.checked = rows, freq, time.Now()
	return rows, freq, nil
}
