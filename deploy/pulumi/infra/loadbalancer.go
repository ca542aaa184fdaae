package infra

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/lb"
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
	// URL is the service's address: https when a certificate is configured.
	URL pulumi.StringOutput
}

// targetGroupNamePrefix is the target group's name prefix (at most 6 characters); the provider
// appends a random suffix.
const targetGroupNamePrefix = "tg-"

// NewLoadBalancer makes the internet-facing ALB, the target group, the HTTP listener and, with a
// certificate, the HTTPS listener (HTTP then redirects), and the optional WAF association.
func NewLoadBalancer(ctx *pulumi.Context, cfg Config, net *Network, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	s := &LoadBalancer{}
	parent, err := newComponent(ctx, cfg, "LoadBalancer", "edge", s, opts...)
	if err != nil {
		return nil, err
	}
	moved := movedFromService(ctx, cfg)
	albName := cfg.Name("alb", blueprint.Project)
	public := pulumi.StringArray{}
	for _, sn := range net.PublicSubnets {
		public = append(public, sn.ID())
	}
	s.LoadBalancer, err = lb.NewLoadBalancer(ctx, albName, &lb.LoadBalancerArgs{
		Name:                     pulumi.String(albName),
		Internal:                 pulumi.Bool(false),
		LoadBalancerType:         pulumi.String("application"),
		SecurityGroups:           pulumi.StringArray{net.ALBSecurityGroup.ID()},
		Subnets:                  public,
		DropInvalidHeaderFields:  pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(blueprint.ALBIdleTimeoutSeconds),
		EnableHttp2:              pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(false),
		Tags:                     tags(cfg, albName),
	}, parent, moved)
	if err != nil {
		return nil, err
	}
	// A name prefix, not a name: port, protocol and target type replace a target group, and a
	// replacement with the same name cannot be created while the old one is in use. The Name tag
	// carries tg-catalog-{suffix}.
	tgName := cfg.Name("tg", blueprint.Project)
	s.TargetGroup, err = lb.NewTargetGroup(ctx, tgName, &lb.TargetGroupArgs{
		NamePrefix:          pulumi.String(targetGroupNamePrefix),
		Port:                pulumi.Int(blueprint.AppPort),
		Protocol:            pulumi.String("HTTP"),
		TargetType:          pulumi.String("ip"),
		VpcId:               net.VPC.ID(),
		DeregistrationDelay: pulumi.Int(blueprint.DeregistrationDelaySeconds),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Path:               pulumi.String(blueprint.HealthPath),
			Port:               pulumi.String("traffic-port"),
			Protocol:           pulumi.String("HTTP"),
			Interval:           pulumi.Int(blueprint.HealthCheckIntervalSeconds),
			Timeout:            pulumi.Int(blueprint.HealthCheckTimeoutSeconds),
			HealthyThreshold:   pulumi.Int(blueprint.HealthyThreshold),
			UnhealthyThreshold: pulumi.Int(blueprint.UnhealthyThreshold),
			Matcher:            pulumi.String(blueprint.HealthCheckMatcher),
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
	httpAction := forward
	if cfg.HTTPS() {
		httpsName := cfg.Name("listener", "https")
		s.HTTPSListener, err = lb.NewListener(ctx, httpsName, &lb.ListenerArgs{
			LoadBalancerArn: s.LoadBalancer.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			SslPolicy:       pulumi.String(blueprint.TLSPolicy),
			CertificateArn:  pulumi.String(cfg.CertificateARN),
			DefaultActions:  forward,
			Tags:            tags(cfg, httpsName),
		}, parent, moved)
		if err != nil {
			return nil, err
		}
		httpAction = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Protocol:   pulumi.String("HTTPS"),
				Port:       pulumi.String("443"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		s.URL = pulumi.Sprintf("https://%s", s.LoadBalancer.DnsName)
	} else {
		s.URL = pulumi.Sprintf("http://%s", s.LoadBalancer.DnsName)
	}
	httpName := cfg.Name("listener", "http")
	s.HTTPListener, err = lb.NewListener(ctx, httpName, &lb.ListenerArgs{
		LoadBalancerArn: s.LoadBalancer.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  httpAction,
		Tags:            tags(cfg, httpName),
	}, parent, moved)
	if err != nil {
		return nil, err
	}

	if cfg.WebACLARN != "" {
		if _, err := wafv2.NewWebAclAssociation(ctx, cfg.Name("waf", blueprint.Project), &wafv2.WebAclAssociationArgs{
			ResourceArn: s.LoadBalancer.Arn,
			WebAclArn:   pulumi.String(cfg.WebACLARN),
		}, parent, moved); err != nil {
			return nil, err
		}
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"url": s.URL})
}
