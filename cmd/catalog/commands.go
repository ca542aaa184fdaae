package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/acme/catalog/internal/app"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/seed"
)

// migrateCmd applies pending migrations as the owner and, with DB_APP_ROLE, sets up the app
// role; internal/app does the work, this reports it.
func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if err := noArgs(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	rep, err := app.Migrate(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	if rep.Store == "sqlite" {
		fmt.Fprintln(stdout, "migrations applied; the schema is current")
		return nil
	}
	fmt.Fprintf(stdout, "migrations applied to %s; the schema is current (%d migrations)\n", rep.Target, rep.Applied)
	if r := rep.AppRole; r != nil {
		state := "exists"
		if r.Created {
			state = "created"
		}
		fmt.Fprintf(stdout, "app role %s (%s): CONNECT on database %s, USAGE on schema %s, %s on its %d tables and %s on its %d sequences, the same on those later migrations create; no DDL\n",
			r.Role, state, r.Database, r.Schema, "SELECT/INSERT/UPDATE/DELETE", r.Tables, "USAGE/SELECT/UPDATE", r.Sequences)
		if r.PasswordSet {
			fmt.Fprintln(stdout, "its password was set from DB_APP_ROLE_PASSWORD")
		}
		if cfg.DBAppRoleIAM {
			fmt.Fprintln(stdout, "it is a member of rds_iam: it logs in with IAM authentication tokens")
		}
	}
	return nil
}

// seedCmd loads the sample catalog, or N synthetic products (streamed in batches: memory does
// not grow with N): with a progress line on a terminal, a plain summary otherwise.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	n := 0
	if len(args) > 0 && (args[0] == "-synthetic" || args[0] == "--synthetic") {
		if len(args) != 2 {
			return fmt.Errorf("usage: catalog seed [-synthetic] [N]")
		}
		args = args[1:]
	}
	switch len(args) {
	case 0:
	case 1:
		var err error
		n, err = strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 10_000_000 {
			return fmt.Errorf("N must be a number of products from 1 to 10000000, not %q", args[0])
		}
	default:
		return fmt.Errorf("usage: catalog seed [-synthetic] [N]")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	store, err := app.OpenStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer store.Close()

	var (
		sample     seed.Catalog
		categories []catalog.CategoryInput
		first      int
		total      = n
	)
	if n == 0 {
		if sample, err = seed.Sample(); err != nil {
			return err
		}
		// The sample's SKUs are fixed: loading it twice would only collide.
		sku := sample.Products[0].Variants[0].SKU
		if _, _, err := store.VariantBySKU(ctx, sku); err == nil {
			fmt.Fprintf(stdout, "the sample catalog is already loaded (%s exists); nothing was added. Use catalog seed N to add N synthetic products.\n", sku)
			return nil
		}
		categories, total = sample.Categories, len(sample.Products)
	} else {
		// A second seed continues the numbering, so it adds N products instead of colliding.
		if first, err = seed.NextSynthetic(ctx, store); err != nil {
			return err
		}
		categories, _ = seed.SyntheticCategories()
	}
	existing, err := store.Categories(ctx)
	if err != nil {
		return err
	}
	had := map[string]bool{}
	for _, cat := range existing {
		had[cat.Slug] = true
	}
	newCategories := 0
	for _, cat := range categories {
		if !had[cat.Slug] {
			newCategories++
		}
	}
	start := time.Now()
	var progress func(done, total int)
	if isTerminal(stderr) {
		progress = func(done, total int) {
			rate := float64(done) / time.Since(start).Seconds()
			fmt.Fprintf(stderr, "\r%s %3d%%  %d/%d products  %.0f/s ", bar(done, total, 30), done*100/total, done, total, rate)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	if n == 0 {
		err = seed.Load(ctx, store, sample, progress)
	} else {
		err = seed.LoadSynthetic(ctx, store, first, n, uint64(time.Now().UnixNano()), progress)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d categories and %d products in %s (%.0f products/s)\n",
		newCategories, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if newCategories < len(categories) {
		fmt.Fprintf(stdout, "%d categories were already there and were kept as they are\n", len(categories)-newCategories)
	}
	if n > 0 {
		fmt.Fprintf(stdout, "added SKUs %s to %s; a product's further variants add -1, -2, ... to its SKU\n",
			seed.SyntheticSKU(first, 0), seed.SyntheticSKU(first+n-1, 0))
	} else if len(sample.Sales) > 0 {
		fmt.Fprintf(stdout, "opened %d sales (running now or scheduled; each ends by itself)\n", len(sample.Sales))
	}
	return nil
}

func bar(done, total, width int) string {
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// healthcheck asks the local server's /health, for container platforms without curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/health answered %s", resp.Status)
	}
	return nil
}
