package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/postgres"
)

// digestLine is an import line of product n: sizes from the options S, M, L, XL, each
// variant priced in USD and EUR from base.
func digestLine(n int, name string, base int64, sizes ...string) catalog.ProductInput {
	in := catalog.ProductInput{Name: name, Category: "digests", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "size", Values: []string{"S", "M", "L", "XL"}}}}
	for i, sz := range sizes {
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("D%d-%s", n, sz), Options: map[string]string{"size": sz},
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: base + int64(i)}, {Currency: "EUR", Amount: base + 10 + int64(i)}}})
	}
	in.Normalize()
	return in
}

// TestImportDigestsOnlyProveUnchanged: a line imported again is skipped on its digest only
// while nothing else wrote its product. After a change by the API (the product, a price, a
// variant's fields, a variant added) the next import of the same line compares in full (and
// puts the product back where the line says), and the one after is proven again. A stock
// movement is not part of what a line states (catalog.ImportChanges does not compare stock),
// so it leaves the proof standing: the line is unchanged either way.
func TestImportDigestsOnlyProveUnchanged(t *testing.T) {
	ctx := context.Background()
	s := open(t, nil)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "digests", Name: "Digests"}); err != nil {
		t.Fatal(err)
	}
	proven := 0
	defer postgres.ImportProven(func(n int) { proven += n })()
	line := digestLine(1, "Shirt", 1000, "S", "M")
	imp := func(t *testing.T, in catalog.ProductInput, dryRun bool) (catalog.ImportResult, int) {
		t.Helper()
		proven = 0
		res, err := s.UpsertProducts(ctx, []catalog.ImportItem{{Line: 1, Product: in}}, dryRun)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 0 {
			t.Fatalf("problems: %+v", res.Problems)
		}
		return res, proven
	}
	if res, n := imp(t, line, false); res.Created != 1 || n != 0 {
		t.Fatalf("first import = %+v, proven %d; want created", res, n)
	}
	for _, dry := range []bool{true, false} {
		if res, n := imp(t, line, dry); res.Unchanged != 1 || n != 1 {
			t.Fatalf("same line again (dry run %v) = %+v, proven %d; want unchanged, proven by the digest the create wrote", dry, res, n)
		}
	}
	p, v, err := s.VariantBySKU(ctx, "D1-S")
	if err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		name    string
		edit    func() error
		updated bool // the line puts something back
		proven  bool // the digest still proves the line unchanged
	}{
		{"product renamed", func() error {
			name := "Renamed"
			_, err := s.PatchProduct(ctx, p.ID, catalog.ProductPatch{Name: &name}, 0)
			return err
		}, true, false},
		{"price set", func() error {
			_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "USD", Amount: 777}, "test", 0)
			return err
		}, true, false},
		{"price in a new currency", func() error {
			_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "GBP", Amount: 900}, "test", 0)
			return err
		}, true, false},
		{"sale window opened", func() error {
			until := time.Now().Add(time.Hour)
			_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 5, ValidUntil: &until}, "test", 0)
			return err
		}, true, false},
		{"variant's barcode changed", func() error {
			code := "4006381333931"
			_, err := s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Barcode: &code}, 0)
			return err
		}, true, false},
		{"variant added", func() error {
			_, err := s.AddVariant(ctx, p.ID, catalog.VariantInput{SKU: "D1-L-API", Options: map[string]string{"size": "L"},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 5}}}, 0)
			return err
		}, false, false}, // compared: the line does not name it, so it stays and nothing changes
		{"stock adjusted", func() error {
			_, err := s.AdjustStock(ctx, v.ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "test", nil)
			return err
		}, false, true},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			if err := e.edit(); err != nil {
				t.Fatal(err)
			}
			for _, dry := range []bool{true, false} {
				res, n := imp(t, line, dry)
				if (n == 1) != e.proven {
					t.Errorf("dry run %v: proven %d after the edit, want proven %v", dry, n, e.proven)
				}
				if want := map[bool]int{true: 1}[e.updated]; res.Updated != want || res.Unchanged != 1-want {
					t.Errorf("dry run %v: %+v after the edit, want updated %v", dry, res, e.updated)
				}
			}
			if res, n := imp(t, line, false); res.Unchanged != 1 || n != 1 {
				t.Errorf("the line once more = %+v, proven %d; want unchanged and proven", res, n)
			}
		})
	}
	// A different line for the product is never proven by the digest of the one before.
	next := digestLine(1, "Shirt", 1001, "S", "M")
	if res, n := imp(t, next, false); res.Updated != 1 || n != 0 {
		t.Errorf("repriced line = %+v, proven %d; want updated, not proven", res, n)
	}
	got, err := s.Product(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, gv := range got.Variants {
		if gv.SKU == "D1-S" && (gv.Stock.OnHand != 5 || gv.Barcode != "") {
			t.Errorf("D1-S: on hand %d, barcode %q; want the adjusted 5 kept and the line's empty barcode", gv.Stock.OnHand, gv.Barcode)
		}
	}
}

// TestImportDigestsAgreeWithFullComparison (property): random import batches (lines unchanged,
// repriced, renamed, with a variant more) interleaved with random writes by the API (rename,
// price, sale window, stock, variant changed, added, removed) run on two stores, one letting
// digests prove lines unchanged and one comparing every line in full. Every batch's result,
// dry run and write, and every product's stored state must be the same in both.
func TestImportDigestsAgreeWithFullComparison(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, nil), open(t, nil)
	stores := []struct {
		s   catalog.Store
		off bool
	}{{a, false}, {b, true}}
	for _, st := range stores {
		if _, err := st.s.CreateCategory(ctx, catalog.CategoryInput{Slug: "digests", Name: "Digests"}); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))
	const products = 10
	sizes := []string{"S", "M", "L", "XL"}
	lines := make([]catalog.ProductInput, products)
	for i := range lines {
		lines[i] = digestLine(i, fmt.Sprintf("Product %d", i), 1000+int64(rng.IntN(500)), sizes[:1+rng.IntN(2)]...)
	}
	mutate := func(in catalog.ProductInput) catalog.ProductInput {
		out := in
		out.Variants = slices.Clone(in.Variants)
		switch rng.IntN(6) {
		case 0: // reprice one variant, up or down
			j := rng.IntN(len(out.Variants))
			v := out.Variants[j]
			v.Prices = slices.Clone(v.Prices)
			v.Prices[rng.IntN(len(v.Prices))].Amount += int64(rng.IntN(200)) - 100
			out.Variants[j] = v
		case 1:
			out.Name = fmt.Sprintf("Name %d", rng.IntN(3))
		case 2: // a variant more, its size perhaps taken by one the API added
			if len(out.Variants) < len(sizes) {
				sz := sizes[len(out.Variants)]
				v := out.Variants[0]
				v.SKU, v.Options = v.SKU[:len(v.SKU)-len(v.Options["size"])]+sz, map[string]string{"size": sz}
				out.Variants = append(out.Variants, v)
			}
		}
		out.Normalize()
		return out
	}
	type state struct {
		res  []catalog.ImportResult
		prod []string
	}
	snapshot := func(s catalog.Store) []string {
		var out []string
		for i := range products {
			p, _, err := s.VariantBySKU(ctx, fmt.Sprintf("D%d-S", i))
			if err != nil {
				out = append(out, err.Error())
				continue
			}
			p.ID, p.CreatedAt, p.UpdatedAt = "", time.Time{}, time.Time{}
			for j := range p.Variants {
				v := &p.Variants[j]
				v.ID, v.ProductID, v.CreatedAt, v.UpdatedAt = "", "", time.Time{}, time.Time{}
				for k := range v.Prices {
					v.Prices[k].SaleEndsAt = nil // the windows' ends are the test's clock, not the store's
				}
			}
			j, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("v%d %s", p.Version, j))
		}
		return out
	}
	results := func(rs ...catalog.ImportResult) string {
		out := ""
		for _, r := range rs {
			out += fmt.Sprintf("created %d updated %d unchanged %d;", r.Created, r.Updated, r.Unchanged)
			for _, pr := range r.Problems {
				out += fmt.Sprintf(" line %d %s;", pr.Line, pr.Field)
			}
		}
		return out
	}
	apiEdit := func(s catalog.Store, kind, i, j int, until time.Time) {
		p, _, err := s.VariantBySKU(ctx, fmt.Sprintf("D%d-S", i))
		if err != nil {
			return // not created yet: both stores skip
		}
		v := p.Variants[j%len(p.Variants)]
		switch kind {
		case 0:
			name := fmt.Sprintf("API %d", j)
			_, err = s.PatchProduct(ctx, p.ID, catalog.ProductPatch{Name: &name}, 0)
		case 1:
			_, _, err = s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "USD", Amount: 500 + int64(j)}, "test", 0)
		case 2:
			_, _, err = s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 100 + int64(j), ValidUntil: &until}, "test", 0)
		case 3:
			_, err = s.AdjustStock(ctx, v.ID, catalog.Adjustment{Delta: int64(1 + j), Reason: "received"}, "test", nil)
		case 4:
			code := fmt.Sprintf("CODE%d", j)
			_, err = s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Barcode: &code}, 0)
		case 5:
			sz := sizes[j%len(sizes)]
			_, err = s.AddVariant(ctx, p.ID, catalog.VariantInput{SKU: fmt.Sprintf("D%d-%s-API%d", i, sz, j), Options: map[string]string{"size": sz},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 5}}}, 0)
		case 6:
			if v.SKU != fmt.Sprintf("D%d-S", i) { // the snapshot finds the product by its S variant
				err = s.DeleteVariant(ctx, p.ID, v.ID, 0)
			}
		}
		_ = err // a refusal (an option combination taken, the last variant) is the same in both stores
	}
	for round := range 40 {
		var st [2]state
		if rng.IntN(3) > 0 {
			var items []catalog.ImportItem
			for i := range products {
				if rng.IntN(2) == 0 {
					continue
				}
				if rng.IntN(3) == 0 {
					lines[i] = mutate(lines[i])
				}
				items = append(items, catalog.ImportItem{Line: len(items) + 1, Product: lines[i]})
			}
			for k, x := range stores {
				undo := postgres.ImportDigestsOff(x.off)
				for _, dry := range []bool{true, false} {
					res, err := x.s.UpsertProducts(ctx, items, dry)
					if err != nil {
						t.Fatal(err)
					}
					st[k].res = append(st[k].res, res)
				}
				undo()
			}
		} else {
			kind, i, j := rng.IntN(7), rng.IntN(products), rng.IntN(8)
			until := time.Now().Add(time.Hour)
			for _, x := range stores {
				apiEdit(x.s, kind, i, j, until)
			}
		}
		for k, x := range stores {
			st[k].prod = snapshot(x.s)
		}
		if ra, rb := results(st[0].res...), results(st[1].res...); ra != rb {
			t.Fatalf("round %d: results with digests %s\nin full %s", round, ra, rb)
		}
		for i := range products {
			if st[0].prod[i] != st[1].prod[i] {
				t.Fatalf("round %d, product %d:\nwith digests %s\nin full      %s", round, i, st[0].prod[i], st[1].prod[i])
			}
		}
	}
}
