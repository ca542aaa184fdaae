package catalog

import (
	"math"
	"strings"
	"testing"
)

func TestCollectionInputValidate(t *testing.T) {
	for _, tc := range []struct {
		in    CollectionInput
		field string // "" when valid
	}{
		{CollectionInput{Slug: "flash-sale", Name: "Flash sale", Description: "Today\nonly"}, ""},
		{CollectionInput{Name: "x"}, "slug"},
		{CollectionInput{Slug: "Flash", Name: "x"}, "slug"},
		{CollectionInput{Slug: "a\u202eb", Name: "x"}, "slug"},
		{CollectionInput{Slug: "ok"}, "name"},
		{CollectionInput{Slug: "ok", Name: strings.Repeat("n", MaxCollectionNameLength+1)}, "name"},
		{CollectionInput{Slug: "ok", Name: "x", Description: strings.Repeat("d", MaxCollectionDescriptionLength+1)}, "description"},
		{CollectionInput{Slug: "ok", Name: "x", Description: "bell\a"}, "description"},
	} {
		err := tc.in.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", tc.in, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalid || e.Fields[0].Field != tc.field {
			t.Errorf("Validate(%+v) = %v, want invalid naming %s", tc.in, err, tc.field)
		}
	}
	empty := CollectionPatch{}
	if ErrorCode(empty.Validate()) != CodeInvalid {
		t.Error("an empty patch was accepted")
	}
}

func TestValidateMembership(t *testing.T) {
	a, b := NewID(), NewID()
	neg := -1
	for _, tc := range []struct {
		ids        []string
		pos        *int
		atLeastOne bool
		code       Code
		field      string
	}{
		{[]string{a, b}, nil, true, "", ""},
		{nil, nil, false, "", ""},
		{nil, nil, true, CodeInvalid, "product_ids"},
		{[]string{a, "nope"}, nil, true, CodeInvalid, "product_ids[1]"},
		{[]string{a, b, a}, nil, true, CodeUnprocessable, "product_ids[2]"},
		{[]string{a}, &neg, true, CodeInvalid, "position"},
		{make([]string, MaxMembershipWrite+1), nil, true, CodeInvalid, "product_ids"},
	} {
		err := ValidateMembership(tc.ids, tc.pos, tc.atLeastOne)
		if ErrorCode(err) != tc.code {
			t.Errorf("ValidateMembership(%d ids) = %v, want code %q", len(tc.ids), err, tc.code)
			continue
		}
		if tc.field != "" && err.(*Error).Fields[0].Field != tc.field {
			t.Errorf("ValidateMembership(%d ids) = %v, want it to name %s", len(tc.ids), err, tc.field)
		}
	}
}

// checkKeys is the property PositionKeys keeps: n keys, increasing, strictly after lo and
// before hi where they are given; refused only when they cannot fit.
func checkKeys(t *testing.T, lo int64, hasLo bool, hi int64, hasHi bool, n int) {
	t.Helper()
	keys, ok := PositionKeys(lo, hasLo, hi, hasHi, n)
	if !ok {
		if hasLo && hasHi && hi-lo > int64(n) && hi-lo <= math.MaxInt64/int64(n+1) {
			t.Fatalf("PositionKeys(%d, %d, %d) refused a gap that holds them", lo, hi, n)
		}
		return
	}
	if len(keys) != n {
		t.Fatalf("PositionKeys(%d, %d, %d) = %d keys", lo, hi, n, len(keys))
	}
	for i, k := range keys {
		if hasLo && k <= lo || hasHi && k >= hi || i > 0 && k <= keys[i-1] {
			t.Fatalf("PositionKeys(%d %v, %d %v, %d) = %v: not increasing strictly inside", lo, hasLo, hi, hasHi, n, keys)
		}
	}
}

func TestPositionKeys(t *testing.T) {
	checkKeys(t, 0, false, 0, false, 3)
	checkKeys(t, 0, true, 1, true, 1)
	checkKeys(t, 0, true, 2, true, 1)
	checkKeys(t, 5, true, 9, true, 3)
	checkKeys(t, 5, true, 9, true, 4)
	checkKeys(t, 0, false, PositionStep, true, MaxMembershipWrite)
	checkKeys(t, math.MinInt64+5, false, math.MinInt64+10, true, 3)
	checkKeys(t, math.MaxInt64-10, true, 0, false, 3)
	checkKeys(t, -PositionStep*MaxCollectionProducts, true, PositionStep*MaxCollectionProducts, true, MaxMembershipWrite)
	if _, ok := PositionKeys(1, true, 2, true, 1); ok {
		t.Fatal("PositionKeys fit a key between 1 and 2")
	}
	if got := RenumberedKeys(3); got[0] != PositionStep || got[2] != 3*PositionStep {
		t.Fatalf("RenumberedKeys(3) = %v", got)
	}
}

func FuzzPositionKeys(f *testing.F) {
	f.Add(int64(0), true, int64(1<<20), true, 1)
	f.Add(int64(7), true, int64(9), true, 2)
	f.Add(int64(0), false, int64(math.MinInt64+3), true, 5)
	f.Fuzz(func(t *testing.T, lo int64, hasLo bool, hi int64, hasHi bool, n int) {
		if n < 1 || n > MaxMembershipWrite || hasLo && hasHi && hi <= lo {
			return
		}
		checkKeys(t, lo, hasLo, hi, hasHi, n)
	})
}

func TestPositionCursorRoundTrip(t *testing.T) {
	q := ListQuery{Sort: SortPosition, Limit: 5, Filter: ProductFilter{Collection: "picks"}}
	for _, pos := range []int64{3 * PositionStep, -5 * PositionStep, math.MinInt64, math.MaxInt64} {
		c, err := ParseCursor(q.NextPositionCursor(NewID(), pos).String())
		if err != nil {
			t.Fatal(err)
		}
		if c.Position != pos {
			t.Fatalf("position %d came back as %d", pos, c.Position)
		}
	}
	c, _ := ParseCursor(q.NextPositionCursor(NewID(), -PositionStep).String())
	q.After = c
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	q.Filter.Collection = "other"
	if ErrorCode(q.Validate()) != CodeInvalid {
		t.Fatal("a cursor of one collection was accepted by another")
	}
}
