// Command bench runs the catalog's load scenarios over loopback and prints a table of requests
// per second and latency percentiles, each beside the ceiling it should be compared with. Then
// it runs the fault scenarios (database restart, credential rotation, rolling restart behind a
// proxy, database late at start) against the binary as processes, each printing what happened;
// it exits 1 when any promise broke.
//
//	go run ./cmd/bench -store postgres -products 100000 -duration 5s
//	go run ./cmd/bench -scenarios fault -process=false
//	go run ./cmd/bench -capacity -products 20000 -duration 3s   # capacity model and flash-sale simulation
//	go run ./cmd/bench -wrk -products 100000 -duration 10s         # reads out of process, with wrk
//	go run ./cmd/bench -import jsonl -products 100000               # bulk import through the job path
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bench"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/bulk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := fs.String("store", "postgres", "store to drive: sqlite or postgres")
	products := fs.Int("products", 100_000, "size of the generated catalog")
	duration := fs.Duration("duration", 5*time.Second, "time per scenario")
	workers := fs.Int("workers", 4*runtime.NumCPU(), "concurrent clients (closed loop)")
	scenarios := fs.String("scenarios", "", "scenario name prefixes, separated by a comma without a space after it (names hold \", \"; default: all)")
	process := fs.Bool("process", true, "also measure the catalog binary as a process: start to ready, resident memory, size")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the scenarios, or of the import jobs with -import (server and client share this process), to this file")
	scale := fs.String("scale", "", "instead of the suite, grow one PostgreSQL catalog through these sizes (e.g. 10000,100000,1000000) and report how the reads grow")
	faults := fs.Bool("faults", true, "also run the fault scenarios (names start with \"fault:\"), on a throw-away cluster of their own")
	phase := fs.Duration("fault-phase", 2*time.Second, "length of each step of a fault scenario")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL to use (default: a throw-away cluster)")
	capacity := fs.Bool("capacity", false, "instead of the suite, measure CPU per request of the binary and PostgreSQL, print the capacity model and simulate a 10x flash sale (see docs/capacity.md)")
	baseline := fs.Float64("capacity-baseline", 2000, "with -capacity: the 1x traffic in requests/s of the baseline mix")
	perTask := fs.Float64("capacity-rps-per-task", 0, "with -capacity: skip measuring and simulate with this many requests/s per task at the CPU target")
	edgeHit := fs.Float64("capacity-edge-hit", 0, "with -capacity: the fraction of requests an edge cache answers, 0 to 0.99")
	useWrk := fs.Bool("wrk", false, "instead of the suite, measure reads out of process with wrk (64 connections, ids over the whole catalog, server and PostgreSQL CPU per request); skipped with a message when wrk is not installed")
	connections := fs.Int("wrk-connections", 64, "with -wrk: wrk's connections")
	wrkProfile := fs.String("wrk-cpuprofile", "", "with -wrk: the served process without the cache (this build's) writes a CPU profile of every scenario it serves to this file (pick them with -scenarios); read it with go tool pprof")
	wrkCachedProfile := fs.String("wrk-cpuprofile-cached", "", "with -wrk: the same for the served process with the cache (this build's): hot reads and the other cached scenarios, warm-ups included")
	before := fs.String("wrk-before", "", "with -wrk: another catalog binary (say main's: cd /work/main && go build -o /tmp/catalog-before ./cmd/catalog) measured beside this build in the same run")
	taskStart := fs.Int("capacity-task-start", 0, "with -capacity: seconds from desired count to a RUNNING task (0: the simulation's assumption, 50)")
	importFormat := fs.String("import", "", "instead of the suite, import -products synthetic products from a file of this format (jsonl or csv) through the real job path, twice (creates, then updates), and print products/s and peak RSS beside the target")
	importParallel := fs.Int("import-parallel", 0, "with -import: batches in the store at once (0: as the service runs it, 2 on PostgreSQL, 1 on SQLite)")
	importReparse := fs.Bool("import-reparse", false, "with -import: the apply pass decodes the upload again and the store validates every line again, as before the parsed spool (for A/B runs)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *scenarios != "" && (*importFormat != "" || *capacity || *scale != "") {
		fmt.Fprintln(stderr, "bench: -scenarios picks from the suite or -wrk; -import, -capacity and -scale run a fixed set")
		return 2
	}
	// Every prefix must select a scenario of the mode that runs, before anything is built.
	names := bench.SuiteNames(*store, *faults)
	if *useWrk {
		names = bench.WrkNames()
	}
	if err := bench.CheckSelection(bench.ParseScenarios(*scenarios), names); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	// One profile file for whichever mode runs; a nil io.Writer (not a nil *os.File) when none.
	var profile io.Writer
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		defer f.Close()
		profile = f
	}
	if *importFormat != "" {
		cfg := bench.Config{Store: *store, DatabaseURL: *dbURL, Products: *products, Progress: stderr, Profile: profile, ImportParallel: *importParallel}
		runs, err := bench.RunImport(ctx, cfg, bulk.Format(*importFormat), bench.ImportOptions{Reparse: *importReparse})
		fmt.Fprintf(stdout, "catalog bench, import: store=%s products=%d format=%s reparse=%t cpus=%d\n\n", *store, *products, *importFormat, *importReparse, runtime.NumCPU())
		bench.ImportTable(stdout, *store, runs)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	if *products < 100 || *workers < 1 || *duration <= 0 || *phase < 100*time.Millisecond {
		fmt.Fprintln(stderr, "bench: -products must be at least 100, -workers at least 1, -duration positive, -fault-phase at least 100ms")
		return 2
	}
	// One build serves the process measurement and every fault.
	bin := &bench.Binary{}
	defer bin.Close()
	cfg := bench.Config{Store: *store, DatabaseURL: *dbURL, Products: *products, Duration: *duration, Workers: *workers,
		Progress: stderr, Process: *process, Binary: bin}
	cfg.Scenarios = bench.ParseScenarios(*scenarios)
	if *capacity {
		return runCapacity(ctx, bench.CapacityConfig{Binary: bin, Products: *products, Duration: *duration, Workers: *workers,
			Baseline: *baseline, RPSPerTask: *perTask, EdgeHitRatio: *edgeHit, TaskStart: *taskStart, Progress: stderr}, stdout, stderr)
	}
	if *useWrk {
		fmt.Fprintf(stdout, "catalog bench, wrk: store=postgres products=%d connections=%d duration=%s cpus=%d %s task=%s\n\n",
			*products, *connections, *duration, runtime.NumCPU(), runtime.Version(), blueprint.DefaultTaskSize)
		results, err := bench.RunWrk(ctx, bench.WrkConfig{Binary: bin, Products: *products, Duration: *duration, Connections: *connections, Before: *before, Scenarios: cfg.Scenarios, CPUProfile: *wrkProfile, CachedCPUProfile: *wrkCachedProfile, Progress: stderr})
		if errors.Is(err, bench.ErrNoWrk) {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 0
		}
		if len(results) > 0 { // what ran before an error, too
			bench.WrkTable(stdout, results)
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	if *scale != "" {
		var sizes []int
		for _, f := range strings.Split(*scale, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				fmt.Fprintf(stderr, "bench: -scale wants ascending sizes of at least 100, comma-separated: %q\n", f)
				return 2
			}
			sizes = append(sizes, n)
		}
		fmt.Fprintf(stdout, "catalog bench, scale: store=postgres sizes=%v workers=%d duration=%s cpus=%d %s\n\n",
			sizes, *workers, *duration, runtime.NumCPU(), runtime.Version())
		steps, err := bench.RunScale(ctx, cfg, sizes)
		for _, st := range steps {
			fmt.Fprintf(stdout, "%d products:\n", st.Products)
			bench.Table(stdout, st.Results)
			fmt.Fprintln(stdout)
		}
		bench.ScaleTable(stdout, steps)
		if err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "catalog bench: store=%s products=%d workers=%d duration=%s cpus=%d %s\n\n",
		*store, *products, *workers, *duration, runtime.NumCPU(), runtime.Version())
	cfg.Profile = profile
	results, err := bench.RunSuite(ctx, cfg)
	if *faults && ctx.Err() == nil {
		// Four workers, whatever -workers says: the faults check promises, not throughput.
		fr, ferr := bench.RunFaults(ctx, bench.FaultConfig{Binary: bin, Scenarios: cfg.Scenarios, Phase: *phase,
			RequireProxy: os.Getenv("CI") == "true", Progress: stderr})
		results, err = append(results, fr...), errors.Join(err, ferr)
	}
	bench.Table(stdout, results)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "\nbench: interrupted; what it started has been stopped and removed")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "\nbench: FAILED: %v\n", err)
		return 1
	}
	return 0
}
