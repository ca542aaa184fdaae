package catalog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// fieldsOf lists the fields an invalid-input error names, in order; "" for nil.
func fieldsOf(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, ",")
}

func sizeColour() []Option {
	return []Option{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Colour", Values: []string{"Red", "Blue"}}}
}

func variant(sku string, kv ...string) VariantInput {
	v := VariantInput{SKU: sku, Options: map[string]string{}, Prices: []PriceInput{{Currency: "EUR", Amount: 500}}}
	for i := 0; i < len(kv); i += 2 {
		v.Options[kv[i]] = kv[i+1]
	}
	return v
}

func TestProductValidateVariantRules(t *testing.T) {
	manyVariants := func(n int) []VariantInput {
		out := make([]VariantInput, n)
		for i := range out {
			out[i] = variant(fmt.Sprintf("V-%05d", i), "N", fmt.Sprint(i%100), "K", fmt.Sprint(i/100))
		}
		return out
	}
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprint(i)
	}
	tests := []struct {
		name    string
		options []Option
		vs      []VariantInput
		fields  string // every field named, in order; "" means valid
	}{
		{"two options, four variants", sizeColour(), []VariantInput{
			variant("T-S-R", "Size", "S", "Colour", "Red"), variant("T-S-B", "Size", "S", "Colour", "Blue"),
			variant("T-M-R", "Size", "M", "Colour", "Red"), variant("T-M-B", "Size", "M", "Colour", "Blue")}, ""},
		{"not every combination needs a variant", sizeColour(), []VariantInput{variant("T-S-R", "Size", "S", "Colour", "Red")}, ""},
		{"no options, one variant", nil, []VariantInput{variant("ONE")}, ""},
		{"no options and two variants", nil, []VariantInput{variant("ONE"), variant("TWO")}, "variants"},
		{"no variants", sizeColour(), nil, "variants"},
		{"duplicate SKU", sizeColour(), []VariantInput{
			variant("T-1", "Size", "S", "Colour", "Red"), variant("T-1", "Size", "M", "Colour", "Red")}, "variants[1].sku"},
		{"duplicate SKU in another case", sizeColour(), []VariantInput{
			variant("T-1", "Size", "S", "Colour", "Red"), variant("T-2", "Size", "S", "Colour", "Blue"), variant("t-1", "Size", "M", "Colour", "Red")}, "variants[2].sku"},
		{"duplicate combination", sizeColour(), []VariantInput{
			variant("T-1", "Size", "S", "Colour", "Red"), variant("T-2", "Size", "M", "Colour", "Red"), variant("T-3", "Size", "S", "Colour", "Red")}, "variants[2].options"},
		{"missing option value", sizeColour(), []VariantInput{variant("T-1", "Size", "S")}, "variants[0].options.Colour"},
		{"unknown option value", sizeColour(), []VariantInput{variant("T-1", "Size", "XL", "Colour", "Red")}, "variants[0].options.Size"},
		{"option value in another case", sizeColour(), []VariantInput{variant("T-1", "Size", "s", "Colour", "Red")}, "variants[0].options.Size"},
		{"unknown option", sizeColour(), []VariantInput{variant("T-1", "Size", "S", "Colour", "Red", "Fit", "Slim")}, "variants[0].options.Fit"},
		{"option values without options", nil, []VariantInput{variant("T-1", "Size", "S")}, "variants[0].options"},
		{"2,048 variants", []Option{{Name: "N", Values: hundred}, {Name: "K", Values: hundred[:21]}}, manyVariants(MaxVariants), ""},
		{"2,049 variants", []Option{{Name: "N", Values: hundred}, {Name: "K", Values: hundred[:21]}}, manyVariants(MaxVariants + 1), "variants"},
		{"4 options", []Option{{Name: "A", Values: []string{"1"}}, {Name: "B", Values: []string{"1"}}, {Name: "C", Values: []string{"1"}}, {Name: "D", Values: []string{"1"}}},
			[]VariantInput{variant("T-1", "A", "1", "B", "1", "C", "1", "D", "1")}, "options"},
		{"3 options", []Option{{Name: "A", Values: []string{"1"}}, {Name: "B", Values: []string{"1"}}, {Name: "C", Values: []string{"1"}}},
			[]VariantInput{variant("T-1", "A", "1", "B", "1", "C", "1")}, ""},
		{"duplicate option name", []Option{{Name: "Size", Values: []string{"S"}}, {Name: "size", Values: []string{"M"}}},
			[]VariantInput{variant("T-1", "Size", "S", "size", "M")}, "options[1].name"},
		{"duplicate option value", []Option{{Name: "Size", Values: []string{"S", "M", "S"}}}, []VariantInput{variant("T-1", "Size", "S")}, "options[0].values[2]"},
		{"option without values", []Option{{Name: "Size"}}, []VariantInput{variant("T-1", "Size", "S")}, "options[0].values,variants[0].options.Size"},
		{"option without a name", []Option{{Values: []string{"S"}}}, []VariantInput{variant("T-1", "", "S")}, "options[0].name"},
		{"101 option values", []Option{{Name: "N", Values: append(slices.Clone(hundred), "100")}}, []VariantInput{variant("T-1", "N", "1")}, "options[0].values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ProductInput{Name: "Tee", Category: "apparel", Status: StatusActive, Options: tc.options, Variants: tc.vs}
			in.Normalize()
			if got := fieldsOf(in.Validate()); got != tc.fields {
				t.Fatalf("Validate() names %q, want %q (%v)", got, tc.fields, in.Validate())
			}
		})
	}
}

func TestProductValidateReplaceRefusesVariants(t *testing.T) {
	in := validInput()
	if got := fieldsOf(in.ValidateReplace()); got != "variants" {
		t.Fatalf("ValidateReplace with variants names %q, want variants", got)
	}
	in.Variants = nil
	if err := in.ValidateReplace(); err != nil {
		t.Fatalf("ValidateReplace without variants = %v", err)
	}
}

// gtin appends the check digit to body, computed here independently of GTINProblem: weights
// 3 and 1 alternate from the digit next to the check digit.
func gtin(body string) string {
	sum := 0
	for i := range len(body) {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return body + fmt.Sprint((10-sum%10)%10)
}

func TestGTINProblem(t *testing.T) {
	for _, s := range []string{
		"4006381333931", "5901234123457", "9780306406157", // EAN-13 (the last an ISBN-13)
		"036000291452", "012345678905", // UPC-A
		"96385074", "73513537", // EAN-8
		"10012345678902", "00012345600012", "40700719670720", // GTIN-14
	} {
		if why := GTINProblem(s); why != "" {
			t.Errorf("GTINProblem(%q) = %q, want a valid GTIN", s, why)
		}
	}
	for s, want := range map[string]string{
		"4006381333932":   "wrong check digit (expected 1)",
		"036000291453":    "wrong check digit (expected 2)",
		"96385075":        "wrong check digit (expected 4)",
		"50012345678906":  "wrong check digit (expected 0)",
		"40063813339":     "8, 12, 13 or 14 digits",
		"400638133393100": "8, 12, 13 or 14 digits",
		"":                "8, 12, 13 or 14 digits",
		"400638133393A":   "digits only",
		"4006381 33931":   "digits only",
		"٤٠٠٦٣٨١٣":        "8, 12, 13 or 14 digits", // Arabic-Indic digits: 16 bytes
	} {
		if why := GTINProblem(s); !strings.Contains(why, want) {
			t.Errorf("GTINProblem(%q) = %q, want it to say %q", s, why, want)
		}
	}
}

// TestGTINProperty: any body of digits with its computed check digit passes; changing any one
// digit to any other fails (a weighted sum with weights 1 and 3 catches every single-digit
// error).
func TestGTINProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 13))
	for range 2000 {
		n := []int{8, 12, 13, 14}[rng.IntN(4)]
		b := make([]byte, n-1)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		s := gtin(string(b))
		if why := GTINProblem(s); why != "" {
			t.Fatalf("GTINProblem(%q) = %q, want valid", s, why)
		}
		pos := rng.IntN(n)
		d := byte('0' + (int(s[pos]-'0')+1+rng.IntN(9))%10)
		changed := s[:pos] + string(d) + s[pos+1:]
		if GTINProblem(changed) == "" {
			t.Fatalf("GTINProblem(%q) (from %q, digit %d changed) = valid", changed, s, pos)
		}
	}
}

func TestBarcodeOnVariant(t *testing.T) {
	in := validInput()
	in.Variants[0].Barcode = "036000291452"
	if err := in.Validate(); err != nil {
		t.Fatalf("a UPC-A barcode: %v", err)
	}
	in.Variants[0].Barcode = "036000291453"
	if got := fieldsOf(in.Validate()); got != "variants[0].barcode" {
		t.Fatalf("a bad barcode names %q", got)
	}
}

func day(n int) time.Time {
	return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * 24 * time.Hour)
}

func applied(id int64, amount int64, d int) PriceEntry {
	at := day(d)
	return PriceEntry{ID: id, Kind: PriceSet, Price: Money{Currency: "EUR", Amount: amount}, ValidFrom: at, AppliedAt: &at}
}

func TestPriorPrice(t *testing.T) {
	scheduled := PriceEntry{ID: 9, Price: Money{Currency: "EUR", Amount: 1}, ValidFrom: day(-5)} // never applied
	tests := []struct {
		name    string
		history []PriceEntry
		at      int // day of the new price
		amount  int64
		want    string
	}{
		{"a rise is no reduction", []PriceEntry{applied(1, 100, 0)}, 10, 120, "none"},
		{"the same price is no reduction", []PriceEntry{applied(1, 100, 0)}, 10, 100, "none"},
		{"a cut after one price", []PriceEntry{applied(1, 100, 0)}, 10, 80, "100"},
		{"a lower price 20 days ago counts", []PriceEntry{applied(1, 80, 0), applied(2, 100, 10)}, 30, 90, "80"},
		{"a price from 40 days ago lasting into the window counts", []PriceEntry{applied(1, 100, -40)}, 0, 50, "100"},
		{"a price that ended 35 days ago does not", []PriceEntry{applied(1, 60, -50), applied(2, 100, -35)}, 0, 90, "100"},
		{"a price that ended exactly 30 days ago does not", []PriceEntry{applied(1, 50, -40), applied(2, 100, -30)}, 0, 90, "100"},
		{"a price that ended 29 days ago does", []PriceEntry{applied(1, 50, -40), applied(2, 100, -29)}, 0, 90, "50"},
		{"progressive cuts: the second against its own 30 days", []PriceEntry{applied(1, 100, 0), applied(2, 80, 10), applied(3, 70, 20)}, 25, 60, "70"},
		{"progressive cuts: 100 still inside", []PriceEntry{applied(1, 100, 0), applied(2, 80, 10), applied(3, 70, 20)}, 29, 60, "70"},
		{"a higher price in between does not hide an earlier low", []PriceEntry{applied(1, 60, 0), applied(2, 120, 5)}, 20, 100, "60"},
		{"no earlier price", nil, 0, 50, "none"},
		{"only a later price", []PriceEntry{applied(1, 100, 5)}, 0, 50, "none"},
		{"a price applied at the same moment is not before", []PriceEntry{applied(1, 100, 0)}, 0, 50, "none"},
		{"scheduled lines never applied are ignored", []PriceEntry{applied(1, 100, -10), scheduled}, 0, 90, "100"},
		{"any order", []PriceEntry{applied(3, 70, 20), applied(1, 100, 0), applied(2, 80, 10)}, 25, 60, "70"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PriorPrice(tc.history, day(tc.at), tc.amount)
			gotS := "none"
			if got != nil {
				gotS = fmt.Sprint(*got)
			}
			if gotS != tc.want {
				t.Fatalf("PriorPrice(day %d, %d) = %s, want %s", tc.at, tc.amount, gotS, tc.want)
			}
		})
	}
	// Two lines applied at the same moment: the later ID is the one in effect.
	same := []PriceEntry{applied(2, 100, 0), applied(1, 40, 0)}
	if got := PriorPrice(same, day(10), 90); got == nil || *got != 40 {
		t.Fatalf("ties: PriorPrice = %v, want 40 (in effect for an instant still counts as lowest)", got)
	}
	if got := PriorPrice(same, day(10), 100); got != nil {
		t.Fatalf("ties: 100 is in effect (the later ID), so 100 is no reduction; got %d", *got)
	}
}

// TestPriorPriceProperty checks PriorPrice against a brute force on an hourly grid: every
// price applies on a distinct whole hour, so the price in effect at each hour of the 30 days
// is a plain lookup, and the lowest of those is the prior price of a cut.
func TestPriorPriceProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var hist []PriceEntry
		used := map[int]bool{}
		for i := range 1 + rng.IntN(8) {
			h := rng.IntN(80 * 24)
			if used[h] {
				continue
			}
			used[h] = true
			at := day(0).Add(time.Duration(h) * time.Hour)
			hist = append(hist, PriceEntry{ID: int64(i + 1), Price: Money{Amount: int64(10 + rng.IntN(100))}, AppliedAt: &at})
		}
		rng.Shuffle(len(hist), func(i, j int) { hist[i], hist[j] = hist[j], hist[i] })
		at := day(0).Add(time.Duration(rng.IntN(90*24)) * time.Hour)
		amount := int64(10 + rng.IntN(100))
		inEffect := func(ts time.Time) *PriceEntry {
			var cur *PriceEntry
			for i := range hist {
				if e := &hist[i]; !e.AppliedAt.After(ts) && (cur == nil || e.AppliedAt.After(*cur.AppliedAt)) {
					cur = e
				}
			}
			return cur
		}
		var want *int64
		if before := inEffect(at.Add(-time.Hour)); before != nil && amount < before.Price.Amount {
			for ts := at.Add(-PriorPriceWindow); ts.Before(at); ts = ts.Add(time.Hour) {
				if e := inEffect(ts); e != nil && (want == nil || e.Price.Amount < *want) {
					v := e.Price.Amount
					want = &v
				}
			}
		}
		got := PriorPrice(hist, at, amount)
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Fatalf("PriorPrice(%s, %v, %d) = %v, brute force %v", show(hist), at, amount, deref(got), deref(want))
		}
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func show(v any) string { return fmt.Sprintf("%+v", v) }

func TestReconcileOptions(t *testing.T) {
	v := func(id, sku string, kv ...string) Variant {
		x := Variant{ID: id, SKU: sku, Options: map[string]string{}}
		for i := 0; i < len(kv); i += 2 {
			x.Options[kv[i]] = kv[i+1]
		}
		return x
	}
	shirts := []Variant{v("1", "T-S-R", "Size", "S", "Colour", "Red"), v("2", "T-M-R", "Size", "M", "Colour", "Red")}
	tests := []struct {
		name     string
		next     []Option
		variants []Variant
		values   string // the changes, "id:Key=value,..." sorted by id
		errHas   string
	}{
		{"unchanged", sizeColour(), shirts, "", ""},
		{"values reordered and added", []Option{{Name: "Size", Values: []string{"M", "S", "L"}}, {Name: "Colour", Values: []string{"Blue", "Red"}}}, shirts, "", ""},
		{"a new option: every variant takes its first value", append(sizeColour(), Option{Name: "Fit", Values: []string{"Regular", "Slim"}}), shirts,
			"1:Colour=Red,Fit=Regular,Size=S 2:Colour=Red,Fit=Regular,Size=M", ""},
		{"a value in use removed", []Option{{Name: "Size", Values: []string{"S", "L"}}, {Name: "Colour", Values: []string{"Red"}}}, shirts, "", "T-M-R"},
		{"a value nobody uses removed", []Option{{Name: "Size", Values: []string{"S", "M"}}, {Name: "Colour", Values: []string{"Red"}}}, shirts, "", ""},
		{"an option removed, the rest distinct", []Option{{Name: "Size", Values: []string{"S", "M"}}}, shirts, "1:Size=S 2:Size=M", ""},
		{"an option removed, two variants collide", []Option{{Name: "Colour", Values: []string{"Red"}}}, shirts, "", "would both stand for Colour=Red"},
		{"every option removed with two variants", nil, shirts, "", "2 variants"},
		{"every option removed with one variant", nil, shirts[:1], "1:", ""},
		{"an option renamed is a removal and an addition", []Option{{Name: "Größe", Values: []string{"S", "M"}}, {Name: "Colour", Values: []string{"Red"}}}, shirts,
			"", "would both stand for Größe=S / Colour=Red"},
		{"options given to a product without them", []Option{{Name: "Size", Values: []string{"One size"}}}, []Variant{v("1", "ONE")}, "1:Size=One size", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := ReconcileOptions(tc.next, tc.variants)
			if tc.errHas != "" {
				if ErrorCode(err) != CodeInvalid || fieldsOf(err) != "options" || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("ReconcileOptions = %v, want invalid options naming %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReconcileOptions = %v", err)
			}
			var got []string
			for id, vals := range ch.Values {
				var kv []string
				for k, x := range vals {
					kv = append(kv, k+"="+x)
				}
				slices.Sort(kv)
				got = append(got, id+":"+strings.Join(kv, ","))
			}
			slices.Sort(got)
			if s := strings.Join(got, " "); s != tc.values {
				t.Fatalf("changes %q, want %q", s, tc.values)
			}
		})
	}
}

func TestPriceChangeValidate(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	tests := []struct {
		name   string
		c      PriceChange
		fields string
	}{
		{"immediate", PriceChange{Currency: "EUR", Amount: 100}, ""},
		{"scheduled", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(time.Hour)}, ""},
		{"a window from now", PriceChange{Currency: "EUR", Amount: 100, ValidUntil: at(time.Hour)}, ""},
		{"a scheduled window", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(time.Hour), ValidUntil: at(2 * time.Hour)}, ""},
		{"a window of exactly a minute", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(time.Hour), ValidUntil: at(time.Hour + time.Minute)}, ""},
		{"a window a second short of a minute", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(time.Hour), ValidUntil: at(time.Hour + 59*time.Second)}, "valid_until"},
		{"a window from now shorter than a minute", PriceChange{Currency: "EUR", Amount: 100, ValidUntil: at(30 * time.Second)}, "valid_until"},
		{"a window ending before it starts", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(2 * time.Hour), ValidUntil: at(time.Hour)}, "valid_until"},
		{"a window ending in the past", PriceChange{Currency: "EUR", Amount: 100, ValidUntil: at(-time.Hour)}, "valid_until"},
		{"30 seconds in the past: clock skew", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(-30 * time.Second)}, ""},
		{"in the past", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(-2 * time.Minute)}, "valid_from"},
		{"within a year", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(MaxPriceSchedule)}, ""},
		{"beyond a year", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(MaxPriceSchedule + time.Second)}, "valid_from"},
		{"a window ending beyond a year", PriceChange{Currency: "EUR", Amount: 100, ValidFrom: at(time.Hour), ValidUntil: at(MaxPriceSchedule + time.Second)}, "valid_until"},
		{"compare-at above", PriceChange{Currency: "EUR", Amount: 100, CompareAt: ptr[int64](101)}, ""},
		{"compare-at equal", PriceChange{Currency: "EUR", Amount: 100, CompareAt: ptr[int64](100)}, "compare_at"},
		{"compare-at too large", PriceChange{Currency: "EUR", Amount: 100, CompareAt: ptr[int64](MaxAmount + 1)}, "compare_at"},
		{"no currency", PriceChange{Amount: 100}, "currency"},
		{"unknown currency", PriceChange{Currency: "EURO", Amount: 100}, "currency"},
		{"negative", PriceChange{Currency: "EUR", Amount: -1}, "amount"},
		{"free", PriceChange{Currency: "EUR", Amount: 0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(tc.c.Validate(now)); got != tc.fields {
				t.Fatalf("Validate() names %q, want %q (%v)", got, tc.fields, tc.c.Validate(now))
			}
		})
	}
	// Scheduled and Until round to the stores' microseconds, so what is stored compares equal.
	from := now.Add(time.Hour + 1500*time.Nanosecond)
	c := PriceChange{ValidFrom: &from, ValidUntil: &from}
	if at, ok := c.Scheduled(now); !ok || at.Nanosecond()%1000 != 0 || !at.Equal(now.Add(time.Hour+time.Microsecond)) {
		t.Fatalf("Scheduled = %v, %v", at, ok)
	}
	if u := c.Until(); u == nil || !u.Equal(now.Add(time.Hour+time.Microsecond)) {
		t.Fatalf("Until = %v", u)
	}
	if at, ok := (PriceChange{ValidFrom: at(-time.Second)}).Scheduled(now); ok || !at.Equal(now) {
		t.Fatalf("a start in the past is now: %v %v", at, ok)
	}
}

func defs(ds ...AttributeDefinition) func(string) (AttributeDefinition, bool) {
	return func(k string) (AttributeDefinition, bool) {
		for _, d := range ds {
			if d.Key == k {
				return d, true
			}
		}
		return AttributeDefinition{}, false
	}
}

var (
	defScreen   = AttributeDefinition{Key: "screen_inches", Type: AttrNumber, Unit: "in", Filterable: true}
	defColour   = AttributeDefinition{Key: "colour", Type: AttrEnum, Values: []string{"red", "blue", "light blue"}, Filterable: true}
	defMaterial = AttributeDefinition{Key: "material", Type: AttrText, Filterable: true}
	defWaterpr  = AttributeDefinition{Key: "waterproof", Type: AttrBoolean, Filterable: true}
	defCare     = AttributeDefinition{Key: "care", Type: AttrText}
)

func f64(v float64) *float64 { return &v }

func TestParseAttributeFilter(t *testing.T) {
	tests := []struct {
		def    AttributeDefinition
		raw    string
		want   AttributeFilter // Key and Type filled in from def
		errHas string
	}{
		{defScreen, "13..15", AttributeFilter{Min: f64(13), Max: f64(15)}, ""},
		{defScreen, "13.3..15.6", AttributeFilter{Min: f64(13.3), Max: f64(15.6)}, ""},
		{defScreen, "13..", AttributeFilter{Min: f64(13)}, ""},
		{defScreen, "..15", AttributeFilter{Max: f64(15)}, ""},
		{defScreen, "14", AttributeFilter{Min: f64(14), Max: f64(14)}, ""},
		{defScreen, "-5..-1", AttributeFilter{Min: f64(-5), Max: f64(-1)}, ""},
		{defScreen, "15..15", AttributeFilter{Min: f64(15), Max: f64(15)}, ""},
		{defScreen, "15..13", AttributeFilter{}, "low end"},
		{defScreen, "..", AttributeFilter{}, "a number or a range"},
		{defScreen, "big", AttributeFilter{}, "a number or a range"},
		{defScreen, "13..big", AttributeFilter{}, "a number or a range"},
		{defScreen, "NaN", AttributeFilter{}, "a number or a range"},
		{defScreen, "Inf..", AttributeFilter{}, "a number or a range"},
		{defScreen, "1e400", AttributeFilter{}, "a number or a range"},
		{defScreen, "1..2..3", AttributeFilter{}, "a number or a range"},
		{defColour, "red", AttributeFilter{Values: []string{"red"}}, ""},
		{defColour, "red,light blue", AttributeFilter{Values: []string{"red", "light blue"}}, ""},
		{defColour, "red, blue", AttributeFilter{Values: []string{"red", "blue"}}, ""},
		{defColour, "purple", AttributeFilter{}, `"purple" is not a value of colour`},
		{defColour, "Red", AttributeFilter{}, `"Red" is not a value of colour`},
		{defColour, "red,", AttributeFilter{}, "empty value"},
		{defMaterial, "wool,cotton", AttributeFilter{Values: []string{"wool", "cotton"}}, ""},
		{defMaterial, strings.Repeat("x,", 50) + "x", AttributeFilter{}, "at most 50"},
		{defMaterial, "", AttributeFilter{}, "1-2000 bytes"},
		{defMaterial, "wo\x00ol", AttributeFilter{}, "NUL"},
		{defMaterial, "wo\x1bol", AttributeFilter{}, "control"},
		{defMaterial, strings.Repeat("x", 2001), AttributeFilter{}, "1-2000 bytes"},
		{defWaterpr, "true", AttributeFilter{Values: []string{"true"}}, ""},
		{defWaterpr, "false", AttributeFilter{Values: []string{"false"}}, ""},
		{defWaterpr, "yes", AttributeFilter{}, "true or false"},
		{defWaterpr, "TRUE", AttributeFilter{}, "true or false"},
		{defCare, "wipe", AttributeFilter{}, "not filterable"},
	}
	for _, tc := range tests {
		t.Run(tc.def.Key+"="+tc.raw, func(t *testing.T) {
			got, err := ParseAttributeFilter(tc.def, tc.raw)
			if tc.errHas != "" {
				if ErrorCode(err) != CodeInvalid || fieldsOf(err) != "attr."+tc.def.Key || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("ParseAttributeFilter = %v, want invalid attr.%s saying %q", err, tc.def.Key, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAttributeFilter = %v", err)
			}
			tc.want.Key, tc.want.Type = tc.def.Key, tc.def.Type
			if show(filterString(got)) != show(filterString(tc.want)) {
				t.Fatalf("ParseAttributeFilter = %s, want %s", filterString(got), filterString(tc.want))
			}
		})
	}
}

func filterString(f AttributeFilter) string {
	return fmt.Sprintf("%s:%s values=%q min=%v max=%v", f.Key, f.Type, f.Values, deref64(f.Min), deref64(f.Max))
}

func deref64(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestAttributeFilterMatches(t *testing.T) {
	parse := func(d AttributeDefinition, raw string) AttributeFilter {
		f, err := ParseAttributeFilter(d, raw)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		f     AttributeFilter
		value any
		want  bool
	}{
		{parse(defScreen, "13..15"), 13.0, true},
		{parse(defScreen, "13..15"), 15.0, true},
		{parse(defScreen, "13..15"), 15.01, false},
		{parse(defScreen, "13.."), 1e9, true},
		{parse(defScreen, "..15"), -1.0, true},
		{parse(defScreen, "13..15"), "14", false},
		{parse(defColour, "red,blue"), "blue", true},
		{parse(defColour, "red,blue"), "light blue", false},
		{parse(defColour, "red"), true, false},
		{parse(defWaterpr, "true"), true, true},
		{parse(defWaterpr, "true"), false, false},
		{parse(defWaterpr, "false"), false, true},
		{parse(defWaterpr, "true"), "true", false},
	}
	for _, tc := range tests {
		if got := tc.f.Matches(tc.value); got != tc.want {
			t.Errorf("%s.Matches(%#v) = %v, want %v", filterString(tc.f), tc.value, got, tc.want)
		}
	}
}

func TestValidateAttributes(t *testing.T) {
	known := defs(defScreen, defColour, defMaterial, defWaterpr, defCare)
	tests := []struct {
		name   string
		attrs  Attributes
		fields string
		has    string
	}{
		{"every type right", Attributes{"screen_inches": 13.3, "colour": "light blue", "material": "wool", "waterproof": false}, "", ""},
		{"none", Attributes{}, "", ""},
		{"undefined", Attributes{"flavour": "mint"}, "x.attributes.flavour", "not a defined attribute"},
		{"number as a string", Attributes{"screen_inches": "13"}, "x.attributes.screen_inches", "a number (a JSON number, unit in)"},
		{"text as a number", Attributes{"material": 1.0}, "x.attributes.material", "text"},
		{"text as a boolean", Attributes{"care": true}, "x.attributes.care", "text"},
		{"boolean as a string", Attributes{"waterproof": "true"}, "x.attributes.waterproof", "true or false"},
		{"enum value unknown", Attributes{"colour": "green"}, "x.attributes.colour", "one of red, blue, light blue"},
		{"enum value as a number", Attributes{"colour": 1.0}, "x.attributes.colour", "one of"},
		{"several, in key order", Attributes{"waterproof": 1.0, "colour": "x", "flavour": "y"}, "x.attributes.colour,x.attributes.flavour,x.attributes.waterproof", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateAttributes("x.attributes", tc.attrs, known)
			if got := fieldsOf(err); got != tc.fields {
				t.Fatalf("ValidateAttributes names %q, want %q (%v)", got, tc.fields, err)
			}
			if tc.has != "" && !strings.Contains(err.Error(), tc.has) {
				t.Fatalf("ValidateAttributes = %v, want it to say %q", err, tc.has)
			}
		})
	}
}

func TestAttributeDefinitionValidate(t *testing.T) {
	tests := []struct {
		in     AttributeDefinitionInput
		fields string
	}{
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrEnum, Values: []string{"red", "blue"}}, ""},
		{AttributeDefinitionInput{Key: "screen_inches", Name: "Screen", Type: AttrNumber, Unit: "in"}, ""},
		{AttributeDefinitionInput{Key: "Colour", Name: "Colour", Type: AttrText}, "key"},
		{AttributeDefinitionInput{Key: "1st", Name: "First", Type: AttrText}, "key"},
		{AttributeDefinitionInput{Key: strings.Repeat("a", 65), Name: "Long", Type: AttrText}, "key"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: "color"}, "type"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrEnum}, "values"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrEnum, Values: []string{"red", "red"}}, "values[1]"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrEnum, Values: []string{"red,blue"}}, "values[0]"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrText, Values: []string{"red"}}, "values"},
		{AttributeDefinitionInput{Key: "colour", Name: "Colour", Type: AttrText, Unit: "cm"}, "unit"},
		{AttributeDefinitionInput{Key: "colour", Type: AttrText}, "name"},
	}
	for _, tc := range tests {
		if got := fieldsOf(tc.in.Validate()); got != tc.fields {
			t.Errorf("%+v.Validate() names %q, want %q", tc.in, got, tc.fields)
		}
	}
}

func TestCanRedefine(t *testing.T) {
	cur := AttributeDefinition{Key: "colour", Type: AttrEnum, Values: []string{"red", "blue", "green"}}
	inUse := func(vals ...string) func(string) bool {
		return func(v string) bool { return v == "" && len(vals) > 0 || slices.Contains(vals, v) }
	}
	tests := []struct {
		name string
		next AttributeDefinitionInput
		used []string
		code Code
	}{
		{"add and reorder values", AttributeDefinitionInput{Key: "colour", Type: AttrEnum, Values: []string{"green", "red", "blue", "black"}}, []string{"red"}, ""},
		{"remove an unused value", AttributeDefinitionInput{Key: "colour", Type: AttrEnum, Values: []string{"red", "blue"}}, []string{"red", "blue"}, ""},
		{"remove a used value", AttributeDefinitionInput{Key: "colour", Type: AttrEnum, Values: []string{"red", "green"}}, []string{"blue"}, CodeConflict},
		{"change the type in use", AttributeDefinitionInput{Key: "colour", Type: AttrText}, []string{"red"}, CodeConflict},
		{"change the type unused", AttributeDefinitionInput{Key: "colour", Type: AttrText}, nil, ""},
		{"change the key", AttributeDefinitionInput{Key: "color", Type: AttrEnum, Values: cur.Values}, nil, CodeInvalid},
	}
	for _, tc := range tests {
		if got := ErrorCode(CanRedefine(cur, tc.next, inUse(tc.used...))); got != tc.code {
			t.Errorf("%s: CanRedefine = %q, want %q", tc.name, got, tc.code)
		}
	}
}

func TestVariantPatchApply(t *testing.T) {
	w := int64(300)
	cur := VariantInput{SKU: "T-S", Options: map[string]string{"Size": "S", "Colour": "Red"}, Barcode: "96385074", WeightGrams: &w,
		Attributes: Attributes{"material": "wool", "care": "hand wash"}, Image: "https://x.example/a.jpg", PurchaseLimit: 3,
		Prices: []PriceInput{{Currency: "EUR", Amount: 100}, {Currency: "USD", Amount: 120}}, InitialStock: 5}
	cur.Normalize()
	before := show(cur)
	tests := []struct {
		name  string
		patch VariantPatch
		check func(VariantInput) bool
	}{
		{"empty keeps everything but the initial stock", VariantPatch{}, func(o VariantInput) bool {
			return o.Same(cur) && o.InitialStock == 0
		}},
		{"SKU", VariantPatch{SKU: ptr(" T-S2 ")}, func(o VariantInput) bool { return o.SKU == "T-S2" }},
		{"options merge", VariantPatch{Options: map[string]string{"Size": "M"}}, func(o VariantInput) bool {
			return o.Options["Size"] == "M" && o.Options["Colour"] == "Red" && len(o.Options) == 2
		}},
		{"barcode removed", VariantPatch{Barcode: ptr("")}, func(o VariantInput) bool { return o.Barcode == "" }},
		{"weight removed", VariantPatch{WeightGrams: ptr[*int64](nil)}, func(o VariantInput) bool { return o.WeightGrams == nil }},
		{"weight set", VariantPatch{WeightGrams: ptr(ptr[int64](10))}, func(o VariantInput) bool { return *o.WeightGrams == 10 }},
		{"attributes merge", VariantPatch{Attributes: map[string]any{"material": "cotton", "fit": "slim"}, RemoveAttribute: map[string]bool{"care": true}},
			func(o VariantInput) bool {
				return o.Attributes.Equal(Attributes{"material": "cotton", "fit": "slim"})
			}},
		{"attributes cleared then set", VariantPatch{ClearAttributes: true, Attributes: map[string]any{"fit": "slim"}}, func(o VariantInput) bool {
			return o.Attributes.Equal(Attributes{"fit": "slim"})
		}},
		{"purchase limit lifted", VariantPatch{PurchaseLimit: ptr[int64](0)}, func(o VariantInput) bool { return o.PurchaseLimit == 0 }},
		{"prices replaced whole, sorted by currency", VariantPatch{Prices: &[]PriceInput{{Currency: "USD", Amount: 1}, {Currency: "CHF", Amount: 2}}},
			func(o VariantInput) bool {
				return len(o.Prices) == 2 && o.Prices[0].Currency == "CHF" && o.Prices[1].Currency == "USD"
			}},
		{"image", VariantPatch{Image: ptr("")}, func(o VariantInput) bool { return o.Image == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.patch.Apply(cur)
			if !tc.check(out) {
				t.Fatalf("Apply = %s", show(out))
			}
			if show(cur) != before {
				t.Fatalf("Apply modified its input:\n got %s\nwant %s", show(cur), before)
			}
		})
	}
}

func TestVariantPatchOutcome(t *testing.T) {
	p := Product{ID: NewID(), Version: 4, Options: sizeColour(), Media: []Media{{URL: "https://x.example/a.jpg"}}}
	cur := Variant{ID: NewID(), SKU: "T-S-R", Options: map[string]string{"Size": "S", "Colour": "Red"}, Image: "https://x.example/a.jpg",
		Prices: []Price{{Currency: "EUR", Amount: 100, PriorPrice: ptr[int64](120)}}}
	tests := []struct {
		name      string
		patch     VariantPatch
		ifVersion int64
		code      Code
		changed   bool
	}{
		{"nothing", VariantPatch{}, 0, "", false},
		{"the same values", VariantPatch{SKU: ptr("T-S-R"), Options: map[string]string{"Size": "S"}, Prices: &[]PriceInput{{Currency: "EUR", Amount: 100}}}, 4, "", false},
		{"a price", VariantPatch{Prices: &[]PriceInput{{Currency: "EUR", Amount: 90}}}, 4, "", true},
		{"a second currency", VariantPatch{Prices: &[]PriceInput{{Currency: "EUR", Amount: 100}, {Currency: "USD", Amount: 110}}}, 0, "", true},
		{"another combination", VariantPatch{Options: map[string]string{"Colour": "Blue"}}, 0, "", true},
		{"a stale version, even for nothing", VariantPatch{}, 3, CodePreconditionFailed, false},
		{"a value the product does not have", VariantPatch{Options: map[string]string{"Size": "XL"}}, 0, CodeInvalid, false},
		{"an image the product does not have", VariantPatch{Image: ptr("https://x.example/b.jpg")}, 0, CodeInvalid, false},
		{"no prices", VariantPatch{Prices: &[]PriceInput{}}, 0, CodeInvalid, false},
		{"a bad SKU", VariantPatch{SKU: ptr("x")}, 0, CodeInvalid, false},
		{"a bad barcode", VariantPatch{Barcode: ptr("12345678")}, 0, CodeInvalid, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, changed, err := VariantPatchOutcome(p, cur, tc.patch, tc.ifVersion)
			if ErrorCode(err) != tc.code || changed != tc.changed {
				t.Fatalf("VariantPatchOutcome = changed %v, %v; want changed %v, code %q", changed, err, tc.changed, tc.code)
			}
		})
	}
}

func TestPatchOutcomeOptions(t *testing.T) {
	p := Product{ID: NewID(), Version: 2, Name: "Tee", Category: "apparel", Status: StatusActive, Options: sizeColour()}
	same := sizeColour()
	if _, changed, err := PatchOutcome(p, ProductPatch{Options: &same}, 2); err != nil || changed {
		t.Fatalf("the same options: changed %v, %v", changed, err)
	}
	reordered := []Option{{Name: "Size", Values: []string{"M", "S"}}, {Name: "Colour", Values: []string{"Red", "Blue"}}}
	if _, changed, err := PatchOutcome(p, ProductPatch{Options: &reordered}, 2); err != nil || !changed {
		t.Fatalf("reordered values: changed %v, %v; want a change (display order is data)", changed, err)
	}
	four := append(sizeColour(), Option{Name: "A", Values: []string{"1"}}, Option{Name: "B", Values: []string{"1"}})
	if _, _, err := PatchOutcome(p, ProductPatch{Options: &four}, 0); fieldsOf(err) != "options" {
		t.Fatalf("4 options: %v", err)
	}
}

func TestPriceRangesOf(t *testing.T) {
	vs := []Variant{
		{Prices: []Price{{Currency: "USD", Amount: 1200}, {Currency: "EUR", Amount: 1100}}},
		{Prices: []Price{{Currency: "USD", Amount: 900}}},
		{Prices: []Price{{Currency: "USD", Amount: 1500}, {Currency: "JPY", Amount: 1800}, {Currency: "EUR", Amount: 1000}}},
		{},
	}
	want := []PriceRange{{Currency: "EUR", Min: 1000, Max: 1100}, {Currency: "JPY", Min: 1800, Max: 1800}, {Currency: "USD", Min: 900, Max: 1500}}
	if got := PriceRangesOf(vs); !slices.Equal(got, want) {
		t.Fatalf("PriceRangesOf = %+v, want %+v", got, want)
	}
	if got := PriceRangesOf(nil); got == nil || len(got) != 0 {
		t.Fatalf("PriceRangesOf(nil) = %#v, want an empty, non-nil slice (JSON [])", got)
	}
	p := Product{Variants: append(vs, Variant{Stock: NewStock(5, 7, 1)}, Variant{Stock: NewStock(4, 1, 1)})}
	p.Variants[0].Stock = NewStock(2, 0, 1)
	p.Summarize()
	if p.VariantCount != 6 || !slices.Equal(p.PriceRanges, want) || p.Availability != (Availability{InStock: true, Available: 2 + 3}) {
		t.Fatalf("Summarize: count %d ranges %+v availability %+v; an oversold variant (-2) must not cancel others' stock", p.VariantCount, p.PriceRanges, p.Availability)
	}
}

// TestReconcileOptionsProperty: on random option changes, ReconcileOptions either refuses, and
// then a variant really uses a removed value, two variants really collide, or every option of a
// product with several variants goes; or it accepts, and then every variant's new values (its
// change, or its values as they were) are valid for the new options and no two variants share
// a combination.
func TestReconcileOptionsProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"Size", "Colour", "Fit", "Material"}
	vals := []string{"a", "b", "c"}
	randomOptions := func() []Option {
		var out []Option
		for _, n := range names {
			if rng.IntN(2) == 0 || len(out) == MaxOptions {
				continue
			}
			o := Option{Name: n}
			for _, v := range vals {
				if rng.IntN(3) > 0 {
					o.Values = append(o.Values, v)
				}
			}
			if len(o.Values) == 0 {
				o.Values = []string{"a"}
			}
			out = append(out, o)
		}
		return out
	}
	for range 3000 {
		cur := randomOptions()
		// Variants: distinct combinations of cur (one, without options, when cur is empty).
		var variants []Variant
		seen := map[string]bool{}
		for i := range 1 + rng.IntN(6) {
			o := map[string]string{}
			for _, opt := range cur {
				o[opt.Name] = opt.Values[rng.IntN(len(opt.Values))]
			}
			if k := ComboKey(cur, o); !seen[k] && (len(cur) > 0 || i == 0) {
				seen[k] = true
				variants = append(variants, Variant{ID: fmt.Sprint(i), SKU: fmt.Sprintf("V-%d", i), Options: o})
			}
		}
		next := randomOptions()
		ch, err := ReconcileOptions(next, variants)
		// The oracle: what each variant becomes, and why it cannot.
		usedRemoved, collide := false, false
		combos := map[string]bool{}
		after := map[string]map[string]string{}
		for _, v := range variants {
			nv := map[string]string{}
			for _, o := range next {
				switch x, ok := v.Options[o.Name]; {
				case !ok:
					nv[o.Name] = o.Values[0]
				case !o.Has(x):
					usedRemoved = true
				default:
					nv[o.Name] = x
				}
			}
			k := ComboKey(next, nv)
			collide = collide || (combos[k] && len(next) > 0)
			combos[k] = true
			after[v.ID] = nv
		}
		allGone := len(next) == 0 && len(variants) > 1
		if want := usedRemoved || collide || allGone; (err != nil) != want {
			t.Fatalf("ReconcileOptions(%v -> %v, %d variants) = %v; oracle: used value removed %v, collision %v, all removed %v",
				cur, next, len(variants), err, usedRemoved, collide, allGone)
		}
		if err != nil {
			continue
		}
		got := map[string]bool{}
		for _, v := range variants {
			nv := v.Options
			if c, ok := ch.Values[v.ID]; ok {
				nv = c
			}
			if fmt.Sprint(nv) != fmt.Sprint(after[v.ID]) {
				t.Fatalf("variant %s becomes %v, oracle %v (%v -> %v)", v.SKU, nv, after[v.ID], cur, next)
			}
			var p Problems
			validVariantOptions("options", next, nv, &p)
			if k := ComboKey(next, nv); len(p) > 0 || (got[k] && len(next) > 0) {
				t.Fatalf("variant %s becomes %v: problems %v, duplicate %v", v.SKU, nv, p, got[k])
			}
			got[ComboKey(next, nv)] = true
		}
	}
}
