package catalog

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTextProblem(t *testing.T) {
	tests := []struct {
		s    string
		rule TextRule
		want string // a fragment of the problem; "" means accepted
	}{
		{"Mug", Identifier, ""},
		{"Tasse à café 咖啡杯", Identifier, ""},
		{"line one\nline two\tend\r\n", Multiline, ""},
		{"a\x00b", Multiline, "NUL"},
		{"\xff\xfe", Line, "valid UTF-8"},
		{"ok\xc3", Identifier, "valid UTF-8"},
		{"a\nb", Line, "control"},
		{"a\tb", Identifier, "control"},
		{"\x1b[31mred", Multiline, "control"},   // ESC: a terminal escape sequence
		{"x\u009bcolour", Multiline, "control"}, // C1 CSI
		{"x\x7f", Line, "control"},              // DEL
		{"evil\u202egnp.exe", Identifier, "format"},
		{"a\u2066b", Identifier, "format"},
		{"zero\u200bwidth", Identifier, "format"},
		{"\ufeffbom", Identifier, "format"},
		{"evil\u202egnp.exe", Line, ""}, // descriptions and search terms may hold format characters
	}
	for _, tt := range tests {
		got := TextProblem(tt.s, tt.rule)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("TextProblem(%q, %d) = %q, want %q", tt.s, tt.rule, got, tt.want)
		}
	}
}

// FuzzTextProblem: whatever a rule accepts is valid UTF-8 with no NUL and no control character
// outside the multiline allowance, and an identifier holds no format character.
func FuzzTextProblem(f *testing.F) {
	for _, s := range []string{"", "a\x00", "\xff", "a\u202e", "a\nb", "\x1b[2J"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rule := range []TextRule{Multiline, Line, Identifier} {
			if TextProblem(s, rule) != "" {
				continue
			}
			if !utf8.ValidString(s) {
				t.Fatalf("rule %d accepted invalid UTF-8 %q", rule, s)
			}
			for _, r := range s {
				if unicode.IsControl(r) && !(rule == Multiline && (r == '\n' || r == '\t' || r == '\r')) {
					t.Fatalf("rule %d accepted control U+%04X in %q", rule, r, s)
				}
				if rule == Identifier && unicode.Is(unicode.Cf, r) {
					t.Fatalf("identifier rule accepted format U+%04X in %q", r, s)
				}
			}
		}
	})
}

func TestValidateRefusesHostileText(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ProductInput)
		field  string
	}{
		{"NUL in description", func(in *ProductInput) { in.Description = "a\x00b" }, "description"},
		{"invalid UTF-8 in description", func(in *ProductInput) { in.Description = "\xff\xfe" }, "description"},
		{"bidi override in name", func(in *ProductInput) { in.Name = "Mug\u202e" }, "name"},
		{"escape in brand", func(in *ProductInput) { in.Brand = "\x1b]0;owned\x07" }, "brand"},
		{"zero width in brand", func(in *ProductInput) { in.Brand = "Ac\u200bme" }, "brand"},
		{"NUL in category", func(in *ProductInput) { in.Category = "kit\x00chen" }, "category"},
		{"NUL in attribute value", func(in *ProductInput) { in.Attributes = Attributes{"colour": "re\x00d"} }, "attributes.colour"},
		{"format char in attribute key", func(in *ProductInput) { in.Attributes = Attributes{"col\u200dour": "red"} }, "attributes"},
		{"NUL in image", func(in *ProductInput) { in.Media = []Media{{URL: "https://x.example/\x00"}} }, "media[0].url"},
		{"escape in alt text", func(in *ProductInput) { in.Media = []Media{{URL: "https://x.example/a.jpg", Alt: "a\x1b[2J"}} }, "media[0].alt"},
		{"NUL in option name", func(in *ProductInput) { in.Options = []Option{{Name: "Si\x00ze", Values: []string{"M"}}} }, "options[0].name"},
		{"bidi override in option value", func(in *ProductInput) { in.Options = []Option{{Name: "Size", Values: []string{"M\u202e"}}} }, "options[0].values[0]"},
		{"NUL in SKU", func(in *ProductInput) { in.Variants[0].SKU = "AB\x00C" }, "variants[0].sku"},
		{"NUL in barcode", func(in *ProductInput) { in.Variants[0].Barcode = "0\x00" }, "variants[0].barcode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validInput()
			tt.change(&in)
			err := in.Validate()
			if !hasField(err, tt.field) {
				t.Fatalf("Validate() = %v, want a problem with %s", err, tt.field)
			}
		})
	}
	newlines := validInput()
	newlines.Description = "First line.\n\tSecond line."
	if err := newlines.Validate(); err != nil {
		t.Errorf("Validate() with a multi-line description = %v, want nil", err)
	}
}

func TestProblemsAreBounded(t *testing.T) {
	in := validInput()
	for range 200_000 {
		in.Media = append(in.Media, Media{URL: "x"})
	}
	for range 2000 {
		in.Variants = append(in.Variants, VariantInput{SKU: "x"})
	}
	err := in.Validate()
	var e *Error
	if !asError(err, &e) || len(e.Fields) > MaxProblems {
		t.Fatalf("Validate() with 200,000 images listed %d problems, want at most %d", len(e.Fields), MaxProblems)
	}
}

func TestListRefusesHostileText(t *testing.T) {
	for _, f := range []ProductFilter{{Brand: "\xff"}, {Brand: "a\x00"}, {Category: "\x00"}, {Query: "a\x00"}, {Currency: "US\x00"}} {
		if err := f.Validate(); ErrorCode(err) != CodeInvalid {
			t.Errorf("%+v.Validate() = %v, want invalid", f, err)
		}
	}
	// A forged cursor whose key holds NUL must not reach a store.
	b, _ := json.Marshal(cursorJSON{V: cursorVersion, S: SortName, K: "mug\x00", I: NewID(), F: "x"})
	if _, err := ParseCursor(base64.RawURLEncoding.EncodeToString(b)); ErrorCode(err) != CodeInvalid {
		t.Errorf("ParseCursor(key with NUL) = %v, want invalid", err)
	}
}

func TestIdempotencyKeyText(t *testing.T) {
	for _, key := range []string{"\xff\xfe", "a\x00", "k\u202e"} {
		if _, err := NewIdempotency("a", key, "op", nil); !hasField(err, "Idempotency-Key") {
			t.Errorf("NewIdempotency(key %q) = %v, want a problem with Idempotency-Key", key, err)
		}
	}
}

func hasField(err error, field string) bool {
	var e *Error
	if !asError(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestReservationTTLBoundedBeforeArithmetic(t *testing.T) {
	line := []ReservationLine{{SKU: "ABC", Quantity: 1}}
	for _, secs := range []int64{18446744104, -9223372036854775808, 9223372036854775807, 29, 7201} {
		in := ReservationInput{Lines: line, TTLSeconds: secs}
		if err := in.Validate(); !hasField(err, "ttl_seconds") {
			t.Errorf("Validate(ttl_seconds=%d) = %v, want a problem with ttl_seconds", secs, err)
		}
		if ttl := in.TTL(); ttl < MinReservationTTL || ttl > MaxReservationTTL {
			t.Errorf("TTL(ttl_seconds=%d) = %v, outside [%v, %v]", secs, ttl, MinReservationTTL, MaxReservationTTL)
		}
	}
}
