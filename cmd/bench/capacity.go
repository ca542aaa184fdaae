package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"

	"github.com/acme/catalog/internal/bench"
	"github.com/acme/catalog/internal/capacity"
)

// runCapacity measures the capacity model's inputs and prints the model and the simulation.
func runCapacity(ctx context.Context, cfg bench.CapacityConfig, stdout, stderr io.Writer) int {
	if !(cfg.Baseline > 0) || math.IsInf(cfg.Baseline, 0) || cfg.Baseline > 1e7 {
		fmt.Fprintln(stderr, "bench: -capacity-baseline must be a number of requests/s above 0 and at most 10000000")
		return 2
	}
	if !(cfg.RPSPerTask >= 0) || math.IsInf(cfg.RPSPerTask, 0) || !(cfg.EdgeHitRatio >= 0 && cfg.EdgeHitRatio < 1) ||
		cfg.TaskStart < 0 || cfg.TaskStart > 600 {
		fmt.Fprintln(stderr, "bench: -capacity-rps-per-task must be a non-negative number, -capacity-edge-hit in [0, 1), -capacity-task-start 0-600 seconds")
		return 2
	}
	var err error
	if cfg.RPSPerTask > 0 {
		fmt.Fprintf(stdout, "catalog bench, capacity: simulation only, %.0f req/s per task given\n", cfg.RPSPerTask)
		err = bench.PrintSimulation(stdout, cfg.RPSPerTask, cfg)
	} else {
		fmt.Fprintf(stdout, "catalog bench, capacity: products=%d workers=%d duration=%s cpus=%d %s\n\n",
			cfg.Products, cfg.Workers, cfg.Duration, runtime.NumCPU(), runtime.Version())
		var costs []capacity.Cost
		if costs, err = bench.MeasureCosts(ctx, cfg); err == nil {
			err = bench.PrintCapacity(stdout, costs, cfg)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: capacity: %v\n", err)
		return 1
	}
	return 0
}
