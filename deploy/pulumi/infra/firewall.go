package infra

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// viewerFunction renders blueprint.CDN.ViewerFunction: the viewer-request function that sets
// blueprint.ViewerIPHeader to the viewer's address.
func viewerFunction(ctx *pulumi.Context, cfg Config, m blueprint.CDN, parent pulumi.ResourceOption) (*cloudfront.Function, error) {
	// The load balancer component's resources carry the alias from when they were the
	// Service's; for this one the alias is harmless and keeps one rule for the component.
	name := cfg.ModelName(m.ViewerFunction)
	return cloudfront.NewFunction(ctx, name, &cloudfront.FunctionArgs{
		Name:    pulumi.String(name),
		Runtime: pulumi.String(m.ViewerFunctionRuntime),
		Code:    pulumi.String(m.ViewerFunctionCode),
		Comment: pulumi.String("Sets " + blueprint.ViewerIPHeader + " to the viewer's address CloudFront saw (a viewer cannot forge it)"),
		Publish: pulumi.Bool(true),
		Tags:    tags(cfg, name),
	}, parent, movedFromService(ctx, cfg))
}

// firewall renders blueprint.Edge.Firewall: the stack's own web ACL and its association with
// the load balancer.
func (s *LoadBalancer) firewall(ctx *pulumi.Context, cfg Config, f blueprint.Firewall, parent pulumi.ResourceOption) error {
	metric := func(rule string) string { return blueprint.Expand(f.MetricName(rule), partition, "", "", cfg.Suffix) }
	var rules wafv2.WebAclRuleTypeArray
	for _, r := range f.Rules {
		rule := wafv2.WebAclRuleTypeArgs{
			Name:     pulumi.String(r.Name),
			Priority: pulumi.Int(r.Priority),
			VisibilityConfig: wafv2.WebAclRuleVisibilityConfigArgs{
				CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric(r.Name)),
			},
		}
		if r.Managed {
			var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
			for _, c := range f.Managed.CountRules {
				overrides = append(overrides, wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
					Name: pulumi.String(c.Name),
					ActionToUse: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
						Count: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
					},
				})
			}
			rule.OverrideAction = wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}}
			rule.Statement = wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				VendorName: pulumi.String(f.Managed.Vendor), Name: pulumi.String(f.Managed.Name), RuleActionOverrides: overrides,
			}}
		} else {
			rate := wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:               pulumi.Int(cfg.WebACLRateLimit),
				EvaluationWindowSec: pulumi.Int(f.RateWindowSeconds),
				AggregateKeyType:    pulumi.String("IP"),
			}
			if cfg.Has(f.RateKeyHeaderWhen) {
				rate.AggregateKeyType = pulumi.String("FORWARDED_IP")
				rate.ForwardedIpConfig = wafv2.WebAclRuleStatementRateBasedStatementForwardedIpConfigArgs{
					HeaderName: pulumi.String(f.RateKeyHeader), FallbackBehavior: pulumi.String(f.RateFallback),
				}
			}
			rule.Action = wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{
				CustomResponse: wafv2.WebAclRuleActionBlockCustomResponseArgs{
					ResponseCode:          pulumi.Int(f.RateResponseStatus),
					CustomResponseBodyKey: pulumi.String(f.RateResponseKey),
					ResponseHeaders: wafv2.WebAclRuleActionBlockCustomResponseResponseHeaderArray{
						wafv2.WebAclRuleActionBlockCustomResponseResponseHeaderArgs{Name: pulumi.String("Retry-After"), Value: pulumi.String(f.RateRetryAfter)},
					},
				},
			}}
			rule.Statement = wafv2.WebAclRuleStatementArgs{RateBasedStatement: rate}
		}
		rules = append(rules, rule)
	}
	name := cfg.ModelName(f.WebACL)
	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name:          pulumi.String(name),
		Scope:         pulumi.String(f.Scope),
		Description:   pulumi.String("Catalog: AWS managed common rules and a rate limit per client"),
		DefaultAction: wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), SampledRequestsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric("")),
		},
		CustomResponseBodies: wafv2.WebAclCustomResponseBodyArray{wafv2.WebAclCustomResponseBodyArgs{
			Key: pulumi.String(f.RateResponseKey), ContentType: pulumi.String("APPLICATION_JSON"), Content: pulumi.String(f.RateResponseBody),
		}},
		Rules: rules,
		Tags:  tags(cfg, name),
	}, parent, movedFromService(ctx, cfg))
	if err != nil {
		return err
	}
	s.WebACL = acl
	_, err = wafv2.NewWebAclAssociation(ctx, cfg.ModelName(f.Association), &wafv2.WebAclAssociationArgs{
		ResourceArn: s.LoadBalancer.Arn,
		WebAclArn:   acl.Arn,
	}, parent, movedFromService(ctx, cfg))
	return err
}

// FlowLogs renders blueprint.Network.FlowLogs: the VPC's flow log, its log group under the
// stack's key, and the role the flow-logs service assumes.
type FlowLogs struct {
	pulumi.ResourceState

	FlowLog  *ec2.FlowLog
	LogGroup *cloudwatch.LogGroup
	Role     *iam.Role
}

// NewFlowLogs makes the flow log, with WithFlowLogs; nil without.
func NewFlowLogs(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, opts ...pulumi.ResourceOption) (*FlowLogs, error) {
	m := blueprint.Model().Network.FlowLogs
	if !cfg.Has(m.FlowLog.When) {
		return nil, nil
	}
	f := &FlowLogs{}
	parent, err := newComponent(ctx, cfg, "FlowLogs", "flow-logs", f, opts...)
	if err != nil {
		return nil, err
	}
	if f.LogGroup, err = newLogGroup(ctx, cfg, logs, m.LogGroup, parent); err != nil {
		return nil, err
	}
	var stmts []statement
	for _, st := range m.Role.Statements {
		out := statement{Sid: st.Sid, Actions: st.Actions}
		for _, v := range st.Resources {
			switch {
			case v.Ref == m.LogGroup && v.Attr == blueprint.AttrLogStreams:
				out.Resources = append(out.Resources, pulumi.Sprintf("%s:*", f.LogGroup.Arn))
			case v.Ref == "":
				out.Resources = append(out.Resources, pulumi.String(expand(v.Text, cfg, net).(string)))
			default:
				return nil, errUnknownModelID(v.Ref)
			}
		}
		stmts = append(stmts, out)
	}
	var policy *iam.RolePolicy
	if f.Role, policy, err = newServiceRole(ctx, cfg, net, m.Role, m.Trust, stmts, parent); err != nil {
		return nil, err
	}
	name := cfg.ModelName(m.FlowLog)
	// The policy first: the flow-logs service checks its permissions when the flow log is made.
	if f.FlowLog, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  net.VPC.ID(),
		TrafficType:            pulumi.String(m.TrafficType),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         f.LogGroup.Arn,
		IamRoleArn:             f.Role.Arn,
		MaxAggregationInterval: pulumi.Int(m.MaxAggregationSeconds),
		Tags:                   tags(cfg, name),
	}, parent, pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
		return nil, err
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"flowLogId": f.FlowLog.ID()})
}
