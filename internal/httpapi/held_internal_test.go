package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzNegotiatedCoding: for any Accept-Encoding value and method, the coding a held product is
// sent in is the one compressed (gzhttp) would choose for a body of the same size.
func FuzzNegotiatedCoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "zstd", "gzip, deflate, br, zstd", "zstd;q=0.5, gzip", "gzip;q=0",
		"br", "GZIP;Q=0.9, zstd;q=0.9", "identity", "gzip;q=NaN", "zstd;q=1e999, gzip", "gzip;q=-1,zstd;q=x",
		" , gzip ;q=0.2;x=y, ", "zſtd", "*"} {
		f.Add(s, false)
	}
	body := []byte(strings.Repeat("x", 2*CompressMinSize))
	h := compressed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	f.Fuzz(func(t *testing.T, accept string, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		r := httptest.NewRequest(method, "/", nil)
		r.Header["Accept-Encoding"] = []string{accept}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got, want := negotiatedCoding(r), rec.Header().Get("Content-Encoding"); got != want {
			t.Fatalf("negotiatedCoding(%s, %q) = %q, gzhttp chose %q", method, accept, got, want)
		}
	})
}
