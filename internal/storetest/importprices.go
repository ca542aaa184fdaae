package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// twoCurrencies is sized with every variant priced in USD and EUR.
func twoCurrencies(prefix, name string, sizes ...string) catalog.ProductInput {
	in := sized(prefix, name, "imp", sizes...)
	for i := range in.Variants {
		in.Variants[i].Prices = append(in.Variants[i].Prices, catalog.PriceInput{Currency: "EUR", Amount: 900 + int64(i)})
	}
	return in
}

// testImportPricesAsSingleWrites: the prices an import changes end as the single price writes
// leave them (SetPrice, RemovePrice): the running sale window ends, the history gains a line,
// the prior price is computed, a removed currency goes, the list's price summaries follow, and
// each changed price has its catalog.price.changed with the same data. Stores write an import's
// prices for the whole batch at once; this holds them to the one-price-at-a-time behaviour.
func testImportPricesAsSingleWrites(t *testing.T, s catalog.Store, clock *FakeClock) {
	category(t, s, "imp", "")
	c := catalog.WithActor(ctx(t), "apikey:twin")
	a, b := twoCurrencies("A", "Twin A", "S", "M"), twoCurrencies("B", "Twin B", "S", "M")
	if _, err := s.UpsertProducts(c, []catalog.ImportItem{{Line: 1, Product: a}, {Line: 2, Product: b}}, false); err != nil {
		t.Fatal(err)
	}
	pa, _ := bySKU(t, s, "A-S")
	pb, _ := bySKU(t, s, "B-S")
	// A sale window runs on S in USD on both; the import (A) and SetPrice (B) end it.
	until := clock.Now().Add(time.Hour)
	for _, p := range []catalog.Product{pa, pb} {
		must2(s.SetPrice(c, p.Variants[0].ID, catalog.PriceChange{Currency: "USD", Amount: 500, ValidUntil: &until}, "apikey:twin", 0))(t)
	}
	clock.Advance(time.Minute)
	_, cursor := feed(t, s, 0)

	a.Variants[0].Prices = []catalog.PriceInput{{Currency: "EUR", Amount: 900}, {Currency: "USD", Amount: 700}} // ends the window
	a.Variants[1].Prices = []catalog.PriceInput{{Currency: "USD", Amount: 1001, CompareAt: ptr[int64](1500)}}   // EUR goes
	res := must(s.UpsertProducts(c, []catalog.ImportItem{{Line: 1, Product: a}}, false))(t)
	if res.Updated != 1 || len(res.Problems) != 0 {
		t.Fatalf("import = %+v, want 1 updated", res)
	}
	must2(s.SetPrice(c, pb.Variants[0].ID, catalog.PriceChange{Currency: "USD", Amount: 700}, "apikey:twin", 0))(t)
	must(s.RemovePrice(c, pb.Variants[1].ID, "EUR", "apikey:twin", 0))(t)
	must2(s.SetPrice(c, pb.Variants[1].ID, catalog.PriceChange{Currency: "USD", Amount: 1001, CompareAt: ptr[int64](1500)}, "apikey:twin", 0))(t)

	pa, _ = bySKU(t, s, "A-S")
	pb, _ = bySKU(t, s, "B-S")
	for i := range pa.Variants {
		va, vb := pa.Variants[i], pb.Variants[i]
		ja, _ := json.Marshal(va.Prices)
		jb, _ := json.Marshal(vb.Prices)
		if string(ja) != string(jb) {
			t.Errorf("%s prices after the import\n%s\nwant as the single writes leave %s\n%s", va.SKU, ja, vb.SKU, jb)
		}
		for _, cur := range []string{"USD", "EUR"} {
			ha := must(s.PriceHistory(ctx(t), va.ID, cur))(t)
			hb := must(s.PriceHistory(ctx(t), vb.ID, cur))(t)
			if got, want := historyShape(ha), historyShape(hb); got != want {
				t.Errorf("%s %s history after the import\n%s\nwant\n%s", va.SKU, cur, got, want)
			}
		}
	}
	for _, tc := range []struct {
		f    catalog.ProductFilter
		want int
	}{
		{catalog.ProductFilter{Category: "imp", Currency: "EUR"}, 2},
		{catalog.ProductFilter{Category: "imp", Currency: "USD", MaxPrice: ptr[int64](699)}, 0}, // the window's 500 ended
		{catalog.ProductFilter{Category: "imp", Currency: "USD", MinPrice: ptr[int64](700)}, 2},
	} {
		page := must(s.ListProducts(ctx(t), catalog.ListQuery{Filter: tc.f, Sort: catalog.SortName, Limit: 10}))(t)
		if len(page.Items) != tc.want {
			t.Errorf("list %+v has %d products, want %d (price summaries as the single writes leave them)", tc.f, len(page.Items), tc.want)
		}
	}

	evs, _ := feed(t, s, cursor, catalog.EventPriceChanged)
	byProduct := map[string][]catalog.Event{}
	for _, e := range evs {
		id := strings.Split(e.Subject, "/")[1]
		byProduct[id] = append(byProduct[id], e)
	}
	ea, eb := byProduct[pa.ID], byProduct[pb.ID]
	if len(ea) != 2 || len(eb) != 2 {
		t.Fatalf("price events: import %d, single writes %d; want 2 each (S USD, M USD)", len(ea), len(eb))
	}
	for i := range ea {
		if ea[i].EntityVersion <= 1 || i > 0 && ea[i].EntityVersion <= ea[i-1].EntityVersion {
			t.Errorf("import price event %d has version %d after %v: versions grow per product", i, ea[i].EntityVersion, ea[:i])
		}
		if got, want := priceEventShape(t, ea[i]), priceEventShape(t, eb[i]); got != want {
			t.Errorf("import price event %d\n%s\nwant as SetPrice's\n%s", i, got, want)
		}
	}
}

// historyShape is a price history without IDs.
func historyShape(h []catalog.PriceEntry) string {
	var b strings.Builder
	for _, e := range h {
		fmt.Fprintf(&b, "%s %d %v from=%s until=%v applied=%v ended=%v %s\n", e.Kind, e.Price.Amount, ptrText(e.CompareAt),
			e.ValidFrom.Format(time.RFC3339Nano), timeText(e.ValidUntil), timeText(e.AppliedAt), timeText(e.EndedAt), e.Actor)
	}
	return b.String()
}

func ptrText(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// priceEventShape is a price event's data without the IDs that differ between the twins.
func priceEventShape(t *testing.T, e catalog.Event) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "variant_id", "product_id"} {
		delete(m, k)
	}
	b, _ := json.Marshal(m)
	return e.Type + " " + e.Actor + " " + string(b)
}

// testImportPriceEventsPerProduct: a batch changing many products' prices records one price
// event per changed price, each product's with distinct growing versions, and one
// catalog.product.updated per product whose version is the product's.
func testImportPriceEventsPerProduct(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	const n = 30
	items := make([]catalog.ImportItem, n)
	for i := range items {
		items[i] = catalog.ImportItem{Line: i + 1, Product: sized(fmt.Sprintf("P%02d", i), fmt.Sprintf("P %d", i), "imp", "S", "M", "L")}
	}
	must(s.UpsertProducts(ctx(t), items, false))(t)
	_, cursor := feed(t, s, 0)
	for i := range items {
		for j := range items[i].Product.Variants {
			if j < 2 { // S and M change, L keeps its price
				items[i].Product.Variants[j].Prices[0].Amount += 100
			}
		}
	}
	res := must(s.UpsertProducts(ctx(t), items, false))(t)
	if res.Updated != n || len(res.Problems) != 0 {
		t.Fatalf("import = %+v, want %d updated", res, n)
	}
	evs, _ := feed(t, s, cursor)
	prices, updates := map[string][]int64{}, map[string]int{}
	for _, e := range evs {
		id := strings.Split(e.Subject, "/")[1]
		switch e.Type {
		case catalog.EventPriceChanged:
			prices[id] = append(prices[id], e.EntityVersion)
		case catalog.EventProductUpdated:
			updates[id]++
		default:
			t.Errorf("unexpected event %s %s", e.Type, e.Subject)
		}
	}
	if len(prices) != n || len(updates) != n {
		t.Fatalf("events for %d products' prices and %d products' updates, want %d each", len(prices), len(updates), n)
	}
	for id, vs := range prices {
		if len(vs) != 2 || vs[0] == vs[1] || updates[id] != 1 {
			t.Errorf("product %s: price event versions %v and %d updated events, want 2 distinct versions and 1", id, vs, updates[id])
		}
	}
	for i := range items {
		p, v := bySKU(t, s, fmt.Sprintf("P%02d-M", i))
		if v.Prices[0].Amount != 1101 || p.Variants[2].Prices[0].Amount != 1002 {
			t.Errorf("P%02d prices = %d, %d; want 1101, 1002", i, v.Prices[0].Amount, p.Variants[2].Prices[0].Amount)
		}
		if h := must(s.PriceHistory(ctx(t), v.ID, "USD"))(t); len(h) != 2 {
			t.Errorf("P%02d-M has %d history lines, want 2", i, len(h))
		}
	}
}

// testImportWithConcurrentWriters: imports updating the same products (their lines in opposite
// orders) while single price writes change them too all succeed, and each product's price
// events keep distinct versions (imports move a product's price version for all their events
// at once, single writes one by one, both under the product's row lock).
func testImportWithConcurrentWriters(t *testing.T, s catalog.Store, _ *FakeClock) {
	category(t, s, "imp", "")
	const n = 12
	items := make([]catalog.ImportItem, n)
	for i := range items {
		items[i] = catalog.ImportItem{Line: i + 1, Product: sized(fmt.Sprintf("CW%02d", i), fmt.Sprintf("CW %d", i), "imp", "S", "M")}
	}
	must(s.UpsertProducts(ctx(t), items, false))(t)
	_, cursor := feed(t, s, 0)
	var vids []string
	for i := range n {
		_, v := bySKU(t, s, fmt.Sprintf("CW%02d-S", i))
		vids = append(vids, v.ID)
	}
	errs := make(chan error, 64)
	done := make(chan struct{})
	for w := range 2 {
		go func() {
			for round := range 4 {
				batch := make([]catalog.ImportItem, n)
				for i := range batch {
					k := i
					if w == 1 {
						k = n - 1 - i // the other importer's file lists them the other way round
					}
					in := sized(fmt.Sprintf("CW%02d", k), fmt.Sprintf("CW %d", k), "imp", "S", "M")
					in.Variants[1].Prices[0].Amount = int64(2000 + 10*round + w)
					batch[i] = catalog.ImportItem{Line: i + 1, Product: in}
				}
				_, err := s.UpsertProducts(ctx(t), batch, false)
				errs <- err
			}
		}()
	}
	go func() {
		for round := range 4 {
			for _, vid := range vids {
				_, _, err := s.SetPrice(ctx(t), vid, catalog.PriceChange{Currency: "USD", Amount: int64(3000 + round)}, "apikey:cw", 0)
				errs <- err
			}
		}
		close(done)
	}()
	<-done
	for range 2*4 + 4*n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	evs, _ := feed(t, s, cursor, catalog.EventPriceChanged)
	seen := map[string]bool{}
	for _, e := range evs {
		k := fmt.Sprintf("%s@%d", strings.Split(e.Subject, "/")[1], e.EntityVersion)
		if seen[k] {
			t.Errorf("two price events of one product with version %s", k)
		}
		seen[k] = true
	}
	if len(evs) < 4*n {
		t.Errorf("%d price events, want at least the %d single writes'", len(evs), 4*n)
	}
}

// testImportUpdatedEventIsTheRead: an import's catalog.product.updated carries the product
// exactly as a read returns it after the batch, whatever the line did: a SKU's case, a new
// barcode, a lower price replacing a running sale window (prior price recorded), a new
// variant, a new option that a kept variant takes its first value of; then a price-only change.
func testImportUpdatedEventIsTheRead(t *testing.T, s catalog.Store, clock *FakeClock) {
	category(t, s, "imp", "")
	in := twoCurrencies("X", "Ex", "S", "M")
	in.Options[0].Values = []string{"S", "M", "L"}
	must(s.UpsertProducts(ctx(t), []catalog.ImportItem{{Line: 1, Product: in}}, false))(t)
	p, v := bySKU(t, s, "X-S")
	until := clock.Now().Add(time.Hour)
	must2(s.SetPrice(ctx(t), v.ID, catalog.PriceChange{Currency: "USD", Amount: 800, ValidUntil: &until}, "apikey:x", 0))(t)
	clock.Advance(time.Hour / 2)

	line := catalog.ProductInput{Name: "Ex 2", Category: "imp", Status: catalog.StatusActive, Media: in.Media,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "Colour", Values: []string{"Red", "Blue"}}},
		Variants: []catalog.VariantInput{
			{SKU: "x-s", Barcode: "4006381333931", Options: map[string]string{"Size": "S", "Colour": "Red"},
				Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 900}, {Currency: "USD", Amount: 700}}},
			{SKU: "X-L", Options: map[string]string{"Size": "L", "Colour": "Blue"}, InitialStock: 3,
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1200}}},
		}}
	line.Normalize()
	check := func(step string) {
		t.Helper()
		_, cursor := feed(t, s, 0)
		res := must(s.UpsertProducts(ctx(t), []catalog.ImportItem{{Line: 1, Product: line}}, false))(t)
		if res.Updated != 1 || len(res.Problems) != 0 {
			t.Fatalf("%s: import = %+v", step, res)
		}
		evs, _ := feed(t, s, cursor, catalog.EventProductUpdated)
		read := must(s.Product(ctx(t), p.ID))(t)
		want, _ := json.Marshal(read)
		if len(evs) != 1 || string(evs[0].Data) != string(want) {
			t.Fatalf("%s: %d updated events; data\n%s\nwant the product as read\n%s", step, len(evs), evs[0].Data, want)
		}
	}
	check("rich change")
	if p, v := bySKU(t, s, "X-M"); len(p.Variants) != 3 || v.Options["Colour"] != "Red" {
		t.Fatalf("kept X-M = %+v", v)
	}
	clock.Advance(time.Minute)
	line.Variants[1].Prices[0].Amount = 1100
	check("price only")
}
