package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/acme/catalog/api"
	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/config"
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
// DB_STARTUP_TIMEOUT, or the server fails. internal/app does the assembling.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if err := noArgs(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	a, err := app.Start(ctx, cfg, app.Options{Log: log, EMFOut: stdout, Version: version, OpenAPI: api.OpenAPI})
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
