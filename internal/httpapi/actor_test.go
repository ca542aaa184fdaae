package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// syncBuffer is a log sink the server's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLogActor: an authenticated write's access log line names the key by a stable,
// non-secret identifier, the stores record the same actor, and no log line holds the key.
func TestAccessLogActor(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, err := httpapi.NewKeys([]string{key})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv := httpapi.New(httpapi.Options{Store: store, Keys: keys, OpenAPI: api.OpenAPI,
		Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{t: t, url: ts.URL, client: apitest.Client(t), srv: srv, store: store}
	sum := sha256.Sum256([]byte(key))
	want := "apikey:" + hex.EncodeToString(sum[:4])

	e.do("POST", "/categories", `{"slug":"kitchen","name":"Kitchen"}`, auth, 201)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	v := variantPath(p)
	e.do("PUT", v+"/prices/USD", `{"amount":1499}`, auth, 200)
	e.do("POST", v+"/stock/adjustments", `{"delta":3,"reason":"received"}`, auth, 201)
	e.do("GET", "/products/"+p.ID, "", nil, 200)
	e.do("POST", "/products", mug, with(auth, "Authorization", "Bearer wrong-key-0123456789abcdef"), 401)

	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, key) {
			t.Errorf("a log line holds the API key: %s", line)
		}
		var l struct {
			Msg, Route, Actor string
			Status            int
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if l.Msg == "request" {
			seen[fmt.Sprintf("%d %s", l.Status, l.Route)] = l.Actor
		}
	}
	for route, actor := range map[string]string{
		"201 POST /categories": want, "201 POST /products": want,
		"201 POST /products/{id}/variants/{variantID}/stock/adjustments": want, "200 GET /products/{id}": "",
		"200 PUT /products/{id}/variants/{variantID}/prices/{currency}": want,
		"401 POST /products": "",
	} {
		if got, ok := seen[route]; !ok || got != actor {
			t.Errorf("access log of %s: actor %q (logged: %v), want %q\n%v", route, got, ok, actor, seen)
		}
	}
	_, b = e.do("GET", v+"/prices", "", auth, 200)
	for _, pe := range decode[struct{ Items []catalog.PriceEntry }](t, b).Items {
		if pe.Actor != want {
			t.Errorf("price history entry %+v: actor %q, want %q", pe.Price, pe.Actor, want)
		}
	}
	_, b = e.do("GET", v+"/stock/movements", "", auth, 200)
	for _, m := range decode[struct{ Items []catalog.Movement }](t, b).Items {
		if m.Actor != want {
			t.Errorf("movement %d: actor %q, want %q", m.ID, m.Actor, want)
		}
	}
}
