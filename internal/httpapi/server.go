// Package httpapi is the catalog's REST/JSON interface: routing, request decoding and
// validation, authentication of writes, conditional requests, the error shape, access logs and
// the operations endpoints.
package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Server.
type Options struct {
	Store catalog.Store
	// Keys authenticate callers; with none, every private route is refused.
	Keys *Keys
	// CORS allows browser apps of some origins to call the API; nil allows none.
	CORS *access.CORS
	// Limits, when set, rate-limit each client.
	Limits *RateLimits
	// Log receives the access log, error and panic logs; nil discards them.
	Log *slog.Logger
	// AccessLog, when set, is the writer Log's JSON handler writes to: the access log then
	// writes its lines there itself, in the bytes the handler would (appendAccessLine), at
	// a fifth of the cost. Log's level still decides whether they are written.
	AccessLog io.Writer
	// RequestTimeout bounds each request, store calls included. Default 10s.
	RequestTimeout time.Duration
	// ReadyTimeout bounds the store check behind /ready. Default 1s.
	ReadyTimeout time.Duration
	// OpenAPI is the API description served at /openapi.yaml.
	OpenAPI []byte
	// QuietHealth leaves successful health checks out of the access log (the load balancer
	// polls them every few seconds per task).
	QuietHealth bool
	// Metrics, when set, counts requests; its Handler is served on a port of its own, never
	// on the public one.
	Metrics *Metrics
	// BodyReadTimeout bounds reading a request body; a body that takes longer gets a 408.
	// Default BodyReadTimeout.
	BodyReadTimeout time.Duration
	// MaxHeaderBytes bounds the request line and header fields; a request over it gets a JSON
	// 431. Default MaxHeaderBytes. Set http.Server.MaxHeaderBytes above it (ServerMaxHeaderBytes).
	MaxHeaderBytes int
	// MaxConcurrentBodies bounds the requests with a body served at once; others wait for a
	// slot until their deadline (then 503). With the per-request budget (MaxBodyBytes read,
	// and decoded values no larger) it bounds the memory a flood of maximum-size bodies can
	// take: MaxConcurrentBodies x BodyBudget. Default DefaultConcurrentBodies.
	MaxConcurrentBodies int
	// ReadPositions, when set, turns on the read routing of replica reads: writes answer with
	// Catalog-Read-After, reads honour it (ADR 0022).
	ReadPositions WritePositions
	// Webhooks says where webhook URLs may point (checked when a subscription is made or its
	// URL changed; the delivery worker checks again when it dials).
	Webhooks WebhookOptions
	// Imports runs bulk imports (POST /imports); nil answers them 503.
	Imports *importer.Runner
}

// DefaultConcurrentBodies is the default Options.MaxConcurrentBodies: with BodyBudget, 32 x
// 4 MiB = 128 MiB at most for bodies in flight, whatever the number of connections.
const DefaultConcurrentBodies = 32

// BodyBudget is the memory one request with a maximum-size body may hold at once: the body
// (MaxBodyBytes), the decoded values (never larger than the body, the limits see to that),
// the validation problems (at most catalog.MaxProblems) and the response, with room to spare.
// BenchmarkMaxBody in this package measures it.
const BodyBudget = 4 * MaxBodyBytes

// Server is the catalog's HTTP handler.
type Server struct {
	store           catalog.Store
	keys            *Keys
	cors            *access.CORS
	limits          *RateLimits
	ipFields        *access.RateLimitFields // the limits' header fields, made once
	keyFields       *access.RateLimitFields
	refused         *prometheus.CounterVec
	rules           map[string]access.Rule // private routes' rules; absent: public
	log             *slog.Logger
	accessLog       io.Writer
	requestTimeout  time.Duration
	readyTimeout    time.Duration
	openAPI         []byte
	quietHealth     bool
	metrics         *Metrics
	bodyReadTimeout time.Duration
	maxHeaderBytes  int
	bodySlots       chan struct{}
	exportSlots     chan struct{} // GET /exports in flight (MaxConcurrentExports)
	draining        atomic.Bool
	// mux routes every request once: each route's handler runs the guard and the rest of the
	// routed path, and "/" takes what no route matches. plain holds the same routes without
	// "/" and without the routed path, for the mux's own answers: 404 or 405 (and Allow) for
	// what mux sent to "/", and the requests mux itself would answer (a path it cleans, CONNECT).
	mux, plain *http.ServeMux
	patterns   []string // every route registered, in order
	handler    http.Handler
	positions  WritePositions
	webhooks   WebhookOptions
	imports    *importer.Runner
}

// New returns a Server for opts.
func New(opts Options) *Server {
	s := &Server{
		store: opts.Store, keys: opts.Keys, log: opts.Log, accessLog: opts.AccessLog, requestTimeout: opts.RequestTimeout,
		readyTimeout: opts.ReadyTimeout, openAPI: opts.OpenAPI, quietHealth: opts.QuietHealth,
		metrics: opts.Metrics, mux: http.NewServeMux(), plain: http.NewServeMux(), bodyReadTimeout: opts.BodyReadTimeout,
		maxHeaderBytes: opts.MaxHeaderBytes, cors: opts.CORS, limits: opts.Limits,
		rules: map[string]access.Rule{}, refused: newRefusals(opts.Metrics),
		positions: opts.ReadPositions, webhooks: opts.Webhooks, imports: opts.Imports,
	}
	if s.bodyReadTimeout <= 0 {
		s.bodyReadTimeout = BodyReadTimeout
	}
	if s.maxHeaderBytes <= 0 {
		s.maxHeaderBytes = MaxHeaderBytes
	}
	if opts.MaxConcurrentBodies <= 0 {
		opts.MaxConcurrentBodies = DefaultConcurrentBodies
	}
	s.ipFields, s.keyFields = rateLimitFields(opts.Limits)
	s.bodySlots = make(chan struct{}, opts.MaxConcurrentBodies)
	s.exportSlots = make(chan struct{}, MaxConcurrentExports)
	if s.log == nil {
		s.log = discard
	}
	if s.requestTimeout <= 0 {
		s.requestTimeout = 10 * time.Second
	}
	if s.readyTimeout <= 0 {
		s.readyTimeout = time.Second
	}
	s.routes()
	s.mux.HandleFunc("/", s.unmatched)
	s.handler = s.observe(compressed(http.HandlerFunc(s.dispatch)))
	return s
}

func (s *Server) routes() {
	s.handle("GET /health", s.health)
	s.handle("GET /ready", s.ready)
	s.handle("GET /openapi.yaml", s.openAPIDoc)

	s.handle("GET /products", s.listProducts)
	s.private("POST /products", access.Need(access.Catalog), s.createProduct)
	s.handle("GET /products/{id}", s.getProduct)
	s.private("PUT /products/{id}", access.Need(access.Catalog), s.replaceProduct)
	s.private("PATCH /products/{id}", access.Need(access.Catalog), s.patchProduct)
	s.private("DELETE /products/{id}", access.Need(access.Catalog), s.deleteProduct)
	s.private("POST /products/{id}/archive", access.Need(access.Catalog), s.archiveProduct)
	s.handle("GET /skus/{sku}", s.getVariantBySKU)

	s.handle("GET /products/{id}/variants", s.listVariants)
	s.private("POST /products/{id}/variants", access.Need(access.Catalog), s.addVariant)
	s.handle("GET /products/{id}/variants/{variantID}", s.getVariant)
	s.private("PATCH /products/{id}/variants/{variantID}", access.Need(access.Catalog), s.patchVariant)
	s.private("DELETE /products/{id}/variants/{variantID}", access.Need(access.Catalog), s.deleteVariant)
	s.handle("GET /products/{id}/variants/{variantID}/stock", s.getStock)
	s.private("POST /products/{id}/variants/{variantID}/stock/adjustments", access.Need(access.Inventory), s.adjustStock)
	s.private("GET /products/{id}/variants/{variantID}/stock/movements", access.Need(access.Read), s.listMovements)
	s.handle("GET /products/{id}/variants/{variantID}/prices", s.priceHistory)
	s.private("PUT /products/{id}/variants/{variantID}/prices/{currency}", access.Need(access.Catalog), s.setPrice)
	s.private("DELETE /products/{id}/variants/{variantID}/prices/{currency}", access.Need(access.Catalog), s.removePrice)

	s.handle("GET /attributes", s.listAttributes)
	s.private("POST /attributes", access.Need(access.Catalog), s.createAttribute)
	s.handle("GET /attributes/{key}", s.getAttribute)
	s.private("PUT /attributes/{key}", access.Need(access.Catalog), s.replaceAttribute)
	s.private("DELETE /attributes/{key}", access.Need(access.Catalog), s.deleteAttribute)

	s.private("POST /reservations", access.Need(access.Checkout), s.createReservation)
	s.private("GET /reservations/{id}", access.Need(access.Read, access.Checkout), s.getReservation)
	s.private("POST /reservations/{id}/commit", access.Need(access.Checkout), s.finishReservation(true))
	s.private("POST /reservations/{id}/release", access.Need(access.Checkout), s.finishReservation(false))

	s.handle("GET /categories", s.listCategories)
	s.private("POST /categories", access.Need(access.Catalog), s.createCategory)
	s.handle("GET /categories/{slug}", s.getCategory)
	s.private("PATCH /categories/{slug}", access.Need(access.Catalog), s.updateCategory)
	s.private("DELETE /categories/{slug}", access.Need(access.Catalog), s.deleteCategory)

	s.handle("GET /collections", s.listCollections)
	s.private("POST /collections", access.Need(access.Catalog), s.createCollection)
	s.handle("GET /collections/{slug}", s.getCollection)
	s.private("PATCH /collections/{slug}", access.Need(access.Catalog), s.updateCollection)
	s.private("DELETE /collections/{slug}", access.Need(access.Catalog), s.deleteCollection)
	s.handle("GET /collections/{slug}/products", s.listCollectionProducts)
	s.private("PUT /collections/{slug}/products", access.Need(access.Catalog), s.setCollectionProducts)
	s.private("POST /collections/{slug}/products", access.Need(access.Catalog), s.addToCollection)
	s.private("DELETE /collections/{slug}/products/{id}", access.Need(access.Catalog), s.removeFromCollection)

	s.private("GET /events", access.Need(access.Read), s.listEvents)
	s.private("GET /exports", access.Need(access.Read), s.exportProducts)
	s.private("POST /batch/stock", access.Need(access.Inventory), s.stockBatch)
	s.private("POST /batch/prices", access.Need(access.Catalog), s.priceBatch)

	s.private("POST /webhooks", access.Need(access.Catalog), s.createWebhook)
	s.private("GET /webhooks", access.Need(access.Catalog), s.listWebhooks)
	s.private("GET /webhooks/{id}", access.Need(access.Catalog), s.getWebhook)
	s.private("PATCH /webhooks/{id}", access.Need(access.Catalog), s.updateWebhook)
	s.private("DELETE /webhooks/{id}", access.Need(access.Catalog), s.deleteWebhook)
	s.private("POST /webhooks/{id}/rotate-secret", access.Need(access.Catalog), s.rotateWebhookSecret)
	s.private("GET /webhooks/{id}/deliveries", access.Need(access.Catalog), s.listWebhookDeliveries)
	s.private("POST /imports", access.Need(access.Catalog), s.createImport)
	s.private("GET /imports/{id}", access.Need(access.Catalog), s.getImport)
}

// handle registers a route and remembers its pattern for Routes. Every path value passes the
// identifier text rule before the handler sees it, so no route can hand a store a NUL or
// invalid UTF-8 from the URL.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	var names []string
	for rest := pattern; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			break
		}
		name, tail, _ := strings.Cut(after, "}")
		names = append(names, strings.TrimSuffix(name, "..."))
		rest = tail
	}
	checked := func(w http.ResponseWriter, r *http.Request) {
		for _, name := range names {
			if err := catalog.CheckText(name, r.PathValue(name), catalog.Identifier); err != nil {
				writeError(w, r, err)
				return
			}
		}
		h(w, r)
	}
	s.plain.HandleFunc(pattern, checked)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serveRoute(w, r, pattern, checked) })
	s.patterns = append(s.patterns, pattern)
}

// Routes lists every route pattern, for the contract test against the OpenAPI document.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// dispatch routes a request, answering unknown paths and methods with the JSON error shape.
// Requests too large to serve are refused first, from their headers alone.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if n := headerBytes(r); n > s.maxHeaderBytes {
		w.Header().Set("Connection", "close")
		problem(w, r, http.StatusRequestHeaderFieldsTooLarge, codeHeaderTooLarge,
			fmt.Sprintf("the request line and headers are %d bytes; at most %d are accepted", n, s.maxHeaderBytes))
		return
	}
	if r.ContentLength > MaxBodyBytes && !isUpload(r) { // an upload has its own cap (imports.go)
		// Refused before a byte of the body is read, so a client that sent "Expect:
		// 100-continue" never gets the 100 (net/http sends it on the first read) and one that
		// did not is not read for a megabyte first. The connection closes: the unread body
		// cannot be skipped cheaply.
		w.Header().Set("Connection", "close")
		problem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("the request body must be at most %d bytes", MaxBodyBytes))
		return
	}
	if r.Method == http.MethodConnect || cleanPath(r.URL.EscapedPath()) != r.URL.EscapedPath() {
		// The mux answers these itself (a redirect to the clean path) after a route's guard:
		// routed twice, as they are rare.
		h, pattern := s.plain.Handler(r)
		if pattern == "" {
			s.unrouted(w, r, h)
			return
		}
		r.Pattern = pattern
		s.serveRoute(w, r, pattern, s.plain.ServeHTTP)
		return
	}
	s.mux.ServeHTTP(w, r) // routes once: to serveRoute, or to unmatched
}

// unmatched takes the requests no route matches, from mux's "/".
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	r.Pattern = "" // not a route: the access log and metrics say "unmatched"
	h, _ := s.plain.Handler(r)
	s.unrouted(w, r, h)
}

// unrouted answers a request no route matches with h, plain's answer for it, in the JSON error
// shape: 404, or 405 with Allow, or the redirect plain gives.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	// Unrouted requests (404, 405, OPTIONS) cost little but are limited per address all the
	// same, and answered with CORS fields so a browser app can read the error.
	s.cors.Headers(w.Header(), r.Header.Get("Origin"))
	if !s.allow(w, r, access.Principal{}, access.NoKey) {
		return
	}
	capture := &headerCapture{header: http.Header{}}
	h.ServeHTTP(capture, r)
	if capture.status == http.StatusMethodNotAllowed && r.Method == http.MethodOptions {
		s.options(w, r, capture.header.Get("Allow"))
		return
	}
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
}

// serveRoute serves a request routed to pattern: the guard (CORS, rate limit, key and
// scopes), the private marking, the replica read routing and a body slot, then next.
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, pattern string, next http.HandlerFunc) {
	if r = s.guard(w, r, pattern); r == nil {
		return
	}
	if !access.FromContext(r.Context()).Anonymous() {
		w = &privateWriter{ResponseWriter: w}
	}
	if w, r = s.routeReads(w, r); r == nil {
		return
	}
	// A body slot is taken only by a request allowed in, so a refused or rate-limited client
	// never holds one.
	if r.ContentLength != 0 { // a body, or chunked (-1)
		select {
		case s.bodySlots <- struct{}{}:
			defer func() { <-s.bodySlots }()
		case <-r.Context().Done():
			writeError(w, r, catalog.Wrap(catalog.CodeUnavailable, r.Context().Err(), "the server is busy reading other request bodies; retry"))
			return
		}
	}
	next(w, r)
}

// cleanPath is net/http's: the canonical path the mux routes by (a rooted path.Clean that
// keeps a trailing slash). A path it changes is answered by the mux's redirect.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	// path.Clean removes a trailing slash except for the root; put it back.
	if p[len(p)-1] == '/' && np != "/" {
		// Fast path for the common case of p being the string we want.
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}

// headerBytes is the size of the request line and header fields as sent, near enough: what
// net/http counts against its MaxHeaderBytes.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
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
	w.Header().Set("Content-Length", strconv.Itoa(len(s.openAPI)))
	w.Write(s.openAPI)
}
