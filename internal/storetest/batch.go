package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Batch update conformance (issue 17): all or nothing, every bad line named, the size bound,
// idempotency, one event per line, and overlapping batches from concurrent clients.
func batchTests() []namedTest {
	return []namedTest{
		{"StockBatchAllOrNothing", testStockBatchAllOrNothing},
		{"PriceBatchAllOrNothing", testPriceBatchAllOrNothing},
		{"BatchSizeAndIdempotency", testBatchSizeAndIdempotency},
		{"OverlappingBatches", testOverlappingBatches},
	}
}

// batchProducts creates n one-variant products with stock each, SKUs prefix-0..n-1.
func batchProducts(t *testing.T, s catalog.Store, prefix string, n int, stock int64) []catalog.Variant {
	t.Helper()
	if _, err := s.Category(ctx(t), "batch"); err != nil {
		category(t, s, "batch", "")
	}
	vs := make([]catalog.Variant, n)
	for i := range vs {
		in := input(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("%s %d", prefix, i), "batch", 1000)
		in.Variants[0].InitialStock = stock
		vs[i] = only(t, must(s.CreateProduct(ctx(t), in))(t))
	}
	return vs
}

// fields lists the fields an error names.
func fields(err error) []string {
	e, ok := err.(*catalog.Error)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

// onHand reads a variant's stock on hand.
func onHand(t *testing.T, s catalog.Store, v catalog.Variant) int64 {
	t.Helper()
	return must(s.Variant(ctx(t), v.ProductID, v.ID))(t).Stock.OnHand
}

func testStockBatchAllOrNothing(t *testing.T, s catalog.Store, _ *FakeClock) {
	vs := batchProducts(t, s, "SB", 4, 5)
	before := feedAfter(t, s, 0)
	lines := []catalog.StockLine{
		{SKU: "SB-0", Adjustment: catalog.Adjustment{Delta: 10, Reason: "received"}},
		{SKU: "nope-1", Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}},
		{SKU: "sb-2", Adjustment: catalog.Adjustment{Delta: -6, Reason: "damaged"}}, // only 5 on hand
		{SKU: "SB-3", Adjustment: catalog.Adjustment{Delta: 2, Reason: "received"}},
	}
	_, err := s.AdjustStockBatch(ctx(t), lines, "apikey:batch", nil)
	wantCode(t, err, catalog.CodeUnprocessable)
	if got, want := fields(err), []string{"lines[1].sku", "lines[2].delta"}; !slices.Equal(got, want) {
		t.Errorf("refused batch names %v, want every bad line %v (err: %v)", got, want, err)
	}
	for _, v := range vs {
		if n := onHand(t, s, v); n != 5 {
			t.Errorf("%s has %d on hand after a refused batch, want 5: one bad line changes nothing", v.SKU, n)
		}
	}
	if after := feedAfter(t, s, 0); len(after) != len(before) {
		t.Errorf("a refused batch recorded %d events", len(after)-len(before))
	}
	// Malformed lines are refused before the store looks, every one named.
	_, err = s.AdjustStockBatch(ctx(t), []catalog.StockLine{
		{SKU: "SB-0", Adjustment: catalog.Adjustment{Delta: 0, Reason: "received"}},
		{SKU: "SB-1", Adjustment: catalog.Adjustment{Delta: 1, Reason: "gift"}},
		{SKU: "sb-1", Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}},
	}, "apikey:batch", nil)
	wantCode(t, err, catalog.CodeInvalid)
	if got, want := fields(err), []string{"lines[0].delta", "lines[1].reason", "lines[2].sku"}; !slices.Equal(got, want) {
		t.Errorf("malformed batch names %v, want %v", got, want)
	}

	lines[1].SKU, lines[2].Delta = "SB-1", -5
	ms := must(s.AdjustStockBatch(catalog.WithActor(ctx(t), "apikey:batch"), lines, "apikey:batch", nil))(t)
	want := []int64{15, 6, 0, 7}
	for i, v := range vs {
		if n := onHand(t, s, v); n != want[i] || ms[i].OnHand != want[i] || ms[i].VariantID != v.ID {
			t.Errorf("line %d: %s has %d on hand, movement %+v; want %d", i, v.SKU, n, ms[i], want[i])
		}
	}
	events := feedAfter(t, s, 0)[len(before):]
	if len(events) != len(lines) {
		t.Fatalf("a batch of %d lines recorded %d events, want one per line", len(lines), len(events))
	}
	for i, e := range events {
		if e.Type != catalog.EventStockChanged || e.Subject != "products/"+vs[i].ProductID+"/variants/"+vs[i].ID || e.Actor != "apikey:batch" {
			t.Errorf("event %d = %s %s by %s, want the stock change of %s", i, e.Type, e.Subject, e.Actor, vs[i].SKU)
		}
	}
	m := must(s.Movements(ctx(t), vs[2].ID, 0, 1))(t)
	if len(m) != 1 || m[0].OnHandDelta != -5 || m[0].Reason != "damaged" || m[0].Actor != "apikey:batch" {
		t.Errorf("movement log of %s = %+v, want the batch's -5 damaged", vs[2].SKU, m)
	}
}

func testPriceBatchAllOrNothing(t *testing.T, s catalog.Store, clock *FakeClock) {
	vs := batchProducts(t, s, "PB", 3, 0)
	later := clock.Now().Add(48 * time.Hour)
	until := clock.Now().Add(24 * time.Hour)
	lines := []catalog.PriceLine{
		{SKU: "PB-0", PriceChange: catalog.PriceChange{Currency: "USD", Amount: 900}},
		{SKU: "PB-0", PriceChange: catalog.PriceChange{Currency: "EUR", Amount: 850}},
		{SKU: "PB-1", PriceChange: catalog.PriceChange{Currency: "GBP", Amount: 700, ValidUntil: &until}}, // no GBP price to revert to
		{SKU: "nope", PriceChange: catalog.PriceChange{Currency: "USD", Amount: 1}},
		{SKU: "PB-2", PriceChange: catalog.PriceChange{Currency: "USD", Amount: 1100, ValidFrom: &later}},
	}
	_, err := s.SetPriceBatch(ctx(t), lines, "apikey:batch", nil)
	wantCode(t, err, catalog.CodeUnprocessable)
	if got := fields(err); !slices.Contains(got, "lines[3].sku") {
		t.Errorf("refused batch names %v, want lines[3].sku among them", got)
	}
	if got := fields(err); !slices.Contains(got, "lines[2].valid_until") && !slices.Contains(got, "lines[3].sku") {
		t.Errorf("refused batch names %v", got)
	}
	for _, v := range vs {
		got := must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
		if len(got.Prices) != 1 || got.Prices[0].Amount != 1000 {
			t.Errorf("%s prices %+v after a refused batch, want USD 1000 only", v.SKU, got.Prices)
		}
	}
	lines = slices.Delete(lines, 2, 4)
	es := must(s.SetPriceBatch(ctx(t), lines, "apikey:batch", nil))(t)
	if len(es) != 3 || es[0].ProductID != vs[0].ProductID || es[2].AppliedAt != nil || es[0].AppliedAt == nil {
		t.Fatalf("batch result %+v, want 3 lines in order, the last scheduled", es)
	}
	got := must(s.Variant(ctx(t), vs[0].ProductID, vs[0].ID))(t)
	var amounts []string
	for _, p := range got.Prices {
		amounts = append(amounts, fmt.Sprintf("%s %d", p.Currency, p.Amount))
	}
	if !slices.Equal(amounts, []string{"EUR 850", "USD 900"}) {
		t.Errorf("PB-0 prices = %v, want [EUR 850 USD 900]", amounts)
	}
	if got := must(s.Variant(ctx(t), vs[2].ProductID, vs[2].ID))(t); got.Prices[0].Amount != 1000 {
		t.Errorf("PB-2's scheduled price applied at once: %+v", got.Prices)
	}
	clock.Advance(49 * time.Hour)
	must(s.ApplyDuePrices(ctx(t), 100))(t)
	if got := must(s.Variant(ctx(t), vs[2].ProductID, vs[2].ID))(t); got.Prices[0].Amount != 1100 {
		t.Errorf("PB-2's scheduled price was not applied at its time: %+v", got.Prices)
	}
}

func testBatchSizeAndIdempotency(t *testing.T, s catalog.Store, _ *FakeClock) {
	vs := batchProducts(t, s, "BI", 2, 0)
	over := make([]catalog.StockLine, catalog.MaxBatchLines+1)
	for i := range over {
		over[i] = catalog.StockLine{SKU: fmt.Sprintf("BI-X%d", i), Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}}
	}
	_, err := s.AdjustStockBatch(ctx(t), over, "apikey:batch", nil)
	wantCode(t, err, catalog.CodeInvalid)
	if got := fields(err); !slices.Equal(got, []string{"lines"}) {
		t.Errorf("a batch of %d lines names %v, want lines", len(over), got)
	}
	_, err = s.SetPriceBatch(ctx(t), make([]catalog.PriceLine, catalog.MaxBatchLines+1), "apikey:batch", nil)
	wantCode(t, err, catalog.CodeInvalid)
	_, err = s.AdjustStockBatch(ctx(t), nil, "apikey:batch", nil)
	wantCode(t, err, catalog.CodeInvalid)

	lines := []catalog.StockLine{{SKU: "BI-0", Adjustment: catalog.Adjustment{Delta: 4, Reason: "received"}}, {SKU: "BI-1", Adjustment: catalog.Adjustment{Delta: 2, Reason: "received"}}}
	idem := must(catalog.NewIdempotency("apikey:batch", "batch-1", "stock batch", lines))(t)
	first := must(s.AdjustStockBatch(ctx(t), lines, "apikey:batch", idem))(t)
	again := must(s.AdjustStockBatch(ctx(t), lines, "apikey:batch", idem))(t)
	if len(again) != 2 || again[0].ID != first[0].ID || again[1].ID != first[1].ID {
		t.Errorf("a retried batch answered %+v, want the first answer %+v", again, first)
	}
	if n := onHand(t, s, vs[0]); n != 4 {
		t.Errorf("BI-0 has %d on hand after a batch and its retry, want 4 (applied once)", n)
	}
	other := slices.Clone(lines)
	other[0].Delta = 5
	idem2 := must(catalog.NewIdempotency("apikey:batch", "batch-1", "stock batch", other))(t)
	_, err = s.AdjustStockBatch(ctx(t), other, "apikey:batch", idem2)
	wantCode(t, err, catalog.CodeIdempotencyMismatch)

	plines := []catalog.PriceLine{{SKU: "BI-0", PriceChange: catalog.PriceChange{Currency: "USD", Amount: 1234}}}
	pidem := must(catalog.NewIdempotency("apikey:batch", "prices-1", "price batch", plines))(t)
	p1 := must(s.SetPriceBatch(ctx(t), plines, "apikey:batch", pidem))(t)
	p2 := must(s.SetPriceBatch(ctx(t), plines, "apikey:batch", pidem))(t)
	if p1[0].ID != p2[0].ID {
		t.Errorf("a retried price batch wrote history line %d, want the first answer's %d", p2[0].ID, p1[0].ID)
	}
	if h := must(s.PriceHistory(ctx(t), vs[0].ID, "USD"))(t); len(h) != 2 {
		t.Errorf("USD history of BI-0 has %d lines, want 2 (the initial price and the batch's, once)", len(h))
	}
}

// testOverlappingBatches runs batches naming the same variants in opposite orders from 8
// clients at once: each is applied whole or retried by the store, none deadlocks into a
// failure, and the stock sums to what every batch added.
func testOverlappingBatches(t *testing.T, s catalog.Store, _ *FakeClock) {
	const n, clients, rounds = 40, 8, 6
	vs := batchProducts(t, s, "OB", n, 0)
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds*2)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cx := context.Background()
			for r := range rounds {
				stock := make([]catalog.StockLine, n)
				prices := make([]catalog.PriceLine, n)
				for i := range n {
					k := i
					if (c+r)%2 == 1 {
						k = n - 1 - i // the opposite order
					}
					sku := strings.ToLower(vs[k].SKU)
					stock[i] = catalog.StockLine{SKU: sku, Adjustment: catalog.Adjustment{Delta: 1, Reason: "received"}}
					prices[i] = catalog.PriceLine{SKU: sku, PriceChange: catalog.PriceChange{Currency: "USD", Amount: int64(1000 + c*100 + r)}}
				}
				if _, err := s.AdjustStockBatch(cx, stock, fmt.Sprintf("apikey:c%d", c), nil); err != nil {
					errs <- fmt.Errorf("client %d stock batch %d: %w", c, r, err)
				}
				if _, err := s.SetPriceBatch(cx, prices, fmt.Sprintf("apikey:c%d", c), nil); err != nil {
					errs <- fmt.Errorf("client %d price batch %d: %w", c, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every batch applied whole: every variant got every unit, and all variants carry the
	// price of the same last batch (a batch's lines commit together).
	var last int64 = -1
	for _, v := range vs {
		got := must(s.Variant(ctx(t), v.ProductID, v.ID))(t)
		if got.Stock.OnHand != clients*rounds {
			t.Errorf("%s has %d on hand, want %d", v.SKU, got.Stock.OnHand, clients*rounds)
		}
		if last == -1 {
			last = got.Prices[0].Amount
		} else if got.Prices[0].Amount != last {
			t.Errorf("%s is priced %d, %s %d: two batches interleaved", v.SKU, got.Prices[0].Amount, vs[0].SKU, last)
		}
	}
}
