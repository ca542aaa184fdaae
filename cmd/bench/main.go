// Command bench runs the catalog's load scenarios over loopback and prints a table of requests
// per second and latency percentiles, each beside the ceiling it should be compared with.
//
//	go run ./cmd/bench -store postgres -products 100000 -duration 5s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	store := fs.String("store", "postgres", "store to drive: sqlite or postgres")
	products := fs.Int("products", 100_000, "size of the generated catalog")
	duration := fs.Duration("duration", 5*time.Second, "time per scenario")
	workers := fs.Int("workers", 4*runtime.NumCPU(), "concurrent clients (closed loop)")
	scenarios := fs.String("scenarios", "", "comma-separated scenario name prefixes (default: all)")
	process := fs.Bool("process", true, "also measure the catalog binary as a process: start to ready, resident memory, size")
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL to use (default: a throw-away cluster)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *products < 100 || *workers < 1 || *duration <= 0 {
		fmt.Fprintln(stderr, "bench: -products must be at least 100, -workers at least 1, -duration positive")
		return 2
	}
	cfg := bench.Config{Store: *store, DatabaseURL: *dbURL, Products: *products, Duration: *duration, Workers: *workers, Progress: stderr, Process: *process}
	if *scenarios != "" {
		cfg.Scenarios = strings.Split(*scenarios, ",")
	}
	fmt.Fprintf(stdout, "catalog bench: store=%s products=%d workers=%d duration=%s cpus=%d %s\n\n",
		*store, *products, *workers, *duration, runtime.NumCPU(), runtime.Version())
	results, err := bench.RunSuite(ctx, cfg)
	bench.Table(stdout, results)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}
