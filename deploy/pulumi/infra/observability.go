package infra

import (
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Observability renders the model's alarm topic (with the optional e-mail subscription), its
// alarms, all notifying the topic, and its dashboard (blueprint.Observability). The key is
// LogEncryption's; the log groups belong to the service and database components (logs.go).
type Observability struct {
	pulumi.ResourceState

	Topic        *sns.Topic
	Alarms       []*cloudwatch.MetricAlarm
	Dashboard    *cloudwatch.Dashboard
	DashboardURL pulumi.StringOutput
}

// NewObservability makes the alarms and the dashboard.
//
// The alarm topic is encrypted with the stack's key: CloudWatch cannot publish to a topic
// encrypted with the AWS-managed SNS key, so the key policy lets CloudWatch use this one.
func NewObservability(ctx *pulumi.Context, cfg Config, net *Network, db *Database, edge *LoadBalancer, svc *Service, logs *LogEncryption, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := &Observability{}
	parent, err := newComponent(ctx, cfg, "Observability", "observability", o, opts...)
	if err != nil {
		return nil, err
	}
	m := blueprint.Model().Observability
	topicName := cfg.ModelName(m.Topic)
	o.Topic, err = sns.NewTopic(ctx, topicName, &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		DisplayName:    pulumi.String(m.TopicDisplay),
		KmsMasterKeyId: logs.Key.Arn,
		Tags:           tags(cfg, topicName),
	}, parent)
	if err != nil {
		return nil, err
	}
	if cfg.Has(m.Subscription.When) {
		if _, err := sns.NewTopicSubscription(ctx, cfg.ModelName(m.Subscription), &sns.TopicSubscriptionArgs{
			Topic:    o.Topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(cfg.AlertEmail),
		}, parent); err != nil {
			return nil, err
		}
	}

	// The values of the metric dimensions the model names. Without the service (bootstrap) the
	// model has no alarm or widget that names it.
	dimension := map[string]pulumi.StringOutput{
		blueprint.DimClusterName:  svc.Cluster.Name,
		blueprint.DimLoadBalancer: edge.LoadBalancer.ArnSuffix,
		blueprint.DimTargetGroup:  edge.TargetGroup.ArnSuffix,
		blueprint.DimDBCluster:    db.Cluster.ClusterIdentifier,
	}
	if svc.Service != nil {
		dimension[blueprint.DimServiceName] = svc.Service.Name
	}
	for _, ma := range m.PresentAlarms(cfg.Choices()) {
		a := ma.Alarm
		dims := pulumi.StringMap{}
		for _, d := range a.Dimensions {
			if text, ok := blueprint.DimensionText[d]; ok {
				dims[d] = pulumi.String(cfg.placeholders().Replace(text))
				continue
			}
			v, ok := dimension[d]
			if !ok {
				return nil, fmt.Errorf("alarm %s: no value for dimension %s", a.Purpose, d)
			}
			dims[d] = v
		}
		threshold := a.Threshold
		if a.ThresholdSetting != "" {
			v, ok := cfg.thresholds()[a.ThresholdSetting]
			if !ok {
				return nil, fmt.Errorf("alarm %s: no configuration for the setting %s", a.Purpose, a.ThresholdSetting)
			}
			threshold = v
		}
		name := cfg.ModelName(ma.Resource)
		args := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(name),
			AlarmDescription:   pulumi.String(a.Description),
			Namespace:          pulumi.String(a.Namespace),
			MetricName:         pulumi.String(a.Metric),
			Dimensions:         dims,
			ComparisonOperator: pulumi.String(a.Comparison),
			Threshold:          pulumi.Float64(threshold),
			Period:             pulumi.Int(a.PeriodSeconds),
			EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
			DatapointsToAlarm:  pulumi.Int(a.DatapointsToAlarm),
			TreatMissingData:   pulumi.String(a.TreatMissingData),
			ActionsEnabled:     pulumi.Bool(true),
			AlarmActions:       pulumi.Array{o.Topic.Arn},
			OkActions:          pulumi.Array{o.Topic.Arn},
			Tags:               tags(cfg, name),
		}
		if a.ExtendedStatistic != "" {
			args.ExtendedStatistic = pulumi.String(a.ExtendedStatistic)
		} else {
			args.Statistic = pulumi.String(a.Statistic)
		}
		alarm, err := cloudwatch.NewMetricAlarm(ctx, name, args, parent)
		if err != nil {
			return nil, err
		}
		o.Alarms = append(o.Alarms, alarm)
	}

	widgets := m.PresentWidgets(cfg.Choices())
	var dimNames []string
	var dimValues []any
	for d, v := range dimension {
		dimNames = append(dimNames, d)
		dimValues = append(dimValues, v)
	}
	body := pulumi.All(dimValues...).ApplyT(func(v []any) (string, error) {
		values := map[string]string{}
		for i, d := range dimNames {
			values[d] = v[i].(string)
		}
		return blueprint.DashboardBody(widgets, net.Region, func(d string) (string, bool) {
			v, ok := values[d]
			return v, ok
		})
	}).(pulumi.StringOutput)
	dashName := cfg.ModelName(m.Dashboard)
	o.Dashboard, err = cloudwatch.NewDashboard(ctx, dashName, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(dashName),
		DashboardBody: body,
	}, parent)
	if err != nil {
		return nil, err
	}
	o.DashboardURL = pulumi.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s", net.Region, net.Region, o.Dashboard.DashboardName)
	return o, ctx.RegisterResourceOutputs(o, pulumi.Map{"topicArn": o.Topic.Arn, "dashboardUrl": o.DashboardURL})
}

// thresholds are the configured alarm thresholds (blueprint.Alarm.ThresholdSetting).
func (c Config) thresholds() map[string]float64 {
	return map[string]float64{blueprint.SettingEventLagAlarm: float64(c.EventLagAlarmMs)}
}
