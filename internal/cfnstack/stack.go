// Package cfnstack builds the catalog's AWS stack as a CloudFormation template: network, load
// balancer, service, scaling, database, secrets and configuration, IAM, observability and the
// container registry. Build is a pure function of its options; every number and name comes
// from package blueprint, which the Pulumi program reads too.
package cfnstack

import (
	"fmt"
	"sort"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Options tune the template. The zero value builds the template the repository commits.
type Options struct {
	// DefaultEnvironment is the Environment parameter's default; empty means "dev".
	DefaultEnvironment string
}

// ManagedBy is the value of every resource's ManagedBy tag.
const ManagedBy = "cloudformation"

// Build returns the catalog stack's template.
func Build(opts Options) (*cfn.Template, error) {
	if opts.DefaultEnvironment == "" {
		opts.DefaultEnvironment = "dev"
	}
	if _, err := blueprint.LookupEnvironment(opts.DefaultEnvironment); err != nil {
		return nil, err
	}
	if err := blueprint.Model().Service.TaskSize.Valid(); err != nil {
		return nil, err
	}
	b := &builder{m: blueprint.Model(), t: cfn.New("Catalog service: ECS Fargate behind an internet-facing ALB, Aurora PostgreSQL Serverless v2, " +
		"Secrets Manager and Parameter Store configuration, CloudWatch logs, alarms and dashboard, and an ECR repository, " +
		"across three availability zones. Resource names follow {type}-{purpose}-{EnvironmentSuffix}.")}
	steps := []func(Options) error{
		b.parameters,
		b.network,
		b.securityGroups,
		b.registry,
		b.logs,
		b.observability,
		b.eventBus,
		b.database,
		b.secrets,
		b.iam,
		b.loadBalancer,
		b.cdn,
		b.firewall,
		b.flowLogs,
		b.service,
		b.scaling,
		b.saleWarm,
		b.alarms,
		b.dashboard,
		b.outputs,
	}
	for _, step := range steps {
		if err := step(opts); err != nil {
			return nil, err
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	return b.t, nil
}

// builder accumulates the template; the first error sticks so each concern's code reads as a
// list of resources rather than a ladder of error checks.
type builder struct {
	m   blueprint.Architecture
	t   *cfn.Template
	err error
	// tagging and resources index the model by ID, for add.
	tagging   map[string]blueprint.Tagging
	resources map[string]blueprint.Resource
}

// add adds a resource. Every resource is deleted with the stack and on replacement, and carries
// the tags the model gives it (blueprint.Architecture.Tags): the renderer decides none.
func (b *builder) add(id, typ string, props map[string]any, opts ...func(*cfn.Resource)) {
	if b.tagging == nil {
		b.tagging, b.resources = b.m.Tags(), map[string]blueprint.Resource{}
		for _, r := range b.m.Resources() {
			b.resources[r.ID] = r
		}
	}
	if tg := b.tagging[id]; tg.Common {
		var nameTag any
		if tg.Name {
			nameTag = modelName(b.resources[id])
		}
		if typ == "AWS::SSM::Parameter" {
			props["Tags"] = tagMap() // the one type that takes tags as an object
		} else {
			props["Tags"] = tags(nameTag)
		}
	}
	r := &cfn.Resource{Type: typ, Properties: props, DeletionPolicy: cfn.Delete, UpdateReplacePolicy: cfn.Delete}
	for _, o := range opts {
		o(r)
	}
	if err := b.t.Add(id, r); err != nil && b.err == nil {
		b.err = err
	}
}

// modelName returns the name of a model resource, the suffix being the EnvironmentSuffix
// parameter.
func modelName(r blueprint.Resource) cfn.Fn { return name(r.Kind, r.Purpose) }

// condition returns the template condition that decides a model option.
func (b *builder) condition(o blueprint.Option) string {
	c, ok := optionConditions[o]
	if !ok {
		b.fail("cfnstack: option %q has no template condition", o)
	}
	return c
}

// optionConditions are the template conditions that decide the model's options at deploy time.
var optionConditions = map[blueprint.Option]string{
	blueprint.WithNATPerAZ:           CondNATPerAZ,
	blueprint.WithInterfaceEndpoints: CondCreateInterfaceEndpoints,
	blueprint.WithCertificate:        CondHasCertificate,
	blueprint.WithWebACL:             CondHasWebACL,
	blueprint.WithAlertEmail:         CondHasAlertEmail,
	blueprint.WithImage:              CondHasImage,
	blueprint.WithSale:               CondHasSale,
	blueprint.WithCloudFront:         CondCloudFront,
	blueprint.WithOwnWebACL:          CondOwnWebACL,
	blueprint.WithFlowLogs:           CondFlowLogs,
	blueprint.WithEventBus:           CondPublishEvents,
	blueprint.WithExistingEventBus:   CondExistingEventBus,
	// Options that hold together.
	blueprint.OwnBus: CondEventBus,
	blueprint.AllOf(blueprint.WithInterfaceEndpoints, blueprint.WithEventBus): CondEventsEndpoint,
	blueprint.AllOf(blueprint.WithImage, blueprint.WithEventBus):              CondEventAlarms,
	// Negated options, for what exists only without one.
	blueprint.Without(blueprint.WithCloudFront): CondNoCloudFront,
}

// when makes a resource exist under a model option (always, for blueprint.Always).
func (b *builder) when(o blueprint.Option) func(*cfn.Resource) {
	if o == blueprint.Always {
		return func(*cfn.Resource) {}
	}
	return when(b.condition(o))
}

// when makes a resource conditional.
func when(condition string) func(*cfn.Resource) {
	return func(r *cfn.Resource) { r.Condition = condition }
}

// dependsOn adds explicit dependencies the properties do not already imply.
func dependsOn(ids ...string) func(*cfn.Resource) {
	return func(r *cfn.Resource) {
		r.DependsOn = append(r.DependsOn, ids...)
		sort.Strings(r.DependsOn)
	}
}

// name returns the {kind}-{purpose}-{suffix} name of a resource, the suffix being the
// EnvironmentSuffix parameter.
func name(kind, purpose string) cfn.Fn {
	return cfn.Sub(blueprint.Name(kind, purpose, "${"+ParamEnvironmentSuffix+"}"))
}

// tags returns the tags every taggable resource carries; a non-nil nameTag adds a Name tag,
// which the EC2 console shows.
func tags(nameTag any) []cfn.Tag {
	t := []cfn.Tag{
		{Key: blueprint.TagProject, Value: blueprint.Project},
		{Key: blueprint.TagEnvironment, Value: cfn.Ref(ParamEnvironment)},
		{Key: blueprint.TagCostCenter, Value: cfn.FindInMap(MapEnvironment, cfn.Ref(ParamEnvironment), "CostCenter")},
		{Key: blueprint.TagManagedBy, Value: ManagedBy},
	}
	if nameTag != nil {
		t = append(t, cfn.Tag{Key: "Name", Value: nameTag})
	}
	return t
}

// tagMap returns the same tags as a key-value object, the form AWS::SSM::Parameter takes.
func tagMap() map[string]any {
	m := map[string]any{}
	for _, t := range tags(nil) {
		m[t.Key] = t.Value
	}
	return m
}

// az returns the index-th availability zone: from the AvailabilityZones parameter when it is
// set, else from Fn::GetAZs, which lists only zones with a default subnet when the account has
// any (never a Local Zone, which has none).
func az(index int) any {
	return cfn.If(CondDefaultAZs,
		cfn.Select(index, cfn.GetAZs("")),
		cfn.Select(index, cfn.Split(",", cfn.Ref(ParamAvailabilityZones))))
}

// refs returns a Ref for each ID.
func refs(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = cfn.Ref(id)
	}
	return out
}

// fail records the first error.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}
