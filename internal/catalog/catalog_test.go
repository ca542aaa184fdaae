package catalog

import (
	"strings"
	"testing"
	"time"
)

func validInput() ProductInput {
	in := ProductInput{Name: "Mug", Category: "kitchen", Status: StatusActive,
		Variants: []VariantInput{{SKU: "ABC-123", Prices: []PriceInput{{Currency: "USD", Amount: 1299}}}}}
	in.Normalize()
	return in
}

func TestProductValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ProductInput)
		field  string // "" means valid
	}{
		{"valid", func(*ProductInput) {}, ""},
		{"missing sku", func(in *ProductInput) { in.Variants[0].SKU = "" }, "variants[0].sku"},
		{"short sku", func(in *ProductInput) { in.Variants[0].SKU = "AB" }, "variants[0].sku"},
		{"sku with space", func(in *ProductInput) { in.Variants[0].SKU = "AB C" }, "variants[0].sku"},
		{"sku ending in dash", func(in *ProductInput) { in.Variants[0].SKU = "ABC-" }, "variants[0].sku"},
		{"sku too long", func(in *ProductInput) { in.Variants[0].SKU = strings.Repeat("A", 65) }, "variants[0].sku"},
		{"missing name", func(in *ProductInput) { in.Name = "" }, "name"},
		{"long name", func(in *ProductInput) { in.Name = strings.Repeat("é", MaxNameLength+1) }, "name"},
		{"control in name", func(in *ProductInput) { in.Name = "a\x00b" }, "name"},
		{"bad utf8", func(in *ProductInput) { in.Brand = "\xff" }, "brand"},
		{"bad category", func(in *ProductInput) { in.Category = "Kitchen Stuff" }, "category"},
		{"missing status", func(in *ProductInput) { in.Status = "" }, "status"},
		{"unknown status", func(in *ProductInput) { in.Status = "sold" }, "status"},
		{"no variants", func(in *ProductInput) { in.Variants = nil }, "variants"},
		{"no prices", func(in *ProductInput) { in.Variants[0].Prices = nil }, "variants[0].prices"},
		{"negative price", func(in *ProductInput) { in.Variants[0].Prices[0].Amount = -1 }, "variants[0].prices[0].amount"},
		{"huge price", func(in *ProductInput) { in.Variants[0].Prices[0].Amount = MaxAmount + 1 }, "variants[0].prices[0].amount"},
		{"lower-case currency", func(in *ProductInput) { in.Variants[0].Prices[0].Currency = "usd" }, "variants[0].prices[0].currency"},
		{"unknown currency", func(in *ProductInput) { in.Variants[0].Prices[0].Currency = "XYZ" }, "variants[0].prices[0].currency"},
		{"missing currency", func(in *ProductInput) { in.Variants[0].Prices[0].Currency = "" }, "variants[0].prices[0].currency"},
		{"currency twice", func(in *ProductInput) {
			in.Variants[0].Prices = append(in.Variants[0].Prices, PriceInput{Currency: "USD", Amount: 1})
		}, "variants[0].prices[1].currency"},
		{"compare-at not above", func(in *ProductInput) { in.Variants[0].Prices[0].CompareAt = ptr[int64](1299) }, "variants[0].prices[0].compare_at"},
		{"image not a URL", func(in *ProductInput) { in.Media = []Media{{URL: "not a url"}} }, "media[0].url"},
		{"image ftp", func(in *ProductInput) { in.Media = []Media{{URL: "ftp://x/y.jpg"}} }, "media[0].url"},
		{"image twice", func(in *ProductInput) {
			in.Media = []Media{{URL: "https://x.example/a.jpg"}, {URL: "https://x.example/a.jpg"}}
		}, "media[1].url"},
		{"variant image not a product image", func(in *ProductInput) { in.Variants[0].Image = "https://x.example/b.jpg" }, "variants[0].image"},
		{"empty attribute key", func(in *ProductInput) { in.Attributes = Attributes{"": "x"} }, "attributes"},
		{"attribute key upper case", func(in *ProductInput) { in.Attributes = Attributes{"Colour": "x"} }, "attributes.Colour"},
		{"attribute value an object", func(in *ProductInput) { in.Attributes = Attributes{"colour": map[string]any{}} }, "attributes.colour"},
		{"bad barcode", func(in *ProductInput) { in.Variants[0].Barcode = "4006381333932" }, "variants[0].barcode"},
		{"negative weight", func(in *ProductInput) { in.Variants[0].WeightGrams = ptr[int64](-1) }, "variants[0].weight_grams"},
		{"negative purchase limit", func(in *ProductInput) { in.Variants[0].PurchaseLimit = -1 }, "variants[0].purchase_limit"},
		{"initial stock too large", func(in *ProductInput) { in.Variants[0].InitialStock = MaxQuantity + 1 }, "variants[0].initial_stock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput()
			tc.change(&in)
			err := in.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid input refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeInvalid || len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
				t.Fatalf("got %v, want an invalid-input error naming %q", err, tc.field)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCursorRoundTrip(t *testing.T) {
	for _, s := range Sorts {
		q := ListQuery{Sort: s, Limit: 10, Filter: ProductFilter{Brand: "Acme"}}
		if s == SortPrice || s == SortPriceDesc {
			q.Filter.Currency = "USD"
		}
		if s == SortPosition {
			q.Filter.Collection = "picks"
		}
		p := Product{ID: NewID(), Name: "Straße Ünïcode", PriceRanges: []PriceRange{{Currency: "USD", Min: 42, Max: 50}}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		next := q.NextCursor(p)
		if s == SortRelevance {
			q.Filter.Query = "blue"
			next = q.NextRelevanceCursor(p.ID, TierBrand)
		}
		c, err := ParseCursor(next.String())
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if (s == SortPrice || s == SortPriceDesc) && c.Price != 42 {
			t.Fatalf("%s: cursor price %d, want 42 (the lowest USD price)", s, c.Price)
		}
		q.After = c
		if err := q.Validate(); err != nil {
			t.Fatalf("%s: a cursor is refused by its own query: %v", s, err)
		}
		other := q
		other.Filter.Brand = "Other"
		if err := other.Validate(); ErrorCode(err) != CodeInvalid {
			t.Fatalf("%s: a cursor was accepted by a different filter", s)
		}
	}
}

func TestParseCursorRejects(t *testing.T) {
	for _, s := range []string{"", "!!!", "e30", strings.Repeat("A", MaxCursorLength+1),
		"eyJ2IjoxLCJzIjoibmFtZSIsImsiOiJ4IiwiaSI6Im5vcGUiLCJmIjoiIn0"} {
		if _, err := ParseCursor(s); ErrorCode(err) != CodeInvalid {
			t.Errorf("ParseCursor(%q) = %v, want an invalid-input error", s, err)
		}
	}
}

func TestCheckPlacement(t *testing.T) {
	parents := map[string]string{"a": "", "b": "a", "c": "b"}
	if err := CheckPlacement(parents, "a", "c"); ErrorCode(err) != CodeInvalid {
		t.Fatalf("cycle accepted: %v", err)
	}
	if err := CheckPlacement(parents, "new", "c"); err != nil {
		t.Fatal(err)
	}
	if err := CheckPlacement(parents, "new", "missing"); ErrorCode(err) != CodeInvalid {
		t.Fatalf("missing parent accepted: %v", err)
	}
}

func TestIDsAreOrderedAndValid(t *testing.T) {
	prev := ""
	for range 10000 {
		id := NewID()
		if !ValidID(id) || id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "x", strings.Repeat("0", 36), "0190a7c4-5b2e-7000-8000-00000000000G"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestSearchTerms(t *testing.T) {
	got := SearchTerms(`  Stainless-STEEL "mug"; DROP `)
	want := []string{"stainless", "steel", "mug", "drop"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}
