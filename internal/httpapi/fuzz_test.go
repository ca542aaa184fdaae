package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// FuzzListQuery: any query string is either a valid ListQuery or an invalid-input error.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5&sort=-price", "currency=USD&min_price=1&max_price=0", "status=all,draft", "q=%00", "cursor=abc", "in_stock=1&total=0",
		"attr.colour=red,blue", "attr.inches=13..15", "attr.inches=..", "attr.waterproof=true", "attr.material=x", "attr.nope=1", "attr.=1"} {
		f.Add(s)
	}
	// Definitions as a store would have them: filterable enum, number and boolean, one not
	// filterable.
	defs := map[string]catalog.AttributeDefinition{
		"colour":     {Key: "colour", Type: catalog.AttrEnum, Values: []string{"red", "blue"}, Filterable: true},
		"inches":     {Key: "inches", Type: catalog.AttrNumber, Filterable: true},
		"waterproof": {Key: "waterproof", Type: catalog.AttrBoolean, Filterable: true},
		"material":   {Key: "material", Type: catalog.AttrText},
	}
	lookup := func(key string) (catalog.AttributeDefinition, error) {
		if d, ok := defs[key]; ok {
			return d, nil
		}
		return catalog.AttributeDefinition{}, catalog.ErrAttributeNotFound
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := httpapi.ParseListQuery(v, lookup)
		if err != nil {
			if catalog.ErrorCode(err) != catalog.CodeInvalid {
				t.Fatalf("%q: error code %q", raw, catalog.ErrorCode(err))
			}
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("%q: accepted a query that does not validate: %v", raw, err)
		}
	})
}

// FuzzCreateProduct posts arbitrary bodies to the real handler and store: the answer is never a
// 5xx.
func FuzzCreateProduct(f *testing.F) {
	store, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	store.CreateCategory(context.Background(), catalog.CategoryInput{Slug: "kitchen", Name: "Kitchen"})
	keys, _ := httpapi.NewKeys([]string{key})
	srv := httpapi.New(httpapi.Options{Store: store, Keys: keys, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	for _, s := range []string{mug, tee, `{`, `null`, `[]`, `{"sku":1}`, `{"variants":[{"prices":[{"amount":1e400}]}]}`, `{"attributes":{"":""}}`,
		`{"media":[{"url":"http://\u0000"}]}`, `{"variants":[{"options":{"":""}}]}`, `{"options":[{"name":"S","values":[]}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, method := range []string{"POST /products", "PATCH /categories/kitchen", "POST /categories", "POST /attributes"} {
			m, path, _ := strings.Cut(method, " ")
			req := httptest.NewRequest(m, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s with %q: %d %s", method, body, rec.Code, rec.Body)
			}
		}
	})
}
