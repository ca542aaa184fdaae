package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestScenariosSelectSomething: a -scenarios prefix that selects nothing, or -scenarios given to
// a mode that runs a fixed set, is a usage error (exit 2) before anything is built or seeded,
// not a run of fewer scenarios than asked.
func TestScenariosSelectSomething(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-scenarios", "nosuch"}, `"nosuch"`},
		{[]string{"-scenarios", "get-by-id,nosuch", "-store", "sqlite"}, `"nosuch"`},
		{[]string{"-scenarios", "fault", "-faults=false"}, `"fault"`},
		{[]string{"-scenarios", "get-by-id, list"}, `"get-by-id, list"`}, // a space after the comma joins
		{[]string{"-wrk", "-scenarios", "hot,nosuch"}, `"nosuch"`},
		{[]string{"-scale", "1000,2000", "-scenarios", "search"}, "-scale"},
		{[]string{"-capacity", "-scenarios", "search"}, "-capacity"},
		{[]string{"-import", "jsonl", "-scenarios", "search"}, "-import"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %s named", tc.args, code, errb.String(), tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("run(%q) began a run before refusing it:\n%s", tc.args, out.String())
		}
	}
}
