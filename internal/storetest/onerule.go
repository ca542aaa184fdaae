package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// One rule, two paths (issue 17): a single write and a batch line refuse the same input with
// the same field and the same rule text, on every store, because both call one catalog
// function (catalog.CheckSaleWindow, catalog.CheckStockLeft).

func oneRuleTests() []namedTest {
	return []namedTest{
		{"SaleWindowNeedsAPriceSingleAndBatch", testSaleWindowNeedsPrice},
		{"StockRulesSameSingleAndBatch", testStockRulesSame},
	}
}

// problemsOf returns err's field problems as "field: problem", with a batch's "lines[0]."
// prefix removed, so a single write's answer compares with a one-line batch's.
func problemsOf(err error) []string {
	e, ok := err.(*catalog.Error)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, strings.TrimPrefix(f.Field, "lines[0].")+": "+f.Problem)
	}
	return out
}

func testSaleWindowNeedsPrice(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:rules")
	v := batchProducts(t, s, "WIN", 1, 0)[0] // priced in USD only
	_, cursor := feed(t, s, 0)
	until := clock.Now().Add(2 * time.Hour)
	from := clock.Now().Add(time.Hour)
	for _, pc := range []catalog.PriceChange{
		{Currency: "EUR", Amount: 800, ValidUntil: &until},                   // a window now
		{Currency: "EUR", Amount: 800, ValidFrom: &from, ValidUntil: &until}, // a window later
	} {
		_, _, single := s.SetPrice(c, v.ID, pc, "apikey:rules", 0)
		wantCode(t, single, catalog.CodeInvalid)
		_, batch := s.SetPriceBatch(c, []catalog.PriceLine{{SKU: v.SKU, PriceChange: pc}}, "apikey:rules", nil)
		wantCode(t, batch, catalog.CodeUnprocessable)
		got, want := problemsOf(batch), problemsOf(single)
		if len(want) != 1 || !strings.HasPrefix(want[0], "valid_until: ") || strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("a window in EUR without an EUR price (valid_from %v): SetPrice names %q, SetPriceBatch names %q; want the same one valid_until rule",
				pc.ValidFrom, want, got)
		}
	}
	if p, ok := must(s.Variant(ctx(t), v.ProductID, v.ID))(t).Price("EUR"); ok {
		t.Fatalf("after refused windows the variant has an EUR price %+v", p)
	}
	if evs, _ := feed(t, s, cursor); len(evs) != 0 {
		t.Fatalf("refused windows recorded %d events, first %s", len(evs), evs[0].Type)
	}
	// With a price in the currency, the same window is taken, singly and in a batch.
	setPrice(t, s, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 900})
	if _, _, err := s.SetPrice(c, v.ID, catalog.PriceChange{Currency: "EUR", Amount: 800, ValidUntil: &until}, "apikey:rules", 0); err != nil {
		t.Fatalf("SetPrice(window with an EUR price) = %v", err)
	}
	if _, err := s.SetPriceBatch(c, []catalog.PriceLine{{SKU: v.SKU, PriceChange: catalog.PriceChange{Currency: "EUR", Amount: 700, ValidUntil: &until}}},
		"apikey:rules", nil); err != nil {
		t.Fatalf("SetPriceBatch(window with an EUR price) = %v", err)
	}
}

func testStockRulesSame(t *testing.T, s catalog.Store, _ *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:rules")
	v := batchProducts(t, s, "RULE", 1, 5)[0]
	must(s.Reserve(c, reserve(v.SKU, 2), "apikey:rules", nil))(t) // 5 on hand, 2 reserved, 3 available
	for _, tc := range []struct {
		name  string
		a     catalog.Adjustment
		field string
	}{
		{"below available", catalog.Adjustment{Delta: -4, Reason: "damaged"}, "delta"},
		{"below on hand", catalog.Adjustment{Delta: -6, Reason: "lost"}, "delta"},
		{"zero", catalog.Adjustment{Delta: 0, Reason: "received"}, "delta"},
		{"too many", catalog.Adjustment{Delta: catalog.MaxQuantity + 1, Reason: "received"}, "delta"},
		{"unknown reason", catalog.Adjustment{Delta: 1, Reason: "gift"}, "reason"},
		{"control character in the note", catalog.Adjustment{Delta: 1, Reason: "other", Note: "a\x00b"}, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, single := s.AdjustStock(c, v.ID, tc.a, "apikey:rules", nil)
			_, batch := s.AdjustStockBatch(c, []catalog.StockLine{{SKU: v.SKU, Adjustment: tc.a}}, "apikey:rules", nil)
			got, want := problemsOf(batch), problemsOf(single)
			if len(want) == 0 || !strings.HasPrefix(want[0], tc.field+": ") || strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("AdjustStock(%+v) names %q (err %v); AdjustStockBatch names %q (err %v); want the same %s rule",
					tc.a, want, single, got, batch, tc.field)
			}
		})
	}
	if got := onHand(t, s, v); got != 5 {
		t.Fatalf("on hand after refused adjustments = %d, want 5", got)
	}
}
