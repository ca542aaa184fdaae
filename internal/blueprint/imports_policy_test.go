package blueprint_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/capacity"
	"github.com/acme/catalog/internal/config"
)

// TestStackSettingsAreTheServices: for each setting the stacks pass the service as a number,
// their default and bounds are the ones internal/config applies (a second spelling that
// drifted would pass the stacks' checks and stop the service at start).
func TestStackSettingsAreTheServices(t *testing.T) {
	for _, c := range []struct {
		env           string
		def, min, max int
		of            func(config.Config) int
	}{
		{blueprint.EnvEventBusConcurrency, blueprint.DefaultEventBusConcurrency, blueprint.MinEventBusConcurrency, blueprint.MaxEventBusConcurrency,
			func(c config.Config) int { return c.EventBusConcurrency }},
		{blueprint.EnvImportParallel, blueprint.DefaultImportParallel, blueprint.MinImportParallel, blueprint.MaxImportParallel,
			func(c config.Config) int { return c.ImportParallel }},
	} {
		load := func(v string) (config.Config, error) {
			return config.Load(func(k string) string {
				if k == c.env {
					return v
				}
				return ""
			})
		}
		cfg, err := load("")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.of(cfg); got != c.def {
			t.Errorf("%s: the service's default is %d, the stacks' %d", c.env, got, c.def)
		}
		for n := c.min - 2; n <= c.max+2; n++ {
			_, err := load(strconv.Itoa(n))
			inside := n >= c.min && n <= c.max
			if (err == nil) != inside {
				t.Errorf("%s=%d: service error %v; the stacks accept it: %v", c.env, n, err, inside)
			}
			if err != nil && !strings.Contains(err.Error(), c.env) {
				t.Errorf("%s=%d: error %q does not name the setting", c.env, n, err)
			}
		}
	}
}

// TestImportParallelDefaults: every environment's IMPORT_PARALLEL lies within the service's
// bounds and leaves most of the pool to requests.
func TestImportParallelDefaults(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range blueprint.Environments {
		// Each batch holds a pool connection for its statement; the requests need the rest.
		if e.ImportParallel < blueprint.MinImportParallel || e.ImportParallel > blueprint.MaxImportParallel || e.ImportParallel >= int(cfg.DBMaxConns)/2 {
			t.Errorf("%s: IMPORT_PARALLEL %d, want %d-%d and under half the pool's %d connections",
				e.Name, e.ImportParallel, blueprint.MinImportParallel, blueprint.MaxImportParallel, cfg.DBMaxConns)
		}
	}
}

// TestPolicyImportSpeedInProd: prod's defaults let an import reach issue 17's 5,000 products/s
// on the writer it can scale to. A batch in flight keeps one backend, so at most one vCPU,
// busy: IMPORT_PARALLEL must reach the derived writer's vCPUs, and the writer's maximum
// capacity must hold them. Elsewhere the writer has a vCPU or two at most (MaxACU 4 and 8), and
// more batches than the service's default would only queue in it.
func TestPolicyImportSpeedInProd(t *testing.T) {
	prod, err := blueprint.LookupEnvironment("prod")
	if err != nil {
		t.Fatal(err)
	}
	need := int(math.Ceil(blueprint.ImportWriterVCPUs))
	if prod.ImportParallel < need {
		t.Errorf("prod IMPORT_PARALLEL %d: %d products/s needs %.2f writer vCPUs busy, so at least %d batches in flight",
			prod.ImportParallel, blueprint.ImportTargetPerSecond, blueprint.ImportWriterVCPUs, need)
	}
	if vcpus := prod.MaxACU * capacity.VCPUPerACU; vcpus < blueprint.ImportWriterVCPUs {
		t.Errorf("prod MaxACU %v is %.2f vCPUs, under the import's %.2f", prod.MaxACU, vcpus, blueprint.ImportWriterVCPUs)
	}
	if err := blueprint.ImportTaskSize.Valid(); err != nil {
		t.Errorf("ImportTaskSize: %v", err)
	}
	for _, e := range blueprint.Environments {
		if vcpus := e.MaxACU * capacity.VCPUPerACU; float64(e.ImportParallel) > math.Max(vcpus, blueprint.DefaultImportParallel) {
			t.Errorf("%s: IMPORT_PARALLEL %d over a writer of at most %.2f vCPUs", e.Name, e.ImportParallel, vcpus)
		}
	}
}

// TestServiceTakesImportParallel: the service's container, not the migrate task's, gets the
// deployment's IMPORT_PARALLEL.
func TestServiceTakesImportParallel(t *testing.T) {
	s := blueprint.Model().Service
	if v, ok := envOf(s.Container.Environment)[blueprint.EnvImportParallel]; !ok || v.Text != blueprint.PhImportParallel {
		t.Errorf("service container %s = %+v, want %q", blueprint.EnvImportParallel, v, blueprint.PhImportParallel)
	}
	if _, ok := envOf(s.MigrateContainer.Environment)[blueprint.EnvImportParallel]; ok {
		t.Errorf("the migrate task sets %s: it imports nothing", blueprint.EnvImportParallel)
	}
}
