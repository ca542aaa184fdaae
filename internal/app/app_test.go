package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/pgtest"
)

// TestGateAnswersUnavailable: before the store is open every method (found by reflection, so
// a new one is covered too) fails with CodeUnavailable, which the HTTP layer turns into 503 and
// Retry-After; Close is the App's business and does nothing.
func TestGateAnswersUnavailable(t *testing.T) {
	var g gate
	v := reflect.ValueOf(&g)
	st := reflect.TypeFor[catalog.Store]()
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	for i := range st.NumMethod() {
		name := st.Method(i).Name
		m := v.MethodByName(name)
		args := make([]reflect.Value, m.Type().NumIn())
		for j := range args {
			if in := m.Type().In(j); in == ctxType {
				args[j] = reflect.ValueOf(context.Background())
			} else {
				args[j] = reflect.Zero(in)
			}
		}
		out := m.Call(args)
		last := out[len(out)-1]
		if last.Type() != errType {
			t.Fatalf("%s does not return an error last", name)
		}
		err, _ := last.Interface().(error)
		if name == "Close" {
			if err != nil {
				t.Errorf("Close() = %v, want nil", err)
			}
			continue
		}
		if catalog.ErrorCode(err) != catalog.CodeUnavailable {
			t.Errorf("%s before the store is open = %v, want code unavailable", name, err)
		}
	}
}

func testConfig(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	vars := map[string]string{"DATA_DIR": t.TempDir(), "SWEEP_INTERVAL": "10ms", "SHUTDOWN_TIMEOUT": "5s", "METRICS_PORT": "0"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestStartAndShutdownLeaveNothingRunning: the embedded store opens synchronously, the
// service is ready when Start returns, and Shutdown waits for every goroutine the App started
// (server, sweeper, EMF) and closes the store.
func TestStartAndShutdownLeaveNothingRunning(t *testing.T) {
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	a, err := Start(context.Background(), testConfig(t, map[string]string{"METRICS_EMF": "true"}),
		Options{Log: slog.New(slog.NewJSONHandler(&logs, nil)), EMFOut: io.Discard, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Ready():
	default:
		t.Fatal("the embedded store is not open when Start returns")
	}
	c := &http.Client{Transport: &http.Transport{}}
	base := "http://" + a.Addr().String()
	if got := get(t, c, base+"/ready"); got != 200 {
		t.Fatalf("/ready = %d", got)
	}
	if got := get(t, c, base+"/products?limit=1"); got != 200 {
		t.Fatalf("/products = %d", got)
	}
	time.Sleep(50 * time.Millisecond) // a few sweeps
	c.CloseIdleConnections()
	if err := a.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(); err != nil {
		t.Fatalf("a second Shutdown = %v", err)
	}
	if err := a.owned.Ping(context.Background()); err == nil {
		t.Error("the store still answers after Shutdown")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line:\n%s", logs.String())
	}
}

// TestShutdownWhileWaiting: SIGTERM while PostgreSQL is still away stops at once, with no
// error, and leaves no goroutine behind.
func TestShutdownWhileWaiting(t *testing.T) {
	before := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close() // nothing listens there any more
	cfg := testConfig(t, map[string]string{"DATABASE_URL": "postgres://app@" + addr + "/shop?sslmode=disable", "DRAIN_DELAY": "3s"})
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, Options{Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{}}
	base := "http://" + a.Addr().String()
	if got := get(t, c, base+"/health"); got != 200 {
		t.Errorf("/health while waiting = %d, want 200", got)
	}
	if got := get(t, c, base+"/ready"); got != 503 {
		t.Errorf("/ready while waiting = %d, want 503", got)
	}
	c.CloseIdleConnections()
	time.Sleep(300 * time.Millisecond)
	cancel()
	start := time.Now()
	if err := a.Run(ctx); err != nil {
		t.Fatalf("Run after SIGTERM while waiting = %v, want nil", err)
	}
	// Never ready, so never registered with a load balancer: no drain delay to sit out.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown while waiting took %s", d)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Run, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestReadyBeforeServingWhenTheDatabaseIsUp: with the database there, Start returns with the
// store open and migrated, so the first /health a load balancer sees comes from a task that
// can serve. (The rolling-restart fault found the window when /health answered first.)
func TestReadyBeforeServingWhenTheDatabaseIsUp(t *testing.T) {
	url := pgtest.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(context.Background(), testConfig(t, map[string]string{"DATABASE_URL": url}), Options{Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	select {
	case <-a.Ready():
	default:
		t.Fatal("Start returned before the store was open, with the database up")
	}
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	if got := get(t, c, "http://"+a.Addr().String()+"/products?limit=1"); got != 200 {
		t.Fatalf("GET /products right after Start = %d, want 200", got)
	}
}
