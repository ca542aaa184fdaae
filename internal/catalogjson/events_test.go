package catalogjson

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// eventStrings are the strings the property test draws from: what IDs and SKUs look like, and
// every kind of character encoding/json escapes.
var eventStrings = []string{"", "0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d6e", "SYN-00000042-3", "USD", "set",
	"a<b>&c", `quote " and \ backslash`, "tab\there", "line\u2028sep\u2029", "naïve", "日本",
	"\xff\xfe invalid", "\x00\x1f", "</script>", "admin@example.com"}

func randomTime(rng *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("plus", 5*3600+30*60), time.FixedZone("minus", -8*3600),
		time.FixedZone("odd", 3*3600+17)}
	t := time.Unix(rng.Int64N(4_000_000_000)-1_000_000_000, rng.Int64N(1_000_000_000)).In(zones[rng.IntN(len(zones))])
	switch rng.IntN(12) {
	case 0:
		t = time.Time{}
	case 1: // encoding/json refuses both
		if rng.IntN(2) == 0 {
			t = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		} else {
			t = t.In(time.FixedZone("day", 24*3600))
		}
	case 2:
		t = t.Truncate(time.Second)
	}
	return t
}

func randomInt(rng *rand.Rand) int64 {
	return []int64{0, 1, -1, 42, math.MaxInt64, math.MinInt64, rng.Int64()}[rng.IntN(7)]
}

func optionalInt(rng *rand.Rand) *int64 {
	if rng.IntN(2) == 0 {
		return nil
	}
	v := randomInt(rng)
	return &v
}

func optionalTime(rng *rand.Rand) *time.Time {
	if rng.IntN(2) == 0 {
		return nil
	}
	t := randomTime(rng)
	return &t
}

// sameAsMarshal fails t unless NewEvent gives data the bytes, or the failure, json.Marshal does.
func sameAsMarshal(t *testing.T, data any) {
	t.Helper()
	want, wantErr := json.Marshal(data)
	e, err := NewEvent(context.Background(), catalog.EventPriceChanged, data)
	switch {
	case (err != nil) != (wantErr != nil):
		t.Fatalf("%#v: NewEvent error %v, json.Marshal error %v", data, err, wantErr)
	case err == nil && !bytes.Equal(e.Data, want):
		t.Fatalf("%#v:\n NewEvent     %s\n json.Marshal %s", data, e.Data, want)
	}
}

// TestEventJSONIsMarshal: price and stock events written by hand are json.Marshal's bytes, over
// random values (every optional field present or not, strings that need escaping, times in odd
// zones, times json.Marshal refuses: year 10000, a zone 24 hours ahead).
func TestEventJSONIsMarshal(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))
	str := func() string { return eventStrings[rng.IntN(len(eventStrings))] }
	for range 20000 {
		sameAsMarshal(t, catalog.PriceEvent{ProductID: str(), PriceEntry: catalog.PriceEntry{ID: randomInt(rng), VariantID: str(), Kind: catalog.PriceKind(str()),
			Price: catalog.Money{Currency: str(), Amount: randomInt(rng)}, CompareAt: optionalInt(rng), ValidFrom: randomTime(rng),
			ValidUntil: optionalTime(rng), AppliedAt: optionalTime(rng), EndedAt: optionalTime(rng), Actor: str(), CreatedAt: randomTime(rng)},
			PriorPrice: optionalInt(rng), SaleEndsAt: optionalTime(rng), Version: randomInt(rng)})
		sameAsMarshal(t, catalog.StockLevel{VariantID: str(), ProductID: str(), SKU: str(), Kind: catalog.MovementKind(str()), OnHand: randomInt(rng),
			Reserved: randomInt(rng), Available: randomInt(rng), ReservationID: str(), Version: randomInt(rng)})
	}
	// By pointer, and a nil pointer, they are encoding/json's to write.
	sameAsMarshal(t, &catalog.PriceEvent{ProductID: "p"})
	sameAsMarshal(t, (*catalog.StockLevel)(nil))
}

// FuzzEventJSON: any strings and numbers in a price or stock event.
func FuzzEventJSON(f *testing.F) {
	f.Add("p", "v", "SKU-1", "USD", "actor", int64(1), int64(100), int64(1700000000), true)
	f.Add("a<b", "\u2028", "\xff", "&", "\"", int64(-1), int64(0), int64(-62135596800), false)
	f.Fuzz(func(t *testing.T, pid, vid, sku, cur, actor string, id, amount, unix int64, optional bool) {
		at := time.Unix(unix%(400*365*86400), id%1_000_000_000).UTC()
		var cmp *int64
		var until *time.Time
		if optional {
			cmp, until = &amount, &at
		}
		sameAsMarshal(t, catalog.PriceEvent{ProductID: pid, PriceEntry: catalog.PriceEntry{ID: id, VariantID: vid, Kind: catalog.PriceKind(sku), Price: catalog.Money{Currency: cur, Amount: amount},
			CompareAt: cmp, ValidFrom: at, ValidUntil: until, AppliedAt: until, Actor: actor, CreatedAt: at}, PriorPrice: cmp, SaleEndsAt: until})
		sameAsMarshal(t, catalog.StockLevel{VariantID: vid, ProductID: pid, SKU: sku, Kind: catalog.MovementKind(cur), OnHand: amount, Reserved: id, Available: amount - id, ReservationID: actor})
	})
}

// BenchmarkPriceEventJSON: a price event's data by encoding/json and by hand, as an import
// batch writes one per repriced variant and currency (about 7,500 a batch of 1,000 products).
// go test -run '^$' -bench PriceEventJSON -benchmem ./internal/catalogjson/
func BenchmarkPriceEventJSON(b *testing.B) {
	at := time.Date(2026, 12, 3, 11, 0, 0, 123456000, time.UTC)
	cmp, prior := int64(2599), int64(1999)
	pe := catalog.PriceApplied("0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d6e", catalog.PriceEntry{ID: 1234567, VariantID: "0190d1c2-7e55-7b3a-9c11-6a2f3b4c5d6f",
		Kind: catalog.PriceSet, Price: catalog.Money{Currency: "EUR", Amount: 1899}, CompareAt: &cmp, ValidFrom: at, AppliedAt: &at, Actor: "import", CreatedAt: at}, &prior, nil)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(pe); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := appendEventData(make([]byte, 0, 512), pe); !ok {
				b.Fatal("not written by hand")
			}
		}
	})
	// The whole event as a store builds it, EventData's subject and boxing included.
	b.Run("NewEvent", func(b *testing.B) {
		b.ReportAllocs()
		ctx := catalog.WithActor(context.Background(), "import")
		for b.Loop() {
			if _, err := NewEvent(ctx, catalog.EventPriceChanged, pe); err != nil {
				b.Fatal(err)
			}
		}
	})
}
