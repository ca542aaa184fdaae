package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/capacity"
	"github.com/acme/catalog/internal/ecsmeta"
	"github.com/acme/catalog/internal/httpapi"
	"golang.org/x/sync/errgroup"
)

//go:embed wrk/reads.lua
var wrkScript []byte

// ErrNoWrk: the out-of-process bench needs wrk, which is not installed.
var ErrNoWrk = errors.New("wrk is not installed (apt-get install -y wrk): the out-of-process read bench is skipped")

// ZipfS is the skew of "hot reads": the k-th most popular product is read with probability
// proportional to 1/k^ZipfS, over the whole catalog. At s=1.1 and the 93,000 active products
// of a 100,000 catalog, the top 10 take 36% of reads, the top 1,000 75%, the top 10,000 (the
// read cache's default size) 89%.
const ZipfS = 1.1

// WrkConfig selects what RunWrk measures.
type WrkConfig struct {
	Binary      *Binary
	Products    int
	Duration    time.Duration // per scenario
	Connections int           // wrk -c; 64 by default
	Threads     int           // wrk -t; 2 by default
	// Before, when set, is another catalog binary (main's, say) served the same way on the same
	// database: each service scenario runs against it too, right after this build's, so the
	// two are compared in one run. It must accept this build's schema.
	Before string
	// WarmUp is the least the cached scenarios warm up for, unmeasured; 0 means the default
	// WarmUp, which outlasts the cache's TTL.
	WarmUp time.Duration
	// Scenarios, when set, keeps the service scenarios whose names start with one of these
	// (the ceilings always run: every ratio needs its own).
	Scenarios []string
	// CPUProfile, when set, is a file the server without the cache (this build's) writes its
	// CPU profile to, over every scenario it serves: pick them with Scenarios.
	CPUProfile string
	// CachedCPUProfile is the same for the server with the cache (this build's): the hot reads,
	// and every other cached scenario picked, warm-ups included.
	CachedCPUProfile string
	Progress         io.Writer
}

// WrkResult is one scenario under wrk: throughput and latency as wrk saw them, and the CPU
// time the server process and PostgreSQL spent per request, from /proc.
type WrkResult struct {
	Name      string
	Requests  int64
	RPS       float64
	P50, P99  time.Duration
	Errors    int64 // non-2xx answers, connect, read, write errors and timeouts
	ServerCPU time.Duration
	DBCPU     time.Duration
	// ClientCPU is wrk's, its start (reading the paths) included: it shares the two cores with
	// the server, so a ratio moves with it too.
	ClientCPU time.Duration
	Ceiling   string  // "(a)" or "(b)", when the scenario has one
	Ratio     float64 // RPS over the ceiling's
	Target    string  // the target and its verdict, when the scenario has one
	Note      string

	// RSSKB is the server's resident memory at the end of a cached scenario: the cache's price.
	RSSKB int64

	serverTicks, dbTicks int64         // clock ticks over the run(s), for merging two runs
	clientTime           time.Duration // wrk's CPU over the run(s)
	runs                 int
	cache                cacheCounts
}

// needsWarmUp says whether the cached scenario sc runs the same load first, unmeasured, for
// longer than the cache's TTL: a cache serving traffic is warm and its entries have expired at
// least once, so the measured run sees the steady state (expiry included), not first reads of
// the Zipf tail (primeCache reads every path once before the first warm-up). A second run
// right after its first (prev) is warm already; the "after" build's second run of the order
// after, before, before, after is not: its cache sat idle through both
// "before" runs, and measured cold it paid revalidations the "before" build did not, which
// biased every pair against the build under test.
//
// prev names the last scenario run or warmed on a served catalog: the ceilings, served by the
// bench itself, leave it as it was, so a scenario whose warm-up ran before the ceiling run
// around it (wrkScenario.warms) is not warmed twice.
func needsWarmUp(sc wrkScenario, prev string) bool {
	return sc.cached && prev != sc.name
}

// primeCache reads every path once through base, unmeasured, as many at a time as the bench
// has connections: a task that has served a shop for a while has read its catalog, and the
// read cache holds all of it (127 MiB of 256 at 100,000 products). Without it the measured
// run depended on the scenarios before it: after "get-by-id uniform, cache" hot reads hit
// 100%, run alone 96-97%, where 40 s of Zipf draws had never reached the tail and each first
// read (a miss, about 300 us of server CPU) cost as much as eight hits. Misses are what "get
// by id, no cache" measures; the hot-read target is the hit path against ceiling (a).
func primeCache(ctx context.Context, base string, paths []string, conns int) error {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	g, ctx := errgroup.WithContext(ctx) // the first failure stops the rest
	g.SetLimit(conns)
	for _, p := range paths {
		g.Go(func() error { return primeOne(ctx, client, base+p) })
	}
	return g.Wait()
}

func primeOne(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "gzip") // what the measured runs send (wrk/reads.lua)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("priming the cache: GET %s: %s", url, resp.Status)
	}
	return nil
}

// WarmUp is the least a cached scenario's unmeasured warm-up runs: longer than the default
// CACHE_TTL (30 s), so entries have expired once and the run measures the steady state.
const WarmUp = 40 * time.Second

// cacheCounts are the read cache's counters from a server's /metrics; ok is false when the
// server does not export them (an older build).
type cacheCounts struct {
	hits, revalidations, misses, evictions, bytes, maxBytes float64
	ok                                                      bool
	// gc is the collector's budget in force (Go's go_gc_gogc_percent and
	// go_gc_gomemlimit_bytes): what the process was sized as (ADR 0027).
	gc gcBudget
}

type gcBudget struct{ percent, limit float64 }

func (c cacheCounts) minus(o cacheCounts) cacheCounts {
	return cacheCounts{c.hits - o.hits, c.revalidations - o.revalidations, c.misses - o.misses, c.evictions - o.evictions, c.bytes, c.maxBytes, c.ok && o.ok, c.gc}
}

func (c cacheCounts) plus(o cacheCounts) cacheCounts {
	return cacheCounts{c.hits + o.hits, c.revalidations + o.revalidations, c.misses + o.misses, c.evictions + o.evictions, c.bytes, c.maxBytes, c.ok && o.ok, c.gc}
}

// String is the budget as GOGC and GOMEMLIMIT would spell it; empty when not exported.
func (g gcBudget) String() string {
	switch {
	case g.percent == 0:
		return ""
	case g.limit <= 0 || g.limit >= math.MaxInt64:
		return fmt.Sprintf("GOGC %g, no limit", g.percent)
	default:
		return fmt.Sprintf("GOGC %g, GOMEMLIMIT %.0f MiB", g.percent, g.limit/(1<<20))
	}
}

// String reports the hit ratio, what the cache held and the server's RSS.
func (c cacheCounts) String(rssKB int64) string {
	rss := fmt.Sprintf("RSS %.0f MiB", float64(rssKB)/1024)
	reads := c.hits + c.revalidations + c.misses
	if !c.ok || reads == 0 {
		return "hit ratio not exported; " + rss
	}
	if gc := c.gc.String(); gc != "" {
		rss += "; " + gc
	}
	return fmt.Sprintf("hits %.1f%% (%.1f%% revalidated), %.0f evictions, cache %.0f of %.0f MiB; %s",
		100*(c.hits+c.revalidations)/reads, 100*c.revalidations/reads, c.evictions, c.bytes/(1<<20), c.maxBytes/(1<<20), rss)
}

// scrapeCache reads the read cache's counters from a /metrics URL.
func scrapeCache(ctx context.Context, url string) cacheCounts {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return cacheCounts{}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cacheCounts{}
	}
	defer resp.Body.Close()
	var c cacheCounts
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		field := map[string]*float64{"catalog_read_cache_hits_total": &c.hits, "catalog_read_cache_revalidations_total": &c.revalidations,
			"catalog_read_cache_misses_total": &c.misses, "catalog_read_cache_evictions_total": &c.evictions,
			"catalog_read_cache_bytes": &c.bytes, "catalog_read_cache_max_bytes": &c.maxBytes}[name]
		if field != nil {
			*field = v
			found++
		}
		switch name {
		case "go_gc_gogc_percent":
			c.gc.percent = v
		case "go_gc_gomemlimit_bytes":
			c.gc.limit = v
		}
	}
	c.ok = found == 6
	return c
}

// wrkScenario is one wrk run: a server, a file of request paths and how to draw from it.
type wrkScenario struct {
	name, ceiling, note string
	target              func(r WrkResult, done []WrkResult) string
	cached              bool // served by the process with the read cache: warmed up first, hit ratio and RSS printed
	again               bool // a second run of a scenario measured before: the two are summed
	base                func() string
	pid                 func() int    // the server process measured
	metrics             func() string // its /metrics URL, for the read cache's counters
	paths               []string
	mode                string // uniform, zipf
	// around is set on a scenario whose ratio target is measured against its ceiling run twice
	// around it (aroundRuns), not the ceiling measured at the start: the ceiling itself moved
	// by 30% between runs minutes apart on this shared machine, as much as the gap to a target.
	around bool
	// beside names the ceiling runs measured around this scenario, when it has them.
	beside string
	// warms, on the first ceiling run around a cached scenario, is that scenario: its cache is
	// primed and warmed before the ceiling runs, so nothing but the ceiling separates the two.
	warms *wrkScenario
	// duration, when set, is this run's, instead of the configured one.
	duration time.Duration
}

// aroundRuns returns sc's ceiling c as the two runs that go before and after sc (and its
// "before" build's runs), in the order ceiling, scenario(s), ceiling: a palindrome, so drift in
// the machine's speed over minutes falls on both alike. The two ceiling runs take half the
// duration each and are summed into one figure. They draw sc's requests (its paths, in its
// mode; a ceiling's handler answers any path): wrk shares the two cores with the server, and
// drawing from 93,000 paths costs it about 2 µs a request more than sending "/", which the
// ratio would otherwise charge to the service.
func aroundRuns(sc, c wrkScenario, d time.Duration) (open, close wrkScenario) {
	open = c
	open.name = fmt.Sprintf("  %s, around %q", shortCeiling(sc.ceiling), sc.name)
	open.paths, open.mode = sc.paths, sc.mode
	open.duration = max(time.Second, d/2)
	if sc.cached {
		open.warms = &sc
	}
	close = open
	close.again, close.warms = true, nil
	return open, close
}

// wrkOrder returns the runs in the order they are measured: the ceilings, then each service
// scenario selected by prefixes, with the ceiling runs around it when it has them (ceiling,
// scenario, ceiling). With beforeOf (which points a scenario at the "before" build's server)
// each scenario is measured in the order after, before, before, after, each figure the sum of
// its two runs: the neighbours' load drifts over minutes, and this way the drift falls on both
// alike.
func wrkOrder(ceilings, service []wrkScenario, prefixes []string, d time.Duration, beforeOf func(wrkScenario) wrkScenario) []wrkScenario {
	order := slices.Clone(ceilings)
	for _, sc := range service {
		if !Selected(prefixes, sc.name) {
			continue
		}
		var closing []wrkScenario
		if sc.around {
			i := slices.IndexFunc(ceilings, func(c wrkScenario) bool { return c.name == sc.ceiling })
			open, close := aroundRuns(sc, ceilings[i], d)
			sc.beside = open.name
			order = append(order, open)
			closing = append(closing, close)
		}
		order = append(order, sc)
		if beforeOf != nil {
			b := beforeOf(sc)
			b.name, b.target = "  before: "+sc.name, nil
			b2, sc2 := b, sc
			b2.again, sc2.again = true, true
			order = append(order, b, b2, sc2)
		}
		order = append(order, closing...)
	}
	return order
}

// RunWrk measures reads the way a client outside the process sees them: the catalog binary
// runs as a process of its own (with and without its read cache), wrk drives it with 64
// connections from another process, ids are drawn from the whole catalog (uniformly for "get
// by id", Zipf(ZipfS) for "hot reads"), and each figure stands beside its ceiling measured in
// the same run: (a) a handler writing a fixed body, (b) a handler doing one primary-key SELECT
// of the product row. The server's and PostgreSQL's CPU time per request come from
// /proc/<pid>/stat before and after each scenario. It returns ErrNoWrk when wrk is missing.
func RunWrk(ctx context.Context, cfg WrkConfig) ([]WrkResult, error) {
	// A bad selection fails before the seeding, and before wrk is looked for.
	if err := CheckSelection(cfg.Scenarios, WrkNames()); err != nil {
		return nil, err
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return nil, ErrNoWrk
	}
	if cfg.Connections <= 0 {
		cfg.Connections = 64
	}
	if cfg.Threads <= 0 {
		cfg.Threads = 2
	}
	if cfg.WarmUp <= 0 {
		cfg.WarmUp = WarmUp
	}
	logf := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	bin, cluster, pm, e, err := startMeasured(ctx, cfg.Binary, Config{Store: "postgres", Products: cfg.Products, Duration: cfg.Duration}, 16, logf)
	if err != nil {
		return nil, err
	}
	defer cluster.Close()
	defer e.close()
	// Every active product, in an order unrelated to creation, so Zipf's popular ranks are
	// spread over the table.
	rows, err := e.pool.Query(ctx, `SELECT id::text FROM products WHERE status = 'active' ORDER BY md5(id::text)`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "catalog-wrk")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	task, taskURI := defaultTask() // processes ask it once, at start
	defer task.Close()
	script := filepath.Join(dir, "reads.lua")
	if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
		return nil, err
	}
	metricsURL := map[*process]string{}
	serve := func(bin, name, cacheTTL string, args ...string) (*process, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		mport, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := startProcess(bin, filepath.Join(dir, name+".log"), port, map[string]string{
			"DATABASE_URL": e.url, "API_KEYS": benchKey, "LOG_LEVEL": servedLogLevel, "SEED_SAMPLE": "false", "CACHE_TTL": cacheTTL,
			"METRICS_PORT": strconv.Itoa(mport), ecsmeta.EnvURI: taskURI,
		}, append([]string{"serve"}, args...)...)
		if err != nil {
			return nil, err
		}
		metricsURL[p] = fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
		e.closers = append(e.closers, func() { p.stop(10 * time.Second) })
		return p, p.ready(ctx, time.Minute)
	}
	cached, err := serve(bin, "cached", "30s", profileArgs(cfg.CachedCPUProfile)...) // the default CACHE_TTL
	if err != nil {
		return nil, err
	}
	direct, err := serve(bin, "direct", "0s", profileArgs(cfg.CPUProfile)...)
	if err != nil {
		return nil, err
	}
	var beforeCached, beforeDirect *process
	if cfg.Before != "" {
		// Its own default TTL: what it would run with.
		if beforeCached, err = serve(cfg.Before, "before-cached", ""); err != nil {
			return nil, err
		}
		if beforeDirect, err = serve(cfg.Before, "before-direct", "0s"); err != nil {
			return nil, err
		}
	}
	deep, err := deepPages(ctx, direct.base, 20, 500)
	if err != nil {
		return nil, err
	}
	// The ceilings run in this process, which does nothing else while wrk drives them.
	body, _ := json.Marshal(e.fixedProduct(ctx))
	if e.ceilA, err = e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})); err != nil {
		return nil, err
	}
	if e.ceilB, err = e.serve(httpapi.Compressed(http.HandlerFunc(e.pkSelect))); err != nil {
		return nil, err
	}
	self := os.Getpid()
	prefixed := func(prefix string, vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = prefix + v
		}
		return out
	}
	var searches []string
	for _, w := range e.words {
		searches = append(searches, "/products?q="+url.QueryEscape(w))
	}
	products := prefixed("/products/", ids)
	service := wrkService(wrkServed{cached: cached, direct: direct, metrics: metricsURL,
		products: products, deep: deep, searches: searches})
	ceilABase, ceilBBase := func() string { return e.ceilA }, func() string { return e.ceilB }
	selfPID := func() int { return self }
	scenarios := []wrkScenario{
		// The ceilings draw what the scenarios compared with them draw (see aroundRuns).
		{name: "ceiling-a fixed body", base: ceilABase, pid: selfPID, paths: products, mode: "zipf"},
		{name: "ceiling-b pk select, uniform", base: ceilBBase, pid: selfPID, paths: products, mode: "uniform"},
	}
	beforeOf := func(sc wrkScenario) wrkScenario {
		if sc.cached {
			sc.base, sc.pid = servedBy(beforeCached)
			sc.metrics = metricsOf(beforeCached, metricsURL)
		} else {
			sc.base, sc.pid = servedBy(beforeDirect)
		}
		return sc
	}
	if cfg.Before == "" {
		beforeOf = nil
	}
	scenarios = wrkOrder(scenarios, service, cfg.Scenarios, cfg.Duration, beforeOf)
	hz := float64(capacity.ClockTicks())
	var results []WrkResult
	prev := ""
	primed := map[string]bool{} // the cached servers whose cache has read every path
	pathsFile := filepath.Join(dir, "paths.txt")
	// run runs wrk for sc and returns its output and its own CPU time.
	run := func(sc wrkScenario, d time.Duration) ([]byte, time.Duration, error) {
		if err := os.WriteFile(pathsFile, []byte(strings.Join(sc.paths, "\n")+"\n"), 0o644); err != nil {
			return nil, 0, err
		}
		cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(cfg.Threads), "-c", strconv.Itoa(cfg.Connections),
			"-d", strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second)))+"s", "--latency", "-s", script,
			sc.base(), "--", pathsFile, sc.mode, strconv.FormatFloat(ZipfS, 'f', -1, 64))
		out, err := cmd.CombinedOutput()
		var used time.Duration
		if cmd.ProcessState != nil {
			used = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		return out, used, err
	}
	// warm primes the cache sc reads (once per server) and runs sc's load on it, unmeasured.
	warm := func(sc wrkScenario) error {
		if !primed[sc.base()] {
			logf("wrk: %s, reading each of %d paths once first", sc.name, len(sc.paths))
			if err := primeCache(ctx, sc.base(), sc.paths, cfg.Connections); err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			primed[sc.base()] = true
		}
		d := max(cfg.Duration, cfg.WarmUp)
		logf("wrk: %s, warming the cache for %s", sc.name, d)
		if out, _, err := run(sc, d); err != nil {
			return fmt.Errorf("wrk %s (warm-up): %v: %s", sc.name, err, out)
		}
		return nil
	}
	byName := map[string]wrkScenario{}
	for _, sc := range scenarios {
		byName[sc.name] = sc
		switch {
		case sc.warms != nil:
			if err := warm(*sc.warms); err != nil {
				return results, err
			}
			prev = sc.warms.name
		case needsWarmUp(sc, prev):
			if err := warm(sc); err != nil {
				return results, err
			}
		}
		if sc.pid() != self {
			prev = sc.name
		}
		d := cfg.Duration
		if sc.duration > 0 {
			d = sc.duration
		}
		var c0 cacheCounts
		if sc.metrics != nil {
			c0 = scrapeCache(ctx, sc.metrics())
		}
		logf("wrk: %s for %s (%d paths, %s)", sc.name, d, len(sc.paths), sc.mode)
		s0, err := capacity.ProcessTicks(sc.pid())
		if err != nil {
			return results, err
		}
		d0, err := capacity.TreeTicks(pm)
		if err != nil {
			return results, err
		}
		out, used, err := run(sc, d)
		s1, _ := capacity.ProcessTicks(sc.pid())
		d1, _ := capacity.TreeTicks(pm)
		var c1 cacheCounts
		if sc.metrics != nil {
			c1 = scrapeCache(ctx, sc.metrics())
		}
		if err != nil {
			return results, fmt.Errorf("wrk %s: %v: %s", sc.name, err, out)
		}
		r, err := parseWrk(out)
		if err != nil {
			return results, fmt.Errorf("wrk %s: %w", sc.name, err)
		}
		r.Name, r.Note = sc.name, sc.note
		r.serverTicks, r.dbTicks, r.clientTime, r.runs = s1-s0, d1-d0, used, 1
		if sc.cached {
			r.cache = c1.minus(c0)
			r.RSSKB = rssKB(sc.pid(), "VmRSS:")
		}
		if sc.again {
			i := slices.IndexFunc(results, func(c WrkResult) bool { return c.Name == sc.name })
			if i < 0 {
				return results, fmt.Errorf("%s: a second run without a first", sc.name)
			}
			p := results[i]
			results = slices.Delete(results, i, i+1)
			r.Requests += p.Requests
			r.Errors += p.Errors
			r.RPS, r.P50, r.P99 = (r.RPS+p.RPS)/2, (r.P50+p.P50)/2, (r.P99+p.P99)/2
			r.serverTicks += p.serverTicks
			r.dbTicks += p.dbTicks
			r.clientTime += p.clientTime
			r.cache = r.cache.plus(p.cache)
			r.runs = 2
			r.Note = strings.TrimPrefix(r.Note+"; two runs (p50, p99: means)", "; ")
		}
		if r.Requests > 0 {
			r.ServerCPU = time.Duration(float64(r.serverTicks) / hz / float64(r.Requests) * float64(time.Second))
			r.DBCPU = time.Duration(float64(r.dbTicks) / hz / float64(r.Requests) * float64(time.Second))
			r.ClientCPU = r.clientTime / time.Duration(r.Requests)
		}
		if sc.cached {
			r.Note = strings.TrimPrefix(r.Note+"; "+r.cache.String(r.RSSKB), "; ")
		}
		results = append(results, r)
		if r.Requests == 0 || r.Errors > r.Requests/100 {
			return compareWrk(results, byName), fmt.Errorf("%s: %d requests, %d errors: no sound measurement", sc.name, r.Requests, r.Errors)
		}
	}
	return compareWrk(results, byName), nil
}

// aroundNote marks a figure whose ratio is to the ceiling run around it.
const aroundNote = "ratio to the ceiling run around it"

// compareWrk sets each result's ratio to its ceiling, once every run is in: the ceiling runs
// around a scenario when it has them, else the ceiling measured at the start; then its target,
// which may read other results (a p99 against get-by-id's).
func compareWrk(results []WrkResult, scenarios map[string]wrkScenario) []WrkResult {
	for i := range results {
		r := &results[i]
		sc := scenarios[r.Name]
		if sc.ceiling == "" {
			continue
		}
		ceiling := sc.ceiling
		if sc.beside != "" {
			ceiling = sc.beside
		}
		for _, c := range results {
			if c.Name == ceiling && c.RPS > 0 {
				r.Ceiling, r.Ratio = shortCeiling(sc.ceiling), r.RPS/c.RPS
			}
		}
		if r.Ceiling != "" && sc.beside != "" {
			r.Note = strings.TrimSuffix(aroundNote+"; "+r.Note, "; ")
		}
		if sc.target != nil {
			r.Target = sc.target(*r, results)
		}
	}
	return results
}

// wrkServed is what the service scenarios run against and draw from: known once the catalog
// is seeded and the servers run.
type wrkServed struct {
	cached, direct *process
	metrics        map[*process]string // each server's /metrics URL
	products       []string            // "/products/{id}" of every active product
	deep, searches []string
}

// wrkService returns the service scenarios for s. Their names do not depend on s, so the zero
// wrkServed lists them before anything starts.
func wrkService(s wrkServed) []wrkScenario {
	cachedBase, cachedPID := servedBy(s.cached)
	directBase, directPID := servedBy(s.direct)
	getByID := "get-by-id uniform, no cache"
	p99Target := func(times float64) func(WrkResult, []WrkResult) string {
		return func(r WrkResult, done []WrkResult) string {
			for _, g := range done {
				if g.Name == getByID && g.P99 > 0 {
					x := float64(r.P99) / float64(g.P99)
					return fmt.Sprintf("p99 %.1fx get-by-id's; target <= %gx: %s", x, times, verdict(x <= times))
				}
			}
			return ""
		}
	}
	ratioTarget := func(min float64) func(WrkResult, []WrkResult) string {
		return func(r WrkResult, _ []WrkResult) string {
			return fmt.Sprintf("target >= %gx: %s", min, verdict(r.Ratio >= min))
		}
	}
	return []wrkScenario{
		{name: getByID, ceiling: "ceiling-b pk select, uniform", base: directBase, pid: directPID, paths: s.products, mode: "uniform",
			target: ratioTarget(0.9), around: true},
		{name: "get-by-id uniform, cache", ceiling: "ceiling-b pk select, uniform", base: cachedBase, pid: cachedPID, paths: s.products, mode: "uniform", cached: true,
			metrics: metricsOf(s.cached, s.metrics)},
		{name: fmt.Sprintf("hot reads zipf s=%.1f, cache", ZipfS), ceiling: "ceiling-a fixed body", base: cachedBase, pid: cachedPID, paths: s.products, mode: "zipf",
			target: ratioTarget(0.6), cached: true, metrics: metricsOf(s.cached, s.metrics), around: true},
		{name: "list first page (20)", ceiling: "ceiling-b pk select, uniform", base: directBase, pid: directPID, paths: []string{"/products?limit=20"}, mode: "uniform",
			note: "gzip-coded (the client accepts it)", target: p99Target(2)},
		{name: "list deep pages (cursor)", ceiling: "ceiling-b pk select, uniform", base: directBase, pid: directPID, paths: s.deep, mode: "uniform",
			note: fmt.Sprintf("%d pages of 20 by cursor", len(s.deep)), target: p99Target(2)},
		{name: "search, one common word", ceiling: "ceiling-b pk select, uniform", base: directBase, pid: directPID, paths: s.searches, mode: "uniform",
			note: fmt.Sprintf("%d draws of common words from product names", len(s.searches))},
	}
}

// servedBy returns p's base URL and pid, read when a run needs them.
func servedBy(p *process) (func() string, func() int) {
	return func() string { return p.base }, func() int { return p.cmd.Process.Pid }
}

// metricsOf returns p's /metrics URL, read when a run needs it.
func metricsOf(p *process, urls map[*process]string) func() string {
	return func() string { return urls[p] }
}

// WrkNames returns the names of the scenarios -wrk measures against the ceilings, in the order
// they run. They do not hang on what is served, so they are known before anything starts.
func WrkNames() []string {
	var names []string
	for _, sc := range wrkService(wrkServed{}) {
		names = append(names, sc.name)
	}
	return names
}

// deepPages follows a list's cursors from the first page of size limit and returns the paths of
// the pages after it, up to n of them: the deep pages a client scrolling the catalog asks for.
func deepPages(ctx context.Context, base string, limit, n int) ([]string, error) {
	var paths []string
	next := fmt.Sprintf("/products?limit=%d", limit)
	for len(paths) < n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", next, err)
		}
		if page.NextCursor == "" {
			break
		}
		next = fmt.Sprintf("/products?limit=%d&cursor=%s", limit, url.QueryEscape(page.NextCursor))
		paths = append(paths, next)
	}
	if len(paths) == 0 {
		return nil, errors.New("the catalog has a single page: no deep pages to read")
	}
	return paths, nil
}

// parseWrk reads the line reads.lua's done() writes.
func parseWrk(out []byte) (WrkResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "WRK ")
		if !ok {
			continue
		}
		var v struct {
			Requests   int64 `json:"requests"`
			DurationUS int64 `json:"duration_us"`
			P50US      int64 `json:"p50_us"`
			P99US      int64 `json:"p99_us"`
			Non2xx     int64 `json:"non2xx"`
			Connect    int64 `json:"connect"`
			Read       int64 `json:"read"`
			Write      int64 `json:"write"`
			Timeout    int64 `json:"timeout"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return WrkResult{}, fmt.Errorf("wrk summary %q: %w", line, err)
		}
		if v.DurationUS <= 0 {
			return WrkResult{}, fmt.Errorf("wrk summary %q: no duration", line)
		}
		return WrkResult{
			Requests: v.Requests, RPS: float64(v.Requests) / (float64(v.DurationUS) / 1e6),
			P50: time.Duration(v.P50US) * time.Microsecond, P99: time.Duration(v.P99US) * time.Microsecond,
			Errors: v.Non2xx + v.Connect + v.Read + v.Write + v.Timeout,
		}, nil
	}
	return WrkResult{}, fmt.Errorf("no summary in wrk's output:\n%s", out)
}

// WrkTable prints results with each figure beside its ceiling and the CPU per request.
func WrkTable(w io.Writer, results []WrkResult) {
	fmt.Fprintf(w, "%-42s %9s %9s %9s %14s %12s %12s %12s %7s  %s\n", "scenario (wrk, out of process)", "req/s", "p50", "p99", "vs ceiling", "server CPU", "pg CPU", "client CPU", "errors", "notes")
	for _, r := range results {
		vs := ""
		if r.Ceiling != "" {
			vs = fmt.Sprintf("%.2fx %s", r.Ratio, r.Ceiling)
		}
		note := r.Target
		if r.Note != "" {
			note = strings.TrimPrefix(note+"; "+r.Note, "; ")
		}
		fmt.Fprintf(w, "%-42s %9.0f %9s %9s %14s %10.0fus %10.0fus %10.1fus %7d  %s\n", r.Name, r.RPS, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond),
			vs, micros(r.ServerCPU), micros(r.DBCPU), micros(r.ClientCPU), r.Errors, note)
	}
}

// profileArgs are the serve arguments that make a served process write its CPU profile to
// file; none when file is empty.
func profileArgs(file string) []string {
	if file == "" {
		return nil
	}
	return []string{"-cpuprofile", file}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
