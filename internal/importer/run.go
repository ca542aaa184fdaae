package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// run applies one job: validate every line (unless partial), then, unless a dry run, upsert
// batch by batch, saving progress (and so the heartbeat) as batches finish. The validation pass
// keeps what it parsed in a second spool beside the upload (the upload's name + ".parsed"),
// which the apply pass reads instead of decoding the upload again; both files go when run
// returns, whatever the outcome (a stopping instance's job returns through here too). A
// partial job has no validation pass: its apply pass reads the upload.
func (r *Runner) run(ctx context.Context, t task) {
	defer removeSpool(t.spool, t.lock)
	j := t.job
	log := r.log.With("job", j.ID)
	fail := func(reason string) {
		log.Warn("import failed", "reason", reason, "created", j.Created, "updated", j.Updated)
		r.finish(context.WithoutCancel(ctx), j, reason)
	}
	defs, err := r.store.AttributeList(ctx)
	if err != nil {
		fail(passFailure(ctx, fmt.Errorf("the attribute definitions could not be read: %w", err)))
		return
	}
	types := bulk.TypesOf(defs)
	ctx = catalog.WithActor(ctx, j.Actor)

	apply := input{path: t.spool}
	if !j.Partial || j.DryRun {
		j.State = catalog.ImportValidating
		if err := r.save(ctx, j); err != nil {
			fail("progress could not be saved: " + errText(err))
			return
		}
		var keep *parsedSpool
		if !j.DryRun && !r.cfg.Reparse {
			keep = r.createParsed(t.spool, log)
			if keep != nil {
				defer os.Remove(keep.path)
			}
		}
		err := r.pass(ctx, &j, input{path: t.spool}, types, true, keep)
		if keep.close(err == nil, log) {
			apply = input{path: keep.path, parsed: true}
		}
		if err != nil {
			log.Warn("import validation pass stopped", "err", err)
			fail(passFailure(ctx, err))
			return
		}
		if j.Failed > 0 && !j.Partial {
			fail(fmt.Sprintf("%d of %d products were refused; nothing was written (fix the lines listed, or send ?partial=true to import the others)", j.Failed, j.Products))
			return
		}
		if j.DryRun {
			j.State = catalog.ImportSucceeded
			r.finish(ctx, j, "")
			log.Info("import dry run done", "products", j.Products, "failed", j.Failed)
			return
		}
	}
	// The validation pass counted what would happen; the apply pass counts what did.
	j.Lines, j.Products, j.Created, j.Updated, j.Unchanged, j.Failed, j.Errors = 0, 0, 0, 0, 0, 0, nil
	j.State = catalog.ImportRunning
	if err := r.save(ctx, j); err != nil {
		fail("progress could not be saved: " + errText(err))
		return
	}
	if err := r.pass(ctx, &j, apply, types, false, nil); err != nil {
		log.Warn("import apply pass stopped", "err", err, "parsed", apply.parsed)
		fail(passFailure(ctx, err) + fmt.Sprintf("; the %d created and %d updated products of the batches before stay", j.Created, j.Updated))
		return
	}
	if j.Failed > 0 && !j.Partial {
		// Validated, then refused while applying: the catalog changed between the passes.
		fail(fmt.Sprintf("%d products were refused while applying (the catalog changed since validation); the other lines were applied", j.Failed))
		return
	}
	j.State = catalog.ImportSucceeded
	r.finish(ctx, j, "")
	log.Info("import done", "products", j.Products, "created", j.Created, "updated", j.Updated, "failed", j.Failed)
}

func passFailure(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "interrupted: the service stopped while the job ran; upload the file again (an import is an upsert)"
	}
	var re *bulk.RecordError
	if errors.As(err, &re) {
		return re.Error()
	}
	return "the import stopped: " + errText(err)
}

// errText is what a client may read of err: an *Error's message, never a driver's text.
func errText(err error) string {
	var e *catalog.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "an internal error (see the service log)"
}

// pass reads the spool in batches and hands each to the store, a dry run when validating.
// Reading and checking the next batch (Go) overlaps with the store's work on this one (the
// database). With cfg.Parallel above 1 the store works on several batches at once, each in its
// own transaction: every dry run (they write nothing, so their order does not matter), and in
// the apply pass a batch that names none of the SKUs of the batches in flight (namedInFlight),
// once each of those holds the locks of the products it writes (catalog.WhenHeld). The later
// batch then waits for every product both write, and cannot meet an earlier batch's new SKUs
// (it names none), so the result is the one-at-a-time result (ADR 0026). Results are counted
// in file order, and progress is saved once the next batch is in the store's hands, so the
// save's round trip is not between two batches. With keep, every record read is also written
// to the parsed spool.
func (r *Runner) pass(ctx context.Context, j *catalog.ImportJob, in input, types bulk.AttributeTypes, validate bool, keep *parsedSpool) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rd bulk.Reader
	if in.parsed {
		rd = bulk.NewParsedReader(f)
	} else if rd, err = bulk.NewReader(bulk.Format(j.Format), f, types); err != nil {
		return err
	}
	var w *bulk.ParsedWriter
	if keep != nil {
		w = keep.w
	}
	// What a bulk reader returns is normalized and validated already; Reparse keeps the old
	// path (the store does both again) for the bench's A/B.
	checked := in.parsed || !r.cfg.Reparse
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan chunk, 1)
	go readChunks(ctx, rd, r.cfg.BatchSize, checked, w, chunks)
	defer func() {
		// Before f.Close, and before run looks at the parsed spool: the reader stops at its
		// next send, and has returned once chunks is closed.
		cancel()
		for range chunks {
		}
	}()
	var (
		queue   []*flight // in file order
		first   error     // the first failure: no batch starts after it
		unsaved bool      // counts moved since the job was last saved
	)
	// settle waits for the oldest batch in flight and counts it.
	settle := func() {
		fl := queue[0]
		queue = queue[1:]
		<-fl.done
		if first != nil {
			if fl.err == nil { // committed: the job's counts say what stays
				j.Created += int64(fl.res.Created)
				j.Updated += int64(fl.res.Updated)
			}
			return
		}
		if fl.err != nil {
			first = fl.err
			return
		}
		j.Products += fl.c.products
		j.Failed += fl.c.failed
		j.AddProblems(fl.c.problems)
		j.Created += int64(fl.res.Created)
		j.Updated += int64(fl.res.Updated)
		j.Unchanged += int64(fl.res.Unchanged)
		j.AddProblems(fl.res.Problems)
		j.Failed += int64(failedLines(fl.res.Problems))
		j.Lines = fl.c.lines
		unsaved = true
	}
	// saveProgress records the counts so far (and moves the heartbeat).
	saveProgress := func() {
		if unsaved && first == nil {
			unsaved = false
			if err := r.save(ctx, *j); err != nil {
				first = err
			}
		}
	}
	drain := func() {
		for len(queue) > 0 {
			settle()
		}
	}
	for c := range chunks {
		if first != nil {
			break
		}
		if len(c.items) == 0 || c.err != nil {
			// Lines the reader refused, or the error that ends the pass: counted in order.
			drain()
			if first != nil {
				break
			}
			j.Products += c.products
			j.Failed += c.failed
			j.AddProblems(c.problems)
			j.Lines = max(j.Lines, c.lines)
			if c.err != nil {
				return c.err
			}
			continue
		}
		fl := &flight{c: c, done: make(chan struct{}), held: make(chan struct{})}
		if validate {
			for len(queue) >= r.cfg.Parallel {
				settle()
			}
		} else {
			if r.cfg.Parallel > 1 { // one at a time needs no SKUs: every batch waits anyway
				fl.skus = skusOf(c.items)
			}
			if namedInFlight(fl.skus, queue) {
				drain()
			}
			for len(queue) >= r.cfg.Parallel {
				settle()
			}
			// A batch still planning may yet lock a product this one writes: wait until each
			// holds its locks (or is done), so this one queues behind them on shared products.
			for _, o := range queue {
				select {
				case <-o.held:
				case <-o.done:
				}
			}
		}
		if first != nil {
			break
		}
		bctx := ctx
		if !validate {
			var once sync.Once
			bctx = catalog.WhenHeld(ctx, func() { once.Do(func() { close(fl.held) }) })
		}
		go func() {
			defer close(fl.done)
			fl.res, fl.err = r.store.UpsertProducts(bctx, fl.c.items, validate)
		}()
		queue = append(queue, fl)
		saveProgress()
	}
	drain()
	saveProgress()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// input is what a pass reads: the upload as spooled, or the parsed spool the validation pass
// wrote.
type input struct {
	path   string
	parsed bool
}

// parsedSpool is the parsed spool being written by a validation pass.
type parsedSpool struct {
	path string
	f    *os.File
	w    *bulk.ParsedWriter
}

// createParsed creates the parsed spool beside the upload's. Without one (the disk refused it)
// the apply pass reads the upload again, as it did before there was one: nil, logged.
func (r *Runner) createParsed(upload string, log *slog.Logger) *parsedSpool {
	path := upload + parsedSuffix
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		log.Warn("import: no parsed spool, the apply pass reads the upload again", "err", err)
		return nil
	}
	return &parsedSpool{path: path, f: f, w: bulk.NewParsedWriter(f)}
}

// close closes the parsed spool after the validation pass and reports whether the apply pass
// can read it: the pass read the whole file (complete) and every write succeeded. A write that
// failed (a full disk) is logged and the apply pass reads the upload instead: the spool only
// saves work, it never fails a job.
func (p *parsedSpool) close(complete bool, log *slog.Logger) bool {
	if p == nil {
		return false
	}
	err := p.f.Close()
	if werr := p.w.Err(); werr != nil {
		err = werr
	}
	if err != nil && complete {
		log.Warn("import: the parsed spool could not be written, the apply pass reads the upload again", "err", err)
	}
	return err == nil && complete && p.w.Ended()
}

// flight is a batch handed to the store, and what the store answered once done is closed.
type flight struct {
	c    chunk
	skus map[string]bool // lower case; kept in the apply pass when batches may overlap
	held chan struct{}   // closed once the store holds the batch's locks (catalog.WhenHeld)
	done chan struct{}
	res  catalog.ImportResult
	err  error
}

// skusOf returns the SKUs items name, in lower case (the store's uniqueness).
func skusOf(items []catalog.ImportItem) map[string]bool {
	out := map[string]bool{}
	for _, it := range items {
		for _, v := range it.Product.Variants {
			out[strings.ToLower(v.SKU)] = true
		}
	}
	return out
}

// namedInFlight reports whether a batch in queue that kept its SKUs names one of skus, or one
// in queue did not keep them (it then may name anything).
func namedInFlight(skus map[string]bool, queue []*flight) bool {
	for _, fl := range queue {
		if fl.skus == nil {
			return true
		}
		for s := range skus {
			if fl.skus[s] {
				return true
			}
		}
	}
	return false
}

// chunk is a batch of products read from the spool, with what the reader refused on the way
// (products and failed count those lines too), the lines read up to its end, or the error that
// ends the pass.
type chunk struct {
	items            []catalog.ImportItem
	products, failed int64
	problems         []catalog.ImportProblem
	lines            int64
	err              error
}

// readChunks sends rd's products in batches of size, the last one at the end of the file, then
// closes out. A fatal reader error is sent (with what the batch read before it refused) instead
// of that batch, so the pass stops as if reading in line. Items are marked checked as told;
// with keep, each product read is also written there, and the end of the file ends it (a
// failed write sticks in keep: the caller looks once the pass is over).
func readChunks(ctx context.Context, rd bulk.Reader, size int, checked bool, keep *bulk.ParsedWriter, out chan<- chunk) {
	defer close(out)
	c := chunk{items: make([]catalog.ImportItem, 0, size)}
	send := func() bool {
		select {
		case out <- c:
			c = chunk{items: make([]catalog.ImportItem, 0, size)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			c.lines = int64(rd.Lines())
			if keep != nil {
				_ = keep.End(rd.Lines()) // sticky: parsedSpool.close reports it
			}
			send()
			return
		}
		var re *bulk.RecordError
		switch {
		case errors.As(err, &re):
			c.products++
			c.failed++
			for _, p := range re.Problems {
				c.problems = append(c.problems, catalog.ImportProblem{Line: p.Line, Field: p.Field, Rule: p.Rule})
			}
			if re.Fatal {
				c.items, c.err, c.lines = nil, re, int64(rd.Lines())
				send()
				return
			}
			continue
		case err != nil:
			c.items, c.err = nil, err
			send()
			return
		}
		if keep != nil {
			// Before the batch is sent: the store may touch its items once it has them.
			_ = keep.Add(rec, rd.Lines()) // sticky: parsedSpool.close reports it
		}
		c.products++
		c.items = append(c.items, catalog.ImportItem{Line: rec.Line, Product: rec.Product, Checked: checked})
		if len(c.items) == size {
			c.lines = int64(rd.Lines())
			if !send() {
				return
			}
		}
	}
}

// failedLines counts the distinct lines among problems (a line may have several).
func failedLines(ps []catalog.ImportProblem) int {
	seen := map[int]bool{}
	for _, p := range ps {
		seen[p.Line] = true
	}
	return len(seen)
}
