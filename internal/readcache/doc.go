package readcache

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/catalogjson"
)

// Doc is a cached product as the cache keeps it: what a reader decides on without decoding
// it, and its JSON compressed with gzip.
type Doc struct {
	ID     string
	Status catalog.Status
	// Version and StockVersion make the product's entity tag.
	Version, StockVersion int64
	// JSONLen is the length of the JSON, which is the product as the API writes it:
	// encoding/json, HTML characters not escaped, a newline at the end.
	JSONLen int
	// Gzip is the JSON, gzip-compressed. Every reader shares it: never change it.
	Gzip []byte
}

// JSON returns the document uncompressed.
func (d Doc) JSON() ([]byte, error) {
	zr := gzipReaders.Get().(*gzip.Reader)
	defer gzipReaders.Put(zr)
	if err := zr.Reset(bytes.NewReader(d.Gzip)); err != nil {
		return nil, err
	}
	out := make([]byte, d.JSONLen)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, err
	}
	return out, nil
}

// A filler holds what a fill needs while it encodes a product: the JSON and gzip buffers and
// the gzip writer (at gzhttp's default level, as the API's response compression; BestSpeed
// measured 5% less CPU per fill for 4.5% more bytes, see ADR 0025). Pooled: a fill per miss
// made about 8 KB of garbage in buffers alone, and only an exact copy of the compressed bytes
// is kept. The JSON is the API's, written by catalogjson (encoding/json's reflection was 4% of
// the server's CPU under the hot-reads bench).
type filler struct {
	js []byte
	z  bytes.Buffer
	zw *gzip.Writer
}

var fillers = sync.Pool{New: func() any {
	f := &filler{}
	f.zw, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression) // a valid constant level: no error
	return f
}}

// maxPooledFill is the largest buffer a filler keeps for the next fill: a rare huge product
// must not pin its buffers in every pool slot.
const maxPooledFill = 64 << 10

// gzipReaders start empty: gzip.NewReader needs a stream, Reset gives it one.
var gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}

// newEntry encodes p into an entry.
func newEntry(p *catalog.Product) (*entry, error) {
	f := fillers.Get().(*filler)
	f.z.Reset()
	js, err := catalogjson.AppendProduct(f.js[:0], p)
	if err == nil {
		js = append(js, '\n') // as json.Encoder ends a value, and the API's answers
	} else {
		// A value encoding/json refuses too (ErrNotEncodable): answer with its own error.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			return nil, err
		}
		js = buf.Bytes()
	}
	f.js = js
	f.zw.Reset(&f.z)
	f.zw.Write(js) // an error sticks: Close reports it
	if err := f.zw.Close(); err != nil {
		return nil, err
	}
	jsonLen := len(js)
	gz := bytes.Clone(f.z.Bytes()) // exact: it is kept, and a grown buffer is a quarter empty
	if cap(f.js) <= maxPooledFill && f.z.Cap() <= maxPooledFill {
		fillers.Put(f)
	}
	e := &entry{doc: Doc{ID: p.ID, Status: p.Status, Version: p.Version, StockVersion: p.StockVersion, JSONLen: jsonLen, Gzip: gz}}
	if len(p.Variants) > 0 {
		e.stock = make([]int64, len(p.Variants))
		for i, v := range p.Variants {
			e.stock[i] = v.Stock.Version
		}
	}
	e.bytes = entryOverhead + int64(len(e.doc.ID)+len(e.doc.Status)+len(e.doc.Gzip)+8*len(e.stock))
	return e, nil
}

// product decodes the entry: a product of the caller's own, sharing nothing with the cache.
// The fields JSON does not carry are put back from the entry; TestCachedProductEqualsStored
// fails when catalog.Product gains another.
func (e *entry) product() (catalog.Product, error) {
	var p catalog.Product
	js, err := e.doc.JSON()
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(js, &p); err != nil {
		return p, err
	}
	if len(p.Variants) != len(e.stock) {
		return p, io.ErrUnexpectedEOF
	}
	p.StockVersion = e.doc.StockVersion
	for i := range p.Variants {
		p.Variants[i].ProductVersion = p.Version
		p.Variants[i].Stock.Version = e.stock[i]
	}
	return p, nil
}
