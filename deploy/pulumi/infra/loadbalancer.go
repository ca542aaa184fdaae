package infra

import (
	"strconv"

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
	m := blueprint.Model().Edge
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
	for _, l := range m.Listeners(cfg.Choices()) {
		name := cfg.ModelName(l.Resource)
		args := &lb.ListenerArgs{
			LoadBalancerArn: s.LoadBalancer.Arn,
			Port:            pulumi.Int(l.Port),
			Protocol:        pulumi.String(l.Protocol),
			DefaultActions:  forward,
			Tags:            tags(cfg, name),
		}
		if l.RedirectWhen != blueprint.Always && cfg.Has(l.RedirectWhen) {
			args.DefaultActions = redirect
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

	if cfg.Has(m.WebACL.When) {
		if _, err := wafv2.NewWebAclAssociation(ctx, cfg.ModelName(m.WebACL), &wafv2.WebAclAssociationArgs{
			ResourceArn: s.LoadBalancer.Arn,
			WebAclArn:   pulumi.String(cfg.WebACLARN),
		}, parent, moved); err != nil {
			return nil, err
		}
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"url": s.URL})
}
