package readcache_test

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
)

// restored names the fields JSON does not carry that the cache puts back from the entry.
var restored = []string{"Product.StockVersion", "Stock.Version", "Variant.ProductVersion"}

// TestCachedProductEqualsStored: a product read from the cache (decoded from the document it
// keeps) equals the store's own read, field for field, for the sample catalog and synthetic
// products with variants, options, attributes of every type, drafts and archived ones. Every
// field hidden from JSON in catalog.Product's types must be one the cache restores: a new one
// fails here until the cache keeps it.
func TestCachedProductEqualsStored(t *testing.T) {
	if testing.Short() { // as skipSerialWhenShort: one goroutine, for the race step
		t.Skip("runs in one goroutine; run in full without -short")
	}
	if hidden := hiddenFields(reflect.TypeFor[catalog.Product](), map[reflect.Type]bool{}); !slices.Equal(hidden, restored) {
		t.Fatalf("fields hidden from JSON in a product: %v; the cache restores %v", hidden, restored)
	}
	ctx := context.Background()
	inner, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	sample, err := seed.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Load(ctx, inner, sample, nil); err != nil {
		t.Fatal(err)
	}
	if err := seed.LoadSynthetic(ctx, inner, 0, 300, 3, nil); err != nil {
		t.Fatal(err)
	}
	c := readcache.New(inner, time.Hour, 64<<20)
	var ids []string
	statuses := map[catalog.Status]int{}
	for q := (catalog.ListQuery{Limit: 100, Sort: catalog.SortNewest}); ; {
		page, err := inner.ListProducts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			ids = append(ids, p.ID)
			statuses[p.Status]++
		}
		if q.After = page.Next; q.After == nil {
			break
		}
	}
	if len(statuses) < 3 {
		t.Fatalf("statuses %v: want active, draft and archived products compared", statuses)
	}
	if len(ids) < 100 {
		t.Fatalf("%d products to compare, want at least 100", len(ids))
	}
	for _, id := range ids {
		want, err := inner.Product(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c.Product(ctx, id) // fills
		got, err := c.Product(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !sameProduct(want, got) {
			t.Fatalf("Product(%s) from the cache differs from the store's:\nstore %+v\ncache %+v", id, want, got)
		}
		for _, v := range want.Variants {
			got, err := c.Variant(ctx, id, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameProduct(v, got) {
				t.Fatalf("Variant(%s) from the cache differs from the store's:\nstore %+v\ncache %+v", v.ID, v, got)
			}
		}
	}
	if hits, misses := c.Stats(); misses != int64(len(ids)) || hits < int64(len(ids)) {
		t.Fatalf("%d hits and %d misses for %d products read twice: the comparisons did not read the cache", hits, misses, len(ids))
	}
	// The caller owns what it is given: changing it changes nothing cached.
	p, _ := c.Product(ctx, ids[0])
	want := p.Name
	p.Name = "changed"
	if len(p.Variants) > 0 {
		p.Variants[0].SKU = "changed"
	}
	if again, _ := c.Product(ctx, ids[0]); again.Name != want || (len(again.Variants) > 0 && again.Variants[0].SKU == "changed") {
		t.Fatal("a caller's change to a product it was given reached the cache")
	}
}

// hiddenFields lists the struct fields tagged json:"-" reachable from t, as Type.Field.
func hiddenFields(t reflect.Type, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.PkgPath() != reflect.TypeFor[catalog.Product]().PkgPath() {
		return nil
	}
	seen[t] = true
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
			out = append(out, t.Name()+"."+f.Name)
		}
		out = append(out, hiddenFields(f.Type, seen)...)
	}
	slices.Sort(out)
	return out
}

// sameProduct compares a and b (products or variants) deeply, times by instant: the location
// a time.Time points to is not part of what a read shows.
func sameProduct[T any](a, b T) bool {
	normTimes(reflect.ValueOf(&a).Elem())
	normTimes(reflect.ValueOf(&b).Elem())
	return reflect.DeepEqual(a, b)
}

func normTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normTimes(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			normTimes(v.Index(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			normTimes(v.Elem())
		}
	}
}
