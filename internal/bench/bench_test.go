package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSmoke runs every scenario briefly on both stores. It checks the promises (no unit
// oversold, every acknowledged reservation counted, the flash sale sells exactly its stock, no
// 5xx for malformed requests), never the speeds: those belong to `go run ./cmd/bench`.
func TestSmoke(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			cfg := Config{Store: store, Products: 500, Duration: 300 * time.Millisecond, Workers: 4}
			if store == "postgres" {
				cfg.DatabaseURL = pgtest.URL(t)
			}
			results, err := RunSuite(context.Background(), cfg)
			var out bytes.Buffer
			Table(&out, results)
			t.Logf("\n%s", out.String())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if r.Name != "memory" && (r.Requests == 0 || (r.Errors != 0 && !strings.HasPrefix(r.Name, "flash"))) {
					t.Errorf("%s: %d requests, %d errors (%v)", r.Name, r.Requests, r.Errors, r.Statuses)
				}
			}
			if !strings.Contains(out.String(), "600 sold of 600") {
				t.Error("the flash sale did not sell out exactly")
			}
			if !strings.Contains(out.String(), "event publish lag p50") {
				t.Error("the mixed load reported no event publish lag (is the relay running?)")
			}
		})
	}
}
