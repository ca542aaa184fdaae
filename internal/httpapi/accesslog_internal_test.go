package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// slogLine is the line slog's JSONHandler writes for e: the record LogAttrs makes at e's time.
func slogLine(tb testing.TB, e accessEntry) string {
	tb.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(e.at, slog.LevelInfo, "request", 0)
	r.AddAttrs(e.attrs()...)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// The hand-written access line is byte for byte slog's, so a log query or a reader written for
// one reads the other: the edges of JSON quoting (quotes, backslashes, every control byte,
// invalid UTF-8, U+2028/9, HTML's <>&), durations from 0 to minutes, and random strings.
func TestAccessLineIsSlogs(t *testing.T) {
	at := time.Date(2026, 12, 3, 20, 22, 42, 656851679, time.UTC)
	var controls strings.Builder
	for c := range 0x20 {
		controls.WriteByte(byte(c))
	}
	cases := []accessEntry{
		{at: at, id: "2b374245a5c782414858ac14", method: "GET", route: "GET /products/{id}", path: "/products/0193a1b2", status: 200, bytes: 2714, elapsed: 42 * time.Microsecond},
		{at: at.In(time.FixedZone("x", 3600)), id: "", method: "POST", route: "unmatched", path: `/a"b\c`, status: 404, elapsed: 0},
		{at: at, path: controls.String() + "\x7f", elapsed: 999 * time.Nanosecond},
		{at: at, path: "\xff\xfe/caf\xc3\xa9/\xe2\x80\xa8\xe2\x80\xa9/<script>&amp;", actor: "ops team \u2603", elapsed: 1500 * time.Microsecond},
		{at: at, path: "\xe2\x80", route: "\xc3", elapsed: 90 * time.Second, status: 500, bytes: 1 << 40},
		{at: time.Now(), method: "GET", elapsed: 123456789 * time.Microsecond},
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "/", `"`, `\`, "\n", "\x00", "\x1f", "\x7f", "é", "\xff", "\u2028", "\u2029", "€", "<", "&", "\ufffd", "𝄞"}
	str := func() string {
		var b strings.Builder
		for range rng.Intn(12) {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	for range 2000 {
		cases = append(cases, accessEntry{at: at.Add(time.Duration(rng.Int63n(int64(time.Hour)))), id: str(), method: str(), route: str(), path: str(),
			status: rng.Intn(600), bytes: rng.Int63n(1 << 30), elapsed: time.Duration(rng.Int63n(int64(time.Minute))), actor: str()})
	}
	for _, e := range cases {
		if got, want := string(appendAccessLine(nil, e)), slogLine(t, e); got != want {
			t.Fatalf("%+v:\n got %q\nwant %q", e, got, want)
		}
	}
}

func FuzzAccessLine(f *testing.F) {
	f.Add("id", "GET", "GET /products/{id}", "/products/x", "actor", 200, int64(10), int64(42))
	f.Add("\x00", "\xff", "\u2028", `"\`, "<&>", -1, int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, id, method, route, path, actor string, status int, size, us int64) {
		if us < 0 {
			us = -us
		}
		e := accessEntry{at: time.Unix(1764793362, 656851679).UTC(), id: id, method: method, route: route, path: path,
			status: status, bytes: size, elapsed: time.Duration(us%int64(24*time.Hour/time.Microsecond)) * time.Microsecond, actor: actor}
		if got, want := string(appendAccessLine(nil, e)), slogLine(t, e); got != want {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}

// BenchmarkAccessLine compares one access line written by hand with slog's, both to a
// discarded writer: go test -run '^$' -bench AccessLine ./internal/httpapi/
func BenchmarkAccessLine(b *testing.B) {
	e := accessEntry{at: time.Now(), id: "2b374245a5c782414858ac14", method: "GET", route: "GET /products/{id}",
		path: "/products/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", status: 200, bytes: 2714, elapsed: 42 * time.Microsecond}
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := writeAccessLine(io.Discard, e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slog", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			log.LogAttrs(context.Background(), slog.LevelInfo, "request", e.attrs()...)
		}
	})
}
