// Package seed fills a store: with the embedded sample catalog (a realistic shop of about 150
// products over a category tree, with variants, typed attributes, several currencies and sales,
// for first runs and demos) or with a synthetic catalog of any size (for load tests).
package seed

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

//go:embed sample.json
var sampleJSON []byte

// Catalog is a set of attribute definitions, categories (parents first), products with their
// variants and initial stock, and the sales to open once they are in.
type Catalog struct {
	Attributes []catalog.AttributeDefinitionInput
	Categories []catalog.CategoryInput
	Products   []catalog.NewProduct
	Sales      []Sale
}

// Sale is a price change Load makes after the products are in, relative to the time it loads:
// a sale window running now (StartsIn 0) or one scheduled to start later. Both end by
// themselves after Lasts, so a demo store shows a live sale for a few days and then its end.
type Sale struct {
	// Note says what the sale shows; for people reading the sample.
	Note      string   `json:"note,omitempty"`
	SKUs      []string `json:"skus"`
	Currency  string   `json:"currency"`
	Amount    int64    `json:"amount"`
	CompareAt *int64   `json:"compare_at,omitempty"`
	StartsIn  Duration `json:"starts_in"`
	Lasts     Duration `json:"lasts"`
}

// Change is the price change the sale makes for loading at now.
func (s Sale) Change(now time.Time) catalog.PriceChange {
	c := catalog.PriceChange{Currency: s.Currency, Amount: s.Amount, CompareAt: s.CompareAt}
	start := now
	if s.StartsIn > 0 {
		start = now.Add(time.Duration(s.StartsIn))
		c.ValidFrom = &start
	}
	until := start.Add(time.Duration(s.Lasts))
	c.ValidUntil = &until
	return c
}

// Duration is a time.Duration written as a Go duration string ("72h") in JSON.
type Duration time.Duration

// UnmarshalJSON reads "72h", "90m", "0s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"72h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// SampleActor is the actor of the sample's price changes.
const SampleActor = "system:seed"

type sampleFile struct {
	Attributes []catalog.AttributeDefinitionInput `json:"attributes"`
	Categories []catalog.CategoryInput            `json:"categories"`
	Products   []catalog.ProductInput             `json:"products"`
	Sales      []Sale                             `json:"sales"`
}

// Sample returns the embedded sample catalog, validated.
func Sample() (Catalog, error) { return Parse(sampleJSON) }

// Parse reads a catalog in the sample's format and validates every entry with the same rules as
// the API (attribute values against their definitions included), so a bad sample fails a test,
// not a first run.
func Parse(data []byte) (Catalog, error) {
	var f sampleFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return Catalog{}, fmt.Errorf("sample catalog: %w", err)
	}
	var c Catalog
	defs := map[string]catalog.AttributeDefinition{}
	for i, in := range f.Attributes {
		in.Normalize()
		if err := in.Validate(); err != nil {
			return Catalog{}, fmt.Errorf("sample attribute %d (%s): %w", i, in.Key, err)
		}
		if _, dup := defs[in.Key]; dup {
			return Catalog{}, fmt.Errorf("sample attribute %s: defined twice", in.Key)
		}
		defs[in.Key] = definition(in)
		c.Attributes = append(c.Attributes, in)
	}
	lookup := func(k string) (catalog.AttributeDefinition, bool) { d, ok := defs[k]; return d, ok }
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
	skus := map[string]catalog.VariantInput{}
	// Creation times a minute apart, oldest first, so "newest" has a stable, meaningful order.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, in := range f.Products {
		in.Attributes = numbersAsFloats(in.Attributes)
		for j := range in.Variants {
			in.Variants[j].Attributes = numbersAsFloats(in.Variants[j].Attributes)
		}
		in.Normalize()
		if err := validProduct(in, lookup); err != nil {
			return Catalog{}, fmt.Errorf("sample product %d (%s): %w", i, in.Name, err)
		}
		if !known[in.Category] {
			return Catalog{}, fmt.Errorf("sample product %s: unknown category %q", in.Name, in.Category)
		}
		for _, v := range in.Variants {
			key := strings.ToLower(v.SKU)
			if _, dup := skus[key]; dup {
				return Catalog{}, fmt.Errorf("sample product %s: SKU %s listed twice", in.Name, v.SKU)
			}
			skus[key] = v
		}
		c.Products = append(c.Products, catalog.NewProduct{ProductInput: in, CreatedAt: start.Add(time.Duration(i) * time.Minute)})
	}
	for i, s := range f.Sales {
		if err := validSale(s, skus); err != nil {
			return Catalog{}, fmt.Errorf("sample sale %d (%s): %w", i, s.Note, err)
		}
		c.Sales = append(c.Sales, s)
	}
	return c, nil
}

// validProduct applies the API's rules, the attribute definitions included.
func validProduct(in catalog.ProductInput, defs func(string) (catalog.AttributeDefinition, bool)) error {
	if err := in.Validate(); err != nil {
		return err
	}
	var p catalog.Problems
	catalog.CheckAttributes("attributes", in.Attributes, defs, &p)
	for j, v := range in.Variants {
		catalog.CheckAttributes(fmt.Sprintf("variants[%d].attributes", j), v.Attributes, defs, &p)
	}
	return p.Err()
}

// validSale checks a sale against the variants it names: each must exist and have a price in
// the sale's currency above the sale's amount (a "sale" that raises the price is a mistake),
// and the window must pass the API's rules at any load time.
func validSale(s Sale, skus map[string]catalog.VariantInput) error {
	if len(s.SKUs) == 0 {
		return errors.New("names no SKU")
	}
	if s.StartsIn < 0 || s.Lasts < Duration(catalog.MinSaleWindow) {
		return fmt.Errorf("starts_in must not be negative and lasts at least %s", catalog.MinSaleWindow)
	}
	now := time.Now()
	if err := s.Change(now).Validate(now); err != nil {
		return err
	}
	for _, sku := range s.SKUs {
		v, ok := skus[strings.ToLower(sku)]
		if !ok {
			return fmt.Errorf("SKU %s is not in the sample", sku)
		}
		i := slices.IndexFunc(v.Prices, func(p catalog.PriceInput) bool { return p.Currency == s.Currency })
		if i < 0 || v.Prices[i].Amount <= s.Amount {
			return fmt.Errorf("SKU %s has no %s price above the sale's %d", sku, s.Currency, s.Amount)
		}
	}
	return nil
}

// numbersAsFloats turns the json.Numbers UseNumber left in attribute values into float64, the
// type the API's decoder gives numbers; UseNumber itself keeps int64 fields exact.
func numbersAsFloats(a catalog.Attributes) catalog.Attributes {
	for k, v := range a {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				a[k] = f
			}
		}
	}
	return a
}

func definition(in catalog.AttributeDefinitionInput) catalog.AttributeDefinition {
	return catalog.AttributeDefinition{Key: in.Key, Name: in.Name, Type: in.Type, Values: in.Values, Unit: in.Unit, Filterable: in.Filterable}
}

// BatchSize is how many products Load imports per store call (and per progress report).
const BatchSize = 1000

// Load adds c to the store: attribute definitions and categories first (existing ones are kept,
// an enum gaining the values c uses), then the products in batches, calling progress after
// each batch when it is not nil, then the sales, timed from now.
func Load(ctx context.Context, s catalog.Store, c Catalog, progress func(done, total int)) error {
	if err := prepare(ctx, s, c.Attributes, c.Categories); err != nil {
		return err
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
	return openSales(ctx, s, c.Sales, time.Now())
}

// prepare defines the attributes and creates the categories a catalog needs.
func prepare(ctx context.Context, s catalog.Store, attrs []catalog.AttributeDefinitionInput, cats []catalog.CategoryInput) error {
	for _, in := range attrs {
		if err := ensureAttribute(ctx, s, in); err != nil {
			return err
		}
	}
	for _, in := range cats {
		if _, err := s.CreateCategory(ctx, in); err != nil {
			if catalog.ErrorCode(err) == catalog.CodeConflict {
				continue
			}
			return fmt.Errorf("category %s: %w", in.Slug, err)
		}
	}
	return nil
}

// ensureAttribute defines in, or checks that the store's definition of its key can hold the
// values a catalog brings: the same type, and for an enum every value (missing ones are
// added, which CanRedefine always allows). A synthetic seed on top of the sample shares keys.
func ensureAttribute(ctx context.Context, s catalog.Store, in catalog.AttributeDefinitionInput) error {
	_, err := s.CreateAttribute(ctx, in)
	if catalog.ErrorCode(err) != catalog.CodeConflict {
		if err != nil {
			return fmt.Errorf("attribute %s: %w", in.Key, err)
		}
		return nil
	}
	cur, err := s.Attribute(ctx, in.Key)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", in.Key, err)
	}
	if cur.Type != in.Type {
		return fmt.Errorf("attribute %s is already defined as %s; this catalog needs %s", in.Key, cur.Type, in.Type)
	}
	if cur.Type != catalog.AttrEnum {
		return nil
	}
	values := slices.Clone(cur.Values)
	for _, v := range in.Values {
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	if len(values) == len(cur.Values) {
		return nil
	}
	next := catalog.AttributeDefinitionInput{Key: cur.Key, Name: cur.Name, Type: cur.Type, Values: values, Unit: cur.Unit, Filterable: cur.Filterable}
	if _, err := s.UpdateAttribute(ctx, cur.Key, next, cur.Version); err != nil {
		return fmt.Errorf("attribute %s: adding the values this catalog uses: %w", in.Key, err)
	}
	return nil
}

// openSales sets each sale's price on each of its SKUs.
func openSales(ctx context.Context, s catalog.Store, sales []Sale, now time.Time) error {
	for _, sale := range sales {
		ch := sale.Change(now)
		for _, sku := range sale.SKUs {
			_, v, err := s.VariantBySKU(ctx, sku)
			if err != nil {
				return fmt.Errorf("sale on %s: %w", sku, err)
			}
			if _, _, err := s.SetPrice(ctx, v.ID, ch, SampleActor, 0); err != nil {
				return fmt.Errorf("sale on %s: %w", sku, err)
			}
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
