package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
)

// TestScaleSmoke grows a catalog from 20,000 to 60,000 products (sizes at which every query
// shape already fills its page) and runs the scale series briefly: no list query may scan
// the products table or read pages in proportion to the catalog. The growth is measured in
// pages read (EXPLAIN ANALYZE), not in time, so a busy machine cannot fail it. The series
// the issue asks for is `go run ./cmd/bench -scale 10000,100000,1000000`.
func TestScaleSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 60,000 products")
	}
	steps, err := RunScale(context.Background(), Config{Store: "postgres", DatabaseURL: pgtest.URL(t), Duration: 150 * time.Millisecond, Workers: 4}, []int{20_000, 60_000})
	var out bytes.Buffer
	ScaleTable(&out, steps)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || len(steps[1].Plans) == 0 {
		t.Fatalf("%d steps", len(steps))
	}
	for _, r := range steps[1].Results {
		if r.Requests > 0 && r.Errors != 0 {
			t.Errorf("%s: %d errors (%v)", r.Name, r.Errors, r.Statuses)
		}
	}
	if !strings.Contains(out.String(), "deep page, by name") {
		t.Error("the table lacks the deep-page plan")
	}
}

// TestScaleTableTargets checks the table puts issue 16's p99 bounds beside the figures and
// judges them at the largest size only.
func TestScaleTableTargets(t *testing.T) {
	step := func(n int, byID, search, first time.Duration) ScaleStep {
		return ScaleStep{Products: n, Results: []Result{
			{Name: "get-by-id, no cache", Requests: 1, P50: byID / 2, P99: byID},
			{Name: "search", Requests: 1, P50: search / 2, P99: search},
			{Name: "list first page", Requests: 1, P50: first / 2, P99: first},
		}}
	}
	var out bytes.Buffer
	ScaleTable(&out, []ScaleStep{
		step(10_000, time.Millisecond, 5*time.Millisecond, time.Millisecond),
		step(1_000_000, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
	})
	for _, want := range []string{"5.0x 2.0x; target <= 3x: met", "1.0x 3.0x; target <= 2x: MISSED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
