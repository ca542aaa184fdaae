package catalog

import (
	"encoding/base64"
	"testing"
)

func TestRelevanceRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		q     ListQuery
		field string // "" when valid
	}{
		{"with q", ListQuery{Sort: SortRelevance, Limit: 20, Filter: ProductFilter{Query: "blue"}}, ""},
		{"without q", ListQuery{Sort: SortRelevance, Limit: 20}, "sort"},
		{"blank q", ListQuery{Sort: SortRelevance, Limit: 20, Filter: ProductFilter{Query: "   "}}, "sort"},
		{"in a collection", ListQuery{Sort: SortRelevance, Limit: 20, Filter: ProductFilter{Query: "blue", Collection: "picks"}}, "sort"},
		{"other sorts with q", ListQuery{Sort: SortName, Limit: 20, Filter: ProductFilter{Query: "blue"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.q.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeInvalid || len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
				t.Fatalf("Validate() = %v, want an invalid-input error naming %q", err, tc.field)
			}
		})
	}
	for _, tc := range []struct {
		f    ProductFilter
		want Sort
	}{
		{ProductFilter{}, SortNewest},
		{ProductFilter{Query: "blue"}, SortRelevance},
		{ProductFilter{Query: " "}, SortNewest},
		{ProductFilter{Query: "blue", Collection: "picks"}, SortPosition},
	} {
		if got := DefaultSort(tc.f); got != tc.want {
			t.Errorf("DefaultSort(%+v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestRelevanceCursorTierBounds(t *testing.T) {
	for _, k := range []string{"0", "5", "-1", "x", "9999999999999999999"} {
		raw := `{"v":1,"s":"relevance","k":"` + k + `","i":"01890a5d-ac96-774b-bcce-b302099a8057","f":"x"}`
		if _, err := ParseCursor(base64.RawURLEncoding.EncodeToString([]byte(raw))); err == nil {
			t.Errorf("ParseCursor(tier %s) accepted a tier outside %d..%d", k, TierText, TierExact)
		}
	}
}

func TestExactCode(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{" SPK-100 ", true}, {"4006381333931", true}, {"4006381333932", true /* a valid SKU */}, {"blue shirt", false}, {"a", false}, {"", false},
	} {
		if _, ok := ExactCode(tc.q); ok != tc.want {
			t.Errorf("ExactCode(%q) ok = %v, want %v", tc.q, ok, tc.want)
		}
	}
}
