package config

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// passwordShapes embed a password in the ways people write connection strings, including the
// ways that do not parse as a URL (an unescaped / @ ? # or %, a non-numeric port).
var passwordShapes = []func(pw string) string{
	func(pw string) string { return "postgres://app:" + pw + "@db.internal:5432/catalog?sslmode=require" },
	func(pw string) string { return "postgresql://app:" + pw + "@db.internal/catalog" },
	func(pw string) string { return "postgres://app:" + pw + "@db.internal:port/catalog" },
	func(pw string) string { return "postgres://app:" + url.PathEscape(pw) + "@db.internal:5432/catalog" },
	func(pw string) string {
		return (&url.URL{Scheme: "postgres", User: url.UserPassword("app", pw), Host: "db:5432", Path: "/c"}).String()
	},
	func(pw string) string {
		return "postgres://app:" + pw + "@h1:5432,h2:5432/catalog?target_session_attrs=read-write"
	},
	func(pw string) string { return "postgres://db.internal/catalog?user=app&password=" + pw },
	func(pw string) string {
		return "postgres://db.internal/catalog?password=" + url.QueryEscape(pw) + "&sslmode=verify-full"
	},
	func(pw string) string { return "postgres://app@db.internal/catalog?sslpassword=" + url.QueryEscape(pw) },
	func(pw string) string { return "host=db.internal user=app password=" + pw + " dbname=catalog" },
	func(pw string) string {
		return "host=db.internal password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "' dbname=catalog"
	},
	func(pw string) string { return "password=" + pw },
	func(pw string) string { return " postgres://app:" + pw + "@db.internal/catalog " },
	func(pw string) string { return "postgres://app:" + pw + "@" },
	func(pw string) string { return pw },
}

// leaks reports whether out shows pw in any spelling a reader could undo.
func leaks(out, pw string) bool {
	for _, form := range []string{pw, url.PathEscape(pw), url.QueryEscape(pw), (&url.URL{User: url.UserPassword("", pw)}).String()[3:]} {
		if form != "" && strings.Contains(out, form) {
			return true
		}
	}
	return false
}

const passwordChars = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789/@%:?#&= '\\\"+!$;,[]"

// TestRedactedNeverShowsThePassword: for random passwords in many shapes of connection string,
// what Redacted returns never contains the password.
func TestRedactedNeverShowsThePassword(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 3))
	for i := range 5000 {
		n := 8 + r.IntN(17)
		b := make([]byte, n)
		for j := range b {
			b[j] = passwordChars[r.IntN(len(passwordChars))]
		}
		pw := string(b)
		for k, shape := range passwordShapes {
			dsn := shape(pw)
			if out := Redacted(dsn); leaks(out, pw) {
				t.Fatalf("case %d shape %d: Redacted(%q) = %q, shows the password %q", i, k, dsn, out, pw)
			}
		}
	}
}

func FuzzRedacted(f *testing.F) {
	for _, pw := range []string{"p@ss/word", "50%off!!", "se cret'x", "12/ss#frag", "abc?def@g"} {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 8 || strings.TrimSpace(pw) != pw {
			t.Skip()
		}
		for k, shape := range passwordShapes {
			dsn := shape(pw)
			if out := Redacted(dsn); leaks(out, pw) {
				t.Fatalf("shape %d: Redacted(%q) = %q, shows the password", k, dsn, out)
			}
		}
	})
}

// TestRedactedKeepsWhatHelps: a well-formed string keeps the parts that help an operator.
func TestRedactedKeepsWhatHelps(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://app:s3cret@db.internal:5432/catalog?sslmode=require", "postgres://app:xxxxx@db.internal:5432/catalog?sslmode=require"},
		{"postgres://db.internal/catalog?password=s3cret&sslmode=require", "postgres://db.internal/catalog?password=xxxxx&sslmode=require"},
		{"host=db.internal user=app password='s3 cret' dbname=catalog", "host=db.internal user=app password=xxxxx dbname=catalog"},
		{"postgres://app@db.internal/catalog", "postgres://app@db.internal/catalog"},
		{"postgres://app:s3cret@db.internal:port/catalog", "(a database URL that does not parse; not shown)"},
		{"host=db.internal password='unterminated", "(a key=value connection string that does not parse; not shown)"},
	} {
		if got := Redacted(c.in); got != c.want {
			t.Errorf("Redacted(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
