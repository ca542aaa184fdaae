package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Firewall logical IDs (the model's).
const (
	IDOwnWebACL            = blueprint.IDOwnWebACL
	IDOwnWebACLAssociation = blueprint.IDOwnWebACLAssociation
)

// firewall renders blueprint.Edge.Firewall: the stack's own web ACL and its association with
// the load balancer. Translation: the rate rule's key is an Fn::If on CloudFront (the viewer
// address header CloudFront's function sets, else the source address).
func (b *builder) firewall(Options) error {
	f := b.m.Edge.Firewall
	visibility := func(rule string) map[string]any {
		return map[string]any{"CloudWatchMetricsEnabled": true, "SampledRequestsEnabled": true, "MetricName": expand(f.MetricName(rule))}
	}
	var rules []any
	for _, r := range f.Rules {
		rule := map[string]any{"Name": r.Name, "Priority": r.Priority, "VisibilityConfig": visibility(r.Name)}
		if r.Managed {
			var overrides []any
			for _, c := range f.Managed.CountRules {
				overrides = append(overrides, map[string]any{"Name": c.Name, "ActionToUse": map[string]any{"Count": map[string]any{}}})
			}
			rule["OverrideAction"] = map[string]any{"None": map[string]any{}}
			rule["Statement"] = map[string]any{"ManagedRuleGroupStatement": map[string]any{
				"VendorName": f.Managed.Vendor, "Name": f.Managed.Name, "RuleActionOverrides": overrides,
			}}
		} else {
			limit := map[string]any{"Limit": cfn.Ref(ParamWebACLRateLimit), "EvaluationWindowSec": f.RateWindowSeconds}
			byHeader := map[string]any{"AggregateKeyType": "FORWARDED_IP",
				"ForwardedIPConfig": map[string]any{"HeaderName": f.RateKeyHeader, "FallbackBehavior": f.RateFallback}}
			bySource := map[string]any{"AggregateKeyType": "IP"}
			for k, v := range limit {
				byHeader[k], bySource[k] = v, v
			}
			rule["Action"] = map[string]any{"Block": map[string]any{"CustomResponse": map[string]any{
				"ResponseCode":          f.RateResponseStatus,
				"CustomResponseBodyKey": f.RateResponseKey,
				"ResponseHeaders":       []any{map[string]any{"Name": "Retry-After", "Value": f.RateRetryAfter}},
			}}}
			rule["Statement"] = map[string]any{"RateBasedStatement": cfn.If(b.condition(f.RateKeyHeaderWhen), byHeader, bySource)}
		}
		rules = append(rules, rule)
	}
	b.add(f.WebACL.ID, "AWS::WAFv2::WebACL", map[string]any{
		"Name":             modelName(f.WebACL),
		"Scope":            f.Scope,
		"Description":      "Catalog: AWS managed common rules and a rate limit per client",
		"DefaultAction":    map[string]any{"Allow": map[string]any{}},
		"VisibilityConfig": visibility(""),
		"CustomResponseBodies": map[string]any{f.RateResponseKey: map[string]any{
			"ContentType": "APPLICATION_JSON", "Content": f.RateResponseBody,
		}},
		"Rules": rules,
	}, b.when(f.WebACL.When))
	b.add(f.Association.ID, "AWS::WAFv2::WebACLAssociation", map[string]any{
		"ResourceArn": cfn.Ref(IDLoadBalancer),
		"WebACLArn":   cfn.GetAtt(f.WebACL.ID, "Arn"),
	}, b.when(f.Association.When))
	return nil
}

// serviceRole adds role, which an AWS service assumes (trust), with its one inline policy.
func (b *builder) serviceRole(role blueprint.Role, trust map[string]any) {
	var statements []any
	for _, s := range role.Statements {
		var resources []any
		for _, v := range s.Resources {
			resources = append(resources, b.value(v))
		}
		statements = append(statements, map[string]any{"Sid": s.Sid, "Effect": "Allow", "Action": s.Actions, "Resource": resources})
	}
	b.add(role.ID, "AWS::IAM::Role", map[string]any{
		"RoleName":                 modelName(role.Resource),
		"Description":              role.Description,
		"AssumeRolePolicyDocument": expand(trust),
		"Policies": []any{map[string]any{
			"PolicyName":     modelName(role.Policy),
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements},
		}},
	}, b.when(role.When))
}

// flowLogs renders blueprint.Network.FlowLogs: the role the flow-logs service assumes and the
// VPC's flow log (the log group is one of the model's log groups: logs).
func (b *builder) flowLogs(Options) error {
	f := b.m.Network.FlowLogs
	b.serviceRole(f.Role, f.Trust)
	b.add(f.FlowLog.ID, "AWS::EC2::FlowLog", map[string]any{
		"ResourceType":             "VPC",
		"ResourceId":               cfn.Ref(IDVPC),
		"TrafficType":              f.TrafficType,
		"LogDestinationType":       "cloud-watch-logs",
		"LogDestination":           cfn.GetAtt(f.LogGroup, "Arn"),
		"DeliverLogsPermissionArn": cfn.GetAtt(f.Role.ID, "Arn"),
		"MaxAggregationInterval":   f.MaxAggregationSeconds,
	}, b.when(f.FlowLog.When))
	return nil
}
