// Package capacity turns measured CPU per request into the service's capacity: requests per
// second one Fargate task serves at the scaling target, the tasks a traffic mix needs, and the
// Aurora capacity units its database work needs. It also reads a process's CPU time from
// /proc, which is how the bench measures CPU per request.
package capacity

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
)

// VCPUPerACU is the CPU share of one Aurora capacity unit. AWS defines an ACU as "approximately
// 2 GiB of memory, corresponding CPU, and networking" (Aurora User Guide, "Requirements and
// limitations for Aurora Serverless v2",
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.requirements.html);
// the corresponding CPU is that of the memory-optimised r classes Serverless v2 follows, 8 GiB
// per vCPU, hence 0.25 vCPU per ACU (1 busy vCPU ~ 4 ACU).
const VCPUPerACU = 0.25

// Cost is the measured CPU cost of one kind of request.
type Cost struct {
	Scenario string
	Requests int
	RPS      float64 // as driven on the measuring machine, for context
	// Server and DB are CPU-seconds per request of the catalog process and of the PostgreSQL
	// processes.
	Server, DB float64
}

// Share is one scenario's fraction of a traffic mix.
type Share struct {
	Scenario string
	Fraction float64
	// Writes: the scenario's statements run on the writer (reservations, writes). Public reads
	// run on the reader when there is one (ADR 0022), which is where most database CPU goes.
	Writes bool
}

// Mix is a traffic mix; its fractions sum to 1.
type Mix []Share

// BaselineMix is the stated shape of normal traffic: mostly product pages and lists, some
// search, a few reservations (checkouts) of which half hit one hot SKU as during a sale.
var BaselineMix = Mix{
	{"get-by-id", 0.40, false},
	{"get-by-sku", 0.10, false},
	{"list first page", 0.15, false},
	{"filtered list", 0.10, false},
	{"search", 0.15, false},
	{"reserve across 1000 SKUs", 0.05, true},
	{"reserve one hot variant SKU", 0.05, true},
}

// Model is the measured costs and the task they run on.
type Model struct {
	Costs []Cost
	// TaskVCPU and TargetPercent: a task's vCPU and the CPU target it is scaled at.
	TaskVCPU      float64
	TargetPercent float64
	MinTasks      int
	// Reader: public reads go to a reader instance, so the writer carries only the writes.
	Reader bool
}

// FromBlueprint returns a model of the stacks' task size, CPU target and minimum.
func FromBlueprint(costs []Cost) Model {
	return Model{Costs: costs, TaskVCPU: float64(blueprint.DefaultTaskSize.CPU) / 1024,
		TargetPercent: blueprint.CPUTargetPercent, MinTasks: blueprint.MinTasks, Reader: blueprint.ReplicaReads()}
}

// PerRequest returns the mix's average CPU-seconds per request, server and database.
func (m Model) PerRequest(mix Mix) (server, db float64, err error) {
	server, writer, reader, err := m.perInstance(mix)
	return server, writer + reader, err
}

// perInstance is PerRequest with the database CPU split between the writer and the reader.
func (m Model) perInstance(mix Mix) (server, writer, reader float64, err error) {
	byName := map[string]Cost{}
	for _, c := range m.Costs {
		byName[c.Scenario] = c
	}
	total := 0.0
	var missing []string
	for _, s := range mix {
		c, ok := byName[s.Scenario]
		if !ok || c.Requests == 0 {
			missing = append(missing, s.Scenario)
			continue
		}
		if !(s.Fraction >= 0) {
			return 0, 0, 0, fmt.Errorf("mix: %s: fraction must be a non-negative number", s.Scenario)
		}
		server += s.Fraction * c.Server
		if s.Writes || !m.Reader {
			writer += s.Fraction * c.DB
		} else {
			reader += s.Fraction * c.DB
		}
		total += s.Fraction
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return 0, 0, 0, fmt.Errorf("mix: no measurement for %s", strings.Join(missing, ", "))
	}
	if math.Abs(total-1) > 1e-6 {
		return 0, 0, 0, fmt.Errorf("mix: fractions sum to %g, want 1", total)
	}
	if !(server > 0) {
		return 0, 0, 0, errors.New("mix: measured server CPU per request is zero: the run was too short for the clock ticks")
	}
	return server, writer, reader, nil
}

// RPSPerTask returns the requests per second one task serves at the CPU target.
func (m Model) RPSPerTask(mix Mix) (float64, error) {
	server, _, err := m.PerRequest(mix)
	if err != nil {
		return 0, err
	}
	return m.TaskVCPU * m.TargetPercent / 100 / server, nil
}

// Need is what a traffic level needs.
type Need struct {
	RPS   float64
	Tasks int // at the CPU target, at least MinTasks
	// TasksExact is the unrounded figure, to show how close to the next task it is.
	TasksExact float64
	// DBVCPU is the database CPU the traffic keeps busy, WriterVCPU and ReaderVCPU its parts
	// on each instance (ReaderVCPU 0 without a reader).
	DBVCPU, WriterVCPU, ReaderVCPU float64
	// WriterACU and ReaderACU are each instance's CPU at the same target utilisation, in
	// Aurora's half-ACU steps. Serverless v2 sizes and caps (MaxACU) each instance on its own,
	// and a reader in promotion tier 0 or 1, as the stacks' is, runs at least at the writer's
	// capacity (Aurora User Guide, "Choosing the promotion tier for an Aurora Serverless v2
	// reader"): ReaderACU counts that. ACU is the busiest instance's, what MaxACU must allow.
	WriterACU, ReaderACU, ACU float64
}

// For returns what rps requests per second of mix need.
func (m Model) For(mix Mix, rps float64) (Need, error) {
	server, writer, reader, err := m.perInstance(mix)
	if err != nil {
		return Need{}, err
	}
	n := Need{RPS: rps, WriterVCPU: rps * writer, ReaderVCPU: rps * reader}
	n.DBVCPU = n.WriterVCPU + n.ReaderVCPU
	n.TasksExact = rps * server / (m.TaskVCPU * m.TargetPercent / 100)
	n.Tasks = max(m.MinTasks, int(math.Ceil(n.TasksExact-1e-9)))
	n.WriterACU = m.acu(n.WriterVCPU)
	n.ACU = n.WriterACU
	if m.Reader {
		n.ReaderACU = max(n.WriterACU, m.acu(n.ReaderVCPU))
		n.ACU = n.ReaderACU
	}
	return n, nil
}

// acu is the capacity that keeps vcpu busy at the target utilisation.
func (m Model) acu(vcpu float64) float64 {
	return max(blueprint.MinACULimit, math.Ceil(vcpu/VCPUPerACU/(m.TargetPercent/100)*2-1e-9)/2)
}
