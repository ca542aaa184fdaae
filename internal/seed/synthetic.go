package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// The synthetic catalog. Every product is a pure function of (seed, index), so a catalog of any
// size streams into the store in batches (LoadSynthetic: memory bounded by one batch), a
// materialized one (Synthetic) is identical product by product, and a second seed continues the
// numbering (NextSynthetic).
//
// Variants, stated distribution (SyntheticVariantShare):
//   - 40% of products are simple: one variant, no options;
//   - 60% vary: k variants, k uniform in 2..10 (mean 6). When k <= 6, half of them vary in
//     Size only (the first k of XS..XXL); the rest in Size x Colour, 2 or 3 colours, sizes
//     enough to hold k, the first k combinations sold (shops rarely sell the whole grid).
//
// so 0.4 x 1 + 0.6 x 6 = 4.0 variants per product on average. Prices: USD on every variant,
// EUR on 60% of products, GBP on 30% (1 to 3 currencies); larger sizes cost up to 20% more;
// 10% carry a compare-at price. Attributes from four definitions (SyntheticAttributes):
// material (text), warranty_years (number), waterproof (boolean) on the product, colour (enum)
// on the product or, when it is an option, on each variant. A fifth of products have barcodes.

// SyntheticPrefix starts every synthetic SKU; then the product's index, 8 digits, and for
// variants after the first, "-" and the variant's position.
const SyntheticPrefix = "SYN-"

// SyntheticSKU is the SKU of variant j of synthetic product i.
func SyntheticSKU(i, j int) string {
	if j == 0 {
		return fmt.Sprintf("%s%08d", SyntheticPrefix, i)
	}
	return fmt.Sprintf("%s%08d-%d", SyntheticPrefix, i, j)
}

// Synthetic generators' vocabulary: enough combinations that names, brands and descriptions vary
// the way a real catalog's do, so search and sort see realistic selectivity.
var (
	roots      = []string{"electronics", "home", "outdoor", "apparel", "toys", "books", "sports", "beauty"}
	middles    = []string{"essentials", "premium", "accessories", "seasonal"}
	leaves     = []string{"basic", "pro", "kids", "travel", "eco"}
	adjectives = []string{"Compact", "Wireless", "Waterproof", "Classic", "Smart", "Organic", "Ultralight", "Heavy-duty", "Portable", "Stainless", "Vintage", "Modular", "Insulated", "Foldable", "Ergonomic", "Solar"}
	nouns      = []string{"Lamp", "Kettle", "Backpack", "Jacket", "Speaker", "Blender", "Tent", "Headphones", "Sneakers", "Mug", "Drone", "Puzzle", "Notebook", "Bottle", "Chair", "Watch", "Camera", "Blanket", "Grill", "Helmet"}
	materials  = []string{"recycled aluminium", "organic cotton", "stainless steel", "bamboo", "ripstop nylon", "walnut wood", "silicone", "merino wool", "tempered glass", "carbon fibre"}
	uses       = []string{"everyday carry", "long hikes", "small kitchens", "the office", "rainy commutes", "weekend trips", "gifting", "game night", "home workouts", "camping"}
	brands     = []string{"Northpeak", "Lumora", "Brightfield", "Kestrel & Co", "Oakhaven", "Tidewater", "Zentro", "Quillby", "Harborline", "Vantix", "Mossgrove", "Pellucid", "Arcadia Works", "Fennick", "Solstead", "Corvid Labs"}
	colors     = []string{"black", "white", "red", "navy", "olive", "sand", "graphite", "teal"}
	sizes      = []string{"XS", "S", "M", "L", "XL", "XXL"}
)

// SyntheticVariantShare is the share of synthetic products with options (the rest are simple).
const SyntheticVariantShare = 0.6

// SyntheticAttributes returns the attribute definitions synthetic products use.
func SyntheticAttributes() []catalog.AttributeDefinitionInput {
	return []catalog.AttributeDefinitionInput{
		{Key: "colour", Name: "Colour", Type: catalog.AttrEnum, Values: colors, Filterable: true},
		{Key: "material", Name: "Material", Type: catalog.AttrText, Filterable: true},
		{Key: "warranty_years", Name: "Warranty", Type: catalog.AttrNumber, Unit: "years", Filterable: true},
		{Key: "waterproof", Name: "Waterproof", Type: catalog.AttrBoolean, Filterable: true},
	}
}

// SyntheticCategories returns the 8x4x5 category tree (160 leaves, 3 levels), parents first,
// and the leaves' slugs.
func SyntheticCategories() (all []catalog.CategoryInput, leafSlugs []string) {
	title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	for _, r := range roots {
		all = append(all, catalog.CategoryInput{Slug: r, Name: title(r)})
		for _, m := range middles {
			ms := r + "-" + m
			all = append(all, catalog.CategoryInput{Slug: ms, Name: title(r) + " " + m, Parent: r})
			for _, l := range leaves {
				ls := ms + "-" + l
				all = append(all, catalog.CategoryInput{Slug: ls, Name: title(r) + " " + m + " " + l, Parent: ms})
				leafSlugs = append(leafSlugs, ls)
			}
		}
	}
	return all, leafSlugs
}

var _, syntheticLeaves = SyntheticCategories()

// Synthetic returns a deterministic catalog of n products over the synthetic category tree. The
// same seed gives the same catalog. It holds every product in memory: for large catalogs use
// LoadSynthetic, which streams.
func Synthetic(n int, seed uint64) Catalog { return SyntheticFrom(0, n, seed) }

// SyntheticFrom is Synthetic numbering its products from first.
func SyntheticFrom(first, n int, seed uint64) Catalog {
	c := Catalog{Attributes: SyntheticAttributes(), Products: make([]catalog.NewProduct, n)}
	c.Categories, _ = SyntheticCategories()
	for k := range n {
		c.Products[k] = SyntheticProduct(first+k, seed)
	}
	return c
}

// LoadSynthetic adds n synthetic products numbered from first, generating each batch just
// before importing it, so memory stays at one batch whatever n is. progress, when not nil, is
// called after each batch.
func LoadSynthetic(ctx context.Context, s catalog.Store, first, n int, seed uint64, progress func(done, total int)) error {
	cats, _ := SyntheticCategories()
	if err := prepare(ctx, s, SyntheticAttributes(), cats); err != nil {
		return err
	}
	batch := make([]catalog.NewProduct, 0, BatchSize)
	for start := 0; start < n; start += BatchSize {
		end := min(start+BatchSize, n)
		batch = batch[:0]
		for k := start; k < end; k++ {
			batch = append(batch, SyntheticProduct(first+k, seed))
		}
		if err := s.Import(ctx, batch); err != nil {
			return loadError(err, start, end)
		}
		if progress != nil {
			progress(end, n)
		}
	}
	return nil
}

// syntheticEpoch and syntheticSpan bound the synthetic creation times (one year).
var (
	syntheticEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	syntheticSpan  = int64(365 * 24 * time.Hour)
)

// SyntheticProduct returns synthetic product i of the catalog made with seed. It depends on
// nothing else, so products can be made in any order and batch.
func SyntheticProduct(i int, seed uint64) catalog.NewProduct {
	rng := rand.New(rand.NewPCG(seed, uint64(i)^0x9e3779b97f4a7c15))
	adj, noun := adjectives[rng.IntN(len(adjectives))], nouns[rng.IntN(len(nouns))]
	brand := brands[rng.IntN(len(brands))]
	material := materials[rng.IntN(len(materials))]
	status := catalog.StatusActive
	switch r := rng.IntN(100); {
	case r < 4:
		status = catalog.StatusDraft
	case r < 7:
		status = catalog.StatusArchived
	}
	img := fmt.Sprintf("https://cdn.example.com/catalog/syn-%08d/", i)
	in := catalog.ProductInput{
		Name:        fmt.Sprintf("%s %s %d", adj, noun, i),
		Description: fmt.Sprintf("%s %s by %s, made of %s, for %s.", adj, strings.ToLower(noun), brand, material, uses[rng.IntN(len(uses))]),
		Category:    syntheticLeaves[rng.IntN(len(syntheticLeaves))],
		Brand:       brand,
		Attributes: catalog.Attributes{
			"material":       material,
			"warranty_years": float64(1 + rng.IntN(3)),
		},
		Media:  []catalog.Media{{URL: img + "main.jpg", Alt: adj + " " + strings.ToLower(noun)}},
		Status: status,
	}
	if rng.IntN(2) == 0 {
		in.Attributes["waterproof"] = rng.IntN(3) == 0
	}

	// The grid: which option values each variant stands for.
	type combo struct{ size, colour int } // -1: the option is absent
	var combos []combo
	var colourValues []string
	switch {
	case rng.Float64() >= SyntheticVariantShare:
		combos = []combo{{-1, -1}}
		in.Attributes["colour"] = colors[rng.IntN(len(colors))]
	default:
		k := 2 + rng.IntN(9)
		if k <= len(sizes) && rng.IntN(2) == 0 {
			in.Options = []catalog.Option{{Name: "Size", Values: sizes[:k]}}
			for s := range k {
				combos = append(combos, combo{s, -1})
			}
			in.Attributes["colour"] = colors[rng.IntN(len(colors))]
			break
		}
		nc := 2 + rng.IntN(2)
		ns := (k + nc - 1) / nc
		off := rng.IntN(len(colors))
		for c := range nc {
			colourValues = append(colourValues, colors[(off+c)%len(colors)])
			in.Media = append(in.Media, catalog.Media{URL: img + colors[(off+c)%len(colors)] + ".jpg"})
		}
		in.Options = []catalog.Option{{Name: "Size", Values: sizes[:ns]}, {Name: "Colour", Values: colourValues}}
		for c := 0; c < nc && len(combos) < k; c++ {
			for s := 0; s < ns && len(combos) < k; s++ {
				combos = append(combos, combo{s, c})
			}
		}
	}

	base := int64(99 + rng.IntN(100000))
	eur, gbp := rng.IntN(10) < 6, rng.IntN(10) < 3
	compareAt := rng.IntN(10) == 0
	barcodes := rng.IntN(5) == 0
	weight := int64(50 + rng.IntN(5000))
	in.Variants = make([]catalog.VariantInput, len(combos))
	for j, cb := range combos {
		amount := base
		v := catalog.VariantInput{SKU: SyntheticSKU(i, j), Options: map[string]string{}, Attributes: catalog.Attributes{}}
		if cb.size >= 0 {
			v.Options["Size"] = sizes[cb.size]
			amount += base * int64(cb.size) / 25 // up to 20% more for XXL
		}
		if cb.colour >= 0 {
			v.Options["Colour"] = colourValues[cb.colour]
			v.Attributes["colour"] = colourValues[cb.colour]
			v.Image = in.Media[1+cb.colour].URL
		}
		v.Prices = append(v.Prices, price("USD", amount, compareAt))
		if eur {
			v.Prices = append(v.Prices, price("EUR", amount*92/100, compareAt))
		}
		if gbp {
			v.Prices = append(v.Prices, price("GBP", amount*79/100, compareAt))
		}
		if barcodes {
			v.Barcode = gtin13(int64(i)*16 + int64(j))
		}
		if j%2 == 0 {
			w := weight + int64(j)*10
			v.WeightGrams = &w
		}
		v.InitialStock = int64(rng.IntN(200))
		if rng.IntN(10) == 0 {
			v.InitialStock = 0
		}
		in.Variants[j] = v
	}
	in.Normalize()
	return catalog.NewProduct{ProductInput: in, CreatedAt: syntheticEpoch.Add(time.Duration(rng.Int64N(syntheticSpan)))}
}

func price(currency string, amount int64, compareAt bool) catalog.PriceInput {
	amount = max(amount, 1)
	p := catalog.PriceInput{Currency: currency, Amount: amount}
	if compareAt {
		c := amount * 5 / 4
		if c <= amount {
			c = amount + 1
		}
		p.CompareAt = &c
	}
	return p
}

// gtin13 returns the GTIN-13 with body n (12 digits, "2" first: the range GS1 leaves to
// in-store numbering, so no real product's code is reused) and its check digit.
func gtin13(n int64) string {
	body := fmt.Sprintf("2%011d", n%100_000_000_000)
	sum := 0
	for k := 0; k < 12; k++ {
		d := int(body[k] - '0')
		if (12-k)%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

// NextSynthetic returns the first synthetic index whose SKU is free, so a second seed adds
// products after the first's instead of colliding with them. Seeds number from 0 without gaps,
// so it probes SKUs by doubling and then bisecting: about 2 log2(n) lookups.
func NextSynthetic(ctx context.Context, s catalog.Store) (int, error) {
	exists := func(i int) (bool, error) {
		_, _, err := s.VariantBySKU(ctx, SyntheticSKU(i, 0))
		switch catalog.ErrorCode(err) {
		case "":
			return true, nil
		case catalog.CodeNotFound:
			return false, nil
		}
		return false, err
	}
	lo, hi := -1, 0 // lo exists (or is -1), hi is to be probed
	for {
		ok, err := exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, 2*hi+1
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
