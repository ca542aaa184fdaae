package bulk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/seed"
)

// readAll reads every record, collecting products and problems.
func readAll(t testing.TB, r bulk.Reader) ([]bulk.Record, []bulk.LineError) {
	t.Helper()
	var recs []bulk.Record
	var probs []bulk.LineError
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatal("reader does not end")
		}
		rec, err := r.Next()
		if err == io.EOF {
			return recs, probs
		}
		var re *bulk.RecordError
		if errors.As(err, &re) {
			probs = append(probs, re.Problems...)
			continue
		}
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		recs = append(recs, rec)
	}
}

// SampleCSV is the README's sample: a T-shirt in two sizes and two colours (three rows), a
// simple mug, product columns blank on continuation rows.
const SampleCSV = `handle,name,category,brand,status,option.Size,option.Colour,attr.material,sku,initial_stock,price.USD,price.EUR,compare_at.USD
tee,Organic tee,apparel,Acme,active,S,Black,organic cotton,TEE-S-BLK,10,1999,1899,2499
tee,,,,,M,Black,,TEE-M-BLK,5,1999,1899,
tee,,,,,M,White,,TEE-M-WHT,0,2199,,
mug,Stoneware mug,home,,draft,,,,MUG-1,40,1299,,
`

func TestCSVSample(t *testing.T) {
	recs, probs := readAll(t, bulk.NewCSVReader(strings.NewReader(SampleCSV), nil))
	if len(probs) != 0 {
		t.Fatalf("problems = %v", probs)
	}
	if len(recs) != 2 || recs[0].Line != 2 || recs[1].Line != 5 {
		t.Fatalf("records = %+v", recs)
	}
	compare := int64(2499)
	want := catalog.ProductInput{Name: "Organic tee", Category: "apparel", Brand: "Acme", Status: catalog.StatusActive,
		Attributes: catalog.Attributes{"material": "organic cotton"},
		Options:    []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Colour", Values: []string{"Black", "White"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEE-S-BLK", Options: map[string]string{"Size": "S", "Colour": "Black"}, InitialStock: 10,
				Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1899}, {Currency: "USD", Amount: 1999, CompareAt: &compare}}},
			{SKU: "TEE-M-BLK", Options: map[string]string{"Size": "M", "Colour": "Black"}, InitialStock: 5,
				Prices: []catalog.PriceInput{{Currency: "EUR", Amount: 1899}, {Currency: "USD", Amount: 1999}}},
			{SKU: "TEE-M-WHT", Options: map[string]string{"Size": "M", "Colour": "White"},
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: 2199}}},
		}}
	want.Normalize()
	if g, w := jsonOf(t, recs[0].Product), jsonOf(t, want); g != w {
		t.Errorf("tee =\n%s\nwant\n%s", g, w)
	}
	if got := recs[1].Product; got.Name != "Stoneware mug" || len(got.Variants) != 1 || got.Variants[0].SKU != "MUG-1" || len(got.Options) != 0 {
		t.Errorf("mug = %+v", got)
	}
}

func TestCSVLineErrors(t *testing.T) {
	types := bulk.TypesOf([]catalog.AttributeDefinition{{Key: "warranty_years", Type: catalog.AttrNumber}, {Key: "waterproof", Type: catalog.AttrBoolean}})
	for _, tc := range []struct {
		name, csv string
		want      []bulk.LineError
		products  int
	}{
		{"continuation differs", "handle,name,category,status,sku,price.USD\na,A,misc,active,A-1,100\na,B,misc,active,A-2,100\nb,B,misc,active,B-1,100\n",
			[]bulk.LineError{{Line: 3, Field: "name", Rule: "differs from the product's first row"}}, 1},
		{"bad amount on its row", "handle,name,category,status,sku,price.USD\na,A,misc,active,A-1,100\na,,,,A-2,ten\n",
			[]bulk.LineError{{Line: 3, Field: "price.USD", Rule: "must be a whole number (minor units for prices)"}}, 0},
		{"negative amount named by currency", "handle,name,category,status,sku,price.USD\nb,B,misc,active,B-1,100\na,A,misc,active,A-1,-5\n",
			[]bulk.LineError{{Line: 3, Field: "price.USD"}}, 1},
		{"typed attribute", "handle,name,category,status,sku,price.USD,attr.warranty_years,attr.waterproof\na,A,misc,active,A-1,100,two,yes\n",
			[]bulk.LineError{{Line: 2, Field: "attr.warranty_years", Rule: "must be a number"}, {Line: 2, Field: "attr.waterproof", Rule: "must be true or false"}}, 0},
		{"short row", "handle,name,category,status,sku,price.USD\na,A,misc,active\nb,B,misc,active,B-1,100\n",
			[]bulk.LineError{{Line: 2, Rule: "has 4 cells, the header 6"}}, 1},
		{"missing handle", "handle,name,category,status,sku,price.USD\n,A,misc,active,A-1,100\n",
			[]bulk.LineError{{Line: 2, Field: "handle", Rule: "is required: it groups a product's rows"}}, 0},
		{"unknown column", "handle,name,colour,sku\n",
			[]bulk.LineError{{Line: 1, Field: "colour"}}, 0},
		{"required columns", "name,category\n",
			[]bulk.LineError{{Line: 1, Field: "handle", Rule: "is a required column"}, {Line: 1, Field: "sku", Rule: "is a required column"}}, 0},
		{"bad price currency", "handle,sku,price.usd\n", []bulk.LineError{{Line: 1, Field: "price.usd"}}, 0},
		{"compare_at without price", "handle,name,category,status,sku,price.USD,compare_at.EUR\na,A,misc,active,A-1,100,200\n",
			[]bulk.LineError{{Line: 2, Field: "compare_at.EUR", Rule: "needs a price in EUR (price.EUR)"}}, 0},
		{"quoted newline keeps line numbers", "handle,name,description,category,status,sku,price.USD\na,A,\"two\nlines\",misc,active,A-1,100\nb,B,,misc,active,B-1,x\n",
			[]bulk.LineError{{Line: 4, Field: "price.USD", Rule: "must be a whole number (minor units for prices)"}}, 1},
		{"empty file", "", []bulk.LineError{{Line: 1, Rule: "the file is empty: a CSV import starts with a header row"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, probs := readAll(t, bulk.NewCSVReader(strings.NewReader(tc.csv), types))
			if len(recs) != tc.products {
				t.Errorf("%d products, want %d", len(recs), tc.products)
			}
			if len(probs) < len(tc.want) {
				t.Fatalf("problems = %+v, want %+v", probs, tc.want)
			}
			for i, w := range tc.want {
				g := probs[i]
				if g.Line != w.Line || g.Field != w.Field || (w.Rule != "" && g.Rule != w.Rule) {
					t.Errorf("problem %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestJSONLLineErrors(t *testing.T) {
	good := `{"name":"A","category":"misc","status":"active","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":100}]}]}`
	in := strings.Join([]string{
		good,
		``,
		`{"name":"B","category":"misc","status":"active","variants":[{"sku":"B-1","prices":[{"currency":"USD","amount":-1}]}]}`,
		`{"name":"C","colour":"red"}`,
		`{"name":`,
		`{"name":"D","category":"misc","status":"active","variants":[{"sku":"D-1","prices":[{"currency":"USD","amount":"1"}]}]}`,
		strings.Replace(good, "A-1", "E-1", 1),
	}, "\n")
	recs, probs := readAll(t, bulk.NewJSONLReader(strings.NewReader(in)))
	if len(recs) != 2 || recs[0].Line != 1 || recs[1].Line != 7 || recs[1].Product.Variants[0].SKU != "E-1" {
		t.Fatalf("records = %+v", recs)
	}
	want := []bulk.LineError{{Line: 3, Field: "variants[0].prices[0].amount"}, {Line: 4, Field: "colour"},
		{Line: 5, Field: "name"}, {Line: 6, Field: "variants[0].prices[0].amount"}}
	if len(probs) != len(want) {
		t.Fatalf("problems = %+v", probs)
	}
	for i, w := range want {
		if probs[i].Line != w.Line || probs[i].Field != w.Field || probs[i].Rule == "" {
			t.Errorf("problem %d = %+v, want line %d field %q", i, probs[i], w.Line, w.Field)
		}
	}
}

// TestJSONLExportLines: the lines of an export (GET /exports) read as an import: the cursor and
// end lines are skipped, a product as read becomes its input (stock on hand its initial stock,
// IDs and times ignored), a mistake in such a line names its own field, and the error line of a
// cut-off export is refused.
func TestJSONLExportLines(t *testing.T) {
	read := `{"id":"01a2","name":"A","description":"","category":"misc","brand":"","attributes":{},"media":[],"options":[],"status":"active",` +
		`"variants":[{"id":"01a3","product_id":"01a2","sku":"A-1","options":{},"position":0,"attributes":{},` +
		`"prices":[{"currency":"USD","amount":100,"prior_price":120}],"stock":{"on_hand":7,"reserved":2,"available":5},` +
		`"created_at":"2026-12-01T10:00:00Z","updated_at":"2026-12-01T10:00:00Z"}],` +
		`"variant_count":1,"price_ranges":[{"currency":"USD","min":100,"max":100}],"availability":{"in_stock":true,"available":5},` +
		`"version":3,"created_at":"2026-12-01T10:00:00Z","updated_at":"2026-12-01T10:00:00Z"}`
	in := strings.Join([]string{
		`{"cursor":41}`,
		read,
		strings.Replace(read, `"sku":"A-1"`, `"sku":"A-2","colour":"red"`, 1),
		`{"name":"C","colour":"red"}`,
		`{"error":{"code":"internal","message":"the export stopped"}}`,
		`{"end":true,"count":2,"cursor":41}`,
	}, "\n")
	recs, probs := readAll(t, bulk.NewJSONLReader(strings.NewReader(in)))
	if len(recs) != 1 || recs[0].Line != 2 {
		t.Fatalf("records = %+v, want line 2 (problems %+v)", recs, probs)
	}
	v := recs[0].Product.Variants[0]
	if p := recs[0].Product; p.Name != "A" || v.SKU != "A-1" || v.InitialStock != 7 || len(v.Prices) != 1 || v.Prices[0].Amount != 100 {
		t.Errorf("product from an exported line = %+v", p)
	}
	want := []bulk.LineError{{Line: 3, Field: "variants[0].colour"}, {Line: 4, Field: "colour"}, {Line: 5}}
	if len(probs) != len(want) {
		t.Fatalf("problems = %+v, want lines 3, 4, 5", probs)
	}
	for i, w := range want {
		if probs[i].Line != w.Line || probs[i].Field != w.Field || probs[i].Rule == "" {
			t.Errorf("problem %d = %+v, want line %d field %q", i, probs[i], w.Line, w.Field)
		}
	}
	if !strings.Contains(probs[2].Rule, "export") {
		t.Errorf("cut-off export's line: rule %q", probs[2].Rule)
	}
}

// endless yields n bytes of b, then more, without holding them: a file bigger than memory.
type endless struct {
	n    int64
	b    byte
	tail string
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		if e.tail == "" {
			return 0, io.EOF
		}
		n := copy(p, e.tail)
		e.tail = e.tail[n:]
		return n, nil
	}
	k := int(min(int64(len(p)), e.n))
	for i := range k {
		p[i] = e.b
	}
	e.n -= int64(k)
	return k, nil
}

// TestLongLinesAreNotKept: a 64 MiB line (JSONL) or row (CSV) is an error for that line, read
// past without being kept; the line after it is read.
func TestLongLinesAreNotKept(t *testing.T) {
	good := `{"name":"A","category":"misc","status":"active","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":100}]}]}`
	for _, tc := range []struct {
		name string
		r    func() bulk.Reader
	}{
		{"jsonl", func() bulk.Reader {
			return bulk.NewJSONLReader(&endless{n: 64 << 20, b: ' ', tail: "x\n" + good + "\n"})
		}},
		{"csv", func() bulk.Reader {
			return bulk.NewCSVReader(io.MultiReader(strings.NewReader("handle,name,category,status,sku,price.USD\n"),
				&endless{n: 64 << 20, b: 'a', tail: "\nb,B,misc,active,B-1,100\n"}), nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			recs, probs := readAll(t, tc.r())
			runtime.ReadMemStats(&after)
			if len(recs) != 1 || len(probs) != 1 || !strings.Contains(probs[0].Rule, "longer than") {
				t.Fatalf("records %d, problems %+v", len(recs), probs)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("reading a 64 MiB line allocated %d bytes, want under 8 MiB", alloc)
			}
		})
	}
}

// TestRoundTrip: synthetic products written in either layout read back as they were (the
// property the export's files rely on to be importable).
func TestRoundTrip(t *testing.T) {
	var ps []catalog.ProductInput
	var cols bulk.CSVColumns
	for i := range 300 {
		p := seed.SyntheticProduct(i, 7).ProductInput
		p.Normalize()
		ps = append(ps, p)
		cols.Add(p)
	}
	defs := []catalog.AttributeDefinition{}
	for _, d := range seed.SyntheticAttributes() {
		defs = append(defs, catalog.AttributeDefinition{Key: d.Key, Type: d.Type})
	}
	var csvBuf, jsonBuf bytes.Buffer
	cw := bulk.NewCSVWriter(&csvBuf, cols)
	for i, p := range ps {
		if err := cw.Write(fmt.Sprintf("p%d", i), p); err != nil {
			t.Fatal(err)
		}
		if err := bulk.WriteJSONL(&jsonBuf, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]bulk.Reader{
		"csv":   bulk.NewCSVReader(&csvBuf, bulk.TypesOf(defs)),
		"jsonl": bulk.NewJSONLReader(&jsonBuf),
	} {
		recs, probs := readAll(t, r)
		if len(probs) > 0 {
			t.Fatalf("%s: problems %v", name, probs[:min(3, len(probs))])
		}
		if len(recs) != len(ps) {
			t.Fatalf("%s: %d products, want %d", name, len(recs), len(ps))
		}
		for i := range ps {
			if g, w := jsonOf(t, recs[i].Product), jsonOf(t, ps[i]); g != w {
				t.Fatalf("%s: product %d read\n%s\nwrote\n%s", name, i, g, w)
			}
		}
	}
}

// jsonOf is p's JSON, the form the API compares products in (empty and absent lists alike).
func jsonOf(t testing.TB, p catalog.ProductInput) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
