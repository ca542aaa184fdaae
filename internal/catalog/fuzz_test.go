package catalog

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// FuzzParseCursor: any string either parses to a cursor that re-encodes and parses again to the
// same position, or is refused with an invalid-input error. Never a panic.
func FuzzParseCursor(f *testing.F) {
	q := ListQuery{Sort: SortName, Limit: 10}
	f.Add(q.NextCursor(Product{ID: NewID(), Name: "Mug"}).String())
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("error code %q for %q", ErrorCode(err), s)
			}
			return
		}
		again, err := ParseCursor(c.String())
		if err != nil || again.ID != c.ID || again.Sort != c.Sort || again.NameKey != c.NameKey || again.Price != c.Price || !again.Created.Equal(c.Created) {
			t.Fatalf("cursor %q does not round-trip: %+v vs %+v (%v)", s, c, again, err)
		}
	})
}

// FuzzSearchTerms: whatever a client types, the terms are lower-case letters and digits without
// accents, never a stop word, at most MaxSearchTerms of them, so no store sees query syntax.
func FuzzSearchTerms(f *testing.F) {
	for _, s := range []string{"the", "Blue café", `"); DROP TABLE products; --`, "a:* & !b | (c)", "thé ÉTÉ", "spk-100 0.5", "e\u0301t\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms := SearchTerms(q)
		if len(terms) > MaxSearchTerms {
			t.Fatalf("%d terms", len(terms))
		}
		stop := strings.Fields(StopWords)
		for _, term := range terms {
			if term == "" || term != strings.ToLower(term) || slices.Contains(stop, term) {
				t.Fatalf("term %q from %q", term, q)
			}
			for _, r := range term {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
					t.Fatalf("term %q from %q holds %q", term, q, r)
				}
			}
		}
	})
}
