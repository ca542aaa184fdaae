package httpapi

import (
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

func TestScanShapeTellsAbsentFromNull(t *testing.T) {
	shape, missing, err := scanJSON([]byte(`{"name":"x","brand":null,"price":{"currency":"USD","amount":1}}`), productPatchSpec)
	if err != nil || missing != nil {
		t.Fatalf("scanJSON = %v, %v", missing, err)
	}
	for _, tt := range []struct {
		name          string
		present, null bool
	}{{"name", true, false}, {"brand", true, true}, {"price", true, false}, {"sku", false, false}} {
		if p, n := shape.Present(tt.name); p != tt.present || n != tt.null {
			t.Errorf("Present(%q) = %v, %v, want %v, %v", tt.name, p, n, tt.present, tt.null)
		}
	}
}

func TestScanLimits(t *testing.T) {
	items := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat(`"u",`, n), ",") + "]" }
	tests := []struct {
		body  string
		spec  bodySpec
		field string // "" means accepted
	}{
		{`{"media":` + items(50) + `}`, productSpec, ""},
		{`{"media":` + items(51) + `}`, productSpec, "media"},
		{`{"options":` + items(4) + `}`, productPatchSpec, "options"},
		{`{"variants":` + items(2048) + `}`, productSpec, ""},
		{`{"variants":` + items(2049) + `}`, productSpec, "variants"},
		{`{"variants":` + items(2049) + `}`, replaceSpec, "variants"},
		{`{"prices":` + items(51) + `}`, variantSpec, "prices"},
		{`{"values":` + items(500) + `}`, attributeSpec, ""},
		{`{"values":` + items(501) + `}`, attributeSpec, "values"},
		{`{"lines":` + items(100) + `}`, reservationSpec, ""},
		{`{"lines":` + items(101) + `}`, reservationSpec, "lines"},
		{`{"x":` + items(101) + `}`, plainSpec, "x"},
		{`{"a":{"b":` + items(101) + `}}`, plainSpec, "a.b"},
		{`{"lines":[{"sku":"` + strings.Repeat("s", MaxJSONString) + `"}]}`, reservationSpec, "lines[0].sku"},
		{`{"delta":` + strings.Repeat("9", 40) + `}`, plainSpec, "delta"},
		{strings.Repeat(`{"a":`, 9) + "1" + strings.Repeat("}", 9), plainSpec, "a.a.a.a.a.a.a.a"},
		{strings.Repeat(`{"a":`, 8) + "1" + strings.Repeat("}", 8), plainSpec, ""},
		{`{"a":1,"a":2}`, plainSpec, "a"},
		{"{\"a\":\"\xff\"}", plainSpec, "a"},
	}
	for _, tt := range tests {
		_, _, err := scanJSON([]byte(tt.body), tt.spec)
		if tt.field == "" {
			if err != nil {
				t.Errorf("scanJSON(%.60q) = %v, want nil", tt.body, err)
			}
			continue
		}
		var e *catalog.Error
		if !asCatalogError(err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
			t.Errorf("scanJSON(%.60q) = %v, want a problem with %s", tt.body, err, tt.field)
		}
	}
}

func TestRequiredMeansPresent(t *testing.T) {
	for _, tt := range []struct {
		body string
		spec bodySpec
		want string // "" means nothing missing
	}{
		{`{"amount":0}`, priceSpec, ""}, // zero is a price; absent is not
		{`{"amount":null}`, priceSpec, "amount"},
		{`{"compare_at":5}`, priceSpec, "amount"},
		{`{"name":"x","category":"c","variants":[]}`, productSpec, ""},
		{`{"name":"x","category":"c"}`, productSpec, "variants"},
		{`{"name":"x","category":"c"}`, replaceSpec, ""},
		{`{"sku":"A-1"}`, variantSpec, "prices"},
		{`{}`, productPatchSpec, ""},
		{`{}`, variantPatchSpec, ""},
		{`{"name":"Colour","type":"text"}`, attributeSpec, "key"},
		{`{"name":"Colour","type":"text"}`, attributeReplaceSpec, ""},
		// Required members of every array element, wherever it is.
		{`{"name":"x","category":"c","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":1}]}]}`, productSpec, ""},
		{`{"name":"x","category":"c","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":1},{"currency":"EUR"}]}]}`, productSpec, "variants[0].prices[1].amount"},
		{`{"name":"x","category":"c","variants":[{"sku":"A-1","prices":[]},{"prices":[]}]}`, productSpec, "variants[1].sku"},
		{`{"name":"x","category":"c","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":null}]}]}`, productSpec, "variants[0].prices[0].amount"},
		{`{"name":"x","category":"c","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":1,"x":{"amount":null}}]}]}`, productSpec, ""},
		{`{"prices":[{"amount":1}]}`, variantPatchSpec, "prices[0].currency"},
		{`{"media":[{"alt":"a"}]}`, productPatchSpec, "media[0].url"},
		{`{"options":[{"name":"Size","values":["S"]},{"values":["M"]}]}`, productPatchSpec, "options[1].name"},
	} {
		_, missing, err := scanJSON([]byte(tt.body), tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		var e *catalog.Error
		got := ""
		if asCatalogError(missing, &e) {
			got = e.Fields[0].Field
		}
		if got != tt.want {
			t.Errorf("scanJSON(%s) missing %q, want %q", tt.body, got, tt.want)
		}
	}
}

func asCatalogError(err error, target **catalog.Error) bool {
	e, ok := err.(*catalog.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestScanShapeWithoutRequired(t *testing.T) {
	shape, _, err := scanJSON([]byte(`{"attributes":{"a":"b"},"media":null}`), plainSpec)
	if err != nil {
		t.Fatal(err)
	}
	if p, n := shape.Present("attributes"); !p || n {
		t.Errorf("Present(attributes) = %v, %v, want true, false", p, n)
	}
	if p, n := shape.Present("media"); !p || !n {
		t.Errorf("Present(media) = %v, %v, want true, true", p, n)
	}
}
