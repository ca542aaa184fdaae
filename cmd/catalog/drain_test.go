package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
)

// TestRollingRestartBehindProxy runs two instances behind HAProxy, which health-checks
// /health the way the ALB target group does, drives load through it, and replaces both
// instances one at a time: stop A, start A', stop B, start B'. The drain (fail /health, keep
// serving for DRAIN_DELAY, then finish in-flight requests) means the load sees no failure.
func TestRollingRestartBehindProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a proxy")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is required under CI=true (scripts/test.sh installs it): ", err)
		}
		t.Skip("haproxy not installed (apt-get install haproxy)")
	}
	dbURL := pgtest.URL(t)
	env := map[string]string{"DATABASE_URL": dbURL, "DRAIN_DELAY": "1s", "SHUTDOWN_TIMEOUT": "10s", "LOG_LEVEL": "error"}

	// Migrate and create something to read before the instances start.
	if code := run(context.Background(), []string{"seed", "200"}, func(k string) string { return env[k] }, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("seed exited %d", code)
	}

	portA, portB, front := freePort(t), freePort(t), freePort(t)
	cfg := fmt.Sprintf(`global
    maxconn 1000
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
`, front, portA, portB)
	cfgFile := filepath.Join(t.TempDir(), "haproxy.cfg")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	proxy := exec.Command(haproxy, "-f", cfgFile, "-db")
	var proxyLog bytes.Buffer
	proxy.Stdout, proxy.Stderr = &proxyLog, &proxyLog
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	defer proxy.Process.Kill()

	startOn := func(port int) *instance {
		e := map[string]string{"PORT": strconv.Itoa(port)}
		for k, v := range env {
			e[k] = v
		}
		return start(t, e)
	}
	a, b := startOn(portA), startOn(portB)
	base := fmt.Sprintf("http://127.0.0.1:%d", front)
	waitUp := func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if resp, err := http.Get(base + "/products?limit=1"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("nothing answers through the proxy:\n%s", proxyLog.String())
	}
	waitUp()

	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(base + "/products?limit=5&sort=name")
				if err == nil {
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					mu.Lock()
					if err != nil {
						failures = append(failures, err.Error())
					} else {
						failures = append(failures, resp.Status)
					}
					mu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	replace := func(old *instance, port int) *instance {
		time.Sleep(500 * time.Millisecond)
		old.stop() // SIGTERM
		select {
		case code := <-old.done:
			old.done <- code
			if code != 0 {
				t.Errorf("instance exited %d", code)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("instance did not stop")
		}
		n := startOn(port)
		time.Sleep(600 * time.Millisecond) // rise 2 x 200ms: the proxy sends it traffic again
		return n
	}
	a = replace(a, portA)
	b = replace(b, portB)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("rolling restart behind HAProxy: %d requests succeeded, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed during the rolling restart: %v\n%s", failed.Load(), failures[:min(len(failures), 5)], proxyLog.String())
	}
	if ok.Load() < 100 {
		t.Fatalf("only %d requests ran", ok.Load())
	}
}
