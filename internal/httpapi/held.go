package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/readcache"
)

// memoStore is a store that keeps what the HTTP layer made of a product it holds in memory
// (internal/readcache): a hot read then writes bytes kept from an earlier read, instead of
// encoding and compressing the same product again (ADR 0025).
type memoStore interface {
	Memo(ctx context.Context, id, key string, build func(readcache.Doc) (any, error)) (any, bool, error)
}

// heldProduct is one representation of a product as GET /products/{id} answers it in full:
// the body in one content coding, and what a request needs to decide whether it may have it.
type heldProduct struct {
	status catalog.Status
	tag    string // the entity tag of the uncoded body
	coding string // "" (identity), "gzip" or "zstd"
	body   []byte
	shared bool // body is the cache's own document (gzip), not a copy of this value's
	// Header values made once: a hit assigns them, as net/http does with constant fields, so it
	// allocates none. Nothing appends to or changes a header value in place.
	etag, encoding, length []string
}

// CacheBytes is what the read cache charges for h: its body unless it is the cache's own
// document, its tag and header values, and the struct with their slice headers.
func (h *heldProduct) CacheBytes() int64 {
	n := int64(2*len(h.tag) + len(h.coding) + 256)
	if !h.shared {
		n += int64(cap(h.body))
	}
	return n
}

// codedTag is the entity tag of the representation as sent: compressed's suffix for a coded
// body ("3.1" -> "3.1-gzip"), so a hit answers with the very tag a miss would.
func (h *heldProduct) codedTag() string {
	if h.coding == "" {
		return h.tag
	}
	return strings.TrimSuffix(h.tag, `"`) + "-" + h.coding + `"`
}

// encodeHeld makes a cached product's full representation in coding, as writeProduct and
// compressed would: the same JSON, compressed only from CompressMinSize up. The cache keeps the
// JSON gzip-compressed, so a gzip answer is that document itself, without a copy.
func encodeHeld(d readcache.Doc, coding string) (*heldProduct, error) {
	h := &heldProduct{status: d.Status, tag: etagOf(d.Version, d.StockVersion)}
	switch {
	case coding == "gzip" && d.JSONLen >= CompressMinSize:
		h.coding, h.body, h.shared = coding, d.Gzip, true
	default:
		js, err := d.JSON()
		if err != nil {
			return nil, err
		}
		h.body = js
		if coding == "zstd" && len(js) >= CompressMinSize {
			// Kept for as long as the product is cached: an exact copy, not a grown buffer.
			h.coding, h.body = coding, bytes.Clone(zstdEncoder().EncodeAll(js, nil))
		}
	}
	h.etag, h.length = []string{h.codedTag()}, []string{strconv.Itoa(len(h.body))}
	if h.coding != "" {
		h.encoding = []string{h.coding}
	}
	return h, nil
}

// heldBuilders make a held answer in each coding negotiatedCoding returns: made once, so a hit
// passes Memo a function without allocating a closure for it.
var heldBuilders = map[string]func(readcache.Doc) (any, error){
	"":     func(d readcache.Doc) (any, error) { return encodeHeld(d, "") },
	"gzip": func(d readcache.Doc) (any, error) { return encodeHeld(d, "gzip") },
	"zstd": func(d readcache.Doc) (any, error) { return encodeHeld(d, "zstd") },
}

func heldBuilder(coding string) func(readcache.Doc) (any, error) {
	if b, ok := heldBuilders[coding]; ok {
		return b
	}
	return func(d readcache.Doc) (any, error) { return encodeHeld(d, coding) }
}

// zstd at gzhttp's level for it: a held body is made once per product and coding, and most
// products of a large catalog are read once or twice per TTL.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic("httpapi: zstd options: " + err.Error()) // constants: every test would fail
	}
	return enc
})

// writeHeld answers GET or HEAD /products/{id} in full from the store's memory when the product
// is held there, and reports whether it answered. It writes exactly what getProduct and
// compressed would (the same headers, ETag, 304s and body), minus the encoding and
// compression: compressed passes a body through untouched when Content-Encoding is set.
func writeHeld(w http.ResponseWriter, r *http.Request, m memoStore, id string) bool {
	coding := negotiatedCoding(r)
	v, ok, err := m.Memo(r.Context(), id, coding, heldBuilder(coding))
	if err != nil || !ok {
		return false // the usual path reads the product, and reports any error the usual way
	}
	h := v.(*heldProduct)
	if h.status != catalog.StatusActive && !canRead(r) {
		writeError(w, r, catalog.ErrProductNotFound) // as visible does
		return true
	}
	hdr := w.Header()
	hdr["Etag"] = h.etag
	hdr["Cache-Control"] = productCacheControlValue
	if held, ok := notModified(r, h.tag); ok {
		hdr.Set("ETag", held)
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	hdr["Content-Type"] = jsonContentType
	if h.encoding != nil {
		hdr["Content-Encoding"] = h.encoding
	}
	if r.Method == http.MethodHead || len(h.body) >= autoLengthBelow {
		hdr["Content-Length"] = h.length
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(h.body)
	}
	return true
}

var productCacheControlValue, jsonContentType = []string{productCacheControl}, []string{"application/json"}

// autoLengthBelow is the body size under which a hit leaves Content-Length to net/http: a
// handler that writes less than its chunking buffer (2 KiB, HTTP/1 and HTTP/2) and returns
// without a Flush gets the field from the server, outside the header map ("If the total size of
// all written data is under a few KB and there are no Flush calls, the Content-Length header is
// added automatically", http.ResponseWriter). A gzip hit (0.7 KB) then sets 8 fields, not 9: a
// ninth would grow the map net/http made for them, the largest allocation of a hit.
// TestWireUnchanged checks the field still arrives, with the body's length.
const autoLengthBelow = 2048

// negotiatedCoding is the coding compressed chooses for r's response: gzhttp's rule with our
// options, step for step (NaN q-values included): none for HEAD; otherwise the accepted coding
// of the higher q-value between gzip and zstd, zstd when they are equal.
// TestHeldMatchesEncoded and FuzzNegotiatedCoding hold the two to one answer.
func negotiatedCoding(r *http.Request) string {
	if r.Method == http.MethodHead {
		return ""
	}
	ae := r.Header.Get("Accept-Encoding")
	if ae == "" {
		return ""
	}
	gz, zs := codingQ(ae, "gzip"), codingQ(ae, "zstd")
	switch {
	case gz <= 0 && zs <= 0:
		return ""
	case zs <= 0 || gz <= 0:
		if gz > 0 {
			return "gzip"
		}
		if zs > 0 {
			return "zstd"
		}
		return "" // a NaN q-value, which gzhttp lets through this far
	case gz > zs:
		return "gzip"
	}
	return "zstd"
}

// codingQ is the q-value of the first mention of coding in an Accept-Encoding value (0 when
// absent), read as gzhttp reads it: names lower-cased, q clamped to [0, 1], a q that does not
// parse as ParseFloat leaves it.
func codingQ(header, coding string) float64 {
	for part := range strings.SplitSeq(strings.TrimSpace(header), ",") {
		if !strings.ContainsRune(part, ';') {
			if strings.ToLower(strings.TrimSpace(part)) == coding {
				return 1
			}
			continue
		}
		name, q := "", 1.0
		for n, p := range strings.Split(part, ";") {
			p = strings.TrimSpace(p)
			if n == 0 {
				name = strings.ToLower(p)
			} else if len(p) >= 2 && strings.EqualFold(p[:2], "q=") {
				q, _ = strconv.ParseFloat(p[2:], 64)
				if q < 0 {
					q = 0
				} else if q > 1 {
					q = 1
				}
			}
		}
		if name == coding {
			return q
		}
	}
	return 0
}
