package bench

import (
	"bytes"
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestImportRateModel: the derived rate and the writer it takes for a rate, worked by hand. A
// job of 10,000 products spooled in 1 s whose validation takes 4 s of job CPU and 2 of
// PostgreSQL's, and its apply pass 2 s and 12: on 2 cores each the passes last 2 s and 6 s.
func TestImportRateModel(t *testing.T) {
	s := time.Second
	job, pg := Phases{Spool: 1 * s, Validate: 4 * s, Apply: 2 * s}, Phases{Validate: 2 * s, Apply: 12 * s}
	if got, want := DerivedImportRate(job, pg, 10000), 10000.0/9; math.Abs(got-want) > 1e-6 {
		t.Errorf("derived rate %.3f/s, want %.3f (1 + 2 + 6 s)", got, want)
	}
	cases := []struct {
		name     string
		job      Phases
		rate     float64
		vcpus    float64
		possible bool
	}{
		// 5 s in all: 1 + max(2, 2/p) + max(1, 12/p) <= 5 first holds at p = 6.
		{"writer-bound", job, 2000, 6, true},
		// The job alone already takes 1 + 2 + 1 = 4 s: 2,500/s is exactly reachable, at p = 12.
		{"at the job's limit", job, 2500, 12, true},
		{"past the job's limit", job, 2600, 0, false},
		// Validation of 20 s on 2 cores is 10 s whatever the writer.
		{"job-bound", Phases{Spool: s, Validate: 20 * s, Apply: 2 * s}, 1000, 0, false},
	}
	for _, c := range cases {
		vcpus, ok := WriterForRate(c.job, pg, 10000, c.rate, 2)
		if ok != c.possible || vcpus != c.vcpus {
			t.Errorf("%s: WriterForRate(%.0f/s) = %.2f, %t; want %.2f, %t", c.name, c.rate, vcpus, ok, c.vcpus, c.possible)
		}
		if ok && importRate(c.job, pg, 10000, 2, vcpus-0.25) >= c.rate {
			t.Errorf("%s: %.2f vCPUs is not the fewest: a quarter less reaches %.0f/s too", c.name, vcpus, c.rate)
		}
	}
}

// TestImportCPUTableWriter: the table names the writer for the target, in vCPUs and ACUs, and
// says when no writer is enough.
func TestImportCPUTableWriter(t *testing.T) {
	s := time.Second
	runs := []ImportRun{
		{Name: "create", Products: 100000, Total: 50 * s, PGMeasured: true,
			JobCPU: Phases{Spool: 2 * s, Validate: 10 * s, Apply: 17 * s}, PGCPU: Phases{Validate: 3 * s, Apply: 56 * s}},
		{Name: "job-bound", Products: 100000, Total: 50 * s, PGMeasured: true,
			JobCPU: Phases{Spool: 2 * s, Validate: 40 * s, Apply: 17 * s}, PGCPU: Phases{Validate: 3 * s, Apply: 56 * s}},
	}
	var b bytes.Buffer
	ImportCPUTable(&b, runs)
	out := b.String()
	// 20 s for 100,000 at 5,000/s: 2 + max(5, 3/p) + max(8.5, 56/p) <= 20 first holds at p = 4.5.
	for _, want := range []string{"4.50 vCPUs (18 ACU busy)", "not with 2 job cores"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestImportRunsAsTheDefaultTask: the in-process import job gets the collector's budget the
// service sets itself in the stacks' default task (ADR 0027), a GOGC in the environment wins as
// in the service, and the bench's own budget comes back afterwards.
func TestImportRunsAsTheDefaultTask(t *testing.T) {
	limit0 := debug.SetMemoryLimit(-1)
	percent0 := debug.SetGCPercent(100)
	debug.SetGCPercent(percent0)
	for _, c := range []struct {
		gogc string
		want gcBudget
	}{
		{"", gcBudget{percent: 400, limit: 1280 << 20}},
		{"150", gcBudget{percent: float64(percent0), limit: 1280 << 20}}, // the runtime read GOGC at start; it is left alone
	} {
		t.Setenv("GOGC", c.gogc)
		t.Setenv("GOMEMLIMIT", "")
		got, restore, err := asDefaultTask()
		if err != nil {
			t.Fatal(err)
		}
		restore()
		if got != c.want {
			t.Errorf("GOGC=%q: budget %+v, want %+v", c.gogc, got, c.want)
		}
		if got.String() == "" {
			t.Errorf("GOGC=%q: the budget prints as nothing", c.gogc)
		}
		if l, p := debug.SetMemoryLimit(-1), debug.SetGCPercent(percent0); l != limit0 || p != percent0 {
			t.Errorf("GOGC=%q: after restore, limit %d and GOGC %d; want %d and %d", c.gogc, l, p, limit0, percent0)
		}
	}
}
