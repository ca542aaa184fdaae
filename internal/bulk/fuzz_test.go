package bulk_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// fuzzRead reads r to its end checking the reader's promises: it ends, every problem names a
// line within the file, and it allocates at most a bounded multiple of the input (plus the
// fixed buffers), whatever the input.
func fuzzRead(t *testing.T, data []byte, r bulk.Reader) {
	lines := bytes.Count(data, []byte("\n")) + 1
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; ; i++ {
		if i > len(data)+2 {
			t.Fatalf("reader returned more records than the file has bytes")
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *bulk.RecordError
		if errors.As(err, &re) {
			if len(re.Problems) == 0 {
				t.Fatalf("RecordError without problems at line %d", re.Line)
			}
			for _, p := range re.Problems {
				if p.Line < 1 || p.Line > lines || p.Rule == "" {
					t.Fatalf("problem %+v outside the file's %d lines or without a rule", p, lines)
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next() = %v on an in-memory file", err)
		}
		if rec.Line < 1 || rec.Line > lines {
			t.Fatalf("record at line %d of %d", rec.Line, lines)
		}
		if err := rec.Product.Validate(); err != nil {
			t.Fatalf("a record returned without error is invalid: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(200*len(data))+4<<20 {
		t.Fatalf("reading %d bytes allocated %d", len(data), alloc)
	}
}

func FuzzJSONLReader(f *testing.F) {
	f.Add([]byte(`{"name":"A","category":"misc","status":"active","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":100}]}]}` + "\n"))
	f.Add([]byte(`{"name":"A","options":[{"name":"Size","values":["S"]}],"variants":[{"sku":"A-1","options":{"Size":"S"}}]}` + "\n\n{}"))
	f.Add([]byte("{\"name\":\"\xff\"}\r\n[1,2]\nnull\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, bulk.NewJSONLReader(bytes.NewReader(data)))
		readerRoundTrip(t, bulk.NewJSONLReader(bytes.NewReader(data)))
	})
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(SampleCSV))
	f.Add([]byte("handle,sku,price.USD\na,A-1,1\n\"a\",\"A-2\n\",2\n"))
	f.Add([]byte("\ufeffhandle,sku,attr.n,option_values.Size,option.Size\nx,X-1,1.5,S|M,S\n"))
	types := bulk.TypesOf([]catalog.AttributeDefinition{{Key: "n", Type: catalog.AttrNumber}, {Key: "b", Type: catalog.AttrBoolean}})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, bulk.NewCSVReader(bytes.NewReader(data), types))
		readerRoundTrip(t, bulk.NewCSVReader(bytes.NewReader(data), types))
	})
}
