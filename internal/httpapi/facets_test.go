package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// facetList is a list response with its facets.
type facetList struct {
	Items  []catalog.Product
	Facets []catalog.Facet
}

func facetSummary(fs []catalog.Facet) string {
	var parts []string
	for _, f := range fs {
		var vs []string
		for _, v := range f.Values {
			vs = append(vs, fmt.Sprintf("%s=%d", v.Value, v.Count))
		}
		parts = append(parts, fmt.Sprintf("%s(%v): %s", f.Name, f.Exact, strings.Join(vs, " ")))
	}
	return strings.Join(parts, "; ")
}

func TestListFacets(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/attributes", `{"key":"colour","name":"Colour","type":"enum","values":["red","blue"],"filterable":true}`, auth, 201)
	e.do("POST", "/attributes", `{"key":"care","name":"Care","type":"text"}`, auth, 201)
	mk := func(sku, brand, colour string, amount int) string {
		return `{"name":"` + sku + `","category":"kitchen","brand":"` + brand + `","status":"active","attributes":{"colour":"` + colour +
			`"},"variants":[{"sku":"` + sku + `","prices":[{"currency":"USD","amount":` + fmt.Sprint(amount) + `}]}]}`
	}
	e.do("POST", "/products", mk("MUG-1", "Acme", "red", 1299), auth, 201)
	e.do("POST", "/products", mk("MUG-2", "Acme", "blue", 3000), auth, 201)
	e.do("POST", "/products", mk("MUG-3", "Zeta", "red", 900), auth, 201)

	// Without facets= the body has no facets key at all.
	_, b := e.do("GET", "/products", "", nil, 200)
	if strings.Contains(string(b), `"facets"`) {
		t.Fatalf("facets without asking: %s", b)
	}
	_, b = e.do("GET", "/products?brand=acme&currency=USD&facets=brand,attr.colour,price,in_stock,category", "", nil, 200)
	l := decode[facetList](t, b)
	want := "brand(true): Acme=2 Zeta=1; attr.colour(true): blue=1 red=1; price(true): 1000-2500=1 2500-5000=1; " +
		"in_stock(true): false=2; category(true): kitchen=2"
	if got := facetSummary(l.Facets); got != want || len(l.Items) != 2 {
		t.Fatalf("facets\n got %s\nwant %s (%d items)", got, want, len(l.Items))
	}
	// A price bucket carries the bounds its filter takes.
	var raw struct {
		Facets []struct {
			Name   string
			Values []map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if p := raw.Facets[2].Values[0]; string(p["min"]) != "1000" || string(p["max"]) != "2500" {
		t.Fatalf("price bucket %v", p)
	}

	// A collection's list counts within the collection.
	e.do("POST", "/collections", `{"slug":"picks","name":"Picks"}`, auth, 201)
	ids := map[string]string{}
	_, b = e.do("GET", "/products", "", nil, 200)
	for _, p := range decode[facetList](t, b).Items {
		ids[p.Name] = p.ID
	}
	e.do("PUT", "/collections/picks/products", `{"product_ids":["`+ids["MUG-3"]+`"]}`, auth, 200)
	_, b = e.do("GET", "/collections/picks/products?facets=brand", "", nil, 200)
	if got := facetSummary(decode[facetList](t, b).Facets); got != "brand(true): Zeta=1" {
		t.Fatalf("collection facets %s", got)
	}

	for _, tc := range []struct{ query, field string }{
		{"facets=price", "currency"},
		{"facets=colour", "facets"},
		{"facets=attr.care", "facets"},
		{"facets=attr.size", "facets"},
		{"facets=brand,brand", "facets"},
		{"facets=" + strings.Repeat("brand,", 9), "facets"},
		{"facets=brand&facets=category", "facets"},
	} {
		_, b := e.do("GET", "/products?"+tc.query, "", nil, 400)
		var body struct {
			Error struct{ Fields []catalog.FieldError }
		}
		if err := json.Unmarshal(b, &body); err != nil || !slices.ContainsFunc(body.Error.Fields, func(f catalog.FieldError) bool { return f.Field == tc.field }) {
			t.Errorf("%s: error does not name %s: %s", tc.query, tc.field, b)
		}
	}
}
