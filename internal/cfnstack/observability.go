package cfnstack

import (
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Observability logical IDs (the model's).
const (
	IDAppLogGroup       = blueprint.IDAppLogGroup
	IDDBLogGroup        = blueprint.IDDBLogGroup
	IDAlarmTopic        = blueprint.IDAlarmTopic
	IDAlarmSubscription = blueprint.IDAlarmSubscription
	IDDashboard         = blueprint.IDDashboard
	IDLogsKey           = blueprint.IDLogsKey
	IDLogsKeyAlias      = blueprint.IDLogsKeyAlias
)

// AlarmID returns the logical ID of the alarm with the given blueprint purpose, such as
// "cpu-high": "CpuHighAlarm".
func AlarmID(purpose string) string { return blueprint.AlarmID(purpose) }

// observability renders the model's alarm topic and its e-mail subscription; alarms and
// dashboard follow once the resources they watch exist.
func (b *builder) observability(Options) error {
	o := b.m.Observability
	b.add(o.Topic.ID, "AWS::SNS::Topic", map[string]any{
		"TopicName":      modelName(o.Topic),
		"DisplayName":    o.TopicDisplay,
		"KmsMasterKeyId": cfn.Ref(o.LogsKey.ID),
	}, b.when(o.Topic.When))
	b.add(o.Subscription.ID, "AWS::SNS::Subscription", map[string]any{
		"TopicArn": cfn.Ref(o.Topic.ID),
		"Protocol": "email",
		"Endpoint": cfn.Ref(ParamAlertEmail),
	}, b.when(o.Subscription.When))
	return nil
}

// dimensions are the values of the metric dimensions the model names, in alarms (as values)
// and dashboard widgets (as ${} inside the body's Fn::Sub).
var dimensions = map[string]struct {
	value any
	sub   string
}{
	blueprint.DimClusterName:  {cfn.Ref(IDCluster), "${" + IDCluster + "}"},
	blueprint.DimServiceName:  {cfn.GetAtt(IDService, "Name"), "${" + IDService + ".Name}"},
	blueprint.DimLoadBalancer: {cfn.GetAtt(IDLoadBalancer, "LoadBalancerFullName"), "${" + IDLoadBalancer + ".LoadBalancerFullName}"},
	blueprint.DimTargetGroup:  {cfn.GetAtt(IDTargetGroup, "TargetGroupFullName"), "${" + IDTargetGroup + ".TargetGroupFullName}"},
	blueprint.DimDBCluster:    {cfn.Ref(IDDBCluster), "${" + IDDBCluster + "}"},
}

// thresholds are the parameters alarm thresholds come from (blueprint.Alarm.ThresholdSetting).
var thresholds = map[string]string{blueprint.SettingEventLagAlarm: ParamEventLagAlarm}

// alarms renders the model's alarms, each notifying the topic on alarm and on recovery.
func (b *builder) alarms(Options) error {
	o := b.m.Observability
	for _, ma := range o.Alarms {
		a := ma.Alarm
		var ds []any
		for _, d := range a.Dimensions {
			if text, ok := blueprint.DimensionText[d]; ok {
				ds = append(ds, map[string]any{"Name": d, "Value": expand(text)})
				continue
			}
			v, ok := dimensions[d]
			if !ok {
				b.fail("alarm %s: unknown dimension %s", a.Purpose, d)
				continue
			}
			ds = append(ds, map[string]any{"Name": d, "Value": v.value})
		}
		var threshold any = a.Threshold
		if a.ThresholdSetting != "" {
			param, ok := thresholds[a.ThresholdSetting]
			if !ok {
				b.fail("alarm %s: no parameter for the setting %s", a.Purpose, a.ThresholdSetting)
			}
			threshold = cfn.Ref(param)
		}
		props := map[string]any{
			"AlarmName":          modelName(ma.Resource),
			"AlarmDescription":   a.Description,
			"Namespace":          a.Namespace,
			"MetricName":         a.Metric,
			"Dimensions":         ds,
			"ComparisonOperator": a.Comparison,
			"Threshold":          threshold,
			"Period":             a.PeriodSeconds,
			"EvaluationPeriods":  a.EvaluationPeriods,
			"DatapointsToAlarm":  a.DatapointsToAlarm,
			"TreatMissingData":   a.TreatMissingData,
			"ActionsEnabled":     true,
			"AlarmActions":       []any{cfn.Ref(o.Topic.ID)},
			"OKActions":          []any{cfn.Ref(o.Topic.ID)},
		}
		if a.ExtendedStatistic != "" {
			props["ExtendedStatistic"] = a.ExtendedStatistic
		} else {
			props["Statistic"] = a.Statistic
		}
		b.add(ma.ID, "AWS::CloudWatch::Alarm", props, b.when(ma.When))
	}
	return nil
}

// dashboardBody renders widgets as a dashboard body; dimension values and the region are
// filled in by Fn::Sub.
func (b *builder) dashboardBody(widgets []blueprint.Widget) (string, error) {
	return blueprint.DashboardBody(widgets, "${AWS::Region}", func(d string) (string, bool) {
		v, ok := dimensions[d]
		return v.sub, ok
	})
}

// dashboard renders the model's dashboard. Its widgets depend on the image (without a service,
// a widget naming ${Service.Name} would refer to nothing), so the body is one of two, chosen by
// the HasImage condition at deploy time.
func (b *builder) dashboard(Options) error {
	o := b.m.Observability
	full, err := b.dashboardBody(o.PresentWidgets(blueprint.Choices{blueprint.WithImage: true}))
	if err != nil {
		return err
	}
	bootstrap, err := b.dashboardBody(o.PresentWidgets(blueprint.Choices{blueprint.WithImage: false}))
	if err != nil {
		return err
	}
	for _, w := range o.Widgets {
		if w.When != blueprint.Always && w.When != blueprint.WithImage {
			return fmt.Errorf("dashboard widget %q depends on option %q; the template chooses the body by the image only", w.Title, w.When)
		}
	}
	// CloudWatch dashboards take no tags (AWS::CloudWatch::Dashboard has no Tags property).
	b.add(o.Dashboard.ID, "AWS::CloudWatch::Dashboard", map[string]any{
		"DashboardName": modelName(o.Dashboard),
		"DashboardBody": cfn.If(b.condition(blueprint.WithImage), cfn.Sub(full), cfn.Sub(bootstrap)),
	})
	return nil
}
