package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/seed"
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
	s := importBenchStore(ctx, b)
	const batch = 1000
	batches := make([][]catalog.ImportItem, b.N)
	for i := range batches {
		items := make([]catalog.ImportItem, batch)
		for j := range items {
			in := seed.SyntheticProduct(i*batch+j, 1).ProductInput
			in.Normalize()
			items[j] = catalog.ImportItem{Line: j + 1, Product: in}
		}
		batches[i] = items
	}
	pgCPU := func() time.Duration { return backendCPU(ctx, b, s) }
	goCPU := func() time.Duration { return processCPU(b) }
	// One batch first, so connections are open and statements prepared before measuring.
	warm := make([]catalog.ImportItem, batch)
	for j := range warm {
		in := seed.SyntheticProduct(10_000_000+j, 1).ProductInput
		in.Normalize()
		warm[j] = catalog.ImportItem{Line: j + 1, Product: in}
	}
	if _, err := s.UpsertProducts(ctx, warm, false); err != nil {
		b.Fatal(err)
	}
	pg0, go0 := pgCPU(), goCPU()
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
	pg, gc := pgCPU()-pg0, goCPU()-go0
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(pg), "pg-cpu-ms/batch")
	b.ReportMetric(per(gc), "go-cpu-ms/batch")
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "products/s")
	b.Logf("a create batch of %d products: PostgreSQL %.0f ms CPU + Go %.0f ms CPU (apply pass only); budget for 5,000 products/s on 2 cores: 400 ms for the whole job",
		batch, per(pg), per(gc))
}
