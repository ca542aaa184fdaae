// Package hostile generates the bad input a public API meets: NUL bytes, invalid UTF-8, bidi
// overrides and terminal escapes in every place a string travels (body, path, query, header,
// cursor), huge numbers, deep nesting, huge arrays and maps, duplicate and case-variant names,
// missing required members and wrong media types. The handler tests, the fuzz targets and the
// bench's bad-input storm all draw from it, so a class of defect found once is probed
// everywhere. Check states what every answer to such input must satisfy.
package hostile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// Targets are existing resources the requests refer to, so that requests reach the store
// instead of stopping at a 404.
type Targets struct {
	ProductID string // an existing product
	VariantID string // a variant of ProductID
	Category  string // an existing category slug
	SKU       string // the SKU of VariantID
	Attribute string // a defined, filterable attribute key ("" when none)
}

// VariantPath is the path of the target variant. Without a VariantID it names the product's ID
// as its variant, which is right for a product migrated from before variants (its only variant
// kept its ID) and, for any other, still reaches every route's checks that come before the
// store.
func (t Targets) VariantPath() string {
	v := t.VariantID
	if v == "" {
		v = t.ProductID
	}
	return "/products/" + t.ProductID + "/variants/" + v
}

// Request is one hostile request. Want is the status it must get (0: any 4xx) and Field the
// field its error must name ("" when not checked).
type Request struct {
	Name   string
	Method string
	Path   string // escaped path and query, as sent on the wire
	Header http.Header
	Body   []byte
	Want   int
	Field  string
}

// Key is the bearer key the requests authenticate with; a server under test must accept it.
const Key = "hostile-key-0123456789abcdef"

// Strings are hostile values for a string field, each as a JSON string literal's content
// (escaped), except the raw invalid UTF-8 ones, which are bytes.
var Strings = []string{
	`a\u0000b`,                   // NUL: PostgreSQL refuses it in text
	"\xff\xfe",                   // invalid UTF-8, raw
	"ok\xc3",                     // truncated UTF-8 sequence, raw
	`\u001b[31mred\u001b[0m`,     // terminal escape
	`\u009b2J`,                   // C1 control (CSI)
	`evil\u202egnp.exe`,          // bidi override
	`zero\u200bwidth`,            // zero-width space
	`\ud800`,                     // lone surrogate (decoders replace it or refuse it)
	strings.Repeat("x", 6000),    // over every length limit
	strings.Repeat(`\u00e9`, 70), // fine as text, too long for a SKU
}

// PathStrings are hostile path segments and query values, %-escaped.
var PathStrings = []string{"%00", "%FF", "%FF%FE", "%1B%5B2J", "%E2%80%AE", "a%00b", "%C3", strings.Repeat("z", 300)}

// product is a valid product body for Targets.Category; fields are substituted into it.
func product(cat, sku string) map[string]any {
	return map[string]any{
		"name": "Hostile mug", "category": cat, "status": "active",
		"variants": []any{map[string]any{"sku": sku, "prices": []any{map[string]any{"currency": "USD", "amount": 1299}}}},
	}
}

// ownFields is a product's own fields for Targets.Category: the body of a PUT.
func ownFields(cat string) map[string]any {
	return map[string]any{"name": "Hostile mug", "category": cat, "status": "active"}
}

// Variants returns a product body for category cat with n variants, each a combination of two
// options (100 values by up to 21) with a price in two currencies: at n = catalog.MaxVariants
// (2,048) the largest product a client may create.
func Variants(cat string, n int) []byte {
	var b bytes.Buffer
	values := func(k int) {
		for i := range k {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%d"`, i)
		}
	}
	fmt.Fprintf(&b, `{"name":"Many","category":%q,"status":"active","options":[{"name":"A","values":[`, cat)
	values(min(n, 100))
	b.WriteString(`]},{"name":"B","values":[`)
	values(max(1, (n+99)/100))
	b.WriteString(`]}],"variants":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"MANY-%d","options":{"A":"%d","B":"%d"},"prices":[{"currency":"USD","amount":%d},{"currency":"EUR","amount":%d}]}`,
			i, i%100, i/100, i, i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func authed(ct string) http.Header {
	h := http.Header{"Authorization": {"Bearer " + Key}}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

// Catalogue returns every hostile request reproduced in issue 14, each with the answer it must
// get.
func Catalogue(t Targets) []Request {
	pid, vp := t.ProductID, t.VariantPath()
	valid := string(mustJSON(product(t.Category, "HOSTILE-1")))
	var rs []Request
	add := func(name, method, path string, h http.Header, body string, want int, field string) {
		rs = append(rs, Request{Name: name, Method: method, Path: path, Header: h, Body: []byte(body), Want: want, Field: field})
	}
	// 1. Strings at the edge.
	add("NUL in description", "POST", "/products", authed("application/json"),
		strings.Replace(valid, `"name"`, `"description":"a\u0000b","name"`, 1), 400, "description")
	add("invalid UTF-8 in description", "POST", "/products", authed("application/json"),
		strings.Replace(valid, `"name"`, "\"description\":\"\xff\xfe\",\"name\"", 1), 400, "description")
	add("bidi override in name", "POST", "/products", authed("application/json"),
		strings.Replace(valid, `"Hostile mug"`, `"Mug\u202e"`, 1), 400, "name")
	add("escape in brand", "POST", "/products", authed("application/json"),
		strings.Replace(valid, `"name"`, `"brand":"\u001b]0;x\u0007","name"`, 1), 400, "brand")
	idem := authed("application/json")
	idem["Idempotency-Key"] = []string{"\xff\xfe"}
	add("Idempotency-Key with 0xff 0xfe", "POST", "/reservations", idem,
		`{"lines":[{"sku":"`+t.SKU+`","quantity":1}]}`, 400, "Idempotency-Key")
	idemAdj := authed("application/json")
	idemAdj["Idempotency-Key"] = []string{"key\xff"}
	add("Idempotency-Key with invalid UTF-8 on an adjustment", "POST", vp+"/stock/adjustments", idemAdj,
		`{"delta":1,"reason":"received"}`, 400, "Idempotency-Key")
	for _, seg := range []string{"%FF", "%00"} {
		add("category path "+seg, "GET", "/categories/"+seg, nil, "", 400, "slug")
		add("sku path "+seg, "GET", "/skus/A"+seg+"B", nil, "", 400, "sku")
		add("product path "+seg, "GET", "/products/"+seg, nil, "", 400, "id")
		add("variant path "+seg, "GET", "/products/"+pid+"/variants/"+seg, nil, "", 400, "variantID")
		add("currency path "+seg, "PUT", vp+"/prices/"+seg, authed("application/json"), `{"amount":1}`, 400, "currency")
		add("attribute path "+seg, "GET", "/attributes/"+seg, nil, "", 400, "key")
		add("attribute filter "+seg, "GET", "/products?attr.colour="+seg, nil, "", 400, "")
		add("attribute filter name "+seg, "GET", "/products?attr."+seg+"=x", nil, "", 400, "")
		add("brand query "+seg, "GET", "/products?brand="+seg, nil, "", 400, "brand")
		add("q query "+seg, "GET", "/products?q=a"+seg, nil, "", 400, "q")
		add("category query "+seg, "GET", "/products?category="+seg, nil, "", 400, "category")
	}
	add("category PATCH path %00", "PATCH", "/categories/a%00", authed("application/json"), `{"name":"x"}`, 400, "slug")
	// Collections (issue 15): paths, the filter, names and the membership list.
	for _, seg := range []string{"%FF", "%00"} {
		add("collection path "+seg, "GET", "/collections/"+seg, nil, "", 400, "slug")
		add("collection products path "+seg, "GET", "/collections/a"+seg+"/products", nil, "", 400, "slug")
		add("collection query "+seg, "GET", "/products?collection="+seg, nil, "", 400, "collection")
	}
	// Lean pages (issue 16): fields= on lists and single reads.
	for _, path := range []string{"/products", "/products/" + pid, vp, "/skus/" + t.SKU, "/collections/hostile/products"} {
		for _, seg := range []string{"%FF", "%00", "id,%E2%80%AEname", strings.Repeat("id,", 5000) + "id", "variants.variants.sku", "__proto__"} {
			add("fields "+truncateName(seg)+" on "+path, "GET", path+"?fields="+seg, nil, "", 400, "")
		}
	}
	add("NUL in collection name", "POST", "/collections", authed("application/json"), `{"slug":"hostile","name":"a\u0000b"}`, 400, "name")
	add("bidi override in a product id", "POST", "/collections/hostile/products", authed("application/json"), `{"product_ids":["evil\u202egnp"]}`, 400, "product_ids[0]")
	add("200,000 product ids", "PUT", "/collections/hostile/products", authed("application/json"), `{"product_ids":[`+strings.Repeat(`"x",`, 200_000)+`"x"]}`, 400, "product_ids")
	add("forged cursor with NUL key", "GET", "/products?sort=name&cursor="+ForgedCursor("name", "mug\x00"), nil, "", 400, "cursor")
	add("forged cursor with a time out of range", "GET", "/products?sort=newest&cursor="+ForgedCursor("newest", strconv.FormatInt(-1<<63, 10)), nil, "", 400, "cursor")
	add("forged cursor with a time past year 9999", "GET", "/products?sort=oldest&cursor="+ForgedCursor("oldest", strconv.FormatInt(1<<62, 10)), nil, "", 400, "cursor")

	// 2. Bounded decoding.
	add("200,000 media", "POST", "/products", authed("application/json"), string(HugeArrayBody(valid, "media", 200_000)), 400, "media")
	add("3,000 variants", "POST", "/products", authed("application/json"), string(Variants(t.Category, 3000)), 400, "variants")
	add("200,000 options", "PATCH", "/products/"+pid, authed("application/json"), string(HugeArrayBody(`{}`, "options", 200_000)), 400, "options")
	add("200,000 prices on a variant", "POST", "/products/"+pid+"/variants", authed("application/json"),
		string(HugeArrayBody(`{"sku":"HOSTILE-V"}`, "prices", 200_000)), 400, "prices")
	add("90,000 enum values", "POST", "/attributes", authed("application/json"),
		string(HugeArrayBody(`{"key":"k","name":"K","type":"enum"}`, "values", 90_000)), 400, "values")
	add("90,000 attributes", "POST", "/products", authed("application/json"), string(HugeMapBody(valid, "attributes", 90_000)), 400, "attributes")
	add("20,000 reservation lines", "POST", "/reservations", authed("application/json"), string(HugeLines(20_000)), 400, "lines")
	add("deep nesting", "POST", "/products", authed("application/json"), strings.Repeat(`{"a":`, 10_000)+"1"+strings.Repeat("}", 10_000), 400, "")
	add("deep arrays", "POST", "/reservations", authed("application/json"), `{"lines":`+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+`}`, 400, "")
	add("a body over 1 MiB", "POST", "/products", authed("application/json"), `{"description":"`+strings.Repeat("x", 2<<20)+`"}`, 413, "")

	// 3. Strict JSON.
	add("duplicate name", "POST", "/products", authed("application/json"), strings.Replace(valid, `"name"`, `"name":"Other","name"`, 1), 400, "name")
	add("duplicate sku", "POST", "/products", authed("application/json"), strings.Replace(valid, `"sku"`, `"sku":"OTHER-1","sku"`, 1), 400, "variants[0].sku")
	add("case-variant SKU", "POST", "/products", authed("application/json"), strings.Replace(valid, `"sku"`, `"SKU"`, 1), 400, "variants[0].SKU")
	add("case-variant Name", "POST", "/products", authed("application/json"), strings.Replace(valid, `"name"`, `"Name"`, 1), 400, "Name")
	add("trailing data", "POST", "/products", authed("application/json"), valid+` {}`, 400, "")
	add("unknown field", "POST", "/products", authed("application/json"), strings.Replace(valid, `"name"`, `"colour":"red","name"`, 1), 400, "colour")

	// 4. Required means present.
	noAmount := strings.Replace(valid, `,"amount":1299`, ``, 1)
	noAmount = strings.Replace(noAmount, `"amount":1299,`, ``, 1)
	add("POST without a price's amount", "POST", "/products", authed("application/json"), noAmount, 400, "variants[0].prices[0].amount")
	add("POST with a null price amount", "POST", "/products", authed("application/json"), strings.Replace(valid, `1299`, `null`, 1), 400, "variants[0].prices[0].amount")
	noSKU := strings.NewReplacer(`,"sku":"HOSTILE-1"`, ``, `"sku":"HOSTILE-1",`, ``).Replace(valid)
	add("POST without a variant's sku", "POST", "/products", authed("application/json"), noSKU, 400, "variants[0].sku")
	add("POST variant without a price's amount", "POST", "/products/"+pid+"/variants", authed("application/json"),
		`{"sku":"HOSTILE-V","prices":[{"currency":"USD"}]}`, 400, "prices[0].amount")
	add("PATCH variant without a price's amount", "PATCH", vp, authed("application/json"), `{"prices":[{"currency":"EUR"}]}`, 400, "prices[0].amount")
	add("PUT with variants", "PUT", "/products/"+pid, authed("application/json"), valid, 422, "variants")
	add("PATCH with variants", "PATCH", "/products/"+pid, authed("application/json"), `{"variants":[]}`, 422, "variants")
	add("PUT price without amount", "PUT", vp+"/prices/USD", authed("application/json"), `{"compare_at":5}`, 400, "amount")
	add("PUT price with the currency in the body", "PUT", vp+"/prices/USD", authed("application/json"), `{"currency":"EUR","amount":5}`, 400, "currency")

	// 5. Media types.
	add("no Content-Type", "POST", "/products", authed(""), valid, 415, "")
	add("charset utf-16", "POST", "/products", authed("application/json; charset=utf-16"), valid, 415, "")
	add("text/plain", "POST", "/categories", authed("text/plain"), `{"slug":"x","name":"x"}`, 415, "")
	add("merge-patch on POST", "POST", "/products", authed("application/merge-patch+json"), valid, 415, "")

	// 7. Numbers bounded before arithmetic.
	add("ttl_seconds overflowing a duration", "POST", "/reservations", authed("application/json"),
		`{"lines":[{"sku":"`+t.SKU+`","quantity":1}],"ttl_seconds":18446744104}`, 400, "ttl_seconds")
	add("negative ttl_seconds", "POST", "/reservations", authed("application/json"),
		`{"lines":[{"sku":"`+t.SKU+`","quantity":1}],"ttl_seconds":-9223372036854775808}`, 400, "ttl_seconds")
	add("amount beyond int64", "POST", "/products", authed("application/json"), strings.Replace(valid, `1299`, `92233720368547758070`, 1), 400, "variants[0].prices[0].amount")
	add("amount 1e400", "POST", "/products", authed("application/json"), strings.Replace(valid, `1299`, `1e400`, 1), 400, "variants[0].prices[0].amount")
	add("price beyond int64", "PUT", vp+"/prices/USD", authed("application/json"), `{"amount":92233720368547758070}`, 400, "amount")
	add("weight beyond int64", "PATCH", vp, authed("application/json"), `{"weight_grams":1e30}`, 400, "weight_grams")
	add("attribute filter range 1e400", "GET", "/products?attr.colour=1e400..", nil, "", 400, "")
	add("delta beyond int64", "POST", vp+"/stock/adjustments", authed("application/json"), `{"delta":-9223372036854775809,"reason":"received"}`, 400, "delta")
	add("limit beyond int", "GET", "/products?limit=99999999999999999999999", nil, "", 400, "limit")
	add("movements limit beyond int", "GET", vp+"/stock/movements?limit=-9223372036854775808", authed(""), "", 400, "limit")
	add("min_price beyond int64", "GET", "/products?currency=USD&min_price=9223372036854775808", nil, "", 400, "min_price")
	return rs
}

// ForgedCursor returns a cursor a client could forge for GET /products?sort=<sort> (no other
// parameter): the API's encoding with any key. The filter fingerprint is not a secret (FNV-1a
// of the filter), so a forger computes it as the catalog does; catalog's tests check that this
// one is accepted with a benign key.
func ForgedCursor(sort, key string) string {
	h := fnv.New64a()
	h.Write([]byte(sort + "||[active]||||||"))
	b := mustJSON(map[string]any{"v": 1, "s": sort, "k": key, "i": "01900000-0000-7000-8000-000000000000",
		"f": strconv.FormatUint(h.Sum64(), 36)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// HugeArrayBody returns valid (a JSON object) with member name set to an array of n short strings.
func HugeArrayBody(valid, name string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"` + name + `":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"x"`)
	}
	b.WriteString("],")
	b.WriteString(strings.TrimPrefix(valid, "{"))
	return b.Bytes()
}

// HugeMapBody returns valid with member name set to an object of n short entries.
func HugeMapBody(valid, name string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"` + name + `":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%x":""`, i)
	}
	b.WriteString("},")
	b.WriteString(strings.TrimPrefix(valid, "{"))
	return b.Bytes()
}

// HugeLines returns a reservation with n lines.
func HugeLines(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"lines":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"S-%d","quantity":1}`, i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// bodyRoutes are the routes that take a body, with a valid body each.
func bodyRoutes(t Targets) []Request {
	h := authed("application/json")
	return []Request{
		{Method: "POST", Path: "/products", Header: h, Body: mustJSON(product(t.Category, "HOSTILE-2"))},
		{Method: "PUT", Path: "/products/" + t.ProductID, Header: h, Body: mustJSON(ownFields(t.Category))},
		{Method: "PATCH", Path: "/products/" + t.ProductID, Header: h, Body: []byte(`{"name":"Renamed","media":[{"url":"https://x.example/a.jpg","alt":"a"}],"options":null}`)},
		{Method: "POST", Path: "/categories", Header: h, Body: []byte(`{"slug":"hostile-cat","name":"Hostile","parent":"` + t.Category + `"}`)},
		{Method: "PATCH", Path: "/categories/" + t.Category, Header: h, Body: []byte(`{"name":"Renamed"}`)},
		{Method: "POST", Path: t.VariantPath() + "/stock/adjustments", Header: h, Body: []byte(`{"delta":1,"reason":"received","note":"n"}`)},
		{Method: "PUT", Path: t.VariantPath() + "/prices/USD", Header: h, Body: []byte(`{"amount":5,"compare_at":9}`)},
		{Method: "POST", Path: "/reservations", Header: h, Body: []byte(`{"lines":[{"sku":"` + t.SKU + `","quantity":1}],"ttl_seconds":60}`)},
		{Method: "POST", Path: "/products/" + t.ProductID + "/variants", Header: h,
			Body: []byte(`{"sku":"HOSTILE-3","barcode":"4006381333931","weight_grams":10,"prices":[{"currency":"EUR","amount":5}]}`)},
		{Method: "PATCH", Path: t.VariantPath(), Header: h, Body: []byte(`{"sku":"` + t.SKU + `","purchase_limit":5,"attributes":{"note":"x"}}`)},
		{Method: "POST", Path: "/attributes", Header: h, Body: []byte(`{"key":"hostile","name":"Hostile","type":"enum","values":["a","b"],"filterable":true}`)},
	}
}

// BodyRoutes returns how many routes with a body Body can aim at.
func BodyRoutes() int { return 11 }

// Body returns a request to body route i (modulo BodyRoutes) carrying body as is, so a fuzzer's
// bytes reach the real decoder of every route.
func Body(t Targets, i int, body []byte) Request {
	r := bodyRoutes(t)[i%BodyRoutes()]
	r.Name, r.Body = "fuzzed body", body
	return r
}

// Query returns a GET /products request with the raw query string q, so a fuzzer's bytes reach
// the real query parser.
func Query(q string) Request {
	return Request{Name: "fuzzed query", Method: "GET", Path: "/products?" + q}
}

// Generator draws hostile requests aimed at its targets. It is safe for concurrent use when each
// caller passes its own rng.
type Generator struct {
	t         Targets
	catalogue []Request // built once: some bodies are a megabyte
}

// NewGenerator returns a Generator for t.
func NewGenerator(t Targets) *Generator { return &Generator{t: t, catalogue: Catalogue(t)} }

// Random returns a hostile request drawn from rng: a catalogue entry, or a valid request with
// one hostile change (a string in a body field, path or query; a number; a duplicate or
// case-variant name; a wrong media type; an unknown method). Requests share body slices: do not
// modify them.
func (g *Generator) Random(rng *rand.Rand) Request {
	t := g.t
	switch rng.IntN(8) {
	case 0:
		return g.catalogue[rng.IntN(len(g.catalogue))]
	case 1: // a hostile string into a random string member of a random body
		r := bodyRoutes(t)[rng.IntN(BodyRoutes())]
		r.Name = "hostile string in a body"
		r.Body = replaceString(rng, r.Body, Strings[rng.IntN(len(Strings))])
		return r
	case 2: // a hostile path segment
		seg := PathStrings[rng.IntN(len(PathStrings))]
		paths := []string{"/products/" + seg, "/skus/" + seg, "/categories/" + seg, "/reservations/" + seg, "/attributes/" + seg,
			"/products/" + seg + "/variants", "/products/" + t.ProductID + "/variants/" + seg + "/stock",
			"/products/" + seg + "/variants/" + t.VariantID + "/prices"}
		return Request{Name: "hostile path", Method: "GET", Path: paths[rng.IntN(len(paths))]}
	case 3: // a hostile query value or name
		seg := PathStrings[rng.IntN(len(PathStrings))]
		names := []string{"brand", "q", "category", "currency", "status", "sort", "cursor", "limit", "min_price", seg, "attr." + seg, "attr.colour"}
		return Query(names[rng.IntN(len(names))] + "=" + seg)
	case 4: // a huge or fractional number into a random number member
		r := bodyRoutes(t)[rng.IntN(BodyRoutes())]
		r.Name = "hostile number"
		nums := []string{"1e400", "-1e400", "18446744104", "9223372036854775808", "-9223372036854775809", "1.5", "0.0000001", strings.Repeat("9", 400)}
		r.Body = replaceNumber(rng, r.Body, nums[rng.IntN(len(nums))])
		return r
	case 5: // a duplicate or case-variant name
		r := bodyRoutes(t)[rng.IntN(BodyRoutes())]
		r.Name = "duplicate or case-variant name"
		if i := bytes.IndexByte(r.Body, '"'); i >= 0 {
			end := bytes.IndexByte(r.Body[i+1:], '"') + i + 1
			name := r.Body[i+1 : end]
			if rng.IntN(2) == 0 {
				r.Body = append([]byte(`{"`+strings.ToUpper(string(name))+`":1,`), r.Body[1:]...)
			} else {
				r.Body = append([]byte(`{"`+string(name)+`":1,`), r.Body[1:]...)
			}
		}
		return r
	case 6: // a wrong or missing media type
		r := bodyRoutes(t)[rng.IntN(BodyRoutes())]
		r.Name = "wrong media type"
		r.Header = r.Header.Clone()
		cts := []string{"", "text/plain", "application/json; charset=utf-16", "application/json; charset=latin1", "application/xml", "multipart/form-data; boundary=x", "application/json;;"}
		if ct := cts[rng.IntN(len(cts))]; ct == "" {
			r.Header.Del("Content-Type")
		} else {
			r.Header.Set("Content-Type", ct)
		}
		r.Want = 415
		return r
	default: // an unknown method
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteByte(byte('A' + rng.IntN(26)))
		}
		return Request{Name: "unknown method", Method: b.String(), Path: []string{"/products", "/categories", "/nowhere"}[rng.IntN(3)]}
	}
}

// replaceString puts s (JSON string content) in place of one string value of body.
func replaceString(rng *rand.Rand, body []byte, s string) []byte {
	var spans [][2]int
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		j := bytes.IndexByte(body[i+1:], '"') + i + 1
		if j+1 < len(body) && body[j+1] != ':' { // a value, not a name
			spans = append(spans, [2]int{i + 1, j})
		}
		i = j
	}
	if len(spans) == 0 {
		return body
	}
	sp := spans[rng.IntN(len(spans))]
	return append(append(append([]byte{}, body[:sp[0]]...), s...), body[sp[1]:]...)
}

// replaceNumber puts n in place of one number value of body (or appends nothing if none).
func replaceNumber(rng *rand.Rand, body []byte, n string) []byte {
	var spans [][2]int
	for i := 0; i < len(body); i++ {
		if body[i] == ':' && i+1 < len(body) && (body[i+1] == '-' || body[i+1] >= '0' && body[i+1] <= '9') {
			j := i + 1
			for j < len(body) && strings.IndexByte("-+.eE0123456789", body[j]) >= 0 {
				j++
			}
			spans = append(spans, [2]int{i + 1, j})
		}
	}
	if len(spans) == 0 {
		return body
	}
	sp := spans[rng.IntN(len(spans))]
	return append(append(append([]byte{}, body[:sp[0]]...), n...), body[sp[1]:]...)
}

// HTTP returns r as an *http.Request to base (scheme and host).
func (r Request) HTTP(base string) (*http.Request, error) {
	req, err := http.NewRequest(r.Method, base+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	if len(r.Body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	return req, nil
}

// errorShape is the API's error body, as much as Check reads.
type errorShape struct {
	Error struct {
		Code   string `json:"code"`
		Fields []struct {
			Field   string `json:"field"`
			Problem string `json:"problem"`
		} `json:"fields"`
	} `json:"error"`
}

// Check states what every answer to hostile input must satisfy: no 5xx; every 4xx has the JSON
// error shape, and one with code invalid names at least one field with a problem; and when r
// says which status and field it must get, it gets them.
func Check(r Request, status int, body []byte) error {
	if status >= 500 {
		return fmt.Errorf("%s: %s %s got %d: %.300s", r.Name, r.Method, r.Path, status, body)
	}
	if r.Want != 0 && status != r.Want {
		return fmt.Errorf("%s: %s %s got %d, want %d: %.300s", r.Name, r.Method, r.Path, status, r.Want, body)
	}
	if status < 400 {
		return nil
	}
	var e errorShape
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return fmt.Errorf("%s: %s %s got %d without the JSON error shape: %.300s", r.Name, r.Method, r.Path, status, body)
	}
	if e.Error.Code == "invalid" {
		if len(e.Error.Fields) == 0 || e.Error.Fields[0].Field == "" || e.Error.Fields[0].Problem == "" {
			return fmt.Errorf("%s: %s %s got an invalid-input error naming no field: %.300s", r.Name, r.Method, r.Path, body)
		}
	}
	if r.Field != "" {
		for _, f := range e.Error.Fields {
			if f.Field == r.Field {
				return nil
			}
		}
		return fmt.Errorf("%s: %s %s: the error does not name %q: %.300s", r.Name, r.Method, r.Path, r.Field, body)
	}
	return nil
}

// truncateName keeps a case's name readable when its value is long.
func truncateName(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
