package bulk_test

import (
	"bytes"
	"encoding/gob"
	"io"
	"testing"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/seed"
)

// BenchmarkParsedSpool: go test -run '^$' -bench ParsedSpool -count 4 ./internal/bulk/
//
// The Go work per 1,000 products (the import bench's synthetic ones, about 4 variants each) of
// each step the importer's two passes take: reading the upload (JSON decoding, normalizing,
// validating), the store's CheckImportBatch with and without Checked, writing and reading the
// parsed spool, and encoding/gob doing the same (measured for the choice, ADR 0026). One op is
// 1,000 products; compare sub-benchmarks of one run.
func BenchmarkParsedSpool(b *testing.B) {
	const n = 1000
	var jsonl bytes.Buffer
	recs := make([]bulk.Record, n)
	for i := range n {
		p := seed.SyntheticProduct(i, 1).ProductInput
		if err := bulk.WriteJSONL(&jsonl, p); err != nil {
			b.Fatal(err)
		}
		p.Normalize()
		recs[i] = bulk.Record{Line: i + 1, Product: p}
	}
	var spool bytes.Buffer
	w := bulk.NewParsedWriter(&spool)
	for i, r := range recs {
		if err := w.Add(r, i+1); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.End(n); err != nil {
		b.Fatal(err)
	}
	drain := func(b *testing.B, r bulk.Reader) {
		for {
			_, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("read-jsonl", func(b *testing.B) {
		b.SetBytes(int64(jsonl.Len()))
		for b.Loop() {
			drain(b, bulk.NewJSONLReader(bytes.NewReader(jsonl.Bytes())))
		}
	})
	b.Run("read-parsed", func(b *testing.B) {
		b.SetBytes(int64(spool.Len()))
		for b.Loop() {
			drain(b, bulk.NewParsedReader(bytes.NewReader(spool.Bytes())))
		}
	})
	b.Run("write-parsed", func(b *testing.B) {
		for b.Loop() {
			w := bulk.NewParsedWriter(io.Discard)
			for i, r := range recs {
				_ = w.Add(r, i+1)
			}
			if err := w.End(n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gob-roundtrip", func(b *testing.B) {
		gob.Register(float64(0))
		gob.Register("")
		gob.Register(false)
		var buf bytes.Buffer
		size := 0
		for b.Loop() {
			buf.Reset()
			enc := gob.NewEncoder(&buf)
			for _, r := range recs {
				if err := enc.Encode(&r); err != nil {
					b.Fatal(err)
				}
			}
			size = buf.Len()
			dec := gob.NewDecoder(&buf)
			for range recs {
				var r bulk.Record
				if err := dec.Decode(&r); err != nil {
					b.Fatal(err)
				}
				r.Product.Normalize() // gob gives nil for empty: normalizing restores them
			}
		}
		b.ReportMetric(float64(size), "gob-bytes")
	})
	items := make([]catalog.ImportItem, n)
	for _, checked := range []bool{false, true} {
		name := "check-batch"
		if checked {
			name += "-checked"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				for i, r := range recs {
					items[i] = catalog.ImportItem{Line: r.Line, Product: r.Product, Checked: checked}
				}
				if _, problems := catalog.CheckImportBatch(items); len(problems) > 0 {
					b.Fatal(problems)
				}
			}
		})
	}
	b.Logf("1,000 products: %d bytes of JSONL, %d of parsed spool", jsonl.Len(), spool.Len())
}
