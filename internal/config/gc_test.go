package config

import "testing"

// TestGC: in a task the service limits itself to 5/8 of the task's memory and lets the heap
// grow 400% under that limit; outside ECS it keeps Go's defaults; a GOMEMLIMIT or GOGC the
// operator set is never overridden, and the growth is raised only where some limit holds.
func TestGC(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		task int64
		want GC
	}{
		{"outside ECS", nil, 0, GC{}},
		{"the stacks' default task", nil, 2048, GC{MemoryLimit: 1280 << 20, Percent: 400}},
		{"the smallest Fargate task", nil, 512, GC{MemoryLimit: 320 << 20, Percent: 400}},
		{"the largest Fargate task", nil, 122880, GC{MemoryLimit: 76800 << 20, Percent: 400}},
		{"GOMEMLIMIT set, in a task", map[string]string{"GOMEMLIMIT": "900MiB"}, 2048, GC{Percent: 400}},
		{"GOMEMLIMIT set, outside ECS", map[string]string{"GOMEMLIMIT": "900MiB"}, 0, GC{Percent: 400}},
		{"GOGC set, in a task", map[string]string{"GOGC": "150"}, 2048, GC{MemoryLimit: 1280 << 20}},
		{"GOGC=off, in a task", map[string]string{"GOGC": "off"}, 2048, GC{MemoryLimit: 1280 << 20}},
		{"both set", map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}, 2048, GC{}},
		{"GOGC set, outside ECS", map[string]string{"GOGC": "150"}, 0, GC{}},
	} {
		cfg, err := Load(env(c.env))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := cfg.GC(c.task); got != c.want {
			t.Errorf("%s: GC(%d) = %+v, want %+v", c.name, c.task, got, c.want)
		}
	}
}
