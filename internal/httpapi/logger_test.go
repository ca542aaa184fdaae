package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

// failing answers Product with an internal error, a panic or "unavailable", by ID.
type failing struct{ catalog.Store }

func (failing) Product(_ context.Context, id string) (catalog.Product, error) {
	switch id {
	case "panic":
		panic("boom")
	case "down":
		return catalog.Product{}, catalog.Errorf(catalog.CodeUnavailable, "down")
	}
	return catalog.Product{}, errors.New("disk on fire")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestErrorsGoToTheInjectedLogger: failures, panics and unavailable stores are logged through
// Options.Log, and nothing reaches the process-wide default logger.
func TestErrorsGoToTheInjectedLogger(t *testing.T) {
	var global lockedBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&global, nil)))
	defer slog.SetDefault(old)

	var injected lockedBuffer
	srv := httpapi.New(httpapi.Options{Store: failing{}, Log: slog.New(slog.NewJSONHandler(&injected, nil))})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for id, want := range map[string]int{"fire": 500, "panic": 500, "down": 503} {
		resp, err := http.Get(ts.URL + "/products/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /products/%s = %d, want %d", id, resp.StatusCode, want)
		}
	}
	logs := injected.String()
	for _, msg := range []string{`"msg":"request failed"`, `"msg":"panic"`, `"msg":"store unavailable"`} {
		if !strings.Contains(logs, msg) {
			t.Errorf("the injected logger did not get %s:\n%s", msg, logs)
		}
	}
	if global.String() != "" {
		t.Errorf("the default logger got lines:\n%s", global.String())
	}
}

// TestAccessLog: each request writes one line, the same whether slog formats it or the server
// writes it to the logger's writer itself (Options.AccessLog): same keys, same values, the
// route's pattern (or "unmatched", never a path) and the status; the logger's level decides
// in both.
func TestAccessLog(t *testing.T) {
	type line struct {
		Level, Msg, Method, Route, Path, Actor string
		RequestID                              string  `json:"request_id"`
		Status                                 int     `json:"status"`
		Bytes                                  int64   `json:"bytes"`
		DurationMS                             float64 `json:"duration_ms"`
		Time                                   time.Time
	}
	requests := []struct {
		path   string
		status int
		route  string
	}{
		{"/health", 200, "GET /health"},
		{"/products/fire", 500, "GET /products/{id}"},
		{"/nowhere/%22quoted%22", 404, "unmatched"},
	}
	for _, direct := range []bool{false, true} {
		for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
			var out lockedBuffer
			opts := httpapi.Options{Store: failing{}, Log: slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: level}))}
			if direct {
				opts.AccessLog = &out
			}
			ts := httptest.NewServer(httpapi.New(opts))
			for _, r := range requests {
				resp, err := http.Get(ts.URL + r.path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != r.status {
					t.Fatalf("GET %s: %d, want %d", r.path, resp.StatusCode, r.status)
				}
			}
			ts.Close()
			var got []line
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if !strings.Contains(l, `"msg":"request"`) {
					continue
				}
				var v line
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatalf("direct %v: %q: %v", direct, l, err)
				}
				got = append(got, v)
			}
			if level > slog.LevelInfo {
				if len(got) != 0 {
					t.Errorf("direct %v at %s: %d access lines, want none", direct, level, len(got))
				}
				continue
			}
			if len(got) != len(requests) {
				t.Fatalf("direct %v: %d access lines, want %d:\n%s", direct, len(got), len(requests), out.String())
			}
			for i, r := range requests {
				g := got[i]
				u, _ := url.Parse(ts.URL + r.path)
				if g.Level != "INFO" || g.Method != "GET" || g.Route != r.route || g.Path != u.Path || g.Status != r.status ||
					len(g.RequestID) != 24 || g.DurationMS < 0 || time.Since(g.Time) > time.Minute || (r.status != 200) != (g.Bytes > 20) {
					t.Errorf("direct %v: %s: %+v", direct, r.path, g)
				}
			}
		}
	}
}
