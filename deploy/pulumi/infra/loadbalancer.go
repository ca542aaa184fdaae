package infra

import (
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LoadBalancer is the service's edge: the internet-facing ALB, its target group and listeners,
// and the optional WAF association.
type LoadBalancer struct {
	pulumi.ResourceState

	LoadBalancer  *lb.LoadBalancer
	TargetGroup   *lb.TargetGroup
	HTTPListener  *lb.Listener
	HTTPSListener *lb.Listener // nil without a certificate
	// Distribution and OriginSecret exist with CloudFront (nil without).
	Distribution *cloudfront.Distribution
	OriginSecret *secretsmanager.Secret
	// WebACL is the stack's own web ACL (WithOwnWebACL; nil without).
	WebACL *wafv2.WebAcl
	// URL is the load balancer's address: https when a certificate is configured.
	URL pulumi.StringOutput
	// ServiceURL is the service's address: the distribution's HTTPS URL with CloudFront, else URL.
	ServiceURL pulumi.StringOutput
	// forwardingRules attach the target group where the listener's default refuses; the service
	// waits for them.
	forwardingRules map[string]*lb.ListenerRule
}

// targetGroupNamePrefix is the target group's name prefix (at most 6 characters); the provider
// appends a random suffix.
const targetGroupNamePrefix = "tg-"

// NewLoadBalancer makes the internet-facing ALB, the target group, the HTTP listener and, with a
// certificate, the HTTPS listener (HTTP then redirects), and the optional WAF association.
func NewLoadBalancer(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	s := &LoadBalancer{}
	parent, err := newComponent(ctx, cfg, "LoadBalancer", "edge", s, opts...)
	if err != nil {
		return nil, err
	}
	moved := movedFromService(ctx, cfg)
	m := blueprint.Model().Edge
	var originValue pulumi.StringOutput
	if cfg.Has(m.CDN.OriginSecret.When) {
		if originValue, err = s.originSecret(ctx, cfg, m.CDN, logs, parent); err != nil {
			return nil, err
		}
	}
	albName := cfg.ModelName(m.LoadBalancer)
	public := pulumi.StringArray{}
	for _, id := range blueprint.Model().Network.SubnetIDs(m.Subnets) {
		public = append(public, net.subnets[id].ID())
	}
	s.LoadBalancer, err = lb.NewLoadBalancer(ctx, albName, &lb.LoadBalancerArgs{
		Name:                     pulumi.String(albName),
		Internal:                 pulumi.Bool(false),
		LoadBalancerType:         pulumi.String("application"),
		SecurityGroups:           pulumi.StringArray{net.securityGroups[m.SecurityGroup].ID()},
		Subnets:                  public,
		DropInvalidHeaderFields:  pulumi.Bool(m.Attributes.DropInvalidHeaders),
		IdleTimeout:              pulumi.Int(m.Attributes.IdleTimeoutSeconds),
		EnableHttp2:              pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(m.Attributes.DeletionProtection),
		Tags:                     tags(cfg, albName),
	}, parent, moved)
	if err != nil {
		return nil, err
	}
	// A name prefix, not a name: port, protocol and target type replace a target group, and a
	// replacement with the same name cannot be created while the old one is in use. The Name tag
	// carries tg-catalog-{suffix}.
	tgName := cfg.ModelName(m.TargetGroup)
	s.TargetGroup, err = lb.NewTargetGroup(ctx, tgName, &lb.TargetGroupArgs{
		NamePrefix:          pulumi.String(targetGroupNamePrefix),
		Port:                pulumi.Int(blueprint.AppPort),
		Protocol:            pulumi.String("HTTP"),
		TargetType:          pulumi.String("ip"),
		VpcId:               net.VPC.ID(),
		DeregistrationDelay: pulumi.Int(m.Attributes.DeregistrationDelaySeconds),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Path:               pulumi.String(m.HealthCheck.Path),
			Port:               pulumi.String("traffic-port"),
			Protocol:           pulumi.String("HTTP"),
			Interval:           pulumi.Int(m.HealthCheck.IntervalSeconds),
			Timeout:            pulumi.Int(m.HealthCheck.TimeoutSeconds),
			HealthyThreshold:   pulumi.Int(m.HealthCheck.HealthyThreshold),
			UnhealthyThreshold: pulumi.Int(m.HealthCheck.UnhealthyThreshold),
			Matcher:            pulumi.String(m.HealthCheck.Matcher),
		},
		Tags: tags(cfg, tgName),
	}, parent, moved)
	if err != nil {
		return nil, err
	}

	forward := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: s.TargetGroup.Arn,
	}}
	redirect := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
		Type: pulumi.String("redirect"),
		Redirect: &lb.ListenerDefaultActionRedirectArgs{
			Protocol:   pulumi.String("HTTPS"),
			Port:       pulumi.String(strconv.Itoa(m.HTTPSListener.Port)),
			StatusCode: pulumi.String("HTTP_301"),
		},
	}}
	refuse := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
		Type: pulumi.String("fixed-response"),
		FixedResponse: &lb.ListenerDefaultActionFixedResponseArgs{
			StatusCode: pulumi.String("403"), ContentType: pulumi.String("application/json"), MessageBody: pulumi.String(blueprint.RefusedBody),
		},
	}}
	for _, l := range m.Listeners(cfg.Choices()) {
		name := cfg.ModelName(l.Resource)
		args := &lb.ListenerArgs{
			LoadBalancerArn: s.LoadBalancer.Arn,
			Port:            pulumi.Int(l.Port),
			Protocol:        pulumi.String(l.Protocol),
			DefaultActions:  forward,
			Tags:            tags(cfg, name),
		}
		switch l.DefaultAction(cfg.Choices()) {
		case "redirect":
			args.DefaultActions = redirect
		case "refuse":
			args.DefaultActions = refuse
		}
		if l.Protocol == "HTTPS" {
			args.SslPolicy = pulumi.String(blueprint.TLSPolicy)
			args.CertificateArn = pulumi.String(cfg.CertificateARN)
		}
		listener, err := lb.NewListener(ctx, name, args, parent, moved)
		if err != nil {
			return nil, err
		}
		if l.ID == m.HTTPSListener.ID {
			s.HTTPSListener = listener
		} else {
			s.HTTPListener = listener
		}
	}
	s.URL = pulumi.Sprintf("http://%s", s.LoadBalancer.DnsName)
	if s.HTTPSListener != nil {
		s.URL = pulumi.Sprintf("https://%s", s.LoadBalancer.DnsName)
	}
	serving := s.HTTPListener
	if m.ServingListener(cfg.Choices()).ID == m.HTTPSListener.ID {
		serving = s.HTTPSListener
	}
	for _, r := range m.PresentRules(cfg.Choices()) {
		var conditions lb.ListenerRuleConditionArray
		if len(r.PathPatterns) > 0 {
			conditions = append(conditions, lb.ListenerRuleConditionArgs{
				PathPattern: &lb.ListenerRuleConditionPathPatternArgs{Values: pulumi.ToStringArray(r.PathPatterns)},
			})
		}
		if r.Header != "" {
			if r.HeaderValue.Ref != m.CDN.OriginSecret.ID || r.HeaderValue.Attr != blueprint.AttrSecretValue {
				return nil, errUnknownModelID(r.HeaderValue.Ref)
			}
			conditions = append(conditions, lb.ListenerRuleConditionArgs{
				HttpHeader: &lb.ListenerRuleConditionHttpHeaderArgs{HttpHeaderName: pulumi.String(r.Header), Values: pulumi.StringArray{originValue}},
			})
		}
		action := lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: s.TargetGroup.Arn}
		if !r.Forward {
			action = lb.ListenerRuleActionArgs{Type: pulumi.String("fixed-response"), FixedResponse: &lb.ListenerRuleActionFixedResponseArgs{
				StatusCode: pulumi.String(strconv.Itoa(r.Status)), ContentType: pulumi.String(r.ContentType), MessageBody: pulumi.String(r.Body),
			}}
		}
		name := cfg.ModelName(r.Resource)
		rule, err := lb.NewListenerRule(ctx, name, &lb.ListenerRuleArgs{
			ListenerArn: serving.Arn,
			Priority:    pulumi.Int(r.Priority),
			Conditions:  conditions,
			Actions:     lb.ListenerRuleActionArray{action},
			Tags:        tags(cfg, name),
		}, parent)
		if err != nil {
			return nil, err
		}
		if r.Forward {
			if s.forwardingRules == nil {
				s.forwardingRules = map[string]*lb.ListenerRule{}
			}
			s.forwardingRules[r.ID] = rule
		}
	}
	s.ServiceURL = s.URL
	if cfg.Has(m.CDN.Distribution.When) {
		if err := s.distribution(ctx, cfg, m.CDN, originValue, parent); err != nil {
			return nil, err
		}
		s.ServiceURL = pulumi.Sprintf("https://%s", s.Distribution.DomainName)
	}

	if cfg.Has(m.WebACL.When) {
		if _, err := wafv2.NewWebAclAssociation(ctx, cfg.ModelName(m.WebACL), &wafv2.WebAclAssociationArgs{
			ResourceArn: s.LoadBalancer.Arn,
			WebAclArn:   pulumi.String(cfg.WebACLARN),
		}, parent, moved); err != nil {
			return nil, err
		}
	}
	if cfg.Has(m.Firewall.WebACL.When) {
		if err := s.firewall(ctx, cfg, m.Firewall, parent); err != nil {
			return nil, err
		}
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"url": s.URL, "serviceUrl": s.ServiceURL})
}
