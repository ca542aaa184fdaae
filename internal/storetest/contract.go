package storetest

import (
	"context"
	"errors"
	"fmt"
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
// writer set it. One patcher changes the variant's price: variant writes lock the product row
// and move its version like product writes.
func testPatchConcurrent(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	defineText(t, s, "color", "k0", "k1", "k2", "k3")
	in := input("MERGE-1", "Merge", "misc", 1)
	in.Attributes = catalog.Attributes{"color": "red"}
	p := must(s.CreateProduct(ctx(t), in))(t)
	v := only(t, p)
	const rounds = 15
	type write func(n int) error
	patch := func(mk func(n int) catalog.ProductPatch) write {
		return func(n int) error {
			_, err := s.PatchProduct(context.Background(), p.ID, mk(n), 0)
			return err
		}
	}
	writers := []write{
		patch(func(n int) catalog.ProductPatch { return catalog.ProductPatch{Name: ptr(fmt.Sprintf("Name %d", n))} }),
		patch(func(n int) catalog.ProductPatch {
			return catalog.ProductPatch{Description: ptr(fmt.Sprintf("Description %d", n))}
		}),
		patch(func(n int) catalog.ProductPatch { return catalog.ProductPatch{Brand: ptr(fmt.Sprintf("Brand %d", n))} }),
		func(n int) error {
			_, err := s.UpdateVariant(context.Background(), p.ID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: int64(1000 + n)}}}, 0)
			return err
		},
	}
	for i := range 4 {
		key := fmt.Sprintf("k%d", i)
		writers = append(writers, patch(func(n int) catalog.ProductPatch {
			return catalog.ProductPatch{Attributes: map[string]any{key: fmt.Sprintf("v%d", n)}}
		}))
	}
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range rounds {
				if err := w(n); err != nil {
					t.Errorf("writer %d round %d: %v", i, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := must(s.Product(ctx(t), p.ID))(t)
	last := fmt.Sprint(rounds - 1)
	wantAttrs := catalog.Attributes{"color": "red", "k0": "v" + last, "k1": "v" + last, "k2": "v" + last, "k3": "v" + last}
	if price, _ := only(t, got).Price("USD"); got.Name != "Name "+last || got.Description != "Description "+last || got.Brand != "Brand "+last ||
		price.Amount != 1000+rounds-1 || !got.Attributes.Equal(wantAttrs) {
		t.Fatalf("after concurrent patches: %s", show(got))
	}
	if want := p.Version + int64(len(writers)*rounds); got.Version != want {
		t.Fatalf("version %d, want %d (one per applied write)", got.Version, want)
	}
}

// testPatchNoOp: a patch that changes nothing keeps the version (so the ETag) and writes no
// price history, for the product and for a variant.
func testPatchNoOp(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	defineText(t, s, "color")
	in := input("NOOP-1", "Same", "misc", 500)
	in.Attributes = catalog.Attributes{"color": "red"}
	p := must(s.CreateProduct(ctx(t), in))(t)
	v := only(t, p)
	hist := len(must(s.PriceHistory(ctx(t), v.ID, ""))(t))
	for _, pp := range []catalog.ProductPatch{
		{},
		{Name: ptr("Same")},
		{Attributes: map[string]any{"color": "red"}, RemoveAttributes: map[string]bool{"absent": true}},
		{Media: &p.Media, Status: ptr(p.Status), Description: ptr("  " + p.Description + " ")},
		{Options: &[]catalog.Option{}},
	} {
		got := must(s.PatchProduct(ctx(t), p.ID, pp, p.Version))(t)
		if got.Version != p.Version || !got.UpdatedAt.Equal(p.UpdatedAt) || !equalProducts(got, p) {
			t.Fatalf("no-op patch %+v changed the product:\n got %s\nwant %s", pp, show(got), show(p))
		}
	}
	for _, vp := range []catalog.VariantPatch{
		{},
		{SKU: ptr("NOOP-1"), Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 500}}},
		{Barcode: ptr(""), RemoveAttribute: map[string]bool{"absent": true}},
	} {
		got := must(s.UpdateVariant(ctx(t), p.ID, v.ID, vp, p.Version))(t)
		if got.ProductVersion != p.Version || !got.UpdatedAt.Equal(v.UpdatedAt) {
			t.Fatalf("no-op variant patch %+v changed the variant: %s (product version %d, want %d)", vp, show(got), got.ProductVersion, p.Version)
		}
	}
	if n := len(must(s.PriceHistory(ctx(t), v.ID, ""))(t)); n != hist {
		t.Fatalf("no-op patches wrote price history: %d rows, want %d", n, hist)
	}
	got := must(s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 600}}}, 0))(t)
	if price, _ := got.Price("USD"); got.ProductVersion != p.Version+1 || price.Amount != 600 {
		t.Fatalf("price patch: product version %d price %s", got.ProductVersion, pricesString(got.Prices))
	}
	if n := len(must(s.PriceHistory(ctx(t), v.ID, ""))(t)); n != hist+1 {
		t.Fatalf("a price patch wrote %d price rows, want 1", n-hist)
	}
}

// testPatchMerge: attributes merge key by key, nulls remove optional fields, arrays replace.
func testPatchMerge(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	defineText(t, s, "color", "size", "fit", "new")
	in := input("MRG-2", "Merge two", "misc", 100)
	in.Attributes = catalog.Attributes{"color": "red", "size": "L"}
	p := must(s.CreateProduct(ctx(t), in))(t)
	got := must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{
		Attributes: map[string]any{"fit": "slim"}, RemoveAttributes: map[string]bool{"size": true},
		Description: ptr(""), Brand: ptr(""), Media: &[]catalog.Media{},
	}, 0))(t)
	if want := (catalog.Attributes{"color": "red", "fit": "slim"}); !got.Attributes.Equal(want) {
		t.Fatalf("attributes %v, want %v", got.Attributes, want)
	}
	if got.Description != "" || got.Brand != "" || len(got.Media) != 0 || got.Name != "Merge two" {
		t.Fatalf("removal: %s", show(got))
	}
	got = must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{ClearAttributes: true,
		Attributes: map[string]any{"new": "1"}, Media: &[]catalog.Media{{URL: "https://cdn.example.com/x.jpg"}}}, 0))(t)
	if len(got.Attributes) != 1 || got.Attributes["new"] != "1" || len(got.Media) != 1 {
		t.Fatalf("clear and set: %s", show(got))
	}
	if read := must(s.Product(ctx(t), p.ID))(t); !equalProducts(read, got) {
		t.Fatalf("read back:\n got %s\nwant %s", show(read), show(got))
	}
	// A variant's attributes merge the same way.
	v := only(t, got)
	gv := must(s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{Attributes: map[string]any{"color": "blue", "size": "M"}}, 0))(t)
	gv = must(s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{RemoveAttribute: map[string]bool{"size": true}, WeightGrams: ptr(ptr[int64](120))}, 0))(t)
	if !gv.Attributes.Equal(catalog.Attributes{"color": "blue"}) || gv.WeightGrams == nil || *gv.WeightGrams != 120 {
		t.Fatalf("variant merge: %s", show(gv))
	}
	gv = must(s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{WeightGrams: ptr[*int64](nil), ClearAttributes: true}, 0))(t)
	if len(gv.Attributes) != 0 || gv.WeightGrams != nil {
		t.Fatalf("variant removal: %s", show(gv))
	}
	if read := must(s.Variant(ctx(t), p.ID, v.ID))(t); show(read) != show(gv) {
		t.Fatalf("variant read back:\n got %s\nwant %s", show(read), show(gv))
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
	v := only(t, p)
	_, err = s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{}, p.Version)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Category: ptr("missing")}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: -1}}}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.PatchProduct(ctx(t), catalog.NewID(), catalog.ProductPatch{Name: ptr("x")}, 0)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.UpdateVariant(ctx(t), p.ID, catalog.NewID(), catalog.VariantPatch{SKU: ptr("PRE-9")}, 0)
	wantCode(t, err, catalog.CodeNotFound)
	other := must(s.CreateProduct(ctx(t), input("PRE-2", "Other", "misc", 100)))(t)
	_, err = s.UpdateVariant(ctx(t), other.ID, only(t, other).ID, catalog.VariantPatch{SKU: ptr("pre-1")}, 0)
	wantCode(t, err, catalog.CodeConflict)
	if got := must(s.Product(ctx(t), p.ID))(t); got.Version != q.Version || got.Brand != q.Brand {
		t.Fatalf("a refused patch changed the product: %s", show(got))
	}
	if got := must(s.Product(ctx(t), other.ID))(t); got.Version != other.Version || only(t, got).SKU != "PRE-2" {
		t.Fatalf("a refused variant patch changed the product: %s", show(got))
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
