package infra

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// statement is one IAM policy statement whose resources may be outputs (ARNs of resources the
// stack makes), so a policy names exactly what it grants.
type statement struct {
	Sid       string
	Actions   []string
	Resources []pulumi.StringInput
}

// policyDocument renders statements as an IAM policy document once every ARN is known.
func policyDocument(stmts ...statement) pulumi.StringOutput {
	var inputs []any
	for _, s := range stmts {
		for _, r := range s.Resources {
			inputs = append(inputs, r)
		}
	}
	return pulumi.All(inputs...).ApplyT(func(vals []any) (string, error) {
		type jsonStatement struct {
			Sid      string   `json:"Sid"`
			Effect   string   `json:"Effect"`
			Action   []string `json:"Action"`
			Resource []string `json:"Resource"`
		}
		doc := struct {
			Version   string          `json:"Version"`
			Statement []jsonStatement `json:"Statement"`
		}{Version: "2012-10-17"}
		i := 0
		for _, s := range stmts {
			js := jsonStatement{Sid: s.Sid, Effect: "Allow", Action: s.Actions}
			for range s.Resources {
				arn, ok := vals[i].(string)
				if !ok || arn == "" {
					return "", fmt.Errorf("policy statement %s: resource %d is %v, want an ARN", s.Sid, i, vals[i])
				}
				js.Resource = append(js.Resource, arn)
				i++
			}
			doc.Statement = append(doc.Statement, js)
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
}

// ecsTrustPolicy lets ECS tasks of this account and region assume a role, and no one else's
// (the conditions guard against the confused deputy).
func ecsTrustPolicy(account, region string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",`+
		`"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:%s:%s:*"},"StringEquals":{"aws:SourceAccount":%q}}}]}`, region, account, account)
}

// roles makes the execution role (ECS pulls the image, writes logs and resolves the
// container's secrets with it) and the task role (the app's own calls: reading the rotated
// database password). Each policy names the exact resources; the only "*" is
// ecr:GetAuthorizationToken, which has no resource to name.
func (s *Service) roles(ctx *pulumi.Context, cfg Config, net *Network, reg *Registry, db *Database, settings *Settings, parent pulumi.ResourceOption) error {
	role := func(purpose, description string, policy pulumi.StringOutput) (*iam.Role, error) {
		name := cfg.Name("role", purpose)
		r, err := iam.NewRole(ctx, name, &iam.RoleArgs{
			Name:             pulumi.String(name),
			Description:      pulumi.String(description),
			AssumeRolePolicy: pulumi.String(ecsTrustPolicy(net.Account, net.Region)),
			Tags:             tags(cfg, name),
		}, parent)
		if err != nil {
			return nil, err
		}
		_, err = iam.NewRolePolicy(ctx, cfg.Name("policy", purpose), &iam.RolePolicyArgs{
			Name:   pulumi.String(cfg.Name("policy", purpose)),
			Role:   r.ID(),
			Policy: policy,
		}, parent)
		return r, err
	}
	var err error
	s.ExecutionRole, err = role("task-execution", "Catalog ECS agent: pull the image, write logs, resolve the container's secrets", policyDocument(
		statement{Sid: "ECRAuth", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []pulumi.StringInput{pulumi.String("*")}},
		statement{Sid: "ECRPull", Actions: []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"},
			Resources: []pulumi.StringInput{reg.Repository.Arn}},
		statement{Sid: "Logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("%s:log-stream:*", s.LogGroup.Arn)}},
		statement{Sid: "Parameters", Actions: []string{"ssm:GetParameters"},
			Resources: []pulumi.StringInput{settings.DBHost.Arn, settings.DBReaderHost.Arn, settings.DBPort.Arn, settings.DBName.Arn, settings.APIKeys.Arn}},
		statement{Sid: "DBSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []pulumi.StringInput{db.SecretARN}},
	))
	if err != nil {
		return err
	}
	s.TaskRole, err = role("task", "Catalog service: read the rotated database password", policyDocument(
		statement{Sid: "DBSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []pulumi.StringInput{db.SecretARN}},
	))
	return err
}
