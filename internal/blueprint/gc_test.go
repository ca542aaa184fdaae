package blueprint_test

import (
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/config"
)

// TestGCLimitUnderMemoryTarget: in every task size the stacks accept, the soft memory limit
// the service sets itself (config.GC) stays under the memory scaling target, with room for the
// read cache's default share inside it: garbage waiting for the collector must not add tasks,
// and the collector must not have to run flat out to keep a full cache.
func TestGCLimitUnderMemoryTarget(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range blueprint.ValidTaskSizes() {
		task := int64(size.Memory) << 20
		limit := cfg.GC(int64(size.Memory)).MemoryLimit
		if limit <= 0 || limit*100 >= task*blueprint.MemoryTargetPercent {
			t.Errorf("task %s: limit %d bytes is not under %d%% of %d", size, limit, blueprint.MemoryTargetPercent, task)
		}
		if cache := cfg.CacheBytes(int64(size.Memory)); cache*4 > limit {
			t.Errorf("task %s: the cache's %d bytes are more than a quarter of the limit %d", size, cache, limit)
		}
	}
}
