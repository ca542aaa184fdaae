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

// movedFromService is the option that keeps the resources of the registry and the load balancer,
// which were children of the Service component until it was split by concern, the same
// resources: without the alias their URNs change and Pulumi would replace them (a new ALB DNS
// name; an emptied repository).
func movedFromService(ctx *pulumi.Context, cfg Config) pulumi.ResourceOption {
	return pulumi.Aliases([]pulumi.Alias{{ParentURN: serviceComponentURN(ctx, cfg)}})
}

// serviceComponentURN is the URN of the Service component, a child of the stack.
func serviceComponentURN(ctx *pulumi.Context, cfg Config) pulumi.URNOutput {
	return pulumi.CreateURN(pulumi.String(cfg.Name("component", "service")), pulumi.String(componentType+"Service"), nil,
		pulumi.String(ctx.Project()), pulumi.String(ctx.Stack()))
}
