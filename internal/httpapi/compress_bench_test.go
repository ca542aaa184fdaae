package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// BenchmarkCompressProduct weighs the gzip level of a product's answer: CPU per body against
// bytes per body (out-B/op), for the levels gzhttp could be given and zstd's fastest (what a
// client offering zstd gets). 64 products of 4 variants with prose descriptions, encoded as
// the service sends them; one pooled writer per level, Reset per body, as gzhttp does.
// go test -run '^$' -bench CompressProduct ./internal/httpapi (ADR 0024, 2026-12-02).
func BenchmarkCompressProduct(b *testing.B) {
	bodies := make([][]byte, 64)
	in := 0
	for i := range bodies {
		p := sampleProduct(i+1, 4)
		body, _, err := appendBody(nil, &p)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = body
		in += len(body)
	}
	for _, level := range []int{gzip.HuffmanOnly, 1, 2, 3, 4, 5, 6, 9} {
		b.Run(fmt.Sprintf("gzip-%d", level), func(b *testing.B) {
			zw, err := gzip.NewWriterLevel(nil, level)
			if err != nil {
				b.Fatal(err)
			}
			compressEach(b, zw, bodies, in)
		})
	}
	b.Run("zstd-fastest", func(b *testing.B) {
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			b.Fatal(err)
		}
		compressEach(b, zw, bodies, in)
	})
}

// compressEach compresses the bodies in turn through one writer reset per body, as gzhttp's
// pooled writers are, and reports the bytes out and in per body.
func compressEach(b *testing.B, zw interface {
	io.WriteCloser
	Reset(io.Writer)
}, bodies [][]byte, in int) {
	var out bytes.Buffer
	var n int
	for i := 0; b.Loop(); i++ {
		out.Reset()
		zw.Reset(&out)
		zw.Write(bodies[i%len(bodies)])
		zw.Close()
		n += out.Len()
	}
	b.ReportMetric(float64(n)/float64(b.N), "out-B/op")
	b.ReportMetric(float64(in)/float64(len(bodies)), "in-B/op")
}
