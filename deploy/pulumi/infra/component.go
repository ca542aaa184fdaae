package infra

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// errUnknownModelID says a renderer asked the model for a resource it does not have.
func errUnknownModelID(id string) error {
	return fmt.Errorf("the blueprint model has no resource %s", id)
}

// componentType is the type-token prefix of the program's component resources.
const componentType = "catalog:infra:"

// newComponent registers a component resource of the given kind ("Network", ...) named
// {kind lower-case}-catalog-{suffix} and returns the option that parents resources to it.
func newComponent(ctx *pulumi.Context, cfg Config, kind, purpose string, comp pulumi.ComponentResource, opts ...pulumi.ResourceOption) (pulumi.ResourceOption, error) {
	if err := ctx.RegisterComponentResource(componentType+kind, cfg.Name("component", purpose), comp, opts...); err != nil {
		return nil, err
	}
	return pulumi.Parent(comp), nil
}

// tags returns the common tags plus a Name tag, so the console shows the resource's name even
// where the resource has no name of its own.
func tags(cfg Config, name string) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range cfg.Tags() {
		m[k] = pulumi.String(v)
	}
	if name != "" {
		m["Name"] = pulumi.String(name)
	}
	return m
}
