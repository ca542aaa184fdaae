// Package bench drives the catalog over loopback and reports throughput and latency per
// scenario, beside ceilings measured with the same client on the same machine: a bare net/http
// handler returning a fixed product body, and a bare handler doing one primary-key SELECT
// through pgx. Ratios to the ceilings are what compare across machines.
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Request is one request a scenario makes; worker is the worker's index, i its request count.
type Request func(ctx context.Context, worker, i int) (*http.Request, error)

// Result is what one scenario measured.
type Result struct {
	Name               string
	Requests, Errors   int
	Statuses           map[int]int
	Elapsed            time.Duration
	P50, P90, P99, Max time.Duration
	RPS                float64
	// NoAnswer counts requests that got no HTTP answer at all (they are in Errors too).
	NoAnswer int
	Ceiling  string
	Ratio    float64
	Notes    string
	// Fault marks a fault scenario's row: what happened is in Notes, printed on a line of its
	// own, because its request rate includes pauses and is no throughput figure.
	Fault bool
}

// Run drives next's requests from workers closed-loop for d and measures them. Statuses the
// scenario expects are in ok; any other status counts as an error.
// Hooks let a scenario watch answers (After) and end early (Done), as a sell-out does.
type Hooks struct {
	// After sees each answer (with its body) in the worker that asked.
	After func(worker int, a Answer)
	Done  func() bool
}

// Answer is one answered request, as an After hook sees it.
type Answer struct {
	Request *http.Request
	Status  int
	Header  http.Header
	Body    []byte
	Took    time.Duration
}

func Run(ctx context.Context, client *http.Client, name string, workers int, d time.Duration, ok []int, next Request, hooks *Hooks) Result {
	// Workers stop starting requests at the deadline but finish the one in flight, so every
	// request the server completed is one the client counted.
	deadline := time.Now().Add(d)
	type sample struct {
		lat      []time.Duration
		status   map[int]int
		errs     int
		noAnswer int
	}
	samples := make([]sample, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &samples[w]
			s.status = map[int]int{}
			for i := 0; ctx.Err() == nil && time.Now().Before(deadline); i++ {
				if hooks != nil && hooks.Done != nil && hooks.Done() {
					break
				}
				req, err := next(ctx, w, i)
				if err != nil {
					s.errs++
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					s.errs++
					s.noAnswer++
					continue
				}
				var body []byte
				if hooks != nil && hooks.After != nil {
					body, _ = io.ReadAll(resp.Body)
				} else {
					io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
				took := time.Since(t0)
				s.lat = append(s.lat, took)
				if hooks != nil && hooks.After != nil {
					hooks.After(w, Answer{Request: req, Status: resp.StatusCode, Header: resp.Header, Body: body, Took: took})
				}
				s.status[resp.StatusCode]++
				if !slices.Contains(ok, resp.StatusCode) {
					s.errs++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Result{Name: name, Statuses: map[int]int{}, Elapsed: elapsed}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s.lat...)
		r.Errors += s.errs
		r.NoAnswer += s.noAnswer
		for k, v := range s.status {
			r.Statuses[k] += v
		}
	}
	r.Requests = len(all)
	if len(all) > 0 {
		slices.Sort(all)
		at := func(q float64) time.Duration { return all[min(len(all)-1, int(q*float64(len(all))))] }
		r.P50, r.P90, r.P99, r.Max = at(0.50), at(0.90), at(0.99), all[len(all)-1]
		r.RPS = float64(len(all)) / elapsed.Seconds()
	}
	return r
}

// Table formats results as a fixed-width table.
func Table(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%-40s %10s %9s %9s %9s %9s %8s  %-14s %s\n", "scenario", "req/s", "p50", "p90", "p99", "max", "errors", "vs ceiling", "notes")
	for _, r := range results {
		if r.Fault || (r.Requests == 0 && r.Notes != "") {
			fmt.Fprintf(w, "\n%s: %s\n", r.Name, r.Notes)
			continue
		}
		ratio := ""
		if r.Ceiling != "" {
			ratio = fmt.Sprintf("%.2fx %s", r.Ratio, r.Ceiling)
		}
		fmt.Fprintf(w, "%-40s %10.0f %9s %9s %9s %9s %8d  %-14s %s\n", r.Name, r.RPS, round(r.P50), round(r.P90), round(r.P99), round(r.Max), r.Errors, ratio, r.Notes)
	}
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
