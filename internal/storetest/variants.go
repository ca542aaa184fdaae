package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// variantTests prove the variant model through the store: options and their rules, the
// variant limit, deleting variants, which writes move which version, typed attributes and
// their filters, and prices per currency in lists.
func variantTests() []struct {
	name string
	fn   func(*testing.T, catalog.Store)
} {
	return []struct {
		name string
		fn   func(*testing.T, catalog.Store)
	}{
		{"VariantsCreateAndRead", testVariantsCreateAndRead},
		{"VariantSKUsUniqueAcrossProducts", testVariantSKUsUnique},
		{"VariantCombinations", testVariantCombinations},
		{"OptionsChangeWithTheProduct", testOptionsChange},
		{"VariantLimit", testVariantLimit},
		{"DeleteVariant", testDeleteVariant},
		{"VariantWritesMoveProductVersion", testVariantVersions},
		{"TypedAttributes", testTypedAttributes},
		{"AttributeDefinitionsInUse", testAttributeDefinitionsInUse},
		{"AttributeFilters", testAttributeFilters},
		{"PricesPerCurrency", testPricesPerCurrency},
		{"PriceSortInOneCurrency", testPriceSortInOneCurrency},
		{"ImportVariants", testImportVariants},
		{"DeleteProductWithVariants", testDeleteProductWithVariants},
		{"ConcurrentVariantUniqueness", testConcurrentVariantUniqueness},
		{"ConcurrentVariantUpdates", testConcurrentVariantUpdates},
	}
}

// shirt is a product with options Size and Colour and one variant per combination, SKU
// prefix-SIZE-COLOUR, priced amount USD cents plus 100 per size step (a bigger size costs more).
func shirt(prefix, cat string, sizes, colours []string, amount int64) catalog.ProductInput {
	in := catalog.ProductInput{
		Name: "Shirt " + prefix, Category: cat, Brand: "Acme", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: sizes}, {Name: "Colour", Values: colours}},
	}
	for i, sz := range sizes {
		for _, c := range colours {
			in.Variants = append(in.Variants, catalog.VariantInput{
				SKU:     fmt.Sprintf("%s-%s-%s", prefix, sz, c),
				Options: map[string]string{"Size": sz, "Colour": c},
				Prices:  []catalog.PriceInput{{Currency: "USD", Amount: amount + int64(100*i)}},
			})
		}
	}
	in.Normalize()
	return in
}

func variantInput(sku string, opts map[string]string, amount int64) catalog.VariantInput {
	in := catalog.VariantInput{SKU: sku, Options: opts, Prices: []catalog.PriceInput{{Currency: "USD", Amount: amount}}}
	in.Normalize()
	return in
}

// optionsOf lists each variant's SKU and option values in position order: "SKU:Size=M/Colour=Red".
func optionsOf(p catalog.Product) []string {
	var out []string
	for _, v := range p.Variants {
		out = append(out, v.SKU+":"+catalog.ComboKey(p.Options, v.Options))
	}
	return out
}

// unchanged fails unless the product reads exactly as before: a refused write changed nothing.
func unchanged(t *testing.T, s catalog.Store, before catalog.Product, what string) {
	t.Helper()
	if got := must(s.Product(ctx(t), before.ID))(t); !equalProducts(got, before) {
		t.Fatalf("%s changed the product:\n got %s\nwant %s", what, show(got), show(before))
	}
}

// summaryAgrees fails unless the product's list item carries the same summary as a read of the
// product: lists keep price ranges, availability and the variant count in SQL, and every write
// that changes a variant, a price or stock must keep them right.
func summaryAgrees(t *testing.T, s catalog.Store, productID, what string) {
	t.Helper()
	p := must(s.Product(ctx(t), productID))(t)
	q := catalog.ListQuery{Sort: catalog.SortNewest, Limit: catalog.MaxLimit, Filter: catalog.ProductFilter{Category: p.Category}}
	for {
		page := must(s.ListProducts(ctx(t), q))(t)
		for _, item := range page.Items {
			if item.ID != productID {
				continue
			}
			if item.VariantCount != p.VariantCount || !slices.Equal(item.PriceRanges, p.PriceRanges) || item.Availability != p.Availability || item.Version != p.Version {
				t.Fatalf("%s: the list item says %d variants, ranges %+v, availability %+v, version %d; the product %d, %+v, %+v, %d",
					what, item.VariantCount, item.PriceRanges, item.Availability, item.Version, p.VariantCount, p.PriceRanges, p.Availability, p.Version)
			}
			return
		}
		if page.Next == nil {
			t.Fatalf("%s: product %s is not listed in its category", what, productID)
		}
		q.After = page.Next
	}
}

func testVariantsCreateAndRead(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	in := shirt("TEE", "apparel", []string{"S", "M", "L"}, []string{"Red", "Blue"}, 1200)
	for i := range in.Variants {
		in.Variants[i].InitialStock = int64(i) // 0..5: the first variant has none
	}
	in.Variants[5].Prices = append(in.Variants[5].Prices, catalog.PriceInput{Currency: "EUR", Amount: 1500})
	p := must(s.CreateProduct(ctx(t), in))(t)
	want := []string{"TEE-S-Red:Size=S / Colour=Red", "TEE-S-Blue:Size=S / Colour=Blue", "TEE-M-Red:Size=M / Colour=Red",
		"TEE-M-Blue:Size=M / Colour=Blue", "TEE-L-Red:Size=L / Colour=Red", "TEE-L-Blue:Size=L / Colour=Blue"}
	if got := optionsOf(p); !slices.Equal(got, want) {
		t.Fatalf("variants %v, want %v (creation order)", got, want)
	}
	for i, v := range p.Variants {
		if v.Position != i || v.ProductID != p.ID || v.Stock.OnHand != int64(i) || v.Stock.Available != int64(i) {
			t.Fatalf("variant %d: %s", i, show(v))
		}
	}
	if p.VariantCount != 6 || p.Availability != (catalog.Availability{InStock: true, Available: 0 + 1 + 2 + 3 + 4 + 5}) {
		t.Fatalf("count %d availability %+v, want 6 and 15 available", p.VariantCount, p.Availability)
	}
	wantRanges := []catalog.PriceRange{{Currency: "EUR", Min: 1500, Max: 1500}, {Currency: "USD", Min: 1200, Max: 1400}}
	if !slices.Equal(p.PriceRanges, wantRanges) {
		t.Fatalf("price ranges %+v, want %+v", p.PriceRanges, wantRanges)
	}
	got := must(s.Product(ctx(t), p.ID))(t)
	if !equalProducts(got, p) {
		t.Fatalf("read back:\n got %s\nwant %s", show(got), show(p))
	}
	// By SKU, any variant answers with its whole product.
	bp, bv := bySKU(t, s, "tee-m-blue")
	if bv.ID != p.Variants[3].ID || bv.Options["Size"] != "M" || bv.Options["Colour"] != "Blue" || !equalProducts(bp, p) {
		t.Fatalf("VariantBySKU(tee-m-blue) = %s of %s", show(bv), show(bp))
	}
	// A list item carries the summary, not the variants.
	page := must(s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortNewest, Limit: 10}))(t)
	if len(page.Items) != 1 {
		t.Fatalf("listed %d products, want 1", len(page.Items))
	}
	item := page.Items[0]
	if item.Variants != nil || item.VariantCount != 6 || !slices.Equal(item.PriceRanges, wantRanges) || item.Availability != p.Availability || item.Version != p.Version {
		t.Fatalf("list item %s, want no variants, 6 counted, ranges %+v, availability %+v", show(item), wantRanges, p.Availability)
	}
	// In stock when any variant is; every variant's SKU finds the product in a search.
	for _, f := range []struct {
		filter catalog.ProductFilter
		n      int
	}{
		{catalog.ProductFilter{InStock: ptr(true)}, 1}, {catalog.ProductFilter{InStock: ptr(false)}, 0},
		{catalog.ProductFilter{Query: "TEE-L-Blue"}, 1}, {catalog.ProductFilter{Query: "tee m blue"}, 1},
	} {
		if got := list(t, s, catalog.ListQuery{Filter: f.filter}); len(got) != f.n {
			t.Fatalf("ListProducts(%+v) = %v, want %d product", f.filter, got, f.n)
		}
	}
	// Summaries follow stock and price changes.
	must(s.AdjustStock(ctx(t), p.Variants[0].ID, catalog.Adjustment{Delta: 10, Reason: "received"}, "a", nil))(t)
	must(s.UpdateVariant(ctx(t), p.ID, p.Variants[1].ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 900}}}, 0))(t)
	item = must(s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortNewest, Limit: 10}))(t).Items[0]
	wantRanges[1].Min = 900
	if !slices.Equal(item.PriceRanges, wantRanges) || item.Availability.Available != 25 {
		t.Fatalf("after a stock and a price change: ranges %+v availability %+v, want %+v and 25", item.PriceRanges, item.Availability, wantRanges)
	}
}

func testVariantSKUsUnique(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	a := must(s.CreateProduct(ctx(t), shirt("UNQ", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)))(t)
	// Another product may not take a SKU of a variant in any case, on create ...
	taken := shirt("OTHER", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)
	taken.Variants[1].SKU = "unq-m-red"
	_, err := s.CreateProduct(ctx(t), taken)
	wantCode(t, err, catalog.CodeConflict)
	if _, _, err := s.VariantBySKU(ctx(t), "OTHER-S-Red"); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Fatalf("a refused create left its first variant behind: %v", err)
	}
	// ... on import ...
	err = s.Import(ctx(t), []catalog.NewProduct{{ProductInput: input("Unq-S-RED", "Imported", "apparel", 1)}})
	wantCode(t, err, catalog.CodeConflict)
	// ... when adding a variant ...
	b := must(s.CreateProduct(ctx(t), shirt("B", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)))(t)
	b.Options[1].Values = append(b.Options[1].Values, "Blue")
	b = must(s.PatchProduct(ctx(t), b.ID, catalog.ProductPatch{Options: &b.Options}, 0))(t)
	_, err = s.AddVariant(ctx(t), b.ID, variantInput("UNQ-S-RED", map[string]string{"Size": "S", "Colour": "Blue"}, 1), 0)
	wantCode(t, err, catalog.CodeConflict)
	// ... or renaming one, even to a sibling's SKU in the same product.
	_, err = s.UpdateVariant(ctx(t), b.ID, b.Variants[0].ID, catalog.VariantPatch{SKU: ptr("uNQ-m-Red")}, 0)
	wantCode(t, err, catalog.CodeConflict)
	_, err = s.UpdateVariant(ctx(t), b.ID, b.Variants[0].ID, catalog.VariantPatch{SKU: ptr("b-m-red")}, 0)
	wantCode(t, err, catalog.CodeConflict)
	unchanged(t, s, b, "a refused SKU")
	unchanged(t, s, a, "another product's refused SKU")
	// Two variants of one new product with one SKU in two cases are refused before the store.
	dup := shirt("DUP", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)
	dup.Variants[1].SKU = "dup-s-red"
	_, err = s.CreateProduct(ctx(t), dup)
	wantCode(t, err, catalog.CodeInvalid)
	// A renamed SKU frees the old one.
	must(s.UpdateVariant(ctx(t), a.ID, a.Variants[0].ID, catalog.VariantPatch{SKU: ptr("UNQ-S-RED-2")}, 0))(t)
	must(s.AddVariant(ctx(t), b.ID, variantInput("unq-s-red", map[string]string{"Size": "S", "Colour": "Blue"}, 1), 0))(t)
}

func testVariantCombinations(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	p := must(s.CreateProduct(ctx(t), shirt("CMB", "apparel", []string{"S", "M", "L"}, []string{"Red", "Blue"}, 1000)))(t)
	// Every combination is taken: a new variant with one of them is refused.
	_, err := s.AddVariant(ctx(t), p.ID, variantInput("CMB-NEW", map[string]string{"Size": "M", "Colour": "Blue"}, 1), 0)
	wantCode(t, err, catalog.CodeConflict)
	// A value that is not one of the option's, a missing option, an unknown option.
	for _, opts := range []map[string]string{
		{"Size": "XL", "Colour": "Blue"},
		{"Size": "M"},
		{"Size": "M", "Colour": "Blue", "Fit": "Slim"},
	} {
		_, err := s.AddVariant(ctx(t), p.ID, variantInput("CMB-BAD", opts, 1), 0)
		wantCode(t, err, catalog.CodeInvalid)
	}
	// Moving a variant onto a sibling's combination is refused too.
	_, err = s.UpdateVariant(ctx(t), p.ID, p.Variants[0].ID, catalog.VariantPatch{Options: map[string]string{"Size": "L"}}, 0)
	wantCode(t, err, catalog.CodeConflict)
	unchanged(t, s, p, "a refused combination")
	// Free a combination by deleting its variant, then take it again.
	noErr(t, s.DeleteVariant(ctx(t), p.ID, p.Variants[5].ID, 0))
	v := must(s.AddVariant(ctx(t), p.ID, variantInput("CMB-L-BLUE-2", map[string]string{"Size": "L", "Colour": "Blue"}, 1), 0))(t)
	if v.Position <= p.Variants[4].Position || v.ProductID != p.ID {
		t.Fatalf("added variant %s, want it last of product %s", show(v), p.ID)
	}
	// A variant moves to a free combination.
	noErr(t, s.DeleteVariant(ctx(t), p.ID, p.Variants[4].ID, 0))
	moved := must(s.UpdateVariant(ctx(t), p.ID, p.Variants[0].ID, catalog.VariantPatch{Options: map[string]string{"Size": "L"}}, 0))(t)
	if moved.Options["Size"] != "L" || moved.Options["Colour"] != "Red" {
		t.Fatalf("moved variant: %v, want Size=L Colour=Red (options merge)", moved.Options)
	}
	got := must(s.Product(ctx(t), p.ID))(t)
	want := []string{"CMB-S-Red:Size=L / Colour=Red", "CMB-S-Blue:Size=S / Colour=Blue", "CMB-M-Red:Size=M / Colour=Red",
		"CMB-M-Blue:Size=M / Colour=Blue", "CMB-L-BLUE-2:Size=L / Colour=Blue"}
	if !slices.Equal(optionsOf(got), want) {
		t.Fatalf("variants %v, want %v", optionsOf(got), want)
	}
}

func testOptionsChange(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	p := must(s.CreateProduct(ctx(t), shirt("OPT", "apparel", []string{"S", "M"}, []string{"Red"}, 1000)))(t)
	replace := func(opts []catalog.Option) (catalog.Product, error) {
		in := p.Input()
		in.Options = opts
		in.Normalize()
		return s.ReplaceProduct(ctx(t), p.ID, in, 0)
	}
	patch := func(opts []catalog.Option) (catalog.Product, error) {
		return s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Options: &opts}, 0)
	}
	for name, write := range map[string]func([]catalog.Option) (catalog.Product, error){"ReplaceProduct": replace, "PatchProduct": patch} {
		// Removing a value a variant uses is refused, naming the variant.
		_, err := write([]catalog.Option{{Name: "Size", Values: []string{"S", "L"}}, {Name: "Colour", Values: []string{"Red"}}})
		wantCode(t, err, catalog.CodeInvalid)
		if !strings.Contains(err.Error(), "OPT-M-Red") {
			t.Fatalf("%s removing a value in use: %v, want the variant OPT-M-Red named", name, err)
		}
		// Removing the option Size would make both variants "Colour=Red".
		_, err = write([]catalog.Option{{Name: "Colour", Values: []string{"Red"}}})
		wantCode(t, err, catalog.CodeInvalid)
		// Removing every option of a product with two variants.
		_, err = write([]catalog.Option{})
		wantCode(t, err, catalog.CodeInvalid)
		unchanged(t, s, p, name+" with options refused")
	}
	// A new option gives every variant its first value; a value nobody uses may go; values
	// may be reordered.
	q := must(patch([]catalog.Option{{Name: "Size", Values: []string{"M", "S"}}, {Name: "Colour", Values: []string{"Red"}}, {Name: "Fit", Values: []string{"Regular", "Slim"}}}))(t)
	if want := []string{"OPT-S-Red:Size=S / Colour=Red / Fit=Regular", "OPT-M-Red:Size=M / Colour=Red / Fit=Regular"}; !slices.Equal(optionsOf(q), want) {
		t.Fatalf("after adding Fit: %v, want %v", optionsOf(q), want)
	}
	if q.Version != p.Version+1 {
		t.Fatalf("version %d, want %d", q.Version, p.Version+1)
	}
	// Removing an option that leaves the combinations distinct drops it from every variant.
	p = q
	q = must(replace([]catalog.Option{{Name: "Size", Values: []string{"M", "S"}}, {Name: "Fit", Values: []string{"Regular", "Slim"}}}))(t)
	if want := []string{"OPT-S-Red:Size=S / Fit=Regular", "OPT-M-Red:Size=M / Fit=Regular"}; !slices.Equal(optionsOf(q), want) {
		t.Fatalf("after removing Colour: %v, want %v", optionsOf(q), want)
	}
	for _, v := range q.Variants {
		if _, ok := v.Options["Colour"]; ok || len(v.Options) != 2 {
			t.Fatalf("variant %s kept a removed option: %v", v.SKU, v.Options)
		}
	}
	if read := must(s.Product(ctx(t), p.ID))(t); !equalProducts(read, q) {
		t.Fatalf("read back:\n got %s\nwant %s", show(read), show(q))
	}
	// With one variant left, every option may go.
	noErr(t, s.DeleteVariant(ctx(t), q.ID, q.Variants[1].ID, 0))
	p = must(s.Product(ctx(t), q.ID))(t)
	q = must(patch([]catalog.Option{}))(t)
	if len(q.Options) != 0 || len(only(t, q).Options) != 0 {
		t.Fatalf("after removing every option: %s", show(q))
	}
}

func testVariantLimit(t *testing.T, s catalog.Store) {
	category(t, s, "bulk", "")
	xs := make([]string, catalog.MaxOptionValues)
	for i := range xs {
		xs[i] = fmt.Sprintf("x%03d", i)
	}
	ys := make([]string, 21) // 100 × 21 = 2,100 combinations, more than the limit
	for i := range ys {
		ys[i] = fmt.Sprintf("y%02d", i)
	}
	in := catalog.ProductInput{Name: "Bulk", Category: "bulk", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "X", Values: xs}, {Name: "Y", Values: ys}}}
	combo := func(n int) map[string]string { return map[string]string{"X": xs[n%len(xs)], "Y": ys[n/len(xs)]} }
	for n := range catalog.MaxVariants + 1 {
		in.Variants = append(in.Variants, variantInput(fmt.Sprintf("BULK-%04d", n), combo(n), 100))
	}
	in.Normalize()
	_, err := s.CreateProduct(ctx(t), in)
	wantCode(t, err, catalog.CodeInvalid)
	in.Variants = in.Variants[:catalog.MaxVariants]
	p := must(s.CreateProduct(ctx(t), in))(t)
	if p.VariantCount != catalog.MaxVariants || len(p.Variants) != catalog.MaxVariants {
		t.Fatalf("created %d variants (count %d), want %d", len(p.Variants), p.VariantCount, catalog.MaxVariants)
	}
	// The product is full: one more variant is refused, whichever answer the store gives
	// (the request is well-formed; the product's state refuses it).
	_, err = s.AddVariant(ctx(t), p.ID, variantInput("BULK-MORE", combo(catalog.MaxVariants), 100), 0)
	if code := catalog.ErrorCode(err); code != catalog.CodeConflict && code != catalog.CodeInvalid {
		t.Fatalf("AddVariant to a product with %d variants = %v, want conflict or invalid", catalog.MaxVariants, err)
	}
	if got := must(s.Product(ctx(t), p.ID))(t); got.VariantCount != catalog.MaxVariants || got.Version != p.Version {
		t.Fatalf("after the refused add: %d variants, version %d", got.VariantCount, got.Version)
	}
	// One out, one in: the limit counts the variants there are.
	noErr(t, s.DeleteVariant(ctx(t), p.ID, p.Variants[0].ID, 0))
	must(s.AddVariant(ctx(t), p.ID, variantInput("BULK-MORE", combo(catalog.MaxVariants), 100), 0))(t)
	// Changing one variant of a full product touches that variant only.
	v := p.Variants[1000]
	got := must(s.UpdateVariant(ctx(t), p.ID, v.ID, catalog.VariantPatch{Prices: &[]catalog.PriceInput{{Currency: "USD", Amount: 99}}}, 0))(t)
	if price, _ := got.Price("USD"); price.Amount != 99 {
		t.Fatalf("updated variant prices %s", pricesString(got.Prices))
	}
	read := must(s.Product(ctx(t), p.ID))(t)
	if read.PriceRanges[0] != (catalog.PriceRange{Currency: "USD", Min: 99, Max: 100}) {
		t.Fatalf("price range %+v, want USD 99..100", read.PriceRanges)
	}
	summaryAgrees(t, s, p.ID, "UpdateVariant of a full product")
}

func testDeleteVariant(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	in := shirt("DEL", "apparel", []string{"S", "M", "L"}, []string{"Red"}, 1000)
	in.Variants[1].InitialStock = 2
	p := must(s.CreateProduct(ctx(t), in))(t)
	small, medium, large := p.Variants[0], p.Variants[1], p.Variants[2]
	// Units on hand, or reserved, keep a variant.
	err := s.DeleteVariant(ctx(t), p.ID, medium.ID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if f := fieldsOf(err); f != "on_hand" {
		t.Fatalf("DeleteVariant with units on hand: fields %q, want on_hand (%v)", f, err)
	}
	r := must(s.Reserve(ctx(t), reserve("DEL-M-Red", 2), "a", nil))(t)
	must(s.CommitReservation(ctx(t), r.ID, "a", nil))(t)
	must(s.AdjustStock(ctx(t), large.ID, catalog.Adjustment{Delta: 1, Reason: "received"}, "a", nil))(t)
	r = must(s.Reserve(ctx(t), reserve("DEL-L-Red", 1), "a", nil))(t)
	err = s.DeleteVariant(ctx(t), p.ID, large.ID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if f := fieldsOf(err); f != "reserved" {
		t.Fatalf("DeleteVariant with units reserved: fields %q, want reserved (%v)", f, err)
	}
	must(s.ReleaseReservation(ctx(t), r.ID, "a", nil))(t)
	must(s.AdjustStock(ctx(t), large.ID, catalog.Adjustment{Delta: -1, Reason: "count_correction"}, "a", nil))(t)
	before := must(s.Product(ctx(t), p.ID))(t)
	wantCode(t, s.DeleteVariant(ctx(t), p.ID, medium.ID, before.Version+1), catalog.CodePreconditionFailed)
	// A variant of another product is not found under this one.
	other := must(s.CreateProduct(ctx(t), input("DEL-OTHER", "Other", "apparel", 1)))(t)
	wantCode(t, s.DeleteVariant(ctx(t), other.ID, medium.ID, 0), catalog.CodeNotFound)
	if err := s.DeleteVariant(ctx(t), p.ID, medium.ID, before.Version); err != nil {
		t.Fatalf("DeleteVariant of a sold-out variant: %v", err)
	}
	after := must(s.Product(ctx(t), p.ID))(t)
	if after.Version != before.Version+1 || after.VariantCount != 2 || slices.ContainsFunc(after.Variants, func(v catalog.Variant) bool { return v.ID == medium.ID }) {
		t.Fatalf("after deleting a variant: version %d (want %d), %d variants", after.Version, before.Version+1, after.VariantCount)
	}
	_, err = s.Variant(ctx(t), p.ID, medium.ID)
	wantCode(t, err, catalog.CodeNotFound)
	wantCode(t, s.DeleteVariant(ctx(t), p.ID, medium.ID, 0), catalog.CodeNotFound)
	// Its SKU is free; its reservation still reads.
	if got := must(s.Reservation(ctx(t), r.ID))(t); got.Lines[0].SKU != "DEL-L-Red" {
		t.Fatalf("reservation lines %+v", got.Lines)
	}
	b := must(s.CreateProduct(ctx(t), input("del-m-red", "Reused SKU", "apparel", 1)))(t)
	if ms := must(s.Movements(ctx(t), only(t, b).ID, 0, 10))(t); len(ms) != 0 {
		t.Fatalf("a reused SKU inherited movements: %+v", ms)
	}
	noErr(t, s.DeleteVariant(ctx(t), p.ID, large.ID, 0))
	// The last variant stays: delete the product instead.
	err = s.DeleteVariant(ctx(t), p.ID, small.ID, 0)
	wantCode(t, err, catalog.CodeConflict)
	if got := must(s.Product(ctx(t), p.ID))(t); got.VariantCount != 1 || got.Variants[0].ID != small.ID {
		t.Fatalf("the last variant: %s", show(got))
	}
}

// testVariantVersions: every write to a product or one of its variants moves the product's
// version; stock writes move the stock version only; ProductVersions agrees with a read.
func testVariantVersions(t *testing.T, s catalog.Store) {
	category(t, s, "apparel", "")
	p := must(s.CreateProduct(ctx(t), shirt("VER", "apparel", []string{"S", "M"}, []string{"Red", "Blue"}, 1000)))(t)
	cur := p
	// stockMoves: 1 it must move, 0 it must not, -1 either (deleting a variant drops its
	// stock version from the sum, which may be 0).
	check := func(what string, productMoves bool, stockMoves int) {
		t.Helper()
		got := must(s.Product(ctx(t), p.ID))(t)
		if (got.Version != cur.Version) != productMoves || (stockMoves >= 0 && (got.StockVersion != cur.StockVersion) != (stockMoves == 1)) {
			t.Fatalf("%s: version %d->%d, stock version %d->%d; want product moved %v, stock moved %v",
				what, cur.Version, got.Version, cur.StockVersion, got.StockVersion, productMoves, stockMoves)
		}
		if productMoves && got.Version != cur.Version+1 {
			t.Fatalf("%s: version %d->%d, want one step", what, cur.Version, got.Version)
		}
		v, sv := must2(s.ProductVersions(ctx(t), p.ID))(t)
		if v != got.Version || sv != got.StockVersion {
			t.Fatalf("%s: ProductVersions = %d/%d, read %d/%d", what, v, sv, got.Version, got.StockVersion)
		}
		var sum int64
		for _, v := range got.Variants {
			if v.ProductVersion != 0 && v.ProductVersion != got.Version {
				t.Fatalf("%s: variant %s carries product version %d, product %d", what, v.SKU, v.ProductVersion, got.Version)
			}
			sum += v.Stock.Version
		}
		if sum != got.StockVersion {
			t.Fatalf("%s: stock version %d, want the sum of the variants' %d", what, got.StockVersion, sum)
		}
		summaryAgrees(t, s, p.ID, what)
		cur = got
	}
	v0 := p.Variants[0]
	must(s.AdjustStock(ctx(t), v0.ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "a", nil))(t)
	check("AdjustStock", false, 1)
	r := must(s.Reserve(ctx(t), reserve("VER-S-Red", 1), "a", nil))(t)
	check("Reserve", false, 1)
	must(s.CommitReservation(ctx(t), r.ID, "a", nil))(t)
	check("CommitReservation", false, 1)
	must(s.UpdateVariant(ctx(t), p.ID, v0.ID, catalog.VariantPatch{Barcode: ptr("4006381333931")}, cur.Version))(t)
	check("UpdateVariant", true, 0)
	_, _, err := s.SetPrice(ctx(t), p.Variants[1].ID, catalog.PriceChange{Currency: "EUR", Amount: 900}, "a", cur.Version)
	if err != nil {
		t.Fatal(err)
	}
	check("SetPrice", true, 0)
	must(s.RemovePrice(ctx(t), p.Variants[1].ID, "EUR", "a", cur.Version))(t)
	check("RemovePrice", true, 0)
	opts := append(slices.Clone(p.Options[:1]), catalog.Option{Name: "Colour", Values: []string{"Red", "Blue", "Green"}})
	must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Options: &opts}, cur.Version))(t)
	check("PatchProduct options", true, 0)
	added := must(s.AddVariant(ctx(t), p.ID, variantInput("VER-S-Green", map[string]string{"Size": "S", "Colour": "Green"}, 1000), cur.Version))(t)
	check("AddVariant", true, -1)
	if added.ProductVersion != cur.Version {
		t.Fatalf("AddVariant answered product version %d, product is at %d", added.ProductVersion, cur.Version)
	}
	wantCode(t, s.DeleteVariant(ctx(t), p.ID, added.ID, cur.Version-1), catalog.CodePreconditionFailed)
	noErr(t, s.DeleteVariant(ctx(t), p.ID, added.ID, cur.Version))
	check("DeleteVariant", true, -1)
	// Stale versions on variant writes are refused and change nothing.
	_, err = s.AddVariant(ctx(t), p.ID, variantInput("VER-M-Green", map[string]string{"Size": "M", "Colour": "Green"}, 1000), cur.Version-1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, _, err = s.SetPrice(ctx(t), v0.ID, catalog.PriceChange{Currency: "USD", Amount: 1}, "a", cur.Version-1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	_, err = s.RemovePrice(ctx(t), v0.ID, "USD", "a", cur.Version-1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	check("refused writes", false, 0)
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func must2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// defineAttributes defines the attributes the attribute tests use.
func defineAttributes(t *testing.T, s catalog.Store) {
	t.Helper()
	for _, in := range []catalog.AttributeDefinitionInput{
		{Key: "material", Name: "Material", Type: catalog.AttrText, Filterable: true},
		{Key: "screen_inches", Name: "Screen size", Type: catalog.AttrNumber, Unit: "in", Filterable: true},
		{Key: "waterproof", Name: "Waterproof", Type: catalog.AttrBoolean, Filterable: true},
		{Key: "colour", Name: "Colour", Type: catalog.AttrEnum, Values: []string{"red", "blue", "green"}, Filterable: true},
		{Key: "care", Name: "Care", Type: catalog.AttrText},
	} {
		d := must(s.CreateAttribute(ctx(t), in))(t)
		if d.Key != in.Key || d.Type != in.Type || d.Filterable != in.Filterable || d.Unit != in.Unit || !slices.Equal(d.Values, in.Values) || d.Version < 1 {
			t.Fatalf("CreateAttribute(%+v) = %+v", in, d)
		}
	}
}

func testTypedAttributes(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	defineAttributes(t, s)
	_, err := s.CreateAttribute(ctx(t), catalog.AttributeDefinitionInput{Key: "colour", Name: "Again", Type: catalog.AttrText})
	wantCode(t, err, catalog.CodeConflict)
	_, err = s.CreateAttribute(ctx(t), catalog.AttributeDefinitionInput{Key: "Bad Key", Name: "Bad", Type: catalog.AttrText})
	wantCode(t, err, catalog.CodeInvalid)
	var keys []string
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		keys = append(keys, d.Key)
	}
	if want := []string{"care", "colour", "material", "screen_inches", "waterproof"}; !slices.Equal(keys, want) {
		t.Fatalf("AttributeList keys %v, want %v", keys, want)
	}
	if d := must(s.Attribute(ctx(t), "colour"))(t); d.Type != catalog.AttrEnum || !slices.Equal(d.Values, []string{"red", "blue", "green"}) {
		t.Fatalf("Attribute(colour) = %+v", d)
	}
	_, err = s.Attribute(ctx(t), "nope")
	wantCode(t, err, catalog.CodeNotFound)

	good := input("ATTR-1", "Typed", "misc", 100)
	good.Attributes = catalog.Attributes{"material": "cotton", "screen_inches": 13.3, "waterproof": true, "colour": "red"}
	good.Variants[0].Attributes = catalog.Attributes{"colour": "blue", "screen_inches": 15.0}
	p := must(s.CreateProduct(ctx(t), good))(t)
	if !p.Attributes.Equal(good.Attributes) || !only(t, p).Attributes.Equal(good.Variants[0].Attributes) {
		t.Fatalf("attributes %v / %v, want %v / %v", p.Attributes, only(t, p).Attributes, good.Attributes, good.Variants[0].Attributes)
	}
	read := must(s.Product(ctx(t), p.ID))(t)
	if !read.Attributes.Equal(good.Attributes) || !only(t, read).Attributes.Equal(good.Variants[0].Attributes) {
		t.Fatalf("attributes read back %v / %v: types must survive the store", read.Attributes, only(t, read).Attributes)
	}

	tests := []struct {
		name    string
		product catalog.Attributes
		variant catalog.Attributes
		field   string
	}{
		{"undefined key", catalog.Attributes{"flavour": "mint"}, nil, "attributes.flavour"},
		{"undefined key on a variant", nil, catalog.Attributes{"flavour": "mint"}, "variants[0].attributes.flavour"},
		{"number as text", catalog.Attributes{"screen_inches": "13"}, nil, "attributes.screen_inches"},
		{"text as number", catalog.Attributes{"material": 3.0}, nil, "attributes.material"},
		{"boolean as text", nil, catalog.Attributes{"waterproof": "yes"}, "variants[0].attributes.waterproof"},
		{"enum value not allowed", catalog.Attributes{"colour": "purple"}, nil, "attributes.colour"},
		{"enum value in another case", nil, catalog.Attributes{"colour": "Red"}, "variants[0].attributes.colour"},
	}
	for i, tc := range tests {
		in := input(fmt.Sprintf("ATTR-BAD-%d", i), "Bad", "misc", 100)
		in.Attributes, in.Variants[0].Attributes = tc.product, tc.variant
		in.Normalize()
		_, err := s.CreateProduct(ctx(t), in)
		wantCode(t, err, catalog.CodeInvalid)
		if f := fieldsOf(err); f != tc.field {
			t.Fatalf("%s: create names %q, want %q (%v)", tc.name, f, tc.field, err)
		}
		// The same values through every other write path.
		if tc.product != nil {
			_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Attributes: tc.product}, 0)
			if f := fieldsOf(err); catalog.ErrorCode(err) != catalog.CodeInvalid || f != tc.field {
				t.Fatalf("%s: PatchProduct = %v, want invalid naming %s", tc.name, err, tc.field)
			}
			rin := own(p.Input())
			rin.Attributes = tc.product
			_, err = s.ReplaceProduct(ctx(t), p.ID, rin, 0)
			if f := fieldsOf(err); catalog.ErrorCode(err) != catalog.CodeInvalid || f != tc.field {
				t.Fatalf("%s: ReplaceProduct = %v, want invalid naming %s", tc.name, err, tc.field)
			}
		} else {
			field := strings.TrimPrefix(tc.field, "variants[0].")
			_, err = s.UpdateVariant(ctx(t), p.ID, only(t, p).ID, catalog.VariantPatch{Attributes: tc.variant}, 0)
			if f := fieldsOf(err); catalog.ErrorCode(err) != catalog.CodeInvalid || f != field {
				t.Fatalf("%s: UpdateVariant = %v, want invalid naming %s", tc.name, err, field)
			}
		}
	}
	unchanged(t, s, read, "refused attributes")
	if empty := len(must(s.ListProducts(ctx(t), catalog.ListQuery{Sort: catalog.SortNewest, Limit: 100}))(t).Items); empty != 1 {
		t.Fatalf("refused creates left %d products, want only the good one", empty)
	}
}

func testAttributeDefinitionsInUse(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	defineAttributes(t, s)
	in := input("USE-1", "User", "misc", 100)
	in.Attributes = catalog.Attributes{"colour": "red"}
	in.Variants[0].Attributes = catalog.Attributes{"material": "wool", "colour": "green"}
	p := must(s.CreateProduct(ctx(t), in))(t)
	colour := must(s.Attribute(ctx(t), "colour"))(t)
	redefine := func(key string, in catalog.AttributeDefinitionInput, ifVersion int64) (catalog.AttributeDefinition, error) {
		in.Key = key
		if in.Name == "" {
			in.Name = key
		}
		return s.UpdateAttribute(ctx(t), key, in, ifVersion)
	}
	// A type change while values use the key is refused, on product or variant values.
	_, err := redefine("colour", catalog.AttributeDefinitionInput{Type: catalog.AttrText}, 0)
	wantCode(t, err, catalog.CodeConflict)
	_, err = redefine("material", catalog.AttributeDefinitionInput{Type: catalog.AttrNumber}, 0)
	wantCode(t, err, catalog.CodeConflict)
	// Removing an enum value in use is refused (red on the product, green on the variant);
	// removing an unused one, adding and reordering are fine.
	_, err = redefine("colour", catalog.AttributeDefinitionInput{Type: catalog.AttrEnum, Values: []string{"blue", "green"}}, 0)
	wantCode(t, err, catalog.CodeConflict)
	_, err = redefine("colour", catalog.AttributeDefinitionInput{Type: catalog.AttrEnum, Values: []string{"red", "blue"}}, 0)
	wantCode(t, err, catalog.CodeConflict)
	_, err = redefine("colour", catalog.AttributeDefinitionInput{Type: catalog.AttrEnum, Values: []string{"green", "red", "black"}}, colour.Version+1)
	wantCode(t, err, catalog.CodePreconditionFailed)
	d := must(redefine("colour", catalog.AttributeDefinitionInput{Type: catalog.AttrEnum, Values: []string{"green", "red", "black"}, Filterable: true}, colour.Version))(t)
	if !slices.Equal(d.Values, []string{"green", "red", "black"}) || d.Version != colour.Version+1 {
		t.Fatalf("redefined colour: %+v", d)
	}
	// The new value is usable at once; the removed one is not.
	must(s.UpdateVariant(ctx(t), p.ID, only(t, p).ID, catalog.VariantPatch{Attributes: map[string]any{"colour": "black"}}, 0))(t)
	_, err = s.UpdateVariant(ctx(t), p.ID, only(t, p).ID, catalog.VariantPatch{Attributes: map[string]any{"colour": "blue"}}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	// An unused key may change type.
	if d := must(redefine("care", catalog.AttributeDefinitionInput{Type: catalog.AttrBoolean}, 0))(t); d.Type != catalog.AttrBoolean {
		t.Fatalf("redefined care: %+v", d)
	}
	// Delete is refused while any product or variant has a value.
	wantCode(t, s.DeleteAttribute(ctx(t), "colour", 0), catalog.CodeConflict)
	wantCode(t, s.DeleteAttribute(ctx(t), "material", 0), catalog.CodeConflict)
	must(s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{RemoveAttributes: map[string]bool{"colour": true}}, 0))(t)
	wantCode(t, s.DeleteAttribute(ctx(t), "colour", 0), catalog.CodeConflict) // the variant still has one
	must(s.UpdateVariant(ctx(t), p.ID, only(t, p).ID, catalog.VariantPatch{RemoveAttribute: map[string]bool{"colour": true}}, 0))(t)
	if err := s.DeleteAttribute(ctx(t), "colour", 0); err != nil {
		t.Fatalf("DeleteAttribute of an unused key: %v", err)
	}
	_, err = s.Attribute(ctx(t), "colour")
	wantCode(t, err, catalog.CodeNotFound)
	wantCode(t, s.DeleteAttribute(ctx(t), "colour", 0), catalog.CodeNotFound)
	// A deleted key is undefined again.
	_, err = s.PatchProduct(ctx(t), p.ID, catalog.ProductPatch{Attributes: map[string]any{"colour": "red"}}, 0)
	wantCode(t, err, catalog.CodeInvalid)
	// A deleted product's values no longer hold a definition.
	wantCode(t, s.DeleteAttribute(ctx(t), "material", 0), catalog.CodeConflict)
	noErr(t, s.DeleteProduct(ctx(t), p.ID, 0))
	if err := s.DeleteAttribute(ctx(t), "material", 0); err != nil {
		t.Fatalf("DeleteAttribute after its only product went: %v", err)
	}
}

func testAttributeFilters(t *testing.T, s catalog.Store) {
	category(t, s, "tech", "")
	defineAttributes(t, s)
	type row struct {
		sku     string
		product catalog.Attributes
		variant []catalog.Attributes // one per variant
	}
	rows := []row{
		{"LAP-13", catalog.Attributes{"screen_inches": 13.3, "waterproof": false}, []catalog.Attributes{{"colour": "red"}, {"colour": "blue"}}},
		{"LAP-15", catalog.Attributes{"screen_inches": 15.0, "material": "aluminium"}, []catalog.Attributes{{"colour": "green"}, {}}},
		{"LAP-17", catalog.Attributes{"screen_inches": 17.0, "colour": "red"}, []catalog.Attributes{{}, {}}},
		{"TAB-10", catalog.Attributes{"waterproof": true}, []catalog.Attributes{{"screen_inches": 10.5}, {"screen_inches": 12.9, "colour": "blue"}}},
		{"CASE-1", catalog.Attributes{"material": "leather"}, []catalog.Attributes{{"care": "wipe clean"}, {}}},
	}
	for _, r := range rows {
		in := shirt(r.sku, "tech", []string{"A", "B"}, []string{"X"}, 1000)
		in.Name = r.sku
		in.Attributes = r.product
		for i, a := range r.variant {
			in.Variants[i].Attributes = a
		}
		in.Normalize()
		must(s.CreateProduct(ctx(t), in))(t)
	}
	defs := map[string]catalog.AttributeDefinition{}
	for _, d := range must(s.AttributeList(ctx(t)))(t) {
		defs[d.Key] = d
	}
	filter := func(kv ...string) []catalog.AttributeFilter {
		var out []catalog.AttributeFilter
		for i := 0; i < len(kv); i += 2 {
			f, err := catalog.ParseAttributeFilter(defs[kv[i]], kv[i+1])
			if err != nil {
				t.Fatalf("ParseAttributeFilter(%s=%s) = %v", kv[i], kv[i+1], err)
			}
			out = append(out, f)
		}
		return out
	}
	tests := []struct {
		name string
		kv   []string
		want []string // by name
	}{
		{"number range on product values", []string{"screen_inches", "13..15"}, []string{"LAP-13", "LAP-15"}},
		{"number range on variant values", []string{"screen_inches", "12..13"}, []string{"TAB-10"}},
		{"number range with an open top", []string{"screen_inches", "15.."}, []string{"LAP-15", "LAP-17"}},
		{"number range with an open bottom", []string{"screen_inches", "..11"}, []string{"TAB-10"}},
		{"exact number", []string{"screen_inches", "15"}, []string{"LAP-15"}},
		{"range between values matches nothing", []string{"screen_inches", "15.5..16.5"}, nil},
		{"enum on a product or a variant", []string{"colour", "red"}, []string{"LAP-13", "LAP-17"}},
		{"enum, any of", []string{"colour", "green,blue"}, []string{"LAP-13", "LAP-15", "TAB-10"}},
		{"boolean true", []string{"waterproof", "true"}, []string{"TAB-10"}},
		{"boolean false", []string{"waterproof", "false"}, []string{"LAP-13"}},
		{"text", []string{"material", "leather"}, []string{"CASE-1"}},
		{"text is exact", []string{"material", "Leather"}, nil},
		{"every filter must match", []string{"colour", "blue", "screen_inches", "12..13"}, []string{"TAB-10"}},
		{"every filter must match, none does", []string{"colour", "red", "waterproof", "true"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := catalog.ListQuery{Filter: catalog.ProductFilter{Attributes: filter(tc.kv...)}, Sort: catalog.SortName, Limit: 2, WithTotal: true}
			var names []string
			for pages := 0; ; pages++ {
				if err := q.Validate(); err != nil {
					t.Fatal(err)
				}
				page := must(s.ListProducts(ctx(t), q))(t)
				if page.Total == nil || *page.Total != int64(len(tc.want)) {
					t.Fatalf("total %v, want %d", page.Total, len(tc.want))
				}
				for _, p := range page.Items {
					names = append(names, p.Name)
				}
				if page.Next == nil || pages > 10 {
					break
				}
				q.After = page.Next
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("attr %v = %v, want %v", tc.kv, names, tc.want)
			}
		})
	}
	// A key that is not filterable is refused before any store sees it.
	if _, err := catalog.ParseAttributeFilter(defs["care"], "wipe clean"); catalog.ErrorCode(err) != catalog.CodeInvalid {
		t.Fatalf("a filter on care (not filterable) = %v, want invalid", err)
	}
}

func testPricesPerCurrency(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	in := input("CUR-1", "Currencies", "misc", 1000)
	in.Variants[0].Prices = append(in.Variants[0].Prices,
		catalog.PriceInput{Currency: "EUR", Amount: 900, CompareAt: ptr[int64](1100)}, catalog.PriceInput{Currency: "JPY", Amount: 1500})
	in.Normalize()
	p := must(s.CreateProduct(ctx(t), in))(t)
	v := only(t, p)
	if got := pricesString(v.Prices); got != "[{EUR 900 1100} {JPY 1500 <nil>} {USD 1000 <nil>}]" {
		t.Fatalf("prices %s", got)
	}
	// Each currency has its own history.
	for cur, want := range map[string]int{"USD": 1, "EUR": 1, "JPY": 1, "": 3} {
		if n := len(must(s.PriceHistory(ctx(t), v.ID, cur))(t)); n != want {
			t.Fatalf("PriceHistory(%q) has %d lines, want %d", cur, n, want)
		}
	}
	// A compare-at not above the amount is refused.
	_, _, err := s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "EUR", Amount: 900, CompareAt: ptr[int64](900)}, "a", 0)
	wantCode(t, err, catalog.CodeInvalid)
	// Removing a price drops that currency only.
	got := must(s.RemovePrice(ctx(t), v.ID, "JPY", "a", 0))(t)
	if pricesString(got.Prices) != "[{EUR 900 1100} {USD 1000 <nil>}]" {
		t.Fatalf("after RemovePrice(JPY): %s", pricesString(got.Prices))
	}
	read := must(s.Product(ctx(t), p.ID))(t)
	if want := []catalog.PriceRange{{Currency: "EUR", Min: 900, Max: 900}, {Currency: "USD", Min: 1000, Max: 1000}}; !slices.Equal(read.PriceRanges, want) {
		t.Fatalf("ranges after removing JPY: %+v, want %+v", read.PriceRanges, want)
	}
	summaryAgrees(t, s, p.ID, "RemovePrice")
	_, err = s.RemovePrice(ctx(t), v.ID, "JPY", "a", 0)
	wantCode(t, err, catalog.CodeNotFound)
	_, err = s.RemovePrice(ctx(t), catalog.NewID(), "USD", "a", 0)
	wantCode(t, err, catalog.CodeNotFound)
	// A scheduled change in a currency goes with its price.
	later := time.Now().Add(time.Hour)
	_, _, err = s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "EUR", Amount: 800, ValidFrom: &later}, "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	must(s.RemovePrice(ctx(t), v.ID, "EUR", "a", 0))(t)
	// The last price stays: a variant is always priced in some currency.
	_, err = s.RemovePrice(ctx(t), v.ID, "USD", "a", 0)
	if code := catalog.ErrorCode(err); code != catalog.CodeConflict && code != catalog.CodeInvalid {
		t.Fatalf("RemovePrice of the last price = %v, want conflict or invalid", err)
	}
	if got := must(s.Variant(ctx(t), p.ID, v.ID))(t); pricesString(got.Prices) != "[{USD 1000 <nil>}]" {
		t.Fatalf("prices %s, want only USD", pricesString(got.Prices))
	}
}

// testPriceSortInOneCurrency: a price sort or range lists only the products priced in its
// currency, each at its lowest variant price there, and pages without skips or repeats.
func testPriceSortInOneCurrency(t *testing.T, s catalog.Store) {
	category(t, s, "misc", "")
	// Product i has two variants, USD 1000+10k and 500+20k for k = i/2 (the second is the
	// lowest), and every third one an EUR price too; the USD prices tie in pairs, so ties page
	// too.
	type priced struct {
		name string
		low  int64
	}
	var usd, eur []priced
	for i := range 30 {
		in := shirt(fmt.Sprintf("PS-%02d", i), "misc", []string{"A", "B"}, []string{"X"}, 0)
		in.Name = fmt.Sprintf("Priced %02d", i)
		in.Variants[0].Prices = []catalog.PriceInput{{Currency: "USD", Amount: int64(1000 + 10*(i/2))}}
		in.Variants[1].Prices = []catalog.PriceInput{{Currency: "USD", Amount: int64(500 + 20*(i/2))}}
		low := min(int64(1000+10*(i/2)), int64(500+20*(i/2)))
		usd = append(usd, priced{in.Name, low})
		if i%3 == 0 {
			in.Variants[1].Prices = append(in.Variants[1].Prices, catalog.PriceInput{Currency: "EUR", Amount: int64(3000 - 100*i)})
			eur = append(eur, priced{in.Name, int64(3000 - 100*i)})
		}
		in.Normalize()
		must(s.CreateProduct(ctx(t), in))(t)
	}
	// Another currency only: never in a USD list.
	jpy := input("PS-JPY", "Yen only", "misc", 1)
	jpy.Variants[0].Prices[0].Currency = "JPY"
	must(s.CreateProduct(ctx(t), jpy))(t)

	// The expected orders, from the figures above: by lowest price, then the store's tie
	// order; ties are checked as sets.
	order := func(ps []priced, desc bool) []priced {
		out := slices.Clone(ps)
		slices.SortStableFunc(out, func(a, b priced) int {
			if desc {
				return int(b.low - a.low)
			}
			return int(a.low - b.low)
		})
		return out
	}
	for _, tc := range []struct {
		currency string
		sort     catalog.Sort
		list     []priced
	}{
		{"USD", catalog.SortPrice, order(usd, false)},
		{"USD", catalog.SortPriceDesc, order(usd, true)},
		{"EUR", catalog.SortPrice, order(eur, false)},
		{"EUR", catalog.SortPriceDesc, order(eur, true)},
	} {
		for _, size := range []int{4, 11, 100} { // 11 gives 3 pages of USD
			q := catalog.ListQuery{Filter: catalog.ProductFilter{Currency: tc.currency}, Sort: tc.sort, Limit: size}
			var got []priced
			pages := 0
			for ; ; pages++ {
				if err := q.Validate(); err != nil {
					t.Fatal(err)
				}
				page := must(s.ListProducts(ctx(t), q))(t)
				for _, p := range page.Items {
					var low int64 = -1
					for _, r := range p.PriceRanges {
						if r.Currency == tc.currency {
							low = r.Min
						}
					}
					got = append(got, priced{p.Name, low})
				}
				if page.Next == nil || pages > 100 {
					break
				}
				q.After = must(catalog.ParseCursor(page.Next.String()))(t)
			}
			if len(got) != len(tc.list) {
				t.Fatalf("%s %s pages of %d: %d products, want %d: %v", tc.currency, tc.sort, size, len(got), len(tc.list), got)
			}
			seen := map[string]bool{}
			for i := range got {
				if got[i].low != tc.list[i].low || seen[got[i].name] {
					t.Fatalf("%s %s pages of %d: item %d is %v, want price %d, each product once:\n got %v\nwant %v", tc.currency, tc.sort, size, i, got[i], tc.list[i].low, got, tc.list)
				}
				seen[got[i].name] = true
			}
			if size == 11 && tc.currency == "USD" && pages != 2 {
				t.Fatalf("USD in pages of 11 took %d pages, want 3", pages+1)
			}
		}
	}
	// A range applies to the lowest variant price in its currency.
	q := catalog.ListQuery{Filter: catalog.ProductFilter{Currency: "USD", MinPrice: ptr[int64](600), MaxPrice: ptr[int64](700)}, Sort: catalog.SortPrice, Limit: 100}
	var lows []int64
	for _, p := range must(s.ListProducts(ctx(t), q))(t).Items {
		lows = append(lows, p.PriceRanges[len(p.PriceRanges)-1].Min)
	}
	var wantLows []int64
	for _, p := range order(usd, false) {
		if p.low >= 600 && p.low <= 700 {
			wantLows = append(wantLows, p.low)
		}
	}
	if !slices.Equal(lows, wantLows) {
		t.Fatalf("USD 600..700: %v, want %v", lows, wantLows)
	}
	// Mixing currencies in a price sort is refused before the store.
	if err := (catalog.ListQuery{Sort: catalog.SortPrice, Limit: 10}).Validate(); catalog.ErrorCode(err) != catalog.CodeInvalid {
		t.Fatalf("a price sort without a currency: %v, want invalid", err)
	}
}
