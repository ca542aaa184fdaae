package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/hostile"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// maxAllocPerRequest is the allocation budget of one hostile request through the handler, body
// included: the largest hostile body is 2 MiB (refused from its Content-Length); the decoder
// holds at most MaxBodyBytes plus the values the limits let through.
const maxAllocPerRequest = 8 << 20

// stores are the store implementations every hostile test runs on.
var stores = []struct {
	name string
	open func(tb testing.TB) catalog.Store
}{
	{"sqlite", func(tb testing.TB) catalog.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "c.db"), sqlite.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(tb testing.TB) catalog.Store {
		s, err := postgres.Open(context.Background(), pgtest.URL(tb), postgres.Options{MaxConns: 4})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}},
}

// hostileServer returns the real handler on store, with a category and a stocked product the
// hostile requests aim at.
func hostileServer(tb testing.TB, store catalog.Store) (*httpapi.Server, hostile.Targets) {
	tb.Helper()
	ctx := context.Background()
	if _, err := store.CreateCategory(ctx, catalog.CategoryInput{Slug: "kitchen", Name: "Kitchen"}); err != nil {
		tb.Fatal(err)
	}
	in := catalog.ProductInput{Name: "Mug", Category: "kitchen", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "MUG-1", Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1299}}, InitialStock: 1000}}}
	in.Normalize()
	p, err := store.CreateProduct(ctx, in)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.CreateAttribute(ctx, catalog.AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: catalog.AttrEnum,
		Values: []string{"red", "blue"}, Filterable: true}); err != nil {
		tb.Fatal(err)
	}
	keys, err := httpapi.NewKeys([]string{hostile.Key})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Store: store, Keys: keys, Metrics: httpapi.NewMetrics(),
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	return srv, hostile.Targets{ProductID: p.ID, VariantID: p.Variants[0].ID, Category: "kitchen", SKU: "MUG-1", Attribute: "colour"}
}

// serve sends r through h in-process and returns the status, the body and the bytes allocated
// meanwhile (the whole process's, so callers do not run in parallel).
func serve(tb testing.TB, h http.Handler, r hostile.Request) (int, []byte, uint64) {
	tb.Helper()
	req := httptest.NewRequest(r.Method, "http://catalog.test"+r.Path, bytes.NewReader(r.Body))
	for k, v := range r.Header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	return rec.Code, rec.Body.Bytes(), after.TotalAlloc - before.TotalAlloc
}

// TestHostileCatalogue sends every hostile request of issue 14 to the real handler on both
// stores: each gets its status and names its field, none gets a 5xx, none allocates beyond the
// budget.
func TestHostileCatalogue(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			srv, tg := hostileServer(t, st.open(t))
			for _, r := range hostile.Catalogue(tg) {
				status, body, alloc := serve(t, srv, r)
				if err := hostile.Check(r, status, body); err != nil {
					t.Error(err)
				}
				if alloc > maxAllocPerRequest+uint64(len(r.Body)) {
					t.Errorf("%s: allocated %d bytes, budget %d", r.Name, alloc, maxAllocPerRequest+len(r.Body))
				}
			}
		})
	}
}

// TestHostileCatalogueWithoutVariant: targets that name no variant (as a caller that knows
// only a product does) still get every answer the catalogue states: each check a hostile
// request is aimed at runs before the store is asked about the variant.
func TestHostileCatalogueWithoutVariant(t *testing.T) {
	srv, tg := hostileServer(t, stores[0].open(t))
	tg.VariantID = ""
	for _, r := range hostile.Catalogue(tg) {
		status, body, _ := serve(t, srv, r)
		if err := hostile.Check(r, status, body); err != nil {
			t.Error(err)
		}
	}
}

// TestHostileContract sends the catalogue over real connections through the contract-checking
// client: every refusal (400, 408, 413, 415, 431...) is one the OpenAPI document describes.
func TestHostileContract(t *testing.T) {
	srv, tg := hostileServer(t, stores[0].open(t))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	client := apitest.Client(t)
	for _, r := range hostile.Catalogue(tg) {
		req, err := r.HTTP(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := hostile.Check(r, resp.StatusCode, body); err != nil {
			t.Error(err)
		}
	}
}

// TestHostileRandom draws requests from the generator: no 5xx, every 4xx in the error shape
// naming a field when invalid, bounded allocation.
func TestHostileRandom(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 100
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			srv, tg := hostileServer(t, st.open(t))
			rng := rand.New(rand.NewPCG(14, 1))
			gen := hostile.NewGenerator(tg)
			for range n {
				r := gen.Random(rng)
				status, body, alloc := serve(t, srv, r)
				if err := hostile.Check(r, status, body); err != nil {
					t.Error(err)
				}
				if alloc > maxAllocPerRequest+uint64(len(r.Body)) {
					t.Errorf("%s: allocated %d bytes, budget %d", r.Name, alloc, maxAllocPerRequest+len(r.Body))
				}
			}
		})
	}
}

// fuzzBody feeds arbitrary bytes to the decoder of every route that takes a body.
func fuzzBody(f *testing.F, open func(testing.TB) catalog.Store) {
	srv, tg := hostileServer(f, open(f))
	for i, r := range hostile.Catalogue(tg) {
		if len(r.Body) > 0 && len(r.Body) < 4096 {
			f.Add(uint8(i), r.Body)
		}
	}
	f.Add(uint8(0), []byte(`{"sku":"A","sku":"B"}`))
	f.Add(uint8(7), []byte("{\"lines\":[{\"sku\":\"\xff\",\"quantity\":1e999}]}"))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := hostile.Body(tg, int(route), body)
		status, resp, alloc := serve(t, srv, r)
		if err := hostile.Check(r, status, resp); err != nil {
			t.Fatal(err)
		}
		if alloc > maxAllocPerRequest+uint64(len(body)) {
			t.Fatalf("%s %s: allocated %d bytes for a %d-byte body", r.Method, r.Path, alloc, len(body))
		}
	})
}

// fuzzQuery feeds arbitrary query strings to both routes that read a query: GET /products and
// GET /products/{id}/variants/{variantID}/stock/movements.
func fuzzQuery(f *testing.F, open func(testing.TB) catalog.Store) {
	srv, tg := hostileServer(f, open(f))
	for _, s := range []string{"brand=%00", "brand=%FF", "q=%1B", "cursor=" + hostile.ForgedCursor("name", "a\x00"), "limit=1e9", "sort=-price&min_price=1&currency=USD",
		"before=-1", "before=99999999999999999999", "limit=0&before=1",
		"attr.colour=red", "attr.colour=%FF", "attr.=x", "attr.colour=red&attr.colour=blue", "attr.nope=1", "sort=price"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := hostile.Query(q)
		if strings.ContainsFunc(q, func(c rune) bool { return c <= ' ' || c == 0x7f || c == '#' }) {
			return // not a request line a client can send: net/http refuses it before any handler
		}
		movements := hostile.Request{Name: "fuzzed movements query", Method: "GET",
			Path: tg.VariantPath() + "/stock/movements?" + q, Header: http.Header{"Authorization": {"Bearer " + hostile.Key}}}
		for _, r := range []hostile.Request{r, movements} {
			status, resp, alloc := serve(t, srv, r)
			if err := hostile.Check(r, status, resp); err != nil {
				t.Fatal(err)
			}
			if alloc > maxAllocPerRequest {
				t.Fatalf("%s: allocated %d bytes", r.Path, alloc)
			}
		}
	})
}

// shareCluster makes the fuzz workers (separate processes started by f.Fuzz, which inherit the
// environment) use this process's PostgreSQL through DATABASE_URL instead of each starting a
// cluster of its own: a worker starts in milliseconds instead of seconds, and a worker the
// fuzzer kills leaves no cluster running.
func shareCluster(f *testing.F) {
	if os.Getenv("DATABASE_URL") == "" {
		f.Setenv("DATABASE_URL", pgtest.Shared(f).AdminURL)
	}
}

func FuzzHostileBody(f *testing.F)         { fuzzBody(f, stores[0].open) }
func FuzzHostileQuery(f *testing.F)        { fuzzQuery(f, stores[0].open) }
func FuzzHostileBodyPostgres(f *testing.F) { shareCluster(f); fuzzBody(f, stores[1].open) }
func FuzzHostileQueryPostgres(f *testing.F) {
	shareCluster(f)
	fuzzQuery(f, stores[1].open)
}
