package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
)

const importUsage = `usage: catalog import FILE --url URL [--key KEY] [--dry-run] [--partial] [--format csv|jsonl]

Uploads FILE (.csv, .jsonl or .ndjson, optionally .gz) to URL's POST /imports, gzip-compressed,
and follows the job: a progress bar on a terminal, a line per change of state otherwise. The key
(catalog scope) comes from --key or CATALOG_API_KEY. Exits 0 when the job succeeds (refused lines
of a --partial import are listed), 1 when it fails, with its errors.
`

// importCmd is `catalog import`: the work is internal/importer's Client; this parses and prints.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("url", "", "")
	key := fs.String("key", "", "")
	dry := fs.Bool("dry-run", false, "")
	partial := fs.Bool("partial", false, "")
	format := fs.String("format", "", "")
	// The file may come before or after the flags.
	var files []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%v\n%s", err, importUsage)
		}
		args = fs.Args()
		if len(args) > 0 {
			files, args = append(files, args[0]), args[1:]
		}
	}
	if len(files) != 1 || *base == "" {
		return errors.New(importUsage)
	}
	if *key == "" {
		*key = getenv("CATALOG_API_KEY")
	}
	if *key == "" {
		return errors.New("no key: pass --key or set CATALOG_API_KEY (a key with the catalog scope)")
	}
	f, _, ok := importer.FormatOfPath(files[0])
	switch *format {
	case "":
		if !ok {
			return fmt.Errorf("cannot tell the format of %s from its name: pass --format csv or --format jsonl", files[0])
		}
	case "csv", "jsonl":
		f = bulk.Format(*format)
	default:
		return fmt.Errorf("--format must be csv or jsonl, not %q", *format)
	}
	c := &importer.Client{URL: *base, Key: *key}
	start := time.Now()
	job, info, err := c.Upload(ctx, files[0], f, *dry, *partial)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	tty := isTerminal(stdout)
	fmt.Fprintf(stdout, "uploaded %s (%d bytes) as import %s\n", files[0], job.Bytes, job.ID)
	last := catalog.ImportState("")
	job, err = c.Follow(ctx, job.ID, func(j catalog.ImportJob) {
		switch {
		case tty && !j.State.Finished() && info.Lines > 0:
			done := min(j.Lines, info.Lines)
			fmt.Fprintf(stdout, "\r%-10s %s %3d%%  %d products, %d refused ", j.State, bar(int(done), int(info.Lines), 30), done*100/info.Lines, j.Products, j.Failed)
		case !tty && j.State != last:
			fmt.Fprintf(stdout, "%s: %d lines, %d products read, %d created, %d updated, %d refused\n", j.State, j.Lines, j.Products, j.Created, j.Updated, j.Failed)
		}
		if tty && j.State.Finished() && last != "" && info.Lines > 0 {
			fmt.Fprintln(stdout)
		}
		last = j.State
	})
	if err != nil {
		return fmt.Errorf("following import %s: %w", job.ID, err)
	}
	verb := "created"
	if job.DryRun {
		verb = "would create"
	}
	fmt.Fprintf(stdout, "import %s %s in %s: %d products, %s %d, updated %d, refused %d\n", job.ID, job.State,
		time.Since(start).Round(time.Millisecond), job.Products, verb, job.Created, job.Updated, job.Failed)
	for _, p := range job.Errors {
		if p.Field != "" {
			fmt.Fprintf(stderr, "line %d: %s: %s\n", p.Line, p.Field, p.Rule)
		} else {
			fmt.Fprintf(stderr, "line %d: %s\n", p.Line, p.Rule)
		}
	}
	if n := job.Failed - int64(len(job.Errors)); n > 0 && len(job.Errors) > 0 {
		fmt.Fprintf(stderr, "(and more: %d refused products in all; the first %d problems are listed)\n", job.Failed, len(job.Errors))
	}
	if job.State == catalog.ImportFailed {
		return fmt.Errorf("import %s failed: %s", job.ID, strings.TrimSpace(job.Reason))
	}
	return nil
}
