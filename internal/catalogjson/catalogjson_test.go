package catalogjson_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// TestNewEventIsCatalogs: the event catalogjson.NewEvent builds is catalog.NewEvent's for the
// same entity, field for field and byte for byte: a product's (its data written by hand, its
// variants left out past catalog.MaxEventVariants, HTML's characters escaped), a price's and a
// stock level's (written by hand too) and any other entity's. Products of every shape are held to json.Marshal by httpapi's encoder tests
// (checkMarshal).
func TestNewEventIsCatalogs(t *testing.T) {
	ctx := catalog.WithActor(context.Background(), "importer")
	at := time.Date(2026, 12, 3, 12, 0, 0, 123000, time.UTC)
	product := func(variants int) catalog.Product {
		p := catalog.Product{ID: "0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d6e", Name: "Tee <b>&</b>", Category: "tops", Status: catalog.StatusActive,
			Attributes: catalog.Attributes{"fit": "slim", "sizes": []any{"S", "M"}}, Version: 3, CreatedAt: at, UpdatedAt: at}
		for i := range variants {
			p.Variants = append(p.Variants, catalog.Variant{ID: "v", SKU: "TEE-" + string(rune('A'+i%26)), Position: i,
				Prices: []catalog.Price{{Currency: "EUR", Amount: 1999}}, CreatedAt: at, UpdatedAt: at})
		}
		return p
	}
	for _, c := range []struct {
		name   string
		entity any
	}{
		{"product", product(4)},
		{"product past the variants an event carries", product(catalog.MaxEventVariants + 1)},
		{"category", catalog.Category{Slug: "tops", Name: "Tops & tees", Version: 2, CreatedAt: at, UpdatedAt: at}},
		{"stock", catalog.StockLevel{VariantID: "v", ProductID: "p", SKU: "TEE-A", Kind: "adjustment", OnHand: 5, Available: 5, Version: 7}},
		{"price", catalog.PriceEvent{ProductID: "p", PriceEntry: catalog.PriceEntry{ID: 9, VariantID: "v", Kind: catalog.PriceSet,
			Price: catalog.Money{Currency: "EUR", Amount: 1999}, ValidFrom: at, AppliedAt: &at, Actor: "<import>", CreatedAt: at}, Version: 4}},
		{"reservation", catalog.Reservation{ID: "r", Status: catalog.ReservationHeld, CreatedAt: at}},
	} {
		got, err := catalogjson.NewEvent(ctx, catalog.EventProductUpdated, c.entity)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		subject, version, data := catalog.EventData(c.entity)
		want, err := catalog.NewEvent(ctx, catalog.EventProductUpdated, subject, version, data)
		if err != nil {
			t.Fatalf("%s: catalog.NewEvent: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\n data %s\nwant %+v\n data %s", c.name, got, got.Data, want, want.Data)
		}
	}
	// What encoding/json refuses, both refuse.
	bad := product(1)
	bad.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := catalogjson.NewEvent(ctx, catalog.EventProductCreated, bad); err == nil {
		t.Error("a product json.Marshal refuses made an event")
	}
}

// BenchmarkMarshalProduct: a product event's data, by encoding/json and by hand (a product of
// the import bench's shape: 4 variants, 2 currencies).
// go test -run '^$' -bench MarshalProduct -benchmem ./internal/catalogjson/
func BenchmarkMarshalProduct(b *testing.B) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 123000, time.UTC)
	p := catalog.Product{ID: "0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d6e", Name: "Corvane Pulse 6 Smartphone", Category: "phones", Brand: "Corvane",
		Description: "A phone with a bright 6.1-inch screen, all-day battery and a camera that does well in low light.",
		Attributes:  catalog.Attributes{"connectivity": "5G, wi-fi 7", "screen_inches": 6.1, "waterproof": true},
		Media:       []catalog.Media{{URL: "https://cdn.example.com/catalog/p/1.jpg", Alt: "front"}},
		Options:     []catalog.Option{{Name: "colour", Values: []string{"black", "white"}}, {Name: "storage", Values: []string{"128 GB", "256 GB"}}},
		Status:      catalog.StatusActive, Version: 1, CreatedAt: at, UpdatedAt: at}
	for i := range 4 {
		cmp := int64(89900)
		p.Variants = append(p.Variants, catalog.Variant{ID: "0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d7" + string(rune('0'+i)), ProductID: p.ID,
			SKU: "SYN-00000042-" + string(rune('0'+i)), Options: map[string]string{"colour": "black", "storage": "128 GB"}, Position: i,
			Prices: []catalog.Price{{Currency: "EUR", Amount: 79900, CompareAt: &cmp}, {Currency: "USD", Amount: 84900}},
			Stock:  catalog.NewStock(25, 0, 1), CreatedAt: at, UpdatedAt: at})
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := catalogjson.MarshalProduct(&p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAppendTimeIsMarshal: AppendTime writes what time.Time.MarshalJSON writes and refuses what
// it refuses: a year outside 0-9999, and a zone offset of 24 hours or more, which RFC 3339
// cannot write (time.FixedZone takes any offset).
func TestAppendTimeIsMarshal(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 120000, time.UTC)
	for _, c := range []struct {
		name string
		t    time.Time
	}{
		{"UTC", at},
		{"zero", time.Time{}},
		{"whole seconds", at.Truncate(time.Second)},
		{"half-hour zone", at.In(time.FixedZone("", 5*3600+1800))},
		{"zone with seconds", at.In(time.FixedZone("", -(3*3600 + 17)))},
		{"zone 23:59:59", at.In(time.FixedZone("", 24*3600-1))},
		{"zone +24:00", at.In(time.FixedZone("", 24*3600))},
		{"zone -24:00", at.In(time.FixedZone("", -24*3600))},
		{"zone +99:00", at.In(time.FixedZone("", 99*3600))},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year -1", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		want, wantErr := json.Marshal(c.t)
		got, err := catalogjson.AppendTime([]byte("x"), c.t)
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("%s: AppendTime(%v) error %v, json.Marshal error %v", c.name, c.t, err, wantErr)
		case err == nil && string(got) != "x"+string(want):
			t.Errorf("%s: AppendTime(%v) = %s, want x%s", c.name, c.t, got, want)
		case err != nil && string(got) != "x":
			t.Errorf("%s: AppendTime(%v) refused but wrote %q, want the buffer as given", c.name, c.t, got)
		}
	}
}
