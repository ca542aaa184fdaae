package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

type ctxKey int

const requestKey ctxKey = iota

// requestInfo is what observe gives every request's context, under one key: one allocation and
// one link in the context chain, which every ctx.Value lookup of the request walks.
type requestInfo struct {
	id  string
	log *slog.Logger
	// actor carries the actor protect finds back out to the access log: protect passes a new
	// request (and context) down, so the log's own context never sees catalog.WithActor.
	actor string
}

func info(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(requestKey).(*requestInfo)
	return i
}

// logger returns the server's logger, which observe puts in every request's context, so
// functions without the server at hand (writeError) log where the server logs, never to the
// process-wide default.
func logger(ctx context.Context) *slog.Logger {
	if i := info(ctx); i != nil && i.log != nil {
		return i.log
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

func requestID(ctx context.Context) string {
	if i := info(ctx); i != nil {
		return i.id
	}
	return ""
}

// Actor names who made a write, for logs and the stock movement log: the key's name (for a
// bare key of the old format, "apikey:" and the first 8 hex digits of its SHA-256), never the
// key.
func Actor(ctx context.Context) string {
	if a := catalog.ActorOf(ctx); a != "system" {
		return a
	}
	return ""
}

// validRequestID accepts a caller's X-Request-Id only when it is short printable ASCII, so it
// is safe to log and echo.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	var h [24]byte
	rand.Read(b[:])
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// recorder remembers the status and size of a response for the access log and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe gives each request an ID, a deadline and a recovery from panics, and logs one access
// line when it ends. It reads the route pattern the mux stored on the request it was given.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		slot := &requestInfo{id: id, log: s.log}
		ctx := context.WithValue(r.Context(), requestKey, slot)
		ctx, cancel := context.WithTimeout(ctx, s.requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v), "request_id", id)
				if rec.status == 0 {
					problem(rec, r, http.StatusInternalServerError, "internal", "an unexpected error occurred; it has been logged with the request ID")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched" // never the path: each distinct path would be a new series
			}
			elapsed := time.Since(start)
			if s.metrics != nil {
				s.metrics.observeRequest(route, r.Method, rec.status, elapsed)
			}
			if s.quietHealth && (route == "GET /health" || route == "GET /ready") && rec.status < 400 {
				return
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("actor", slot.actor),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// headerCapture lets the mux decide 404 or 405 (and the Allow header) without writing its
// plain-text body, so the client gets the JSON error shape instead.
type headerCapture struct {
	header http.Header
	status int
}

func (h *headerCapture) Header() http.Header         { return h.header }
func (h *headerCapture) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerCapture) WriteHeader(status int)      { h.status = status }
