package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

func contractTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"PatchConcurrentDistinctFields", testPatchConcurrent},
		{"PatchNoOpKeepsVersion", testPatchNoOp},
		{"PatchMergeAndRemove", testPatchMerge},
		{"PatchPreconditionAndErrors", testPatchPrecondition},
		{"ListUnknownCategory", testListUnknownCategory},
	}
}

// testPatchConcurrent runs patchers of distinct fields at once, without a precondition: every
// patch applies (none is refused for having raced another) and every field ends as its last
// writer set it.
func testPatchConcurrent(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	p := must(s.CreateProduct(ctx(t), input("MERGE-1", "Merge", "misc", 1)))(t)
	const rounds = 15
	patchers := []func(n int) catalog.ProductPatch{
		func(n int) catalog.ProductPatch { return catalog.ProductPatch{Name: ptr(fmt.Sprintf("Name %d", n))} },
		func(n int) catalog.ProductPatch {
			return catalog.ProductPatch{Description: ptr(fmt.Sprintf("Description %d", n))}
		},
		func(n int) catalog.ProductPatch { return catalog.ProductPatch{Brand: ptr(fmt.Sprintf("Brand %d", n))} },
		func(n int) catalog.ProductPatch { return catalog.ProductPatch{Amount: ptr(int64(1000 + n))} },
	}
	for i := range 4 {
		key := fmt.Sprintf("k%d", i)
		patchers = append(patchers, func(n int) catalog.ProductPatch {
			return catalog.ProductPatch{Attributes: map[string]*string{key: ptr(fmt.Sprintf("v%d", n))}}
		})
	}
	var wg sync.WaitGroup
	for i, mk := range patchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				if _, err := s.PatchProduct(context.Background(), p.ID, mk(n), 0); err != nil {
					t.Errorf("patcher %d round %d: %v", i, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := must(s.Product(ctx(t), p.ID))(t)
	last := fmt.Sprint(rounds - 1)
	wantAttrs := map[string]string{"color": "red", "k0": "v" + last, "k1": "v" + last, "k2": "v" + last, "k3": "v" + last}
	if got.Name != "Name "+last || got.Description != "Description "+last || got.Brand != "Brand "+last ||
		got.Price.Amount != 1000+rounds-1 || !maps.Equal(got.Attributes, wantAttrs) {
		t.Fatalf("after concurrent patches: %+v", got)
	}
	if want := p.Version + int64(len(patchers)*rounds); got.Version != want {
		t.Fatalf("version %d, want %d (one per applied patch)", got.Version, want)
	}
}

// testPatchNoOp: a patch that changes nothing keeps the version (so the ETag) and writes no
// price history.
func testPatchNoOp(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	p := must(s.CreateProduct(ctx(t), input("NOOP-1", "Same", "misc", 500)))(t)
	hist := len(must(s.PriceHistory(ctx(t), p.ID))(t))
	for _, pp := range []catalog.ProductPatch{
		{},
		{Name: ptr("Same"), Amount: ptr(int64(500)), Currency: ptr("USD")},
		{Attributes: map[string]*string{"color": ptr("red"), "absent": nil}},
		{Images: &p.Images, Status: ptr(p.Status), Description: ptr("  " + p.Description + " ")},
	} {
		got := must(s.PatchProduct(ctx(t), p.ID, pp, p.Version))(t)
		if got.Version != p.Version || !got.UpdatedAt.Equal(p.UpdatedAt) || !equalProducts(got, p) {
			t.Fatalf("no-op patch %+v changed the product:\n got %+v\nwant %+v", pp, got, p)
		}
	}
	if n := len(must(s.PriceHistory(ctx(t), p.ID))(t)); n != hist {
		t.Fatalf("no-op patches wrote price history: %d rows, want %d", n, hist)
	}
	got := must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Amount: ptr(int64(600))}, 0))(t)
	if got.Version != p.Version+1 || got.Price.Amount != 600 {
		t.Fatalf("price patch: version %d price %+v", got.Version, got.Price)
	}
	if n := len(must(s.PriceHistory(ctx(t), p.ID))(t)); n != hist+1 {
		t.Fatalf("a price patch wrote %d price rows, want 1", n-hist)
	}
}

// testPatchMerge: attributes merge key by key, nulls remove optional fields, arrays replace.
func testPatchMerge(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	in := input("MRG-2", "Merge two", "misc", 100)
	in.Attributes = map[string]string{"color": "red", "size": "L"}
	p := must(s.CreateProduct(ctx(t), in))(t)
	got := must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{
		Attributes:  map[string]*string{"size": nil, "fit": ptr("slim")},
		Description: ptr(""), Brand: ptr(""), Images: &[]string{},
	}, 0))(t)
	if want := map[string]string{"color": "red", "fit": "slim"}; !maps.Equal(got.Attributes, want) {
		t.Fatalf("attributes %v, want %v", got.Attributes, want)
	}
	if got.Description != "" || got.Brand != "" || len(got.Images) != 0 || got.Name != "Merge two" {
		t.Fatalf("removal: %+v", got)
	}
	got = must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{ClearAttributes: true,
		Attributes: map[string]*string{"new": ptr("1")}, Images: &[]string{"https://cdn.example.com/x.jpg"}}, 0))(t)
	if len(got.Attributes) != 1 || got.Attributes["new"] != "1" || len(got.Images) != 1 {
		t.Fatalf("clear and set: %+v", got)
	}
	if read := must(s.Product(ctx(t), p.ID))(t); !equalProducts(read, got) {
		t.Fatalf("read back:\n got %+v\nwant %+v", read, got)
	}
}

func testPatchPrecondition(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	p := must(s.CreateProduct(ctx(t), input("PRE-1", "Pre", "misc", 100)))(t)
	q := must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Name: ptr("Pre two")}, p.Version))(t)
	_, err := s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Brand: ptr("Stale")}, p.Version)
	wantCode(t, err, catalog.CodePreconditionFailed)
	// Even a no-op patch with a stale version is refused: the client's view is out of date.
	_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{}, p.Version)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Category: ptr("missing")}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Amount: ptr(int64(-1))}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.PatchProduct(ctx(t), catalog.NewID(), catalog.ProductPatch{Name: ptr("x")}, 0)
	wantCode(t, err, catalog.CodeNotFound)
	other := must(s.CreateProduct(ctx(t), input("PRE-2", "Other", "misc", 100)))(t)
	_, err = s.PatchProduct(ctx(t), other.ID, catalog.ProductPatch{SKU: ptr("pre-1")}, 0)
	wantCode(t, err, catalog.CodeConflict)
	if got := must(s.Product(ctx(t), p.ID))(t); got.Version != q.Version || got.Brand != q.Brand {
		t.Fatalf("a refused patch changed the product: %+v", got)
	}
}

// testListUnknownCategory: filtering by a category that does not exist is a not_found naming
// the category, like an unknown product; an existing empty category is an empty list.
func testListUnknownCategory(t *testing.T, s catalog.Store) {
	category(t, s, "empty", "")
	for _, q := range []catalog.ListQuery{
		{Filter: catalog.ProductFilter{Category: "nope"}},
		{Filter: catalog.ProductFilter{Category: "nope"}, WithTotal: true},
		{Filter: catalog.ProductFilter{Category: "nope", Query: "mug"}},
		{Filter: catalog.ProductFilter{Category: "nope", Query: "!!"}},
	} {
		q.Sort, q.Limit = catalog.SortNewest, 10
		_, err := s.ListProducts(ctx(t), q)
		wantCode(t, err, catalog.CodeNotFound)
		var e *catalog.Error
		if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "category" || !strings.Contains(e.Fields[0].Problem, `"nope"`) {
			t.Fatalf("ListProducts(%+v): the error does not name the category: %v", q.Filter, err)
		}
	}
	page := must(s.ListProducts(ctx(t), catalog.ListQuery{Filter: catalog.ProductFilter{Category: "empty"}, Sort: catalog.SortNewest, Limit: 10, WithTotal: true}))(t)
	if len(page.Items) != 0 || *page.Total != 0 {
		t.Fatalf("empty category: %+v", page)
	}
}
