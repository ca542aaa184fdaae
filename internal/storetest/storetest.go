// Package storetest is the conformance suite every catalog.Store passes. The SQLite and
// PostgreSQL adapters run the same tests, so the service behaves the same on either: Run with
// an Opener for the suite, and the exported tests that need more than one fresh store
// (TestDeleteKeepsAudit with a way to count audit rows, TestSaleWindowsAcrossInstances with a
// TwinOpener that opens two instances on one database).
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Opener returns a new, empty store for one test, on the given clock; the opener arranges its
// cleanup.
type Opener func(t *testing.T, clock catalog.Clock) catalog.Store

// Run runs the whole suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"ProductRoundTrip", testProductRoundTrip},
		{"SKUUniqueIgnoringCase", testSKUUnique},
		{"UnknownCategory", testUnknownCategory},
		{"ReplaceAndVersions", testReplaceAndVersions},
		{"Status", testStatus},
		{"Delete", testDelete},
		{"CategoryTree", testCategoryTree},
		{"CategoryDelete", testCategoryDelete},
		{"ListFilters", testListFilters},
		{"ListSortsAndPages", testListSortsAndPages},
		{"PaginationDuringInserts", testPaginationDuringInserts},
		{"Search", testSearch},
		{"Relevance", testRelevance},
		{"RelevancePaging", testRelevancePaging},
		{"ImportAndEmpty", testImportAndEmpty},
		{"ConcurrentWritesKeepVersions", testConcurrentWrites},
		{"ListSummary", testListSummary}, // issue 16
		// issue 16: attribute filters at 1M walk or collect; the pages must not tell
		{"AttributeFilterPages", testAttributeFilterPages},
	}
	tests = append(tests, contractTests()...)
	tests = append(tests, variantTests()...)
	tests = append(tests, collectionTests()...) // issue 15
	tests = append(tests, facetTests()...)      // issue 16
	tests = append(tests, facetWriteTests()...) // issue 16: facets follow writes
	tests = append(tests, exportTests()...)     // issue 17
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, nil)
			tc.fn(t, s)
		})
	}
	// events, the relay's positions, webhooks, imports, batches: issue 17
	for _, tc := range slices.Concat(inventoryTests(), eventTests(), feedConsumerTests(), webhookTests(), importTests(), importParallelTests(), batchTests(), entityVersionTests(), oneRuleTests(), priceEventTests(), slugVersionTests()) {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewFakeClock()
			s := open(t, clock.Now)
			tc.fn(t, s, clock)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, err error, code catalog.Code) {
	t.Helper()
	if got := catalog.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// must returns v, failing the test on err: must(s.Product(ctx, id))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func category(t *testing.T, s catalog.Store, slug, parent string) {
	t.Helper()
	must(s.CreateCategory(ctx(t), catalog.CategoryInput{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Parent: parent}))(t)
}

// input is a product without options: one variant with sku, priced amount USD cents, and one
// image. It carries no attributes: attributes must be defined first (defineText).
func input(sku, name, cat string, amount int64) catalog.ProductInput {
	in := catalog.ProductInput{
		Name: name, Category: cat, Brand: "Acme", Status: catalog.StatusActive, Description: "A " + name,
		Media:    []catalog.Media{{URL: "https://cdn.example.com/" + sku + ".jpg", Alt: name}},
		Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: amount}}}},
	}
	in.Normalize()
	return in
}

// own is in without its variants: what ReplaceProduct takes.
func own(in catalog.ProductInput) catalog.ProductInput {
	in.Variants = nil
	return in
}

// defineText defines attributes of type text, filterable, so products may carry them.
func defineText(t *testing.T, s catalog.Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		must(s.CreateAttribute(ctx(t), catalog.AttributeDefinitionInput{Key: k, Name: k, Type: catalog.AttrText, Filterable: true}))(t)
	}
}

// only returns the single variant of a product without options.
func only(t testing.TB, p catalog.Product) catalog.Variant {
	t.Helper()
	if len(p.Variants) != 1 {
		t.Fatalf("product %s has %d variants, want 1", p.ID, len(p.Variants))
	}
	return p.Variants[0]
}

// bySKU returns the variant with sku and its product.
func bySKU(t testing.TB, s catalog.Store, sku string) (catalog.Product, catalog.Variant) {
	t.Helper()
	p, v, err := s.VariantBySKU(context.Background(), sku)
	if err != nil {
		t.Fatalf("VariantBySKU(%q) = %v", sku, err)
	}
	return p, v
}

// skuOf names a listed product by its first variant's SKU (list items carry no variants).
func skuOf(t testing.TB, s catalog.Store, p catalog.Product) string {
	t.Helper()
	if len(p.Variants) == 0 {
		var err error
		if p, err = s.Product(context.Background(), p.ID); err != nil {
			t.Fatalf("Product(%s) = %v", p.ID, err)
		}
	}
	return p.Variants[0].SKU
}

func testProductRoundTrip(t *testing.T, s catalog.Store) {
	category(t, s, "tools", "")
	defineText(t, s, "weight", "handle")
	in := input("Hammer-01", "Claw hammer", "tools", 1999)
	in.Attributes = catalog.Attributes{"weight": "450 g", "handle": "ash wood"}
	in.Media = []catalog.Media{{URL: "https://cdn.example.com/a.jpg", Alt: "Front"}, {URL: "https://cdn.example.com/b.jpg"}}
	in.Variants[0].Barcode = "4006381333931"
	in.Variants[0].WeightGrams = ptr[int64](450)
	in.Variants[0].Image = "https://cdn.example.com/b.jpg"
	in.Variants[0].Prices = append(in.Variants[0].Prices, catalog.PriceInput{Currency: "EUR", Amount: 1899, CompareAt: ptr[int64](2499)})
	in.Normalize()
	p := must(s.CreateProduct(ctx(t), in))(t)
	if !catalog.ValidID(p.ID) {
		t.Fatalf("id %q is not a valid id", p.ID)
	}
	v := only(t, p)
	if p.Version != 1 || v.Stock != (catalog.Stock{Version: v.Stock.Version}) || p.VariantCount != 1 || p.Availability != (catalog.Availability{}) {
		t.Fatalf("new product: version %d stock %+v count %d availability %+v, want version 1, no stock, 1 variant", p.Version, v.Stock, p.VariantCount, p.Availability)
	}
	if !catalog.ValidID(v.ID) || v.ProductID != p.ID || v.SKU != "Hammer-01" || v.Barcode != "4006381333931" || v.WeightGrams == nil ||
		*v.WeightGrams != 450 || v.Image != "https://cdn.example.com/b.jpg" || len(v.Options) != 0 {
		t.Fatalf("variant: %+v", v)
	}
	wantPrices := "[{EUR 1899 2499} {USD 1999 <nil>}]"
	if got := pricesString(v.Prices); got != wantPrices {
		t.Fatalf("prices %s, want %s (ordered by currency)", got, wantPrices)
	}
	if want := []catalog.PriceRange{{Currency: "EUR", Min: 1899, Max: 1899}, {Currency: "USD", Min: 1999, Max: 1999}}; !slices.Equal(p.PriceRanges, want) {
		t.Fatalf("price ranges %+v, want %+v", p.PriceRanges, want)
	}
	if p.CreatedAt.IsZero() || !p.CreatedAt.Equal(p.UpdatedAt) {
		t.Fatalf("timestamps: created %v updated %v", p.CreatedAt, p.UpdatedAt)
	}
	got := must(s.Product(ctx(t), p.ID))(t)
	if !equalProducts(got, p) {
		t.Fatalf("read back:\n got %s\nwant %s", show(got), show(p))
	}
	bp, bv := bySKU(t, s, "hammer-01")
	if bp.ID != p.ID || bv.ID != v.ID || bv.SKU != "Hammer-01" || !equalProducts(bp, p) {
		t.Fatalf("by SKU (other case): got %s/%s %q, want %s/%s with its case kept", bp.ID, bv.ID, bv.SKU, p.ID, v.ID)
	}
	gv := must(s.Variant(ctx(t), p.ID, v.ID))(t)
	if gv.ProductVersion != p.Version || show(gv) != show(v) {
		t.Fatalf("Variant():\n got %s (product version %d)\nwant %s", show(gv), gv.ProductVersion, show(v))
	}
	_, err := s.Product(ctx(t), catalog.NewID())
	wantCode(t, err, catalog.CodeNotFound)
	_, _, err = s.VariantBySKU(ctx(t), "nope-123")
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.Product(ctx(t), "not-an-id")
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.Variant(ctx(t), p.ID, catalog.NewID())
	wantCode(t, err, catalog.CodeNotFound)
	_, _, err = s.ProductVersions(ctx(t), catalog.NewID())
	wantCode(t, err, catalog.CodeNotFound)
	// A variant is found only under its own product.
	other := must(s.CreateProduct(ctx(t), input("NAIL-01", "Nails", "tools", 300)))(t)
	_, err = s.Variant(ctx(t), other.ID, v.ID)
	wantCode(t, err, catalog.CodeNotFound)
}

func pricesString(ps []catalog.Price) string {
	var parts []string
	for _, p := range ps {
		ca := "<nil>"
		if p.CompareAt != nil {
			ca = fmt.Sprint(*p.CompareAt)
		}
		parts = append(parts, fmt.Sprintf("{%s %d %s}", p.Currency, p.Amount, ca))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// show renders v as JSON with every time in UTC, so two reads of one row print alike.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// equalProducts compares everything a client sees of a product and its variants, and the
// versions behind its ETag.
func equalProducts(a, b catalog.Product) bool {
	utc := func(p catalog.Product) catalog.Product {
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		p.Variants = slices.Clone(p.Variants)
		for i := range p.Variants {
			v := &p.Variants[i]
			v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
		}
		return p
	}
	a, b = utc(a), utc(b)
	if a.StockVersion != b.StockVersion || len(a.Variants) != len(b.Variants) {
		return false
	}
	for i := range a.Variants {
		if a.Variants[i].Stock.Version != b.Variants[i].Stock.Version {
			return false
		}
	}
	return show(a) == show(b)
}

func testSKUUnique(t *testing.T, s catalog.Store) {
	category(t, s, "tools", "")
	a := must(s.CreateProduct(ctx(t), input("SAW-1", "Saw", "tools", 100)))(t)
	_, err := s.CreateProduct(ctx(t), input("saw-1", "Another saw", "tools", 100))
	wantCode(t, err, catalog.CodeConflict)
	b := must(s.CreateProduct(ctx(t), input("SAW-2", "Saw two", "tools", 100)))(t)
	bv := only(t, b)
	_, err = s.UpdateVariant(ctx(t), b.ID, bv.ID, catalog.VariantPatch{SKU: ptr("Saw-1")}, 0)
	wantCode(t, err, catalog.CodeConflict)
	if got := must(s.Product(ctx(t), b.ID))(t); only(t, got).SKU != "SAW-2" || got.Version != 1 {
		t.Fatalf("a refused variant update changed the product: %s", show(got))
	}
	// A variant may change the case of its own SKU.
	av := only(t, a)
	if got := must(s.UpdateVariant(ctx(t), a.ID, av.ID, catalog.VariantPatch{SKU: ptr("saw-1")}, 0))(t); got.SKU != "saw-1" {
		t.Fatalf("SKU case change: got %q", got.SKU)
	}
	if _, v := bySKU(t, s, "SAW-1"); v.ID != av.ID || v.SKU != "saw-1" {
		t.Fatalf("after the case change: %s", show(v))
	}
}

func testUnknownCategory(t *testing.T, s catalog.Store) {
	_, err := s.CreateProduct(ctx(t), input("X-100", "X", "missing", 1))
	wantCode(t, err, catalog.CodeInvalid)
	var e *catalog.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != "category" {
		t.Fatalf("error should name the category field: %v", err)
	}
	if empty := must(s.Empty(ctx(t)))(t); !empty {
		t.Fatal("a refused create left something behind")
	}
}

func testReplaceAndVersions(t *testing.T, s catalog.Store) {
	category(t, s, "tools", "")
	category(t, s, "garden", "")
	defineText(t, s, "color")
	p := must(s.CreateProduct(ctx(t), input("RAKE-1", "Rake", "tools", 500)))(t)
	in := own(input("RAKE-1", "Leaf rake", "garden", 750))
	in.Status = catalog.StatusDraft
	in.Attributes = catalog.Attributes{"color": "green"}
	q := must(s.ReplaceProduct(ctx(t), p.ID, in, p.Version))(t)
	if q.Version != p.Version+1 || q.Name != "Leaf rake" || q.Category != "garden" || q.Status != catalog.StatusDraft ||
		!q.Attributes.Equal(catalog.Attributes{"color": "green"}) {
		t.Fatalf("replace: %s", show(q))
	}
	// The replace left the variant (its SKU and price) alone.
	if v := only(t, q); v.SKU != "RAKE-1" || pricesString(v.Prices) != "[{USD 500 <nil>}]" {
		t.Fatalf("replace changed the variant: %s", show(v))
	}
	if !q.CreatedAt.Equal(p.CreatedAt) || q.UpdatedAt.Before(p.UpdatedAt) {
		t.Fatalf("replace timestamps: created %v->%v updated %v->%v", p.CreatedAt, q.CreatedAt, p.UpdatedAt, q.UpdatedAt)
	}
	_, err := s.ReplaceProduct(ctx(t), p.ID, own(input("RAKE-1", "Stale", "tools", 1)), p.Version)
	wantCode(t, err, catalog.CodePreconditionFailed)
	// Variants are not replaced with the product.
	_, err = s.ReplaceProduct(ctx(t), p.ID, input("RAKE-1", "With variants", "tools", 1), 0)
	wantCode(t, err, catalog.CodeInvalid)
	if got := must(s.Product(ctx(t), p.ID))(t); got.Name != "Leaf rake" || got.Version != q.Version {
		t.Fatalf("a refused replace changed the product: %q v%d", got.Name, got.Version)
	}
	_, err = s.ReplaceProduct(ctx(t), catalog.NewID(), in, 0)
	wantCode(t, err, catalog.CodeNotFound)
}

func testStatus(t *testing.T, s catalog.Store) {
	category(t, s, "tools", "")
	p := must(s.CreateProduct(ctx(t), input("DRILL-1", "Drill", "tools", 500)))(t)
	q := must(s.SetProductStatus(ctx(t), p.ID, catalog.StatusArchived, p.Version))(t)
	if q.Status != catalog.StatusArchived || q.Version != 2 {
		t.Fatalf("archive: status %s version %d", q.Status, q.Version)
	}
	_, err := s.SetProductStatus(ctx(t), p.ID, catalog.StatusActive, 1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, err = s.SetProductStatus(ctx(t), p.ID, "gone", 0)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.SetProductStatus(ctx(t), catalog.NewID(), catalog.StatusActive, 0)
	wantCode(t, err, catalog.CodeNotFound)
}

func testDelete(t *testing.T, s catalog.Store) {
	category(t, s, "tools", "")
	p := must(s.CreateProduct(ctx(t), input("VISE-1", "Vise", "tools", 500)))(t)
	wantCode(t, s.DeleteProduct(ctx(t), p.ID, 7), catalog.CodePreconditionFailed)
	if err := s.DeleteProduct(ctx(t), p.ID, p.Version); err != nil {
		t.Fatal(err)
	}
	_, err := s.Product(ctx(t), p.ID)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.Variant(ctx(t), p.ID, only(t, p).ID)
	wantCode(t, err, catalog.CodeNotFound)
	_, _, err = s.VariantBySKU(ctx(t), "VISE-1")
	wantCode(t, err, catalog.CodeNotFound)
	wantCode(t, s.DeleteProduct(ctx(t), p.ID, 0), catalog.CodeNotFound)
	// The SKU is free again.
	must(s.CreateProduct(ctx(t), input("vise-1", "Vise", "tools", 500)))(t)
}

func testCategoryTree(t *testing.T, s catalog.Store) {
	category(t, s, "home", "")
	category(t, s, "kitchen", "home")
	category(t, s, "cookware", "kitchen")
	category(t, s, "apparel", "")
	_, err := s.CreateCategory(ctx(t), catalog.CategoryInput{Slug: "kitchen", Name: "Again"})
	wantCode(t, err, catalog.CodeConflict)
	_, err = s.CreateCategory(ctx(t), catalog.CategoryInput{Slug: "pans", Name: "Pans", Parent: "nowhere"})
	wantCode(t, err, catalog.CodeInvalid)

	var slugs []string
	for _, c := range must(s.Categories(ctx(t)))(t) {
		slugs = append(slugs, c.Slug+"<"+c.Parent)
	}
	if want := []string{"apparel<", "home<", "kitchen<home", "cookware<kitchen"}; !slices.Equal(slugs, want) {
		t.Fatalf("tree order = %v, want %v", slugs, want)
	}

	// A move into its own sub-tree is a cycle.
	home := "cookware"
	_, err = s.UpdateCategory(ctx(t), "home", catalog.CategoryPatch{Parent: &home})
	wantCode(t, err, catalog.CodeInvalid)
	name, root := "Kitchen & dining", ""
	c := must(s.UpdateCategory(ctx(t), "kitchen", catalog.CategoryPatch{Name: &name, Parent: &root}))(t)
	if c.Name != name || c.Parent != "" {
		t.Fatalf("rename and move to root: %+v", c)
	}
	got := must(s.Category(ctx(t), "cookware"))(t)
	if got.Parent != "kitchen" {
		t.Fatalf("children move with their parent: %+v", got)
	}
	_, err = s.UpdateCategory(ctx(t), "missing", catalog.CategoryPatch{Name: &name})
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.Category(ctx(t), "missing")
	wantCode(t, err, catalog.CodeNotFound)

	// Depth is bounded.
	parent := "apparel"
	for i := 2; i <= catalog.MaxCategoryDepth; i++ {
		slug := fmt.Sprintf("level-%d", i)
		category(t, s, slug, parent)
		parent = slug
	}
	_, err = s.CreateCategory(ctx(t), catalog.CategoryInput{Slug: "too-deep", Name: "Too deep", Parent: parent})
	wantCode(t, err, catalog.CodeInvalid)
	// Moving a two-level sub-tree under the deepest leaf would exceed it too.
	_, err = s.UpdateCategory(ctx(t), "kitchen", catalog.CategoryPatch{Parent: &parent})
	wantCode(t, err, catalog.CodeInvalid)
}

func testCategoryDelete(t *testing.T, s catalog.Store) {
	category(t, s, "home", "")
	category(t, s, "kitchen", "home")
	wantCode(t, s.DeleteCategory(ctx(t), "home"), catalog.CodeConflict)
	p := must(s.CreateProduct(ctx(t), input("PAN-1", "Pan", "kitchen", 100)))(t)
	wantCode(t, s.DeleteCategory(ctx(t), "kitchen"), catalog.CodeConflict)
	if err := s.DeleteProduct(ctx(t), p.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCategory(ctx(t), "kitchen"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCategory(ctx(t), "home"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteCategory(ctx(t), "home"), catalog.CodeNotFound)
}

// fixture builds a small catalog: 3 categories deep, several brands, prices and stock, one
// variant per product. It returns the products by their variant's SKU.
func fixture(t *testing.T, s catalog.Store) map[string]catalog.Product {
	category(t, s, "outdoor", "")
	category(t, s, "camping", "outdoor")
	category(t, s, "tents", "camping")
	category(t, s, "books", "")
	type row struct {
		sku, name, cat, brand string
		status                catalog.Status
		price, stock          int64
		currency              string
	}
	rows := []row{
		{"TENT-1", "Alpine tent", "tents", "Northpeak", catalog.StatusActive, 18999, 5, "USD"},
		{"TENT-2", "beach tent", "tents", "Sunwise", catalog.StatusActive, 4999, 0, "USD"},
		{"TENT-3", "Cabin tent", "tents", "Northpeak", catalog.StatusDraft, 29999, 2, "USD"},
		{"STOVE-1", "Camp stove", "camping", "Northpeak", catalog.StatusActive, 7999, 10, "USD"},
		{"LAMP-1", "Lantern", "camping", "Sunwise", catalog.StatusArchived, 2999, 3, "USD"},
		{"BOOK-1", "Zen of trails", "books", "Paperleaf", catalog.StatusActive, 1599, 100, "USD"},
		{"BOOK-2", "Maps and legends", "books", "Paperleaf", catalog.StatusActive, 1800, 0, "EUR"},
	}
	var batch []catalog.NewProduct
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range rows {
		in := input(r.sku, r.name, r.cat, r.price)
		in.Brand, in.Status = r.brand, r.status
		in.Variants[0].Prices[0].Currency, in.Variants[0].InitialStock = r.currency, r.stock
		batch = append(batch, catalog.NewProduct{ProductInput: in, CreatedAt: base.Add(time.Duration(i) * time.Hour)})
	}
	if err := s.Import(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	out := map[string]catalog.Product{}
	for _, r := range rows {
		p, v := bySKU(t, s, r.sku)
		if v.Stock.OnHand != r.stock || v.Stock.Available != r.stock || p.Availability.Available != r.stock || p.Availability.InStock != (r.stock > 0) {
			t.Fatalf("%s imported with stock %+v, availability %+v, want %d", r.sku, v.Stock, p.Availability, r.stock)
		}
		if !p.CreatedAt.Equal(base.Add(time.Duration(len(out)) * time.Hour)) {
			t.Fatalf("%s imported created at %v, want the backdated time", r.sku, p.CreatedAt)
		}
		out[r.sku] = p
	}
	return out
}

func list(t *testing.T, s catalog.Store, q catalog.ListQuery) []string {
	t.Helper()
	if q.Sort == "" {
		q.Sort = catalog.SortName
	}
	if q.Limit == 0 {
		q.Limit = catalog.MaxLimit
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	page := must(s.ListProducts(ctx(t), q))(t)
	var skus []string
	for _, p := range page.Items {
		skus = append(skus, skuOf(t, s, p))
	}
	return skus
}

func ptr[T any](v T) *T { return &v }

func testListFilters(t *testing.T, s catalog.Store) {
	fixture(t, s)
	tests := []struct {
		name   string
		filter catalog.ProductFilter
		want   []string // in name order
	}{
		{"everything", catalog.ProductFilter{}, []string{"TENT-1", "TENT-2", "TENT-3", "STOVE-1", "LAMP-1", "BOOK-2", "BOOK-1"}},
		{"category subtree", catalog.ProductFilter{Category: "camping"}, []string{"TENT-1", "TENT-2", "TENT-3", "STOVE-1", "LAMP-1"}},
		{"leaf category", catalog.ProductFilter{Category: "tents"}, []string{"TENT-1", "TENT-2", "TENT-3"}},
		{"active", catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}, []string{"TENT-1", "TENT-2", "STOVE-1", "BOOK-2", "BOOK-1"}},
		{"draft or archived", catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusDraft, catalog.StatusArchived}}, []string{"TENT-3", "LAMP-1"}},
		{"brand", catalog.ProductFilter{Brand: "Sunwise"}, []string{"TENT-2", "LAMP-1"}},
		{"brand in another case", catalog.ProductFilter{Brand: "sUNWISE"}, []string{"TENT-2", "LAMP-1"}},
		{"brand in lower case, combined", catalog.ProductFilter{Brand: "northpeak", Statuses: []catalog.Status{catalog.StatusActive}}, []string{"TENT-1", "STOVE-1"}},
		{"price range", catalog.ProductFilter{Currency: "USD", MinPrice: ptr[int64](2999), MaxPrice: ptr[int64](18999)}, []string{"TENT-1", "TENT-2", "STOVE-1", "LAMP-1"}},
		{"price range in another currency", catalog.ProductFilter{Currency: "EUR", MinPrice: ptr[int64](1000), MaxPrice: ptr[int64](2000)}, []string{"BOOK-2"}},
		{"open price range", catalog.ProductFilter{Currency: "USD", MinPrice: ptr[int64](7999)}, []string{"TENT-1", "TENT-3", "STOVE-1"}},
		{"currency", catalog.ProductFilter{Currency: "EUR"}, []string{"BOOK-2"}},
		{"currency lists only products priced in it", catalog.ProductFilter{Currency: "USD", Category: "books"}, []string{"BOOK-1"}},
		{"in stock", catalog.ProductFilter{InStock: ptr(true), Category: "outdoor"}, []string{"TENT-1", "TENT-3", "STOVE-1", "LAMP-1"}},
		{"out of stock", catalog.ProductFilter{InStock: ptr(false)}, []string{"TENT-2", "BOOK-2"}},
		{"combined", catalog.ProductFilter{Category: "outdoor", Brand: "Northpeak", Statuses: []catalog.Status{catalog.StatusActive}, InStock: ptr(true)}, []string{"TENT-1", "STOVE-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := list(t, s, catalog.ListQuery{Filter: tc.filter})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			page := must(s.ListProducts(ctx(t), catalog.ListQuery{Filter: tc.filter, Sort: catalog.SortName, Limit: 2, WithTotal: true}))(t)
			if page.Total == nil || *page.Total != int64(len(tc.want)) {
				t.Fatalf("total = %v, want %d", page.Total, len(tc.want))
			}
		})
	}
}

func testListSortsAndPages(t *testing.T, s catalog.Store) {
	fx := fixture(t, s)
	want := map[catalog.Sort][]string{
		catalog.SortName:     {"TENT-1", "TENT-2", "TENT-3", "STOVE-1", "LAMP-1", "BOOK-2", "BOOK-1"},
		catalog.SortNameDesc: {"BOOK-1", "BOOK-2", "LAMP-1", "STOVE-1", "TENT-3", "TENT-2", "TENT-1"},
		catalog.SortOldest:   {"TENT-1", "TENT-2", "TENT-3", "STOVE-1", "LAMP-1", "BOOK-1", "BOOK-2"},
		catalog.SortNewest:   {"BOOK-2", "BOOK-1", "LAMP-1", "STOVE-1", "TENT-3", "TENT-2", "TENT-1"},
		// Price sorts are in one currency: BOOK-2, priced in EUR only, is not listed in USD.
		catalog.SortPrice:     {"BOOK-1", "LAMP-1", "TENT-2", "STOVE-1", "TENT-1", "TENT-3"},
		catalog.SortPriceDesc: {"TENT-3", "TENT-1", "STOVE-1", "TENT-2", "LAMP-1", "BOOK-1"},
	}
	for sort, skus := range want {
		t.Run(string(sort), func(t *testing.T) {
			var f catalog.ProductFilter
			if sort == catalog.SortPrice || sort == catalog.SortPriceDesc {
				f.Currency = "USD"
			}
			for _, size := range []int{1, 2, 3, 7, 100} {
				got := pageAll(t, s, catalog.ListQuery{Sort: sort, Limit: size, Filter: f})
				if !slices.Equal(got, skus) {
					t.Fatalf("pages of %d: got %v, want %v", size, got, skus)
				}
			}
		})
	}
	// Equal sort keys still page without skips or repeats (ties broken by id).
	for _, sku := range []string{"TENT-1", "TENT-2", "TENT-3"} {
		v := only(t, fx[sku])
		must(s.UpdateVariant(ctx(t), v.ProductID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 1000}}}, 0))(t)
	}
	got := pageAll(t, s, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 1, Filter: catalog.ProductFilter{Category: "tents", Currency: "USD"}})
	if len(got) != 3 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 3 {
		t.Fatalf("ties: got %v", got)
	}
}

func pageAll(t *testing.T, s catalog.Store, q catalog.ListQuery) []string {
	t.Helper()
	var skus []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		page := must(s.ListProducts(ctx(t), q))(t)
		for _, p := range page.Items {
			skus = append(skus, skuOf(t, s, p))
		}
		if page.Next == nil {
			return skus
		}
		// The cursor must survive its trip through a client.
		c, err := catalog.ParseCursor(page.Next.String())
		if err != nil {
			t.Fatal(err)
		}
		q.After = c
	}
}

// testPaginationDuringInserts pages through a list while another goroutine inserts products
// that sort before, between and after the rows already there: every product that existed when
// paging began is seen exactly once, in order.
func testPaginationDuringInserts(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	var batch []catalog.NewProduct
	for i := range 200 {
		batch = append(batch, catalog.NewProduct{ProductInput: input(fmt.Sprintf("OLD-%03d", i), fmt.Sprintf("item %03d", 2*i+1), "misc", int64(i))})
	}
	if err := s.Import(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Even numbers sort between the existing odd ones.
			if _, err := s.CreateProduct(context.Background(), input(fmt.Sprintf("NEW-%04d", i), fmt.Sprintf("item %03d", (2*i)%400), "misc", 1)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var seen []string
	q := catalog.ListQuery{Sort: catalog.SortName, Limit: 7}
	var last string
	for {
		page := must(s.ListProducts(ctx(t), q))(t)
		for _, p := range page.Items {
			key := catalog.SortKey(p.Name) + "\x00" + p.ID
			if key <= last {
				t.Fatalf("order broke at %s after %q", p.ID, last)
			}
			last = key
			if sku := skuOf(t, s, p); strings.HasPrefix(sku, "OLD-") {
				seen = append(seen, sku)
			}
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	close(stop)
	wg.Wait()
	if len(seen) != 200 || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 200 {
		t.Fatalf("saw %d old products (%d distinct), want each of 200 once", len(seen), len(slices.Compact(slices.Sorted(slices.Values(seen)))))
	}
}

// testSearch holds both stores to one query semantics (ADR 0011): words of letters and digits,
// punctuation a separator and never syntax, case and accents folded, stemmed, stop words
// ignored (a query of only stop words matches nothing), every term required, the last one
// matched as a prefix; name, brand, description and SKU searched.
func testSearch(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	items := []struct{ sku, name, brand, desc string }{
		{"S-1", "Waterproof hiking boots", "Trailcraft", "Leather boots for wet mountain trails."},
		{"S-2", "Running shoes", "Fleetfoot", "Light mesh shoes for road running."},
		{"S-3", "Rain jacket", "Trailcraft", "A waterproof shell that packs small."},
		{"S-4", "Coffee grinder", "Brewmaster", "Stainless steel burrs grind coffee evenly."},
		{"MUG-7Q", "Blue café mug", "Crème Ware", "The mug of the house: glazed stoneware, 0.5 l."},
		{"SPK-100", "Bluetooth speaker", "Soundly", "Loud and clear, with a 12-hour battery."},
		{"BK-42", "The Theory of Everything", "Penguin", "A book about the universe and its laws."},
	}
	for _, it := range items {
		in := input(it.sku, it.name, "misc", 100)
		in.Brand, in.Description = it.brand, it.desc
		must(s.CreateProduct(ctx(t), in))(t)
	}
	tests := []struct {
		q    string
		want []string // SKUs in name order, descending
	}{
		{"waterproof", []string{"S-1", "S-3"}},      // name and description
		{"trailcraft", []string{"S-1", "S-3"}},      // brand
		{"WATERPROOF boots", []string{"S-1"}},       // every word, any case
		{"stainless steel", []string{"S-4"}},        // description only
		{"grinding", []string{"S-4"}},               // stemmed
		{"shoe", []string{"S-2"}},                   // singular finds plural
		{"waterproof grinder", nil},                 // no product has both
		{"boots OR coffee", nil},                    // no operators: "or" is a stop word
		{"boots -leather", []string{"S-1"}},         // nor negation
		{`"); DROP TABLE products; --`, nil},        // punctuation is not syntax
		{`blue' & !mug:* | (`, []string{"MUG-7Q"}},  // nor is tsquery syntax
		{`mug" OR "*`, []string{"MUG-7Q"}},          // nor FTS5 syntax
		{"the", nil},                                // only stop words: nothing
		{"The of AND", nil},                         // only stop words: nothing
		{"thé", nil},                                // a stop word with an accent
		{"the mug", []string{"MUG-7Q"}},             // stop words ignored
		{"theory of everything", []string{"BK-42"}}, // in a title too
		{"blu", []string{"SPK-100", "MUG-7Q"}},      // the last term is a prefix
		{"blue", []string{"SPK-100", "MUG-7Q"}},     // a whole word is a prefix of more
		{"blu mug", nil},                            // other terms are whole words
		{"mug blu", []string{"MUG-7Q"}},             // the last one is a prefix
		{"theor", []string{"BK-42"}},                // a prefix beginning with a stop word
		{"univ", []string{"BK-42"}},                 // description prefix
		{"CAFÉ", []string{"MUG-7Q"}},                // accents and case folded
		{"cafe", []string{"MUG-7Q"}},                // a query without the accent
		{"crème", []string{"MUG-7Q"}},               // brand with an accent
		{"creme ware", []string{"MUG-7Q"}},          // both brand words
		{"naïve café", nil},                         // non-ASCII is fine
		{"mug-7q", []string{"MUG-7Q"}},              // an SKU, as typed
		{"MUG 7Q", []string{"MUG-7Q"}},              // an SKU, spaced
		{"spk-100", []string{"SPK-100"}},            // a hyphen before digits is no minus
		{"spk-10", []string{"SPK-100"}},             // an SKU prefix
		{"12 hour", []string{"SPK-100"}},            // hyphenated words
		{"0.5", []string{"MUG-7Q"}},                 // a decimal point separates
		{"loud, clear!", []string{"SPK-100"}},       // punctuation in the query
		{"  speaker  ", []string{"SPK-100"}},        // surrounding space
		{"s-4", []string{"BK-42", "S-4"}},           // "s" is a stop word; 4 is a prefix
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got := list(t, s, catalog.ListQuery{Filter: catalog.ProductFilter{Query: tc.q}, Sort: catalog.SortNameDesc})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("search %q = %v, want %v", tc.q, got, tc.want)
			}
		})
	}

	// Whatever is typed is words, never syntax: random strings of the characters tsquery and
	// FTS5 give meaning to, accents, other scripts and stop words never fail a search, and
	// adding punctuation around the words of a query never changes what it finds.
	rng := rand.New(rand.NewPCG(16, 11))
	alphabet := []string{"'", `"`, `\`, ":", "*", "&", "|", "!", "(", ")", "<->", "-", "+", "^", "NEAR", "AND", "OR", "NOT",
		" ", " ", "the", "a", "mug", "blu", "café", "é", "ß", "日本", "🙂", "0", "7q", "spk", "%", "_", "{", "}"}
	for range 300 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		q := b.String()
		got := list(t, s, catalog.ListQuery{Filter: catalog.ProductFilter{Query: q}, Sort: catalog.SortNameDesc})
		words := strings.Join(catalog.SearchTerms(q), " ")
		if words == "" {
			if len(got) != 0 {
				t.Fatalf("search %q (no terms) = %v, want nothing", q, got)
			}
			continue
		}
		if plain := list(t, s, catalog.ListQuery{Filter: catalog.ProductFilter{Query: words}, Sort: catalog.SortNameDesc}); !slices.Equal(got, plain) {
			t.Fatalf("search %q = %v, but its words %q find %v", q, got, words, plain)
		}
	}
}

func testImportAndEmpty(t *testing.T, s catalog.Store) {
	if !must(s.Empty(ctx(t)))(t) {
		t.Fatal("a new store is not empty")
	}
	category(t, s, "misc", "")
	if must(s.Empty(ctx(t)))(t) {
		t.Fatal("a store with a category is empty")
	}
	var batch []catalog.NewProduct
	for i := range 1234 {
		in := input(fmt.Sprintf("IMP-%05d", i), fmt.Sprintf("Imported %d", i), "misc", int64(i))
		in.Variants[0].InitialStock = int64(i % 7)
		batch = append(batch, catalog.NewProduct{ProductInput: in})
	}
	if err := s.Import(ctx(t), batch); err != nil {
		t.Fatal(err)
	}
	page := must(s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortNewest, Limit: 1, WithTotal: true}))(t)
	if *page.Total != 1234 {
		t.Fatalf("imported %d products, want 1234", *page.Total)
	}
	_, v := bySKU(t, s, "IMP-00013")
	if v.Stock.OnHand != 13%7 {
		t.Fatalf("imported stock %+v, want %d", v.Stock, 13%7)
	}
	if ms := must(s.Movements(ctx(t), v.ID, 0, 10))(t); len(ms) != 1 || ms[0].Kind != catalog.MoveInitial || ms[0].OnHandDelta != 13%7 {
		t.Fatalf("imported stock's log: %+v, want one initial movement of %d", ms, 13%7)
	}
	// A duplicate fails the import with a conflict.
	err := s.Import(ctx(t), []catalog.NewProduct{{ProductInput: input("imp-00001", "Dup", "misc", 1)}})
	wantCode(t, err, catalog.CodeConflict)
}

// testConcurrentWrites replaces one product from many goroutines with its version as the
// precondition: exactly one writer wins each version, the rest get precondition_failed.
func testConcurrentWrites(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	p := must(s.CreateProduct(ctx(t), input("RACE-1", "Race", "misc", 1)))(t)
	const writers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, stale := 0, 0
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := own(input("RACE-1", fmt.Sprintf("Race %d", i), "misc", int64(i)))
			_, err := s.ReplaceProduct(context.Background(), p.ID, in, p.Version)
			mu.Lock()
			defer mu.Unlock()
			switch catalog.ErrorCode(err) {
			case "":
				wins++
			case catalog.CodePreconditionFailed:
				stale++
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || stale != writers-1 {
		t.Fatalf("wins %d stale %d, want 1 and %d", wins, stale, writers-1)
	}
	if got := must(s.Product(ctx(t), p.ID))(t); got.Version != 2 {
		t.Fatalf("version = %d, want 2", got.Version)
	}
}
