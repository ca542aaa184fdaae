// Package seed fills a store: with the embedded sample catalog (a realistic shop of a few
// hundred products over a category tree, for first runs and demos) or with a synthetic catalog
// of any size (for load tests).
package seed

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

//go:embed sample.json
var sampleJSON []byte

// Catalog is a set of categories (parents first) and products with their stock.
type Catalog struct {
	Categories []catalog.CategoryInput
	Products   []catalog.NewProduct
}

type sampleFile struct {
	Categories []catalog.CategoryInput `json:"categories"`
	Products   []struct {
		catalog.ProductInput
		Stock int64 `json:"stock"`
	} `json:"products"`
}

// Sample returns the embedded sample catalog, validated.
func Sample() (Catalog, error) { return Parse(sampleJSON) }

// Parse reads a catalog in the sample's format and validates every entry with the same rules as
// the API, so a bad sample fails a test, not a first run.
func Parse(data []byte) (Catalog, error) {
	var f sampleFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Catalog{}, fmt.Errorf("sample catalog: %w", err)
	}
	var c Catalog
	known := map[string]bool{}
	for i, in := range f.Categories {
		in.Normalize()
		if err := in.Validate(); err != nil {
			return Catalog{}, fmt.Errorf("sample category %d (%s): %w", i, in.Slug, err)
		}
		if in.Parent != "" && !known[in.Parent] {
			return Catalog{}, fmt.Errorf("sample category %s: parent %q must come before it", in.Slug, in.Parent)
		}
		if known[in.Slug] {
			return Catalog{}, fmt.Errorf("sample category %s: listed twice", in.Slug)
		}
		known[in.Slug] = true
		c.Categories = append(c.Categories, in)
	}
	skus := map[string]bool{}
	// Creation times a minute apart, oldest first, so "newest" has a stable, meaningful order.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range f.Products {
		in := p.ProductInput
		in.Normalize()
		if err := in.Validate(); err != nil {
			return Catalog{}, fmt.Errorf("sample product %d (%s): %w", i, in.SKU, err)
		}
		if !known[in.Category] {
			return Catalog{}, fmt.Errorf("sample product %s: unknown category %q", in.SKU, in.Category)
		}
		if key := strings.ToLower(in.SKU); skus[key] {
			return Catalog{}, fmt.Errorf("sample product %s: SKU listed twice", in.SKU)
		} else {
			skus[key] = true
		}
		if p.Stock < 0 {
			return Catalog{}, fmt.Errorf("sample product %s: negative stock", in.SKU)
		}
		c.Products = append(c.Products, catalog.NewProduct{ProductInput: in, OnHand: p.Stock, CreatedAt: start.Add(time.Duration(i) * time.Minute)})
	}
	return c, nil
}

// BatchSize is how many products Load imports per store call (and per progress report).
const BatchSize = 1000

// Load adds c to the store: categories first (existing slugs are kept as they are), then the
// products in batches, calling progress after each batch when it is not nil.
func Load(ctx context.Context, s catalog.Store, c Catalog, progress func(done, total int)) error {
	for _, in := range c.Categories {
		if _, err := s.CreateCategory(ctx, in); err != nil {
			if catalog.ErrorCode(err) == catalog.CodeConflict {
				continue
			}
			return fmt.Errorf("category %s: %w", in.Slug, err)
		}
	}
	for start := 0; start < len(c.Products); start += BatchSize {
		end := min(start+BatchSize, len(c.Products))
		if err := s.Import(ctx, c.Products[start:end]); err != nil {
			return loadError(err, start, end)
		}
		if progress != nil {
			progress(end, len(c.Products))
		}
	}
	return nil
}

// loadError says which products were not added, in the store's client-safe words: an operator
// reads what clashed (the SKU), not the driver's constraint text. Internal errors keep their
// detail, which is what an operator needs to act on them.
func loadError(err error, start, end int) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.Code == catalog.CodeInternal || ce.Code == catalog.CodeUnavailable {
		return fmt.Errorf("products %d to %d not added (%d before them were): %w", start+1, end, start, err)
	}
	safe := &catalog.Error{Code: ce.Code, Message: ce.Message, Fields: ce.Fields}
	return fmt.Errorf("products %d to %d not added (%d before them were): %w", start+1, end, start, safe)
}

// SyntheticPrefix starts every synthetic SKU; the rest is the product's index, 8 digits.
const SyntheticPrefix = "SYN-"

func syntheticSKU(i int) string { return fmt.Sprintf("%s%08d", SyntheticPrefix, i) }

// NextSynthetic returns the first synthetic index whose SKU is free, so a second seed adds
// products after the first's instead of colliding with them. Seeds number from 0 without gaps,
// so it probes SKUs by doubling and then bisecting: about 2 log2(n) lookups.
func NextSynthetic(ctx context.Context, s catalog.Store) (int, error) {
	exists := func(i int) (bool, error) {
		_, err := s.ProductBySKU(ctx, syntheticSKU(i))
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
)

// Synthetic returns a deterministic catalog of n products over an 8x4x5 category tree (160
// leaves, 3 levels). The same seed gives the same catalog.
func Synthetic(n int, seed uint64) Catalog { return SyntheticFrom(0, n, seed) }

// SyntheticFrom is Synthetic numbering its products from first.
func SyntheticFrom(first, n int, seed uint64) Catalog {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var c Catalog
	var leafSlugs []string
	title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	for _, r := range roots {
		c.Categories = append(c.Categories, catalog.CategoryInput{Slug: r, Name: title(r)})
		for _, m := range middles {
			ms := r + "-" + m
			c.Categories = append(c.Categories, catalog.CategoryInput{Slug: ms, Name: title(r) + " " + m, Parent: r})
			for _, l := range leaves {
				ls := ms + "-" + l
				c.Categories = append(c.Categories, catalog.CategoryInput{Slug: ls, Name: title(r) + " " + m + " " + l, Parent: ms})
				leafSlugs = append(leafSlugs, ls)
			}
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(365 * 24 * time.Hour)
	c.Products = make([]catalog.NewProduct, n)
	for k := range n {
		i := first + k
		adj, noun := adjectives[rng.IntN(len(adjectives))], nouns[rng.IntN(len(nouns))]
		brand := brands[rng.IntN(len(brands))]
		name := fmt.Sprintf("%s %s %d", adj, noun, i)
		status := catalog.StatusActive
		switch r := rng.IntN(100); {
		case r < 4:
			status = catalog.StatusDraft
		case r < 7:
			status = catalog.StatusArchived
		}
		stock := int64(rng.IntN(500))
		if rng.IntN(10) == 0 {
			stock = 0
		}
		in := catalog.ProductInput{
			SKU:         syntheticSKU(i),
			Name:        name,
			Description: fmt.Sprintf("%s %s by %s, made of %s, for %s.", adj, strings.ToLower(noun), brand, materials[rng.IntN(len(materials))], uses[rng.IntN(len(uses))]),
			Category:    leafSlugs[rng.IntN(len(leafSlugs))],
			Brand:       brand,
			Attributes:  map[string]string{"color": colors[rng.IntN(len(colors))], "warranty": fmt.Sprintf("%d years", 1+rng.IntN(3))},
			Images:      []string{fmt.Sprintf("https://cdn.example.com/catalog/syn-%08d/main.jpg", i)},
			Status:      status,
			Price:       catalog.Money{Currency: "USD", Amount: int64(99 + rng.IntN(100000))},
		}
		c.Products[k] = catalog.NewProduct{ProductInput: in, OnHand: stock, CreatedAt: start.Add(time.Duration(rng.Int64N(span)))}
	}
	return c
}
