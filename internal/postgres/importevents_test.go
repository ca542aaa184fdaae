package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/postgres"
)

// TestPriceEventDataSQLIsGo: the catalog.price.changed bodies an import builds in SQL
// (priceEventDataSQL) are the ones Go marshals for the same change (catalog.PriceApplied):
// byte for byte with a plain actor, JSON-equal with one Go's encoder escapes differently
// (<, >, &); with and without compare-at and prior prices (a cut and a rise), a prior price of
// 0.
func TestPriceEventDataSQLIsGo(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 8, 0, 0, 123456789, time.UTC)
	s := open(t, func() time.Time { return now })
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "events", Name: "Events"}); err != nil {
		t.Fatal(err)
	}
	ptr := func(v int64) *int64 { return &v }
	line := func(i int, usd, eur int64, cmp *int64) catalog.ProductInput {
		in := catalog.ProductInput{Name: fmt.Sprintf("Event %d", i), Category: "events", Status: catalog.StatusActive,
			Options: []catalog.Option{{Name: "size", Values: []string{"S", "M"}}}}
		for j, sz := range []string{"S", "M"} {
			in.Variants = append(in.Variants, catalog.VariantInput{SKU: fmt.Sprintf("E%d-%s", i, sz), Options: map[string]string{"size": sz},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: usd + int64(j), CompareAt: cmp}, {Currency: "EUR", Amount: eur}}})
		}
		in.Normalize()
		return in
	}
	batch := func(ctx context.Context, lines ...catalog.ProductInput) {
		t.Helper()
		items := make([]catalog.ImportItem, len(lines))
		for i, l := range lines {
			items[i] = catalog.ImportItem{Line: i + 1, Product: l}
		}
		if res, err := s.UpsertProducts(ctx, items, false); err != nil || len(res.Problems) != 0 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		now = now.Add(time.Hour)
	}
	batch(ctx, line(1, 1000, 900, nil), line(2, 500, 0, ptr(800)))
	rounds := []struct {
		actor string
		lines []catalog.ProductInput
	}{
		{"importer:nightly", []catalog.ProductInput{line(1, 800, 950, ptr(1200)), line(2, 600, 1, nil)}}, // cut, rise; prior of 0 below
		{"ops <dev&test>", []catalog.ProductInput{line(1, 700, 0, nil), line(2, 400, 0, ptr(900))}},
	}
	for _, r := range rounds {
		at := now.Truncate(time.Microsecond) // the store's clock keeps what PostgreSQL keeps
		batch(catalog.WithActor(ctx, r.actor), r.lines...)
		rows, err := s.(*postgres.Store).Pool().Query(ctx, `SELECT e.data::text, e.subject, e.actor, h.id, h.variant_id::text, h.product_id::text,
				h.currency, h.amount, h.compare_at, vp.prior_amount
			FROM events e JOIN price_history h ON h.id = (e.data::jsonb ->> 'id')::bigint
			JOIN variant_prices vp ON vp.variant_id = h.variant_id AND vp.currency = h.currency
			WHERE e.type = $1 AND h.applied_at = $2 ORDER BY e.local`, catalog.EventPriceChanged, at)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var (
				data, subject, actor string
				e                    catalog.PriceEntry
				pid                  string
				prior                *int64
			)
			if err := rows.Scan(&data, &subject, &actor, &e.ID, &e.VariantID, &pid, &e.Price.Currency, &e.Price.Amount, &e.CompareAt, &prior); err != nil {
				t.Fatal(err)
			}
			n++
			e.Kind, e.ValidFrom, e.AppliedAt, e.Actor, e.CreatedAt = catalog.PriceSet, at, &at, r.actor, at
			want, err := json.Marshal(catalog.PriceApplied(pid, e, prior, nil))
			if err != nil {
				t.Fatal(err)
			}
			if subject != "products/"+pid+"/variants/"+e.VariantID || actor != r.actor {
				t.Errorf("event of line %d: subject %s, actor %q", e.ID, subject, actor)
			}
			var g, w any
			if err := json.Unmarshal([]byte(data), &g); err != nil {
				t.Fatalf("event of line %d: %v in %s", e.ID, err, data)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("event of line %d:\nSQL %s\nGo  %s", e.ID, data, want)
			}
			if !bytes.ContainsAny([]byte(r.actor), "<>&") && data != string(want) {
				t.Errorf("event of line %d, not byte for byte:\nSQL %s\nGo  %s", e.ID, data, want)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 8 {
			t.Errorf("actor %q: %d price events, want 8 (2 products, 2 variants, 2 currencies)", r.actor, n)
		}
	}
}
