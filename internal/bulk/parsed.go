package bulk

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/acme/catalog/internal/catalog"
)

// The parsed spool: records as a reader returned them (decoded, normalized, validated), in a
// compact binary form, so an import's apply pass reads what its validation pass parsed instead
// of decoding the file again (ADR 0026, 2026-12-03). It lives only as long as one job, on the
// instance that wrote it, so it has no versioning beyond a magic header.
//
// Layout: the magic, then records. A product record is 'p', its payload's length (uvarint)
// and the payload: the record's line and the reader's Lines() after it (uvarints), then the
// product. The end record is 'e' and the reader's Lines() at the end of the file; a spool
// without it is truncated. In a product, strings are a uvarint length and the bytes; a slice or
// map is its length plus one, 0 for nil (so nil and empty survive as they were); integers are
// varints; floats their 8 IEEE bytes; optional integers a 0/1 byte before the value.
//
// A hand-written layout rather than encoding/gob: gob decodes an empty slice or map as nil, so
// the round trip would not be exact without a Normalize after it, and it was slower (figures in
// ADR 0026).

const parsedMagic = "CPS\x01"

// MaxParsedRecord bounds one record of a parsed spool. A valid product is far smaller (a JSONL
// line is at most MaxLineBytes, a CSV product MaxProductBytes, and the binary form of a value
// is at most a few times its text); the bound is a guard against a damaged file.
const MaxParsedRecord = 64 << 20

// ParsedWriter writes a parsed spool. Its errors are sticky: after the first, nothing more is
// written and Err and End return it.
type ParsedWriter struct {
	w       *bufio.Writer
	payload []byte
	head    []byte
	err     error
	ended   bool
}

// NewParsedWriter returns a writer of a parsed spool to w.
func NewParsedWriter(w io.Writer) *ParsedWriter {
	pw := &ParsedWriter{w: bufio.NewWriterSize(w, 256<<10)}
	_, pw.err = pw.w.WriteString(parsedMagic)
	return pw
}

// Add writes rec, which a reader returned with lines its Lines() after it.
func (pw *ParsedWriter) Add(rec Record, lines int) error {
	if pw.err != nil {
		return pw.err
	}
	b := binary.AppendUvarint(pw.payload[:0], uint64(rec.Line))
	b = binary.AppendUvarint(b, uint64(lines))
	b, err := appendProduct(b, &rec.Product)
	pw.payload = b
	switch {
	case err != nil:
		pw.err = fmt.Errorf("parsed spool: line %d: %w", rec.Line, err)
		return pw.err
	case len(b) > MaxParsedRecord:
		pw.err = fmt.Errorf("parsed spool: line %d: %d bytes, over %d", rec.Line, len(b), MaxParsedRecord)
		return pw.err
	}
	pw.head = binary.AppendUvarint(append(pw.head[:0], 'p'), uint64(len(b)))
	if _, err := pw.w.Write(pw.head); err != nil {
		pw.err = err
		return err
	}
	_, pw.err = pw.w.Write(b)
	return pw.err
}

// End writes the end record, with lines the reader's Lines() at the end of the file, and
// flushes. The caller closes the file.
func (pw *ParsedWriter) End(lines int) error {
	if pw.err != nil {
		return pw.err
	}
	if _, pw.err = pw.w.Write(binary.AppendUvarint([]byte{'e'}, uint64(lines))); pw.err != nil {
		return pw.err
	}
	pw.err = pw.w.Flush()
	pw.ended = pw.err == nil
	return pw.err
}

// Err is the first error the writer met, if any.
func (pw *ParsedWriter) Err() error { return pw.err }

// Ended reports whether End wrote the end record and flushed: the spool is complete.
func (pw *ParsedWriter) Ended() bool { return pw.ended }

// ParsedReader reads a parsed spool; it is a Reader whose records, and Lines, are exactly the
// ones the writer was given. A damaged or truncated spool is an error (never a *RecordError):
// the pass that reads it stops.
type ParsedReader struct {
	r     *bufio.Reader
	buf   bytes.Buffer
	lines int
	began bool
	ended bool
}

// NewParsedReader returns a reader of the parsed spool in r.
func NewParsedReader(r io.Reader) *ParsedReader {
	return &ParsedReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// ErrParsedDamaged says a parsed spool is not what a ParsedWriter wrote (or was cut short).
var ErrParsedDamaged = errors.New("parsed spool damaged")

// Lines is the reader's Lines() after the last record returned, or at the end of the file.
func (pr *ParsedReader) Lines() int { return pr.lines }

// Next returns the next record, io.EOF after the last.
func (pr *ParsedReader) Next() (Record, error) {
	if pr.ended {
		return Record{}, io.EOF
	}
	if !pr.began {
		var m [len(parsedMagic)]byte
		if _, err := io.ReadFull(pr.r, m[:]); err != nil || string(m[:]) != parsedMagic {
			return Record{}, fmt.Errorf("%w: no header", ErrParsedDamaged)
		}
		pr.began = true
	}
	kind, err := pr.r.ReadByte()
	if err != nil {
		return Record{}, fmt.Errorf("%w: no end record", ErrParsedDamaged)
	}
	n, err := binary.ReadUvarint(pr.r)
	if err != nil {
		return Record{}, fmt.Errorf("%w: record length: %v", ErrParsedDamaged, err)
	}
	switch kind {
	case 'e':
		if n > math.MaxInt32 {
			return Record{}, fmt.Errorf("%w: end record", ErrParsedDamaged)
		}
		pr.lines, pr.ended = int(n), true
		return Record{}, io.EOF
	case 'p':
	default:
		return Record{}, fmt.Errorf("%w: record kind %q", ErrParsedDamaged, kind)
	}
	if n > MaxParsedRecord {
		return Record{}, fmt.Errorf("%w: record of %d bytes", ErrParsedDamaged, n)
	}
	// Grown as bytes arrive (CopyN through the buffer), so a damaged length costs no more
	// memory than the file holds.
	pr.buf.Reset()
	if _, err := io.CopyN(&pr.buf, pr.r, int64(n)); err != nil {
		return Record{}, fmt.Errorf("%w: record cut short", ErrParsedDamaged)
	}
	// One string holds every string of the record; the fields are slices of it.
	d := decoder{s: pr.buf.String()}
	rec := Record{Line: d.int()}
	lines := d.int()
	d.product(&rec.Product)
	if d.err != nil || d.pos != len(d.s) {
		return Record{}, fmt.Errorf("%w: the record after line %d: %v", ErrParsedDamaged, pr.lines, cmpErr(d.err, "trailing bytes"))
	}
	pr.lines = lines
	return rec, nil
}

func cmpErr(err error, otherwise string) any {
	if err != nil {
		return err
	}
	return otherwise
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendLen writes a nil-able collection's length: n+1, or 0 for nil.
func appendLen(b []byte, isNil bool, n int) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendOptInt(b []byte, p *int64) []byte {
	if p == nil {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), *p)
}

func appendProduct(b []byte, in *catalog.ProductInput) ([]byte, error) {
	b = appendString(b, in.Name)
	b = appendString(b, in.Description)
	b = appendString(b, in.Category)
	b = appendString(b, in.Brand)
	b, err := appendAttributes(b, in.Attributes)
	if err != nil {
		return b, fmt.Errorf("attributes: %w", err)
	}
	b = appendLen(b, in.Media == nil, len(in.Media))
	for _, m := range in.Media {
		b = appendString(appendString(b, m.URL), m.Alt)
	}
	b = appendLen(b, in.Options == nil, len(in.Options))
	for _, o := range in.Options {
		b = appendString(b, o.Name)
		b = appendLen(b, o.Values == nil, len(o.Values))
		for _, v := range o.Values {
			b = appendString(b, v)
		}
	}
	b = appendString(b, string(in.Status))
	b = appendLen(b, in.Variants == nil, len(in.Variants))
	for i := range in.Variants {
		v := &in.Variants[i]
		b = appendString(b, v.SKU)
		b = appendLen(b, v.Options == nil, len(v.Options))
		for k, val := range v.Options {
			b = appendString(appendString(b, k), val)
		}
		b = appendString(b, v.Barcode)
		b = appendOptInt(b, v.WeightGrams)
		if b, err = appendAttributes(b, v.Attributes); err != nil {
			return b, fmt.Errorf("variants[%d].attributes: %w", i, err)
		}
		b = appendString(b, v.Image)
		b = binary.AppendVarint(b, v.PurchaseLimit)
		b = appendLen(b, v.Prices == nil, len(v.Prices))
		for _, p := range v.Prices {
			b = appendString(b, p.Currency)
			b = binary.AppendVarint(b, p.Amount)
			b = appendOptInt(b, p.CompareAt)
		}
		b = binary.AppendVarint(b, v.InitialStock)
	}
	return b, nil
}

// Attribute value kinds: the three a validated product can hold.
const (
	attrString = 's'
	attrNumber = 'n'
	attrFalse  = 'f'
	attrTrue   = 't'
)

func appendAttributes(b []byte, a catalog.Attributes) ([]byte, error) {
	b = appendLen(b, a == nil, len(a))
	for k, v := range a {
		b = appendString(b, k)
		switch x := v.(type) {
		case string:
			b = appendString(append(b, attrString), x)
		case float64:
			b = binary.LittleEndian.AppendUint64(append(b, attrNumber), math.Float64bits(x))
		case bool:
			if x {
				b = append(b, attrTrue)
			} else {
				b = append(b, attrFalse)
			}
		default:
			// Validation refuses these; a record holding one never reaches the spool.
			return b, fmt.Errorf("%q holds a %T, not a string, number or boolean", k, v)
		}
	}
	return b, nil
}

// decoder reads a record's payload; its first error sticks and every later read returns zero
// values.
type decoder struct {
	s   string
	pos int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d", what, d.pos)
	}
	d.pos = len(d.s)
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if d.pos >= len(d.s) || shift > 63 {
			d.fail("bad uvarint")
			return 0
		}
		c := d.s[d.pos]
		d.pos++
		if shift == 63 && c > 1 {
			d.fail("bad uvarint")
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// int reads a uvarint that must fit an int (lines).
func (d *decoder) int() int {
	u := d.uvarint()
	if u > math.MaxInt32 {
		d.fail("number out of range")
		return 0
	}
	return int(u)
}

func (d *decoder) byte() byte {
	if d.err != nil || d.pos >= len(d.s) {
		d.fail("record cut short")
		return 0
	}
	c := d.s[d.pos]
	d.pos++
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.pos) {
		d.fail("string past the record's end")
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// count reads a nil-able collection's length. Each element takes at least size bytes, so a
// length past what is left of the record is damage, refused before anything is allocated: a
// damaged record costs at most a small multiple of its own length.
func (d *decoder) count(size int) (n int, isNil bool) {
	u := d.uvarint()
	if d.err != nil || u == 0 {
		return 0, true
	}
	if u-1 > uint64((len(d.s)-d.pos)/size) {
		d.fail("count past the record's end")
		return 0, true
	}
	return int(u - 1), false
}

func (d *decoder) optInt() *int64 {
	switch d.byte() {
	case 0:
		return nil
	case 1:
		v := d.varint()
		return &v
	}
	d.fail("bad optional number")
	return nil
}

func (d *decoder) attributes() catalog.Attributes {
	n, isNil := d.count(2) // key, kind
	if isNil {
		return nil
	}
	a := make(catalog.Attributes, n)
	for range n {
		k := d.string()
		switch d.byte() {
		case attrString:
			a[k] = d.string()
		case attrNumber:
			if len(d.s)-d.pos < 8 {
				d.fail("number cut short")
				return a
			}
			a[k] = math.Float64frombits(binary.LittleEndian.Uint64([]byte(d.s[d.pos : d.pos+8])))
			d.pos += 8
		case attrFalse:
			a[k] = false
		case attrTrue:
			a[k] = true
		default:
			d.fail("bad attribute kind")
		}
		if d.err != nil {
			return a
		}
	}
	return a
}

func (d *decoder) product(in *catalog.ProductInput) {
	in.Name = d.string()
	in.Description = d.string()
	in.Category = d.string()
	in.Brand = d.string()
	in.Attributes = d.attributes()
	if n, isNil := d.count(2); !isNil {
		in.Media = make([]catalog.Media, n)
		for i := range in.Media {
			in.Media[i] = catalog.Media{URL: d.string(), Alt: d.string()}
		}
	}
	if n, isNil := d.count(2); !isNil {
		in.Options = make([]catalog.Option, n)
		for i := range in.Options {
			o := &in.Options[i]
			o.Name = d.string()
			if m, isNil := d.count(1); !isNil {
				o.Values = make([]string, m)
				for j := range o.Values {
					o.Values[j] = d.string()
				}
			}
		}
	}
	in.Status = catalog.Status(d.string())
	n, isNil := d.count(9) // nine fields of at least a byte each
	if isNil {
		return
	}
	in.Variants = make([]catalog.VariantInput, n)
	for i := range in.Variants {
		if d.err != nil {
			return
		}
		v := &in.Variants[i]
		v.SKU = d.string()
		if m, isNil := d.count(2); !isNil {
			v.Options = make(map[string]string, m)
			for range m {
				k := d.string()
				v.Options[k] = d.string()
			}
		}
		v.Barcode = d.string()
		v.WeightGrams = d.optInt()
		v.Attributes = d.attributes()
		v.Image = d.string()
		v.PurchaseLimit = d.varint()
		if m, isNil := d.count(3); !isNil {
			v.Prices = make([]catalog.PriceInput, m)
			for j := range v.Prices {
				v.Prices[j] = catalog.PriceInput{Currency: d.string(), Amount: d.varint(), CompareAt: d.optInt()}
			}
		}
		v.InitialStock = d.varint()
	}
}
