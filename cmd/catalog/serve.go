package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/awssecrets"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/rdsca"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/sweep"
)

func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// openStore opens PostgreSQL when one is configured, the embedded SQLite store otherwise.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (catalog.Store, bool, error) {
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, sqlite.FileName)
		log.Info("store", "kind", "sqlite", "path", path)
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		return s, true, err
	}
	log.Info("store", "kind", "postgres", "url", config.Redacted(cfg.DatabaseURL), "secret", cfg.DBSecretARN != "", "root_ca", cfg.DBRootCA)
	opts := postgres.Options{MaxConns: cfg.DBMaxConns, MaxConnLifetime: cfg.DBConnMaxLifetime, AcquireTimeout: cfg.DBAcquireTimeout, LockTimeout: cfg.DBLockTimeout}
	if cfg.DBRootCA == "rds" {
		pool, err := rdsca.Pool()
		if err != nil {
			return nil, false, err
		}
		opts.RootCAs = pool
	}
	if cfg.DBSecretARN != "" {
		creds, err := awssecrets.NewFromEnvironment(ctx, cfg.DBSecretARN)
		if err != nil {
			return nil, false, err
		}
		opts.Credentials = creds
	}
	s, err := postgres.Open(ctx, cfg.DatabaseURL, opts)
	return s, false, err
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if err := noArgs(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	slog.SetDefault(log)
	keys, refreshKeys, err := openKeys(ctx, cfg, log)
	if err != nil {
		return err
	}
	limits, cors, err := accessOptions(cfg)
	if err != nil {
		return err
	}
	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	go refreshKeys(bgCtx)
	go sweepLimits(bgCtx, limits)

	// Listen before opening the store, so the port is taken (or the clash reported) at once.
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	defer ln.Close()

	store, embedded, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	// The store closes last, after the server has finished every request.
	defer store.Close()

	if embedded && cfg.SeedSample {
		if err := seedSampleIfEmpty(ctx, store, log); err != nil {
			return err
		}
	}

	// Popular products are served from memory; other instances' writes arrive by NOTIFY.
	var front catalog.Store = store
	if cfg.CacheTTL > 0 {
		cache := readcache.New(store, cfg.CacheTTL, cfg.CacheSize)
		front = cache
		if pg, ok := store.(*postgres.Store); ok {
			listenCtx, stopListen := context.WithCancel(context.Background())
			listenDone := make(chan struct{})
			go func() {
				defer close(listenDone)
				pg.Listen(listenCtx, func(id string) { cache.Invalidate(id) }, cache.Clear)
			}()
			defer func() { stopListen(); <-listenDone }()
		}
	}
	metrics := httpapi.NewMetrics()
	if cfg.MetricsEMF {
		metrics.EMF = httpapi.NewEMF(stdout, "Catalog", cfg.Env)
		emfCtx, stopEMF := context.WithCancel(context.Background())
		emfDone := make(chan struct{})
		go func() { defer close(emfDone); metrics.EMF.Run(emfCtx, time.Minute) }()
		defer func() { stopEMF(); <-emfDone }()
	}
	srv := httpapi.New(httpapi.Options{
		Store: front, Keys: keys, Log: log, RequestTimeout: cfg.RequestTimeout, ReadyTimeout: cfg.ReadyTimeout,
		OpenAPI: api.OpenAPI, QuietHealth: true, Metrics: metrics, Limits: limits, CORS: cors,
	})
	stopMetrics, err := serveMetrics(cfg.MetricsPort, metrics, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	if pg, ok := store.(*postgres.Store); ok {
		registerPoolMetrics(metrics, pg)
	}
	// The sweeper stops with the server: it runs on a context that ends before the store closes.
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		sweep.Run(sweepCtx, front, sweep.Options{Interval: cfg.SweepInterval, Retention: cfg.ReservationRetention, Log: log, Expired: func(n int) { metrics.Reservation("expired", n) }})
	}()
	defer func() { stopSweep(); <-sweepDone }()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		// Longer than the ALB's 60 s idle timeout, so the load balancer, not the task, closes idle
		// connections, and never sends a request on a connection the task just closed.
		IdleTimeout:    75 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "version", version)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	return shutdown(srv, hs, cfg, log, served)
}

// shutdown drains and stops: readiness fails at once, the server keeps serving for the drain
// delay while the load balancer deregisters the task, then stops accepting connections and
// waits for in-flight requests. The whole sequence fits within ShutdownTimeout.
func shutdown(srv *httpapi.Server, hs *http.Server, cfg config.Config, log *slog.Logger, served <-chan error) error {
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	srv.Drain()
	log.Info("draining", "drain_delay", cfg.DrainDelay.String(), "shutdown_timeout", cfg.ShutdownTimeout.String())
	time.Sleep(cfg.DrainDelay)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	err := hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutdown deadline reached with requests in flight; closing them")
		hs.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func seedSampleIfEmpty(ctx context.Context, store catalog.Store, log *slog.Logger) error {
	empty, err := store.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	c, err := seed.Sample()
	if err != nil {
		return err
	}
	if err := seed.Load(ctx, store, c, nil); err != nil {
		return fmt.Errorf("load the sample catalog: %w", err)
	}
	log.Info("loaded the sample catalog into the empty store", "categories", len(c.Categories), "products", len(c.Products))
	return nil
}

// registerPoolMetrics exports the PostgreSQL pool's statistics: a pool that is always empty
// (acquires waiting) says DB_MAX_CONNS or the database is the bottleneck.
func registerPoolMetrics(m *httpapi.Metrics, s *postgres.Store) {
	stat := s.Pool().Stat
	m.GaugeFunc("catalog_db_pool_total_conns", "Open connections.", func() float64 { return float64(stat().TotalConns()) })
	m.GaugeFunc("catalog_db_pool_acquired_conns", "Connections in use.", func() float64 { return float64(stat().AcquiredConns()) })
	m.GaugeFunc("catalog_db_pool_idle_conns", "Idle connections.", func() float64 { return float64(stat().IdleConns()) })
	m.GaugeFunc("catalog_db_pool_max_conns", "Pool size limit.", func() float64 { return float64(stat().MaxConns()) })
	m.CounterFunc("catalog_db_pool_acquires_total", "Connection acquires.", func() float64 { return float64(stat().AcquireCount()) })
	m.CounterFunc("catalog_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", func() float64 { return float64(stat().EmptyAcquireCount()) })
	m.CounterFunc("catalog_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", func() float64 { return stat().AcquireDuration().Seconds() })
}
