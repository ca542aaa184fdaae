package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

type otherKey struct{}

// TestRequestContextIsATimeout: the request's context answers as context.WithValue and
// context.WithTimeout over the connection's context would (deadline, Done, Err, Cause, values,
// the parent's cancellation, cancelled once the request ends), though it makes its timer only
// when something waits on Done.
func TestRequestContextIsATimeout(t *testing.T) {
	parent := context.WithValue(context.Background(), otherKey{}, "conn")

	t.Run("deadline fires for a waiter", func(t *testing.T) {
		i := newRequestInfo(parent, "id", discard, time.Now(), 20*time.Millisecond)
		defer i.end()
		if d, ok := i.Deadline(); !ok || time.Until(d) > 20*time.Millisecond {
			t.Fatalf("Deadline() = %v, %v", d, ok)
		}
		if i.timed.Load() != nil {
			t.Fatal("Deadline made a timer")
		}
		select {
		case <-i.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done never closed")
		}
		if !errors.Is(i.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(i), context.DeadlineExceeded) {
			t.Fatalf("Err %v, Cause %v; want the deadline", i.Err(), context.Cause(i))
		}
	})

	t.Run("deadline passed with nobody waiting", func(t *testing.T) {
		i := newRequestInfo(parent, "id", discard, time.Now().Add(-time.Second), time.Millisecond)
		defer i.end()
		if !errors.Is(context.Cause(i), context.DeadlineExceeded) {
			t.Fatalf("Cause %v before any Done or Err; want the deadline", context.Cause(i))
		}
		if !errors.Is(i.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err %v; want the deadline", i.Err())
		}
		select {
		case <-i.Done():
		default:
			t.Fatal("Done open past the deadline")
		}
	})

	t.Run("a hit makes no timer", func(t *testing.T) {
		i := newRequestInfo(parent, "id", discard, time.Now(), time.Hour)
		if i.Err() != nil || i.Value(otherKey{}) != "conn" || info(i) != i || info(context.WithValue(i, otherKey{}, 1)) != i {
			t.Fatalf("Err %v, Value %v", i.Err(), i.Value(otherKey{}))
		}
		if i.timed.Load() != nil {
			t.Fatal("Err or Value made a timer before the deadline")
		}
		i.end()
		if !errors.Is(i.Err(), context.Canceled) {
			t.Fatalf("Err after the request ended = %v, want Canceled", i.Err())
		}
		select {
		case <-i.Done():
		default:
			t.Fatal("Done open after the request ended")
		}
	})

	t.Run("end cancels a made timer", func(t *testing.T) {
		i := newRequestInfo(parent, "id", discard, time.Now(), time.Hour)
		done := i.Done()
		i.end()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("end did not close Done")
		}
		if !errors.Is(i.Err(), context.Canceled) {
			t.Fatalf("Err = %v, want Canceled", i.Err())
		}
	})

	t.Run("the connection going away cancels it", func(t *testing.T) {
		conn, cancel := context.WithCancel(parent)
		i := newRequestInfo(conn, "id", discard, time.Now(), time.Hour)
		defer i.end()
		child, stop := context.WithCancel(i) // as a store call would
		defer stop()
		cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a child of the request's context outlived the connection")
		}
		if !errors.Is(i.Err(), context.Canceled) {
			t.Fatalf("Err = %v, want Canceled", i.Err())
		}
	})

	t.Run("an earlier parent deadline wins", func(t *testing.T) {
		early := time.Now().Add(time.Minute)
		p, cancel := context.WithDeadline(parent, early)
		defer cancel()
		i := newRequestInfo(p, "id", discard, time.Now(), time.Hour)
		defer i.end()
		if d, _ := i.Deadline(); !d.Equal(early) {
			t.Fatalf("Deadline %v, want the parent's %v", d, early)
		}
	})
}

// TestRequestContextConcurrentDone: many goroutines asking for Done at once get one channel
// (run with -race).
func TestRequestContextConcurrentDone(t *testing.T) {
	i := newRequestInfo(context.Background(), "id", slog.New(slog.DiscardHandler), time.Now(), time.Hour)
	chans := make(chan (<-chan struct{}), 8)
	for range 8 {
		go func() { chans <- i.Done() }()
	}
	first := <-chans
	for range 7 {
		if c := <-chans; c != first {
			t.Fatal("two Done channels for one request")
		}
	}
	i.end()
	<-first
}

// oldStatusLabel and oldMethodLabel are the label functions before the lookup tables: the
// tables must fold every method and status the same way.
func oldStatusLabel(status int) string {
	known := map[int]bool{
		200: true, 201: true, 204: true, 301: true, 304: true, 307: true, 308: true, 400: true, 401: true,
		403: true, 404: true, 405: true, 408: true, 409: true, 412: true, 413: true, 415: true, 422: true,
		429: true, 431: true, 499: true, 500: true, 502: true, 503: true, 504: true,
	}
	if known[status] {
		return strconv.Itoa(status)
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func oldMethodLabel(method string) string {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return method
	}
	return "OTHER"
}

func TestLabelTablesFoldAsBefore(t *testing.T) {
	for status := -5; status < 1200; status++ {
		if got, want := statusLabel(status), oldStatusLabel(status); got != want {
			t.Fatalf("statusLabel(%d) = %q, want %q", status, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "get", "", "BREW"} {
		if got, want := methodLabel(m), oldMethodLabel(m); got != want {
			t.Fatalf("methodLabel(%q) = %q, want %q", m, got, want)
		}
	}
	for range 1000 {
		b := make([]byte, rng.IntN(8))
		for j := range b {
			b[j] = byte('A' + rng.IntN(26))
		}
		if got, want := methodLabel(string(b)), oldMethodLabel(string(b)); got != want {
			t.Fatalf("methodLabel(%q) = %q, want %q", b, got, want)
		}
	}
}

// TestRoutingOnceMatchesThePlainMux: for requests the mux routes itself (clean paths, not
// CONNECT), the mux with "/" picks the route the plain mux picks, and "/" exactly when the
// plain mux has none; so serving through mux once answers as routing twice did. Paths are the
// routes' own with wildcards filled, segments added or dropped, trailing slashes, escapes and
// random methods.
func TestRoutingOnceMatchesThePlainMux(t *testing.T) {
	s := New(Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"}
	segments := []string{"products", "variants", "stock", "x", "%41", "a%2Fb", "", "{}", "0190", "prices", "USD"}
	checked := 0
	for range 20000 {
		_, p, _ := strings.Cut(s.patterns[rng.IntN(len(s.patterns))], " ")
		parts := strings.Split(p, "/")
		for i, part := range parts {
			if strings.HasPrefix(part, "{") || rng.IntN(8) == 0 {
				parts[i] = segments[rng.IntN(len(segments))]
			}
		}
		switch rng.IntN(6) {
		case 0:
			parts = append(parts, segments[rng.IntN(len(segments))])
		case 1:
			parts = parts[:max(1, len(parts)-1)]
		case 2:
			parts = append(parts, "")
		}
		target := strings.Join(parts, "/")
		if target == "" || target[0] != '/' {
			target = "/" + target
		}
		r, err := http.NewRequest(methods[rng.IntN(len(methods))], "http://h"+target, nil)
		if err != nil {
			continue
		}
		if cleanPath(r.URL.EscapedPath()) != r.URL.EscapedPath() {
			continue // the old two-step path
		}
		_, once := s.mux.Handler(r)
		_, plain := s.plain.Handler(r)
		if plain == "" {
			plain = "/"
		}
		if once != plain {
			t.Fatalf("%s %s: routed once to %q, the plain mux to %q", r.Method, target, once, plain)
		}
		checked++
	}
	if checked < 10000 {
		t.Fatalf("only %d requests took the one-routing path", checked)
	}
}
