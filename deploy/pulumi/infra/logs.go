package infra

import (
	"encoding/json"
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LogEncryption is the customer-managed KMS key the stack's log groups are encrypted with, as
// in the CloudFormation template: CloudWatch Logs may use it for exactly the app and database
// log groups, and it is deleted after the shortest pending window.
type LogEncryption struct {
	pulumi.ResourceState

	Key   *kms.Key
	Alias *kms.Alias
	// AppLogGroup and DBLogGroup are the names the key admits.
	AppLogGroup, DBLogGroup string
}

// keyPendingWindowDays is the shortest KMS deletion window, so a destroyed stack leaves no key
// behind for long.
const keyPendingWindowDays = 7

// appLogGroupName and dbLogGroupName are the stack's log groups (the database's name is fixed
// by RDS).
func appLogGroupName(cfg Config) string { return "/ecs/" + cfg.Name("svc", blueprint.Project) }
func dbLogGroupName(cfg Config) string {
	return "/aws/rds/cluster/" + cfg.Name("db", blueprint.Project) + "/postgresql"
}

// NewLogEncryption makes the key.
func NewLogEncryption(ctx *pulumi.Context, cfg Config, net *Network, opts ...pulumi.ResourceOption) (*LogEncryption, error) {
	l := &LogEncryption{AppLogGroup: appLogGroupName(cfg), DBLogGroup: dbLogGroupName(cfg)}
	parent, err := newComponent(ctx, cfg, "LogEncryption", "logs-key", l, opts...)
	if err != nil {
		return nil, err
	}
	policy, err := logsKeyPolicy(net.Account, net.Region, l.AppLogGroup, l.DBLogGroup)
	if err != nil {
		return nil, err
	}
	keyName := cfg.Name("kms", "logs")
	l.Key, err = kms.NewKey(ctx, keyName, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the catalog log groups of %s", cfg.Suffix),
		KeyUsage:             pulumi.String("ENCRYPT_DECRYPT"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(keyPendingWindowDays),
		Policy:               pulumi.String(policy),
		Tags:                 tags(cfg, keyName),
	}, parent)
	if err != nil {
		return nil, err
	}
	l.Alias, err = kms.NewAlias(ctx, cfg.Name("alias", "kms-logs"), &kms.AliasArgs{
		Name:        pulumi.String("alias/" + keyName),
		TargetKeyId: l.Key.KeyId,
	}, parent)
	if err != nil {
		return nil, err
	}
	return l, ctx.RegisterResourceOutputs(l, pulumi.Map{"keyArn": l.Key.Arn})
}

// logsKeyPolicy lets the account administer the key and CloudWatch Logs use it for the two
// named log groups only.
func logsKeyPolicy(account, region string, logGroups ...string) (string, error) {
	var arns []string
	for _, g := range logGroups {
		arns = append(arns, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, account, g))
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid": "AccountAdministers", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
				"Action":    "kms:*", "Resource": "*",
			},
			map[string]any{
				"Sid": "LogsEncryptStackLogGroups", "Effect": "Allow",
				"Principal": map[string]any{"Service": "logs." + region + ".amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
				"Resource":  "*",
				"Condition": map[string]any{"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": arns}},
			},
			map[string]any{
				"Sid": "CloudWatchAlarmsPublishToTopic", "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": account}},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
