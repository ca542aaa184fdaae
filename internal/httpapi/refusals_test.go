package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/sqlite"
)

// rawServer serves the real handler over a real listener configured as cmd/catalog does, so
// net/http's own refusals are part of the test.
func rawServer(t *testing.T, bodyTimeout time.Duration) string {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	keys, _ := httpapi.NewKeys([]string{key})
	srv := httpapi.New(httpapi.Options{Store: store, Keys: keys, BodyReadTimeout: bodyTimeout,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.MaxHeaderBytes = httpapi.ServerMaxHeaderBytes
	ts.Config.ReadTimeout = 15 * time.Second
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// exchange writes raw to addr and reads one response (after any 1xx, which it reports).
func exchange(t *testing.T, addr, raw string, within time.Duration) (resp *http.Response, body []byte, interim []string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(within))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no response within %s: %v", within, err)
		}
		if strings.HasPrefix(line, "HTTP/1.1 1") {
			interim = append(interim, strings.TrimSpace(line))
			for l, _ := br.ReadString('\n'); strings.TrimSpace(l) != ""; l, _ = br.ReadString('\n') {
			}
			continue
		}
		resp, err = http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(line), br)), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		return resp, body, interim
	}
}

func wantJSONError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error.Code != code {
		t.Fatalf("got %d %q, want %d with JSON error code %q", resp.StatusCode, body, status, code)
	}
}

func TestLargeBodyRefusedFromContentLength(t *testing.T) {
	addr := rawServer(t, time.Second)
	for _, expect := range []string{"Expect: 100-continue\r\n", ""} {
		// No body byte is sent: the answer must come from the header alone.
		resp, body, interim := exchange(t, addr, "POST /products HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+key+
			"\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n"+expect+"\r\n", 5*time.Second)
		if len(interim) > 0 {
			t.Errorf("%q: got %v before the refusal; the body must not be invited", expect, interim)
		}
		wantJSONError(t, resp, body, 413, "request_too_large")
	}
}

func TestHeaderTooLargeIsJSON(t *testing.T) {
	addr := rawServer(t, time.Second)
	big := strings.Repeat("a", httpapi.MaxHeaderBytes+1000)
	resp, body, _ := exchange(t, addr, "GET /products HTTP/1.1\r\nHost: x\r\nX-Padding: "+big+"\r\n\r\n", 5*time.Second)
	wantJSONError(t, resp, body, 431, "header_too_large")

	// Over net/http's own limit the answer is its plain-text 431 (see ServerMaxHeaderBytes).
	huge := strings.Repeat("a", httpapi.ServerMaxHeaderBytes+8192)
	resp, _, _ = exchange(t, addr, "GET /products HTTP/1.1\r\nHost: x\r\nX-Padding: "+huge+"\r\n\r\n", 5*time.Second)
	if resp.StatusCode != 431 {
		t.Errorf("a header over net/http's limit: %d, want 431", resp.StatusCode)
	}
}

// TestStalledBodyGets408: a client that sends half its body and stalls gets a JSON 408 when
// the body read deadline passes, not a silently closed connection at ReadTimeout.
func TestStalledBodyGets408(t *testing.T) {
	addr := rawServer(t, 300*time.Millisecond)
	start := time.Now()
	resp, body, _ := exchange(t, addr, "POST /categories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+key+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"slug\":\"half", 5*time.Second)
	wantJSONError(t, resp, body, 408, "request_timeout")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("408 after %s, want about the 300ms body deadline", d)
	}
	if !resp.Close {
		t.Errorf("408 without Connection: close; the rest of the body may still arrive")
	}
}

// TestMediaTypesAccepted: the refusals leave the legitimate forms alone.
func TestMediaTypesAccepted(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, with(auth, "Content-Type", "application/json; charset=UTF-8"), 201)
	id := decode[struct{ ID string }](t, b).ID
	e.do("PATCH", "/products/"+id, `{"name":"Big mug"}`, with(auth, "Content-Type", "application/merge-patch+json"), 200)
	e.do("PATCH", "/categories/kitchen", `{"name":"Cooking"}`, with(auth, "Content-Type", "application/merge-patch+json; charset=utf-8"), 200)
	_, b = e.do("GET", "/products/"+id, "", nil, 200)
	e.do("PUT", variantPath(decode[catalog.Product](t, b))+"/prices/USD", `{"amount":0}`, auth, 200) // zero is a price; absent is not
	e.do("POST", "/products", product("MUG-2", 1), with(auth, "Content-Type", "application/merge-patch+json"), 415)
}

// TestExpectContinueWithinLimit: a small body announced with Expect: 100-continue is invited
// and served.
func TestExpectContinueWithinLimit(t *testing.T) {
	addr := rawServer(t, time.Second)
	body := `{"slug":"mugs","name":"Mugs"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "POST /categories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+key+
		"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	br := bufio.NewReader(conn)
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("first line %q, want 100 Continue", line)
	}
	br.ReadString('\n')
	io.WriteString(conn, body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}
}
