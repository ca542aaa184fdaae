package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/replica"
)

// pgReader is a PostgreSQL store on a replica, as the router sees it. Where the server gives
// no replay position (an Aurora reader may answer NULL) and has Aurora's
// aurora_replica_status() (detected once), the lag Aurora reports is used instead
// (docs/adr/0022-replica-reads.md, 2026-12-02).
type pgReader struct {
	*postgres.Store
	log    *slog.Logger
	aurora atomic.Int32 // 0: not detected yet, 1: Aurora, 2: not Aurora
	warned sync.Once
	// failing is set while probes fail: the router only marks the reader down and backs off,
	// so without a line here an operator sees reads move to the writer and no reason why.
	// Said once per outage, not once per probe.
	failing atomic.Bool
}

func (r *pgReader) Replay(ctx context.Context) (replica.Replay, error) {
	st, err := r.ReplayStatus(ctx)
	r.probed(ctx, err)
	rep := replica.Replay{Primary: !st.InRecovery, Replayed: st.Replayed, Known: st.Known, SinceLastReplay: st.SinceLastReplay}
	if err != nil || rep.Primary || rep.Known {
		return rep, err
	}
	if r.aurora.Load() == 0 {
		has, err := r.HasAuroraReplicaStatus(ctx)
		if err != nil {
			return rep, err // the reader failed: the router backs off and asks again
		}
		aurora := int32(2)
		if has {
			aurora = 1
		}
		r.aurora.Store(aurora)
		r.log.Info("replica probe", "aurora_replica_status", has)
	}
	if r.aurora.Load() != 1 {
		return rep, nil
	}
	rep.ReportedLag, rep.LagReported, err = r.AuroraReplicaLag(ctx)
	if err != nil {
		// A refusal here (a permission, a changed function) is not an outage: the reader
		// just has no lag the router can trust, and is not read. Said once.
		r.warned.Do(func() {
			r.log.Warn("replica reads off: aurora_replica_status() failed; the reader's lag is unknown", "err", err)
		})
	}
	return rep, nil
}

// probed logs the first failed probe of an outage as a warning and the first success after
// it; a probe cut short by shutdown says nothing about the reader.
func (r *pgReader) probed(ctx context.Context, err error) {
	switch {
	case err == nil:
		if r.failing.Swap(false) {
			r.log.Info("replica probe succeeds again; public reads return to the reader once its lag is within the bound")
		}
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
	default:
		if !r.failing.Swap(true) {
			r.log.Warn("replica probe failed; public reads go to the writer until a probe succeeds", "err", err)
		}
	}
}

// positionsWriter is the writer as the router and Catalog-Read-After see it. An Aurora writer
// without logical replication refuses the WAL functions (SQLSTATE 55000, "wal_level must be
// set to 'logical'"): after the first refusal it is not asked again (every write and every
// probe would log an error on the server), writes answer without a position, and the router
// relies on the lag the reader reports.
type positionsWriter struct {
	*postgres.Store
	log  *slog.Logger
	none atomic.Bool
}

func (w *positionsWriter) WritePosition(ctx context.Context) (catalog.ReadPosition, error) {
	if w.none.Load() {
		return 0, httpapi.ErrNoWritePositions
	}
	pos, err := w.Store.WritePosition(ctx)
	if postgres.NoWALPositions(err) {
		if !w.none.Swap(true) {
			w.log.Warn("the writer gives no WAL positions (Aurora without rds.logical_replication?): writes answer without "+
				httpapi.ReadAfterHeader+"; replica reads rely on the lag the reader reports", "err", err)
		}
		return 0, fmt.Errorf("%w: %w", httpapi.ErrNoWritePositions, err)
	}
	return pos, err
}

// readerOptions are the writer's options for the reader's pool: the same credentials (IAM
// tokens are signed per host, so the reader's are the reader's), TLS and bounds; no DDL ever.
func readerOptions(opts postgres.Options) postgres.Options {
	opts.SkipMigrate = true
	configure := opts.Configure
	opts.Configure = func(c *pgxpool.Config) error {
		// Distinguishes the service's reader connections in pg_stat_activity.
		c.ConnConfig.RuntimeParams["application_name"] = "catalog-reader"
		if configure != nil {
			return configure(c)
		}
		return nil
	}
	return opts
}

// withReader wraps the writer in a replica router when a reader endpoint is configured. The
// reader's pool connects lazily, so a reader that is down at start costs nothing: the router
// finds it down and reads the writer until it answers.
func (a *App) withReader(w *postgres.Store) catalog.Store {
	if a.cfg.ReaderURL == "" {
		return w
	}
	rs, err := postgres.Open(a.bg, a.cfg.ReaderURL, readerOptions(a.pgOpts))
	if err != nil {
		// Start checked the string, so this is unexpected; serving from the writer alone is
		// correct, only slower.
		a.log.Error("reader endpoint not used", "target", postgres.Target(a.cfg.ReaderURL), "err", err)
		return w
	}
	r := replica.New(&positionsWriter{Store: w, log: a.log}, &pgReader{Store: rs, log: a.log}, replica.Options{MaxLag: a.cfg.DBReaderMaxLag})
	a.log.Info("replica reads", "reader", postgres.Target(a.cfg.ReaderURL), "max_lag", a.cfg.DBReaderMaxLag.String())
	registerReplicaMetrics(a.metrics, r)
	a.loop(r.Run)
	a.positions.router.Store(r)
	return r
}

// readPositions gives the HTTP layer the writer's position once the router exists.
type readPositions struct {
	router atomic.Pointer[replica.Router]
}

var _ httpapi.WritePositions = (*readPositions)(nil)

func (p *readPositions) WritePosition(ctx context.Context) (catalog.ReadPosition, error) {
	r := p.router.Load()
	if r == nil {
		return 0, errors.New("the store is not open yet")
	}
	return r.Writer.WritePosition(ctx)
}

// registerReplicaMetrics exports where reads went and why the writer answered public reads.
func registerReplicaMetrics(m *httpapi.Metrics, r *replica.Router) {
	counter := func(name, help string, labels prometheus.Labels, f func(replica.Status) int64) {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(f(r.Status())) }))
	}
	const reads, fallbacks = "catalog_db_reads_total", "catalog_db_reader_fallbacks_total"
	readsHelp := "Store reads by the server that answered them (reader: a replica)."
	counter(reads, readsHelp, prometheus.Labels{"target": replica.TargetReader}, func(s replica.Status) int64 { return s.ReaderReads })
	counter(reads, readsHelp, prometheus.Labels{"target": replica.TargetWriter}, func(s replica.Status) int64 { return s.WriterReads })
	fbHelp := "Public reads the writer answered instead of the reader, by reason: down, lag (over DB_READER_MAX_LAG), behind_client (before the client's Catalog-Read-After), error (the reader failed the read)."
	counter(fallbacks, fbHelp, prometheus.Labels{"reason": replica.ReasonDown}, func(s replica.Status) int64 { return s.FallbackDown })
	counter(fallbacks, fbHelp, prometheus.Labels{"reason": replica.ReasonLag}, func(s replica.Status) int64 { return s.FallbackLag })
	counter(fallbacks, fbHelp, prometheus.Labels{"reason": replica.ReasonBehind}, func(s replica.Status) int64 { return s.FallbackBehind })
	counter(fallbacks, fbHelp, prometheus.Labels{"reason": replica.ReasonError}, func(s replica.Status) int64 { return s.FallbackErr })
	m.GaugeFunc("catalog_db_reader_lag_seconds", "The reader's replay lag behind the writer at the last probe; -1 when unknown (down).",
		func() float64 {
			if l := r.Status().Lag; l >= 0 {
				return l.Seconds()
			}
			return -1
		})
	m.GaugeFunc("catalog_db_reader_up", "1 when the last probe found the reader answering.", func() float64 {
		if r.Status().Up {
			return 1
		}
		return 0
	})
}
