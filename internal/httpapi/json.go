package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/acme/catalog/internal/catalog"
)

// Limits on request bodies. They are checked while the body is tokenised, before any Go value
// is built, so a body full of tiny array elements or object members costs at most a few
// hundred tokens before it is refused, never a materialised 200,000-element slice.
const (
	// MaxBodyBytes bounds a request body. A product with every field at its limit fits well
	// within.
	MaxBodyBytes = 1 << 20
	// MaxJSONDepth bounds nesting; the deepest legitimate body (reservation lines) has 3 levels.
	MaxJSONDepth = 8
	// MaxJSONItems bounds any array (the longest legitimate one is a reservation's lines).
	MaxJSONItems = catalog.MaxReservationLines
	// MaxJSONMembers bounds any object (the largest legitimate one is a product's attributes).
	MaxJSONMembers = 64
	// MaxJSONString bounds any string or member name as written, escapes included: the longest
	// text field (description) with every character a 12-byte escaped surrogate pair, rounded
	// up. The rules per field (in characters) come after decoding.
	MaxJSONString = 64 << 10
	// MaxJSONNumber bounds a number literal's length: an int64 has at most 20 characters.
	MaxJSONNumber = 32
	// BodyReadTimeout is the default bound on reading a request body (Options.BodyReadTimeout).
	// It is shorter than the server's ReadTimeout, so a client that stalls half-way gets a 408
	// with the JSON error shape instead of a connection closed without a word.
	BodyReadTimeout = 10 * time.Second
	// MaxHeaderBytes bounds a request's line and header fields (Options.MaxHeaderBytes); over it
	// the answer is a JSON 431.
	MaxHeaderBytes = 64 << 10
	// ServerMaxHeaderBytes is what http.Server.MaxHeaderBytes should be: twice ours. net/http
	// answers a request over its own limit (plus 4 KiB of read buffer) with a plain-text 431
	// written before any handler runs, and offers no hook to change it; replacing that would
	// mean parsing HTTP/1.1 request framing in a connection wrapper. So net/http's limit is set
	// above ours: requests between the two get our JSON 431, and only those over twice the
	// limit see net/http's "431 Request Header Fields Too Large" in text/plain, with
	// Connection: close.
	ServerMaxHeaderBytes = 2 * MaxHeaderBytes
)

// errTooLarge, errMediaType and errBodyTimeout are answered with their own statuses (413, 415,
// 408).
var (
	errTooLarge    = errors.New("request body too large")
	errMediaType   = errors.New("unsupported media type")
	errBodyTimeout = errors.New("request body not received in time")
)

// bodySpec says what a body must hold beyond what its Go type says.
type bodySpec struct {
	// required lists JSON pointers that must be present and not null whenever their parent
	// object is present: a zero amount is a price, a missing one is a mistake. A "*" token
	// stands for every element of an array ("/variants/*/prices/*/amount").
	required []string
	// maxItems bounds arrays and objects at the given pointers more tightly than the general
	// limits, so the refusal comes while tokenising.
	maxItems map[string]int
	// mergePatch accepts application/merge-patch+json (RFC 7396) as well as application/json.
	mergePatch bool
}

// Specs of the bodies. A list's own limit is refused while tokenising, before a Go value
// exists; the 2,048 variants of a product are the one list longer than MaxJSONItems.
var (
	productLists = map[string]int{
		"/media": catalog.MaxMedia, "/options": catalog.MaxOptions, "/attributes": catalog.MaxAttributes,
	}
	productSpec = bodySpec{
		required: []string{"/name", "/category", "/variants", "/variants/*/sku", "/variants/*/prices",
			"/variants/*/prices/*/currency", "/variants/*/prices/*/amount", "/media/*/url", "/options/*/name", "/options/*/values"},
		maxItems: withItems(productLists, "/variants", catalog.MaxVariants),
	}
	// A replace has no variants; a body naming them gets a 422 after decoding, so the list is
	// still bounded as on create.
	replaceSpec = bodySpec{required: []string{"/name", "/category", "/media/*/url", "/options/*/name", "/options/*/values"},
		maxItems: productSpec.maxItems}
	productPatchSpec = bodySpec{required: []string{"/media/*/url", "/options/*/name", "/options/*/values"},
		maxItems: productSpec.maxItems, mergePatch: true}
	variantLists = map[string]int{"/prices": catalog.MaxPricesPerVariant, "/attributes": catalog.MaxAttributes,
		"/options": catalog.MaxOptions}
	variantSpec = bodySpec{required: []string{"/sku", "/prices", "/prices/*/currency", "/prices/*/amount"},
		maxItems: variantLists}
	variantPatchSpec = bodySpec{required: []string{"/prices/*/currency", "/prices/*/amount"},
		maxItems: variantLists, mergePatch: true}
	priceSpec     = bodySpec{required: []string{"/amount"}}
	attributeSpec = bodySpec{required: []string{"/key", "/name", "/type"},
		maxItems: map[string]int{"/values": catalog.MaxEnumValues}}
	attributeReplaceSpec = bodySpec{required: []string{"/name", "/type"}, maxItems: attributeSpec.maxItems}
	reservationSpec      = bodySpec{maxItems: map[string]int{"/lines": catalog.MaxReservationLines}}
	plainSpec            = bodySpec{}
	patchSpec            = bodySpec{mergePatch: true}
)

func withItems(m map[string]int, ptr string, n int) map[string]int {
	out := map[string]int{ptr: n}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// bodyShape is what tokenising saw of a body's top-level object: for each member, whether it
// was null. A PATCH handler uses it to tell an absent member from an explicit null, which Go
// pointers decoded from JSON cannot.
type bodyShape struct {
	members map[string]bool // name -> is null
}

// Present reports whether the body's top-level object has member name, and whether it is null.
func (b *bodyShape) Present(name string) (present, null bool) {
	if b == nil {
		return false, false
	}
	null, present = b.members[name]
	return present, null
}

// decodeJSON reads exactly one JSON value into v through the one path every body takes: media
// type, size, read deadline, a tokenising pass that enforces the limits and spec.required and
// refuses duplicate names and invalid UTF-8, then a strict decode (encoding/json/v2 semantics:
// names match exactly, unknown names and trailing data are refused).
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, spec bodySpec) (*bodyShape, error) {
	if err := checkMediaType(r.Header.Get("Content-Type"), spec.mergePatch); err != nil {
		return nil, err
	}
	b, err := readBody(w, r, s.bodyReadTimeout)
	if err != nil {
		return nil, err
	}
	shape, missing, err := scanJSON(b, spec)
	if err != nil {
		return nil, err
	}
	if err := jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, decodeError(err)
	}
	// Missing members are reported after unknown and mistyped ones: a misspelt "amuont" is
	// better reported as unknown than "amount" as missing.
	return shape, missing
}

// checkMediaType accepts application/json (and, for a merge patch, application/merge-patch+json)
// with no charset or charset=utf-8: JSON is UTF-8 (RFC 8259 section 8.1), and a body declared
// in another charset would otherwise be read as if it were UTF-8.
func checkMediaType(ct string, mergePatch bool) error {
	if ct == "" {
		return errMediaType
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errMediaType
	}
	if mt != "application/json" && !(mergePatch && mt == "application/merge-patch+json") {
		return errMediaType
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errMediaType
	}
	return nil
}

// readBody reads the whole body, at most MaxBodyBytes, within timeout.
func readBody(w http.ResponseWriter, r *http.Request, timeout time.Duration) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, errTooLarge
	}
	// The connection's read deadline, replacing the server's ReadTimeout for this request, so
	// a stalled body ends in a 408 we write. Not every ResponseWriter supports it (httptest's
	// recorder does not); the server's ReadTimeout still applies then.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var b []byte
	var err error
	if r.ContentLength > 0 {
		// One allocation of the announced size: net/http delivers exactly that many bytes.
		b = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, b)
	} else {
		var buf bytes.Buffer // chunked: grows to at most about twice MaxBodyBytes
		_, err = buf.ReadFrom(body)
		b = buf.Bytes()
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return b, nil
	case errors.As(err, &mbe):
		return nil, errTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, errBodyTimeout
	default:
		return nil, catalog.InvalidField("body", "could not be read completely: %v", err)
	}
}

// scanJSON tokenises b, refusing syntax errors, duplicate names, invalid UTF-8 and anything over
// the limits (err), and checks spec.required (missing). It builds no values: a refusal costs at
// most the tokens read before the limit was passed.
func scanJSON(b []byte, spec bodySpec) (shape *bodyShape, missing, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil, catalog.InvalidField("body", "is empty: send a JSON object")
	}
	// The objects whose members are required, as patterns ("/variants/*"), with those members
	// (at most 64 per object), and the depths such objects are at.
	need := map[string][]string{}
	depths := map[int]bool{}
	for _, p := range spec.required {
		ptr := jsontext.Pointer(p)
		parent := string(ptr.Parent())
		need[parent] = append(need[parent], ptr.LastToken())
	}
	for parent := range need {
		depths[strings.Count(parent, "/")+1] = true
	}
	// open holds the objects being read that have required members: their depth, where they
	// are, and which required members were seen with a value other than null.
	type object struct {
		depth int
		need  []string // its required members
		next  int      // the index in need of the member whose value comes next, or -1
		seen  uint64   // bit i: need[i] was seen with a value other than null
	}
	var patBuf []byte // reused: a pattern is built for every object at a watched depth
	var open []*object
	var p catalog.Problems
	shape = &bodyShape{members: map[string]bool{}}
	// A *bytes.Buffer is parsed in place, without a copy into the decoder's own buffer.
	dec := jsontext.NewDecoder(bytes.NewBuffer(b))
	for {
		start := dec.InputOffset()
		tok, err := dec.ReadToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, syntaxError(err)
		}
		depth := dec.StackDepth()
		kind := tok.Kind()
		// The pointer is built only where it is needed: building it for every token of a body
		// with long names deep down would cost more than the body.
		ptr := func() jsontext.Pointer { return dec.StackPointer() }
		// Sizes are read from the input offsets (the token as written, separators included):
		// no copy of a megabyte-long string or number is made to measure it.
		size := dec.InputOffset() - start
		switch kind {
		case '{', '[':
			if depth > MaxJSONDepth {
				return nil, nil, catalog.InvalidField(fieldOf(ptr()), "nests deeper than %d levels", MaxJSONDepth)
			}
		case '"':
			if size > MaxJSONString {
				return nil, nil, catalog.InvalidField(fieldOf(ptr()), "must be at most %d bytes as written", MaxJSONString)
			}
		case '0':
			if size > MaxJSONNumber {
				return nil, nil, catalog.InvalidField(fieldOf(ptr()), "is a number of more than %d characters", MaxJSONNumber)
			}
		}
		// Count the elements of the container the token belongs to: the one it is in, or for an
		// opening token the one around the container it opens.
		level := depth
		if kind == '{' || kind == '[' {
			level--
		}
		if level >= 1 {
			ck, n := dec.StackIndex(level)
			limit, what := MaxJSONItems, "items"
			if ck == '{' {
				n = (n + 1) / 2 // names and values are counted separately
				limit, what = MaxJSONMembers, "entries"
			}
			// Whatever the token, its container's pointer is its own pointer's parent.
			if level == 2 && len(spec.maxItems) > 0 { // per-member limits: members of the root
				if l, ok := spec.maxItems[string(ptr().Parent())]; ok {
					limit = l
				}
			}
			if int(n) > limit {
				return nil, nil, catalog.InvalidField(fieldOf(ptr().Parent()), "must have at most %d %s", limit, what)
			}
		}
		isName := depth >= 1 && kind == '"' && func() bool { k, n := dec.StackIndex(depth); return k == '{' && n%2 == 1 }()
		if len(need) > 0 {
			var top *object
			if len(open) > 0 {
				top = open[len(open)-1]
			}
			switch {
			case kind == '}' && top != nil && depth == top.depth-1:
				// The object closes: every required member it lacks is a problem. Its pointer is
				// the decoder's now (the value just read), built only when something is missing.
				for i, m := range top.need {
					if top.seen&(1<<i) == 0 {
						p.Add(fieldOf(ptr().AppendToken(m)), "is required")
					}
				}
				open = open[:len(open)-1]
			case isName && top != nil && depth == top.depth:
				top.next = slices.Index(top.need, tok.String())
			case !isName && kind != '}' && kind != ']' && top != nil && level == top.depth:
				if kind != 'n' && top.next >= 0 {
					top.seen |= 1 << top.next
				}
			}
			if kind == '{' && depths[depth] {
				patBuf = appendPattern(patBuf[:0], dec, ptr())
				if members := need[string(patBuf)]; members != nil { // no allocation for the lookup
					open = append(open, &object{depth: depth, need: members, next: -1})
				}
			}
		}
		if isName || kind == '}' || kind == ']' {
			continue
		}
		if level == 1 { // a member of the root (for an opening token, level is its container's)
			if k, _ := dec.StackIndex(1); k == '{' {
				shape.members[ptr().LastToken()] = kind == 'n'
			}
		}
	}
	return shape, p.Err(), nil
}

// pointerEscaper escapes a JSON Pointer token (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// appendPattern appends ptr with every array index written "*", the form bodySpec.required
// uses: an index is a token of a level whose container is an array.
func appendPattern(b []byte, dec *jsontext.Decoder, ptr jsontext.Pointer) []byte {
	level := 1
	for tok := range ptr.Tokens() {
		b = append(b, '/')
		if k, _ := dec.StackIndex(level); k == '[' {
			b = append(b, '*')
		} else if strings.ContainsAny(tok, "~/") {
			b = append(b, pointerEscaper.Replace(tok)...)
		} else {
			b = append(b, tok...)
		}
		level++
	}
	return b
}

// syntaxError turns a tokenising error into an invalid-input error naming where it happened.
func syntaxError(err error) error {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return catalog.InvalidField("body", "cannot be read: %v", err)
	}
	field := fieldOf(se.JSONPointer)
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return catalog.InvalidField(field, "appears more than once")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return catalog.InvalidField("body", "ends before the JSON value is complete")
	case strings.Contains(se.Err.Error(), "invalid UTF-8"):
		// jsontext has no sentinel for this; its message is fixed in its source.
		return catalog.InvalidField(field, "must be valid UTF-8 (at byte %d)", se.ByteOffset)
	}
	return catalog.InvalidField(field, "is not valid JSON (at byte %d: %v)", se.ByteOffset, se.Err)
}

// decodeError turns a strict-decode error into an invalid-input error naming the field.
func decodeError(err error) error {
	var sem *jsonv2.SemanticError
	if !errors.As(err, &sem) {
		return syntaxError(err)
	}
	field := fieldOf(sem.JSONPointer)
	switch {
	case errors.Is(err, jsonv2.ErrUnknownName):
		return catalog.InvalidField(field, "is not a known field (names are case-sensitive)")
	case sem.GoType == reflect.TypeFor[time.Time]():
		return catalog.InvalidField(field, "must be an RFC 3339 date-time string, like 2026-12-01T09:00:00Z")
	case sem.GoType != nil:
		return catalog.InvalidField(field, "must be a JSON %s, not %s", jsonKind(sem.GoType.Kind().String()), kindName(sem.JSONKind, sem.JSONValue))
	}
	return catalog.InvalidField(field, "cannot be decoded")
}

// fieldOf names the field at a JSON pointer the way validation does: "price.amount",
// "lines[2].sku". A name that is not printable is quoted, so the error body stays readable.
func fieldOf(p jsontext.Pointer) string {
	if p == "" {
		return "body"
	}
	var b strings.Builder
	for tok := range p.Tokens() {
		switch {
		case tok == "":
			b.WriteString(`[""]`) // a member named "" must still name a field
		case strings.Trim(tok, "0123456789") == "" && len(tok) < 10:
			b.WriteString("[" + tok + "]")
		case len(tok) > 64 || catalog.TextProblem(tok, catalog.Identifier) != "" || strings.ContainsAny(tok, ".[]"):
			if len(tok) > 64 {
				tok = tok[:64]
			}
			b.WriteString("[" + strconv.QuoteToASCII(tok) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		}
	}
	return b.String()
}

func kindName(k jsontext.Kind, v jsontext.Value) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		if len(v) > 0 && len(v) <= MaxJSONNumber {
			return "the number " + string(v) + " (out of range or not whole)"
		}
		return "a number out of range"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "this value"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "integer"
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return goKind
}

// writeJSON writes v with status. Encoding into a buffer first means a value that cannot be
// encoded becomes a 500, not half a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	bp := bodyBuffers.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBody {
			bodyBuffers.Put(bp)
		}
	}()
	body, ok, err := appendBody((*bp)[:0], v) // products and pages: encode.go
	if !ok || err != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			http.Error(w, `{"error":{"code":"internal","message":"encode response"}}`, http.StatusInternalServerError)
			return
		}
		body = buf.Bytes()
	} else {
		*bp = body
	}
	w.Header().Set("Content-Type", "application/json")
	// An explicit length, so a HEAD tells the size of any body and large ones are not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// bodyBuffers keep the buffers products and pages are encoded into: a Write never keeps its
// argument (io.Writer's contract), so one is free again when writeJSON returns. A buffer grown
// past maxPooledBody (a 2,000-variant product) is left to the collector.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

const maxPooledBody = 256 << 10
