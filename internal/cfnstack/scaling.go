package cfnstack

import (
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Scaling logical IDs (the model's).
const (
	IDScalableTarget       = blueprint.IDScalableTarget
	IDCPUScalingPolicy     = blueprint.IDCPUScalingPolicy
	IDMemoryScalingPolicy  = blueprint.IDMemoryScalingPolicy
	IDRequestScalingPolicy = blueprint.IDRequestScalingPolicy
	IDStepScalingPolicy    = blueprint.IDStepScalingPolicy
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
		"ScheduledActions":  cfn.If(b.condition(blueprint.WithSale), b.saleActions(), cfn.NoValue()),
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
	return b.stepScaling()
}

// saleActions are the planned sale's scheduled actions: up to the sale's minimum at its start,
// back to the model's at its end. The maximum stays.
func (b *builder) saleActions() []any {
	sc := b.m.Scaling
	var out []any
	for _, a := range sc.Sale {
		at, min := ParamSaleStart, any(cfn.Ref(ParamSaleMinTasks))
		if a.AtEnd {
			at, min = ParamSaleEnd, sc.Min
		}
		out = append(out, map[string]any{
			"ScheduledActionName":  cfn.Sub("sale-" + a.Purpose + "-${" + ParamEnvironmentSuffix + "}"),
			"Schedule":             cfn.Sub("at(${" + at + "})"),
			"ScalableTargetAction": map[string]any{"MinCapacity": min, "MaxCapacity": sc.Max},
		})
	}
	return out
}

// stepScaling renders the step policy and the one-datapoint alarm whose action it is.
func (b *builder) stepScaling() error {
	sc := b.m.Scaling
	st := sc.Step
	var steps []any
	for i, x := range st.Steps {
		adj := map[string]any{"MetricIntervalLowerBound": x.LowerBound, "ScalingAdjustment": x.PercentChange}
		if i+1 < len(st.Steps) {
			adj["MetricIntervalUpperBound"] = st.Steps[i+1].LowerBound
		}
		steps = append(steps, adj)
	}
	b.add(st.Policy.ID, "AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
		"PolicyName":      modelName(st.Policy),
		"PolicyType":      "StepScaling",
		"ScalingTargetId": cfn.Ref(sc.Target.ID),
		"StepScalingPolicyConfiguration": map[string]any{
			"AdjustmentType":         "PercentChangeInCapacity",
			"Cooldown":               st.Cooldown,
			"MetricAggregationType":  "Average",
			"MinAdjustmentMagnitude": st.MinAdjustment,
			"StepAdjustments":        steps,
		},
	}, b.when(st.Policy.When))
	a := st.Alarm.Alarm
	var ds []any
	for _, d := range a.Dimensions {
		v, ok := dimensions[d]
		if !ok {
			return fmt.Errorf("alarm %s: unknown dimension %s", a.Purpose, d)
		}
		ds = append(ds, map[string]any{"Name": d, "Value": v.value})
	}
	// Ref on a scaling policy is its ARN. No OK action: the policy acts only on ALARM.
	b.add(st.Alarm.ID, "AWS::CloudWatch::Alarm", map[string]any{
		"AlarmName":          modelName(st.Alarm.Resource),
		"AlarmDescription":   a.Description,
		"Namespace":          a.Namespace,
		"MetricName":         a.Metric,
		"Dimensions":         ds,
		"Statistic":          a.Statistic,
		"ComparisonOperator": a.Comparison,
		"Threshold":          a.Threshold,
		"Period":             a.PeriodSeconds,
		"EvaluationPeriods":  a.EvaluationPeriods,
		"DatapointsToAlarm":  a.DatapointsToAlarm,
		"TreatMissingData":   a.TreatMissingData,
		"ActionsEnabled":     true,
		"AlarmActions":       []any{cfn.Ref(st.Policy.ID)},
	}, b.when(st.Alarm.When))
	return nil
}
