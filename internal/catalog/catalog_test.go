package catalog

import (
	"strings"
	"testing"
	"time"
)

func validInput() ProductInput {
	in := ProductInput{SKU: "ABC-123", Name: "Mug", Category: "kitchen", Status: StatusActive,
		Price: Money{Currency: "USD", Amount: 1299}}
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
		{"missing sku", func(in *ProductInput) { in.SKU = "" }, "sku"},
		{"short sku", func(in *ProductInput) { in.SKU = "AB" }, "sku"},
		{"sku with space", func(in *ProductInput) { in.SKU = "AB C" }, "sku"},
		{"sku ending in dash", func(in *ProductInput) { in.SKU = "ABC-" }, "sku"},
		{"sku too long", func(in *ProductInput) { in.SKU = strings.Repeat("A", 65) }, "sku"},
		{"missing name", func(in *ProductInput) { in.Name = "" }, "name"},
		{"long name", func(in *ProductInput) { in.Name = strings.Repeat("é", MaxNameLength+1) }, "name"},
		{"control in name", func(in *ProductInput) { in.Name = "a\x00b" }, "name"},
		{"bad utf8", func(in *ProductInput) { in.Brand = "\xff" }, "brand"},
		{"bad category", func(in *ProductInput) { in.Category = "Kitchen Stuff" }, "category"},
		{"missing status", func(in *ProductInput) { in.Status = "" }, "status"},
		{"unknown status", func(in *ProductInput) { in.Status = "sold" }, "status"},
		{"negative price", func(in *ProductInput) { in.Price.Amount = -1 }, "price.amount"},
		{"huge price", func(in *ProductInput) { in.Price.Amount = MaxAmount + 1 }, "price.amount"},
		{"lower-case currency", func(in *ProductInput) { in.Price.Currency = "usd" }, "price.currency"},
		{"unknown currency", func(in *ProductInput) { in.Price.Currency = "XYZ" }, "price.currency"},
		{"missing currency", func(in *ProductInput) { in.Price.Currency = "" }, "price.currency"},
		{"image not a URL", func(in *ProductInput) { in.Images = []string{"not a url"} }, "images[0]"},
		{"image ftp", func(in *ProductInput) { in.Images = []string{"ftp://x/y.jpg"} }, "images[0]"},
		{"empty attribute key", func(in *ProductInput) { in.Attributes = map[string]string{"": "x"} }, "attributes"},
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

func TestCursorRoundTrip(t *testing.T) {
	for _, s := range Sorts {
		q := ListQuery{Sort: s, Limit: 10, Filter: ProductFilter{Brand: "Acme"}}
		if s == SortPosition {
			q.Filter.Collection = "picks"
		}
		p := Product{ID: NewID(), Name: "Straße Ünïcode", Price: Money{Amount: 42}, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		c, err := ParseCursor(q.NextCursor(p).String())
		if err != nil {
			t.Fatalf("%s: %v", s, err)
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
