package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/capacity"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
)

// ImportTarget is issue 17's import target on PostgreSQL, in products per second: the one the
// stacks' import settings are sized for.
const ImportTarget = blueprint.ImportTargetPerSecond

// ImportRun is one import job measured end to end: spool, validation pass, apply pass.
type ImportRun struct {
	Name              string
	Products          int64
	Created, Updated  int64
	Unchanged         int64
	Failed            int64
	Spool, Validate   time.Duration
	Apply, Total      time.Duration
	PeakRSSKB         int64 // the bench process (server side: spool, reader, batches, store client)
	Bytes             int64
	Variants          int
	State             catalog.ImportState
	Reason            string
	ValidateRate, All float64 // products per second
	// CPU spent during each phase: the job's (this process: spool, reading, validation, the
	// store's Go side; the bench's polling is in it too, a statement every 20 ms) and
	// PostgreSQL's (every process of the throw-away cluster, from /proc; zero with
	// -database-url). Phases are told apart by polling the job's state, to 20 ms.
	JobCPU, PGCPU Phases
	PGMeasured    bool
	// GC is the collector's budget the job ran under: the default task's, as in the service.
	GC gcBudget
}

// Phases is a CPU time per phase of a job.
type Phases struct{ Spool, Validate, Apply time.Duration }

// Total is the phases together.
func (p Phases) Total() time.Duration { return p.Spool + p.Validate + p.Apply }

// ImportOptions are the -import bench's own switches.
type ImportOptions struct {
	// Reparse makes the apply pass decode the upload again (importer.Config.Reparse), the path
	// before the parsed spool, for A/B runs.
	Reparse bool
}

// RunImport writes n synthetic products (about 4 variants each) to a JSONL or CSV file, imports
// it through the real job path (importer.Runner: spool, validate, apply in batches of 1,000),
// then the same file again (every line unchanged), then the file with every price changed (every
// product an update), and reports each with the CPU it cost the job and PostgreSQL.
func RunImport(ctx context.Context, cfg Config, format bulk.Format, opts ImportOptions) ([]ImportRun, error) {
	// The job runs in this process: give it the collector's budget it has in the service's task
	// (ADR 0027), or its CPU and RSS would be another program's.
	gc, restoreGC, err := asDefaultTask()
	if err != nil {
		return nil, err
	}
	defer restoreGC()
	var store catalog.Store
	postmaster := 0 // the throw-away cluster's, for its CPU; 0 with DATABASE_URL
	dir, err := os.MkdirTemp("", "catalog-import-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	switch cfg.Store {
	case "sqlite":
		s, err := sqlite.Open(ctx, filepath.Join(dir, sqlite.FileName), sqlite.Options{})
		if err != nil {
			return nil, err
		}
		store = s
	case "postgres":
		url := cfg.DatabaseURL
		if url == "" {
			c, err := pgtest.StartWith(pgtest.Options{CommitDurably: true})
			if err != nil {
				return nil, fmt.Errorf("start PostgreSQL (or set DATABASE_URL): %w", err)
			}
			defer c.Close()
			url = c.AdminURL
			if pm, err := capacity.PostmasterPID(filepath.Join(c.Dir(), "data")); err == nil {
				postmaster = pm
			}
		}
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: int32(max(8, 2*runtime.NumCPU()))})
		if err != nil {
			return nil, err
		}
		store = s
	default:
		return nil, fmt.Errorf("unknown store %q: sqlite or postgres", cfg.Store)
	}
	defer store.Close()
	cats, _ := seed.SyntheticCategories()
	for _, c := range cats {
		if _, err := store.CreateCategory(ctx, c); err != nil && catalog.ErrorCode(err) != catalog.CodeConflict {
			return nil, err
		}
	}
	for _, a := range seed.SyntheticAttributes() {
		if _, err := store.CreateAttribute(ctx, a); err != nil && catalog.ErrorCode(err) != catalog.CodeConflict {
			return nil, err
		}
	}
	file := filepath.Join(dir, "products."+string(format))
	size, variants, err := writeSynthetic(file, format, cfg.Products, 0)
	if err != nil {
		return nil, err
	}
	repriced := filepath.Join(dir, "repriced."+string(format))
	if _, _, err := writeSynthetic(repriced, format, cfg.Products, 1); err != nil {
		return nil, err
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "import: wrote %d products, %d variants, %d bytes of %s\n", cfg.Products, variants, size, format)
	}
	parallel := 1
	if cfg.Store == "postgres" {
		parallel = 2 // as the service runs it (internal/app)
	}
	if cfg.ImportParallel > 0 {
		parallel = cfg.ImportParallel
	}
	r := importer.New(store, importer.Config{Dir: dir, Parallel: parallel, Reparse: opts.Reparse})
	rctx, stop := context.WithCancel(ctx)
	defer func() { stop(); _ = r.Stop(context.Background()) }()
	r.Start(rctx)
	if cfg.Profile != nil {
		// The jobs only: not the file's generation.
		if err := pprof.StartCPUProfile(cfg.Profile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var runs []ImportRun
	for _, step := range []struct{ name, file string }{
		{"create", file}, {"same file again", file}, {"update (new prices)", repriced},
	} {
		name := step.name
		run, err := importOnce(ctx, store, r, step.file, format, newCPUClock(postmaster))
		run.Name, run.Bytes, run.Variants, run.GC = name, size, variants, gc
		runs = append(runs, run)
		if err != nil {
			return runs, err
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "import: %s: %s in %s\n", name, run.State, run.Total.Round(time.Millisecond))
		}
	}
	return runs, nil
}

// writeSynthetic streams n synthetic products into file, so the file's size never costs memory;
// bump is added to every price (a file of the same products, every variant repriced).
func writeSynthetic(file string, format bulk.Format, n int, bump int64) (int64, int, error) {
	f, err := os.Create(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var cols bulk.CSVColumns
	if format == bulk.CSV {
		// The generator's columns, from a sample wide enough to hold every one.
		for i := range 2000 {
			cols.Add(seed.SyntheticProduct(i, 1).ProductInput)
		}
	}
	cw := bulk.NewCSVWriter(w, cols)
	variants := 0
	for i := range n {
		p := seed.SyntheticProduct(i, 1).ProductInput
		for j := range p.Variants {
			for k := range p.Variants[j].Prices {
				p.Variants[j].Prices[k].Amount += bump
			}
		}
		variants += len(p.Variants)
		if format == bulk.CSV {
			err = cw.Write(fmt.Sprintf("p%d", i), p)
		} else {
			err = bulk.WriteJSONL(w, p)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if format == bulk.CSV {
		if err := cw.Flush(); err != nil {
			return 0, 0, err
		}
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return st.Size(), variants, nil
}

// importOnce submits file as a job and times its phases by polling the job.
func importOnce(ctx context.Context, store catalog.Store, r *importer.Runner, file string, format bulk.Format, clock cpuClock) (ImportRun, error) {
	var run ImportRun
	f, err := os.Open(file)
	if err != nil {
		return run, err
	}
	start, c0 := time.Now(), clock.read()
	job, _, err := r.Submit(ctx, importer.Upload{Format: format, Body: f})
	f.Close()
	if err != nil {
		return run, err
	}
	run.Spool = time.Since(start)
	c1 := clock.read()
	var running time.Time
	c2 := c1
	for !job.State.Finished() {
		time.Sleep(20 * time.Millisecond)
		if job, err = store.ImportJob(ctx, job.ID); err != nil {
			return run, err
		}
		if running.IsZero() && job.State != catalog.ImportValidating && job.State != catalog.ImportQueued {
			running, c2 = time.Now(), clock.read()
		}
	}
	end, c3 := time.Now(), clock.read()
	run.Total, run.Validate, run.Apply = end.Sub(start), running.Sub(start)-run.Spool, end.Sub(running)
	run.JobCPU = Phases{Spool: c1.job - c0.job, Validate: c2.job - c1.job, Apply: c3.job - c2.job}
	run.PGCPU = Phases{Spool: c1.pg - c0.pg, Validate: c2.pg - c1.pg, Apply: c3.pg - c2.pg}
	run.PGMeasured = clock.postmaster != 0
	run.Products, run.Created, run.Updated, run.Unchanged, run.Failed, run.State, run.Reason = job.Products, job.Created, job.Updated, job.Unchanged, job.Failed, job.State, job.Reason
	run.PeakRSSKB = rssKB(os.Getpid(), "VmHWM:")
	run.All = float64(run.Products) / run.Total.Seconds()
	run.ValidateRate = float64(run.Products) / run.Validate.Seconds()
	if run.State != catalog.ImportSucceeded {
		return run, fmt.Errorf("import %s: %s", job.ID, job.Reason)
	}
	return run, nil
}

// cpuClock reads the CPU this process and a local PostgreSQL have used.
type cpuClock struct {
	postmaster int
	tick       time.Duration
}

type cpuReading struct{ job, pg time.Duration }

func newCPUClock(postmaster int) cpuClock {
	return cpuClock{postmaster: postmaster, tick: time.Second / time.Duration(capacity.ClockTicks())}
}

// read returns the CPU used so far: this process's user+system time (getrusage), and the
// cluster's (postmaster, its live children and the children it reaped: backends that exited
// count too), zero when the cluster is not local or cannot be read.
func (c cpuClock) read() cpuReading {
	var out cpuReading
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		out.job = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if c.postmaster != 0 {
		if ticks, err := capacity.TreeTicks(c.postmaster); err == nil {
			out.pg = time.Duration(ticks) * c.tick
		}
	}
	return out
}

// ImportTable prints the runs beside the target, then what they cost in CPU.
func ImportTable(w io.Writer, store string, runs []ImportRun) {
	fmt.Fprintf(w, "%-20s %9s %9s %9s %9s %10s %10s %10s %13s %10s %s\n", "import", "products", "created", "updated", "unchanged",
		"spool", "validate", "apply", "products/s", "peak RSS", "target")
	for _, r := range runs {
		target := "-"
		if store == "postgres" {
			target = fmt.Sprintf(">= %d/s %s", ImportTarget, verdict(r.All >= ImportTarget))
		}
		fmt.Fprintf(w, "%-20s %9d %9d %9d %9d %10s %10s %10s %13.0f %7d MiB %s\n", r.Name, r.Products, r.Created, r.Updated, r.Unchanged,
			r.Spool.Round(time.Millisecond), r.Validate.Round(time.Millisecond), r.Apply.Round(time.Millisecond), r.All, r.PeakRSSKB/1024, target)
	}
	if len(runs) > 0 {
		fmt.Fprintf(w, "file: %d products, %d variants, %.1f MiB; products/s counts the whole job (spool + validation pass + apply pass)\n",
			runs[0].Products, runs[0].Variants, float64(runs[0].Bytes)/(1<<20))
		fmt.Fprintf(w, "collector: %s, the service's in the stacks' default task (ADR 0027; set GOGC=100 for Go's default)\n",
			runs[0].GC)
	}
	ImportCPUTable(w, runs)
}

// ImportCPUTable prints each run's CPU per 1,000 products, the job's and PostgreSQL's, per
// pass; how many cores they kept busy together; derived from those figures only, the
// products/s they would allow if PostgreSQL had two cores of its own beside the job's two; and
// the writer PostgreSQL would need, beside a job with two cores, for the target.
func ImportCPUTable(w io.Writer, runs []ImportRun) {
	ms := func(d time.Duration, n int64) float64 {
		return float64(d) / float64(time.Millisecond) / (float64(n) / 1000)
	}
	fmt.Fprintf(w, "\n%-20s %24s %24s %11s %12s %26s\n", "CPU per 1,000", "job ms (valid. / apply)", "PostgreSQL ms (v / a)", "cores busy", "derived /s",
		fmt.Sprintf("writer for %d/s", ImportTarget))
	for _, r := range runs {
		if r.Products == 0 || r.Total <= 0 {
			continue
		}
		job := fmt.Sprintf("%.0f (%.0f / %.0f)", ms(r.JobCPU.Total(), r.Products), ms(r.JobCPU.Validate, r.Products), ms(r.JobCPU.Apply, r.Products))
		pg, busy, derived, writer := "-", "-", "-", "-"
		if r.PGMeasured {
			pg = fmt.Sprintf("%.0f (%.0f / %.0f)", ms(r.PGCPU.Total(), r.Products), ms(r.PGCPU.Validate, r.Products), ms(r.PGCPU.Apply, r.Products))
			busy = fmt.Sprintf("%.2f", float64(r.JobCPU.Total()+r.PGCPU.Total())/float64(r.Total))
			derived = fmt.Sprintf("%.0f", DerivedImportRate(r.JobCPU, r.PGCPU, r.Products))
			writer = "not with 2 job cores"
			if vcpus, ok := WriterForRate(r.JobCPU, r.PGCPU, r.Products, ImportTarget, derivedJobCores); ok {
				writer = fmt.Sprintf("%.2f vCPUs (%.0f ACU busy)", vcpus, math.Ceil(vcpus/capacity.VCPUPerACU))
			}
		}
		fmt.Fprintf(w, "%-20s %24s %24s %11s %12s %26s\n", r.Name, job, pg, busy, derived, writer)
	}
	fmt.Fprintln(w, "derived /s is not measured: it is what these CPU figures allow if the job had this machine's 2 cores and PostgreSQL 2 of its own:")
	fmt.Fprintln(w, "the spool on one core, then each pass as long as its busier side (job or PostgreSQL) takes on 2 cores, with no waiting between them;")
	fmt.Fprintf(w, "writer for %d/s: the fewest PostgreSQL vCPUs (in quarters) for which that same model reaches the target beside a job with 2 cores,\n", ImportTarget)
	fmt.Fprintln(w, "in Aurora capacity units at 0.25 vCPU each and fully busy (IMPORT_PARALLEL must be at least the vCPUs, rounded up)")
}

// derivedJobCores is the cores the derived figures give the job: this machine's two, a Fargate
// task of 2 vCPUs.
const derivedJobCores = 2

// DerivedImportRate is the products/s a job's CPU figures allow with two cores for the job and
// two for PostgreSQL (importRate). A ceiling from the figures, not a measurement.
func DerivedImportRate(job, pg Phases, products int64) float64 {
	return importRate(job, pg, products, derivedJobCores, 2)
}

// importRate is the products/s a job's CPU figures allow with jobCores for the job and pgCores
// for PostgreSQL: the spool runs on one core (a copy and a hash), then each pass lasts as long
// as its busier side needs on its cores, both sides overlapping perfectly.
func importRate(job, pg Phases, products int64, jobCores, pgCores float64) float64 {
	pass := func(j, p time.Duration) float64 { return max(j.Seconds()/jobCores, p.Seconds()/pgCores) }
	t := job.Spool.Seconds() + pass(job.Validate, pg.Validate) + pass(job.Apply, pg.Apply)
	if t <= 0 {
		return 0
	}
	return float64(products) / t
}

// WriterForRate is the fewest PostgreSQL vCPUs, in quarters up to 64, with which importRate
// reaches rate beside a job of jobCores; false when none does (the job's own side is too slow).
func WriterForRate(job, pg Phases, products int64, rate, jobCores float64) (float64, bool) {
	for q := 1; q <= 4*64; q++ {
		if vcpus := float64(q) / 4; importRate(job, pg, products, jobCores, vcpus) >= rate {
			return vcpus, true
		}
	}
	return 0, false
}
