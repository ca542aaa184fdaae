// Command cfngen writes the catalog stack's CloudFormation template, to standard output or to
// the file named by -o.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/acme/catalog/internal/cfnstack"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cfngen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cfngen", flag.ContinueOnError)
	out := fs.String("o", "", "write the template to this file instead of standard output")
	env := fs.String("environment", "", "default of the Environment parameter (dev, staging or prod; default dev)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tpl, err := cfnstack.Build(cfnstack.Options{DefaultEnvironment: *env})
	if err != nil {
		return err
	}
	b, err := tpl.JSON()
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}
