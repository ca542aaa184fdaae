package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// BenchmarkEncodeProduct compares the hand-written encoder with the two libraries it could be
// instead (ADR 0024): encoding/json as writeJSON used it, and the encoding/json/v2
// implementation under v1 semantics (what the store decodes jsonb with) with HTML escaping off.
// The same random products for each; go test -run '^$' -bench EncodeProduct ./internal/httpapi
func BenchmarkEncodeProduct(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	products := make([]any, 64)
	for i := range products {
		p := randomProduct(r)
		products[i] = &p
	}
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8192)
		for i := 0; b.Loop(); i++ {
			var err error
			if buf, _, err = appendBody(buf[:0], products[i%len(products)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for i := 0; b.Loop(); i++ {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(products[i%len(products)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-v2-v1-options", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		opts := jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsontext.EscapeForHTML(false))
		for i := 0; b.Loop(); i++ {
			buf.Reset()
			if err := jsonv2.MarshalWrite(&buf, products[i%len(products)], opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
