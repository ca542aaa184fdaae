package infra

import (
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/appautoscaling"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Scaling is the service's auto scaling: a scalable target between the configured bounds and
// target tracking on CPU and memory, out fast and in slowly.
type Scaling struct {
	pulumi.ResourceState

	Target   *appautoscaling.Target
	Policies []*appautoscaling.Policy
}

// NewScaling makes the scaling for a service.
func NewScaling(ctx *pulumi.Context, cfg Config, svc *Service, edge *LoadBalancer, opts ...pulumi.ResourceOption) (*Scaling, error) {
	if svc.Service == nil {
		return nil, fmt.Errorf("scaling needs the ECS service, which exists only with an image (%s:%s or %s:%s)", ConfigNamespace, KeyImageTag, ConfigNamespace, KeyImage)
	}
	sc := &Scaling{}
	parent, err := newComponent(ctx, cfg, "Scaling", "scaling", sc, opts...)
	if err != nil {
		return nil, err
	}
	m := blueprint.Model().Scaling
	resourceID := pulumi.Sprintf("service/%s/%s", svc.Cluster.Name, svc.Service.Name)
	targetName := cfg.ModelName(m.Target)
	sc.Target, err = appautoscaling.NewTarget(ctx, targetName, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String("ecs"),
		ScalableDimension: pulumi.String("ecs:service:DesiredCount"),
		ResourceId:        resourceID,
		// The model's bounds and targets are defaults the configuration may change.
		MinCapacity: pulumi.Int(cfg.MinTasks),
		MaxCapacity: pulumi.Int(cfg.MaxTasks),
		Tags:        tags(cfg, targetName),
	}, parent)
	if err != nil {
		return nil, err
	}
	// The configuration may change the utilisation targets; the request-count target is the
	// capacity model's figure, as in the template.
	targets := map[string]int{blueprint.IDCPUScalingPolicy: cfg.CPUTarget, blueprint.IDMemoryScalingPolicy: cfg.MemoryTarget,
		blueprint.IDRequestScalingPolicy: blueprint.RequestCountTarget}
	for _, p := range m.Policies {
		target, ok := targets[p.ID]
		if !ok {
			return nil, fmt.Errorf("scaling policy %s: the configuration has no target for it", p.ID)
		}
		metric := &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
			PredefinedMetricType: pulumi.String(p.Metric),
		}
		if p.ResourceLabel {
			// app/<lb>/<id>/targetgroup/<tg>/<id>: the two ARN suffixes joined.
			metric.ResourceLabel = pulumi.Sprintf("%s/%s", edge.LoadBalancer.ArnSuffix, edge.TargetGroup.ArnSuffix)
		}
		name := cfg.ModelName(p.Resource)
		policy, err := appautoscaling.NewPolicy(ctx, name, &appautoscaling.PolicyArgs{
			Name:              pulumi.String(name),
			PolicyType:        pulumi.String("TargetTrackingScaling"),
			ServiceNamespace:  sc.Target.ServiceNamespace,
			ScalableDimension: sc.Target.ScalableDimension,
			ResourceId:        sc.Target.ResourceId,
			TargetTrackingScalingPolicyConfiguration: &appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
				PredefinedMetricSpecification: metric,
				TargetValue:                   pulumi.Float64(float64(target)),
				ScaleOutCooldown:              pulumi.Int(m.ScaleOutCooldown),
				ScaleInCooldown:               pulumi.Int(m.ScaleInCooldown),
			},
		}, parent)
		if err != nil {
			return nil, err
		}
		sc.Policies = append(sc.Policies, policy)
	}
	return sc, ctx.RegisterResourceOutputs(sc, pulumi.Map{})
}
