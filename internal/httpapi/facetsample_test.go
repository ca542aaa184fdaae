package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

// halfSampled answers facets as a store over its facet budget does: counted on a sample (here
// every count halved back to the selection's scale: share 0.5).
type halfSampled struct{ catalog.Store }

func (s halfSampled) Facets(ctx context.Context, q catalog.ListQuery, r catalog.FacetRequest) ([]catalog.Facet, error) {
	fs, err := s.Store.Facets(ctx, q, r)
	for i := range fs {
		fs[i].Scale(0.5)
	}
	return fs, err
}

// TestSampledFacetsOverHTTP: sampled facets go out as the OpenAPI document says (the client
// validates every response): exact false and the share sampled beside the scaled counts.
func TestSampledFacetsOverHTTP(t *testing.T) {
	e := newEnvWith(t, func(o *httpapi.Options) { o.Store = halfSampled{o.Store} })
	e.do("POST", "/products", `{"name":"Mug","category":"kitchen","brand":"Acme","status":"active",
		"variants":[{"sku":"MUG-1","prices":[{"currency":"USD","amount":1299}]}]}`, auth, 201)
	_, b := e.do("GET", "/products?currency=USD&facets=brand,price,in_stock", "", nil, 200)
	l := decode[facetList](t, b)
	if got, want := facetSummary(l.Facets), "brand(false): Acme=2; price(false): 1000-2500=2; in_stock(false): false=2"; got != want {
		t.Fatalf("facets\n got %s\nwant %s", got, want)
	}
	if n := strings.Count(string(b), `"sample":0.5`); n != 3 {
		t.Errorf("%d facets carry \"sample\":0.5, want 3: %s", n, b)
	}
	// Exact counts carry no sample at all.
	e2 := newEnv(t)
	_, b = e2.do("GET", "/products?facets=brand", "", nil, 200)
	if strings.Contains(string(b), `"sample"`) {
		t.Errorf("exact facets carry a sample: %s", b)
	}
}
