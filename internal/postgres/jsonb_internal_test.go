package postgres

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// randomJSON builds a JSON text of the shapes the store keeps in jsonb columns, and some it
// does not: member names in another case than the Go fields', unknown members, nulls, numbers
// of every form, escapes, nesting.
func randomJSON(r *rand.Rand, depth int) string {
	strs := []string{`"a"`, `"URL"`, `"url"`, `"Alt"`, `"name"`, `"Values"`, `"values"`, `"x\u00e9\n\"\\"`, `""`, `"\ud83d\ude00"`}
	nums := []string{"0", "-0", "1", "3", "1.5", "1e3", "-2.5E-7", "12345678901234567890", "1e308"}
	switch k := r.IntN(8); {
	case k == 0:
		return "null"
	case k == 1:
		return []string{"true", "false"}[r.IntN(2)]
	case k == 2:
		return nums[r.IntN(len(nums))]
	case k <= 4 || depth == 0:
		return strs[r.IntN(len(strs))]
	case k == 5:
		var parts []string
		for range r.IntN(4) {
			parts = append(parts, randomJSON(r, depth-1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	var parts []string
	for range r.IntN(4) {
		parts = append(parts, strs[r.IntN(len(strs))]+":"+randomJSON(r, depth-1))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestJSONBDecodesAsEncodingJSON holds the store's json/jsonb decoder (decodeJSONFaster) to
// encoding/json's results, error or value, for every type the store scans from JSON columns.
func TestJSONBDecodesAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(17, uint64(time.Now().UnixNano())))
	targets := []func() any{
		func() any { return new(any) },
		func() any { return new(catalog.Attributes) },
		func() any { return new([]catalog.Media) },
		func() any { return new([]catalog.Option) },
		func() any { return new(map[string]string) },
		func() any { return new(catalog.Media) },
	}
	for i := range 20000 {
		doc := randomJSON(r, 3)
		if i%3 == 0 { // the shapes products hold
			doc = fmt.Sprintf(`[{"url":%s,"alt":%s,"Name":%s,"values":[%s]}]`, randomJSON(r, 0), randomJSON(r, 0), randomJSON(r, 0), randomJSON(r, 1))
		}
		for _, mk := range targets {
			want, got := mk(), mk()
			werr := json.Unmarshal([]byte(doc), want)
			gerr := unmarshalJSON([]byte(doc), got)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s into %T: error %v, encoding/json's %v", doc, want, gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(want, got) {
				t.Fatalf("%s into %T: %#v, encoding/json's %#v", doc, want, reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem())
			}
		}
	}
}
