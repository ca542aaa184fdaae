// Package access decides who may do what: API keys with names and scopes, where the keys come
// from (an environment variable or a Secrets Manager secret re-read on an interval), the client
// address behind trusted proxies, per-client rate limits and CORS. The HTTP layer only glues it
// to routes.
package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
)

// Scope is one permission a key can hold.
type Scope uint8

// The scopes. Reads of what shoppers see need none.
const (
	// Read allows back-office reads: drafts, archived products, future prices, price actors,
	// stock movements and reservations.
	Read Scope = 1 << iota
	// Catalog allows writes to products, categories and prices.
	Catalog
	// Inventory allows stock adjustments.
	Inventory
	// Checkout allows reserving stock and committing or releasing reservations (and reading
	// them back).
	Checkout
)

// AllScopes is what a legacy bare key holds.
const AllScopes = Read | Catalog | Inventory | Checkout

var scopeNames = []struct {
	s    Scope
	name string
}{{Read, "read"}, {Catalog, "catalog"}, {Inventory, "inventory"}, {Checkout, "checkout"}}

// ParseScope returns the scope named name.
func ParseScope(name string) (Scope, bool) {
	for _, n := range scopeNames {
		if n.name == name {
			return n.s, true
		}
	}
	return 0, false
}

// Names lists the scopes in s in a fixed order.
func (s Scope) Names() []string {
	var out []string
	for _, n := range scopeNames {
		if s&n.s != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

func (s Scope) String() string { return strings.Join(s.Names(), ",") }

// Principal is an authenticated caller. The zero value is the anonymous public.
type Principal struct {
	// Name is the key's name: the actor in logs, movements and prices. Never the key.
	Name   string
	Scopes Scope
}

// Has reports whether p holds any of the scopes in s.
func (p Principal) Has(s Scope) bool { return p.Scopes&s != 0 }

// Anonymous reports whether no key was given.
func (p Principal) Anonymous() bool { return p.Name == "" }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller of a request; anonymous when none was authenticated.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// MinKeyLength refuses keys short enough to guess.
const MinKeyLength = 16

// LegacyActor is the actor of a bare key from before names existed: "apikey:" and the first 8
// hex digits of its SHA-256. Idempotency keys are scoped by actor, so it must stay stable.
func LegacyActor(digest [32]byte) string { return "apikey:" + hex.EncodeToString(digest[:4]) }

type entry struct {
	digest [32]byte
	p      Principal
}

// Set is an immutable set of keys, kept only as SHA-256 digests.
type Set struct {
	entries []entry
}

// Len returns the number of keys.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entries)
}

// Match returns the principal of key. Every key in the set is compared in constant time, match
// or not, so timing tells nothing about which key (or how much of one) was right.
func (s *Set) Match(key string) (Principal, bool) {
	if s == nil {
		return Principal{}, false
	}
	d := sha256.Sum256([]byte(key))
	var found Principal
	ok := 0
	for _, e := range s.entries {
		eq := subtle.ConstantTimeCompare(d[:], e.digest[:])
		if eq == 1 {
			found = e.p
		}
		ok |= eq
	}
	return found, ok == 1
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Builder collects keys and checks each as it is added.
type builder struct {
	set  Set
	errs []string
}

func (b *builder) add(where, name string, scopes []string, key, sha string) {
	bad := func(format string, args ...any) { b.errs = append(b.errs, where+": "+fmt.Sprintf(format, args...)) }
	if !namePattern.MatchString(name) {
		bad("name %q must be 1-63 lower-case letters, digits, '.', '-' or '_'", name)
		return
	}
	var s Scope
	for _, n := range scopes {
		sc, ok := ParseScope(strings.TrimSpace(n))
		if !ok {
			bad("scope %q is not one of read, catalog, inventory, checkout", n)
			return
		}
		s |= sc
	}
	if s == 0 {
		bad("key %q has no scopes", name)
		return
	}
	var d [32]byte
	switch {
	case key != "" && sha != "":
		bad("key %q has both key and sha256; give one", name)
		return
	case key != "":
		if len(key) < MinKeyLength || strings.ContainsAny(key, " \t\r\n") {
			bad("key %q must be at least %d characters without spaces", name, MinKeyLength)
			return
		}
		d = sha256.Sum256([]byte(key))
	default:
		raw, err := hex.DecodeString(strings.ToLower(sha))
		if err != nil || len(raw) != 32 {
			bad("key %q: sha256 must be 64 hex digits", name)
			return
		}
		copy(d[:], raw)
	}
	for _, e := range b.set.entries {
		if e.digest == d {
			bad("key %q repeats a key already listed", name)
			return
		}
	}
	b.set.entries = append(b.set.entries, entry{digest: d, p: Principal{Name: name, Scopes: s}})
}

func (b *builder) result() (*Set, error) {
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(b.errs, "; "))
	}
	return &b.set, nil
}

// Legacy returns a set of bare keys, each holding every scope under its legacy actor name.
func Legacy(keys []string) (*Set, error) {
	b := &builder{}
	for i, k := range keys {
		if len(k) < MinKeyLength {
			b.errs = append(b.errs, fmt.Sprintf("API key %d is %d characters; keys must have at least %d", i+1, len(k), MinKeyLength))
			continue
		}
		d := sha256.Sum256([]byte(k))
		b.set.entries = append(b.set.entries, entry{digest: d, p: Principal{Name: LegacyActor(d), Scopes: AllScopes}})
	}
	return b.result()
}

// ParseEnv reads API_KEYS. Entries are separated by ';', each "name:scope,scope:key" (the key
// may contain ':' but not ';' or spaces). A value with no ':' at all is the old format, bare keys
// separated by ',', each with every scope; legacy reports it so the caller can warn.
func ParseEnv(v string) (set *Set, legacy bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return &Set{}, false, nil
	}
	if !strings.Contains(v, ":") {
		var keys []string
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, k)
			}
		}
		set, err := Legacy(keys)
		return set, true, err
	}
	b := &builder{}
	n := 0
	for _, item := range strings.Split(v, ";") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		n++
		parts := strings.SplitN(item, ":", 3)
		if len(parts) != 3 {
			b.errs = append(b.errs, fmt.Sprintf("entry %d must be name:scopes:key", n))
			continue
		}
		b.add(fmt.Sprintf("entry %d", n), parts[0], strings.Split(parts[1], ","), parts[2], "")
	}
	set, err = b.result()
	return set, false, err
}

// SecretDocument is the JSON a Secrets Manager secret holds (API_KEYS_SECRET_ARN): a list of
// keys, or one key given at the top level ({"name","scopes","key"}), which is the only shape
// CloudFormation's GenerateSecretString can produce with a generated key (it adds the generated
// string as one top-level field of a JSON template).
type SecretDocument struct {
	Keys []SecretKey `json:"keys,omitempty"`
	SecretKey
}

// SecretKey is one key of a SecretDocument: its name, scopes, and either the key or its SHA-256
// in hex (prefer sha256: then the secret holds nothing a caller could use).
type SecretKey struct {
	Name   string   `json:"name,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	Key    string   `json:"key,omitempty"`
	SHA256 string   `json:"sha256,omitempty"`
}

// given reports whether any field of k is set.
func (k SecretKey) given() bool {
	return k.Name != "" || len(k.Scopes) > 0 || k.Key != "" || k.SHA256 != ""
}

// ParseSecret reads a SecretDocument.
func ParseSecret(doc []byte) (*Set, error) {
	var d SecretDocument
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("not a key document ({\"keys\":[{\"name\",\"scopes\",\"key\" or \"sha256\"}]} or one {\"name\",\"scopes\",\"key\" or \"sha256\"}): %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a key document: more than one JSON value")
	}
	keys, where := d.Keys, "keys[%d]"
	switch {
	case d.SecretKey.given() && len(d.Keys) > 0:
		return nil, fmt.Errorf("give keys or one top-level key, not both")
	case d.SecretKey.given():
		keys, where = []SecretKey{d.SecretKey}, "key"
	}
	b := &builder{}
	for i, k := range keys {
		at := fmt.Sprintf(where, i)
		if where == "key" {
			at = where
		}
		if k.Key == "" && k.SHA256 == "" {
			b.errs = append(b.errs, at+": give key or sha256")
			continue
		}
		b.add(at, k.Name, k.Scopes, k.Key, k.SHA256)
	}
	return b.result()
}

// Keyring holds the current key set; a refresher swaps it while requests read it.
type Keyring struct {
	cur atomic.Pointer[Set]
}

// NewKeyring returns a keyring holding s.
func NewKeyring(s *Set) *Keyring {
	k := &Keyring{}
	k.Store(s)
	return k
}

// Load returns the current set (never nil).
func (k *Keyring) Load() *Set {
	if k == nil {
		return &Set{}
	}
	if s := k.cur.Load(); s != nil {
		return s
	}
	return &Set{}
}

// Store replaces the current set.
func (k *Keyring) Store(s *Set) { k.cur.Store(s) }

// Names lists the distinct key names of s with their scopes, for a start-up log line.
func (s *Set) Names() []string {
	var out []string
	for _, e := range s.entries {
		n := e.p.Name + "=" + e.p.Scopes.String()
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
