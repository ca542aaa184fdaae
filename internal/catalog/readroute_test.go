package catalog

import (
	"strings"
	"testing"
)

// FuzzParseReadPosition: any string either fails with CodeInvalid or parses to a position
// whose canonical form parses to the same position and equals the input up to case and
// leading zeros.
func FuzzParseReadPosition(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "16/b374d848", "FFFFFFFF/FFFFFFFF", "1/", "/1", "1//2",
		"100000000/0", "0x1/2", "+1/2", " 1/2", "1/2 ", "é/1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseReadPosition(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("ParseReadPosition(%q) error code %s, want invalid", s, ErrorCode(err))
			}
			return
		}
		back, err := ParseReadPosition(p.String())
		if err != nil || back != p {
			t.Fatalf("ParseReadPosition(%q) = %v; its form %q parses to %v, %v", s, p, p.String(), back, err)
		}
		hi, lo, _ := strings.Cut(strings.ToUpper(s), "/")
		want := strings.TrimLeft(hi, "0") + "/" + strings.TrimLeft(lo, "0")
		got := strings.TrimLeft(strings.Split(p.String(), "/")[0], "0") + "/" + strings.TrimLeft(strings.Split(p.String(), "/")[1], "0")
		if got != want {
			t.Fatalf("ParseReadPosition(%q) = %s", s, p)
		}
	})
}
