package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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
