package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzValidateStockLines: whatever the lines, validation names only lines that exist, names
// every line that is bad on its own or repeats an earlier SKU (in any case), and accepts a
// batch only when no line is bad.
func FuzzValidateStockLines(f *testing.F) {
	f.Add("MUG-1,5,received;mug-1,1,received;X,0,gift", 3)
	f.Add("A1B,1,lost", 1)
	f.Fuzz(func(t *testing.T, spec string, repeat int) {
		var lines []StockLine
		for _, part := range strings.Split(spec, ";") {
			fs := strings.SplitN(part, ",", 3)
			for len(fs) < 3 {
				fs = append(fs, "")
			}
			var delta int64
			fmt.Sscan(fs[1], &delta)
			lines = append(lines, StockLine{SKU: fs[0], Adjustment: Adjustment{Delta: delta, Reason: fs[2]}})
		}
		for range min(max(repeat, 0), 3) {
			lines = append(lines, lines...)
		}
		err := ValidateStockLines(lines)
		if len(lines) > MaxBatchLines {
			if err == nil {
				t.Fatalf("%d lines accepted", len(lines))
			}
			return
		}
		named := map[int]bool{}
		if e, ok := err.(*Error); ok {
			for _, fe := range e.Fields {
				i := lineOf(fe.Field)
				if i < 0 || i >= len(lines) {
					t.Fatalf("field %q names no line of %d", fe.Field, len(lines))
				}
				named[i] = true
			}
		} else if err != nil {
			t.Fatalf("ValidateStockLines = %v, want an *Error", err)
		}
		seen := map[string]bool{}
		for i, l := range lines {
			bad := l.Adjustment.Validate() != nil || !ValidSKU(l.SKU) || seen[strings.ToLower(l.SKU)]
			if ValidSKU(l.SKU) {
				seen[strings.ToLower(l.SKU)] = true
			}
			if bad != named[i] {
				t.Fatalf("line %d %+v: bad %v, named %v (err %v)", i, l, bad, named[i], err)
			}
		}
	})
}

func TestBatchInvalidOrdersByLine(t *testing.T) {
	err := BatchInvalid([]FieldError{{Field: "lines[10].sku"}, {Field: "lines[2].valid_from"}, {Field: "lines[2].amount"}})
	var got []string
	for _, f := range err.(*Error).Fields {
		got = append(got, f.Field)
	}
	if want := []string{"lines[2].valid_from", "lines[2].amount", "lines[10].sku"}; !slices.Equal(got, want) {
		t.Errorf("BatchInvalid fields = %v, want %v", got, want)
	}
	if n := lineOf("lines[x].sku"); n != -1 {
		t.Errorf("lineOf(lines[x].sku) = %d, want -1", n)
	}
	// Prices repeat by SKU and currency, not SKU alone.
	now := time.Now()
	ok := []PriceLine{{SKU: "MUG-1", PriceChange: PriceChange{Currency: "USD", Amount: 1}}, {SKU: "mug-1", PriceChange: PriceChange{Currency: "EUR", Amount: 1}}}
	if err := ValidatePriceLines(ok, now); err != nil {
		t.Errorf("one SKU in two currencies refused: %v", err)
	}
	ok[1].Currency = "USD"
	if err := ValidatePriceLines(ok, now); err == nil || err.(*Error).Fields[0].Field != "lines[1].sku" {
		t.Errorf("one SKU twice in USD: %v, want lines[1].sku named", err)
	}
}
