package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/catalog"
	"github.com/prometheus/client_golang/prometheus"
)

// Keys is the set of API keys the server checks, swapped in place when a key source refreshes.
type Keys = access.Keyring

// NewKeys returns a keyring of bare keys (the format before scopes): each holds every scope.
func NewKeys(keys []string) (*Keys, error) {
	set, err := access.Legacy(keys)
	if err != nil {
		return nil, err
	}
	return access.NewKeyring(set), nil
}

// RateLimits are the per-client limits. A request with a valid key is limited by its key name
// (a checkout service's many calls come from few addresses); every other request by its client
// address.
type RateLimits struct {
	PerIP, PerKey *access.Limiter
	// TrustedProxyHops is how many proxies in front of the service append to X-Forwarded-For.
	TrustedProxyHops int
}

const codeForbidden, codeRateLimited = "forbidden", "rate_limited"

// private registers a route that needs a key holding one of rule's scopes.
func (s *Server) private(pattern string, rule access.Rule, h http.HandlerFunc) {
	s.rules[pattern] = rule
	s.handle(pattern, h)
}

// RouteRule returns what the route pattern asks of its caller (public for routes registered
// without a rule).
func (s *Server) RouteRule(pattern string) access.Rule { return s.rules[pattern] }

// principal returns the request's caller (anonymous without a key).
func principal(r *http.Request) access.Principal { return access.FromContext(r.Context()) }

// canRead reports whether the caller may see back-office data: drafts, archived products,
// scheduled prices and who set prices.
func canRead(r *http.Request) bool { return principal(r).Has(access.Read) }

// visible hides a product the caller may not see behind the very error a missing one gets, so
// ids and SKUs of unreleased products cannot be probed.
func visible(r *http.Request, p catalog.Product) error {
	if p.Status != catalog.StatusActive && !canRead(r) {
		return catalog.ErrProductNotFound
	}
	return nil
}

func forbidden(w http.ResponseWriter, r *http.Request, need access.Scope, what string) {
	writeProblem(w, r, http.StatusForbidden, errorDetail{Code: codeForbidden,
		Message:       what + " needs an API key with the " + strings.Join(need.Names(), " or ") + " scope",
		MissingScopes: need.Names()})
}

// guard runs before a routed handler: CORS fields, rate limits, authentication and scopes. It
// returns the request to serve (carrying the caller) or nil when it has answered already.
func (s *Server) guard(w http.ResponseWriter, r *http.Request, pattern string) *http.Request {
	s.cors.Headers(w.Header(), r.Header.Get("Origin"))
	rule := s.rules[pattern]
	p, outcome := access.Authorize(r, s.keys, rule)
	// The load balancer's health checks are never limited: refusing them would take tasks out.
	if pattern != "GET /health" && pattern != "GET /ready" && !s.allow(w, r, p, outcome) {
		return nil
	}
	switch outcome {
	case access.NoKey:
		w.Header().Set("WWW-Authenticate", `Bearer realm="catalog"`)
		msg := "this endpoint needs an API key: send Authorization: Bearer <key>"
		if s.keys.Load().Len() == 0 {
			msg = "this endpoint is disabled: the server has no API keys configured (set API_KEYS or API_KEYS_SECRET_ARN)"
		}
		problem(w, r, http.StatusUnauthorized, codeUnauthorized, msg)
		return nil
	case access.BadKey:
		w.Header().Set("WWW-Authenticate", `Bearer realm="catalog", error="invalid_token"`)
		problem(w, r, http.StatusUnauthorized, codeUnauthorized, "the API key is not valid")
		return nil
	case access.MissingScope:
		forbidden(w, r, rule.Any, r.Method+" "+pattern)
		return nil
	}
	if p.Anonymous() {
		if rule.IsPublic() {
			// The answer differs for a key (drafts, scheduled prices): caches key on it.
			addVaryAuthorization(w.Header())
		}
		return r
	}
	if slot := info(r.Context()); slot != nil {
		slot.actor = p.Name
	}
	ctx := access.WithPrincipal(catalog.WithActor(r.Context(), p.Name), p)
	return r.WithContext(ctx)
}

// varyEncodingAuthorization is the Vary of a public answer: compressed's Accept-Encoding, then
// Authorization. Shared by every such answer (length = capacity: an append copies).
var varyEncodingAuthorization = []string{"Accept-Encoding", "Authorization"}

// addVaryAuthorization adds Authorization to Vary as Header.Add would, without growing the
// slice compressed made when it holds just Accept-Encoding, as it does on every request.
func addVaryAuthorization(h http.Header) {
	if v := h["Vary"]; len(v) == 1 && v[0] == "Accept-Encoding" {
		h["Vary"] = varyEncodingAuthorization
		return
	}
	h.Add("Vary", "Authorization")
}

// rateLimitFields are the fields of the per-address and per-key limits (nil when unset).
func rateLimitFields(l *RateLimits) (perIP, perKey *access.RateLimitFields) {
	if l == nil {
		return nil, nil
	}
	if l.PerIP != nil {
		perIP = access.NewRateLimitFields("per-address", l.PerIP.Limit())
	}
	if l.PerKey != nil {
		perKey = access.NewRateLimitFields("per-key", l.PerKey.Limit())
	}
	return perIP, perKey
}

// allow applies the rate limit of the request's client: its key when valid, its address
// otherwise (requests with a bad key too, so guessing keys is limited).
func (s *Server) allow(w http.ResponseWriter, r *http.Request, p access.Principal, outcome access.Outcome) bool {
	if s.limits == nil {
		return true
	}
	lim, fields, policy, client := s.limits.PerIP, s.ipFields, "per-address", ""
	if !p.Anonymous() && outcome != access.BadKey {
		lim, fields, policy, client = s.limits.PerKey, s.keyFields, "per-key", "key:"+p.Name
	}
	if lim == nil || lim.Limit().Off() {
		return true
	}
	if client == "" {
		client = access.ClientAddr(r, s.limits.TrustedProxyHops)
	}
	d := lim.Allow(client)
	var value *[1]string // the RateLimit field's value, kept with the request when it has one
	if slot := info(r.Context()); slot != nil {
		value = &slot.rateLimit
	}
	fields.Set(w.Header(), d, value)
	if d.Allowed {
		return true
	}
	if s.refused != nil {
		s.refused.WithLabelValues(policy).Inc()
	}
	problem(w, r, http.StatusTooManyRequests, codeRateLimited, "too many requests from this "+strings.TrimPrefix(policy, "per-")+"; retry after the time in Retry-After")
	return false
}

// options answers OPTIONS on a routed path: a CORS preflight from an allowed origin gets the
// methods and fields it may use, one from another origin 403, a plain OPTIONS the Allow list.
func (s *Server) options(w http.ResponseWriter, r *http.Request, allow string) {
	methods := strings.Split(allow, ", ")
	methods = slices.DeleteFunc(methods, func(m string) bool { return m == "" || m == http.MethodOptions })
	w.Header().Set("Allow", strings.Join(append(methods, http.MethodOptions), ", "))
	origin := r.Header.Get("Origin")
	if origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		if !s.cors.Preflight(w.Header(), origin, methods) {
			problem(w, r, http.StatusForbidden, codeForbidden, "the origin "+origin+" is not allowed (CORS_ALLOWED_ORIGINS)")
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// privateWriter marks every answer to a keyed request private, whatever the handler set: a
// shared cache (the edge, a corporate proxy) must never keep a back-office view and hand it to
// the public.
type privateWriter struct {
	http.ResponseWriter
	done bool
}

func (p *privateWriter) WriteHeader(status int) {
	if !p.done {
		p.done = true
		p.Header().Set("Cache-Control", "private, no-store")
	}
	p.ResponseWriter.WriteHeader(status)
}

func (p *privateWriter) Write(b []byte) (int, error) {
	if !p.done {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

func (p *privateWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// newRefusals counts rate-limit refusals by policy (two values: a bounded label).
func newRefusals(m *Metrics) *prometheus.CounterVec {
	if m == nil {
		return nil
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "catalog_rate_limited_total", Help: "Requests refused with 429 by policy: per-address or per-key.",
	}, []string{"policy"})
	m.Registry.MustRegister(c)
	return c
}
