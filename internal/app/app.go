// Package app assembles the running catalog service from its configuration, once: the store
// (with the start-up wait for PostgreSQL), the read cache, the NOTIFY listener, the sweeper,
// metrics and EMF, and the HTTP server with its timeouts. It stops them in order: readiness off,
// the drain delay, in-flight requests finished, background loops stopped, the store closed
// last. It waits for every goroutine it starts. cmd/catalog and the benchmarks both use it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/ecsmeta"
	"github.com/acme/catalog/internal/emf"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/readcache"
	"github.com/acme/catalog/internal/relay"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
	"github.com/acme/catalog/internal/sweep"
)

// Options are what the configuration does not say. The zero value works.
type Options struct {
	// Log receives every log line: access, errors, panics, start-up. nil discards them.
	Log *slog.Logger
	// LogOut, when set, is the writer Log's JSON handler writes to: the access log writes its
	// lines there itself, the same bytes at a fifth of the cost (httpapi.Options.AccessLog).
	LogOut io.Writer
	// EMFOut receives CloudWatch Embedded Metric Format records when cfg.MetricsEMF is set
	// (stdout in production, where the awslogs driver ships it).
	EMFOut io.Writer
	// Version is logged at start.
	Version string
	// OpenAPI is served at /openapi.yaml.
	OpenAPI []byte
	// Listener, when set, is served instead of a new listener on cfg.Port.
	Listener net.Listener
	// Store, when set, is served instead of the store cfg names. The App does not close it.
	Store catalog.Store
	// AuthTokens, when set, signs the IAM tokens of DB_IAM_AUTH=true instead of the AWS SDK
	// (tests).
	AuthTokens postgres.TokenSource
	// EventPublisher, when set, receives the events EVENT_BUS_NAME would send to EventBridge
	// (tests and the bench: a fake endpoint).
	EventPublisher relay.Publisher
	// OwnsProcess says the process runs this App alone (cmd/catalog serve), so Start may set
	// process-wide settings: the garbage collector's budget (config.GC). Tests that embed an
	// App leave it false.
	OwnsProcess bool
}

// Start-up wait: the delay between attempts doubles from retryBase to retryCap.
const (
	retryBase = 250 * time.Millisecond
	retryCap  = 10 * time.Second
)

// App is the running service.
type App struct {
	cfg     config.Config
	opts    Options
	log     *slog.Logger
	ln      net.Listener
	hs      *http.Server
	srv     *httpapi.Server
	gate    gate
	cache   *readcache.Store
	front   catalog.Store // what the server and the sweeper use: the cache, or the gate
	imports *importer.Runner
	metrics *httpapi.Metrics
	events  relay.Publisher // nil: EVENT_BUS_NAME is empty
	emfOut  io.Writer       // nil: METRICS_EMF is off

	serveErr  error
	serveDone chan struct{}
	ready     chan struct{}
	failed    chan error

	stopConnect context.CancelFunc
	connectDone chan struct{}
	bg          context.Context // background loops run until shutdown stops them
	stopBG      context.CancelFunc
	loops       sync.WaitGroup

	mu       sync.Mutex
	stopping bool
	owned    catalog.Store // the store the App opened and closes

	pgOpts    postgres.Options // the writer's, for the reader's pool
	positions readPositions    // the writer's position for Catalog-Read-After (replica reads)

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start listens, serves at once (liveness 200, readiness and store routes 503 until the store
// is open) and opens the store: the embedded SQLite store synchronously, PostgreSQL in the
// background with retries until cfg.DBStartupTimeout. Errors retrying cannot fix (a bad
// configuration, an edited migration) are returned at once, or through Run.
func Start(ctx context.Context, cfg config.Config, opts Options) (*App, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	keys, refreshKeys, err := openKeys(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	limits, cors, err := accessOptions(cfg)
	if err != nil {
		return nil, err
	}
	taskMiB := taskMemory(ctx, cfg, opts, log)
	if opts.OwnsProcess {
		setGC(cfg.GC(taskMiB), log)
	}
	var pgOpts postgres.Options
	usePostgres := opts.Store == nil && cfg.DatabaseURL != ""
	if usePostgres {
		// Configuration mistakes fail here, before any waiting.
		if pgOpts, err = postgresOptions(ctx, cfg, opts.AuthTokens); err != nil {
			return nil, err
		}
		if err := postgres.CheckConfig(cfg.ReaderURL, pgOpts); cfg.ReaderURL != "" && err != nil {
			return nil, fmt.Errorf("database reader %s: %w", postgres.Target(cfg.ReaderURL), err)
		}
		log.Info("store", "kind", "postgres", "target", postgres.Target(cfg.DatabaseURL), "secret", cfg.DBSecretARN != "",
			"iam_auth", cfg.DBIAMAuth, "migrate_on_start", cfg.MigrateOnStart,
			"root_ca", cfg.DBRootCA, "startup_timeout", cfg.DBStartupTimeout.String())
	}

	a := &App{cfg: cfg, opts: opts, log: log, serveDone: make(chan struct{}), ready: make(chan struct{}),
		failed: make(chan error, 1), connectDone: make(chan struct{}), pgOpts: pgOpts}
	a.ln = opts.Listener
	if a.ln == nil {
		// Listen before opening the store, so the port is taken (or the clash reported) at once.
		if a.ln, err = net.Listen("tcp", ":"+strconv.Itoa(cfg.Port)); err != nil {
			return nil, err
		}
	}
	// Background loops outlive ctx (a request-scoped context, or the signal context): they stop
	// when Shutdown says so, after the server has finished its requests.
	a.bg, a.stopBG = context.WithCancel(context.WithoutCancel(ctx))
	a.loop(refreshKeys)
	a.loop(func(ctx context.Context) { sweepLimits(ctx, limits) })
	a.metrics = httpapi.NewMetrics()
	if a.events, err = eventPublisher(ctx, eventConfig{cfg.EventBusName, cfg.EventSource, cfg.EventBusConcurrency}, opts.EventPublisher); err != nil {
		a.stopBG()
		a.loops.Wait()
		a.ln.Close()
		return nil, err
	}
	stopMetrics, err := serveMetrics(cfg.MetricsPort, a.metrics, log)
	if err != nil {
		a.stopBG()
		a.loops.Wait()
		a.ln.Close()
		return nil, err
	}
	// The metrics server stops with the background loops, after the API server.
	a.loop(func(ctx context.Context) { <-ctx.Done(); stopMetrics() })
	if cfg.MetricsEMF {
		out := opts.EMFOut
		if out == nil {
			out = io.Discard
		}
		a.emfOut = &lockedWriter{w: out} // the request metrics and the relay's share it
		a.metrics.EMF = httpapi.NewEMF(a.emfOut, emf.Namespace, cfg.Env)
		a.loop(func(ctx context.Context) { a.metrics.EMF.Run(ctx, time.Minute) })
	}
	// Popular products are served from memory; other instances' writes arrive by NOTIFY.
	a.front = &a.gate
	if cfg.CacheTTL > 0 {
		a.cache = readcache.New(&a.gate, cfg.CacheTTL, cacheBytes(cfg, taskMiB, log))
		registerCacheMetrics(a.metrics, a.cache)
		if usePostgres && cfg.ReaderURL != "" {
			a.cache.HoldOff(cfg.DBReaderMaxLag) // a miss may be answered by a replica that far behind
		}
		a.front = a.cache
	}
	var positions httpapi.WritePositions
	if usePostgres && cfg.ReaderURL != "" {
		positions = &a.positions
	}
	parallel := 1 // SQLite has one writer
	if usePostgres {
		parallel = cfg.ImportParallel // a connection each: the database works on that many batches at once
	}
	a.imports = importer.New(a.front, importer.Config{Dir: cfg.ImportDir, MaxBytes: cfg.ImportMaxBytes, Parallel: parallel, Log: log})
	a.srv = httpapi.New(httpapi.Options{
		Store: a.front, Keys: keys, Log: log, AccessLog: opts.LogOut, RequestTimeout: cfg.RequestTimeout, ReadyTimeout: cfg.ReadyTimeout,
		OpenAPI: opts.OpenAPI, QuietHealth: true, Metrics: a.metrics, Limits: limits, CORS: cors, Imports: a.imports,
		ReadPositions: positions,
		Webhooks:      httpapi.WebhookOptions{Policy: a.webhookPolicy()},
	})
	a.hs = &http.Server{
		Handler:           a.srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		// Longer than the ALB's 60 s idle timeout, so the load balancer, not the task, closes idle
		// connections, and never sends a request on a connection the task just closed.
		IdleTimeout:    75 * time.Second,
		MaxHeaderBytes: httpapi.ServerMaxHeaderBytes, // above the handler's JSON 431 limit (see ServerMaxHeaderBytes)
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	connectCtx, stopConnect := context.WithCancel(context.WithoutCancel(ctx))
	a.stopConnect = stopConnect
	// abort undoes Start before the server runs.
	abort := func(err error) (*App, error) {
		stopConnect()
		a.stopBG()
		a.loops.Wait()
		a.ln.Close()
		return nil, err
	}
	// The first attempt runs before serving, while connections wait in the listen backlog: with
	// the database there, the service is ready before /health first answers, and a load
	// balancer that checks /health never routes to a task whose store is not open yet. Only the
	// connection is bounded (firstConnect), not the migration behind it, so a database that is
	// merely away delays /health by at most that much.
	switch {
	case opts.Store != nil:
		close(a.connectDone)
		a.attach(opts.Store, false)
	case usePostgres:
		start := time.Now()
		limit := firstConnect
		if cfg.DBStartupTimeout == 0 {
			limit = 0 // the only attempt: the connect timeout bounds it
		}
		s, err := a.openPostgres(connectCtx, pgOpts, a.giveUp(start), limit)
		switch {
		case err == nil:
			close(a.connectDone)
			log.Info(openedMessage(pgOpts), "target", postgres.Target(cfg.DatabaseURL), "attempt", 1)
			a.attach(s, true)
		case postgres.Permanent(err, freshCredentials(pgOpts)) || cfg.DBStartupTimeout == 0:
			return abort(a.gaveUp(err, start, 1))
		default:
			go func() {
				defer close(a.connectDone)
				a.connect(connectCtx, pgOpts, start, err)
			}()
		}
	default:
		// The embedded store opens synchronously: a failure there (a bad path, a full disk, a
		// corrupt file) is not something waiting fixes.
		close(a.connectDone)
		s, err := openSQLite(ctx, cfg, log)
		if err != nil {
			return abort(err)
		}
		a.attach(s, true)
	}
	go func() {
		defer close(a.serveDone)
		a.serveErr = a.hs.Serve(a.ln)
	}()
	log.Info("listening", "addr", a.ln.Addr().String(), "version", opts.Version)
	return a, nil
}

// Addr is the address the service listens on.
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Ready is closed when the store is open and the service serves requests.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Run serves until ctx ends (SIGTERM: a normal shutdown, nil error), the store cannot be opened
// (its error), or the server fails; then it shuts down.
func (a *App) Run(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.failed:
	case <-a.serveDone:
		err = a.serveErr
	}
	if serr := a.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// Shutdown drains and stops: readiness fails at once, the server keeps serving for the drain
// delay while the load balancer deregisters the task, then stops accepting connections and
// waits for in-flight requests; background loops stop and the store closes last. The whole
// sequence fits within ShutdownTimeout. It is safe to call more than once.
func (a *App) Shutdown() error {
	a.shutdownOnce.Do(func() { a.shutdownErr = a.shutdown() })
	return a.shutdownErr
}

func (a *App) shutdown() error {
	deadline := time.Now().Add(a.cfg.ShutdownTimeout)
	a.srv.Drain()
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.stopConnect()
	<-a.connectDone
	select {
	case <-a.ready:
		// Only a task that was ready can have been registered with the load balancer.
		a.log.Info("draining", "drain_delay", a.cfg.DrainDelay.String(), "shutdown_timeout", a.cfg.ShutdownTimeout.String())
		time.Sleep(a.cfg.DrainDelay)
	default:
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := a.hs.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("shutdown deadline reached with requests in flight; closing them")
		a.hs.Close()
	}
	<-a.serveDone
	a.stopBG()
	a.loops.Wait()
	var err error
	if a.owned != nil {
		err = a.owned.Close()
	}
	if a.serveErr != nil && !errors.Is(a.serveErr, http.ErrServerClosed) {
		err = errors.Join(a.serveErr, err)
	}
	a.log.Info("stopped")
	return err
}

// loop runs fn in a goroutine until shutdown, which waits for it.
func (a *App) loop(fn func(ctx context.Context)) {
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		fn(a.bg)
	}()
}

// attach makes s the store behind the server and starts what needs it: the NOTIFY listener,
// the pool metrics and the sweeper. owned stores are closed by shutdown.
func (a *App) attach(s catalog.Store, owned bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		if owned {
			s.Close()
		}
		return
	}
	if pg, ok := s.(*postgres.Store); ok {
		registerPoolMetrics(a.metrics, pg)
		if cache := a.cache; cache != nil {
			a.loop(func(ctx context.Context) { a.listenForCache(ctx, pg, cache) })
		}
		if owned {
			s = a.withReader(pg)
		}
	}
	if owned {
		a.owned = s
	}
	a.gate.open(s)
	a.loop(func(ctx context.Context) {
		sweep.Run(ctx, a.front, sweep.Options{Interval: a.cfg.SweepInterval, Retention: a.cfg.ReservationRetention,
			EventRetention: a.cfg.EventRetention, DeliveryRetention: a.cfg.WebhookLogRetention,
			ImportRetention: a.cfg.ImportJobRetention, Log: a.log,
			Expired: func(n int) { a.metrics.Reservation("expired", n) }})
	})
	a.startWebhooks()
	if a.events != nil {
		// Every instance runs it; the holder of the lease publishes (ADR 0018).
		r := relay.New(a.front, a.events, relay.Options{Start: a.cfg.EventBusStart, Log: a.log, Hooks: a.relayHooks()})
		a.log.Info("event relay on", "bus", a.cfg.EventBusName, "source", a.cfg.EventSource, "owner", r.Owner())
		a.loop(r.Run)
	}
	a.loop(func(ctx context.Context) { // bulk imports (ADR 0019): jobs still running fail as interrupted
		a.imports.Start(ctx)
		<-ctx.Done()
		_ = a.imports.Stop(context.Background())
	})
	close(a.ready)
}

func (a *App) fail(err error) {
	a.failed <- err
}

// connect keeps opening PostgreSQL after the first attempt (made at start) failed with err,
// with capped, jittered exponential backoff, until it is open and migrated, ctx ends
// (shutdown), an error retrying cannot fix occurs, or cfg.DBStartupTimeout passes. On the first
// deploy the Aurora writer is still being created when the tasks start; exiting would trip the
// ECS deployment circuit breaker.
func (a *App) connect(ctx context.Context, opts postgres.Options, start time.Time, err error) {
	target := postgres.Target(a.cfg.DatabaseURL)
	giveUp := a.giveUp(start)
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return // shutting down
		}
		if postgres.Permanent(err, freshCredentials(opts)) {
			a.fail(a.gaveUp(err, start, attempt))
			return
		}
		left := time.Until(giveUp)
		if left <= 0 {
			a.fail(a.gaveUp(err, start, attempt))
			return
		}
		delay := min(Backoff(attempt, retryBase, retryCap, jitter()), left)
		a.log.Warn("database not available yet; retrying", "attempt", attempt, "target", target, "err", err.Error(),
			"next_delay", delay.Round(time.Millisecond).String(), "gives_up_in", left.Round(time.Second).String())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if time.Now().After(giveUp) {
			a.fail(a.gaveUp(err, start, attempt))
			return
		}
		var s *postgres.Store
		if s, err = a.openPostgres(ctx, opts, giveUp, 0); err == nil {
			a.log.Info(openedMessage(opts), "target", target, "attempt", attempt+1, "waited", time.Since(start).Round(time.Millisecond).String())
			a.attach(s, true)
			return
		}
	}
}

// firstConnect bounds the connection of the first attempt, which runs before the server
// answers anything.
const firstConnect = 2 * time.Second

// giveUp is when the start-up wait that began at start ends; zero without a deadline.
func (a *App) giveUp(start time.Time) time.Time {
	if a.cfg.DBStartupTimeout == 0 {
		return time.Time{}
	}
	return start.Add(a.cfg.DBStartupTimeout)
}

// openPostgres makes one attempt: connect (within connectLimit when set), then migrate, all
// before giveUp (zero: no deadline). Migrating is not bounded by connectLimit: cutting a long
// migration short would only roll it back to run it again.
func (a *App) openPostgres(ctx context.Context, opts postgres.Options, giveUp time.Time, connectLimit time.Duration) (*postgres.Store, error) {
	if !giveUp.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, giveUp)
		defer cancel()
	}
	lazy := opts
	lazy.SkipMigrate = true // the pool connects on first use: the Ping below
	s, err := postgres.Open(ctx, a.cfg.DatabaseURL, lazy)
	if err != nil {
		return nil, err
	}
	pingCtx := ctx
	if connectLimit > 0 {
		var cancel context.CancelFunc
		pingCtx, cancel = context.WithTimeout(ctx, connectLimit)
		defer cancel()
	}
	if err := s.Ping(pingCtx); err != nil {
		s.Close()
		return nil, err
	}
	if !opts.SkipMigrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	// MIGRATE_ON_START=false: the migrate task owns the schema. Behind, wait for it (the error
	// is transient); ahead, serve: migrations are additive within a release pair (ADR 0008).
	ahead, err := s.CheckSchema(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	if len(ahead) > 0 {
		a.log.Warn("the database schema is ahead of this binary (a newer release migrated it); serving, as migrations are additive within a release pair",
			"unknown_versions", ahead)
	}
	return s, nil
}

// freshCredentials reports whether every connection attempt fetches its password anew (a
// secret re-read, an IAM token signed), so a refused password may be a rotation in progress or
// a role the migrate task has not created yet, and is retried.
func freshCredentials(opts postgres.Options) bool {
	return opts.Credentials != nil || opts.AuthTokens != nil
}

func openedMessage(opts postgres.Options) string {
	if opts.SkipMigrate {
		return "database open; the schema is at the version this binary expects"
	}
	return "database open and migrated"
}

// gaveUp is the error that ends the start-up wait: it names the database, never the password.
func (a *App) gaveUp(err error, start time.Time, attempts int) error {
	target := postgres.Target(a.cfg.DatabaseURL)
	if postgres.Permanent(err, a.cfg.DBSecretARN != "" || a.cfg.DBIAMAuth) {
		return fmt.Errorf("database %s: %w (retrying cannot fix this, so the service stops)", target, err)
	}
	return fmt.Errorf("database %s did not become available within DB_STARTUP_TIMEOUT (%s, %d attempts over %s); last error: %w",
		target, a.cfg.DBStartupTimeout, attempts, time.Since(start).Round(time.Millisecond), err)
}

func openSQLite(ctx context.Context, cfg config.Config, log *slog.Logger) (catalog.Store, error) {
	path := filepath.Join(cfg.DataDir, sqlite.FileName)
	log.Info("store", "kind", "sqlite", "path", path)
	s, err := sqlite.Open(ctx, path, sqlite.Options{EventSource: cfg.EventSource})
	if err != nil {
		return nil, err
	}
	if cfg.SeedSample {
		if err := seedSampleIfEmpty(ctx, s, log); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
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

// registerCacheMetrics exports the read cache's counters: the hit ratio and the bytes held say
// whether CACHE_MAX_BYTES fits the working set, evictions whether it churns.
func registerCacheMetrics(m *httpapi.Metrics, c *readcache.Store) {
	u := c.Usage
	m.CounterFunc("catalog_read_cache_hits_total", "Product reads answered from memory within the TTL.", func() float64 { return float64(u().Hits) })
	m.CounterFunc("catalog_read_cache_revalidations_total", "Product reads answered from memory past the TTL after a version lookup.", func() float64 { return float64(u().Revalidated) })
	m.CounterFunc("catalog_read_cache_misses_total", "Product reads that read the store.", func() float64 { return float64(u().Misses) })
	m.CounterFunc("catalog_read_cache_evictions_total", "Entries dropped to stay within CACHE_MAX_BYTES.", func() float64 { return float64(u().Evictions) })
	m.GaugeFunc("catalog_read_cache_entries", "Products held.", func() float64 { return float64(u().Entries) })
	m.GaugeFunc("catalog_read_cache_bytes", "Estimated bytes held (products and encoded answers).", func() float64 { return float64(u().Bytes) })
	m.GaugeFunc("catalog_read_cache_max_bytes", "CACHE_MAX_BYTES.", func() float64 { return float64(u().MaxBytes) })
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

// taskMemory is the ECS task's memory in MiB, asked of the task metadata endpoint when the
// service runs in a task and something is sized from it: the read cache without
// CACHE_MAX_BYTES, the GC budget without GOMEMLIMIT. 0 outside ECS; an endpoint that does not
// answer costs at most its timeout and leaves 0, so the defaults.
func taskMemory(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger) int64 {
	sizesCache := cfg.CacheTTL > 0 && cfg.CacheMaxBytes == 0
	sizesGC := opts.OwnsProcess && !cfg.GoMemLimitSet
	if cfg.ECSMetadataURI == "" || !sizesCache && !sizesGC {
		return 0
	}
	limits, err := ecsmeta.TaskLimits(ctx, nil, cfg.ECSMetadataURI)
	if err != nil {
		log.Warn("the task's memory is unknown; the read cache and the garbage collector keep their defaults", "err", err)
	}
	return limits.Memory
}

// cacheBytes is the read cache's bound (config.Config.CacheBytes) in a task of taskMiB.
func cacheBytes(cfg config.Config, taskMiB int64, log *slog.Logger) int64 {
	n := cfg.CacheBytes(taskMiB)
	log.Info("read cache", "max_bytes", n, "task_memory_mib", taskMiB)
	return n
}

// setGC applies the garbage collector's budget (ADR 0027) and logs what is in force, set here
// or by GOMEMLIMIT and GOGC.
func setGC(g config.GC, log *slog.Logger) {
	g.Apply() // for the life of the process: nothing to restore
	attrs := []any{"gc_percent_set", g.Percent, "memory_limit_set", g.MemoryLimit}
	if limit := config.GCInForce().MemoryLimit; limit != math.MaxInt64 {
		attrs = append(attrs, "memory_limit_bytes", limit)
	}
	log.Info("garbage collector", attrs...)
}
