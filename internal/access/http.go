package access

import (
	"fmt"
	"math"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rule is what a route asks of its caller: nothing (public), or a key holding any of Any.
type Rule struct {
	Any Scope
}

// Public is the rule of routes anyone may call.
var Public = Rule{}

// Need returns the rule "a key with one of scopes".
func Need(scopes ...Scope) Rule {
	var r Rule
	for _, s := range scopes {
		r.Any |= s
	}
	return r
}

// IsPublic reports whether the route needs no key.
func (r Rule) IsPublic() bool { return r.Any == 0 }

// Outcome is why a request may not go on.
type Outcome int

const (
	// Allowed: go on.
	Allowed Outcome = iota
	// NoKey: a private route without an Authorization header (401).
	NoKey
	// BadKey: an Authorization header that is not a valid bearer key, on any route (401): a
	// back-office client with a revoked key learns so at once instead of silently seeing the
	// public view.
	BadKey
	// MissingScope: a valid key without a scope the route needs (403).
	MissingScope
)

// Authorize authenticates r's bearer key against ring and checks it against rule.
func Authorize(r *http.Request, ring *Keyring, rule Rule) (Principal, Outcome) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if rule.IsPublic() {
			return Principal{}, Allowed
		}
		return Principal{}, NoKey
	}
	scheme, key, ok := strings.Cut(auth, " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return Principal{}, BadKey
	}
	p, ok := ring.Load().Match(key)
	if !ok {
		return Principal{}, BadKey
	}
	if !rule.IsPublic() && !p.Has(rule.Any) {
		return p, MissingScope
	}
	return p, Allowed
}

var rateLimitPolicyKey, rateLimitKey = textproto.CanonicalMIMEHeaderKey("RateLimit-Policy"), textproto.CanonicalMIMEHeaderKey("RateLimit")

// SetRateLimitHeaders writes the RateLimit-Policy and RateLimit fields of
// draft-ietf-httpapi-ratelimit-headers-10 (Structured Field lists: a policy named policy with
// quota q over window w seconds; remaining r and seconds to reset t), and Retry-After (whole
// seconds, rounded up) when refused. A server answering every request uses RateLimitFields,
// which makes the policy's field once.
func SetRateLimitHeaders(h http.Header, policy string, l Limit, d Decision) {
	NewRateLimitFields(policy, l).Set(h, d, nil)
}

// RateLimitFields writes one policy's rate-limit fields (see SetRateLimitHeaders). The
// RateLimit-Policy value depends on the policy alone: it is made once and shared by every
// answer (net/http only reads header values).
type RateLimitFields struct {
	quoted string   // the policy's name as a Structured Field string
	policy []string // RateLimit-Policy's value, length and capacity 1: an append copies
}

// NewRateLimitFields returns the fields of policy with limit l.
func NewRateLimitFields(policy string, l Limit) *RateLimitFields {
	// A bucket of Burst tokens refilling at Rate a second: the quota over the time it takes to
	// refill from empty.
	window := max(1, int(math.Ceil(float64(l.Burst)/l.Rate)))
	quoted := strconv.Quote(policy)
	v := quoted + ";q=" + strconv.Itoa(l.Burst) + ";w=" + strconv.Itoa(window)
	return &RateLimitFields{quoted: quoted, policy: []string{v}}
}

// Set writes the fields for decision d. value, when given, holds the RateLimit field's value
// (a request's own storage), so the field costs its string and nothing else.
func (f *RateLimitFields) Set(h http.Header, d Decision, value *[1]string) {
	var buf [80]byte
	b := append(buf[:0], f.quoted...)
	b = strconv.AppendInt(append(b, ";r="...), int64(d.Remaining), 10)
	b = strconv.AppendInt(append(b, ";t="...), int64(math.Ceil(d.Reset.Seconds())), 10)
	if value == nil || len(h[rateLimitKey]) > 0 {
		// A second decision for one answer must not overwrite the storage of the first's.
		value = new([1]string)
	}
	value[0] = string(b)
	setShared(h, rateLimitPolicyKey, f.policy)
	setShared(h, rateLimitKey, value[:])
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))))
	}
}

// setShared adds the values vs (length 1, capacity 1) under the canonical key: as Header.Add
// does, but a field not set yet takes vs itself instead of a new slice.
func setShared(h http.Header, key string, vs []string) {
	if old := h[key]; len(old) > 0 {
		h[key] = append(old, vs...)
		return
	}
	h[key] = vs[:1:1]
}

// CORS answers browsers from the configured origins. With none, no CORS header is ever sent and
// browsers keep other sites' pages from reading the API's answers.
type CORS struct {
	any     bool
	origins []string
	// MaxAge is how long a browser may cache a preflight answer.
	MaxAge time.Duration
}

// NewCORS checks origins: each "*" or a scheme://host[:port] origin. "*" must stand alone; the
// API never allows credentials (it authenticates with a bearer header, which needs none), so "*"
// can never be combined with them.
func NewCORS(origins []string) (*CORS, error) {
	c := &CORS{MaxAge: 10 * time.Minute}
	for _, o := range origins {
		if o == "*" {
			c.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not an origin like https://shop.example.com", o)
		}
		c.origins = append(c.origins, strings.ToLower(o))
	}
	if c.any && len(c.origins) > 0 {
		return nil, fmt.Errorf(`"*" allows every origin; list no others beside it`)
	}
	return c, nil
}

// Enabled reports whether any origin is allowed.
func (c *CORS) Enabled() bool { return c != nil && (c.any || len(c.origins) > 0) }

// Allowed reports whether origin may read responses.
func (c *CORS) Allowed(origin string) bool {
	return c.Enabled() && origin != "" && (c.any || slices.Contains(c.origins, strings.ToLower(origin)))
}

// Headers sets the CORS response fields of an ordinary (not preflight) request. Vary: Origin
// goes on every response when CORS is on, so a shared cache never hands one origin's answer to
// another.
func (c *CORS) Headers(h http.Header, origin string) {
	if !c.Enabled() {
		return
	}
	h.Add("Vary", "Origin")
	if !c.Allowed(origin) {
		return
	}
	if c.any {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Catalog-Read-After")
}

// ExposedRequestHeaders are the request fields a browser may send.
const ExposedRequestHeaders = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id, Catalog-Read-After"

// Preflight sets the fields of a preflight answer for a path allowing methods; it reports false
// when origin is not allowed (the caller refuses it).
func (c *CORS) Preflight(h http.Header, origin string, methods []string) bool {
	c.Headers(h, origin)
	h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	if !c.Allowed(origin) {
		return false
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	h.Set("Access-Control-Allow-Headers", ExposedRequestHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	return true
}
