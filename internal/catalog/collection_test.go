package catalog

import (
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

// checkKeys is the property PositionKeys keeps: n keys, increasing, strictly between lo and hi;
// refused only when fewer than n integers lie between.
func checkKeys(t *testing.T, lo, hi int64, hasHi bool, n int) {
	keys, ok := PositionKeys(lo, hi, hasHi, n)
	if hasHi && hi-lo-1 < int64(n) {
		if ok {
			t.Fatalf("PositionKeys(%d, %d, %d) fit %d keys in a gap of %d", lo, hi, n, len(keys), hi-lo-1)
		}
		return
	}
	if !ok || len(keys) != n {
		t.Fatalf("PositionKeys(%d, %d, %v, %d) = %v, %v; want %d keys", lo, hi, hasHi, n, keys, ok, n)
	}
	prev := lo
	for _, k := range keys {
		if k <= prev || hasHi && k >= hi {
			t.Fatalf("PositionKeys(%d, %d, %v, %d) = %v: not increasing strictly inside", lo, hi, hasHi, n, keys)
		}
		prev = k
	}
}

func TestPositionKeys(t *testing.T) {
	checkKeys(t, 0, 0, false, 3)
	checkKeys(t, 0, 1, true, 1)
	checkKeys(t, 0, 2, true, 1)
	checkKeys(t, 5, 9, true, 3)
	checkKeys(t, 5, 9, true, 4)
	checkKeys(t, 0, PositionStep*MaxCollectionProducts, true, MaxMembershipWrite)
	if got := RenumberedKeys(3); got[0] != PositionStep || got[2] != 3*PositionStep {
		t.Fatalf("RenumberedKeys(3) = %v", got)
	}
}

func FuzzPositionKeys(f *testing.F) {
	f.Add(int64(0), int64(1<<20), true, 1)
	f.Add(int64(7), int64(9), true, 2)
	f.Fuzz(func(t *testing.T, lo, hi int64, hasHi bool, n int) {
		// The domain the stores call it in: keys from 0 to the largest renumbered list plus a
		// batch, n from 1 to MaxMembershipWrite.
		limit := PositionStep * (MaxCollectionProducts + MaxMembershipWrite)
		if lo < 0 || lo > limit || hi < 0 || hi > limit || n < 1 || n > MaxMembershipWrite || hasHi && hi <= lo {
			return
		}
		checkKeys(t, lo, hi, hasHi, n)
	})
}

func TestPositionCursorRoundTrip(t *testing.T) {
	q := ListQuery{Sort: SortPosition, Limit: 5, Filter: ProductFilter{Collection: "picks"}}
	c, err := ParseCursor(q.NextPositionCursor(NewID(), 3*PositionStep).String())
	if err != nil {
		t.Fatal(err)
	}
	if c.Position != 3*PositionStep {
		t.Fatalf("position %d came back as %d", 3*PositionStep, c.Position)
	}
	q.After = c
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	q.Filter.Collection = "other"
	if ErrorCode(q.Validate()) != CodeInvalid {
		t.Fatal("a cursor of one collection was accepted by another")
	}
}
