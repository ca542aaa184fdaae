package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCapacityFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-capacity", "-capacity-baseline", "0"},
		{"-capacity", "-capacity-baseline", "NaN"},
		{"-capacity", "-capacity-edge-hit", "1"},
		{"-capacity", "-capacity-rps-per-task", "-5"},
		{"-capacity", "-capacity-task-start", "-1"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-capacity") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and a message naming the flag", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-capacity", "-capacity-rps-per-task", "2000"}, &out, &errb); code != 0 {
		t.Fatalf("simulation only: exit %d, stderr %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "side by side") || !strings.Contains(out.String(), "capacity at target meets demand") {
		t.Errorf("simulation only printed:\n%s", out.String())
	}
}
