package httpapi_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/readcache"
)

// TestHeldMatchesEncoded: a product answered from the bytes the read cache holds (ADR 0025) is
// the answer the same request gets from a server without the cache: status, every header but
// Date and X-Request-Id, and the body once decoded, for every coding a client may ask for,
// HEAD, revalidations with the plain and the coded ETag, drafts with and without a key. Each
// request is sent three times to the cached server: the miss that fills the cache, the hit
// that builds the held bytes, and the hit that reuses them.
func TestHeldMatchesEncoded(t *testing.T) {
	e := newEnv(t)
	cache := readcache.New(e.store, time.Hour, 1<<20)
	held := httptest.NewServer(httpapi.New(httpapi.Options{Store: cache, Keys: mustKeys(t), OpenAPI: api.OpenAPI,
		Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(held.Close)

	_, b := e.do("POST", "/products", longMug("HELD-LONG"), auth, 201)
	long := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/products", strings.Replace(mug, "MUG-1", "HELD-SHORT", 1), auth, 201)
	short := decode[catalog.Product](t, b)
	_, b = e.do("POST", "/products", strings.Replace(strings.Replace(longMug("HELD-DRAFT"), `"active"`, `"draft"`, 1), "Long mug", "Draft mug", 1), auth, 201)
	draft := decode[catalog.Product](t, b)

	codings := []string{"", "gzip", "zstd", "gzip, deflate, br, zstd", "zstd;q=0.5, gzip", "gzip;q=0", "br", "GZIP;Q=0.9, zstd;q=0.9", "identity"}
	type req struct {
		method, id string
		headers    map[string]string
	}
	var reqs []req
	for _, id := range []string{long.ID, short.ID, draft.ID, catalog.NewID()} {
		for _, c := range codings {
			for _, method := range []string{"GET", "HEAD"} {
				reqs = append(reqs, req{method, id, map[string]string{"Accept-Encoding": c}})
				reqs = append(reqs, req{method, id, map[string]string{"Accept-Encoding": c, "Authorization": "Bearer " + key}})
			}
		}
	}
	for _, p := range []catalog.Product{long, short} {
		tag := `"` + strings.Trim(etagOf(t, e, p.ID), `"`)
		for _, inm := range []string{tag + `"`, tag + `-gzip"`, tag + `-zstd"`, `W/` + tag + `"`, `"0.0"`, `*`} {
			reqs = append(reqs, req{"GET", p.ID, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": inm}})
		}
	}

	// Not apitest's client: it checks answers against the OpenAPI document, which has no HEAD.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	send := func(base string, q req) (*http.Response, []byte) {
		t.Helper()
		r, err := http.NewRequest(q.method, base+"/products/"+q.id, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range q.headers {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	hits0, _ := cache.Stats()
	for _, q := range reqs {
		want, wantBody := send(e.url, q)
		for round := range 3 {
			got, gotBody := send(held.URL, q)
			where := q.method + " " + q.id + " " + strings.Join(headerList(q.headers), " ") + " round " + string(rune('0'+round))
			if got.StatusCode != want.StatusCode {
				t.Fatalf("%s: status %d, want %d", where, got.StatusCode, want.StatusCode)
			}
			if d := diffHeaders(got.Header, want.Header); d != "" {
				t.Fatalf("%s: headers differ:\n%s", where, d)
			}
			if len(wantBody) == 0 || len(gotBody) == 0 {
				if len(wantBody) != len(gotBody) {
					t.Fatalf("%s: %d body bytes, want %d", where, len(gotBody), len(wantBody))
				}
				continue
			}
			if g, w := apitest.Decode(t, got, gotBody), apitest.Decode(t, want, wantBody); !bytes.Equal(g, w) && want.StatusCode != 404 {
				t.Fatalf("%s: body\n%s\nwant\n%s", where, g, w)
			}
		}
	}
	if hits, _ := cache.Stats(); hits-hits0 < int64(len(reqs)) {
		t.Fatalf("%d cache hits for %d requests sent three times: the held path was not taken", hits-hits0, len(reqs))
	}
}

// etagOf is the product's plain ETag as a GET without compression answers it.
func etagOf(t *testing.T, e *env, id string) string {
	resp, _ := e.do("GET", "/products/"+id, "", map[string]string{"Accept-Encoding": "identity"}, 200)
	return resp.Header.Get("ETag")
}

func mustKeys(t *testing.T) *httpapi.Keys {
	keys, err := httpapi.NewKeys([]string{"old-key-0123456789abcdef", key})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func headerList(h map[string]string) []string {
	var out []string
	for k, v := range h {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// diffHeaders lists the fields that differ, leaving out those that differ by nature: the date,
// the request ID, and a coded body's length (the held body is compressed harder).
func diffHeaders(got, want http.Header) string {
	var b strings.Builder
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	for k := range names {
		switch k {
		case "Date", "X-Request-Id":
			continue
		case "Content-Length":
			if want.Get("Content-Encoding") != "" {
				continue
			}
		}
		if !slices.Equal(got.Values(k), want.Values(k)) {
			b.WriteString(k + ": " + strings.Join(got.Values(k), " | ") + "; want " + strings.Join(want.Values(k), " | ") + "\n")
		}
	}
	return b.String()
}
