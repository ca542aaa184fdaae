package readcache

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
)

// syntheticProducts reads n products of the bench's synthetic catalog back from a store, so a
// fill is measured on what the service caches (ids, times, variants, prices).
func syntheticProducts(tb testing.TB, n int) []catalog.Product {
	tb.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := seed.LoadSynthetic(ctx, s, 0, n, 1, nil); err != nil {
		tb.Fatal(err)
	}
	page, err := s.ListProducts(ctx, catalog.ListQuery{Limit: n, Sort: "newest"})
	if err != nil {
		tb.Fatal(err)
	}
	var out []catalog.Product
	for _, it := range page.Items {
		p, err := s.Product(ctx, it.ID)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// BenchmarkFill measures a miss's work in the cache: encoding a product of the bench's
// synthetic catalog (4 variants on average) to JSON and gzip. go test -run '^$' -bench Fill
// -benchmem ./internal/readcache/
func BenchmarkFill(b *testing.B) {
	ps := syntheticProducts(b, 64)
	b.ReportAllocs()
	var zb, jb, i int
	for b.Loop() {
		e, err := newEntry(&ps[i%len(ps)])
		if err != nil {
			b.Fatal(err)
		}
		zb += len(e.doc.Gzip)
		jb += e.doc.JSONLen
		i++
	}
	b.ReportMetric(float64(zb)/float64(i), "gzipB/op")
	b.ReportMetric(float64(jb)/float64(i), "jsonB/op")
}

// TestFillsShareNothing: fills reuse pooled buffers, so each document must hold its own
// product's JSON and nothing of the fill before it, for products on both sides of the size a
// filler is pooled up to (a huge one is encoded and its buffers dropped).
func TestFillsShareNothing(t *testing.T) {
	ps := syntheticProducts(t, 8)
	huge := ps[0]
	huge.ID, huge.Description = "huge", strings.Repeat("x", 2*maxPooledFill)
	ps = append(ps, huge)
	var docs []Doc
	for range 3 {
		for i := range ps {
			e, err := newEntry(&ps[i])
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, e.doc)
		}
	}
	for i, d := range docs {
		want, err := json.Marshal(&ps[i%len(ps)]) // escapes HTML; the synthetic text has none
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append(want, '\n')) {
			t.Fatalf("fill %d (%s): document is not its product's JSON (%d bytes, want %d)", i, d.ID, len(got), len(want)+1)
		}
	}
}

// TestFillRefusesWhatEncodingJSONRefuses: a product encoding/json cannot write (a NaN
// attribute, a year past 9999) is not cached, with encoding/json's error, as before the fill
// wrote JSON by hand.
func TestFillRefusesWhatEncodingJSONRefuses(t *testing.T) {
	for _, p := range []catalog.Product{
		{ID: "nan", Attributes: catalog.Attributes{"x": math.NaN()}},
		{ID: "late", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		_, want := json.Marshal(p)
		if _, err := newEntry(&p); err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: fill error %v, encoding/json's %v", p.ID, err, want)
		}
	}
}
