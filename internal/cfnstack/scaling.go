package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Scaling logical IDs (the model's).
const (
	IDScalableTarget       = blueprint.IDScalableTarget
	IDCPUScalingPolicy     = blueprint.IDCPUScalingPolicy
	IDMemoryScalingPolicy  = blueprint.IDMemoryScalingPolicy
	IDRequestScalingPolicy = blueprint.IDRequestScalingPolicy
)

// scaling renders blueprint.Scaling at its defaults (the template has no parameters for them).
func (b *builder) scaling(Options) error {
	sc := b.m.Scaling
	// Without RoleARN, Application Auto Scaling uses its ECS service-linked role.
	b.add(sc.Target.ID, "AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{
		"ServiceNamespace":  "ecs",
		"ScalableDimension": "ecs:service:DesiredCount",
		"ResourceId":        cfn.Sub("service/${" + IDCluster + "}/${" + IDService + ".Name}"),
		"MinCapacity":       sc.Min,
		"MaxCapacity":       sc.Max,
	}, b.when(sc.Target.When))
	for _, p := range sc.Policies {
		metric := map[string]any{"PredefinedMetricType": p.Metric}
		if p.ResourceLabel {
			// app/<lb>/<id>/targetgroup/<tg>/<id>: the two full names joined.
			metric["ResourceLabel"] = cfn.Join("/", cfn.GetAtt(IDLoadBalancer, "LoadBalancerFullName"), cfn.GetAtt(IDTargetGroup, "TargetGroupFullName"))
		}
		b.add(p.ID, "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
			"PolicyName":      modelName(p.Resource),
			"PolicyType":      "TargetTrackingScaling",
			"ScalingTargetId": cfn.Ref(sc.Target.ID),
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": metric,
				"TargetValue":                   p.Target,
				"ScaleOutCooldown":              sc.ScaleOutCooldown,
				"ScaleInCooldown":               sc.ScaleInCooldown,
			},
		}, b.when(p.When))
	}
	return nil
}
