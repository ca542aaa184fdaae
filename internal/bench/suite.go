package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/hostile"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
	"github.com/acme/catalog/internal/sqlite"
)

// Config selects what the suite runs.
type Config struct {
	Store       string // "sqlite" or "postgres"
	DatabaseURL string // PostgreSQL to use; empty starts a throw-away cluster
	Products    int
	Duration    time.Duration // per scenario
	Workers     int
	Scenarios   []string // empty: all
	Progress    io.Writer
	// Profile, when set, receives a CPU profile of the scenarios (not of seeding).
	Profile io.Writer
	// Process also measures the real binary: start-up to ready, resident memory, size.
	Process bool
	// Binary is the binary to measure, shared with the fault scenarios so one run builds it
	// once; nil builds one for this suite.
	Binary *Binary
	// ImportParallel, with -import, is the batches the job may have in the store at once;
	// zero: as the service runs it (2 on PostgreSQL, 1 on SQLite).
	ImportParallel int
}

// ParseScenarios splits a -scenarios flag into name prefixes. Names such as "get-by-id uniform,
// no cache" hold a comma and a space, so only a comma without a space after it separates two
// prefixes: "get-by-id uniform, no cache,list" is two.
func ParseScenarios(flag string) []string {
	var parts []string
	for _, part := range strings.Split(flag, ",") {
		if n := len(parts); n > 0 && strings.HasPrefix(part, " ") {
			parts[n-1] += "," + part // the rest of a name
			continue
		}
		parts = append(parts, part)
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Selected reports whether a scenario called name is chosen by prefixes (none chooses all).
func Selected(prefixes []string, name string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// CheckSelection returns an error naming every prefix that selects none of names, and listing
// names, so a typo or a separator with a space after it fails before anything is seeded instead
// of running fewer scenarios than asked (or none). No prefixes select everything.
func CheckSelection(prefixes, names []string) error {
	bad := unmatched(prefixes, names)
	if len(bad) == 0 {
		return nil
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return fmt.Errorf("-scenarios: %q selects no scenario (prefixes are separated by a comma without a space after it); the scenarios: %s",
		bad, strings.Join(quoted, ", "))
}

// unmatched returns the prefixes that begin none of names.
func unmatched(prefixes, names []string) []string {
	var bad []string
	for _, p := range prefixes {
		if !slices.ContainsFunc(names, func(name string) bool { return Selected([]string{p}, name) }) {
			bad = append(bad, p)
		}
	}
	return bad
}

// SuiteNames returns the names of the in-process suite's scenarios on store, then the fault
// scenarios' when faults is set, in the order they run.
func SuiteNames(store string, faults bool) []string {
	e := &env{cfg: Config{Store: store}}
	var names []string
	for _, sc := range e.scenarios() {
		names = append(names, sc.name)
	}
	if faults {
		for _, sc := range faultScenarios() {
			names = append(names, sc.name)
		}
	}
	return names
}

const benchKey = "bench-key-0123456789abcdef"

// servedLogLevel is the LOG_LEVEL of the processes the benches serve: the service's default,
// which the stacks keep, so every request writes its log line, as production pays for (a tenth
// of a hot read's CPU once) and the figures must include.
const servedLogLevel = "info"

type env struct {
	cfg    Config
	url    string // the PostgreSQL the suite used, for the process measurement
	store  catalog.Store
	pool   *pgxpool.Pool // PostgreSQL only, for ceiling (b)
	base   string        // the catalog service
	direct string        // the same service without the read cache: every read is a query
	ceilA  string        // fixed-body handler
	ceilB  string        // primary-key SELECT handler
	ids    []string
	skus   []string // variant SKUs of the sampled products
	// variantIDs are the IDs of the variants skus name, in the same order.
	variantIDs []string
	// variantPaths are "<product ID>/variants/<variant ID>" of the sampled products' variants.
	variantPaths []string
	// meanVariants is the sampled products' mean variant count.
	meanVariants float64
	words        []string // common: each names thousands of products
	rare         []string // product numbers: each names one product
	cats         []string
	client       *http.Client
	closers      []func()

	// bus is the services' EventBridge (EVENT_BUS_NAME), recording publish lag; mixed is when
	// the mixed load began.
	bus   *lagBus
	mixed time.Time
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *env) logf(format string, args ...any) {
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, format+"\n", args...)
	}
}

// RunSuite prepares the store and servers, runs the scenarios and returns their results. When
// cfg.Scenarios selects none of them it prepares nothing and returns no results.
func RunSuite(ctx context.Context, cfg Config) ([]Result, error) {
	e := &env{cfg: cfg, bus: &lagBus{}}
	want := func(sc scenario) bool { return Selected(cfg.Scenarios, sc.name) }
	if !slices.ContainsFunc(e.scenarios(), want) {
		return nil, nil
	}
	defer e.close()
	if err := e.setup(ctx); err != nil {
		return nil, err
	}
	if cfg.Profile != nil {
		if err := pprof.StartCPUProfile(cfg.Profile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var results []Result
	for _, sc := range e.scenarios() {
		if !want(sc) {
			continue
		}
		e.logf("running %s for %s", sc.name, cfg.Duration)
		if sc.prepare != nil {
			if err := sc.prepare(ctx); err != nil {
				return results, fmt.Errorf("%s: %w", sc.name, err)
			}
		}
		d := cfg.Duration
		if sc.hooks != nil && sc.hooks.Done != nil {
			d = max(d, 30*time.Second) // runs until its own end (a sell-out), bounded
		}
		r := Run(ctx, e.client, sc.name, cfg.Workers, d, sc.ok, sc.req, sc.hooks)
		if sc.check != nil {
			note, err := sc.check(ctx, &r)
			r.Notes = note
			if err != nil {
				results = append(results, r)
				return results, fmt.Errorf("%s: %w", sc.name, err)
			}
		}
		if sc.ceiling != "" {
			for _, c := range results {
				if c.Name == sc.ceiling && c.RPS > 0 {
					r.Ceiling, r.Ratio = shortCeiling(sc.ceiling), r.RPS/c.RPS
				}
			}
		}
		if sc.target != nil {
			r.Notes = strings.TrimPrefix(r.Notes+"; "+sc.target(r, results), "; ")
		}
		results = append(results, r)
	}
	results = append(results, Result{Name: "memory", Notes: memoryNote()})
	if cfg.Process {
		e.logf("measuring the binary as a process")
		bin := cfg.Binary
		if bin == nil {
			bin = &Binary{}
			defer bin.Close()
		}
		path, err := bin.Path(ctx)
		if err != nil {
			return results, err
		}
		pf, err := MeasureProcess(ctx, path, e.url, 5)
		if err != nil {
			return results, err
		}
		results = append(results, Result{Name: "binary", Notes: fmt.Sprintf(
			"%.1f MB; start to /ready %s (best of 5, migrated %s) [target < 100ms: %s]; resident memory idle %.1f MB [target < 30 MB: %s], peak after 2s of list reads %.1f MB",
			float64(pf.BinaryBytes)/(1<<20), pf.StartToReady.Round(100*time.Microsecond), cfg.Store, verdict(pf.StartToReady < 100*time.Millisecond),
			float64(pf.IdleRSSKB)/1024, verdict(pf.IdleRSSKB < 30*1024), float64(pf.LoadedRSSKB)/1024)})
	}
	return results, nil
}

func shortCeiling(name string) string {
	if strings.HasPrefix(name, "ceiling-a") {
		return "(a)"
	}
	return "(b)"
}

func memoryNote() string {
	pid := os.Getpid()
	return fmt.Sprintf("bench process (server, client and SQLite if used): RSS %d kB now, peak %d kB",
		rssKB(pid, "VmRSS:"), rssKB(pid, "VmHWM:"))
}

func (e *env) setup(ctx context.Context) error {
	cfg := e.cfg
	switch cfg.Store {
	case "sqlite":
		dir, err := os.MkdirTemp("", "catalog-bench")
		if err != nil {
			return err
		}
		e.closers = append(e.closers, func() { os.RemoveAll(dir) })
		s, err := sqlite.Open(ctx, filepath.Join(dir, sqlite.FileName), sqlite.Options{})
		if err != nil {
			return err
		}
		e.store = s
	case "postgres":
		url := cfg.DatabaseURL
		if url == "" {
			c, err := pgtest.StartWith(pgtest.Options{CommitDurably: true})
			if err != nil {
				return fmt.Errorf("start PostgreSQL (or set DATABASE_URL): %w", err)
			}
			e.closers = append(e.closers, c.Close)
			url = c.AdminURL
		}
		e.url = url
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: int32(max(8, 2*runtime.NumCPU()))})
		if err != nil {
			return err
		}
		e.store, e.pool = s, s.Pool()
	default:
		return fmt.Errorf("unknown store %q: sqlite or postgres", cfg.Store)
	}
	e.closers = append(e.closers, func() { e.store.Close() })

	if empty, err := e.store.Empty(ctx); err != nil {
		return err
	} else if empty {
		start := time.Now()
		if err := seed.LoadSynthetic(ctx, e.store, 0, cfg.Products, 1, func(done, total int) {
			if done%50000 == 0 || done == total {
				e.logf("seeded %d/%d products", done, total)
			}
		}); err != nil {
			return err
		}
		e.logf("seeded %d products in %s", cfg.Products, time.Since(start).Round(time.Millisecond))
		if e.pool != nil {
			if err := settle(ctx, e.pool); err != nil {
				return err
			}
		}
		cats, _ := seed.SyntheticCategories()
		for _, cat := range cats {
			if cat.Parent == "" {
				e.cats = append(e.cats, cat.Slug)
			}
		}
	}
	if err := e.sample(ctx); err != nil {
		return err
	}
	// The service as serve assembles it (read cache, NOTIFY listener, sweeper), and the same
	// service without the cache, where every read is a query. Both serve the store seeded above.
	var err error
	if e.base, err = e.service(ctx, "2s"); err != nil {
		return err
	}
	if e.direct, err = e.service(ctx, "0s"); err != nil {
		return err
	}
	body, _ := json.Marshal(e.fixedProduct(ctx))
	if e.ceilA, err = e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})); err != nil {
		return err
	}
	if e.pool != nil {
		if e.ceilB, err = e.serve(httpapi.Compressed(http.HandlerFunc(e.pkSelect))); err != nil {
			return err
		}
	}
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * cfg.Workers, MaxIdleConns: 8 * cfg.Workers}}
	return nil
}

// service starts the catalog service in-process with internal/app on the suite's store, with a
// read cache of cacheTTL ("0s": none), and returns its base URL. The closers shut it down,
// waiting for its goroutines.
func (e *env) service(ctx context.Context, cacheTTL string) (string, error) {
	vars := map[string]string{"API_KEYS": benchKey + "," + hostile.Key, "CACHE_TTL": cacheTTL, "REQUEST_TIMEOUT": "10s", "SHUTDOWN_TIMEOUT": "5s",
		// A free metrics port per service, and limits far above the load, so the limiter's cost
		// is measured without refusing the bench's own clients.
		"METRICS_PORT": "0", "RATE_LIMIT_PER_IP": "1000000/s:1000000", "RATE_LIMIT_PER_KEY": "1000000/s:1000000",
		// The relay runs as in AWS (one of the services holds the lease), into e.bus.
		"EVENT_BUS_NAME": "bench-bus"}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	a, err := app.Start(ctx, cfg, app.Options{Store: e.store, Listener: ln, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), EventPublisher: e.bus})
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, func() { a.Shutdown() })
	return "http://" + a.Addr().String(), nil
}

func (e *env) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 75 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(ln) }()
	e.closers = append(e.closers, func() { hs.Close(); <-done })
	return "http://" + ln.Addr().String(), nil
}

// sample collects product IDs and SKUs to request, from pages spread over the catalog. Only
// active products: the load is shoppers', who get 404 for drafts and archived products.
func (e *env) sample(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sort := range []catalog.Sort{catalog.SortNewest, catalog.SortOldest, catalog.SortName, catalog.SortPrice} {
		q := catalog.ListQuery{Sort: sort, Limit: catalog.MaxLimit, Filter: catalog.ProductFilter{Statuses: []catalog.Status{catalog.StatusActive}}}
		if sort == catalog.SortPrice {
			q.Filter.Currency = "USD" // every synthetic variant has a USD price
		}
		for range 5 {
			page, err := e.store.ListProducts(ctx, q)
			if err != nil {
				return err
			}
			for _, p := range page.Items {
				e.ids = append(e.ids, p.ID)
				for _, w := range strings.Fields(strings.ToLower(p.Name)) {
					switch {
					case strings.Trim(w, "0123456789") == "":
						e.rare = append(e.rare, w)
					case len(w) > 3 && rng.IntN(4) == 0:
						e.words = append(e.words, w)
					}
				}
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
	}
	if len(e.ids) == 0 {
		return fmt.Errorf("the store has no products")
	}
	// Lists carry no variants: read each sampled product once for its variants' SKUs and IDs.
	for _, id := range e.ids {
		p, err := e.store.Product(ctx, id)
		if err != nil {
			return err
		}
		for _, v := range p.Variants {
			e.skus = append(e.skus, v.SKU)
			e.variantIDs = append(e.variantIDs, v.ID)
			e.variantIDs = append(e.variantIDs, v.ID)
			e.variantPaths = append(e.variantPaths, p.ID+"/variants/"+v.ID)
		}
	}
	e.meanVariants = float64(len(e.skus)) / float64(len(e.ids))
	if len(e.words) == 0 {
		e.words = []string{"product"}
	}
	if len(e.rare) == 0 {
		e.rare = e.words
	}
	if len(e.cats) == 0 {
		cats, err := e.store.Categories(ctx)
		if err != nil {
			return err
		}
		for _, c := range cats {
			if c.Parent == "" {
				e.cats = append(e.cats, c.Slug)
			}
		}
	}
	return nil
}

func (e *env) fixedProduct(ctx context.Context) catalog.Product {
	p, _ := e.store.Product(ctx, e.ids[0])
	return p
}

// pkSelect is ceiling (b): the simplest correct handler for a product read, one primary-key
// SELECT of the product row through pgx, scanned and encoded, with none of the service's
// middleware. It reads no variants, prices or stock (the service does): the ceiling is what a
// read of one row costs, so the ratio shows everything the service adds to it. It is served
// through the service's compression (httpapi.Compressed): one rule for both sides. Its row
// (about 0.6 kB) is under the 1 kB threshold, so it goes uncompressed, where the service's
// answer with the variants is gzipped for a client that accepts it.
func (e *env) pkSelect(w http.ResponseWriter, r *http.Request) {
	id := path.Base(r.URL.Path) // "/{id}" in process, "/products/{id}" under wrk
	var p catalog.Product
	err := e.pool.QueryRow(r.Context(), `SELECT id::text, name, description, category, brand, attributes, media, options,
		status, version, created_at, updated_at
		FROM products WHERE id = $1`, id).Scan(&p.ID, &p.Name, &p.Description,
		&p.Category, &p.Brand, &p.Attributes, &p.Media, &p.Options, &p.Status, &p.Version,
		&p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(p)
}

// settle does at once what autovacuum does within a minute or so of a bulk load, so figures are
// of that steady state: statistics for the planner and the search plan choice, and the
// full-text index's pending list merged.
func settle(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "VACUUM ANALYZE products, variants, variant_prices, product_prices, inventory")
	return err
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
