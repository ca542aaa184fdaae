package cfnstack

import (
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Load balancer logical IDs.
const (
	IDLoadBalancer     = "LoadBalancer"
	IDTargetGroup      = "TargetGroup"
	IDHTTPListener     = "HttpListener"
	IDHTTPSListener    = "HttpsListener"
	IDWebACLAssociated = "WebAclAssociation"
	// IDListenersReady waits for whichever listeners exist: with a certificate, the HTTP
	// listener only redirects and the target group hangs off the HTTPS listener, which an
	// unconditional resource cannot name in DependsOn.
	IDListenersReady = "ListenersReady"
)

func (b *builder) loadBalancer(Options) error {
	b.add(IDLoadBalancer, "AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]any{
		"Name":           name("alb", blueprint.Project),
		"Type":           "application",
		"Scheme":         "internet-facing",
		"IpAddressType":  "ipv4",
		"Subnets":        refs(PublicSubnetIDs),
		"SecurityGroups": []any{cfn.GetAtt(IDALBSecurityGroup, "GroupId")},
		"LoadBalancerAttributes": []any{
			attr("routing.http.drop_invalid_header_fields.enabled", "true"),
			attr("idle_timeout.timeout_seconds", strconv.Itoa(blueprint.ALBIdleTimeoutSeconds)),
			attr("deletion_protection.enabled", "false"),
		},
		"Tags": tags(nil),
	}, dependsOn(IDGatewayAttachment))
	// No Name: port, protocol and target type replace a target group, and CloudFormation cannot
	// replace a custom-named one; nothing refers to it by name (alarms use its full name). The
	// Name tag carries the convention's tg-catalog-{suffix}.
	b.add(IDTargetGroup, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{
		"TargetType":                 "ip",
		"Protocol":                   "HTTP",
		"Port":                       blueprint.AppPort,
		"VpcId":                      cfn.Ref(IDVPC),
		"HealthCheckEnabled":         true,
		"HealthCheckProtocol":        "HTTP",
		"HealthCheckPath":            blueprint.HealthPath,
		"HealthCheckPort":            "traffic-port",
		"HealthCheckIntervalSeconds": blueprint.HealthCheckIntervalSeconds,
		"HealthCheckTimeoutSeconds":  blueprint.HealthCheckTimeoutSeconds,
		"HealthyThresholdCount":      blueprint.HealthyThreshold,
		"UnhealthyThresholdCount":    blueprint.UnhealthyThreshold,
		"Matcher":                    map[string]any{"HttpCode": blueprint.HealthCheckMatcher},
		"TargetGroupAttributes": []any{
			attr("deregistration_delay.timeout_seconds", strconv.Itoa(blueprint.DeregistrationDelaySeconds)),
		},
		"Tags": tags(name("tg", blueprint.Project)),
	})
	forward := []any{map[string]any{"Type": "forward", "TargetGroupArn": cfn.Ref(IDTargetGroup)}}
	redirect := []any{map[string]any{
		"Type": "redirect",
		"RedirectConfig": map[string]any{
			"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
			"StatusCode": "HTTP_301",
		},
	}}
	b.add(IDHTTPListener, "AWS::ElasticLoadBalancingV2::Listener", map[string]any{
		"LoadBalancerArn": cfn.Ref(IDLoadBalancer),
		"Port":            80,
		"Protocol":        "HTTP",
		"DefaultActions":  cfn.If(CondHasCertificate, redirect, forward),
	})
	b.add(IDHTTPSListener, "AWS::ElasticLoadBalancingV2::Listener", map[string]any{
		"LoadBalancerArn": cfn.Ref(IDLoadBalancer),
		"Port":            443,
		"Protocol":        "HTTPS",
		"SslPolicy":       blueprint.TLSPolicy,
		"Certificates":    []any{map[string]any{"CertificateArn": cfn.Ref(ParamCertificateARN)}},
		"DefaultActions":  forward,
	}, when(CondHasCertificate))
	b.add(IDListenersReady, "AWS::CloudFormation::WaitConditionHandle", map[string]any{}, func(r *cfn.Resource) {
		r.Metadata = map[string]any{
			"HttpListener":  cfn.Ref(IDHTTPListener),
			"HttpsListener": cfn.If(CondHasCertificate, cfn.Ref(IDHTTPSListener), ""),
		}
	})
	b.add(IDWebACLAssociated, "AWS::WAFv2::WebACLAssociation", map[string]any{
		"ResourceArn": cfn.Ref(IDLoadBalancer),
		"WebACLArn":   cfn.Ref(ParamWebACLARN),
	}, when(CondHasWebACL))
	return nil
}

func attr(key, value string) map[string]any { return map[string]any{"Key": key, "Value": value} }
