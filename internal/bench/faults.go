package bench

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/awssecrets/awssecretstest"
	"github.com/acme/catalog/internal/pgtest"
)

// FaultConfig selects and shapes the fault scenarios.
type FaultConfig struct {
	// Binary is the catalog binary the faults run as processes; nil builds one for this run.
	Binary *Binary
	// Scenarios are name prefixes, as in Config; none selects every fault.
	Scenarios []string
	// Workers drive load through each fault (default 4).
	Workers int
	// Phase is the length of each step of a fault: the load before it, the outage, the wait
	// after each rotation step or replacement (default 2s; tests use less).
	Phase time.Duration
	// RequireProxy makes a missing haproxy an error instead of a skipped row (CI).
	RequireProxy bool
	Progress     io.Writer
}

// Names of the fault scenarios, for -scenarios prefixes ("fault" selects them all).
const (
	FaultDatabaseRestart    = "fault: database restart"
	FaultCredentialRotation = "fault: credential rotation"
	FaultRollingRestart     = "fault: rolling restart behind a proxy"
	FaultDatabaseLate       = "fault: database late at start"
)

// ErrNoCluster says no private PostgreSQL cluster could be started for the faults.
var ErrNoCluster = errors.New("the fault scenarios need a PostgreSQL cluster of their own (initdb and pg_ctl on PATH; a postgres user when run as root)")

// faultEnv is what the fault scenarios share: the binary, a directory for logs and
// configuration, and a cluster they may stop, start and change passwords on.
type faultEnv struct {
	cfg     FaultConfig
	bin     string
	dir     string
	cluster *pgtest.Cluster
	client  *http.Client
	started int // processes started, to name their logs
}

// fault is one fault scenario. It returns its row, the promises it saw broken, and an error
// when it could not run.
type fault struct {
	name string
	run  func(*faultEnv, context.Context) (Result, []string, error)
}

// faultScenarios returns the fault scenarios in the order they run.
func faultScenarios() []fault {
	return []fault{
		{FaultDatabaseRestart, (*faultEnv).databaseRestart},
		{FaultCredentialRotation, (*faultEnv).credentialRotation},
		{FaultRollingRestart, (*faultEnv).rollingRestart},
		{FaultDatabaseLate, (*faultEnv).databaseLate},
	}
}

// RunFaults runs the selected fault scenarios against the catalog binary as processes under
// load, and returns a row per fault with what happened in its Notes. The error names every
// promise that broke, and every fault that could not run. Everything started (processes,
// proxy, cluster, files) is stopped and removed before it returns, also when ctx ends.
func RunFaults(ctx context.Context, cfg FaultConfig) ([]Result, error) {
	all := slices.DeleteFunc(faultScenarios(), func(sc fault) bool { return !Selected(cfg.Scenarios, sc.name) })
	if len(all) == 0 {
		return nil, nil
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Phase <= 0 {
		cfg.Phase = 2 * time.Second
	}
	f := &faultEnv{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * cfg.Workers}}}
	defer f.client.CloseIdleConnections()
	c, err := pgtest.StartWith(pgtest.Options{CommitDurably: true}) // stopped under load: commits must be durable
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoCluster, err)
	}
	defer c.Close()
	f.cluster = c
	if f.dir, err = os.MkdirTemp("", "catalog-faults"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(f.dir)
	bin := cfg.Binary
	if bin == nil {
		bin = &Binary{}
		defer bin.Close()
	}
	if f.bin, err = bin.Path(ctx); err != nil {
		return nil, err
	}

	var results []Result
	var errs []error
	for _, sc := range all {
		f.logf("running %s", sc.name)
		r, broken, err := sc.run(f, ctx)
		r.Name, r.Fault = sc.name, true
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		switch {
		case err != nil:
			r.Notes = strings.TrimPrefix(r.Notes+"; could not run: "+err.Error(), "; ")
			errs = append(errs, fmt.Errorf("%s: could not run: %w", sc.name, err))
		case len(broken) > 0:
			errs = append(errs, fmt.Errorf("%s: PROMISE BROKEN: %s", sc.name, strings.Join(broken, "; ")))
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

func (f *faultEnv) logf(format string, args ...any) {
	if f.cfg.Progress != nil {
		fmt.Fprintf(f.cfg.Progress, format+"\n", args...)
	}
}

// pause waits d, or less if ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// database creates a database on the fault cluster and returns its superuser URL.
func (f *faultEnv) database(ctx context.Context, name, owner string) (string, error) {
	sql := "CREATE DATABASE " + name
	if owner != "" {
		sql += " OWNER " + owner
	}
	if err := f.cluster.Exec(ctx, sql); err != nil {
		return "", err
	}
	return pgtest.WithDatabase(f.cluster.AdminURL, name), nil
}

// serve starts the binary as `serve` on port (0: a free one) with vars, and waits until it is
// ready. The caller stops it.
func (f *faultEnv) serve(ctx context.Context, port int, vars map[string]string) (*process, error) {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// Errors only: the outage answers thousands of 503s, each a warning.
	env := map[string]string{"API_KEYS": benchKey, "LOG_LEVEL": "error"}
	maps.Copy(env, vars)
	f.started++
	p, err := startProcess(f.bin, filepath.Join(f.dir, fmt.Sprintf("catalog-%d.log", f.started)), port, env, "serve")
	if err != nil {
		return nil, err
	}
	if err := p.ready(ctx, time.Minute); err != nil {
		p.stop(time.Second)
		return nil, err
	}
	return p, nil
}

// underLoad drives next from workers until the returned stop is called; stop waits for the
// workers and returns what they measured (calling it again returns the same).
func underLoad(ctx context.Context, client *http.Client, workers int, ok []int, next Request, after func(Answer)) (stop func() Result) {
	var done atomic.Bool
	hooks := &Hooks{Done: done.Load}
	if after != nil {
		hooks.After = func(_ int, a Answer) { after(a) }
	}
	out := make(chan Result, 1)
	go func() { out <- Run(ctx, client, "", workers, time.Hour, ok, next, hooks) }()
	return sync.OnceValue(func() Result {
		done.Store(true)
		return <-out
	})
}

// createCategory is a write whose acknowledgement can be checked later: the slug rides along
// in a header for the After hook.
func createCategory(ctx context.Context, base, slug string) (*http.Request, error) {
	r, err := post(ctx, base+"/categories", fmt.Sprintf(`{"slug":%q,"name":"Fault"}`, slug))
	if err == nil {
		r.Header.Set("X-Bench-Slug", slug)
	}
	return r, err
}

// failures describes requests that were not answered with an expected status.
func failures(r Result, ok []int) string {
	var parts []string
	for code, n := range r.Statuses {
		if !slices.Contains(ok, code) {
			parts = append(parts, fmt.Sprintf("%d answered %d", n, code))
		}
	}
	slices.Sort(parts)
	if r.NoAnswer > 0 {
		parts = append(parts, fmt.Sprintf("%d got no answer", r.NoAnswer))
	}
	return strings.Join(parts, ", ")
}

// databaseRestart stops PostgreSQL (immediate mode, as a crash or failover does) under reads
// and writes, and starts it again. Promises: during the outage /health stays 200, /ready is
// 503, requests answer 503 with Retry-After within the request deadline (never a 500, never
// no answer); afterwards the service writes again by itself, and no acknowledged write is
// lost.
func (f *faultEnv) databaseRestart(ctx context.Context) (Result, []string, error) {
	const deadline = 2 * time.Second
	url, err := f.database(ctx, "fault_restart", "")
	if err != nil {
		return Result{}, nil, err
	}
	p, err := f.serve(ctx, 0, map[string]string{"DATABASE_URL": url, "REQUEST_TIMEOUT": deadline.String(), "READY_TIMEOUT": "500ms"})
	if err != nil {
		return Result{}, nil, err
	}
	defer p.stop(10 * time.Second)

	var (
		down                  atomic.Bool
		mu                    sync.Mutex
		acked                 []string
		slowest               time.Duration
		refused, noRetryAfter int
	)
	ok := []int{200, 201, 503}
	stopLoad := underLoad(ctx, f.client, f.cfg.Workers, ok, func(ctx context.Context, w, i int) (*http.Request, error) {
		if i%2 == 1 {
			return get(ctx, p.base+"/products?limit=5")
		}
		return createCategory(ctx, p.base, fmt.Sprintf("w%d-%d", w, i))
	}, func(a Answer) {
		isDown := down.Load()
		mu.Lock()
		defer mu.Unlock()
		switch a.Status {
		case http.StatusCreated:
			acked = append(acked, a.Request.Header.Get("X-Bench-Slug"))
		case http.StatusServiceUnavailable:
			if a.Header.Get("Retry-After") == "" {
				noRetryAfter++
			}
			if isDown {
				refused++
			}
		}
		if isDown && a.Took > slowest {
			slowest = a.Took
		}
	})
	defer stopLoad()

	var broken, probes []string
	// probe asks the two endpoints the orchestrator and the load balancer check.
	probe := func(when string) {
		health, _ := status(ctx, f.client, p.base+"/health")
		t0 := time.Now()
		ready, _ := status(ctx, f.client, p.base+"/ready")
		took := time.Since(t0)
		probes = append(probes, fmt.Sprintf("/health %d, /ready %d in %s", health, ready, round(took)))
		if health != http.StatusOK {
			broken = append(broken, fmt.Sprintf("/health answered %d %s, want 200 (every task would be replaced)", health, when))
		}
		if ready != http.StatusServiceUnavailable || took > deadline {
			broken = append(broken, fmt.Sprintf("/ready answered %d in %s %s, want 503 within %s", ready, round(took), when, deadline))
		}
	}
	if err := pause(ctx, f.cfg.Phase/2); err != nil {
		return Result{}, nil, err
	}
	f.logf("  stopping PostgreSQL (immediate) under load")
	begin := time.Now()
	down.Store(true)
	if err := f.cluster.Stop(); err != nil {
		return Result{}, nil, err
	}
	if err := pause(ctx, 300*time.Millisecond); err != nil {
		return Result{}, nil, err
	}
	probe("early in the outage")
	if err := pause(ctx, max(f.cfg.Phase-300*time.Millisecond, 0)); err != nil {
		return Result{}, nil, err
	}
	probe("late in the outage")
	f.logf("  starting PostgreSQL again")
	if err := f.cluster.Start(); err != nil {
		return Result{}, nil, err
	}
	restarted := time.Now()
	down.Store(false)

	var recovered time.Duration
	for n := 0; time.Since(restarted) < 30*time.Second && ctx.Err() == nil; n++ {
		if code, _ := status(ctx, f.client, p.base+"/ready"); code == http.StatusOK {
			req, err := createCategory(ctx, p.base, fmt.Sprintf("after-%d", n))
			if err != nil {
				return Result{}, nil, err
			}
			if resp, err := f.client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					recovered = time.Since(restarted)
					break
				}
			}
		}
		pause(ctx, 20*time.Millisecond)
	}
	if err := pause(ctx, f.cfg.Phase/2); err != nil {
		return Result{}, nil, err
	}
	r := stopLoad()

	lost, err := missingCategories(ctx, f.client, p.base, acked)
	if err != nil {
		return r, nil, fmt.Errorf("read back the acknowledged writes: %w", err)
	}
	r.Notes = fmt.Sprintf("outage %s: %d answers 503 (%d without Retry-After), slowest %s [deadline %s]; probes during it: %s; ready and writing again %s after the restart; %d requests in all %v; acknowledged writes %d, lost %d",
		restarted.Sub(begin).Round(10*time.Millisecond), refused, noRetryAfter, round(slowest), deadline, strings.Join(probes, ", then "),
		recovered.Round(time.Millisecond), r.Requests, r.Statuses, len(acked), lost)
	if s := failures(r, ok); s != "" {
		broken = append(broken, "requests failed: "+s+" (only 503 may answer an outage)")
	}
	if noRetryAfter > 0 {
		broken = append(broken, fmt.Sprintf("%d answers 503 without Retry-After", noRetryAfter))
	}
	if slowest > deadline+time.Second {
		broken = append(broken, fmt.Sprintf("an answer during the outage took %s, past the %s request deadline", slowest, deadline))
	}
	if refused == 0 {
		broken = append(broken, "no request was answered 503 during the outage: the fault was not exercised")
	}
	if recovered == 0 {
		broken = append(broken, "the service did not write again within 30s of the database restarting")
	}
	if lost > 0 {
		broken = append(broken, fmt.Sprintf("%d of %d acknowledged writes were lost", lost, len(acked)))
	}
	if len(broken) > 0 {
		broken = append(broken, "the service's last log lines:\n"+p.logTail())
	}
	return r, broken, nil
}

// databaseLate starts the binary while PostgreSQL is down (the first deploy on AWS, where tasks
// start while the Aurora writer is still being created) and starts PostgreSQL a phase later.
// Promises: the process stays up; while it waits /health is 200, /ready 503 and API requests
// 503 with Retry-After; once the database accepts connections the service migrates and is
// ready and writing within the backoff cap (10 s) and a margin.
func (f *faultEnv) databaseLate(ctx context.Context) (Result, []string, error) {
	const within = 15 * time.Second // the 10 s backoff cap, plus migrating and a margin
	url, err := f.database(ctx, "fault_late", "")
	if err != nil {
		return Result{}, nil, err
	}
	f.logf("  stopping PostgreSQL, then starting the service")
	if err := f.cluster.Stop(); err != nil {
		return Result{}, nil, err
	}
	// Whatever happens below, the next fault finds the cluster running.
	dbUp := false
	defer func() {
		if !dbUp {
			f.cluster.Start()
		}
	}()
	port, err := freePort()
	if err != nil {
		return Result{}, nil, err
	}
	f.started++
	p, err := startProcess(f.bin, filepath.Join(f.dir, fmt.Sprintf("catalog-%d.log", f.started)), port,
		map[string]string{"API_KEYS": benchKey, "DATABASE_URL": url, "DB_STARTUP_TIMEOUT": "2m", "LOG_LEVEL": "warn"}, "serve")
	if err != nil {
		return Result{}, nil, err
	}
	defer p.stop(10 * time.Second)

	r := Result{Statuses: map[int]int{}}
	var broken, probes []string
	exited := func() bool {
		select {
		case <-p.done:
			broken = append(broken, fmt.Sprintf("the process exited (%v) while the database was away", p.err))
			return true
		default:
			return false
		}
	}
	probe := func(when string) {
		health, _ := status(ctx, f.client, p.base+"/health")
		ready, _ := status(ctx, f.client, p.base+"/ready")
		var api int
		retryAfter := ""
		if req, err := get(ctx, p.base+"/products?limit=1"); err == nil {
			if resp, err := f.client.Do(req); err == nil {
				api, retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
				resp.Body.Close()
			}
		}
		for _, code := range []int{health, ready, api} {
			r.Requests++
			r.Statuses[code]++
		}
		probes = append(probes, fmt.Sprintf("/health %d, /ready %d, GET /products %d", health, ready, api))
		if health != http.StatusOK || ready != http.StatusServiceUnavailable || api != http.StatusServiceUnavailable || retryAfter == "" {
			broken = append(broken, fmt.Sprintf("%s: /health %d, /ready %d, GET /products %d (Retry-After %q); want 200, 503, 503 with Retry-After",
				when, health, ready, api, retryAfter))
		}
	}
	// The port answers as soon as the process listens.
	for t0 := time.Now(); time.Since(t0) < 10*time.Second; {
		if code, _ := status(ctx, f.client, p.base+"/health"); code != 0 || exited() {
			break
		}
		pause(ctx, 5*time.Millisecond)
	}
	probe("at start")
	if err := pause(ctx, f.cfg.Phase); err != nil {
		return Result{}, nil, err
	}
	probe(fmt.Sprintf("after %s", f.cfg.Phase))
	if exited() {
		return r, append(broken, "the service's last log lines:\n"+p.logTail()), nil
	}
	f.logf("  starting PostgreSQL")
	if err := f.cluster.Start(); err != nil {
		return Result{}, nil, err
	}
	dbUp = true
	up := time.Now()
	var ready, writing time.Duration
	for n := 0; time.Since(up) < within+5*time.Second && ctx.Err() == nil && writing == 0; n++ {
		if code, _ := status(ctx, f.client, p.base+"/ready"); code == http.StatusOK {
			if ready == 0 {
				ready = time.Since(up)
			}
			req, err := createCategory(ctx, p.base, fmt.Sprintf("late-%d", n))
			if err != nil {
				return Result{}, nil, err
			}
			if resp, err := f.client.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					writing = time.Since(up)
				}
			}
		}
		pause(ctx, 10*time.Millisecond)
	}
	r.Notes = fmt.Sprintf("waiting %s with the database down: %s; ready %s and writing %s after the database was up [target < %s]",
		f.cfg.Phase, strings.Join(probes, ", then "), ready.Round(time.Millisecond), writing.Round(time.Millisecond), within)
	switch {
	case writing == 0:
		broken = append(broken, fmt.Sprintf("not writing within %s of the database starting", within+5*time.Second))
	case writing > within:
		broken = append(broken, fmt.Sprintf("writing only %s after the database started, want < %s", writing.Round(time.Millisecond), within))
	}
	if len(broken) > 0 {
		broken = append(broken, "the service's last log lines:\n"+p.logTail())
	}
	return r, broken, nil
}

// missingCategories returns how many of slugs the service does not list.
func missingCategories(ctx context.Context, client *http.Client, base string, slugs []string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/categories", nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /categories: %s", resp.Status)
	}
	var list struct {
		Items []struct{ Slug string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, c := range list.Items {
		have[c.Slug] = true
	}
	missing := 0
	for _, s := range slugs {
		if !have[s] {
			missing++
		}
	}
	return missing, nil
}

// credentialRotation runs the binary configured the AWS way (DB_HOST and friends, the password
// from Secrets Manager by DB_SECRET_ARN, here the in-process fake) and rotates the password
// twice under load as an RDS managed rotation does: the new password staged as AWSPENDING and
// set with ALTER ROLE, then AWSCURRENT moved to it. A short DB_CONN_MAX_LIFETIME makes the
// service open new connections after each step, which is where a rotation bites. Promise: no
// request fails.
func (f *faultEnv) credentialRotation(ctx context.Context) (Result, []string, error) {
	const role = "fault_app"
	if err := f.cluster.Exec(ctx, "CREATE ROLE "+role+" LOGIN PASSWORD 'pw-one'"); err != nil {
		return Result{}, nil, err
	}
	if _, err := f.database(ctx, "fault_rotation", role); err != nil {
		return Result{}, nil, err
	}
	// The cluster listens on a unix socket only; DB_HOST may name its directory, as libpq's
	// host does, and DB_PORT is in the socket's name.
	sockets, _ := filepath.Glob(filepath.Join(f.cluster.SocketDir, ".s.PGSQL.*"))
	sockets = slices.DeleteFunc(sockets, func(s string) bool { return strings.HasSuffix(s, ".lock") })
	if len(sockets) != 1 {
		return Result{}, nil, fmt.Errorf("cannot tell the cluster's port from its sockets %q", sockets)
	}
	sm, err := awssecretstest.Start(role, "pw-one")
	if err != nil {
		return Result{}, nil, err
	}
	defer sm.Close()
	lifetime := f.cfg.Phase / 5
	vars := sm.Env()
	maps.Copy(vars, map[string]string{
		"DB_HOST": f.cluster.SocketDir, "DB_PORT": strings.TrimPrefix(filepath.Ext(sockets[0]), "."),
		"DB_NAME": "fault_rotation", "DB_SECRET_ARN": awssecretstest.ARN, "DB_CONN_MAX_LIFETIME": lifetime.String(),
	})
	p, err := f.serve(ctx, 0, vars)
	if err != nil {
		return Result{}, nil, err
	}
	defer p.stop(10 * time.Second)

	ok := []int{200, 201}
	stopLoad := underLoad(ctx, f.client, f.cfg.Workers, ok, func(ctx context.Context, w, i int) (*http.Request, error) {
		if i%4 == 0 {
			return createCategory(ctx, p.base, fmt.Sprintf("w%d-%d", w, i))
		}
		return get(ctx, p.base+"/products?limit=5")
	}, nil)
	defer stopLoad()

	var broken, renewed []string
	if err := pause(ctx, f.cfg.Phase); err != nil {
		return Result{}, nil, err
	}
	for n, pw := range []string{"pw-two", "pw-three"} {
		f.logf("  rotation %d: AWSPENDING and ALTER ROLE, then AWSCURRENT", n+1)
		before, changed := sm.Reads(), time.Now()
		sm.StagePending(pw)
		if err := f.cluster.Exec(ctx, "ALTER ROLE "+role+" PASSWORD '"+pw+"'"); err != nil {
			return Result{}, nil, err
		}
		if err := pause(ctx, f.cfg.Phase); err != nil {
			return Result{}, nil, err
		}
		if sm.Reads() == before {
			broken = append(broken, fmt.Sprintf("rotation %d: the secret was not read again, so no new connection met the new password: the fault was not exercised", n+1))
		}
		open, newer, err := f.connections(ctx, role, changed)
		if err != nil {
			return Result{}, nil, err
		}
		renewed = append(renewed, fmt.Sprintf("%d of %d", newer, open))
		sm.FinishRotation()
		if err := pause(ctx, f.cfg.Phase); err != nil {
			return Result{}, nil, err
		}
	}
	r := stopLoad()
	r.Notes = fmt.Sprintf("2 rotations with DB_CONN_MAX_LIFETIME=%s: connections open made after each password change %s (LISTEN keeps its own); %d requests, %d failed; secret read %d times",
		lifetime, strings.Join(renewed, " and "), r.Requests, r.Errors, sm.Reads())
	if s := failures(r, ok); s != "" {
		broken = append(broken, "requests failed: "+s)
	}
	if r.Requests == 0 {
		broken = append(broken, "no request was answered: the load did not run")
	}
	if len(broken) > 0 {
		broken = append(broken, "the service's last log lines:\n"+p.logTail())
	}
	return r, broken, nil
}

// connections counts role's connections open now, and how many of them were made after since.
func (f *faultEnv) connections(ctx context.Context, role string, since time.Time) (open, newer int, err error) {
	conn, err := pgx.Connect(ctx, f.cluster.AdminURL)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE backend_start > $2)
		FROM pg_stat_activity WHERE usename = $1`, role, since).Scan(&open, &newer)
	return open, newer, err
}

// rollingRestart puts two instances behind HAProxy, which health-checks /health the way the
// ALB target group does, and replaces them one at a time under load: SIGTERM, wait for the
// exit, start the replacement on the same port, wait until the proxy sees it up. The drain
// (fail /health, keep serving for DRAIN_DELAY, finish in-flight requests) means no request
// fails.
func (f *faultEnv) rollingRestart(ctx context.Context) (Result, []string, error) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if f.cfg.RequireProxy {
			return Result{}, nil, errors.New("haproxy is required (CI=true) but not on PATH: apt-get install haproxy")
		}
		return Result{Notes: "SKIPPED: haproxy not on PATH (apt-get install haproxy)"}, nil, nil
	}
	url, err := f.database(ctx, "fault_rolling", "")
	if err != nil {
		return Result{}, nil, err
	}
	vars := map[string]string{"DATABASE_URL": url, "DRAIN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "10s"}
	if err := runProcess(ctx, f.bin, vars, "seed", "200"); err != nil {
		return Result{}, nil, err
	}
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return Result{}, nil, err
		}
	}
	sock := filepath.Join(f.dir, "haproxy.sock")
	cfgFile := filepath.Join(f.dir, "haproxy.cfg")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`global
    maxconn 1000
    stats socket %s mode 600 level user
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
frontend web
    bind 127.0.0.1:%d
    default_backend catalog
backend catalog
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    default-server inter 200ms fall 2 rise 2
    server a 127.0.0.1:%d check
    server b 127.0.0.1:%d check
`, sock, ports[0], ports[1], ports[2])), 0o600); err != nil {
		return Result{}, nil, err
	}
	proxy, err := startProcess(haproxy, filepath.Join(f.dir, "haproxy.log"), 0, nil, "-f", cfgFile, "-db")
	if err != nil {
		return Result{}, nil, err
	}
	defer proxy.stop(5 * time.Second)
	front := fmt.Sprintf("http://127.0.0.1:%d", ports[0])

	servers := map[string]int{"a": ports[1], "b": ports[2]}
	running := map[string]*process{}
	defer func() {
		for _, p := range running {
			p.stop(15 * time.Second)
		}
	}()
	for _, name := range []string{"a", "b"} {
		p, err := f.serve(ctx, servers[name], vars)
		if err != nil {
			return Result{}, nil, err
		}
		running[name] = p
	}
	for _, name := range []string{"a", "b"} {
		if err := proxyServerUp(ctx, sock, name); err != nil {
			return Result{}, nil, fmt.Errorf("%w\n%s", err, proxy.logTail())
		}
	}

	var replacing atomic.Bool
	var during atomic.Int64
	ok := []int{200}
	stopLoad := underLoad(ctx, f.client, f.cfg.Workers, ok, func(ctx context.Context, w, i int) (*http.Request, error) {
		return get(ctx, front+"/products?limit=5&sort=name")
	}, func(Answer) {
		if replacing.Load() {
			during.Add(1)
		}
	})
	defer stopLoad()

	var broken []string
	for _, name := range []string{"a", "b"} {
		if err := pause(ctx, f.cfg.Phase/2); err != nil {
			return Result{}, nil, err
		}
		f.logf("  replacing instance %s", name)
		replacing.Store(true)
		if err := running[name].stop(15 * time.Second); err != nil {
			broken = append(broken, fmt.Sprintf("instance %s did not exit cleanly after SIGTERM: %v", name, err))
		}
		p, err := f.serve(ctx, servers[name], vars)
		if err != nil {
			return Result{}, nil, err
		}
		running[name] = p
		if err := proxyServerUp(ctx, sock, name); err != nil {
			return Result{}, nil, err
		}
		replacing.Store(false)
	}
	if err := pause(ctx, f.cfg.Phase/2); err != nil {
		return Result{}, nil, err
	}
	r := stopLoad()
	// The slowest answer is printed, not judged: HAProxy's retries can hide a missing drain as
	// a stall of a second or more instead of a failure.
	r.Notes = fmt.Sprintf("2 of 2 instances replaced behind HAProxy: %d requests (%d while replacing), %d failed; slowest %s",
		r.Requests, during.Load(), r.Errors, round(r.Max))
	if s := failures(r, ok); s != "" {
		broken = append(broken, "requests failed: "+s+"\n"+proxy.logTail())
	}
	if during.Load() == 0 {
		broken = append(broken, "no request was answered while instances were replaced: the fault was not exercised")
	}
	return r, broken, nil
}

// proxyServerUp waits until HAProxy's stats socket reports server name of backend catalog UP
// (its health checks passed rise times), so traffic reaches it.
func proxyServerUp(ctx context.Context, sock, name string) error {
	const within = 15 * time.Second
	var last string
	for start := time.Now(); time.Since(start) < within; {
		st, err := proxyStatus(sock, name)
		if err == nil && st == "UP" {
			return nil
		}
		last = st
		if err != nil {
			last = err.Error()
		}
		if err := pause(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("HAProxy did not see server %s up within %s (last: %s)", name, within, last)
}

// proxyStatus asks HAProxy's stats socket for the status of server name ("UP", "DOWN", ...).
func proxyStatus(sock, name string) (string, error) {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(conn, "show stat\n"); err != nil {
		return "", err
	}
	rows, err := csv.NewReader(conn).ReadAll()
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", errors.New("empty answer from the stats socket")
	}
	// The header is "# pxname,svname,...,status,..."; find the columns by name.
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(h, "# ")] = i
	}
	px, sv, stat := col["pxname"], col["svname"], col["status"]
	for _, row := range rows[1:] {
		if len(row) > stat && row[px] == "catalog" && row[sv] == name {
			return row[stat], nil
		}
	}
	return "", fmt.Errorf("server %s is not in HAProxy's stats", name)
}
