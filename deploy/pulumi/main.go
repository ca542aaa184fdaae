// Command pulumi is the catalog's AWS stack as a Pulumi program; infra holds the program.
package main

import (
	"time"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		c := config.New(ctx, infra.ConfigNamespace)
		return infra.Program(func(key string) (string, bool) {
			v, err := c.Try(key)
			return v, err == nil
		}, func(key string) bool {
			return ctx.IsConfigSecret(infra.ConfigNamespace + ":" + key)
		}, time.Now)(ctx)
	})
}
