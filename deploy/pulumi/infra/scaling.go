package infra

import (
	"fmt"
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Scaling is the service's auto scaling: a scalable target between the configured bounds and
// target tracking on CPU and memory, out fast and in slowly.
type Scaling struct {
	pulumi.ResourceState

	Target   *appautoscaling.Target
	Policies []*appautoscaling.Policy
	// StepPolicy and StepAlarm: step scaling on one high-CPU datapoint.
	StepPolicy *appautoscaling.Policy
	StepAlarm  *cloudwatch.MetricAlarm
	// SaleActions are the planned sale's scheduled actions (none without a sale window).
	SaleActions []*appautoscaling.ScheduledAction
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
	if err := sc.stepScaling(ctx, cfg, svc, m, parent); err != nil {
		return nil, err
	}
	if cfg.Has(blueprint.WithSale) {
		if err := sc.saleActions(ctx, cfg, m, parent); err != nil {
			return nil, err
		}
	}
	return sc, ctx.RegisterResourceOutputs(sc, pulumi.Map{})
}

// saleActions make the planned sale's scheduled actions: up to the sale's minimum at its start,
// back to the configured minimum at its end; the maximum stays.
func (sc *Scaling) saleActions(ctx *pulumi.Context, cfg Config, m blueprint.Scaling, parent pulumi.ResourceOption) error {
	for _, a := range m.Sale {
		at, min := cfg.SaleStart, cfg.SaleMinTasks
		if a.AtEnd {
			at, min = cfg.SaleEnd, cfg.MinTasks
		}
		name := "sale-" + a.Purpose + "-" + cfg.Suffix
		action, err := appautoscaling.NewScheduledAction(ctx, name, &appautoscaling.ScheduledActionArgs{
			Name:              pulumi.String(name),
			ServiceNamespace:  sc.Target.ServiceNamespace,
			ScalableDimension: sc.Target.ScalableDimension,
			ResourceId:        sc.Target.ResourceId,
			Schedule:          pulumi.String("at(" + at + ")"),
			ScalableTargetAction: &appautoscaling.ScheduledActionScalableTargetActionArgs{
				MinCapacity: pulumi.Int(min),
				MaxCapacity: pulumi.Int(cfg.MaxTasks),
			},
		}, parent)
		if err != nil {
			return err
		}
		sc.SaleActions = append(sc.SaleActions, action)
	}
	return nil
}

// stepScaling makes the step policy and the one-datapoint alarm whose action it is.
func (sc *Scaling) stepScaling(ctx *pulumi.Context, cfg Config, svc *Service, m blueprint.Scaling, parent pulumi.ResourceOption) error {
	st := m.Step
	var steps appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArray
	for i, x := range st.Steps {
		adj := appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs{
			MetricIntervalLowerBound: pulumi.String(strconv.Itoa(x.LowerBound)),
			ScalingAdjustment:        pulumi.Int(x.PercentChange),
		}
		if i+1 < len(st.Steps) {
			adj.MetricIntervalUpperBound = pulumi.String(strconv.Itoa(st.Steps[i+1].LowerBound))
		}
		steps = append(steps, adj)
	}
	name := cfg.ModelName(st.Policy)
	var err error
	sc.StepPolicy, err = appautoscaling.NewPolicy(ctx, name, &appautoscaling.PolicyArgs{
		Name:              pulumi.String(name),
		PolicyType:        pulumi.String("StepScaling"),
		ServiceNamespace:  sc.Target.ServiceNamespace,
		ScalableDimension: sc.Target.ScalableDimension,
		ResourceId:        sc.Target.ResourceId,
		StepScalingPolicyConfiguration: &appautoscaling.PolicyStepScalingPolicyConfigurationArgs{
			AdjustmentType:         pulumi.String("PercentChangeInCapacity"),
			Cooldown:               pulumi.Int(st.Cooldown),
			MetricAggregationType:  pulumi.String("Average"),
			MinAdjustmentMagnitude: pulumi.Int(st.MinAdjustment),
			StepAdjustments:        steps,
		},
	}, parent)
	if err != nil {
		return err
	}
	a := st.Alarm.Alarm
	dimension := map[string]pulumi.StringOutput{blueprint.DimClusterName: svc.Cluster.Name, blueprint.DimServiceName: svc.Service.Name}
	dims := pulumi.StringMap{}
	for _, d := range a.Dimensions {
		v, ok := dimension[d]
		if !ok {
			return fmt.Errorf("alarm %s: no value for dimension %s", a.Purpose, d)
		}
		dims[d] = v
	}
	alarmName := cfg.ModelName(st.Alarm.Resource)
	// No OK action: the policy acts only on ALARM.
	sc.StepAlarm, err = cloudwatch.NewMetricAlarm(ctx, alarmName, &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(alarmName),
		AlarmDescription:   pulumi.String(a.Description),
		Namespace:          pulumi.String(a.Namespace),
		MetricName:         pulumi.String(a.Metric),
		Dimensions:         dims,
		Statistic:          pulumi.String(a.Statistic),
		ComparisonOperator: pulumi.String(a.Comparison),
		Threshold:          pulumi.Float64(a.Threshold),
		Period:             pulumi.Int(a.PeriodSeconds),
		EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
		DatapointsToAlarm:  pulumi.Int(a.DatapointsToAlarm),
		TreatMissingData:   pulumi.String(a.TreatMissingData),
		ActionsEnabled:     pulumi.Bool(true),
		AlarmActions:       pulumi.Array{sc.StepPolicy.Arn},
		Tags:               tags(cfg, alarmName),
	}, parent)
	return err
}
