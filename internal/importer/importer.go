// Package importer runs bulk imports: it spools an upload to a file with a size cap, records
// the job, and applies it in the background, validating the whole file before the first write
// (unless the job is partial), then upserting batch by batch (ADR 0019).
package importer

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
)

// Defaults.
const (
	DefaultMaxBytes   = 1 << 30 // 1 GiB decompressed
	DefaultBatchSize  = 1000
	DefaultStaleAfter = 2 * time.Minute
	// MaxQueued bounds the jobs an instance holds spooled and waiting; a further upload is a
	// 503 with Retry-After rather than more disk.
	MaxQueued = 4
)

// ErrTooLarge says an upload is over the size cap (a 413).
var ErrTooLarge = errors.New("importer: upload over the size cap")

const interruptedWaiting = "interrupted: the service stopped before the job ran; upload the file again"

// ErrBusy says the instance holds as many waiting jobs as it may (a 503).
var ErrBusy = errors.New("importer: too many imports waiting")

// Config configures a Runner. Its zero value works (spool in os.TempDir, 1 GiB cap).
type Config struct {
	// Dir is where uploads are spooled.
	Dir string
	// MaxBytes caps an upload, decompressed.
	MaxBytes int64
	// BatchSize is the products per transaction.
	BatchSize int
	// Parallel is how many batches a pass may have in the store at once: the validation pass's
	// dry runs, and in the apply pass a batch beside the ones before it when it names none of
	// their SKUs and they hold their locks (catalog.WhenHeld, ADR 0026).
	// PostgreSQL works on each in its own connection; SQLite has one writer, so 1 there. Zero
	// means 1.
	Parallel int
	// StaleAfter is how long an unfinished job's heartbeat may stand still before any instance
	// marks it failed (its instance stopped).
	StaleAfter time.Duration
	// Reparse makes the apply pass decode the upload again, and the store normalize and
	// validate every line again, as before the parsed spool (ADR 0026, 2026-12-03): for the
	// bench's A/B (-import-reparse), not a setting of the service.
	Reparse bool
	Log     *slog.Logger
}

// Runner accepts uploads and applies them, one job at a time per instance.
type Runner struct {
	store catalog.Store
	cfg   Config
	log   *slog.Logger
	queue chan task

	mu      sync.Mutex
	held    map[string]catalog.ImportJob // jobs spooled here and not finished: their heartbeats
	stop    context.CancelFunc
	done    chan struct{}
	started bool
}

type task struct {
	job   catalog.ImportJob
	spool string
	lock  *spoolLock // held until the spool is removed (spool.go)
}

// New returns a Runner over store; Start runs it.
func New(store catalog.Store, cfg Config) *Runner {
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 1
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: store, cfg: cfg, log: log, queue: make(chan task, MaxQueued), held: map[string]catalog.ImportJob{}, done: make(chan struct{})}
}

// MaxBytes is the upload cap.
func (r *Runner) MaxBytes() int64 { return r.cfg.MaxBytes }

// Start runs the worker and the heartbeat until Stop. It first removes the spools that
// instances which stopped without cleaning up left in the directory (sweepOrphans).
func (r *Runner) Start(ctx context.Context) {
	sweepOrphans(r.cfg.Dir, orphanMinAge, time.Now(), r.log)
	ctx, r.stop = context.WithCancel(ctx)
	r.started = true
	go func() {
		defer close(r.done)
		for {
			select {
			case <-ctx.Done():
				r.abandon()
				return
			case t := <-r.queue:
				if ctx.Err() != nil { // both were ready: stopping wins
					removeSpool(t.spool, t.lock)
					r.finish(context.WithoutCancel(ctx), t.job, interruptedWaiting)
					continue
				}
				r.run(ctx, t)
			}
		}
	}()
	// Heartbeats and the sweep run beside the worker, so they go on while a long job runs.
	go func() {
		beat := time.NewTicker(r.cfg.StaleAfter / 4)
		defer beat.Stop()
		r.sweep(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-beat.C:
				r.heartbeat(ctx)
				r.sweep(ctx)
			}
		}
	}()
}

// Stop ends the worker: the job being applied and the waiting ones are marked failed with the
// reason (their spools are on this instance and go with it), within ctx.
func (r *Runner) Stop(ctx context.Context) error {
	if !r.started {
		return nil
	}
	r.stop()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Upload is what a client sent to POST /imports.
type Upload struct {
	Format         bulk.Format
	Gzip           bool
	DryRun         bool
	Partial        bool
	IdempotencyKey string
	Body           io.Reader
}

// Submit spools the upload, records the job (or finds the one its idempotency key made) and
// queues it. created says whether the job is new.
func (r *Runner) Submit(ctx context.Context, up Upload) (catalog.ImportJob, bool, error) {
	f, err := os.CreateTemp(r.cfg.Dir, spoolPrefix+"*")
	if err != nil {
		return catalog.ImportJob{}, false, fmt.Errorf("spool: %w", err)
	}
	path := f.Name()
	lock, err := lockSpool(path)
	if err != nil {
		f.Close()
		_ = os.Remove(path)
		return catalog.ImportJob{}, false, fmt.Errorf("spool: lock: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			removeSpool(path, lock)
		}
	}()
	body := up.Body
	if up.Gzip {
		zr, err := gzip.NewReader(body)
		if err != nil {
			_ = f.Close()
			return catalog.ImportJob{}, false, catalog.InvalidField("body", "is not gzip data (Content-Encoding: gzip): %v", err)
		}
		defer zr.Close()
		body = zr
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, r.cfg.MaxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
		return catalog.ImportJob{}, false, catalog.InvalidField("body", "could not be read completely: %v", err)
	case err != nil:
		return catalog.ImportJob{}, false, err
	case n > r.cfg.MaxBytes:
		return catalog.ImportJob{}, false, ErrTooLarge
	}
	in := catalog.ImportJobInput{Format: string(up.Format), DryRun: up.DryRun, Partial: up.Partial,
		IdempotencyKey: up.IdempotencyKey, Digest: hex.EncodeToString(h.Sum(nil)), Bytes: n}
	if len(r.queue) == cap(r.queue) {
		return catalog.ImportJob{}, false, ErrBusy
	}
	job, created, err := r.store.CreateImportJob(ctx, in)
	if err != nil || !created {
		return job, created, err
	}
	r.mu.Lock()
	r.held[job.ID] = job
	r.mu.Unlock()
	select {
	case r.queue <- task{job: job, spool: path, lock: lock}:
		keep = true
	default:
		// Filled up between the check and now: the job cannot run here.
		r.finish(ctx, job, "the instance had too many imports waiting; upload again")
		return job, false, ErrBusy
	}
	return job, true, nil
}

// heartbeat saves every held job, so no instance takes it for abandoned.
func (r *Runner) heartbeat(ctx context.Context) {
	r.mu.Lock()
	jobs := make([]catalog.ImportJob, 0, len(r.held))
	for _, j := range r.held {
		jobs = append(jobs, j)
	}
	r.mu.Unlock()
	for _, j := range jobs {
		if err := r.store.SaveImportJob(ctx, j); err != nil && ctx.Err() == nil && catalog.ErrorCode(err) != catalog.CodeConflict {
			r.log.Warn("import heartbeat", "job", j.ID, "err", err)
		}
	}
}

// sweep fails the jobs of instances that stopped.
func (r *Runner) sweep(ctx context.Context) {
	n, err := r.store.FailStaleImportJobs(ctx, time.Now().Add(-r.cfg.StaleAfter),
		"interrupted: the instance applying it stopped; batches already applied stay applied; upload the file again (an import is an upsert, so lines already applied update to the same values)")
	if err != nil && ctx.Err() == nil {
		r.log.Warn("import sweep", "err", err)
	}
	if n > 0 {
		r.log.Info("import jobs failed as interrupted", "jobs", n)
	}
}

// abandon fails the jobs still queued here when the worker stops.
func (r *Runner) abandon() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		select {
		case t := <-r.queue:
			removeSpool(t.spool, t.lock)
			r.finish(ctx, t.job, interruptedWaiting)
		default:
			return
		}
	}
}

// save records progress, keeping the held copy the heartbeat writes.
func (r *Runner) save(ctx context.Context, j catalog.ImportJob) error {
	r.mu.Lock()
	if _, ok := r.held[j.ID]; ok {
		r.held[j.ID] = j
	}
	r.mu.Unlock()
	return r.store.SaveImportJob(ctx, j)
}

// finish marks j failed with reason (when not finished) and forgets it.
func (r *Runner) finish(ctx context.Context, j catalog.ImportJob, reason string) {
	if !j.State.Finished() {
		j.State, j.Reason = catalog.ImportFailed, reason
	}
	r.mu.Lock()
	delete(r.held, j.ID)
	r.mu.Unlock()
	if err := r.store.SaveImportJob(ctx, j); err != nil {
		r.log.Warn("import job not saved", "job", j.ID, "err", err)
	}
}
