package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// IAM logical IDs (the model's).
const (
	IDExecutionRole = blueprint.IDExecutionRole
	IDTaskRole      = blueprint.IDTaskRole
)

// WildcardResourceActions are the only actions granted on Resource "*" (the model's).
var WildcardResourceActions = blueprint.WildcardResourceActions

// iam renders blueprint.IAM: each role with its policy inline.
func (b *builder) iam(Options) error {
	m := b.m.IAM
	for _, r := range m.Roles() {
		render := func(s blueprint.Statement) map[string]any {
			var resources []any
			for _, v := range s.Resources {
				resources = append(resources, b.value(v))
			}
			st := map[string]any{"Sid": s.Sid, "Effect": "Allow", "Action": s.Actions, "Resource": resources}
			if s.Condition != nil {
				st["Condition"] = expand(s.Condition)
			}
			return st
		}
		var statements []any
		for _, s := range r.Statements {
			statements = append(statements, render(s))
		}
		// A statement on a resource that exists only under an option exists only with it.
		for _, o := range r.OptionalStatements {
			statements = append(statements, cfn.If(b.condition(o.When), render(o.Statement), cfn.NoValue()))
		}
		b.add(r.ID, "AWS::IAM::Role", map[string]any{
			"RoleName":                 modelName(r.Resource),
			"Description":              r.Description,
			"AssumeRolePolicyDocument": expand(m.TrustPolicy),
			"Policies": []any{map[string]any{
				"PolicyName":     modelName(r.Policy),
				"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements},
			}},
		}, b.when(r.When))
	}
	return nil
}
