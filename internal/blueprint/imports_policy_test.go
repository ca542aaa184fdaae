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

// TestImportParallelIsTheServices: the stacks' default and bounds for IMPORT_PARALLEL are the
// ones internal/config applies (a second spelling that drifted would pass the stacks' checks
// and stop the service at start), and every environment's default lies within them.
func TestImportParallelIsTheServices(t *testing.T) {
	load := func(v string) (config.Config, error) {
		return config.Load(func(k string) string {
			if k == blueprint.EnvImportParallel {
				return v
			}
			return ""
		})
	}
	cfg, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImportParallel != blueprint.DefaultImportParallel {
		t.Errorf("the service's default is %d, the stacks' %d", cfg.ImportParallel, blueprint.DefaultImportParallel)
	}
	for n := blueprint.MinImportParallel - 2; n <= blueprint.MaxImportParallel+2; n++ {
		_, err := load(strconv.Itoa(n))
		inside := n >= blueprint.MinImportParallel && n <= blueprint.MaxImportParallel
		if (err == nil) != inside {
			t.Errorf("%s=%d: service error %v; the stacks accept it: %v", blueprint.EnvImportParallel, n, err, inside)
		}
		if err != nil && !strings.Contains(err.Error(), blueprint.EnvImportParallel) {
			t.Errorf("%s=%d: error %q does not name the setting", blueprint.EnvImportParallel, n, err)
		}
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
