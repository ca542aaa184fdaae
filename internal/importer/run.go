package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// run applies one job: validate every line (unless partial), then, unless a dry run, upsert
// batch by batch, saving progress (and so the heartbeat) after each batch.
func (r *Runner) run(ctx context.Context, t task) {
	defer os.Remove(t.spool)
	j := t.job
	log := r.log.With("job", j.ID)
	fail := func(reason string) {
		log.Warn("import failed", "reason", reason, "created", j.Created, "updated", j.Updated)
		r.finish(context.WithoutCancel(ctx), j, reason)
	}
	defs, err := r.store.AttributeList(ctx)
	if err != nil {
		fail("the attribute definitions could not be read: " + errText(err))
		return
	}
	types := bulk.TypesOf(defs)
	ctx = catalog.WithActor(ctx, j.Actor)

	if !j.Partial || j.DryRun {
		j.State = catalog.ImportValidating
		if err := r.save(ctx, j); err != nil {
			fail("progress could not be saved: " + errText(err))
			return
		}
		err := r.pass(ctx, &j, t.spool, types, true)
		if err != nil {
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
	j.Lines, j.Products, j.Created, j.Updated, j.Failed, j.Errors = 0, 0, 0, 0, 0, nil
	j.State = catalog.ImportRunning
	if err := r.save(ctx, j); err != nil {
		fail("progress could not be saved: " + errText(err))
		return
	}
	if err := r.pass(ctx, &j, t.spool, types, false); err != nil {
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
func (r *Runner) pass(ctx context.Context, j *catalog.ImportJob, spool string, types bulk.AttributeTypes, validate bool) error {
	f, err := os.Open(spool)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := bulk.NewReader(bulk.Format(j.Format), f, types)
	if err != nil {
		return err
	}
	batch := make([]catalog.ImportItem, 0, r.cfg.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := r.store.UpsertProducts(ctx, batch, validate)
		if err != nil {
			return err
		}
		j.Created += int64(res.Created)
		j.Updated += int64(res.Updated)
		j.AddProblems(res.Problems)
		j.Failed += int64(failedLines(res.Problems))
		j.Lines = int64(rd.Lines())
		batch = batch[:0]
		return r.save(ctx, *j)
	}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var re *bulk.RecordError
		switch {
		case errors.As(err, &re):
			j.Products++
			j.Failed++
			for _, p := range re.Problems {
				j.AddProblems([]catalog.ImportProblem{{Line: p.Line, Field: p.Field, Rule: p.Rule}})
			}
			if re.Fatal {
				return re
			}
			continue
		case err != nil:
			return err
		}
		j.Products++
		batch = append(batch, catalog.ImportItem{Line: rec.Line, Product: rec.Product})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	j.Lines = int64(rd.Lines())
	return nil
}

// failedLines counts the distinct lines among problems (a line may have several).
func failedLines(ps []catalog.ImportProblem) int {
	seen := map[int]bool{}
	for _, p := range ps {
		seen[p.Line] = true
	}
	return len(seen)
}
