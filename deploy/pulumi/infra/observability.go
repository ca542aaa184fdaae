package infra

import (
	"encoding/json"
	"fmt"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Observability is the alarm topic (with an optional e-mail subscription), the alarms of
// blueprint.Alarms all notifying it, and one dashboard for the load balancer, the service and
// the database. The log groups belong to the service and database components.
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
func NewObservability(ctx *pulumi.Context, cfg Config, net *Network, db *Database, svc *Service, logs *LogEncryption, opts ...pulumi.ResourceOption) (*Observability, error) {
	o := &Observability{}
	parent, err := newComponent(ctx, cfg, "Observability", "observability", o, opts...)
	if err != nil {
		return nil, err
	}
	topicName := cfg.Name("topic", "alarms")
	o.Topic, err = sns.NewTopic(ctx, topicName, &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: logs.Key.Arn,
		Tags:           tags(cfg, topicName),
	}, parent)
	if err != nil {
		return nil, err
	}
	if cfg.AlertEmail != "" {
		if _, err := sns.NewTopicSubscription(ctx, cfg.Name("sub", "alarms-email"), &sns.TopicSubscriptionArgs{
			Topic:    o.Topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(cfg.AlertEmail),
		}, parent); err != nil {
			return nil, err
		}
	}

	dimension := map[string]pulumi.StringInput{
		blueprint.DimClusterName:  svc.Cluster.Name,
		blueprint.DimLoadBalancer: svc.LoadBalancer.ArnSuffix,
		blueprint.DimTargetGroup:  svc.TargetGroup.ArnSuffix,
		blueprint.DimDBCluster:    db.Cluster.ClusterIdentifier,
	}
	serviceName := pulumi.String("").ToStringOutput()
	if svc.Service != nil {
		dimension[blueprint.DimServiceName] = svc.Service.Name
		serviceName = svc.Service.Name
	}
	for _, a := range blueprint.Alarms {
		// Without the service these would name nothing or page during the bootstrap deploy.
		if a.NeedsService && svc.Service == nil {
			continue
		}
		dims := pulumi.StringMap{}
		for _, d := range a.Dimensions {
			v, ok := dimension[d]
			if !ok {
				return nil, fmt.Errorf("alarm %s: no value for dimension %s", a.Purpose, d)
			}
			dims[d] = v
		}
		name := cfg.Name("alarm", a.Purpose)
		args := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(name),
			AlarmDescription:   pulumi.String(a.Description),
			Namespace:          pulumi.String(a.Namespace),
			MetricName:         pulumi.String(a.Metric),
			Dimensions:         dims,
			ComparisonOperator: pulumi.String(a.Comparison),
			Threshold:          pulumi.Float64(a.Threshold),
			Period:             pulumi.Int(a.PeriodSeconds),
			EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
			DatapointsToAlarm:  pulumi.Int(a.DatapointsToAlarm),
			TreatMissingData:   pulumi.String(a.TreatMissingData),
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

	dashName := cfg.Name("dashboard", blueprint.Project)
	body := pulumi.All(svc.LoadBalancer.ArnSuffix, svc.TargetGroup.ArnSuffix, svc.Cluster.Name, serviceName, db.Cluster.ClusterIdentifier).
		ApplyT(func(v []any) (string, error) {
			return dashboardBody(net.Region, v[0].(string), v[1].(string), v[2].(string), v[3].(string), v[4].(string))
		}).(pulumi.StringOutput)
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

// dashboardBody renders the dashboard: traffic and errors at the load balancer, the service's
// CPU, memory and task count, and the database's CPU, connections and capacity.
func dashboardBody(region, lbSuffix, tgSuffix, cluster, service, dbCluster string) (string, error) {
	type widget struct {
		Type       string         `json:"type"`
		X          int            `json:"x"`
		Y          int            `json:"y"`
		Width      int            `json:"width"`
		Height     int            `json:"height"`
		Properties map[string]any `json:"properties"`
	}
	metric := func(title string, stat string, metrics ...[]any) map[string]any {
		return map[string]any{"title": title, "region": region, "stat": stat, "period": 60, "view": "timeSeries", "metrics": metrics}
	}
	lbDims := []any{"LoadBalancer", lbSuffix}
	tgDims := []any{"TargetGroup", tgSuffix, "LoadBalancer", lbSuffix}
	svcDims := []any{"ClusterName", cluster, "ServiceName", service}
	dbDims := []any{"DBClusterIdentifier", dbCluster}
	m := func(ns, name string, dims []any) []any { return append([]any{ns, name}, dims...) }
	widgets := []widget{
		{"metric", 0, 0, 8, 6, metric("Requests and 5xx", "Sum",
			m("AWS/ApplicationELB", "RequestCount", lbDims), m("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", tgDims), m("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lbDims))},
		{"metric", 8, 0, 8, 6, metric("Target response time (p99)", "p99", m("AWS/ApplicationELB", "TargetResponseTime", tgDims))},
		{"metric", 16, 0, 8, 6, metric("Healthy targets", "Minimum", m("AWS/ApplicationELB", "HealthyHostCount", tgDims))},
	}
	// The service widgets exist only with the service (service is empty in a bootstrap deploy).
	if service != "" {
		widgets = append(widgets,
			widget{"metric", 0, 6, 12, 6, metric("Service CPU and memory", "Average", m("AWS/ECS", "CPUUtilization", svcDims), m("AWS/ECS", "MemoryUtilization", svcDims))},
			widget{"metric", 12, 6, 12, 6, metric("Running tasks", "Average", m("ECS/ContainerInsights", "RunningTaskCount", svcDims))})
	}
	widgets = append(widgets, []widget{
		{"metric", 0, 12, 8, 6, metric("Database CPU", "Average", m("AWS/RDS", "CPUUtilization", dbDims))},
		{"metric", 8, 12, 8, 6, metric("Database connections", "Maximum", m("AWS/RDS", "DatabaseConnections", dbDims))},
		{"metric", 16, 12, 8, 6, metric("Database capacity (ACU)", "Average", m("AWS/RDS", "ServerlessDatabaseCapacity", dbDims))},
	}...)
	b, err := json.Marshal(map[string]any{"widgets": widgets})
	return string(b), err
}
