package config

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// GC is the garbage collector's budget the service sets for itself at start (ADR 0027). A zero
// field leaves the runtime's own setting: Go's defaults, or GOMEMLIMIT and GOGC when the
// operator set them.
type GC struct {
	// MemoryLimit is the soft memory limit, in bytes (runtime/debug.SetMemoryLimit).
	MemoryLimit int64
	// Percent is the heap growth between collections (runtime/debug.SetGCPercent).
	Percent int
}

// Defaults of the GC budget. Go's default lets the heap grow to twice the live data
// (GOGC=100) with no limit: a read under load allocates a few kilobytes, so a cache of 100 MiB
// is marked again every few seconds, which cost the hot-read bench a fifth of its server CPU.
// Under a limit the heap may grow further, because the limit, not the growth, keeps the task
// alive.
const (
	// MemoryLimitEighthsOfTask is the soft limit's share of the ECS task's memory, in eighths:
	// 5/8 (62.5%) stays under the 75% at which memory scaling adds tasks, so garbage waiting
	// to be collected never adds one, and leaves the rest for what Go does not account for
	// (the binary, thread stacks outside the heap).
	MemoryLimitEighthsOfTask = 5
	// GCPercentUnderLimit is the growth the service sets once a limit is in force.
	GCPercentUnderLimit = 400
)

// GC is the budget for a task of taskMemoryMiB (0 outside ECS or when the metadata endpoint
// did not answer). A GOMEMLIMIT or GOGC the operator set always wins, and the growth is raised
// only under a limit: without one, a heap five times the live data could outgrow the task.
func (c Config) GC(taskMemoryMiB int64) GC {
	var g GC
	limited := c.GoMemLimitSet
	if !limited && taskMemoryMiB > 0 {
		g.MemoryLimit = taskMemoryMiB << 20 / 8 * MemoryLimitEighthsOfTask
		limited = true
	}
	if limited && !c.GoGCSet {
		g.Percent = GCPercentUnderLimit
	}
	return g
}

// Apply sets g's non-zero fields on the runtime and returns a func that puts back the budget in
// force before.
func (g GC) Apply() (restore func()) {
	was := GCInForce()
	if g.MemoryLimit > 0 {
		debug.SetMemoryLimit(g.MemoryLimit)
	}
	if g.Percent > 0 {
		debug.SetGCPercent(g.Percent)
	}
	return func() {
		debug.SetMemoryLimit(was.MemoryLimit)
		debug.SetGCPercent(was.Percent)
	}
}

// GCInForce is the runtime's budget now, whoever set it: GOGC's percent (-1 when off) and the
// soft memory limit (math.MaxInt64 when none), read without changing either.
func GCInForce() GC {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	g := GC{Percent: -1, MemoryLimit: math.MaxInt64}
	if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > 0 {
		g.Percent = int(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 && s[1].Value.Uint64() < math.MaxInt64 {
		g.MemoryLimit = int64(s[1].Value.Uint64())
	}
	return g
}
