package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/acme/catalog/internal/emf"
)

// EMF writes request and reservation metrics as CloudWatch Embedded Metric Format log lines:
// the awslogs driver ships stdout to CloudWatch Logs, which turns each line into metrics, so
// the stacks' dashboards and alarms can use them without an agent. One line per route and one
// for reservations per flush.
type EMF struct {
	out       io.Writer
	namespace string
	env       string

	mu          sync.Mutex
	routes      map[string]*routeAgg
	reservation map[string]int
	webhooks    map[string]int // delivery attempts by outcome
	disabled    int            // webhook subscriptions disabled
}

type routeAgg struct {
	count, errors5xx, errors4xx int
	sum, max                    time.Duration
}

// NewEMF returns an EMF writer to out, with metrics in namespace and an Environment dimension.
func NewEMF(out io.Writer, namespace, env string) *EMF {
	return &EMF{out: out, namespace: namespace, env: env, routes: map[string]*routeAgg{}, reservation: map[string]int{},
		webhooks: map[string]int{}}
}

func (e *EMF) observe(route string, status int, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.routes[route]
	if a == nil {
		a = &routeAgg{}
		e.routes[route] = a
	}
	a.count++
	a.sum += d
	a.max = max(a.max, d)
	switch {
	case status >= 500:
		a.errors5xx++
	case status >= 400:
		a.errors4xx++
	}
}

func (e *EMF) reserve(outcome string, n int) {
	e.mu.Lock()
	e.reservation[outcome] += n
	e.mu.Unlock()
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Flush writes what was observed since the last flush and starts afresh.
func (e *EMF) Flush(now time.Time) error {
	e.mu.Lock()
	routes, res, hooks := e.routes, e.reservation, e.webhooks
	e.routes, e.reservation, e.webhooks = map[string]*routeAgg{}, map[string]int{}, map[string]int{}
	disabled := map[string]int{}
	if e.disabled > 0 {
		disabled[emf.WebhooksDisabled] = e.disabled
	}
	e.disabled = 0
	e.mu.Unlock()

	names := make([]string, 0, len(routes))
	for r := range routes {
		names = append(names, r)
	}
	sort.Strings(names)
	enc := json.NewEncoder(e.out)
	for _, r := range names {
		a := routes[r]
		line := map[string]any{
			"_aws": emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{{
				Namespace: e.namespace, Dimensions: [][]string{{"Environment", "Route"}},
				Metrics: []emfMetric{{"Requests", "Count"}, {"Errors5xx", "Count"}, {"Errors4xx", "Count"},
					{"LatencyAvg", "Milliseconds"}, {"LatencyMax", "Milliseconds"}},
			}}},
			"Environment": e.env, "Route": r,
			"Requests": a.count, "Errors5xx": a.errors5xx, "Errors4xx": a.errors4xx,
			"LatencyAvg": float64(a.sum.Microseconds()) / 1000 / float64(a.count),
			"LatencyMax": float64(a.max.Microseconds()) / 1000,
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	if err := e.counts(enc, now, "Reservations_", res); err != nil {
		return err
	}
	if err := e.counts(enc, now, emf.WebhookDeliveriesPrefix, hooks); err != nil {
		return err
	}
	return e.counts(enc, now, "", disabled)
}

// counts writes one line of counters named prefix+outcome, when there are any.
func (e *EMF) counts(enc *json.Encoder, now time.Time, prefix string, counts map[string]int) error {
	if len(counts) == 0 {
		return nil
	}
	var metrics []emfMetric
	line := map[string]any{"Environment": e.env}
	outcomes := make([]string, 0, len(counts))
	for o := range counts {
		outcomes = append(outcomes, o)
	}
	sort.Strings(outcomes)
	for _, o := range outcomes {
		name := prefix + o
		metrics = append(metrics, emfMetric{name, "Count"})
		line[name] = counts[o]
	}
	line["_aws"] = emfMeta{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emfDirective{{
		Namespace: e.namespace, Dimensions: [][]string{{"Environment"}}, Metrics: metrics}}}
	return enc.Encode(line)
}

// Run flushes every interval until ctx ends, then once more.
func (e *EMF) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.Flush(time.Now())
			return
		case now := <-t.C:
			e.Flush(now)
		}
	}
}
