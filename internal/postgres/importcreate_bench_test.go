package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/postgres"
	"github.com/acme/catalog/internal/seed"
	"github.com/jackc/pgx/v5"
)

// BenchmarkImportCreates: go test -run '^$' -bench ImportCreates -benchtime 20x ./internal/postgres/
//
// One import batch of 1,000 new products (about 4 variants and 7.5 prices each, the import
// bench's generator) per iteration, through UpsertProducts as the importer's apply pass calls
// it. Wall time moves with the neighbours' load; CPU time much less, so it reports the CPU the
// batch cost PostgreSQL (its backends, read from /proc: the throw-away cluster is local) and
// this process, beside the budget the target leaves: 5,000 products/s on 2 cores is
// 400 ms of CPU per 1,000 products for the whole job (reading, validation pass, apply pass).
func BenchmarkImportCreates(b *testing.B) {
	ctx := context.Background()
	s := openCreatesBench(b)
	const batch = 1000
	batches := make([][]catalog.ImportItem, b.N)
	for i := range batches {
		batches[i] = createItems(i*batch, batch)
	}
	pg0, go0 := backendCPU(context.Background(), b, s), processCPU(b)
	b.ResetTimer()
	for i := range b.N {
		res, err := s.UpsertProducts(ctx, batches[i], false)
		if err != nil {
			b.Fatal(err)
		}
		if res.Created != batch {
			b.Fatalf("created %d of %d: %+v", res.Created, batch, res.Problems)
		}
	}
	b.StopTimer()
	pg, gc := backendCPU(context.Background(), b, s)-pg0, processCPU(b)-go0
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(pg), "pg-cpu-ms/batch")
	b.ReportMetric(per(gc), "go-cpu-ms/batch")
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "products/s")
	b.Logf("a create batch of %d products: PostgreSQL %.0f ms CPU + Go %.0f ms CPU (apply pass only); budget for 5,000 products/s on 2 cores: 400 ms for the whole job",
		batch, per(pg), per(gc))
}

// BenchmarkImportCreatesGrowth: go test -run '^$' -bench ImportCreatesGrowth -benchtime 40x ./internal/postgres/
//
// b.N create batches of 1,000 products one after another into one growing catalog (40x ends
// at 41,000 products, 165,000 variants), measured batch by batch: does a batch cost more as the
// tables and their indexes grow (deeper B-trees, GIN pending lists flushed into bigger trees,
// checkpoints and the full-page images after them)? Reports each quarter's PostgreSQL and Go CPU
// and WAL per batch, the ratio of the last quarter's PostgreSQL CPU to the first's, and the
// checkpoints and autovacuums the run saw.
func BenchmarkImportCreatesGrowth(b *testing.B) {
	ctx := context.Background()
	s := openCreatesBench(b)
	const batch = 1000
	type sample struct {
		pg, gc   time.Duration
		wal, fpi int64
	}
	wal := func() (bytes, fpi int64) {
		if err := s.Pool().QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint, wal_fpi FROM pg_stat_wal`).Scan(&bytes, &fpi); err != nil {
			b.Fatal(err)
		}
		return bytes, fpi
	}
	counters := func() (checkpoints, autovacuums int64) {
		if err := s.Pool().QueryRow(ctx, `SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
				(SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::bigint FROM pg_stat_user_tables)`).Scan(&checkpoints, &autovacuums); err != nil {
			b.Fatal(err)
		}
		return checkpoints, autovacuums
	}
	ck0, av0 := counters()
	samples := make([]sample, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		items := createItems(i*batch, batch)
		pg0, go0 := backendCPU(context.Background(), b, s), processCPU(b)
		w0, f0 := wal()
		b.StartTimer()
		res, err := s.UpsertProducts(ctx, items, false)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Created != batch {
			b.Fatalf("batch %d: created %d of %d: %+v", i, res.Created, batch, res.Problems)
		}
		w1, f1 := wal()
		samples = append(samples, sample{pg: backendCPU(context.Background(), b, s) - pg0, gc: processCPU(b) - go0, wal: w1 - w0, fpi: f1 - f0})
		b.StartTimer()
	}
	b.StopTimer()
	ck1, av1 := counters()
	// pg_stat_wal is flushed by each backend at most once a second, so FPIs are exact only
	// over several batches; the LSN difference (bytes) is exact per batch.
	quarter := func(q int) (pg, gc, walMB, fpi float64) {
		part := samples[q*len(samples)/4 : (q+1)*len(samples)/4]
		for _, x := range part {
			pg += float64(x.pg.Microseconds()) / 1000
			gc += float64(x.gc.Microseconds()) / 1000
			walMB += float64(x.wal) / (1 << 20)
			fpi += float64(x.fpi)
		}
		n := float64(len(part))
		return pg / n, gc / n, walMB / n, fpi / n
	}
	if len(samples) < 4 {
		return
	}
	for q := range 4 {
		pg, gc, walMB, fpi := quarter(q)
		b.Logf("batches %2d-%2d (catalog %6d -> %6d products): PostgreSQL %4.0f ms CPU, Go %4.0f ms CPU, WAL %5.1f MB (%5.0f full-page images) per batch",
			q*len(samples)/4+1, (q+1)*len(samples)/4, 1000+q*len(samples)/4*batch, 1000+(q+1)*len(samples)/4*batch, pg, gc, walMB, fpi)
	}
	first, _, _, _ := quarter(0)
	last, _, lastWAL, _ := quarter(3)
	b.Logf("last quarter / first: PostgreSQL CPU per batch %.2fx; %d checkpoints, %d autovacuums and autoanalyzes during the run", last/first, ck1-ck0, av1-av0)
	b.ReportMetric(first, "pg-cpu-ms/batch-first-quarter")
	b.ReportMetric(last, "pg-cpu-ms/batch-last-quarter")
	b.ReportMetric(last/first, "growth")
	b.ReportMetric(lastWAL, "wal-MB/batch-last-quarter")
	b.ReportMetric(float64(ck1-ck0), "checkpoints")
}

// BenchmarkImportCreatesGINFastupdate: go test -run '^$' -bench GINFastupdate -benchtime 10x ./internal/postgres/
//
// An experiment (ADR 0026, 2026-12-03): the products' GIN indexes with fastupdate off against
// on (the default; their pending lists are 256 kB, migration 0015), on two databases of one
// cluster fed the same batches in alternating order (on/off, then off/on), b.N batches each.
// Then the same searches on both, alternating: with fastupdate on a search also scans the
// pending list. Reports PostgreSQL CPU per create batch and per search for each setting.
func BenchmarkImportCreatesGINFastupdate(b *testing.B) {
	ctx := context.Background()
	const batch = 1000
	names := [2]string{"on", "off"}
	var stores [2]*postgres.Store
	for k := range stores {
		stores[k] = openCreatesBench(b)
		if k == 0 {
			continue
		}
		rows, err := stores[k].Pool().Query(ctx, `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = 'products'::regclass AND a.amname = 'gin' ORDER BY 1`)
		if err != nil {
			b.Fatal(err)
		}
		gins, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatal(err)
		}
		for _, ix := range gins {
			if _, err := stores[k].Pool().Exec(ctx, `ALTER INDEX `+pgx.Identifier{ix}.Sanitize()+` SET (fastupdate = off)`); err != nil {
				b.Fatal(err)
			}
			// Turning it off leaves what is pending; flush it so both start from their own state.
			if _, err := stores[k].Pool().Exec(ctx, `SELECT gin_clean_pending_list($1::regclass)`, ix); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("fastupdate off on %v", gins)
	}
	order := [2][2]int{{0, 1}, {1, 0}}
	var write [2]time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		items := [2][]catalog.ImportItem{createItems(i*batch, batch), createItems(i*batch, batch)}
		b.StartTimer()
		for _, k := range order[i%2] {
			pg0 := backendCPU(context.Background(), b, stores[k])
			res, err := stores[k].UpsertProducts(ctx, items[k], false)
			if err != nil {
				b.Fatal(err)
			}
			if res.Created != batch {
				b.Fatalf("fastupdate %s: created %d of %d: %+v", names[k], res.Created, batch, res.Problems)
			}
			write[k] += backendCPU(context.Background(), b, stores[k]) - pg0
		}
	}
	b.StopTimer()
	var queries []catalog.ListQuery
	for i := range 6 {
		p := seed.SyntheticProduct(i*7919, 1).ProductInput
		words := strings.Fields(p.Name)
		queries = append(queries,
			catalog.ListQuery{Filter: catalog.ProductFilter{Query: words[0] + " " + words[1]}, Sort: catalog.SortRelevance, Limit: 20},
			catalog.ListQuery{Filter: catalog.ProductFilter{Query: words[1]}, Sort: catalog.SortNewest, Limit: 20},
			catalog.ListQuery{Filter: catalog.ProductFilter{Query: p.Brand}, Sort: catalog.SortNewest, Limit: 20},
			catalog.ListQuery{Filter: catalog.ProductFilter{Attributes: []catalog.AttributeFilter{{Key: "material", Type: catalog.AttrText, Values: []string{p.Attributes["material"].(string)}}}}, Sort: catalog.SortNewest, Limit: 20})
	}
	var read [2]time.Duration
	const rounds = 20
	for r := range rounds {
		for _, k := range order[r%2] {
			pg0 := backendCPU(context.Background(), b, stores[k])
			for _, q := range queries {
				if _, err := stores[k].ListProducts(ctx, q); err != nil {
					b.Fatalf("fastupdate %s: %+v: %v", names[k], q.Filter, err)
				}
			}
			read[k] += backendCPU(context.Background(), b, stores[k]) - pg0
		}
	}
	for k, name := range names {
		perBatch := float64(write[k].Microseconds()) / 1000 / float64(b.N)
		perQuery := float64(read[k].Microseconds()) / float64(rounds*len(queries))
		b.ReportMetric(perBatch, "pg-cpu-ms/batch-"+name)
		b.ReportMetric(perQuery, "pg-cpu-µs/search-"+name)
		b.Logf("fastupdate %-3s: PostgreSQL %4.0f ms CPU per create batch, %5.0f µs CPU per search (%d batches, %d searches)",
			name, perBatch, perQuery, b.N, rounds*len(queries))
	}
}

// openCreatesBench is importBenchStore with one create batch done, so connections are open
// and statements prepared before measuring.
func openCreatesBench(b *testing.B) *postgres.Store {
	b.Helper()
	ctx := context.Background()
	s := importBenchStore(ctx, b)
	if _, err := s.UpsertProducts(ctx, createItems(10_000_000, 1000), false); err != nil {
		b.Fatal(err)
	}
	return s
}
