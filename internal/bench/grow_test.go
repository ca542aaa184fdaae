package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pggrow"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
)

// catalogStats are the distributions the scale series depends on: what a filter, a sort or a
// search selects.
type catalogStats struct {
	products                                               int
	active, withOptions, eur, gbp, compareAt, barcode, red float64 // shares of products
	variantsPerProduct, usdFirst                           float64 // means
	zeroStock                                              float64 // share of variants
	adjective                                              map[string]float64
	categories                                             int
}

func (s *catalogStats) add(p catalog.Product) {
	s.products++
	if s.adjective == nil {
		s.adjective = map[string]float64{}
	}
	if p.Status == catalog.StatusActive {
		s.active++
	}
	if len(p.Options) > 0 {
		s.withOptions++
	}
	s.adjective[strings.Fields(p.Name)[0]]++
	s.variantsPerProduct += float64(len(p.Variants))
	v0 := p.Variants[0]
	for _, pr := range v0.Prices {
		switch pr.Currency {
		case "USD":
			s.usdFirst += float64(pr.Amount)
			if pr.CompareAt != nil {
				s.compareAt++
			}
		case "EUR":
			s.eur++
		case "GBP":
			s.gbp++
		}
	}
	if v0.Barcode != "" {
		s.barcode++
	}
	if p.Attributes["colour"] == "red" || slices.ContainsFunc(p.Variants, func(v catalog.Variant) bool { return v.Attributes["colour"] == "red" }) {
		s.red++
	}
	for _, v := range p.Variants {
		if v.Stock.OnHand == 0 {
			s.zeroStock++
		}
	}
}

func (s *catalogStats) finish(categories map[string]bool) {
	n := float64(s.products)
	s.zeroStock /= s.variantsPerProduct
	for _, f := range []*float64{&s.active, &s.withOptions, &s.eur, &s.gbp, &s.compareAt, &s.barcode, &s.red, &s.variantsPerProduct, &s.usdFirst} {
		*f /= n
	}
	for k := range s.adjective {
		s.adjective[k] /= n
	}
	s.categories = len(categories)
}

// fromInput makes the product the generator's input describes, as a store would read it.
func fromInput(np catalog.NewProduct) catalog.Product {
	p := catalog.Product{Name: np.Name, Category: np.Category, Status: np.Status, Options: np.Options, Attributes: np.Attributes}
	for _, vi := range np.Variants {
		v := catalog.Variant{Barcode: vi.Barcode, Attributes: vi.Attributes, Stock: catalog.Stock{OnHand: vi.InitialStock}}
		for _, pr := range vi.Prices {
			v.Prices = append(v.Prices, catalog.Price{Currency: pr.Currency, Amount: pr.Amount, CompareAt: pr.CompareAt})
		}
		p.Variants = append(p.Variants, v)
	}
	return p
}

// TestGrowKeepsTheGeneratorsDistributions grows a catalog inside PostgreSQL from 1,500
// generated products to 6,000 and compares the grown products with what the generator itself
// makes for the same indexes: each grown product must be a valid product shaped as the
// generator shapes product i (name, SKUs, images, description, price rules), and the shares
// and means that decide what filters, sorts and searches select must agree.
func TestGrowKeepsTheGeneratorsDistributions(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 1,500 products")
	}
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const templates, total = 1500, 6000
	if err := seed.LoadSynthetic(ctx, store, 0, templates, 1, nil); err != nil {
		t.Fatal(err)
	}
	schema := func() string {
		var s string
		if err := store.Pool().QueryRow(ctx, `SELECT string_agg(d, E'\n' ORDER BY d) FROM (
			SELECT indexdef AS d FROM pg_indexes WHERE schemaname = current_schema()
			UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = current_schema()::regnamespace) x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	// Twice, as the series grows (on the same pool: a connection may be reused).
	const middle = 4000
	if err := pggrow.Synthetic(ctx, store.Pool(), templates, templates, middle-templates, 1); err != nil {
		t.Fatal(err)
	}
	if err := pggrow.Synthetic(ctx, store.Pool(), templates, middle, total-middle, 1); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after != before {
		t.Errorf("indexes and constraints differ after growing:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Growing again past what is there refuses a collision instead of duplicating SKUs.
	if err := pggrow.Synthetic(ctx, store.Pool(), templates, total-1, 1, 1); err == nil || !strings.Contains(err.Error(), "variants_sku") {
		t.Errorf("growing over an existing index: %v, want the SKU index to refuse it", err)
	}
	if after := schema(); after != before {
		t.Errorf("indexes and constraints differ after a failed growth:\n%s", after)
	}

	voc := seed.SyntheticVocabulary()
	var grown, generated catalogStats
	grownCats, generatedCats := map[string]bool{}, map[string]bool{}
	for i := templates; i < total; i++ {
		p, _, err := store.VariantBySKU(ctx, seed.SyntheticSKU(i, 0))
		if err != nil {
			t.Fatalf("product %d: %v", i, err)
		}
		if p, err = store.Product(ctx, p.ID); err != nil {
			t.Fatalf("product %d: %v", i, err)
		}
		checkGrown(t, i, p, voc)
		grown.add(p)
		grownCats[p.Category] = true
		np := seed.SyntheticProduct(i, 1)
		generated.add(fromInput(np))
		generatedCats[np.Category] = true
	}
	grown.finish(grownCats)
	generated.finish(generatedCats)
	// Tolerances: the grown structure comes from 1,500 templates and the comparison is over
	// 4,500 products, so a share differs by sampling alone by about 0.015 (one sigma).
	shares := []struct {
		name       string
		got, want  float64
		tol        float64
		isRelative bool
	}{
		{"active", grown.active, generated.active, 0.04, false},
		{"with options", grown.withOptions, generated.withOptions, 0.05, false},
		{"priced in EUR", grown.eur, generated.eur, 0.05, false},
		{"priced in GBP", grown.gbp, generated.gbp, 0.05, false},
		{"compare-at price", grown.compareAt, generated.compareAt, 0.04, false},
		{"barcodes", grown.barcode, generated.barcode, 0.04, false},
		{"red somewhere", grown.red, generated.red, 0.05, false},
		{"variants with no stock", grown.zeroStock, generated.zeroStock, 0.03, false},
		{"variants per product", grown.variantsPerProduct, generated.variantsPerProduct, 0.08, true},
		{"first variant's USD price", grown.usdFirst, generated.usdFirst, 0.08, true},
	}
	for _, s := range shares {
		diff := math.Abs(s.got - s.want)
		if s.isRelative {
			diff /= s.want
		}
		if diff > s.tol {
			t.Errorf("%s: grown %.3f, generator %.3f (tolerance %.2f)", s.name, s.got, s.want, s.tol)
		}
	}
	for _, a := range voc.Adjectives {
		if d := math.Abs(grown.adjective[a] - generated.adjective[a]); d > 0.025 {
			t.Errorf("share of %q: grown %.3f, generator %.3f", a, grown.adjective[a], generated.adjective[a])
		}
	}
	if grown.categories != len(voc.Leaves) {
		t.Errorf("grown products use %d categories, want all %d", grown.categories, len(voc.Leaves))
	}
}

// checkGrown holds grown product i to the generator's rules for product i.
func checkGrown(t *testing.T, i int, p catalog.Product, voc seed.Vocabulary) {
	t.Helper()
	in := p.Input()
	for _, v := range p.Variants {
		vi := catalog.VariantInput{SKU: v.SKU, Options: v.Options, Barcode: v.Barcode, WeightGrams: v.WeightGrams,
			Attributes: v.Attributes, Image: v.Image, PurchaseLimit: v.PurchaseLimit, InitialStock: v.Stock.OnHand}
		for _, pr := range v.Prices {
			vi.Prices = append(vi.Prices, catalog.PriceInput{Currency: pr.Currency, Amount: pr.Amount, CompareAt: pr.CompareAt})
		}
		in.Variants = append(in.Variants, vi)
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		t.Fatalf("grown product %d is not a valid product: %v", i, err)
	}
	words := strings.Fields(p.Name)
	if len(words) != 3 || !slices.Contains(voc.Adjectives, words[0]) || !slices.Contains(voc.Nouns, words[1]) || words[2] != fmt.Sprint(i) {
		t.Fatalf("product %d is named %q", i, p.Name)
	}
	material, _ := p.Attributes["material"].(string)
	wantDesc := fmt.Sprintf("%s %s by %s, made of %s, for ", words[0], strings.ToLower(words[1]), p.Brand, material)
	if !strings.HasPrefix(p.Description, wantDesc) || !slices.Contains(voc.Brands, p.Brand) || !slices.Contains(voc.Materials, material) {
		t.Fatalf("product %d: description %q, brand %q, material %q", i, p.Description, p.Brand, material)
	}
	img := fmt.Sprintf("https://cdn.example.com/catalog/syn-%08d/", i)
	if p.Media[0].URL != img+"main.jpg" || p.Media[0].Alt != words[0]+" "+strings.ToLower(words[1]) {
		t.Fatalf("product %d: media %+v", i, p.Media[0])
	}
	var base int64
	for j, v := range p.Variants {
		if v.SKU != seed.SyntheticSKU(i, j) || (v.Image != "" && !strings.HasPrefix(v.Image, img)) {
			t.Fatalf("product %d variant %d: SKU %q, image %q", i, j, v.SKU, v.Image)
		}
		usd, ok := v.Price("USD")
		if !ok {
			t.Fatalf("product %d variant %d has no USD price", i, j)
		}
		size := max(0, slices.Index(voc.Sizes, v.Options["Size"]))
		if j == 0 {
			base = usd.Amount * 25 / (25 + int64(size)) // the first variant is the smallest size
			for base+base*int64(size)/25 < usd.Amount {
				base++
			}
		}
		if want := base + base*int64(size)/25; usd.Amount != want || base < 99 || base > 100098 {
			t.Fatalf("product %d variant %d (size %d): USD %d, want %d from base %d", i, j, size, usd.Amount, want, base)
		}
		if eur, ok := v.Price("EUR"); ok && eur.Amount != max(1, usd.Amount*92/100) {
			t.Fatalf("product %d variant %d: EUR %d for USD %d", i, j, eur.Amount, usd.Amount)
		}
	}
}
