package bulk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/seed"
)

// spooled is a record with the reader's Lines() after it, as the importer writes it.
type spooled struct {
	rec   bulk.Record
	lines int
}

// parsedRoundTrip writes recs and end to a parsed spool and reads them back: every record and
// every Lines() must come back exactly (reflect.DeepEqual: nil and empty apart).
func parsedRoundTrip(t testing.TB, recs []spooled, end int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := bulk.NewParsedWriter(&buf)
	for _, r := range recs {
		if err := w.Add(r.rec, r.lines); err != nil {
			t.Fatalf("Add(line %d) = %v", r.rec.Line, err)
		}
	}
	if err := w.End(end); err != nil {
		t.Fatalf("End = %v", err)
	}
	spool := bytes.Clone(buf.Bytes())
	r := bulk.NewParsedReader(&buf)
	for i, want := range recs {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: Next() = %v", i, err)
		}
		if !reflect.DeepEqual(got, want.rec) {
			t.Fatalf("record %d changed in the parsed spool:\n got %#v\nwant %#v", i, got, want.rec)
		}
		if r.Lines() != want.lines {
			t.Fatalf("record %d: Lines() = %d, want %d", i, r.Lines(), want.lines)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last record: Next() = %v, want io.EOF", err)
	}
	if r.Lines() != end {
		t.Fatalf("at the end: Lines() = %d, want %d", r.Lines(), end)
	}
	return spool
}

// readerRoundTrip reads r as the importer's validation pass does and checks that what it
// returned survives the parsed spool, and is normalized and valid as it stands: the importer
// marks what it reads back catalog.ImportItem.Checked, and the store then does neither again.
func readerRoundTrip(t testing.TB, r bulk.Reader) int {
	t.Helper()
	var recs []spooled
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *bulk.RecordError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, spooled{rec, r.Lines()})
	}
	spool := parsedRoundTrip(t, recs, r.Lines())
	copies := bulk.NewParsedReader(bytes.NewReader(spool))
	for i, want := range recs {
		got, err := copies.Next()
		if err != nil {
			t.Fatal(err)
		}
		got.Product.Normalize()
		if !reflect.DeepEqual(got, want.rec) {
			t.Fatalf("record %d (line %d) was not normalized:\n got %#v\nwant %#v", i, want.rec.Line, want.rec, got)
		}
		if err := got.Product.Validate(); err != nil {
			t.Fatalf("record %d (line %d) is invalid: %v", i, want.rec.Line, err)
		}
	}
	return len(recs)
}

// TestParsedSpoolReaders: every product the JSONL and CSV readers return for the synthetic
// catalog (options, attributes of every type, media, compare-at prices) and for the CSV sample
// comes back from the parsed spool exactly, with the reader's line counts.
func TestParsedSpoolReaders(t *testing.T) {
	var jsonl bytes.Buffer
	var cols bulk.CSVColumns
	for i := range 300 {
		cols.Add(seed.SyntheticProduct(i, 1).ProductInput)
	}
	var csvBuf bytes.Buffer
	cw := bulk.NewCSVWriter(&csvBuf, cols)
	for i := range 300 {
		p := seed.SyntheticProduct(i, 1).ProductInput
		if err := bulk.WriteJSONL(&jsonl, p); err != nil {
			t.Fatal(err)
		}
		if err := cw.Write(fmt.Sprintf("h%d", i), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	var defs []catalog.AttributeDefinition
	for _, a := range seed.SyntheticAttributes() {
		defs = append(defs, catalog.AttributeDefinition{Key: a.Key, Type: a.Type})
	}
	types := bulk.TypesOf(defs)
	for name, r := range map[string]bulk.Reader{
		"jsonl":      bulk.NewJSONLReader(&jsonl),
		"csv":        bulk.NewCSVReader(&csvBuf, types),
		"csv sample": bulk.NewCSVReader(strings.NewReader(SampleCSV), nil),
	} {
		if n := readerRoundTrip(t, r); n == 0 {
			t.Errorf("%s: no records read", name)
		}
	}
}

// TestParsedSpoolDamaged: a spool cut anywhere, or with a byte changed, reads as damaged (or,
// for a changed byte that still decodes, as some other product): never a panic, never a
// record after the damage taken for the writer's.
func TestParsedSpoolDamaged(t *testing.T) {
	var recs []spooled
	for i := range 3 {
		p := seed.SyntheticProduct(i, 1).ProductInput
		p.Normalize()
		recs = append(recs, spooled{bulk.Record{Line: i + 1, Product: p}, i + 1})
	}
	spool := parsedRoundTrip(t, recs, 3)
	for n := range len(spool) {
		r := bulk.NewParsedReader(bytes.NewReader(spool[:n]))
		var err error
		for range len(recs) + 1 {
			if _, err = r.Next(); err != nil {
				break
			}
		}
		if !errors.Is(err, bulk.ErrParsedDamaged) {
			t.Fatalf("spool cut to %d of %d bytes: Next() = %v, want ErrParsedDamaged", n, len(spool), err)
		}
	}
	for i := range len(spool) {
		bad := bytes.Clone(spool)
		bad[i] ^= 0x5a
		r := bulk.NewParsedReader(bytes.NewReader(bad))
		for range len(recs) + 2 {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}

// FuzzParsedSpool: any ProductInput, as the fuzzer builds it from its bytes (nil and empty
// collections, absent and present pointers, attribute values of every kind, any bytes in
// strings), survives the parsed spool exactly; and the same bytes read as a spool never panic
// nor allocate more than a small multiple of their length.
func FuzzParsedSpool(f *testing.F) {
	f.Add([]byte("a product\x00with some\x01bytes\x02in it\xff\xfe"))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 250, 7}, 40))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &fuzzSource{b: data}
		var recs []spooled
		for i := range 1 + src.intn(3) {
			recs = append(recs, spooled{bulk.Record{Line: i + src.intn(1000), Product: src.product()}, src.intn(1 << 20)})
		}
		parsedRoundTrip(t, recs, src.intn(1<<20))

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := bulk.NewParsedReader(io.MultiReader(strings.NewReader("CPS\x01"), bytes.NewReader(data)))
		for range len(data) + 2 {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(200*len(data))+1<<20 {
			t.Fatalf("reading %d bytes as a spool allocated %d", len(data), alloc)
		}
	})
}

// fuzzSource hands out the fuzzer's bytes as choices; past their end every choice is zero.
type fuzzSource struct {
	b []byte
}

func (s *fuzzSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fuzzSource) intn(n int) int {
	return int(binary.LittleEndian.Uint16([]byte{s.byte(), s.byte()})) % n
}

func (s *fuzzSource) str() string {
	n := min(int(s.byte()%16), len(s.b))
	out := string(s.b[:n])
	s.b = s.b[n:]
	return out
}

func (s *fuzzSource) i64() int64 {
	var b [8]byte
	for i := range s.byte() % 9 {
		b[i] = s.byte()
	}
	return int64(binary.LittleEndian.Uint64(b[:]))
}

func (s *fuzzSource) optInt() *int64 {
	if s.byte()%2 == 0 {
		return nil
	}
	v := s.i64()
	return &v
}

// n returns a collection's length, -1 for nil.
func (s *fuzzSource) n() int { return int(s.byte()%5) - 1 }

func (s *fuzzSource) attributes() catalog.Attributes {
	n := s.n()
	if n < 0 {
		return nil
	}
	a := catalog.Attributes{}
	for range n {
		k := s.str()
		switch s.byte() % 3 {
		case 0:
			a[k] = s.str()
		case 1:
			x := math.Float64frombits(uint64(s.i64()))
			if math.IsNaN(x) { // NaN is not equal to itself; validation refuses it anyway
				x = 0
			}
			a[k] = x
		default:
			a[k] = s.byte()%2 == 0
		}
	}
	return a
}

func (s *fuzzSource) product() catalog.ProductInput {
	p := catalog.ProductInput{Name: s.str(), Description: s.str(), Category: s.str(), Brand: s.str(),
		Attributes: s.attributes(), Status: catalog.Status(s.str())}
	if n := s.n(); n >= 0 {
		p.Media = make([]catalog.Media, n)
		for i := range p.Media {
			p.Media[i] = catalog.Media{URL: s.str(), Alt: s.str()}
		}
	}
	if n := s.n(); n >= 0 {
		p.Options = make([]catalog.Option, n)
		for i := range p.Options {
			p.Options[i].Name = s.str()
			if m := s.n(); m >= 0 {
				p.Options[i].Values = make([]string, m)
				for j := range m {
					p.Options[i].Values[j] = s.str()
				}
			}
		}
	}
	if n := s.n(); n >= 0 {
		p.Variants = make([]catalog.VariantInput, n)
		for i := range p.Variants {
			v := &p.Variants[i]
			v.SKU, v.Barcode, v.Image = s.str(), s.str(), s.str()
			if m := s.n(); m >= 0 {
				v.Options = map[string]string{}
				for range m {
					v.Options[s.str()] = s.str()
				}
			}
			v.WeightGrams, v.Attributes = s.optInt(), s.attributes()
			v.PurchaseLimit, v.InitialStock = s.i64(), s.i64()
			if m := s.n(); m >= 0 {
				v.Prices = make([]catalog.PriceInput, m)
				for j := range v.Prices {
					v.Prices[j] = catalog.PriceInput{Currency: s.str(), Amount: s.i64(), CompareAt: s.optInt()}
				}
			}
		}
	}
	return p
}
