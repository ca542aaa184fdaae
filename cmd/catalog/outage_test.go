package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
)

// TestDatabaseOutage stops PostgreSQL under load and starts it again. During the outage
// /health stays 200, /ready is 503, and requests fail fast with 503 and Retry-After (never a
// 500, never past the request deadline); afterwards the service recovers by itself, and every
// write it acknowledged is still there.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a database")
	}
	c, err := pgtest.StartWith(pgtest.Options{CommitDurably: true})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer c.Close()
	in := start(t, map[string]string{"DATABASE_URL": c.AdminURL, "REQUEST_TIMEOUT": "2s", "READY_TIMEOUT": "500ms", "LOG_LEVEL": "error"})
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(slug string) (int, string, time.Duration) {
		t0 := time.Now()
		req, _ := http.NewRequest("POST", in.base+"/categories", strings.NewReader(fmt.Sprintf(`{"slug":%q,"name":"x"}`, slug)))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", time.Since(t0)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(t0)
	}
	get := func(path string) (int, string, time.Duration) {
		t0 := time.Now()
		resp, err := client.Get(in.base + path)
		if err != nil {
			return 0, "", time.Since(t0)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(t0)
	}

	var (
		mu                           sync.Mutex
		acked                        []string
		statuses                     = map[int]int{}
		slowest                      time.Duration
		noRetryAfter, transportFails atomic.Int64
		down                         atomic.Bool
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var code int
				var retryAfter string
				var d time.Duration
				slug := fmt.Sprintf("w%d-%d", w, i)
				if i%2 == 0 {
					code, retryAfter, d = post(slug)
				} else {
					code, retryAfter, d = get("/categories")
				}
				mu.Lock()
				statuses[code]++
				if code == 201 {
					acked = append(acked, slug)
				}
				if down.Load() && d > slowest {
					slowest = d
				}
				mu.Unlock()
				if code == 503 && retryAfter == "" {
					noRetryAfter.Add(1)
				}
				if code == 0 {
					transportFails.Add(1)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	down.Store(true)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if code, _, _ := get("/health"); code != 200 {
		t.Errorf("/health during the outage: %d, want 200", code)
	}
	if code, _, d := get("/ready"); code != 503 || d > 2*time.Second {
		t.Errorf("/ready during the outage: %d in %s, want 503 fast", code, d)
	}
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	during := map[int]int{}
	for k, v := range statuses {
		during[k] = v
	}
	mu.Unlock()

	restarted := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	var recovered time.Duration
	for time.Since(restarted) < 30*time.Second {
		if code, _, _ := get("/ready"); code == 200 {
			if code, _, _ := post(fmt.Sprintf("after-%d", time.Now().UnixNano())); code == 201 {
				recovered = time.Since(restarted)
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	t.Logf("statuses over the whole run: %v (outage window included: %v)", statuses, during)
	t.Logf("slowest answer during the outage: %s; ready and writing again %s after the database restarted", slowest, recovered)
	if statuses[500] != 0 || transportFails.Load() != 0 {
		t.Errorf("%d answers were 500 and %d requests got no answer", statuses[500], transportFails.Load())
	}
	if statuses[503] == 0 {
		t.Error("no 503 was seen: the outage was not exercised")
	}
	if noRetryAfter.Load() != 0 {
		t.Errorf("%d 503s without Retry-After", noRetryAfter.Load())
	}
	if slowest > 3*time.Second {
		t.Errorf("an answer during the outage took %s, past the 2s request deadline", slowest)
	}
	if recovered == 0 {
		t.Fatal("the service did not recover within 30s of the database restarting")
	}

	// Every acknowledged write survived.
	body := call(t, http.DefaultClient, "GET", in.base+"/categories", "", false, 200)
	lost := 0
	for _, slug := range acked {
		if !strings.Contains(string(body), `"slug":"`+slug+`"`) {
			lost++
		}
	}
	t.Logf("acknowledged writes: %d, lost: %d", len(acked), lost)
	if lost != 0 {
		t.Fatalf("%d acknowledged writes were lost", lost)
	}
}
