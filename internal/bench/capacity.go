package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/capacity"
	"github.com/acme/catalog/internal/ecsmeta"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/scalesim"
	"github.com/acme/catalog/internal/seed"
)

// CapacityConfig selects what the capacity measurement runs.
type CapacityConfig struct {
	Binary   *Binary
	Products int
	Duration time.Duration // per scenario
	Workers  int
	// Baseline is the 1x traffic, in requests per second of capacity.BaselineMix at the origin.
	Baseline float64
	// RPSPerTask, when positive, skips the measurement: the simulation runs with it.
	RPSPerTask float64
	// EdgeHitRatio is the share of requests an edge cache answers (0: none, as today).
	EdgeHitRatio float64
	// TaskStart, when positive, replaces the assumed seconds from desired count to RUNNING.
	TaskStart int
	Progress  io.Writer
}

// capacityScenarios are the scenarios measured for the model: those that reach the service
// through its own address (the ceilings and the cache-less server are bench-internal).
var capacityScenarios = []string{
	"get-by-id", "get-by-id hot (10 products)", "get-by-sku", "list first page", "list deep pages (cursor)",
	"search", "filtered list", "reserve one hot variant SKU", "reserve across 1000 SKUs", "mixed 95% read / 5% write",
}

// MeasureCosts runs the catalog binary as a process against a throw-away PostgreSQL cluster and
// measures, for each scenario, the CPU time the catalog process and the PostgreSQL processes
// spent per request: utime+stime from /proc/<pid>/stat before and after the scenario, over the
// requests answered.
func MeasureCosts(ctx context.Context, cfg CapacityConfig) ([]capacity.Cost, error) {
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	bin, cluster, pm, e, err := startMeasured(ctx, cfg.Binary, Config{Store: "postgres", Products: cfg.Products, Duration: cfg.Duration, Workers: cfg.Workers}, 4, logf)
	if err != nil {
		return nil, err
	}
	defer cluster.Close()
	defer e.close()
	dir, err := os.MkdirTemp("", "catalog-capacity")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	task, taskURI := defaultTask() // asked once, at start
	defer task.Close()
	p, err := startProcess(bin, filepath.Join(dir, "catalog.log"), port, map[string]string{
		"DATABASE_URL": e.url, "API_KEYS": benchKey, "LOG_LEVEL": servedLogLevel, "SEED_SAMPLE": "false",
		ecsmeta.EnvURI: taskURI,
	}, "serve")
	if err != nil {
		return nil, err
	}
	defer p.stop(10 * time.Second)
	if err := p.ready(ctx, time.Minute); err != nil {
		return nil, err
	}
	e.base = p.base
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * cfg.Workers, MaxIdleConns: 8 * cfg.Workers}}
	hz := float64(capacity.ClockTicks())
	var costs []capacity.Cost
	for _, sc := range e.scenarios() {
		if !slices.Contains(capacityScenarios, sc.name) {
			continue
		}
		if sc.prepare != nil {
			if err := sc.prepare(ctx); err != nil {
				return costs, fmt.Errorf("%s: %w", sc.name, err)
			}
		}
		logf("measuring %s for %s", sc.name, cfg.Duration)
		s0, err := capacity.ProcessTicks(p.cmd.Process.Pid)
		if err != nil {
			return costs, err
		}
		d0, err := capacity.TreeTicks(pm)
		if err != nil {
			return costs, err
		}
		r := Run(ctx, e.client, sc.name, cfg.Workers, cfg.Duration, sc.ok, sc.req, sc.hooks)
		s1, _ := capacity.ProcessTicks(p.cmd.Process.Pid)
		d1, _ := capacity.TreeTicks(pm)
		if ctx.Err() != nil {
			return costs, ctx.Err()
		}
		if r.Requests == 0 || r.Errors > r.Requests/100 {
			return costs, fmt.Errorf("%s: %d requests, %d errors (statuses %v): no sound measurement", sc.name, r.Requests, r.Errors, r.Statuses)
		}
		costs = append(costs, capacity.Cost{Scenario: sc.name, Requests: r.Requests, RPS: r.RPS,
			Server: float64(s1-s0) / hz / float64(r.Requests), DB: float64(d1-d0) / hz / float64(r.Requests)})
	}
	return costs, nil
}

// PrintCapacity prints the model from costs, then the flash-sale simulation of the stacks as
// they are and of the alternatives.
func PrintCapacity(w io.Writer, costs []capacity.Cost, cfg CapacityConfig) error {
	baseline := cfg.Baseline
	m := capacity.FromBlueprint(costs)
	fmt.Fprintf(w, "CPU per request (catalog process and PostgreSQL processes, /proc/<pid>/stat utime+stime over requests answered)\n")
	fmt.Fprintf(w, "%-30s %10s %14s %14s %18s\n", "scenario", "driven/s", "server µs/req", "db µs/req", "req/s per task@70%")
	for _, c := range costs {
		fmt.Fprintf(w, "%-30s %10.0f %14.0f %14.0f %18.0f\n", c.Scenario, c.RPS, c.Server*1e6, c.DB*1e6, m.TaskVCPU*m.TargetPercent/100/c.Server)
	}
	server, db, err := m.PerRequest(capacity.BaselineMix)
	if err != nil {
		return err
	}
	rps, _ := m.RPSPerTask(capacity.BaselineMix)
	var mix []string
	for _, s := range capacity.BaselineMix {
		mix = append(mix, fmt.Sprintf("%s %.0f%%", s.Scenario, s.Fraction*100))
	}
	fmt.Fprintf(w, "\nbaseline mix: %s\n", strings.Join(mix, ", "))
	fmt.Fprintf(w, "mix: %.0f µs server CPU and %.0f µs database CPU per request; one task (%.2g vCPU at %.0f%%) serves %.0f req/s\n",
		server*1e6, db*1e6, m.TaskVCPU, m.TargetPercent, rps)
	fmt.Fprintf(w, "\n%-6s %10s %14s %22s %26s\n", "load", "req/s", "tasks (exact)", "db vCPU writer/reader", "Aurora ACU writer/reader")
	for _, f := range []float64{1, 5, 10} {
		n, _ := m.For(capacity.BaselineMix, baseline*f)
		fmt.Fprintf(w, "%-6s %10.0f %6d (%5.2f) %22s %26s\n", fmt.Sprintf("%gx", f), n.RPS, n.Tasks, n.TasksExact,
			fmt.Sprintf("%.2f / %.2f", n.WriterVCPU, n.ReaderVCPU), fmt.Sprintf("%.1f / %.1f", n.WriterACU, n.ReaderACU))
	}
	prod, _ := blueprint.LookupEnvironment("prod")
	fmt.Fprintf(w, "(tasks at %.0f%% CPU, at least %d; ACU: each instance's database vCPU / %.2f vCPU per ACU / %.0f%%, in half-ACU steps, at least %.1f, the reader at least the writer's; reads on the reader: %t; prod allows %g-%g ACU per instance and %d-%d tasks)\n",
		m.TargetPercent, m.MinTasks, capacity.VCPUPerACU, m.TargetPercent, blueprint.MinACULimit, m.Reader, prod.MinACU, prod.MaxACU, blueprint.MinTasks, blueprint.MaxTasks)
	return PrintSimulation(w, rps, cfg)
}

// PrintSimulation runs the flash sale (baseline, then 10x over 2 minutes from minute 5) against
// the stacks' settings and the alternatives, and prints the timeline and a comparison.
func PrintSimulation(w io.Writer, rpsPerTask float64, cfg CapacityConfig) error {
	baseline := cfg.Baseline
	const seconds, every = 1200, 20
	ramp := scalesim.FlashSale(baseline)
	base := scalesim.Current(rpsPerTask)
	base.EdgeHitRatio = cfg.EdgeHitRatio
	if cfg.TaskStart > 0 {
		base.Assumptions.TaskStart = cfg.TaskStart
	}
	a := base.Assumptions
	fmt.Fprintf(w, "\nflash sale: %.0f req/s, then 10x over %d s from %d:%02d, held; %.0f req/s per task at %.0f%% CPU; tasks %d-%d; edge hit ratio %.0f%%\n",
		baseline, ramp.RampSeconds, ramp.Start/60, ramp.Start%60, rpsPerTask, base.Stack.CPUTargetPercent, base.Stack.MinTasks, base.Stack.MaxTasks, base.EdgeHitRatio*100)
	fmt.Fprintf(w, "assumed: task start %d s, app ready %d s after RUNNING, datapoints visible %d s after their minute, alarms %d/%d datapoints; from blueprint: cooldown out %d s, ALB check every %d s x %d healthy, grace %d s\n",
		a.TaskStart, a.AppReady, a.MetricDelay, a.HighDatapoints, a.LowDatapoints, base.Stack.ScaleOutCooldown,
		base.Stack.HealthCheckInterval, base.Stack.HealthyThreshold, base.Stack.HealthCheckGracePeriod)
	alts := scalesim.Alternatives(base, ramp.Start, ramp.Start)
	var names []string
	var results []scalesim.Result
	for _, alt := range alts {
		r, err := scalesim.Run(alt.Settings, ramp, seconds)
		if err != nil {
			return fmt.Errorf("%s: %w", alt.Name, err)
		}
		names, results = append(names, alt.Name), append(results, r)
	}
	for i, what := range []string{"the stacks before issue 19", "the stacks as configured (automatic policies: an unplanned surge)", "the stacks as configured, planned sale"} {
		fmt.Fprintf(w, "\n%s (%s):\n%s", what, alts[i].Name, scalesim.Timeline(trim(results[i], ramp.Start-60), every, 40))
		fmt.Fprintf(w, "%s\n", results[i].Summary)
	}
	fmt.Fprintf(w, "\nside by side (healthy tasks, and requests/s short at 100%% CPU):\n%s", scalesim.SideBySide(names, results, ramp.Start-60, every))
	var sums []scalesim.Summary
	for _, r := range results {
		sums = append(sums, r.Summary)
	}
	fmt.Fprintf(w, "\n%s", scalesim.Compare(names, sums))
	return nil
}

// trim drops the seconds before from, the quiet minutes before the sale.
func trim(r scalesim.Result, from int) scalesim.Result {
	from = max(0, min(from, len(r.Seconds)))
	r.Seconds = r.Seconds[from:]
	return r
}

// startMeasured is the set-up of the out-of-process measurements: the catalog binary built, a
// PostgreSQL cluster of its own (so its processes are the ones measured, nothing else runs on
// it) with the postmaster's PID for /proc, seeded with c.Products synthetic products, settled
// and sampled. The caller closes e, then the cluster.
func startMeasured(ctx context.Context, b *Binary, c Config, maxConns int, logf func(string, ...any)) (bin string, cluster *pgtest.Cluster, pm int, e *env, err error) {
	if bin, err = b.Path(ctx); err != nil {
		return "", nil, 0, nil, err
	}
	if cluster, err = pgtest.StartWith(pgtest.Options{CommitDurably: true}); err != nil {
		return "", nil, 0, nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	fail := func(err error) (string, *pgtest.Cluster, int, *env, error) {
		if e != nil {
			e.close()
		}
		cluster.Close()
		return "", nil, 0, nil, err
	}
	if pm, err = capacity.PostmasterPID(filepath.Join(cluster.Dir(), "data")); err != nil {
		return fail(fmt.Errorf("find the postmaster: %w", err))
	}
	e = &env{cfg: c, url: cluster.AdminURL}
	s, err := postgres.Open(ctx, e.url, postgres.Options{MaxConns: int32(maxConns)})
	if err != nil {
		return fail(err)
	}
	e.store, e.pool = s, s.Pool()
	e.closers = append(e.closers, func() { s.Close() })
	start := time.Now()
	if err := seed.LoadSynthetic(ctx, e.store, 0, c.Products, 1, nil); err != nil {
		return fail(err)
	}
	if err := settle(ctx, e.pool); err != nil {
		return fail(err)
	}
	cats, _ := seed.SyntheticCategories()
	for _, cat := range cats {
		if cat.Parent == "" {
			e.cats = append(e.cats, cat.Slug)
		}
	}
	logf("seeded %d products in %s", c.Products, time.Since(start).Round(time.Millisecond))
	if err := e.sample(ctx); err != nil {
		return fail(err)
	}
	return bin, cluster, pm, e, nil
}
