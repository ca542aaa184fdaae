package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestMeasureCosts measures every capacity scenario briefly against the binary as a process.
// It checks that each is measured and that CPU time is seen at all, never the figures.
func TestMeasureCosts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary against a PostgreSQL cluster")
	}
	bin := &Binary{}
	defer bin.Close()
	costs, err := MeasureCosts(context.Background(), CapacityConfig{Binary: bin, Products: 300, Duration: 300 * time.Millisecond, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(costs) != len(capacityScenarios) {
		t.Fatalf("measured %d scenarios, want %d: %+v", len(costs), len(capacityScenarios), costs)
	}
	total := 0.0
	for _, c := range costs {
		if c.Requests == 0 || c.Server < 0 || c.DB < 0 {
			t.Errorf("%s: %+v", c.Scenario, c)
		}
		total += c.Server
	}
	if total == 0 {
		t.Error("no server CPU time seen in any scenario")
	}
}

func TestPrintSimulation(t *testing.T) {
	var out bytes.Buffer
	if err := PrintSimulation(&out, 1000, CapacityConfig{Baseline: 1000, TaskStart: 20}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the stacks before issue 19", "the stacks as configured (automatic", "planned sale", "side by side", "before: CPU tracking, max 10", "as configured, max 20", "+ planned sale minimum", "capacity at target meets demand", "task start 20 s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
