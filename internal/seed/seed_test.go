package seed

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// TestSampleIsValidAndShowsTheModel: the sample is what a first run shows, so it must show every
// part of the model (issue 15), not just pass validation.
func TestSampleIsValidAndShowsTheModel(t *testing.T) {
	c, err := Sample()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Products) < 100 {
		t.Fatalf("sample has %d products, want at least 100", len(c.Products))
	}
	depth := map[string]int{}
	maxDepth := 0
	for _, cat := range c.Categories {
		depth[cat.Slug] = depth[cat.Parent] + 1
		maxDepth = max(maxDepth, depth[cat.Slug])
	}
	if maxDepth < 3 {
		t.Fatalf("category tree is %d deep, want at least 3", maxDepth)
	}

	defs := map[string]catalog.AttributeDefinitionInput{}
	for _, d := range c.Attributes {
		defs[d.Key] = d
	}
	for _, want := range []catalog.AttributeDefinitionInput{
		{Key: "colour", Type: catalog.AttrEnum, Filterable: true},
		{Key: "material", Type: catalog.AttrText},
		{Key: "screen_inches", Type: catalog.AttrNumber, Unit: "in", Filterable: true},
		{Key: "waterproof", Type: catalog.AttrBoolean, Filterable: true},
	} {
		got, ok := defs[want.Key]
		if !ok || got.Type != want.Type || got.Unit != want.Unit || (want.Filterable && !got.Filterable) {
			t.Errorf("attribute %s = %+v, want type %s unit %q filterable %v", want.Key, got, want.Type, want.Unit, want.Filterable)
		}
	}

	var (
		grid15, halfSizes, storage3, limits, images, barcodes, compareAt bool
		currencies                                                       = map[string]bool{}
		stocked, variants                                                int
	)
	for _, p := range c.Products {
		names := map[string]int{}
		for _, o := range p.Options {
			names[o.Name] = len(o.Values)
		}
		if names["Size"] == 5 && names["Colour"] == 3 && len(p.Variants) == 15 {
			grid15 = true
		}
		for _, o := range p.Options {
			if o.Name == "Size" && slices.ContainsFunc(o.Values, func(v string) bool { return strings.HasSuffix(v, ".5") }) && len(p.Variants) >= 5 {
				halfSizes = true
			}
			if o.Name == "Storage" && slices.Equal(o.Values, []string{"128 GB", "256 GB", "512 GB"}) {
				storage3 = true
			}
		}
		for _, v := range p.Variants {
			variants++
			limits = limits || v.PurchaseLimit > 0
			images = images || v.Image != ""
			barcodes = barcodes || v.Barcode != ""
			if v.InitialStock > 0 {
				stocked++
			}
			for _, pr := range v.Prices {
				currencies[pr.Currency] = true
				compareAt = compareAt || pr.CompareAt != nil
			}
		}
	}
	for what, ok := range map[string]bool{
		"a T-shirt in 5 sizes x 3 colours": grid15, "shoes in half sizes": halfSizes,
		"a phone in 128/256/512 GB": storage3, "a purchase limit": limits, "a variant's image": images,
		"barcodes": barcodes, "compare-at prices": compareAt,
	} {
		if !ok {
			t.Errorf("the sample shows no %s", what)
		}
	}
	for _, cur := range []string{"USD", "EUR", "GBP", "JPY"} {
		if !currencies[cur] {
			t.Errorf("no price in %s", cur)
		}
	}
	if stocked < variants*3/4 {
		t.Errorf("%d of %d variants have initial stock, want most", stocked, variants)
	}
	running := slices.ContainsFunc(c.Sales, func(s Sale) bool { return s.StartsIn == 0 && s.Lasts > 0 })
	scheduled := slices.ContainsFunc(c.Sales, func(s Sale) bool { return s.StartsIn > 0 })
	if !running || !scheduled {
		t.Errorf("sales: running now %v, scheduled %v; want both", running, scheduled)
	}
}

func TestSaleChange(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	running := Sale{Currency: "USD", Amount: 100, StartsIn: 0, Lasts: Duration(96 * time.Hour)}.Change(now)
	if running.ValidFrom != nil || !running.ValidUntil.Equal(now.Add(96*time.Hour)) {
		t.Errorf("running sale: from %v until %v, want now until now+96h", running.ValidFrom, running.ValidUntil)
	}
	later := Sale{Currency: "USD", Amount: 100, StartsIn: Duration(72 * time.Hour), Lasts: Duration(24 * time.Hour)}.Change(now)
	if !later.ValidFrom.Equal(now.Add(72*time.Hour)) || !later.ValidUntil.Equal(now.Add(96*time.Hour)) {
		t.Errorf("scheduled sale: from %v until %v, want +72h to +96h", later.ValidFrom, later.ValidUntil)
	}
	for _, c := range []catalog.PriceChange{running, later} {
		if err := c.Validate(now); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const cat = `"categories":[{"slug":"a","name":"A"}]`
	product := func(variant string) string {
		return `"products":[{"name":"x","category":"a","status":"active","variants":[` + variant + `]}]`
	}
	ok := `{"sku":"ABC","prices":[{"currency":"USD","amount":100}],"initial_stock":1}`
	// The valid document the cases below break one rule of.
	if _, err := Parse([]byte(`{` + cat + `,` + product(ok) + `}`)); err != nil {
		t.Fatalf("the valid base document: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":       `{"categories":[],"products":[],"extra":1}`,
		"orphan category":     `{"categories":[{"slug":"a","name":"A","parent":"b"}],"products":[]}`,
		"unknown category":    `{"categories":[],` + product(ok) + `}`,
		"invalid sku":         `{` + cat + `,` + product(`{"sku":"A","prices":[{"currency":"USD","amount":1}]}`) + `}`,
		"duplicate sku":       `{` + cat + `,"products":[{"name":"x","category":"a","status":"active","variants":[` + ok + `]},{"name":"y","category":"a","status":"active","variants":[{"sku":"abc","prices":[{"currency":"USD","amount":1}]}]}]}`,
		"negative stock":      `{` + cat + `,` + product(`{"sku":"ABC","prices":[{"currency":"USD","amount":1}],"initial_stock":-1}`) + `}`,
		"undefined attr":      `{` + cat + `,` + product(`{"sku":"ABC","prices":[{"currency":"USD","amount":1}],"attributes":{"colour":"red"}}`) + `}`,
		"mistyped attr":       `{"attributes":[{"key":"n","name":"N","type":"number"}],` + cat + `,` + product(`{"sku":"ABC","prices":[{"currency":"USD","amount":1}],"attributes":{"n":"ten"}}`) + `}`,
		"attr defined twice":  `{"attributes":[{"key":"n","name":"N","type":"number"},{"key":"n","name":"N","type":"text"}]` + `,` + cat + `}`,
		"bad barcode":         `{` + cat + `,` + product(`{"sku":"ABC","prices":[{"currency":"USD","amount":1}],"barcode":"4006381333932"}`) + `}`,
		"sale unknown sku":    `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["NOPE"],"currency":"USD","amount":50,"starts_in":"0s","lasts":"1h"}]}`,
		"sale raises price":   `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["ABC"],"currency":"USD","amount":150,"starts_in":"0s","lasts":"1h"}]}`,
		"sale other currency": `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["ABC"],"currency":"EUR","amount":50,"starts_in":"0s","lasts":"1h"}]}`,
		"sale too short":      `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["ABC"],"currency":"USD","amount":50,"starts_in":"0s","lasts":"30s"}]}`,
		"sale too far":        `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["ABC"],"currency":"USD","amount":50,"starts_in":"9000h","lasts":"1h"}]}`,
		"sale bad duration":   `{` + cat + `,` + product(ok) + `,"sales":[{"skus":["ABC"],"currency":"USD","amount":50,"starts_in":"soon","lasts":"1h"}]}`,
		"not json":            `{`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// syntheticDefs looks attributes up in the synthetic definitions, as a store would.
func syntheticDefs(key string) (catalog.AttributeDefinition, bool) {
	for _, in := range SyntheticAttributes() {
		if in.Key == key {
			return definition(in), true
		}
	}
	return catalog.AttributeDefinition{}, false
}

func TestSyntheticIsDeterministicAndValid(t *testing.T) {
	a, b := Synthetic(500, 7), Synthetic(500, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two catalogs from one seed differ")
	}
	for i, p := range a.Products {
		if err := validProduct(p.ProductInput, syntheticDefs); err != nil {
			t.Fatalf("product %d: %v", i, err)
		}
	}
	for _, c := range a.Categories {
		if err := c.Validate(); err != nil {
			t.Fatalf("category %s: %v", c.Slug, err)
		}
	}
	for _, d := range a.Attributes {
		if err := d.Validate(); err != nil {
			t.Fatalf("attribute %s: %v", d.Key, err)
		}
	}
	// A product depends on its index only, not on the batch it was made in: a streamed load
	// and a materialized catalog hold the same products.
	tail := SyntheticFrom(300, 200, 7)
	for k := range tail.Products {
		if !reflect.DeepEqual(a.Products[300+k], tail.Products[k]) {
			t.Fatalf("SyntheticFrom(300, 200) product %d differs from Synthetic(500)'s:\n%s\n%s", k, fmt.Sprint(tail.Products[k]), fmt.Sprint(a.Products[300+k]))
		}
	}
	if other := Synthetic(50, 8); reflect.DeepEqual(a.Products[:50], other.Products) {
		t.Fatal("seeds 7 and 8 made the same catalog")
	}
}

// TestSyntheticDistribution checks the distribution the generator's comment states.
func TestSyntheticDistribution(t *testing.T) {
	const n = 20_000
	var simple, variants int
	perCurrencies := map[int]int{}
	skus := map[string]bool{}
	for i := range n {
		p := SyntheticProduct(i, 1)
		k := len(p.Variants)
		variants += k
		if k == 1 {
			simple++
			if len(p.Options) != 0 {
				t.Fatalf("product %d: one variant but options %v", i, p.Options)
			}
		}
		if k < 1 || k > 10 {
			t.Fatalf("product %d has %d variants, want 1 to 10", i, k)
		}
		perCurrencies[len(p.Variants[0].Prices)]++
		for _, v := range p.Variants {
			if skus[v.SKU] {
				t.Fatalf("SKU %s made twice", v.SKU)
			}
			skus[v.SKU] = true
		}
	}
	mean := float64(variants) / n
	if math.Abs(mean-4.0) > 0.15 {
		t.Errorf("%.2f variants per product on average, want 4.0 +- 0.15", mean)
	}
	if share := float64(simple) / n; math.Abs(share-(1-SyntheticVariantShare)) > 0.02 {
		t.Errorf("%.1f%% simple products, want %.0f%% +- 2", 100*share, 100*(1-SyntheticVariantShare))
	}
	for c := range perCurrencies {
		if c < 1 || c > 3 {
			t.Errorf("%d products priced in %d currencies, want 1 to 3", perCurrencies[c], c)
		}
	}
	if len(perCurrencies) != 3 {
		t.Errorf("currencies per product %v, want products with 1, 2 and 3", perCurrencies)
	}
	t.Logf("%d products: %.2f variants on average, %.1f%% simple, by number of currencies %v", n, mean, 100*float64(simple)/n, perCurrencies)
}

// FuzzSyntheticProduct: every product of every seed passes the API's rules.
func FuzzSyntheticProduct(f *testing.F) {
	f.Add(uint64(1), uint32(0))
	f.Add(uint64(7), uint32(99_999_999))
	f.Fuzz(func(t *testing.T, seed uint64, i uint32) {
		idx := int(i % 100_000_000) // 8-digit SKU numbers
		p := SyntheticProduct(idx, seed)
		if err := validProduct(p.ProductInput, syntheticDefs); err != nil {
			t.Fatalf("SyntheticProduct(%d, %d): %v", idx, seed, err)
		}
	})
}

func TestGTIN13(t *testing.T) {
	for _, n := range []int64{0, 1, 42, 99_999_999_999, 123_456_789} {
		if why := catalog.GTINProblem(gtin13(n)); why != "" {
			t.Errorf("gtin13(%d) = %s: %s", n, gtin13(n), why)
		}
	}
}

// BenchmarkSyntheticProduct prints the generator's rate beside what a 1M-product seed needs:
// generation must not be what limits a load (stores import about 10-30k products/s here).
func BenchmarkSyntheticProduct(b *testing.B) {
	b.ReportAllocs()
	variants := 0
	for i := 0; b.Loop(); i++ {
		variants += len(SyntheticProduct(i, 1).Variants)
	}
	perSec := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "products/s")
	b.ReportMetric(1e6/perSec, "s/1M-products")
	b.Logf("%.0f products/s (%.1f variants each): 1M products in %.0f s of one core; target <= 60 s: %s",
		perSec, float64(variants)/float64(b.N), 1e6/perSec, map[bool]string{true: "met", false: "MISSED"}[1e6/perSec <= 60])
}

// FuzzParse: any document is a catalog that passes the API's rules or an error, never a panic;
// what Parse accepts, a second Parse of the same bytes accepts identically.
func FuzzParse(f *testing.F) {
	f.Add(sampleJSON)
	f.Add([]byte(`{"attributes":[{"key":"n","name":"N","type":"number"}],"categories":[{"slug":"a","name":"A"}],"products":[{"name":"x","category":"a","status":"active","attributes":{"n":1.5},"variants":[{"sku":"ABC","prices":[{"currency":"JPY","amount":100}],"initial_stock":1}]}],"sales":[{"skus":["abc"],"currency":"JPY","amount":50,"starts_in":"1h","lasts":"2h"}]}`))
	f.Add([]byte(`{"products":[{"variants":[{"sku":"ABC","barcode":"00000000"}]}],"sales":[{"starts_in":"-1h"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for i, p := range c.Products {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted product %d fails validation: %v", i, err)
			}
		}
		again, err := Parse(data)
		if err != nil || len(again.Products) != len(c.Products) || len(again.Sales) != len(c.Sales) {
			t.Fatalf("a second Parse of accepted bytes: %v", err)
		}
	})
}
