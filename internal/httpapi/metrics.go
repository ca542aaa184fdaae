package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts requests and their latency per route and status, in a registry of its own so
// tests can create as many as they like.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reserve  *prometheus.CounterVec
	webhooks *prometheus.CounterVec // see webhook_metrics.go
	disabled prometheus.Counter     // webhook subscriptions disabled; see webhook_metrics.go
	// EMF, when set, also receives every observation (CloudWatch Embedded Metric Format).
	EMF *EMF

	// routes keeps, per route, the counter and histogram of each (method, status) once looked
	// up: WithLabelValues hashes its labels and looks them up under a lock on every call.
	// Copied on write (the routes are the registered patterns and "unmatched": a closed set),
	// so a request's lookup is one map read without a lock.
	routes   atomic.Pointer[map[string]*routeMetrics]
	routesMu sync.Mutex
}

// routeMetrics are one route's series, made on first use.
type routeMetrics struct {
	cells [len(methodLabels)][len(statusLabels)]atomic.Pointer[requestSeries]
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// NewMetrics returns Metrics with the Go runtime and process collectors registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "catalog_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "catalog_http_request_duration_seconds", Help: "HTTP request latency by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
	}
	m.reserve = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "catalog_reservations_total", Help: "Reservation outcomes: reserved, insufficient_stock, purchase_limit, invalid, error, committed, released, expired, and reserve_replayed, commit_replayed, release_replayed for idempotent retries answered from memory.",
	}, []string{"outcome"})
	m.webhooks, m.disabled = newWebhookCounter(), newWebhooksDisabledCounter()
	m.Registry.MustRegister(m.requests, m.latency, m.reserve, m.webhooks, m.disabled, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Every label value comes from a closed set: a client controls the method, the path and (through
// odd requests) the status, and each distinct label value is a new series held for the life of
// the process. The route is a registered pattern or "unmatched" (observe sees to that).
var methodLabels = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, "OTHER",
}

// methodIndex is the index of method's label in methodLabels: a method outside the standard set
// is "OTHER".
func methodIndex(method string) int {
	for i, m := range methodLabels[:len(methodLabels)-1] {
		if m == method {
			return i
		}
	}
	return len(methodLabels) - 1
}

// methodLabel folds a method outside the standard set into "OTHER".
func methodLabel(method string) string { return methodLabels[methodIndex(method)] }

// statusLabels are the codes the service answers with, then the classes any other code is
// folded into, then "other" (below 100 or above 599).
var statusLabels = [...]string{
	"200", "201", "204", "301", "304", "307", "308", "400", "401", "403", "404", "405", "408",
	"409", "412", "413", "415", "422", "429", "431", "499", "500", "502", "503", "504",
	"1xx", "2xx", "3xx", "4xx", "5xx", "other",
}

// statusIndexes maps a status code to its index in statusLabels.
var statusIndexes = func() (t [600]uint8) {
	known := map[string]int{}
	for i, l := range statusLabels {
		known[l] = i
	}
	for code := range t {
		switch i, ok := known[strconv.Itoa(code)]; {
		case ok:
			t[code] = uint8(i)
		case code >= 100:
			t[code] = uint8(known[strconv.Itoa(code/100)+"xx"])
		default:
			t[code] = uint8(known["other"])
		}
	}
	return t
}()

func statusIndex(status int) int {
	if status < 0 || status >= len(statusIndexes) {
		return len(statusLabels) - 1 // "other"
	}
	return int(statusIndexes[status])
}

// statusLabel is the status code, or its class ("5xx") when it is not one the service uses.
func statusLabel(status int) string { return statusLabels[statusIndex(status)] }

func (m *Metrics) observeRequest(route, method string, status int, d time.Duration) {
	mi, si := methodIndex(method), statusIndex(status)
	cell := &m.route(route).cells[mi][si]
	series := cell.Load()
	if series == nil {
		code := statusLabels[si]
		// Two requests may both get here: WithLabelValues returns the same series to each.
		series = &requestSeries{
			count:   m.requests.WithLabelValues(route, methodLabels[mi], code),
			latency: m.latency.WithLabelValues(route, code),
		}
		cell.Store(series)
	}
	series.count.Inc()
	series.latency.Observe(d.Seconds())
	if m.EMF != nil {
		m.EMF.observe(route, status, d)
	}
}

// route returns route's series, adding it on first use.
func (m *Metrics) route(route string) *routeMetrics {
	if routes := m.routes.Load(); routes != nil {
		if r, ok := (*routes)[route]; ok {
			return r
		}
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	old := m.routes.Load()
	if old != nil {
		if r, ok := (*old)[route]; ok {
			return r
		}
	}
	next := make(map[string]*routeMetrics, 1+len(derefRoutes(old)))
	for k, v := range derefRoutes(old) {
		next[k] = v
	}
	r := &routeMetrics{}
	next[route] = r
	m.routes.Store(&next)
	return r
}

func derefRoutes(p *map[string]*routeMetrics) map[string]*routeMetrics {
	if p == nil {
		return nil
	}
	return *p
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Reservation counts n reservations with outcome.
func (m *Metrics) Reservation(outcome string, n int) {
	m.reserve.WithLabelValues(outcome).Add(float64(n))
	if m.EMF != nil {
		m.EMF.reserve(outcome, n)
	}
}

// GaugeFunc exports f's value as a gauge (connection pool statistics, for example).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CounterFunc exports f's value, which only grows, as a counter.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}
