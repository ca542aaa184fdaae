package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/storetest"
)

// sized is a product varying in Size with n variants, each priced 1000 USD.
func sized(prefix string, n int) catalog.ProductInput {
	opt := catalog.Option{Name: "Size"}
	in := catalog.ProductInput{Name: prefix, Category: "gear", Status: catalog.StatusActive}
	for i := range n {
		opt.Values = append(opt.Values, fmt.Sprintf("S%d", i))
	}
	// Option values are at most catalog.MaxOptionValues per option: a second option makes
	// room for more variants.
	if n > catalog.MaxOptionValues {
		opt.Values = opt.Values[:catalog.MaxOptionValues]
		in.Options = []catalog.Option{opt, {Name: "Pack"}}
		for j := 0; j*catalog.MaxOptionValues < n; j++ {
			in.Options[1].Values = append(in.Options[1].Values, fmt.Sprintf("P%d", j))
		}
	} else {
		in.Options = []catalog.Option{opt}
	}
	for i := range n {
		vals := map[string]string{"Size": opt.Values[i%len(opt.Values)]}
		if len(in.Options) == 2 {
			vals["Pack"] = in.Options[1].Values[i/len(opt.Values)]
		}
		in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("%s-%d", prefix, i), Options: vals,
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1000}}})
	}
	return in
}

func openAt(t *testing.T, url string, clock *storetest.FakeClock, conns int32) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Clock: clock.Now, MaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConcurrentSweepersApplyEachChangeOnce runs four sweepers (four stores, as four
// instances) over scheduled prices and sale windows of 120 variants: every scheduled price
// applies once, every window opens once and reverts once, whoever gets to it, and the prices,
// prior prices and list summaries come out as one sweeper would leave them.
func TestConcurrentSweepersApplyEachChangeOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	url := pgtest.URL(t)
	clock := storetest.NewFakeClock()
	s := openAt(t, url, clock, 8)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	start := clock.Now()
	at := func(d time.Duration) *time.Time { x := start.Add(d); return &x }
	var variants []string
	for i := range 40 {
		p, err := s.CreateProduct(ctx, sized(fmt.Sprintf("SW%02d", i), 3))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range p.Variants {
			variants = append(variants, v.ID)
			for _, c := range []catalog.PriceChange{
				{Currency: "USD", Amount: 800, ValidFrom: at(time.Hour)},
				{Currency: "USD", Amount: 500, ValidFrom: at(2 * time.Hour), ValidUntil: at(3 * time.Hour)},
			} {
				if _, _, err := s.SetPrice(ctx, v.ID, c, "tester", 0); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	sweepers := []*postgres.Store{openAt(t, url, clock, 2), openAt(t, url, clock, 2), openAt(t, url, clock, 2), openAt(t, url, clock, 2)}
	sweep := func(phase string, want int, kind catalog.PriceKind) {
		t.Helper()
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
			wg   sync.WaitGroup
		)
		for _, sw := range sweepers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					got, err := sw.ApplyDuePrices(ctx, 7)
					if err != nil {
						t.Errorf("%s: ApplyDuePrices: %v", phase, err)
						return
					}
					mu.Lock()
					for _, a := range got {
						seen[a.EntryID]++
						if a.Kind != kind {
							t.Errorf("%s: applied %+v, want kind %s", phase, a, kind)
						}
					}
					n := len(seen)
					mu.Unlock()
					if n >= want {
						return
					}
				}
			}()
		}
		wg.Wait()
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: history line %d applied %d times, want once", phase, id, n)
			}
		}
		if len(seen) != want {
			t.Fatalf("%s: %d changes applied, want %d", phase, len(seen), want)
		}
		if more, err := s.ApplyDuePrices(ctx, 1000); err != nil || len(more) != 0 {
			t.Fatalf("%s: a last sweep found %d more changes (%v), want none", phase, len(more), err)
		}
	}
	check := func(phase string, amount int64, prior *int64, ends *time.Time) {
		t.Helper()
		for _, vid := range variants[:5] {
			_, v, err := s.VariantBySKU(ctx, skuOf(t, s, vid))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := v.Price("USD")
			if p.Amount != amount || !eqPtr(p.PriorPrice, prior) || !eqTime(p.SaleEndsAt, ends) {
				t.Errorf("%s: variant %s price %+v, want amount %d, prior %v, sale ends %v", phase, v.SKU, p, amount, deref(prior), ends)
			}
		}
		page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortPrice, Limit: 100, Filter: catalog.ProductFilter{Currency: "USD"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 40 {
			t.Fatalf("%s: %d products listed by USD price, want 40", phase, len(page.Items))
		}
		for _, it := range page.Items {
			if len(it.PriceRanges) != 1 || it.PriceRanges[0].Min != amount || it.PriceRanges[0].Max != amount {
				t.Errorf("%s: %s lists price ranges %+v, want %d..%d", phase, it.Name, it.PriceRanges, amount, amount)
			}
		}
	}

	clock.Advance(90 * time.Minute)
	sweep("scheduled prices", 120, catalog.PriceSet)
	check("after the scheduled cut", 800, ptr(int64(1000)), nil)

	clock.Advance(time.Hour) // +2h30: the windows are open
	sweep("windows opening", 120, catalog.PriceSet)
	check("during the sale", 500, ptr(int64(800)), at(3*time.Hour))

	clock.Advance(31 * time.Minute) // +3h01: the windows have ended
	sweep("windows ending", 120, catalog.PriceRevert)
	check("after the sale", 800, nil, nil)

	hist, err := s.PriceHistory(ctx, variants[0], "USD")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, fmt.Sprintf("%s %d applied=%v ended=%v", e.Kind, e.Price.Amount, e.AppliedAt != nil, e.EndedAt != nil))
	}
	want := []string{"set 1000 applied=true ended=false", "set 800 applied=true ended=false", "set 500 applied=true ended=true", "revert 800 applied=true ended=false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("price history after the sale:\n got %v\nwant %v", got, want)
	}
}

// TestImmediatePriceEndsTheWindow: a price set while a sale window runs replaces the window's
// price and ends the window, so its end reverts nothing.
func TestImmediatePriceEndsTheWindow(t *testing.T) {
	ctx := context.Background()
	clock := storetest.NewFakeClock()
	s := openAt(t, pgtest.URL(t), clock, 4)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProduct(ctx, sized("WIN", 1))
	if err != nil {
		t.Fatal(err)
	}
	vid := p.Variants[0].ID
	until := clock.Now().Add(time.Hour)
	v, _, err := s.SetPrice(ctx, vid, catalog.PriceChange{Currency: "USD", Amount: 600, ValidUntil: &until}, "tester", 0)
	if err != nil {
		t.Fatal(err)
	}
	if pr, _ := v.Price("USD"); pr.Amount != 600 || pr.SaleEndsAt == nil || !pr.SaleEndsAt.Equal(until) || v.ProductVersion != p.Version+1 {
		t.Fatalf("window opened: %+v (version %d), want 600 until %s, version %d", pr, v.ProductVersion, until, p.Version+1)
	}
	if _, _, err := s.SetPrice(ctx, vid, catalog.PriceChange{Currency: "EUR", Amount: 900, ValidUntil: &until}, "tester", 0); catalog.ErrorCode(err) != catalog.CodeInvalid {
		t.Errorf("a window in a currency without a price: %v, want invalid (nothing to revert to)", err)
	}
	clock.Advance(10 * time.Minute)
	if _, _, err := s.SetPrice(ctx, vid, catalog.PriceChange{Currency: "USD", Amount: 700}, "tester", 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	applied, err := s.ApplyDuePrices(ctx, 10)
	if err != nil || len(applied) != 0 {
		t.Fatalf("ApplyDuePrices after a replaced window = %+v, %v; want nothing", applied, err)
	}
	v, err = s.Variant(ctx, p.ID, vid)
	if err != nil {
		t.Fatal(err)
	}
	if pr, _ := v.Price("USD"); pr.Amount != 700 || pr.SaleEndsAt != nil {
		t.Errorf("after the replaced window's end: %+v, want 700 with no sale end", pr)
	}
	hist, err := s.PriceHistory(ctx, vid, "USD")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[1].Price.Amount != 600 || hist[1].EndedAt == nil || hist[2].EndedAt != nil {
		t.Errorf("history: %+v, want 1000, 600 (ended), 700", hist)
	}
}

// TestVariantWritesDoNotReadSiblings changes, adds and removes one variant of a product with
// 2 variants and of one with 2,000, counting the rows PostgreSQL reads for each (table and
// index statistics): a variant write must not grow with the number of its siblings.
func TestVariantWritesDoNotReadSiblings(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a product with 2,000 variants")
	}
	ctx := context.Background()
	url := pgtest.URL(t)
	clock := storetest.NewFakeClock()
	// One connection: the statistics read are this session's, flushed on demand.
	s := openAt(t, url, clock, 1)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAttribute(ctx, catalog.AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: catalog.AttrText}); err != nil {
		t.Fatal(err)
	}
	cost := func(n int) map[string]int64 {
		p, err := s.CreateProduct(ctx, sized(fmt.Sprintf("FLAT%d", n), n))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Variants) != n {
			t.Fatalf("created %d variants, want %d", len(p.Variants), n)
		}
		if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		v := p.Variants[n/2]
		out := map[string]int64{}
		measure := func(name string, fn func() error) {
			before := rowsRead(t, s)
			if err := fn(); err != nil {
				t.Fatalf("%s on a product with %d variants: %v", name, n, err)
			}
			out[name] = rowsRead(t, s) - before
		}
		prices := []catalog.PriceInput{{Currency: "USD", Amount: 1200}, {Currency: "EUR", Amount: 1100}}
		measure("UpdateVariant", func() error {
			_, err := s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Prices: &prices, Attributes: map[string]any{"colour": "red"}}, 0)
			return err
		})
		measure("SetPrice", func() error {
			_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "USD", Amount: 900}, "tester", 0)
			return err
		})
		var added catalog.Variant
		in := catalog.VariantInput{SKU: fmt.Sprintf("FLAT%d-new", n), Options: p.Variants[0].Options,
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: 1000}}}
		// Free the combination first: delete the first variant, then add one with its values.
		measure("DeleteVariant", func() error { return s.DeleteVariant(ctx, p.ID, p.Variants[0].ID, 0) })
		measure("AddVariant", func() error {
			var err error
			added, err = s.AddVariant(ctx, p.ID, in, 0)
			return err
		})
		if added.Position != n {
			t.Errorf("added variant's position = %d, want %d", added.Position, n)
		}
		return out
	}
	small, large := cost(2), cost(2000)
	for name, c := range small {
		t.Logf("%s reads %d rows with 2 variants, %d with 2,000", name, c, large[name])
		// A few rows of slack for index pages split by the larger product's entries.
		if large[name] > c+20 {
			t.Errorf("%s reads %d rows on a product with 2,000 variants, %d with 2: it grows with the siblings", name, large[name], c)
		}
	}
}

// rowsRead sums the rows this session's statements have read from the variant tables, by
// sequential scans and through indexes.
func rowsRead(t *testing.T, s *postgres.Store) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			return err
		}
		return nil
	})
	if err == nil {
		err = s.Pool().QueryRow(ctx, `SELECT pg_stat_clear_snapshot()::text || '', 0`).Scan(new(string), new(int))
	}
	if err == nil {
		err = s.Pool().QueryRow(ctx, `SELECT coalesce(sum(coalesce(t.seq_tup_read, 0) + coalesce(t.idx_tup_fetch, 0)), 0)::bigint +
			(SELECT coalesce(sum(idx_tup_read), 0)::bigint FROM pg_stat_user_indexes WHERE relname IN ('variants', 'inventory', 'variant_prices', 'product_prices', 'price_history'))
			FROM pg_stat_user_tables t WHERE t.relname IN ('variants', 'inventory', 'variant_prices', 'product_prices', 'price_history')`).Scan(&n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func skuOf(t *testing.T, s *postgres.Store, vid string) string {
	t.Helper()
	var sku string
	if err := s.Pool().QueryRow(context.Background(), `SELECT sku FROM variants WHERE id = $1`, vid).Scan(&sku); err != nil {
		t.Fatal(err)
	}
	return sku
}

func eqPtr(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func eqTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestNotificationsNameTheProduct: every write to a variant (its stock, its fields, its
// prices, its removal) is announced with its product's ID, the key the read caches hold.
func TestNotificationsNameTheProduct(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clock := storetest.NewFakeClock()
	s := openAt(t, pgtest.URL(t), clock, 4)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProduct(ctx, sized("NOTE", 2))
	if err != nil {
		t.Fatal(err)
	}
	v := p.Variants[1]
	changed, listening := make(chan string, 100), make(chan struct{}, 10)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go s.Listen(lctx, func(id string) { changed <- id }, func() { listening <- struct{}{} })
	<-listening
	expect := func(what string, write func() error) {
		t.Helper()
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		select {
		case id := <-changed:
			if id != p.ID {
				t.Errorf("%s announced %s, want the product %s", what, id, p.ID)
			}
		case <-ctx.Done():
			t.Fatalf("%s announced nothing", what)
		}
		for len(changed) > 0 { // duplicates within one transaction are folded; others may follow
			if id := <-changed; id != p.ID {
				t.Errorf("%s announced %s, want the product %s", what, id, p.ID)
			}
		}
	}
	expect("AdjustStock", func() error {
		_, err := s.AdjustStock(ctx, v.ID, catalog.Adjustment{Delta: 5, Reason: "received"}, "tester", nil)
		return err
	})
	expect("Reserve", func() error {
		_, err := s.Reserve(ctx, catalog.ReservationInput{Lines: []catalog.ReservationLine{{SKU: v.SKU, Quantity: 1}}}, "tester", nil)
		return err
	})
	expect("UpdateVariant", func() error {
		_, err := s.UpdateVariant(ctx, p.ID, v.ID, catalog.VariantPatch{Barcode: ptr("4006381333931")}, 0)
		return err
	})
	expect("SetPrice", func() error {
		_, _, err := s.SetPrice(ctx, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 990}, "tester", 0)
		return err
	})
	expect("DeleteVariant", func() error { return s.DeleteVariant(ctx, p.ID, p.Variants[0].ID, 0) })
}

// TestAttributeFiltersAreTyped holds the SQL/JSON paths the list builds from attribute filters
// to the domain's AttributeFilter.Matches: text values with characters that mean something in a
// path ("quotes", backslashes, $, @, ?, brackets, accents, emoji) match only themselves,
// numbers compare as numbers (9 < 10, never as text), booleans only booleans, on the product
// or on any of its variants.
func TestAttributeFiltersAreTyped(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, pgtest.URL(t), storetest.NewFakeClock(), 4)
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []catalog.AttributeDefinitionInput{
		{Key: "label", Name: "Label", Type: catalog.AttrText, Filterable: true},
		{Key: "inches", Name: "Inches", Type: catalog.AttrNumber, Filterable: true},
		{Key: "wireless", Name: "Wireless", Type: catalog.AttrBoolean, Filterable: true},
	} {
		if _, err := s.CreateAttribute(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(15, 6))
	alphabet := []rune(`ab"\'$@?()[]{}&|!=<>.*:;+-_ é漢🙂` + "`")
	var labels []string
	seen := map[string]bool{}
	for len(labels) < 40 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		l := strings.TrimSpace(b.String())
		if l != "" && !seen[l] && catalog.TextProblem(l, catalog.Line) == "" {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	numbers := []float64{9, 10, 13.5, 15, 100, -2.25}
	var products []catalog.Product
	for i, l := range labels {
		in := sized(fmt.Sprintf("ATTR%02d", i), 2)
		// Even products carry the values themselves, odd ones on their second variant.
		attrs := catalog.Attributes{"label": l, "inches": numbers[i%len(numbers)], "wireless": i%3 == 0}
		if i%2 == 0 {
			in.Attributes = attrs
		} else {
			in.Variants[1].Attributes = attrs
		}
		p, err := s.CreateProduct(ctx, in)
		if err != nil {
			t.Fatalf("CreateProduct with label %q: %v", l, err)
		}
		p.Attributes = attrs // the values that count for this product, wherever they are
		products = append(products, p)
	}
	filters := []catalog.AttributeFilter{
		{Key: "inches", Type: catalog.AttrNumber, Min: ptr(9.5), Max: ptr(13.5)},
		{Key: "inches", Type: catalog.AttrNumber, Max: ptr(9.0)},
		{Key: "inches", Type: catalog.AttrNumber, Min: ptr(15.0)},
		{Key: "inches", Type: catalog.AttrNumber, Min: ptr(-2.25), Max: ptr(-2.25)},
		{Key: "wireless", Type: catalog.AttrBoolean, Values: []string{"true"}},
		{Key: "wireless", Type: catalog.AttrBoolean, Values: []string{"false"}},
		{Key: "label", Type: catalog.AttrText, Values: []string{labels[0], labels[7]}},
	}
	for _, l := range labels {
		filters = append(filters, catalog.AttributeFilter{Key: "label", Type: catalog.AttrText, Values: []string{l}})
	}
	for _, f := range filters {
		page, err := s.ListProducts(ctx, catalog.ListQuery{Sort: catalog.SortOldest, Limit: 100, Filter: catalog.ProductFilter{Attributes: []catalog.AttributeFilter{f}}})
		if err != nil {
			t.Fatalf("filter %+v: %v", f, err)
		}
		var got, want []string
		for _, it := range page.Items {
			got = append(got, it.Name)
		}
		for _, p := range products {
			if f.Matches(p.Attributes[f.Key]) {
				want = append(want, p.Name)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("filter %s %v [%v, %v]:\n got %v\nwant %v", f.Key, f.Values, deref2(f.Min), deref2(f.Max), got, want)
		}
	}
}

func deref2(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// BenchmarkProductRead reads a product with 1 and with 50 variants (two prices each) by ID and
// by variant SKU: the two statements pipelined in one round trip.
func BenchmarkProductRead(b *testing.B) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(b), postgres.Options{MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 50} {
		in := sized(fmt.Sprintf("READ%d", n), n)
		if n == 1 {
			in.Options, in.Variants[0].Options = nil, nil
		}
		for i := range in.Variants {
			in.Variants[i].Prices = append(in.Variants[i].Prices, catalog.PriceInput{Currency: "EUR", Amount: 900})
		}
		p, err := s.CreateProduct(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ByID/%dvariants", n), func(b *testing.B) {
			for range b.N {
				if _, err := s.Product(ctx, p.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("BySKU/%dvariants", n), func(b *testing.B) {
			for range b.N {
				if _, _, err := s.VariantBySKU(ctx, p.Variants[n-1].SKU); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestProductReadIsOneState reads a product while other connections keep changing its
// variants: every read's variants belong to the version it reports. Each write stamps the
// product and its variant with the same time, so a variant changed after the product's state
// that a read reports would show a later time than the product.
func TestProductReadIsOneState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The real clock: each write's time differs.
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "gear", Name: "Gear"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProduct(ctx, sized("TORN", 40))
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var writers, readers sync.WaitGroup
	for w := range 4 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for k := int64(1); ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.UpdateVariant(ctx, p.ID, p.Variants[w*10].ID, catalog.VariantPatch{PurchaseLimit: &k}, 0); err != nil {
					t.Errorf("UpdateVariant: %v", err)
					return
				}
			}
		}()
	}
	var reads atomic.Int64
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for ctx.Err() == nil && reads.Load() < 4000 {
				var got catalog.Product
				var err error
				if r%2 == 0 {
					got, err = s.Product(ctx, p.ID)
				} else {
					got, _, err = s.VariantBySKU(ctx, p.Variants[39].SKU)
				}
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
				for _, v := range got.Variants {
					if v.UpdatedAt.After(got.UpdatedAt) {
						t.Errorf("read version %d (updated %s) with variant %s updated later, at %s", got.Version, got.UpdatedAt, v.SKU, v.UpdatedAt)
						return
					}
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	writers.Wait()
}
