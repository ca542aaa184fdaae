package capacity

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

func model() Model {
	return Model{TaskVCPU: 1, TargetPercent: 70, MinTasks: 2, Costs: []Cost{
		{Scenario: "a", Requests: 10, Server: 0.001, DB: 0.0005},
		{Scenario: "b", Requests: 10, Server: 0.003, DB: 0.0015},
	}}
}

func TestModelFigures(t *testing.T) {
	mix := Mix{{"a", 0.5, false}, {"b", 0.5, false}}
	// Mix: 2 ms server, 1 ms DB per request. A task at 70% of 1 vCPU: 0.7/0.002 = 350 req/s.
	rps, err := model().RPSPerTask(mix)
	if err != nil || math.Abs(rps-350) > 1e-9 {
		t.Fatalf("RPSPerTask = %v, %v; want 350", rps, err)
	}
	for _, c := range []struct {
		rps   float64
		tasks int
		acu   float64
	}{
		// 100 req/s: 0.2 vCPU -> 1 task, MinTasks 2; DB 0.1 vCPU / 0.25 / 0.7 = 0.57 -> 1 ACU.
		{100, 2, 1},
		// 1000 req/s: 2 vCPU / 0.7 = 2.86 -> 3 tasks; DB 1 vCPU -> 5.71 -> 6 ACU.
		{1000, 3, 6},
		// 3500 req/s: exactly 10 tasks, not 11; DB 3.5 vCPU -> 20 ACU.
		{3500, 10, 20},
		// 1 req/s: the ACU floor is Serverless v2's minimum, 0.5.
		{1, 2, 0.5},
	} {
		n, err := model().For(mix, c.rps)
		if err != nil || n.Tasks != c.tasks || n.ACU != c.acu {
			t.Errorf("For(%g) = %+v, %v; want %d tasks, %g ACU", c.rps, n, err, c.tasks, c.acu)
		}
	}
}

func TestModelRefusesBadMixes(t *testing.T) {
	for name, mix := range map[string]Mix{
		"no measurement for c": {{"a", 0.5, false}, {"c", 0.5, false}},
		"sum to 0.9":           {{"a", 0.5, false}, {"b", 0.4, false}},
		"non-negative":         {{"a", math.NaN(), false}, {"b", 1, false}},
	} {
		if _, err := model().RPSPerTask(mix); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("mix %v: error %v, want one saying %q", mix, err, name)
		}
	}
	m := model()
	m.Costs[0].Server = 0
	if _, err := m.RPSPerTask(Mix{{"a", 1, false}}); err == nil {
		t.Error("zero measured CPU gave a capacity")
	}
}

func TestFromBlueprint(t *testing.T) {
	m := FromBlueprint(nil)
	if m.TaskVCPU != float64(blueprint.DefaultTaskSize.CPU)/1024 || m.TargetPercent != blueprint.CPUTargetPercent || m.MinTasks != blueprint.MinTasks {
		t.Errorf("FromBlueprint = %+v, want the blueprint's task size, CPU target and minimum", m)
	}
	// The stacks give the service the reader's endpoint (ADR 0022).
	if !m.Reader {
		t.Error("FromBlueprint: no reader, but the stacks send public reads to one")
	}
}

// TestModelSplitsInstances: Serverless v2 sizes and caps each instance on its own, so the
// model puts reads on the reader and writes on the writer, and the reader (promotion tier 1)
// never below the writer.
func TestModelSplitsInstances(t *testing.T) {
	m := model()
	m.Reader = true
	for _, c := range []struct {
		name              string
		mix               Mix
		writer, reader    float64 // vCPU at 1,000 req/s
		writerACU, maxACU float64
	}{
		// Reads of 0.5 ms and writes of 1.5 ms, half each: 0.25 and 0.75 vCPU. The writer
		// needs 0.75 / 0.25 / 0.7 = 4.29 -> 4.5 ACU; the reader's 1.43 -> 1.5 is raised to the
		// writer's.
		{"reads light", Mix{{"a", 0.5, false}, {"b", 0.5, true}}, 0.75, 0.25, 4.5, 4.5},
		// Heavy reads: the reader's own need, 0.75 vCPU -> 4.5 ACU, the writer's 1.5.
		{"reads heavy", Mix{{"a", 0.5, true}, {"b", 0.5, false}}, 0.25, 0.75, 1.5, 4.5},
	} {
		n, err := m.For(c.mix, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(n.WriterVCPU-c.writer) > 1e-9 || math.Abs(n.ReaderVCPU-c.reader) > 1e-9 || math.Abs(n.DBVCPU-1) > 1e-9 {
			t.Errorf("%s: writer %g, reader %g, total %g vCPU; want %g, %g, 1", c.name, n.WriterVCPU, n.ReaderVCPU, n.DBVCPU, c.writer, c.reader)
		}
		if n.WriterACU != c.writerACU || n.ReaderACU != c.maxACU || n.ACU != c.maxACU {
			t.Errorf("%s: ACU writer %g, reader %g, busiest %g; want %g, %g, %g", c.name, n.WriterACU, n.ReaderACU, n.ACU, c.writerACU, c.maxACU, c.maxACU)
		}
	}
	// Without a reader everything runs on the writer.
	m.Reader = false
	n, _ := m.For(Mix{{"a", 0.5, false}, {"b", 0.5, true}}, 1000)
	if n.ReaderVCPU != 0 || n.ReaderACU != 0 || n.WriterACU != 6 || n.ACU != 6 {
		t.Errorf("no reader: %+v; want all on the writer, 6 ACU", n)
	}
}

func TestBaselineMixSumsToOne(t *testing.T) {
	sum := 0.0
	for _, s := range BaselineMix {
		sum += s.Fraction
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("BaselineMix sums to %g", sum)
	}
}

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may set.
	line := "4242 (post gres) x) S 17 4242 4242 0 -1 4194304 120 0 0 0 31 7 5 3 20 0 1 0 100 0 0\n"
	got, err := ParseStat([]byte(line))
	want := Times{PPID: 17, User: 31, System: 7, ChildUser: 5, ChildSystem: 3}
	if err != nil || got != want {
		t.Errorf("ParseStat = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S a 1 1 0 -1 0 0 0 0 0 u 7 5 3"} {
		if _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) succeeded", bad)
		}
	}
}

// FuzzParseStat: no input makes ParseStat panic.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (a) S 0 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0"))
	f.Add([]byte("1 ()) S"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseStat(b) })
}

func TestOwnTicksGrowWithWork(t *testing.T) {
	before, err := ProcessTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0.0
	for i := range 100_000_000 {
		x += math.Sqrt(float64(i))
	}
	after, _ := ProcessTicks(os.Getpid())
	if after <= before || x == 0 {
		t.Errorf("ticks %d -> %d after a busy loop, want more", before, after)
	}
	if tree, err := TreeTicks(os.Getpid()); err != nil || tree < after {
		t.Errorf("TreeTicks = %d, %v; want >= own %d", tree, err, after)
	}
	if n := ClockTicks(); n <= 0 {
		t.Errorf("ClockTicks = %d", n)
	}
}

// TestVCPUPerACU pins the ACU conversion: "each ACU is a combination of approximately 2 gibibytes
// (GiB) of memory, corresponding CPU, and networking" (Aurora User Guide, Serverless v2
// requirements,
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.requirements.html);
// the r classes give 8 GiB per vCPU, so 2 GiB carries a quarter of one. Serverless v2 scales in
// half-ACU steps from 0.5 (blueprint.MinACULimit).
func TestVCPUPerACU(t *testing.T) {
	const gibPerACU, gibPerVCPU = 2.0, 8.0
	if VCPUPerACU != gibPerACU/gibPerVCPU {
		t.Errorf("VCPUPerACU = %g, want %g", VCPUPerACU, gibPerACU/gibPerVCPU)
	}
	n, err := model().For(Mix{{"a", 1, false}}, 701) // 701 * 0.5 ms = 0.3505 vCPU -> 2.003 ACU -> 2.5
	if err != nil || n.ACU != 2.5 {
		t.Errorf("For(701).ACU = %g, %v; want 2.5 (half-ACU steps, rounded up)", n.ACU, err)
	}
}
