package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/logbuf"
)

func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// serve runs the service until ctx ends (SIGTERM), the database stays away past
// DB_STARTUP_TIMEOUT, or the server fails. internal/app does the assembling. -cpuprofile
// writes a CPU profile of the whole run, ended by SIGTERM: how the wrk bench profiles the
// served process (bench -wrk-cpuprofile) without a profiling endpoint in production.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs.Args()); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// Log lines and EMF metrics share one batching writer, the only writer of stdout, so lines
	// written together cannot interleave on the log driver's pipe.
	out := logbuf.New(stdout, logbuf.DefaultSize, logbuf.DefaultInterval)
	defer func() { err = errors.Join(err, out.Close()) }()
	log := newLogger(cfg, out)
	a, err := app.Start(ctx, cfg, app.Options{Log: log, LogOut: out, EMFOut: out, Version: version, OpenAPI: api.OpenAPI, OwnsProcess: true})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
