package cfnstack

import (
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Load balancer logical IDs.
const (
	IDLoadBalancer     = blueprint.IDLoadBalancer
	IDTargetGroup      = blueprint.IDTargetGroup
	IDHTTPListener     = blueprint.IDHTTPListener
	IDHTTPSListener    = blueprint.IDHTTPSListener
	IDWebACLAssociated = blueprint.IDWebACL
	// IDMetricsRefusedRule and IDOriginVerifiedRule are the listener rules.
	IDMetricsRefusedRule = blueprint.IDMetricsRule
	IDOriginVerifiedRule = blueprint.IDOriginRule
	// IDListenersReady waits for whichever listeners exist: with a certificate, the HTTP
	// listener only redirects and the target group hangs off the HTTPS listener, which an
	// unconditional resource cannot name in DependsOn.
	IDListenersReady = "ListenersReady"
)

// loadBalancer renders blueprint.Edge. CloudFormation translation: the HTTP listener's action
// is an Fn::If on the redirect option, and a wait-condition handle stands for "whichever
// listeners exist" in the service's DependsOn.
func (b *builder) loadBalancer(Options) error {
	e := b.m.Edge
	b.add(e.LoadBalancer.ID, "AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]any{
		"Name":           modelName(e.LoadBalancer),
		"Type":           "application",
		"Scheme":         "internet-facing",
		"IpAddressType":  "ipv4",
		"Subnets":        refs(b.m.Network.SubnetIDs(e.Subnets)),
		"SecurityGroups": []any{cfn.GetAtt(e.SecurityGroup, "GroupId")},
		"LoadBalancerAttributes": []any{
			attr("routing.http.drop_invalid_header_fields.enabled", strconv.FormatBool(e.Attributes.DropInvalidHeaders)),
			attr("idle_timeout.timeout_seconds", strconv.Itoa(e.Attributes.IdleTimeoutSeconds)),
			attr("deletion_protection.enabled", strconv.FormatBool(e.Attributes.DeletionProtection)),
		},
	}, b.when(e.LoadBalancer.When), dependsOn(IDGatewayAttachment))
	// No Name: port, protocol and target type replace a target group, and CloudFormation cannot
	// replace a custom-named one; nothing refers to it by name (alarms use its full name). The
	// Name tag carries the convention's tg-catalog-{suffix}.
	b.add(e.TargetGroup.ID, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{
		"TargetType":                 "ip",
		"Protocol":                   "HTTP",
		"Port":                       blueprint.AppPort,
		"VpcId":                      cfn.Ref(IDVPC),
		"HealthCheckEnabled":         true,
		"HealthCheckProtocol":        "HTTP",
		"HealthCheckPath":            e.HealthCheck.Path,
		"HealthCheckPort":            "traffic-port",
		"HealthCheckIntervalSeconds": e.HealthCheck.IntervalSeconds,
		"HealthCheckTimeoutSeconds":  e.HealthCheck.TimeoutSeconds,
		"HealthyThresholdCount":      e.HealthCheck.HealthyThreshold,
		"UnhealthyThresholdCount":    e.HealthCheck.UnhealthyThreshold,
		"Matcher":                    map[string]any{"HttpCode": e.HealthCheck.Matcher},
		"TargetGroupAttributes": []any{
			attr("deregistration_delay.timeout_seconds", strconv.Itoa(e.Attributes.DeregistrationDelaySeconds)),
		},
	}, b.when(e.TargetGroup.When))
	forward := []any{map[string]any{"Type": "forward", "TargetGroupArn": cfn.Ref(e.TargetGroup.ID)}}
	redirect := []any{map[string]any{
		"Type": "redirect",
		"RedirectConfig": map[string]any{
			"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
			"StatusCode": "HTTP_301",
		},
	}}
	for _, l := range []blueprint.Listener{e.HTTPListener, e.HTTPSListener} {
		var action any = forward
		if l.RefuseWhen != blueprint.Always {
			action = cfn.If(b.condition(l.RefuseWhen), fixedResponse(403, "application/json", blueprint.RefusedBody), action)
		}
		if l.RedirectWhen != blueprint.Always {
			action = cfn.If(b.condition(l.RedirectWhen), redirect, action)
		}
		props := map[string]any{
			"LoadBalancerArn": cfn.Ref(e.LoadBalancer.ID),
			"Port":            l.Port,
			"Protocol":        l.Protocol,
			"DefaultActions":  action,
		}
		if l.Protocol == "HTTPS" {
			props["SslPolicy"] = blueprint.TLSPolicy
			props["Certificates"] = []any{map[string]any{"CertificateArn": cfn.Ref(ParamCertificateARN)}}
		}
		b.add(l.ID, "AWS::ElasticLoadBalancingV2::Listener", props, b.when(l.When))
	}
	// The rules belong to the serving listener: HTTPS where it exists, else HTTP.
	serving := cfn.If(b.condition(e.HTTPSListener.When), cfn.Ref(e.HTTPSListener.ID), cfn.Ref(e.HTTPListener.ID))
	ready := map[string]any{
		"HttpListener":  cfn.Ref(e.HTTPListener.ID),
		"HttpsListener": cfn.If(b.condition(e.HTTPSListener.When), cfn.Ref(e.HTTPSListener.ID), ""),
	}
	for _, r := range e.Rules {
		var conditions []any
		if len(r.PathPatterns) > 0 {
			conditions = append(conditions, map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": r.PathPatterns}})
		}
		if r.Header != "" {
			conditions = append(conditions, map[string]any{"Field": "http-header",
				"HttpHeaderConfig": map[string]any{"HttpHeaderName": r.Header, "Values": []any{b.value(r.HeaderValue)}}})
		}
		actions := []any{fixedResponse(r.Status, r.ContentType, r.Body)[0]}
		if r.Forward {
			actions = forward
			if r.When != blueprint.Always {
				ready[r.ID] = cfn.If(b.condition(r.When), cfn.Ref(r.ID), "")
			} else {
				ready[r.ID] = cfn.Ref(r.ID)
			}
		}
		b.add(r.ID, "AWS::ElasticLoadBalancingV2::ListenerRule", map[string]any{
			"ListenerArn": serving,
			"Priority":    r.Priority,
			"Conditions":  conditions,
			"Actions":     actions,
		}, b.when(r.When))
	}
	b.add(IDListenersReady, "AWS::CloudFormation::WaitConditionHandle", map[string]any{}, func(r *cfn.Resource) {
		r.Metadata = ready
	})
	b.add(e.WebACL.ID, "AWS::WAFv2::WebACLAssociation", map[string]any{
		"ResourceArn": cfn.Ref(e.LoadBalancer.ID),
		"WebACLArn":   cfn.Ref(ParamWebACLARN),
	}, b.when(e.WebACL.When))
	return nil
}

func attr(key, value string) map[string]any { return map[string]any{"Key": key, "Value": value} }

// fixedResponse is a listener action answering with a fixed status and body.
func fixedResponse(status int, contentType, body string) []any {
	return []any{map[string]any{
		"Type": "fixed-response",
		"FixedResponseConfig": map[string]any{
			"StatusCode": strconv.Itoa(status), "ContentType": contentType, "MessageBody": body,
		},
	}}
}
