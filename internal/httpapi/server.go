// Package httpapi is the catalog's REST/JSON interface: routing, request decoding and
// validation, authentication of writes, conditional requests, the error shape, access logs and
// the operations endpoints.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// Options configure a Server.
type Options struct {
	Store catalog.Store
	// Keys authorise writes; with none, every write is refused.
	Keys *Keys
	// Log receives the access log; nil uses slog.Default().
	Log *slog.Logger
	// RequestTimeout bounds each request, store calls included. Default 10s.
	RequestTimeout time.Duration
	// ReadyTimeout bounds the store check behind /ready. Default 1s.
	ReadyTimeout time.Duration
	// OpenAPI is the API description served at /openapi.yaml.
	OpenAPI []byte
	// QuietHealth leaves successful health checks out of the access log (the load balancer
	// polls them every few seconds per task).
	QuietHealth bool
	// Metrics, when set, counts requests and serves /metrics.
	Metrics *Metrics
}

// Server is the catalog's HTTP handler.
type Server struct {
	store          catalog.Store
	keys           *Keys
	log            *slog.Logger
	requestTimeout time.Duration
	readyTimeout   time.Duration
	openAPI        []byte
	quietHealth    bool
	metrics        *Metrics
	draining       atomic.Bool
	mux            *http.ServeMux
	handler        http.Handler
}

// New returns a Server for opts.
func New(opts Options) *Server {
	s := &Server{
		store: opts.Store, keys: opts.Keys, log: opts.Log, requestTimeout: opts.RequestTimeout,
		readyTimeout: opts.ReadyTimeout, openAPI: opts.OpenAPI, quietHealth: opts.QuietHealth,
		metrics: opts.Metrics, mux: http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.requestTimeout <= 0 {
		s.requestTimeout = 10 * time.Second
	}
	if s.readyTimeout <= 0 {
		s.readyTimeout = time.Second
	}
	s.routes()
	s.handler = s.observe(http.HandlerFunc(s.dispatch))
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /health", s.health)
	m.HandleFunc("GET /ready", s.ready)
	m.HandleFunc("GET /openapi.yaml", s.openAPIDoc)
	if s.metrics != nil {
		m.Handle("GET /metrics", s.metrics.Handler())
	}

	m.HandleFunc("GET /products", s.listProducts)
	m.HandleFunc("POST /products", s.protect(s.createProduct))
	m.HandleFunc("GET /products/{id}", s.getProduct)
	m.HandleFunc("PUT /products/{id}", s.protect(s.replaceProduct))
	m.HandleFunc("PATCH /products/{id}", s.protect(s.patchProduct))
	m.HandleFunc("DELETE /products/{id}", s.protect(s.deleteProduct))
	m.HandleFunc("POST /products/{id}/archive", s.protect(s.archiveProduct))
	m.HandleFunc("GET /skus/{sku}", s.getProductBySKU)

	m.HandleFunc("GET /products/{id}/stock", s.getStock)
	m.HandleFunc("POST /products/{id}/stock/adjustments", s.protect(s.adjustStock))
	m.HandleFunc("GET /products/{id}/stock/movements", s.protect(s.listMovements))
	m.HandleFunc("PUT /products/{id}/price", s.protect(s.setPrice))
	m.HandleFunc("GET /products/{id}/prices", s.priceHistory)
	m.HandleFunc("POST /reservations", s.protect(s.createReservation))
	m.HandleFunc("GET /reservations/{id}", s.protect(s.getReservation))
	m.HandleFunc("POST /reservations/{id}/commit", s.protect(s.finishReservation(true)))
	m.HandleFunc("POST /reservations/{id}/release", s.protect(s.finishReservation(false)))

	m.HandleFunc("GET /categories", s.listCategories)
	m.HandleFunc("POST /categories", s.protect(s.createCategory))
	m.HandleFunc("GET /categories/{slug}", s.getCategory)
	m.HandleFunc("PATCH /categories/{slug}", s.protect(s.updateCategory))
	m.HandleFunc("DELETE /categories/{slug}", s.protect(s.deleteCategory))
}

// Routes lists every route pattern, for the contract test against the OpenAPI document.
func (s *Server) Routes() []string {
	r := []string{
		"GET /health", "GET /ready", "GET /openapi.yaml",
		"GET /products", "POST /products", "GET /products/{id}", "PUT /products/{id}",
		"PATCH /products/{id}", "DELETE /products/{id}", "POST /products/{id}/archive",
		"GET /skus/{sku}",
		"GET /products/{id}/stock", "POST /products/{id}/stock/adjustments", "GET /products/{id}/stock/movements",
		"PUT /products/{id}/price", "GET /products/{id}/prices",
		"POST /reservations", "GET /reservations/{id}", "POST /reservations/{id}/commit", "POST /reservations/{id}/release",
		"GET /categories", "POST /categories", "GET /categories/{slug}", "PATCH /categories/{slug}",
		"DELETE /categories/{slug}",
	}
	if s.metrics != nil {
		r = append(r, "GET /metrics")
	}
	return r
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch routes a request, answering unknown paths and methods with the JSON error shape.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.mux.Handler(r); pattern == "" {
		capture := &headerCapture{header: http.Header{}}
		h.ServeHTTP(capture, r)
		if capture.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", capture.header.Get("Allow"))
			problem(w, r, http.StatusMethodNotAllowed, codeMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+capture.header.Get("Allow"))
			return
		}
		if capture.status >= 300 && capture.status < 400 {
			// The mux redirects paths that need cleaning (/products/ -> /products).
			w.Header().Set("Location", capture.header.Get("Location"))
			problem(w, r, capture.status, "redirect", "see "+capture.header.Get("Location"))
			return
		}
		problem(w, r, http.StatusNotFound, codeNotFound, "no route for "+r.Method+" "+r.URL.Path)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Drain makes /health and /ready fail so the load balancer stops sending new requests; requests
// keep being served until the process shuts down.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

type statusBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// health is liveness: it never touches the store, so a database blip does not get healthy
// tasks replaced.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "draining"})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// ready is readiness: the store must answer within ReadyTimeout.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.Draining() {
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable", Reason: "the store does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

func (s *Server) openAPIDoc(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(s.openAPI)
}
