package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	actorSlotKey
	loggerKey
)

// actorSlot carries the actor protect finds back out to the access log: protect passes a new
// request (and context) down, so the log's own context never sees catalog.WithActor.
type actorSlot struct{ actor string }

// logger returns the server's logger, which observe puts in every request's context, so
// functions without the server at hand (writeError) log where the server logs, never to the
// process-wide default.
func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Actor names who made a write, for logs and the stock movement log: "apikey:" and the first
// 8 hex digits of the key's SHA-256, never the key.
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
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
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
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		slot := &actorSlot{}
		ctx = context.WithValue(ctx, actorSlotKey, slot)
		ctx = context.WithValue(ctx, loggerKey, s.log)
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

// Keys checks API keys. Keys are kept as SHA-256 digests and compared in constant time, so
// neither the comparison's timing nor a memory dump of the checker gives a key away.
type Keys struct {
	digests [][32]byte
}

// MinKeyLength refuses keys short enough to guess.
const MinKeyLength = 16

// NewKeys returns a checker for keys; it refuses a key shorter than MinKeyLength.
func NewKeys(keys []string) (*Keys, error) {
	k := &Keys{}
	for i, key := range keys {
		if len(key) < MinKeyLength {
			return nil, fmt.Errorf("API key %d is %d characters; keys must have at least %d", i+1, len(key), MinKeyLength)
		}
		k.digests = append(k.digests, sha256.Sum256([]byte(key)))
	}
	return k, nil
}

// Len returns the number of valid keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.digests)
}

// match returns the actor name of the key, or "" when no key matches. Every configured key is
// compared, match or not.
func (k *Keys) match(key string) string {
	d := sha256.Sum256([]byte(key))
	found := 0
	for _, want := range k.digests {
		found |= subtle.ConstantTimeCompare(d[:], want[:])
	}
	if found == 0 {
		return ""
	}
	return "apikey:" + hex.EncodeToString(d[:4])
}

// protect lets a request through only with a valid bearer key.
func (s *Server) protect(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.keys.Len() == 0 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="catalog"`)
			problem(w, r, http.StatusUnauthorized, codeUnauthorized, "writes are disabled: the server has no API keys configured (set API_KEYS)")
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="catalog"`)
			problem(w, r, http.StatusUnauthorized, codeUnauthorized, "this endpoint needs an API key: send Authorization: Bearer <key>")
			return
		}
		actor := s.keys.match(strings.TrimSpace(key))
		if actor == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="catalog", error="invalid_token"`)
			problem(w, r, http.StatusUnauthorized, codeUnauthorized, "the API key is not valid")
			return
		}
		if slot, ok := r.Context().Value(actorSlotKey).(*actorSlot); ok {
			slot.actor = actor
		}
		next(w, r.WithContext(catalog.WithActor(r.Context(), actor)))
	}
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
