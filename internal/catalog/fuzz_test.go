package catalog

import "testing"

// FuzzParseCursor: any string either parses to a cursor that re-encodes and parses again to the
// same position, or is refused with an invalid-input error. Never a panic.
func FuzzParseCursor(f *testing.F) {
	q := ListQuery{Sort: SortName, Limit: 10}
	f.Add(q.NextCursor(Product{ID: NewID(), Name: "Mug"}).String())
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("error code %q for %q", ErrorCode(err), s)
			}
			return
		}
		again, err := ParseCursor(c.String())
		if err != nil || again.ID != c.ID || again.Sort != c.Sort || again.NameKey != c.NameKey || again.Price != c.Price || !again.Created.Equal(c.Created) {
			t.Fatalf("cursor %q does not round-trip: %+v vs %+v (%v)", s, c, again, err)
		}
	})
}
