package infra

import (
	"encoding/json"
	"fmt"

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
