package access

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	secretA = "backoffice-0123456789abcdef"
	secretB = "checkout-0123456789abcdef:x" // a key may hold ':'
)

func TestParseEnvNamedKeys(t *testing.T) {
	set, legacy, err := ParseEnv(" backoffice:read,catalog:" + secretA + " ; checkout:checkout:" + secretB + ";")
	if err != nil || legacy {
		t.Fatalf("ParseEnv: legacy %v, err %v", legacy, err)
	}
	for key, want := range map[string]Principal{
		secretA: {Name: "backoffice", Scopes: Read | Catalog},
		secretB: {Name: "checkout", Scopes: Checkout},
	} {
		if p, ok := set.Match(key); !ok || p != want {
			t.Errorf("Match(%q) = %+v, %v; want %+v", key, p, ok, want)
		}
	}
	for _, wrong := range []string{"", secretA + "x", secretA[:len(secretA)-1], strings.ToUpper(secretA), "backoffice"} {
		if p, ok := set.Match(wrong); ok {
			t.Errorf("Match(%q) accepted as %+v", wrong, p)
		}
	}
}

// Bare keys keep working, with every scope and the actor they always had, so idempotency keys
// scoped by actor still replay after the upgrade.
func TestParseEnvLegacyKeys(t *testing.T) {
	set, legacy, err := ParseEnv(" key-one-0123456789 ,, key-two-0123456789 ")
	if err != nil || !legacy || set.Len() != 2 {
		t.Fatalf("ParseEnv: %d keys, legacy %v, err %v", set.Len(), legacy, err)
	}
	d := sha256.Sum256([]byte("key-two-0123456789"))
	p, ok := set.Match("key-two-0123456789")
	if !ok || p.Scopes != AllScopes || p.Name != "apikey:"+hex.EncodeToString(d[:4]) {
		t.Fatalf("legacy key: %+v %v", p, ok)
	}
	if _, _, err := ParseEnv("short"); err == nil {
		t.Fatal("a short bare key was accepted")
	}
}

func TestParseEnvRefusesBadEntries(t *testing.T) {
	for _, v := range []string{
		"backoffice:read:short",                        // key too short
		"Backoffice:read:" + secretA,                   // upper-case name
		"backoffice:admin:" + secretA,                  // unknown scope
		"backoffice::" + secretA,                       // no scope
		"backoffice:" + secretA,                        // no scopes part
		"a:read:" + secretA + ";b:catalog:" + secretA,  // the same key twice
		"a:read:" + secretA + " with spaces",           // spaces in a key
		"a:read," + strings.Repeat("x", 0) + ":" + "k", // short
	} {
		if _, _, err := ParseEnv(v); err == nil {
			t.Errorf("ParseEnv(%q) accepted", v)
		} else if strings.Contains(err.Error(), secretA) {
			t.Errorf("ParseEnv(%q): the error shows the key: %v", v, err)
		}
	}
}

func TestParseSecret(t *testing.T) {
	d := sha256.Sum256([]byte(secretB))
	doc := `{"keys":[{"name":"backoffice","scopes":["read","catalog"],"key":"` + secretA + `"},
		{"name":"checkout","scopes":["checkout"],"sha256":"` + hex.EncodeToString(d[:]) + `"}]}`
	set, err := ParseSecret([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := set.Match(secretB); !ok || p != (Principal{Name: "checkout", Scopes: Checkout}) {
		t.Fatalf("key given by its SHA-256: %+v %v", p, ok)
	}
	for _, bad := range []string{
		`{"keys":[{"name":"a","scopes":["read"]}]}`,
		`{"keys":[{"name":"a","scopes":["read"],"sha256":"abc"}]}`,
		`{"keys":[{"name":"a","scopes":["read"],"key":"` + secretA + `","sha256":"` + hex.EncodeToString(d[:]) + `"}]}`,
		`{"keys":[{"name":"a","scopes":["read"],"key":"` + secretA + `","extra":1}]}`,
		`[]`, `not json`,
		// One key at the top level and a list at once: which one counts would be a guess.
		`{"keys":[{"name":"a","scopes":["read"],"key":"` + secretA + `"}],"name":"b","scopes":["read"],"key":"` + secretB + `"}`,
		`{"name":"a","scopes":["read"]}`,
		`{"name":"a","scopes":["read"],"key":"` + secretA + `"} {}`,
	} {
		if _, err := ParseSecret([]byte(bad)); err == nil {
			t.Errorf("ParseSecret(%s) accepted", bad)
		}
	}
}

// TestParseSecretOneTopLevelKey: the shape CloudFormation's GenerateSecretString makes (a JSON
// template plus the generated string as one top-level field) is a document of one key.
func TestParseSecretOneTopLevelKey(t *testing.T) {
	set, err := ParseSecret([]byte(`{"name":"admin","scopes":["read","catalog","inventory","checkout"],"key":"` + secretA + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := set.Match(secretA); !ok || p != (Principal{Name: "admin", Scopes: AllScopes}) {
		t.Fatalf("top-level key: %+v %v", p, ok)
	}
	if set.Len() != 1 {
		t.Fatalf("top-level key: %d keys, want 1", set.Len())
	}
}

// FuzzParseSecretForms: a key given at the top level is accepted exactly when the same key
// given as the only entry of "keys" is, with the same principal.
func FuzzParseSecretForms(f *testing.F) {
	f.Add("admin", "read,catalog", secretA, "")
	f.Add("a", "", "short", "")
	f.Add("Bad Name", "read", secretA, "00")
	f.Fuzz(func(t *testing.T, name, scopes, key, sha string) {
		k := SecretKey{Name: name, Key: key, SHA256: sha}
		if scopes != "" {
			k.Scopes = strings.Split(scopes, ",")
		}
		if !utf8.ValidString(name + scopes + key + sha) {
			return // JSON would carry a replacement character, not the key
		}
		if !k.given() {
			return // an empty object is an empty document in both forms
		}
		top, _ := json.Marshal(k)
		list, _ := json.Marshal(SecretDocument{Keys: []SecretKey{k}})
		a, errA := ParseSecret(top)
		b, errB := ParseSecret(list)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: %v; %s: %v", top, errA, list, errB)
		}
		if errA != nil {
			return
		}
		if key != "" {
			pa, okA := a.Match(key)
			pb, okB := b.Match(key)
			if !okA || !okB || pa != pb {
				t.Fatalf("%s: %+v %v; %s: %+v %v", top, pa, okA, list, pb, okB)
			}
		}
	})
}

func TestAuthorize(t *testing.T) {
	set, _, err := ParseEnv("reader:read:" + secretA + ";checkout:checkout:" + secretB)
	if err != nil {
		t.Fatal(err)
	}
	ring := NewKeyring(set)
	for _, c := range []struct {
		auth string
		rule Rule
		want Outcome
	}{
		{"", Public, Allowed},
		{"", Need(Read), NoKey},
		{"Bearer nope-0123456789abcdef", Public, BadKey},
		{"Basic " + secretA, Need(Read), BadKey},
		{"Bearer ", Need(Read), BadKey},
		{"Bearer " + secretA, Need(Read), Allowed},
		{"bearer  " + secretA, Need(Read), Allowed},
		{"Bearer " + secretA, Need(Checkout), MissingScope},
		{"Bearer " + secretB, Need(Read, Checkout), Allowed},
		{"Bearer " + secretB, Public, Allowed},
	} {
		r := httptestRequest(c.auth)
		if _, got := Authorize(r, ring, c.rule); got != c.want {
			t.Errorf("Authorize(%q, %v) = %v, want %v", c.auth, c.rule.Any, got, c.want)
		}
	}
	// A swapped set takes effect at once (a refresh from the secret).
	ring.Store(&Set{})
	if _, got := Authorize(httptestRequest("Bearer "+secretA), ring, Need(Read)); got != BadKey {
		t.Fatalf("a revoked key: %v", got)
	}
}

// FuzzParseEnv: no input panics, and whatever is accepted holds only keys long enough, each
// with at least one scope.
func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{"", "a:read:" + secretA, "k1-0123456789abcdef,k2-0123456789abcdef", ";;:", "a:read,read,:" + secretA, "a:b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		set, _, err := ParseEnv(v)
		if err != nil {
			return
		}
		for _, e := range set.entries {
			if e.p.Scopes == 0 || e.p.Name == "" {
				t.Fatalf("ParseEnv(%q) accepted %+v", v, e.p)
			}
		}
	})
}
