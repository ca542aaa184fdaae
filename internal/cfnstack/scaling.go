package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Scaling logical IDs.
const (
	IDScalableTarget      = "ScalableTarget"
	IDCPUScalingPolicy    = "CpuScalingPolicy"
	IDMemoryScalingPolicy = "MemoryScalingPolicy"
)

func (b *builder) scaling(Options) error {
	// Without RoleARN, Application Auto Scaling uses its ECS service-linked role.
	b.add(IDScalableTarget, "AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{
		"ServiceNamespace":  "ecs",
		"ScalableDimension": "ecs:service:DesiredCount",
		"ResourceId":        cfn.Sub("service/${" + IDCluster + "}/${" + IDService + ".Name}"),
		"MinCapacity":       blueprint.MinTasks,
		"MaxCapacity":       blueprint.MaxTasks,
	}, when(CondHasImage))
	policy := func(id, purpose, metric string, target int) {
		b.add(id, "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
			"PolicyName":      name("scaling", purpose),
			"PolicyType":      "TargetTrackingScaling",
			"ScalingTargetId": cfn.Ref(IDScalableTarget),
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": metric},
				"TargetValue":                   target,
				"ScaleOutCooldown":              blueprint.ScaleOutCooldown,
				"ScaleInCooldown":               blueprint.ScaleInCooldown,
			},
		}, when(CondHasImage))
	}
	policy(IDCPUScalingPolicy, "cpu", "ECSServiceAverageCPUUtilization", blueprint.CPUTargetPercent)
	policy(IDMemoryScalingPolicy, "memory", "ECSServiceAverageMemoryUtilization", blueprint.MemoryTargetPercent)
	return nil
}
