package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/apitest"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/httpapi"
)

// longMug is a product whose JSON is above httpapi.CompressMinSize on its own.
func longMug(sku string) string {
	return `{"name":"Long mug","category":"kitchen","status":"active","variants":[{"sku":"` + sku +
		`","prices":[{"currency":"USD","amount":1299}]}],"description":"` +
		strings.Repeat("A glazed stoneware mug that keeps tea hot. ", 40) + `"}`
}

func varies(resp *http.Response) bool {
	for _, v := range resp.Header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Encoding") {
				return true
			}
		}
	}
	return false
}

// TestCompressedResponses: a large list is compressed in the coding the client accepts, a small
// response is not, and both say Vary: Accept-Encoding so a shared cache keeps them apart.
func TestCompressedResponses(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.do("POST", "/products", strings.Replace(mug, "MUG-1", "MUG-"+strconv.Itoa(i), 1), auth, 201)
	}
	for _, tc := range []struct{ accept, coding string }{
		{"gzip", "gzip"},
		{"zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"}, // zstd preferred at equal weight
		{"zstd;q=0.5, gzip", "gzip"},        // weights respected
		{"br", ""},                          // nothing we send
		{"identity", ""},
		{"gzip;q=0", ""},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			resp, b := e.do("GET", "/products?limit=100", "", map[string]string{"Accept-Encoding": tc.accept}, 200)
			if got := resp.Header.Get("Content-Encoding"); got != tc.coding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.coding)
			}
			if !varies(resp) {
				t.Fatalf("no Vary: Accept-Encoding: %v", resp.Header)
			}
			var page struct{ Items []catalog.Product }
			if err := json.Unmarshal(apitest.Decode(t, resp, b), &page); err != nil || len(page.Items) != 30 {
				t.Fatalf("decoded page: %d items, %v", len(page.Items), err)
			}
			if tc.coding != "" && len(b) >= len(apitest.Decode(t, resp, b))/2 {
				t.Fatalf("%d bytes coded, %d plain: not compressed", len(b), len(apitest.Decode(t, resp, b)))
			}
		})
	}

	// A product of a few hundred bytes goes out as it is, still with Vary.
	_, b := e.do("GET", "/products?limit=1", "", nil, 200)
	id := decode[struct{ Items []catalog.Product }](t, b).Items[0].ID
	resp, b := e.do("GET", "/products/"+id, "", map[string]string{"Accept-Encoding": "gzip, zstd"}, 200)
	if resp.Header.Get("Content-Encoding") != "" || len(b) >= httpapi.CompressMinSize || !varies(resp) {
		t.Fatalf("small product: Content-Encoding %q, %d bytes, Vary %q", resp.Header.Get("Content-Encoding"), len(b), resp.Header.Values("Vary"))
	}
	if resp.Header.Get("ETag") == "" || strings.Contains(resp.Header.Get("ETag"), "-gzip") {
		t.Fatalf("uncompressed product ETag %q", resp.Header.Get("ETag"))
	}

	// Errors stay problem documents, whatever the client accepts.
	resp, b = e.do("GET", "/products/"+catalog.NewID(), "", map[string]string{"Accept-Encoding": "gzip, zstd"}, 404)
	var problem map[string]any
	if err := json.Unmarshal(apitest.Decode(t, resp, b), &problem); err != nil || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Fatalf("error body %q (%s): %v", b, resp.Header.Get("Content-Type"), err)
	}
	resp, b = e.do("GET", "/products?limit=0&sort=nope&"+strings.Repeat("status=bogus&", 200), "", map[string]string{"Accept-Encoding": "gzip"}, 400)
	if err := json.Unmarshal(apitest.Decode(t, resp, b), &problem); err != nil || !varies(resp) {
		t.Fatalf("error body %q: %v", b, err)
	}
}

// TestCompressedETagRevalidates: a compressed product carries its coding in its ETag
// ("1.1-gzip"), and revalidating with that tag gives a 304 naming the same tag, on the public
// path (the product read) and the private one (versions only), for GET and HEAD.
func TestCompressedETagRevalidates(t *testing.T) {
	e := newEnv(t)
	_, b := e.do("POST", "/products", longMug("LONG-1"), auth, 201)
	p := decode[catalog.Product](t, b)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	resp, b := e.do("GET", "/products/"+p.ID, "", gz, 200)
	tag := resp.Header.Get("ETag")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasSuffix(tag, `-gzip"`) {
		t.Fatalf("large product: Content-Encoding %q, ETag %q", resp.Header.Get("Content-Encoding"), tag)
	}
	if got := decode[catalog.Product](t, apitest.Decode(t, resp, b)); got.ID != p.ID {
		t.Fatalf("decoded product %q", got.ID)
	}
	plain := strings.Replace(tag, "-gzip", "", 1)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		held    string
		want    int
	}{
		{"public, coded tag", with(gz, "If-None-Match", tag), tag, 304},
		{"public, weak coded tag", with(gz, "If-None-Match", "W/"+tag), tag, 304},
		{"public, plain tag", with(gz, "If-None-Match", plain), plain, 304},
		{"public, zstd tag", with(gz, "If-None-Match", strings.Replace(tag, "-gzip", "-zstd", 1)), strings.Replace(tag, "-gzip", "-zstd", 1), 304},
		{"public, among others", with(gz, "If-None-Match", `"9.9-gzip", `+tag), tag, 304},
		{"private, coded tag", with(with(gz, "If-None-Match", tag), "Authorization", auth["Authorization"]), tag, 304},
		{"public, stale coded tag", with(gz, "If-None-Match", `"0.1-gzip"`), "", 200},
		{"public, unknown coding", with(gz, "If-None-Match", strings.Replace(tag, "-gzip", "-br", 1)), "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := e.do("GET", "/products/"+p.ID, "", tc.headers, tc.want)
			if tc.want == 304 && resp.Header.Get("ETag") != tc.held {
				t.Fatalf("304 ETag %q, want %q", resp.Header.Get("ETag"), tc.held)
			}
			if tc.want == 200 && resp.Header.Get("ETag") != tag {
				t.Fatalf("200 ETag %q, want %q", resp.Header.Get("ETag"), tag)
			}
			if !varies(resp) {
				t.Fatalf("no Vary: %v", resp.Header)
			}
		})
	}

	// HEAD describes the uncoded representation (gzhttp never codes a HEAD answer): its
	// length and its plain ETag, with Vary; and a client holding the coded one still gets
	// its 304.
	req, _ := http.NewRequest("HEAD", e.url+"/products/"+p.ID, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	head, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	_, identity := e.do("GET", "/products/"+p.ID, "", map[string]string{"Accept-Encoding": "identity"}, 200)
	if head.StatusCode != 200 || head.Header.Get("Content-Encoding") != "" || head.Header.Get("ETag") != plain ||
		head.Header.Get("Content-Length") != strconv.Itoa(len(identity)) || !varies(head) {
		t.Fatalf("HEAD: %d, Content-Encoding %q, ETag %q, Content-Length %q (GET identity %d bytes)",
			head.StatusCode, head.Header.Get("Content-Encoding"), head.Header.Get("ETag"), head.Header.Get("Content-Length"), len(identity))
	}
	req.Header.Set("If-None-Match", tag)
	head, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 304 || head.Header.Get("ETag") != tag {
		t.Fatalf("HEAD revalidation: %d, ETag %q", head.StatusCode, head.Header.Get("ETag"))
	}
}
