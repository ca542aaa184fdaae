package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
)

// ImportTarget is issue 17's import target on PostgreSQL, in products per second.
const ImportTarget = 5000

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
}

// RunImport writes n synthetic products (about 4 variants each) to a JSONL or CSV file, imports
// it through the real job path (importer.Runner: spool, validate, apply in batches of 1,000),
// then the same file again (every line unchanged), then the file with every price changed (every
// product an update), and reports each.
func RunImport(ctx context.Context, cfg Config, format bulk.Format) ([]ImportRun, error) {
	var store catalog.Store
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
	r := importer.New(store, importer.Config{Dir: dir, Parallel: parallel})
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
		run, err := importOnce(ctx, store, r, step.file, format)
		run.Name, run.Bytes, run.Variants = name, size, variants
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
func importOnce(ctx context.Context, store catalog.Store, r *importer.Runner, file string, format bulk.Format) (ImportRun, error) {
	var run ImportRun
	f, err := os.Open(file)
	if err != nil {
		return run, err
	}
	start := time.Now()
	job, _, err := r.Submit(ctx, importer.Upload{Format: format, Body: f})
	f.Close()
	if err != nil {
		return run, err
	}
	run.Spool = time.Since(start)
	var running time.Time
	for !job.State.Finished() {
		time.Sleep(20 * time.Millisecond)
		if job, err = store.ImportJob(ctx, job.ID); err != nil {
			return run, err
		}
		if running.IsZero() && job.State != catalog.ImportValidating && job.State != catalog.ImportQueued {
			running = time.Now()
		}
	}
	end := time.Now()
	run.Total, run.Validate, run.Apply = end.Sub(start), running.Sub(start)-run.Spool, end.Sub(running)
	run.Products, run.Created, run.Updated, run.Unchanged, run.Failed, run.State, run.Reason = job.Products, job.Created, job.Updated, job.Unchanged, job.Failed, job.State, job.Reason
	run.PeakRSSKB = rssKB(os.Getpid(), "VmHWM:")
	run.All = float64(run.Products) / run.Total.Seconds()
	run.ValidateRate = float64(run.Products) / run.Validate.Seconds()
	if run.State != catalog.ImportSucceeded {
		return run, fmt.Errorf("import %s: %s", job.ID, job.Reason)
	}
	return run, nil
}

// ImportTable prints the runs beside the target.
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
	}
}
