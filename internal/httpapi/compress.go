package httpapi

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// CompressMinSize is the smallest response body compressed: below about one TCP segment the
// bytes saved do not pay for the CPU, and a product is often smaller.
const CompressMinSize = 1024

// etagCodings are the suffixes compressed adds inside a response's entity tag, one per coding.
var etagCodings = []string{"-gzip", "-zstd"}

// compressed answers with a zstd- or gzip-coded body when the client accepts one (zstd
// preferred at equal weight) and the body is at least CompressMinSize; gzhttp negotiates,
// buffers up to the minimum and streams the rest. Every response carries
// "Vary: Accept-Encoding", the uncompressed ones too, so a shared cache never hands a coded
// body to a client that did not ask for it. A coded body is a different representation, so
// its strong ETag gets the coding as a suffix ("3.1" becomes "3.1-gzip"); notModified takes
// either form back for a 304.
func compressed(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(CompressMinSize),
		gzhttp.SuffixETag(etagCodings[0]),
		gzhttp.EnableZstd(true),
	)
	if err != nil {
		// The options are constants: an error here is a programming mistake caught by every test.
		panic("httpapi: compression options: " + err.Error())
	}
	return wrap(next)
}

// Compressed is the service's response compression for handlers outside the service that must
// follow the same rule: the bench's ceiling (b).
func Compressed(next http.Handler) http.Handler { return compressed(next) }
