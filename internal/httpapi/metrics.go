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
		Name: "catalog_reservations_total", Help: "Reservation outcomes: reserved, insufficient_stock, invalid, error, committed, released, expired, and reserve_replayed, commit_replayed, release_replayed for idempotent retries answered from memory.",
	}, []string{"outcome"})
	m.Registry.MustRegister(m.requests, m.latency, m.reserve, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeRequest(route, method string, status int, d time.Duration) {
	code := strconv.Itoa(status)
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
