// Command catalog is the product catalog service. Subcommands: serve (default), migrate, seed,
// import, healthcheck and version. Configuration comes from environment variables (see the README).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: catalog [command]

commands:
  serve [-cpuprofile FILE]
                run the HTTP API (the default); -cpuprofile writes a CPU profile of the
                run, until SIGTERM
  migrate       apply pending schema migrations and exit
  seed [-synthetic] [N]
                load the sample catalog, or N synthetic products (about 4 variants each)
                for load tests
  import FILE --url URL [--key KEY] [--dry-run] [--partial]
                upload a CSV or JSONL file to a running service's POST /imports and follow
                the job (see the README, "Bulk import")
  healthcheck   exit 0 when /health on the local port answers 200 (container health checks)
  version       print the version

Configuration is read from environment variables; see the README.
`

// run is the whole program, minus the process: tests call it with their own arguments,
// environment and outputs. ctx ending means SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout)
	case "migrate":
		err = migrateCmd(ctx, args, getenv, stdout)
	case "seed":
		err = seedCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		err = importCmd(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, args, getenv)
	case "version":
		fmt.Fprintln(stdout, "catalog", version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "catalog: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "catalog %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
