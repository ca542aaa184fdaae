package catalog_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"

	jsonv2 "github.com/go-json-experiment/json"
)

func TestImportChanges(t *testing.T) {
	w := int64(300)
	in := catalog.ProductInput{Name: "Tee", Category: "tops", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}},
		Variants: []catalog.VariantInput{
			{SKU: "T-S", Options: map[string]string{"Size": "S"}, WeightGrams: &w, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}, InitialStock: 4},
			{SKU: "T-M", Options: map[string]string{"Size": "M"}, Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 90}, {Currency: "USD", Amount: 100}}},
		}}
	in.Normalize()
	cur := catalog.CreatedProduct("p1", in, []string{"v1", "v2"}, time.Now())
	// A third variant in the catalog that the line does not name changes nothing either.
	cur.Variants = append(cur.Variants, catalog.Variant{ID: "v3", SKU: "T-L", Options: map[string]string{"Size": "L"}})
	if catalog.ImportChanges(cur, in) {
		t.Fatal("the line it was created from changes the product")
	}
	for name, change := range map[string]func(p *catalog.ProductInput){
		"name":           func(p *catalog.ProductInput) { p.Name = "Tee 2" },
		"option values":  func(p *catalog.ProductInput) { p.Options[0].Values = []string{"M", "S"} },
		"new SKU":        func(p *catalog.ProductInput) { p.Variants[1].SKU = "T-XL" },
		"SKU case":       func(p *catalog.ProductInput) { p.Variants[0].SKU = "t-s" },
		"price":          func(p *catalog.ProductInput) { p.Variants[0].Prices[0].Amount = 101 },
		"price removed":  func(p *catalog.ProductInput) { p.Variants[1].Prices = p.Variants[1].Prices[1:] },
		"compare-at":     func(p *catalog.ProductInput) { c := int64(200); p.Variants[0].Prices[0].CompareAt = &c },
		"weight removed": func(p *catalog.ProductInput) { p.Variants[0].WeightGrams = nil },
		"barcode":        func(p *catalog.ProductInput) { p.Variants[1].Barcode = "4006381333931" },
		"attribute":      func(p *catalog.ProductInput) { p.Variants[1].Attributes = catalog.Attributes{"fit": "slim"} },
	} {
		next := in
		next.Options = []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}}
		next.Variants = append([]catalog.VariantInput(nil), in.Variants...)
		for i := range next.Variants {
			next.Variants[i].Prices = append([]catalog.PriceInput(nil), in.Variants[i].Prices...)
		}
		change(&next)
		if !catalog.ImportChanges(cur, next) {
			t.Errorf("%s: ImportChanges = false, want true", name)
		}
	}
	// Initial stock is not an import's to change on an existing variant.
	next := in
	next.Variants = append([]catalog.VariantInput(nil), in.Variants...)
	next.Variants[0].InitialStock = 99
	if catalog.ImportChanges(cur, next) {
		t.Error("initial_stock of an existing variant counts as a change")
	}
}

// TestPlanImportUpdate: each rule an update can break beyond Validate refuses the line, naming
// the field; a valid line's plan matches variants by SKU (any case), keeps the others and
// places new ones after the last position.
func TestPlanImportUpdate(t *testing.T) {
	line := func(sizes ...string) catalog.ProductInput {
		in := catalog.ProductInput{Name: "Tee", Category: "tops", Status: catalog.StatusActive,
			Media:   []catalog.Media{{URL: "https://cdn.example.com/tee.jpg"}},
			Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L", "XL"}}}}
		for _, sz := range sizes {
			in.Variants = append(in.Variants, catalog.VariantInput{SKU: "T-" + sz, Options: map[string]string{"Size": sz},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 100}}})
		}
		in.Normalize()
		return in
	}
	cur := catalog.CreatedProduct("p1", line("S", "M"), []string{"v1", "v2"}, time.Now())
	cur.Variants[1].Image = "https://cdn.example.com/tee.jpg"

	in := line("L")
	in.Variants = append(in.Variants, catalog.VariantInput{SKU: "t-s", Options: map[string]string{"Size": "S"},
		Prices: []catalog.PriceInput{{Currency: "USD", Amount: 90}}})
	pl, err := catalog.PlanImportUpdate(cur, in)
	if err != nil {
		t.Fatal(err)
	}
	if pl.Matched[0] != nil || pl.Matched[1] == nil || pl.Matched[1].ID != "v1" || len(pl.Kept) != 1 || pl.Kept[0].ID != "v2" ||
		pl.Total != 3 || pl.Next != 2 {
		t.Errorf("plan = matched %v, kept %v, total %d, next %d", pl.Matched, pl.Kept, pl.Total, pl.Next)
	}

	for name, tc := range map[string]struct {
		change func(p *catalog.ProductInput)
		field  string
	}{
		"combination of a kept variant": {func(p *catalog.ProductInput) { p.Variants[0].Options["Size"] = "M" }, "variants[0].options"},
		"removed value in use":          {func(p *catalog.ProductInput) { p.Options[0].Values = []string{"L", "S"} }, "options"},
		"options dropped":               {func(p *catalog.ProductInput) { p.Options = nil; p.Variants[0].Options = nil }, "options"},
		"media a kept variant shows":    {func(p *catalog.ProductInput) { p.Media = nil }, "media"},
	} {
		in := line("L")
		tc.change(&in)
		_, err := catalog.PlanImportUpdate(cur, in)
		var e *catalog.Error
		if !errors.As(err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != tc.field {
			t.Errorf("%s: err = %v, want one naming %s", name, err, tc.field)
		}
	}
	big := cur
	big.Variants = nil
	for i := range catalog.MaxVariants {
		big.Variants = append(big.Variants, catalog.Variant{ID: fmt.Sprint("v", i), SKU: fmt.Sprint("K-", i), Position: i,
			Options: map[string]string{"Size": fmt.Sprint(i)}})
	}
	big.Options = []catalog.Option{{Name: "Size", Values: nil}}
	for _, v := range big.Variants {
		big.Options[0].Values = append(big.Options[0].Values, v.Options["Size"])
	}
	more := line("L")
	more.Options = []catalog.Option{{Name: "Size", Values: append(append([]string{}, big.Options[0].Values...), "L")}}
	if _, err := catalog.PlanImportUpdate(big, more); catalog.ErrorCode(err) != catalog.CodeInvalid || !strings.Contains(err.Error(), "variants") {
		t.Errorf("one variant over the limit: err = %v", err)
	}
}

// TestCheckImportBatchChecked: a Checked item skips normalizing and validating (the importer
// did both), an unchecked one does not, and the batch's duplicate-SKU rule holds for both.
func TestCheckImportBatchChecked(t *testing.T) {
	item := func(line int, name, sku string, checked bool) catalog.ImportItem {
		return catalog.ImportItem{Line: line, Checked: checked, Product: catalog.ProductInput{Name: name, Category: "misc",
			Status: catalog.StatusActive, Variants: []catalog.VariantInput{{SKU: sku, Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1}}}}}}
	}
	items := []catalog.ImportItem{
		item(1, " Padded ", "A-1", false), // normalized, then valid
		item(2, "", "B-1", false),         // invalid: name required
		item(3, " kept as is ", "C-1", true),
		item(4, "Again", "a-1", true), // repeats line 1's SKU in this batch
	}
	valid, problems := catalog.CheckImportBatch(items)
	if want := []bool{true, false, true, false}; fmt.Sprint(valid) != fmt.Sprint(want) {
		t.Errorf("CheckImportBatch valid = %v, want %v (problems %v)", valid, want, problems)
	}
	if got := items[0].Product.Name; got != "Padded" {
		t.Errorf("unchecked item's name = %q, want it normalized", got)
	}
	if got := items[2].Product.Name; got != " kept as is " {
		t.Errorf("checked item's name = %q: a Checked item was normalized again", got)
	}
	var lines []int
	for _, p := range problems {
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[2 4]" {
		t.Errorf("problems on lines %v, want [2 4]: %v", lines, problems)
	}
}

// TestImportItemCheckedNotFromJSON: no JSON a client sends can mark an item Checked, whatever
// the member's spelling, so an invalid product cannot skip the store's validation that way.
func TestImportItemCheckedNotFromJSON(t *testing.T) {
	for _, body := range []string{
		`{"Line":1,"Product":{"name":""},"Checked":true}`,
		`{"Line":1,"Product":{"name":""},"checked":true}`,
		`{"Line":1,"Product":{"name":""},"CHECKED":true}`,
	} {
		var it, it2 catalog.ImportItem
		if err := json.Unmarshal([]byte(body), &it); err != nil {
			t.Fatal(err)
		}
		// The v2 decoder the bulk readers use, matching names case-insensitively too.
		_ = jsonv2.Unmarshal([]byte(body), &it2, jsonv2.MatchCaseInsensitiveNames(true))
		if it.Checked || it2.Checked {
			t.Errorf("decoding %s set Checked", body)
		}
		b, err := json.Marshal(catalog.ImportItem{Checked: true})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(string(b)), "checked") {
			t.Errorf("json.Marshal of a Checked item = %s: the flag must not travel", b)
		}
	}
}
