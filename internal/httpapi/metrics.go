package httpapi

import (
	"net/http"
	"strconv"
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
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// methodLabel folds a method outside the standard set into "OTHER".
func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "OTHER"
}

// knownStatuses are the codes the service answers with; any other is folded into its class.
var knownStatuses = map[int]bool{
	200: true, 201: true, 204: true, 301: true, 304: true, 307: true, 308: true, 400: true, 401: true,
	403: true, 404: true, 405: true, 408: true, 409: true, 412: true, 413: true, 415: true, 422: true,
	429: true, 431: true, 499: true, 500: true, 502: true, 503: true, 504: true,
}

// statusLabel is the status code, or its class ("5xx") when it is not one the service uses.
func statusLabel(status int) string {
	if knownStatuses[status] {
		return strconv.Itoa(status)
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func (m *Metrics) observeRequest(route, method string, status int, d time.Duration) {
	code := statusLabel(status)
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
	if m.EMF != nil {
		m.EMF.observe(route, status, d)
	}
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
