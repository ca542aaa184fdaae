package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
)

// TestCountWords: only a last term whose every lexeme the statistics list as common is counted
// as a whole word.
func TestCountWords(t *testing.T) {
	freq := map[string]float64{"lamp": 0.2, "alpha": 0.5, "heavy-duti": 0.1, "heavi": 0.1}
	for _, tc := range []struct {
		lexemes [][]string
		want    bool
	}{
		{[][]string{{"alpha"}, {"lamp"}}, true},
		{[][]string{{"lamp"}}, true},
		{[][]string{{"alpha"}, {"lam"}}, false},              // typed so far: a prefix only
		{[][]string{{"heavy-duti", "heavi", "duti"}}, false}, // one part not listed
		{[][]string{{"alpha"}, {}}, false},                   // a stop word
		{nil, false},
	} {
		if got := countWords(tc.lexemes, freq); got != tc.want {
			t.Errorf("countWords(%v) = %v, want %v", tc.lexemes, got, tc.want)
		}
	}
}

// TestSearchCountsWholeWords: the counts that choose a search's plan match a last term that is a
// common word as that word, not as a prefix (GIN collects a prefix's every match before it
// intersects: a cost that grows with the catalog), while the page and its total still match
// it as a prefix ("lamp" finds "lampshade").
func TestSearchCountsWholeWords(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 4,000 products")
	}
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "home", Name: "Home"}); err != nil {
		t.Fatal(err)
	}
	// Alpha and Beta in half the products each; Lamp in half, Kettle in the rest but for every
	// 40th product, a Lampshade: "alpha lamp" matches 1,000 + 100 as a prefix, 1,000 as a word.
	const n = 4000
	var ps []catalog.NewProduct
	lampshades := 0
	for i := range n {
		noun := []string{"Lamp", "Kettle"}[(i/2)%2]
		if i%40 == 2 { // an Alpha Kettle
			noun = "Lampshade"
			lampshades++
		}
		ps = append(ps, catalog.NewProduct{ProductInput: catalog.ProductInput{
			Name:     fmt.Sprintf("%s %s %d", []string{"Alpha", "Beta"}[i%2], noun, i),
			Category: "home", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: fmt.Sprintf("CW-%05d", i), Prices: []catalog.PriceInput{{Currency: "USD", Amount: int64(100 + i)}}}},
		}})
	}
	if err := s.Import(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	var want int64
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM products WHERE name ILIKE 'alpha lamp%'`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if lampshades == 0 || want <= 1000 {
		t.Fatalf("catalog: %d alpha lamp* products, %d lampshades; the test needs completions beyond the word", want, lampshades)
	}
	for _, tc := range []struct {
		q      string
		prefix bool // the counts must match the last term as a prefix
	}{{"alpha lamp", false}, {"alpha lam", true}} {
		for _, sort := range []catalog.Sort{catalog.SortRelevance, catalog.SortNewest, catalog.SortPrice} {
			q := catalog.ListQuery{Sort: sort, Limit: 20, WithTotal: true, Filter: catalog.ProductFilter{Query: tc.q, Currency: "USD"}}
			st, err := s.listStatements(context.WithValue(ctx, freshPlanKey{}, true), s.pool, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.counts) == 0 {
				t.Errorf("q=%q sort %s: no count ran; the test needs one", tc.q, sort)
			}
			for _, c := range st.counts {
				text := c.args[0].(string)
				last := strings.Contains(text, "'lam") // the anchor count runs the leading terms alone
				if last && strings.HasSuffix(text, ":*") != tc.prefix {
					t.Errorf("q=%q sort %s: a count ran %q, want the last term as a prefix: %v", tc.q, sort, text, tc.prefix)
				}
			}
			page, err := s.ListProducts(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total == nil || *page.Total != want || len(page.Items) != 20 {
				t.Errorf("q=%q sort %s: total %v and %d items, want %d and 20", tc.q, sort, page.Total, len(page.Items), want)
			}
		}
	}
}
