package infra

import (
	"encoding/json"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LogEncryption renders the model's logs key (blueprint.Observability): the customer-managed
// KMS key the log groups and the alarm topic are encrypted with, and its alias.
type LogEncryption struct {
	pulumi.ResourceState

	Key   *kms.Key
	Alias *kms.Alias
	// AppLogGroup and DBLogGroup are the log groups' paths.
	AppLogGroup, DBLogGroup string
}

// partition is the AWS partition the program deploys to: the commercial one. (The provider
// would say, through aws.getPartition; the program has never deployed elsewhere.)
const partition = "aws"

// NewLogEncryption makes the key.
func NewLogEncryption(ctx *pulumi.Context, cfg Config, net *Network, opts ...pulumi.ResourceOption) (*LogEncryption, error) {
	m := blueprint.Model().Observability
	l := &LogEncryption{AppLogGroup: blueprint.AppLogGroupPath(cfg.Suffix), DBLogGroup: blueprint.DBLogGroupPath(cfg.Suffix)}
	parent, err := newComponent(ctx, cfg, "LogEncryption", "logs-key", l, opts...)
	if err != nil {
		return nil, err
	}
	policy, err := json.Marshal(expand(m.LogsKeyPolicy, cfg, net))
	if err != nil {
		return nil, err
	}
	keyName := cfg.ModelName(m.LogsKey)
	l.Key, err = kms.NewKey(ctx, keyName, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the catalog log groups and alarm topic of %s", cfg.Suffix),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(blueprint.KeyPendingWindowDays),
		Policy:               pulumi.String(string(policy)),
		Tags:                 tags(cfg, keyName),
	}, parent)
	if err != nil {
		return nil, err
	}
	l.Alias, err = kms.NewAlias(ctx, cfg.ModelName(m.LogsKeyAlias), &kms.AliasArgs{
		Name:        pulumi.String("alias/" + keyName),
		TargetKeyId: l.Key.KeyId,
	}, parent)
	if err != nil {
		return nil, err
	}
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{"keyArn": l.Key.Arn})
}

// newLogGroup makes one of the model's log groups, encrypted with the key. The app's and the
// database's groups are made by the Service and Database components, their parents since the
// first deploy: moving them would replace them, and a replaced log group loses its logs.
func newLogGroup(ctx *pulumi.Context, cfg Config, logs *LogEncryption, id string, parent pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	for _, g := range blueprint.Model().Observability.LogGroups {
		if g.ID != id {
			continue
		}
		path := blueprint.Expand(g.Path, partition, "", "", cfg.Suffix)
		return cloudwatch.NewLogGroup(ctx, cfg.ModelName(g.Resource), &cloudwatch.LogGroupArgs{
			Name:            pulumi.String(path),
			RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
			KmsKeyId:        logs.Key.Arn,
			Tags:            tags(cfg, path),
		}, parent)
	}
	return nil, errUnknownModelID(id)
}

// expand replaces the model's placeholders in every string of v with this stack's values.
func expand(v any, cfg Config, net *Network) any {
	switch t := v.(type) {
	case string:
		return blueprint.Expand(t, partition, net.Region, net.Account, cfg.Suffix)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = expand(x, cfg, net)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = expand(x, cfg, net)
		}
		return out
	}
	return v
}
