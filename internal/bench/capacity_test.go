package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/capacity"
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
	for _, want := range []string{"the stacks before issue 19", "the stacks as configured (automatic", "planned sale", "side by side", "before: CPU tracking, max 10", fmt.Sprintf("as configured, max %d", blueprint.MaxTasks), "+ planned sale minimum", "capacity at target meets demand", "task start 20 s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPrintCapacity: the model's table splits the database between the instances the stacks
// run, reads on the reader, reservations on the writer.
func TestPrintCapacity(t *testing.T) {
	var costs []capacity.Cost
	for _, s := range capacity.BaselineMix {
		db := 0.001 // a read: 1 ms of database CPU
		if s.Writes {
			db = 0.002
		}
		costs = append(costs, capacity.Cost{Scenario: s.Scenario, Requests: 100, Server: 0.0005, DB: db})
	}
	var out bytes.Buffer
	if err := PrintCapacity(&out, costs, CapacityConfig{Baseline: 1000}); err != nil {
		t.Fatal(err)
	}
	// 10x = 10,000 req/s: 90% reads of 1 ms is 9 vCPU on the reader (51.5 ACU at 70%), 10%
	// reservations of 2 ms 2 vCPU on the writer (11.5 ACU).
	for _, want := range []string{"db vCPU writer/reader", "2.00 / 9.00", "11.5 / 51.5", "reads on the reader: true", "ACU per instance"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
