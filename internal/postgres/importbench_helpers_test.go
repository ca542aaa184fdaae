package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
)

// Helpers of the import benchmarks (BenchmarkImportCreates, BenchmarkImportUpdates), which
// measure CPU rather than wall time: on a shared machine wall time moves with the neighbours.

// importBenchStore opens a store on a fresh database holding the synthetic generator's
// categories and attribute definitions.
func importBenchStore(ctx context.Context, b *testing.B) *postgres.Store {
	b.Helper()
	s, err := postgres.Open(ctx, pgtest.URL(b), postgres.Options{MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	cats, _ := seed.SyntheticCategories()
	for _, c := range cats {
		if _, err := s.CreateCategory(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for _, a := range seed.SyntheticAttributes() {
		if _, err := s.CreateAttribute(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// createItems is an import batch of n new synthetic products, numbered from first (about 4
// variants and 7.5 prices each, the import bench's generator).
func createItems(first, n int) []catalog.ImportItem {
	items := make([]catalog.ImportItem, n)
	for j := range items {
		in := seed.SyntheticProduct(first+j, 1).ProductInput
		in.Normalize()
		items[j] = catalog.ImportItem{Line: j + 1, Product: in}
	}
	return items
}

// backendCPU is the CPU used so far by every backend of the store's database (pgx keeps them
// open between batches), read from /proc: the throw-away cluster is local. A remote server
// (DATABASE_URL) gives no figure.
func backendCPU(ctx context.Context, b *testing.B, s *postgres.Store) time.Duration {
	b.Helper()
	var total time.Duration
	rows, err := s.Pool().Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
		if err != nil {
			continue
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		total += time.Duration(ns)
	}
	return total
}

// processCPU is the CPU (user and system) this process has used so far.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
