package httpapi_test

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
)

// TestHeadAnswersAsGet walks every GET route of the route table and compares GET and HEAD side
// by side: same status and headers (ETag, Cache-Control, Content-Type, Content-Length...), and
// no body for HEAD. Conditional requests are compared too.
func TestHeadAnswersAsGet(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", mug, auth, 201)
	p := decode[catalog.Product](t, b)
	e.do("POST", variantPath(p)+"/stock/adjustments", `{"delta":5,"reason":"received"}`, auth, 201)
	e.do("POST", "/attributes", `{"key":"colour","name":"Colour","type":"text"}`, auth, 201)
	_, b = e.do("POST", "/reservations", `{"lines":[{"sku":"MUG-1","quantity":1}]}`, auth, 201)
	res := decode[catalog.Reservation](t, b)
	for i := range 12 {
		e.do("POST", "/products", product("MUG-B"+strconv.Itoa(i), 1299), auth, 201)
	}
	values := map[string]string{"{id}": p.ID, "{variantID}": p.Variants[0].ID, "{sku}": "mug-1", "{slug}": "kitchen", "{key}": "colour", "{currency}": "USD"}

	// Headers that differ between any two requests by design.
	perRequest := []string{"Date", "X-Request-Id"}
	// The contract client does not know HEAD. Compression off: HEAD describes the uncoded
	// body (gzhttp never codes a HEAD answer), so GET is compared uncoded; compress_test
	// covers coded answers.
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	send := func(method, path string, h http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, e.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h.Clone()
		resp, err := plain.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	checked := 0
	for _, route := range e.srv.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if method != "GET" {
			continue
		}
		if strings.HasPrefix(path, "/reservations/") {
			path = strings.Replace(path, "{id}", res.ID, 1)
		}
		for k, v := range values {
			path = strings.ReplaceAll(path, k, v)
		}
		headers := []http.Header{{"Authorization": {"Bearer " + key}}}
		if path == "/products/"+p.ID || path == "/skus/mug-1" || strings.HasPrefix(path, variantPath(p)) || path == "/attributes/colour" {
			resp, _ := send("GET", path, nil)
			headers = append(headers, http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
		}
		for _, h := range headers {
			get, getBody := send("GET", path, h)
			head, headBody := send("HEAD", path, h)
			if len(headBody) != 0 {
				t.Errorf("HEAD %s sent a body of %d bytes", path, len(headBody))
			}
			if head.StatusCode != get.StatusCode {
				t.Errorf("%s with %v: HEAD status %d, GET %d", route, h, head.StatusCode, get.StatusCode)
				continue
			}
			// Every body has a length, however large (a list of 100
			// products is past net/http's 2 KiB buffer, where it stops setting one itself);
			// but a stream (GET /exports) is sent before its length is known.
			streamed := get.Header.Get("Content-Type") == "application/x-ndjson"
			if get.StatusCode == http.StatusOK && get.Header.Get("Content-Length") == "" && !streamed {
				t.Errorf("GET %s: no Content-Length (a HEAD cannot tell the size of the body)", path)
			}
			if cl := get.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(getBody)) {
				t.Errorf("GET %s: Content-Length %s, body %d bytes", path, cl, len(getBody))
			}
			names := map[string]bool{}
			for k := range get.Header {
				names[k] = true
			}
			for k := range head.Header {
				names[k] = true
			}
			for k := range names {
				if slices.Contains(perRequest, k) {
					continue
				}
				if g, h := get.Header.Values(k), head.Header.Values(k); !slices.Equal(g, h) {
					t.Errorf("%s: header %s: GET %q, HEAD %q", path, k, g, h)
				}
			}
			checked++
		}
	}
	if checked < 14 {
		t.Fatalf("compared %d GET routes, want every one of them", checked)
	}
}
