package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

type ctxKey int

const requestKey ctxKey = iota

// requestInfo is a request's context: observe makes one per request, in one allocation, and
// it answers for the request ID, the logger, the actor and the request's deadline. A
// context.WithValue and a context.WithTimeout would be three allocations, a runtime timer per
// request and two more links for every ctx.Value lookup to walk; a cache hit waits on nothing,
// so the timer is made only when something asks for Done (a store call, a body read), the one
// place a deadline can fire (ADR 0025).
type requestInfo struct {
	context.Context // the connection's context: cancelled when the client goes away

	id  string
	log *slog.Logger
	// actor carries the actor protect finds back out to the access log: protect passes a new
	// request (and context) down, so the log's own context never sees catalog.WithActor.
	actor    string
	deadline time.Time

	// Header values kept with the request, so setting them allocates no slice of their own.
	idValue, rateLimit [1]string
	rec                recorder // the request's ResponseWriter, in the same allocation

	timed atomic.Pointer[timedContext] // made on the first Done (or Err past the deadline)
	ended atomic.Bool
	mu    sync.Mutex // makes timed once, and orders it with end
}

// timedContext is the context.WithDeadline a requestInfo makes when a deadline can matter.
type timedContext struct {
	context.Context
	cancel context.CancelFunc
}

func newRequestInfo(parent context.Context, id string, log *slog.Logger, start time.Time, timeout time.Duration) *requestInfo {
	i := &requestInfo{Context: parent, id: id, log: log, deadline: start.Add(timeout)}
	// As context.WithDeadline: a parent's earlier deadline stays the one that counts.
	if d, ok := parent.Deadline(); ok && d.Before(i.deadline) {
		i.deadline = d
	}
	i.idValue[0] = id
	return i
}

// timer returns the deadline's context, making it on first use. After end it is made
// cancelled, as the context of a finished request is.
func (i *requestInfo) timer() *timedContext {
	if t := i.timed.Load(); t != nil {
		return t
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if t := i.timed.Load(); t != nil {
		return t
	}
	ctx, cancel := context.WithDeadline(i.Context, i.deadline)
	t := &timedContext{Context: ctx, cancel: cancel}
	if i.ended.Load() {
		cancel()
	}
	i.timed.Store(t)
	return t
}

// end cancels the request's context (its deadline's timer, if made): the request is over.
func (i *requestInfo) end() {
	i.mu.Lock()
	i.ended.Store(true)
	t := i.timed.Load()
	i.mu.Unlock()
	if t != nil {
		t.cancel()
	}
}

// expired reports whether the context must answer as cancelled already.
func (i *requestInfo) expired() bool { return i.ended.Load() || !time.Now().Before(i.deadline) }

func (i *requestInfo) Deadline() (time.Time, bool) { return i.deadline, true }

func (i *requestInfo) Done() <-chan struct{} { return i.timer().Done() }

func (i *requestInfo) Err() error {
	if t := i.timed.Load(); t != nil {
		return t.Err()
	}
	if i.expired() {
		return i.timer().Err()
	}
	return i.Context.Err()
}

func (i *requestInfo) Value(key any) any {
	if key == requestKey {
		return i
	}
	t := i.timed.Load()
	if t == nil && i.expired() {
		// context.Cause finds its answer through Value: once the deadline has passed, it must
		// find the deadline's context, not the connection's.
		t = i.timer()
	}
	if t != nil {
		return t.Value(key)
	}
	return i.Context.Value(key)
}

func info(ctx context.Context) *requestInfo {
	if i, ok := ctx.(*requestInfo); ok { // the request's own context: no lookup
		return i
	}
	i, _ := ctx.Value(requestKey).(*requestInfo)
	return i
}

// requestIDKey is X-Request-Id in canonical form, so setting it needs no canonicalisation.
const requestIDKey = "X-Request-Id"

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
		slot := newRequestInfo(r.Context(), id, s.log, start, s.requestTimeout)
		defer slot.end()
		w.Header()[requestIDKey] = slot.idValue[:]
		// The one copy of the request: everything below sets fields on it or reads its context.
		r = r.WithContext(slot)
		ctx := context.Context(slot)
		slot.rec.ResponseWriter = w
		rec := &slot.rec
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
			// LogAttrs would build its attributes (on the heap: they go to an interface) before
			// asking the handler; a line that will not be written costs one question instead.
			if !s.log.Enabled(ctx, slog.LevelInfo) {
				return
			}
			e := accessEntry{at: start.Add(elapsed), id: id, method: r.Method, route: route, path: r.URL.Path,
				status: rec.status, bytes: rec.bytes, elapsed: elapsed, actor: slot.actor}
			if s.accessLog == nil {
				s.log.LogAttrs(ctx, slog.LevelInfo, "request", e.attrs()...)
			} else {
				// Its error goes where slog's Logger sends its handler's: nowhere here. The
				// writer is the log itself (logbuf keeps the first failure for Close to report),
				// so logging it would only write again to what just failed.
				_ = writeAccessLine(s.accessLog, e)
			}
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
