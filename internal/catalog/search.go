package catalog

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// newFold removes accents: decomposed, the combining marks dropped, composed again. A
// transform.Transformer holds state, so each call makes its own.
func newFold() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// MaxSearchTerms bounds the words of one query a store matches; the rest are ignored, so a
// pasted paragraph costs what 32 words cost.
const MaxSearchTerms = 32

// SearchTerms splits a full-text query into the words both stores match (ADR 0011): lower-case
// runs of letters and digits, everything else a separator and never syntax, stop words dropped.
// Every term must match a word of the product's name, brand, description or SKU, after
// stemming and with accents folded; the last term may match the beginning of a word, so a
// query typed so far ("blue sh") finds what it is on the way to ("blue shirt"). A query of only
// stop words has no terms and matches nothing.
func SearchTerms(q string) []string {
	// Accents are folded here as both stores fold them in the products' text, so that a
	// stop word typed with an accent ("thé") is dropped as PostgreSQL would drop it.
	folded, _, err := transform.String(newFold(), strings.ToLower(q))
	if err != nil {
		folded = strings.ToLower(q)
	}
	fields := strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	terms := fields[:0]
	for _, f := range fields {
		if _, stop := stopWords[f]; stop {
			continue
		}
		terms = append(terms, f)
		if len(terms) == MaxSearchTerms {
			break
		}
	}
	return terms
}

// stopWords is PostgreSQL's english stop-word list (tsearch_data/english.stop, the Snowball
// list): PostgreSQL leaves these words out of its search index, so the embedded store must
// leave them out of its queries to find the same products. A test holds the two lists equal.
var stopWords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(StopWords) {
		m[w] = struct{}{}
	}
	return m
}()

// StopWords lists the words a search ignores, separated by spaces.
const StopWords = `i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did doing a
an the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once
here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now`
