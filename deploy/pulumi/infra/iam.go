package infra

import (
	"encoding/json"
	"fmt"

	"github.com/acme/catalog/internal/blueprint"

	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// statement is one IAM policy statement whose resources may be outputs (ARNs of resources the
// stack makes), so a policy names exactly what it grants.
type statement struct {
	Sid       string
	Actions   []string
	Resources []pulumi.StringInput
	Condition any // expanded, or nil
}

// newServiceRole makes a role that an AWS service assumes (trust, expanded for the deployment)
// with its one inline policy of stmts. The policy is returned so that what the role acts for
// can wait for it: a service may check its permissions when the resource is made.
func newServiceRole(ctx *pulumi.Context, cfg Config, net *Network, role blueprint.Role, trust map[string]any, stmts []statement, parent pulumi.ResourceOption) (*iam.Role, *iam.RolePolicy, error) {
	doc, err := json.Marshal(expand(trust, cfg, net))
	if err != nil {
		return nil, nil, err
	}
	roleName := cfg.ModelName(role.Resource)
	r, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		Name:             pulumi.String(roleName),
		Description:      pulumi.String(role.Description),
		AssumeRolePolicy: pulumi.String(string(doc)),
		Tags:             tags(cfg, roleName),
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	policyName := cfg.ModelName(role.Policy)
	policy, err := iam.NewRolePolicy(ctx, policyName, &iam.RolePolicyArgs{
		Name:   pulumi.String(policyName),
		Role:   r.ID(),
		Policy: policyDocument(stmts...),
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	return r, policy, nil
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
			Sid       string   `json:"Sid"`
			Effect    string   `json:"Effect"`
			Action    []string `json:"Action"`
			Resource  []string `json:"Resource"`
			Condition any      `json:"Condition,omitempty"`
		}
		doc := struct {
			Version   string          `json:"Version"`
			Statement []jsonStatement `json:"Statement"`
		}{Version: "2012-10-17"}
		i := 0
		for _, s := range stmts {
			js := jsonStatement{Sid: s.Sid, Effect: "Allow", Action: s.Actions, Condition: s.Condition}
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

// roles renders blueprint.IAM: the execution role and the task role, each with its inline
// policy naming the exact resources.
func (s *Service) roles(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, reg *Registry, db *Database, settings *Settings, events *Events, parent pulumi.ResourceOption) error {
	m := blueprint.Model().IAM
	arns := map[string]pulumi.StringOutput{
		blueprint.IDRepository:        reg.Repository.Arn,
		blueprint.IDLogsKey:           logs.Key.Arn,
		blueprint.IDAppLogGroup:       pulumi.Sprintf("%s:log-stream:*", s.LogGroup.Arn),
		blueprint.IDDBSecret:          db.SecretARN,
		blueprint.IDAPIKeySecret:      settings.APIKeys.Arn,
		blueprint.IDDBHostParameter:   settings.DBHost.Arn,
		blueprint.IDDBReaderHostParam: settings.DBReaderHost.Arn,
		blueprint.IDDBPortParameter:   settings.DBPort.Arn,
		blueprint.IDDBNameParameter:   settings.DBName.Arn,
	}
	if events.Bus != nil {
		arns[blueprint.IDEventBus] = events.Bus.Arn
	}
	trust, err := json.Marshal(expand(m.TrustPolicy, cfg, net))
	if err != nil {
		return err
	}
	for _, r := range m.Roles() {
		var stmts []statement
		for _, st := range r.StatementsIn(cfg.Choices()) {
			out := statement{Sid: st.Sid, Actions: st.Actions}
			if st.Condition != nil {
				out.Condition = expand(st.Condition, cfg, net)
			}
			for _, v := range st.Resources {
				switch {
				case v.Ref == "" && v.Text == "*":
					out.Resources = append(out.Resources, pulumi.String("*"))
				case v.With != blueprint.Always && cfg.Has(v.With):
					// An existing resource's ARN from the configuration (an existing event bus).
					text := cfg.placeholders().Replace(v.TextIn(cfg.Choices()))
					out.Resources = append(out.Resources, pulumi.String(blueprint.Expand(text, partition, net.Region, net.Account, cfg.Suffix)))
				case v.Attr == blueprint.AttrDBUserARN:
					// rds-db:connect names the user by the cluster's resource ID.
					arn := db.Cluster.ClusterResourceId.ApplyT(func(id string) string {
						return blueprint.Expand(blueprint.DBUserARN(id, v.Text), partition, net.Region, net.Account, cfg.Suffix)
					}).(pulumi.StringOutput)
					out.Resources = append(out.Resources, arn)
				default:
					arn, ok := arns[v.Ref]
					if !ok {
						return fmt.Errorf("role %s, statement %s: no ARN for %s", r.ID, st.Sid, v.Ref)
					}
					out.Resources = append(out.Resources, arn)
				}
			}
			stmts = append(stmts, out)
		}
		name := cfg.ModelName(r.Resource)
		role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
			Name:             pulumi.String(name),
			Description:      pulumi.String(r.Description),
			AssumeRolePolicy: pulumi.String(string(trust)),
			Tags:             tags(cfg, name),
		}, parent)
		if err != nil {
			return err
		}
		policyName := cfg.ModelName(r.Policy)
		if _, err = iam.NewRolePolicy(ctx, policyName, &iam.RolePolicyArgs{
			Name:   pulumi.String(policyName),
			Role:   role.ID(),
			Policy: policyDocument(stmts...),
		}, parent); err != nil {
			return err
		}
		if s.rolesByID == nil {
			s.rolesByID = map[string]*iam.Role{}
		}
		s.rolesByID[r.ID] = role
		switch r.ID {
		case blueprint.IDExecutionRole:
			s.ExecutionRole = role
		case blueprint.IDTaskRole:
			s.TaskRole = role
		}
	}
	return nil
}
