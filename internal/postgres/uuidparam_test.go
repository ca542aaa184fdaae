package postgres

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// referenceUUID is the plain reading of the canonical form: 36 characters, hyphens at 8, 13,
// 18 and 23, and 32 hexadecimal digits (either case) around them.
func referenceUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 {
		return u, false
	}
	for _, i := range []int{8, 13, 18, 23} {
		if s[i] != '-' {
			return u, false
		}
	}
	b, err := hex.DecodeString(s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36])
	if err != nil {
		return u, false
	}
	copy(u[:], b)
	return u, true
}

// mutateUUID returns id with one to three bytes changed, cased or cut: most results are wrong
// in one place, as a bug would make them.
func mutateUUID(r *rand.Rand, id string) string {
	b := []byte(id)
	for range 1 + r.IntN(3) {
		switch i := r.IntN(len(b) + 1); r.IntN(6) {
		case 0:
			return strings.ToUpper(string(b))
		case 1:
			if i < len(b) {
				b[i] = byte(r.IntN(256))
			}
		case 2:
			if i < len(b) {
				b[i] = "0123456789abcdefABCDEFg-{} "[r.IntN(27)]
			}
		case 3:
			b = slices.Delete(b, min(i, len(b)-1), min(i, len(b)-1)+1)
		case 4:
			b = slices.Insert(b, i, '-')
		case 5:
			return strings.ReplaceAll(string(b), "-", "")
		}
	}
	return string(b)
}

func FuzzParseCanonicalUUID(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 17))
	for _, s := range []string{
		catalog.NewID(), strings.ToUpper(catalog.NewID()), "00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff", "{01234567-89ab-cdef-0123-456789abcdef}",
		"0123456789abcdef0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdeg", "01234567-89ab-cdef-01234-56789abcdef",
		"0123456789ab-cdef-0123-456789abcdef", "", "-", "01234567-89ab-cdef-0123-456789abcdé",
	} {
		f.Add(s)
	}
	for range 50 {
		f.Add(mutateUUID(r, catalog.NewID()))
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseCanonicalUUID(s)
		want, wantOK := referenceUUID(s)
		if ok != wantOK || got != want {
			t.Fatalf("parseCanonicalUUID(%q) = %x, %v; reference %x, %v", s, got, ok, want, wantOK)
		}
		if ok {
			var lower [36]byte
			hex.Encode(lower[0:8], got[0:4])
			hex.Encode(lower[9:13], got[4:6])
			hex.Encode(lower[14:18], got[6:8])
			hex.Encode(lower[19:23], got[8:10])
			hex.Encode(lower[24:36], got[10:16])
			lower[8], lower[13], lower[18], lower[23] = '-', '-', '-', '-'
			if string(lower[:]) != strings.ToLower(s) {
				t.Fatalf("parseCanonicalUUID(%q) = %x, which prints %s", s, got, lower)
			}
		}
	})
}

// TestUUIDStringParams: a []string bound to uuid[] goes as a binary uuid array that PostgreSQL
// reads as the same IDs; nil is NULL, empty is empty; a string that is not canonical is refused
// before anything is sent, and the error names it.
func TestUUIDStringParams(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t), Options{MaxConns: 2, SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db := s.Pool()

	ids := []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0123ABCD-89ab-CDEF-0123-456789abcdef"}
	for range 1000 {
		ids = append(ids, catalog.NewID())
	}
	lower := make([]string, len(ids))
	for i, id := range ids {
		lower[i] = strings.ToLower(id)
	}

	t.Run("round trip", func(t *testing.T) {
		var got []string
		if err := db.QueryRow(ctx, `SELECT $1::uuid[]`, ids).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, lower) {
			t.Fatalf("SELECT $1::uuid[] of %d IDs read back %d, first differences at %v", len(ids), len(got), firstDiff(got, lower))
		}
		// As an unnest column beside another array, in order, the way the inserts use it.
		rows, err := db.Query(ctx, `SELECT u.id::text, u.n FROM unnest($1::uuid[], $2::int[]) AS u (id, n)`, ids, seq(len(ids)))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id string
			var k int32
			if err := rows.Scan(&id, &k); err != nil {
				t.Fatal(err)
			}
			if int(k) != n || id != lower[n] {
				t.Fatalf("row %d: %s, %d; want %s, %d", n, id, k, lower[n], n)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != len(ids) {
			t.Fatalf("unnest gave %d rows, want %d", n, len(ids))
		}
	})

	t.Run("sent in binary", func(t *testing.T) {
		c, err := db.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		m := c.Conn().TypeMap()
		if f := m.FormatCodeForOID(pgtype.UUIDArrayOID); f != pgtype.BinaryFormatCode {
			t.Errorf("uuid[] parameters go in format %d, want binary", f)
		}
		if p := m.PlanEncode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, ids); p == nil {
			t.Error("no binary plan for a []string into uuid[]")
		}
	})

	t.Run("bytes are array_send's", func(t *testing.T) {
		for _, in := range [][]string{ids[:1], ids, {}} {
			var want []byte
			if err := db.QueryRow(ctx, `SELECT array_send($1::text[]::uuid[])`, in).Scan(&want); err != nil {
				t.Fatal(err)
			}
			got, err := encodeUUIDStrings(in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encodeUUIDStrings(%d IDs) = %x..., array_send %x...", len(in), got[:min(40, len(got))], want[:min(40, len(want))])
			}
		}
	})

	t.Run("nil and empty", func(t *testing.T) {
		for _, tc := range []struct {
			in       []string
			null     bool
			elements int
		}{{nil, true, 0}, {[]string{}, false, 0}} {
			var null bool
			var n int
			if err := db.QueryRow(ctx, `SELECT $1::uuid[] IS NULL, coalesce(cardinality($1::uuid[]), 0)`, tc.in).Scan(&null, &n); err != nil {
				t.Fatal(err)
			}
			if null != tc.null || n != tc.elements {
				t.Errorf("%#v as uuid[]: null %v, %d elements; want %v, %d", tc.in, null, n, tc.null, tc.elements)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, bad := range []string{
			"0123456789abcdef0123456789abcdef",       // PostgreSQL takes it; not the form IDs have
			"{01234567-89ab-cdef-0123-456789abcdef}", // likewise
			"01234567-89ab-cdef-0123-456789abcdeg",
			"01234567-89ab-cdef-0123-456789abcde",
			"",
		} {
			in := []string{ids[0], bad, ids[1]}
			var n int
			err := db.QueryRow(ctx, `SELECT cardinality($1::uuid[])`, in).Scan(&n)
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				t.Errorf("%q in a uuid[] parameter: accepted (%d elements), want an error", bad, n)
			case errors.As(err, &pgErr):
				t.Errorf("%q in a uuid[] parameter: the server refused it (%v), want it refused before sending", bad, err)
			case !strings.Contains(err.Error(), strconv.Quote(bad)) || !strings.Contains(err.Error(), "element 1"):
				t.Errorf("%q in a uuid[] parameter: error %q does not name it and its position", bad, err)
			}
		}
	})

	// Whatever this parser accepts, PostgreSQL's uuid input reads as the same 16 bytes.
	t.Run("same as PostgreSQL", func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
		accepted := 0
		for range 300 {
			in := mutateUUID(r, catalog.NewID())
			u, ok := parseCanonicalUUID(in)
			if !ok {
				continue
			}
			accepted++
			var pg []byte
			if err := db.QueryRow(ctx, `SELECT uuid_send($1::text::uuid)`, in).Scan(&pg); err != nil {
				t.Fatalf("%q: accepted here, PostgreSQL says %v", in, err)
			}
			if !bytes.Equal(pg, u[:]) {
				t.Fatalf("%q: parsed as %x, PostgreSQL reads %x", in, u, pg)
			}
		}
		if accepted == 0 {
			t.Fatal("no mutated ID was canonical: the comparison checked nothing")
		}
	})
}

func seq(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("%d (%q, want %q)", i, a[i], b[i])
		}
	}
	return "the end"
}

// BenchmarkUUIDListParam: go test -run '^$' -bench UUIDListParam ./internal/postgres/
//
// 4,000 IDs (a create batch's variants) passed three ways into a statement that reads them as
// uuid: as text[] cast per element in SQL (the create statements before), as uuid[] through
// pgx's own plans (which try binary, fail and fall back to text), and as uuid[] through
// sendUUIDStringsBinary. Reports the Go process's CPU and the backend's per statement.
func BenchmarkUUIDListParam(b *testing.B) {
	ctx := context.Background()
	url := pgtest.URL(b)
	ids := make([]string, 4000)
	for i := range ids {
		ids[i] = catalog.NewID()
	}
	connect := func(b *testing.B, binary bool) *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(ctx) })
		if binary {
			if err := sendUUIDStringsBinary(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		return c
	}
	for _, bc := range []struct {
		name, sql string
		binary    bool
	}{
		{"text[]+cast", `SELECT count(u.id::uuid) FROM unnest($1::text[]) AS u (id)`, false},
		{"uuid[]/pgx", `SELECT count(u.id) FROM unnest($1::uuid[]) AS u (id)`, false},
		{"uuid[]/binary", `SELECT count(u.id) FROM unnest($1::uuid[]) AS u (id)`, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := connect(b, bc.binary)
			var pid int32
			if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				b.Fatal(err)
			}
			var n int
			if err := c.QueryRow(ctx, bc.sql, ids).Scan(&n); err != nil || n != len(ids) {
				b.Fatalf("%d of %d IDs, %v", n, len(ids), err)
			}
			pg0, go0 := backendCPU(pid), processCPU()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.QueryRow(ctx, bc.sql, ids).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((backendCPU(pid)-pg0).Microseconds())/float64(b.N), "pg-cpu-µs/op")
			b.ReportMetric(float64((processCPU()-go0).Microseconds())/float64(b.N), "go-cpu-µs/op")
		})
	}
}

// backendCPU is a local backend's CPU time so far (0 for a remote server).
func backendCPU(pid int32) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	ns, _ := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
	return time.Duration(ns)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
