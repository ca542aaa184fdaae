package blueprint

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Placeholders stand in model strings for what only a deployment knows. The CloudFormation
// renderer turns them into pseudo parameters and parameters inside Fn::Sub; the Pulumi renderer
// replaces them with the provider's values and its configuration (Expand).
const (
	PhPartition = "${partition}"
	PhRegion    = "${region}"
	PhAccount   = "${account}"
	PhSuffix    = "${suffix}"
)

// Expand replaces the placeholders in s.
func Expand(s, partition, region, account, suffix string) string {
	return strings.NewReplacer(PhPartition, partition, PhRegion, region, PhAccount, account, PhSuffix, suffix).Replace(s)
}

// Observability is the stack's logging and alerting: the KMS key its log groups and alarm topic
// are encrypted with, the log groups, the alarm topic and its optional e-mail subscription, the
// alarms and the dashboard.
type Observability struct {
	LogsKey      Resource
	LogsKeyAlias Resource
	// LogsKeyPolicy is the key's policy document, with placeholders.
	LogsKeyPolicy map[string]any
	LogGroups     []LogGroup
	Topic         Resource
	TopicDisplay  string
	Subscription  Resource
	Alarms        []ModelAlarm
	Dashboard     Resource
	Widgets       []Widget
}

// LogGroup is a CloudWatch Logs group: its path (with PhSuffix) and retention.
type LogGroup struct {
	Resource
	Path string
}

// ModelAlarm is one of Alarms as a resource of the stack: alarm-{purpose}-{suffix}, existing
// only with the service when it needs it.
type ModelAlarm struct {
	Resource
	Alarm Alarm
}

// Widget is one metric widget of the dashboard, on CloudWatch's 24-column grid.
type Widget struct {
	X, Y, Width, Height int
	Title               string
	Stat                string
	Metrics             []Metric
	When                Option // the widgets that name the service exist only with it
}

// Metric is one line of a widget: a metric and its dimensions, by name (Dim*); each renderer
// fills in the values, as for alarms.
type Metric struct {
	Namespace, Name string
	Dimensions      []string
}

// KeyPendingWindowDays is the shortest KMS deletion window: nothing lingers after the stack is
// deleted.
const KeyPendingWindowDays = 7

// DashboardPeriodSeconds is the period of every dashboard metric.
const DashboardPeriodSeconds = 60

// Observability IDs.
const (
	IDAppLogGroup       = "AppLogGroup"
	IDDBLogGroup        = "DBLogGroup"
	IDLogsKey           = "LogsKey"
	IDLogsKeyAlias      = "LogsKeyAlias"
	IDAlarmTopic        = "AlarmTopic"
	IDAlarmSubscription = "AlarmEmailSubscription"
	IDDashboard         = "Dashboard"
)

// AlarmID returns the ID of the alarm with the given purpose: "cpu-high" is "CpuHighAlarm".
func AlarmID(purpose string) string {
	var sb strings.Builder
	for _, part := range strings.Split(purpose, "-") {
		if part == "" {
			continue
		}
		sb.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return sb.String() + "Alarm"
}

// AppLogGroupPath and DBLogGroupPath are the log groups' paths for a suffix; RDS fixes the
// database's.
func AppLogGroupPath(suffix string) string { return "/ecs/" + Name("svc", Project, suffix) }

// DBLogGroupPath is where RDS exports the cluster's postgresql log.
func DBLogGroupPath(suffix string) string {
	return "/aws/rds/cluster/" + Name("db", Project, suffix) + "/postgresql"
}

// LogGroupARN returns a log group's ARN with placeholders, as the key policy names it.
func LogGroupARN(path string) string {
	return "arn:" + PhPartition + ":logs:" + PhRegion + ":" + PhAccount + ":log-group:" + path
}

// Resources returns every resource of observability, whatever its option.
func (o Observability) Resources() []Resource {
	out := []Resource{o.LogsKey, o.LogsKeyAlias, o.Topic, o.Subscription, o.Dashboard}
	for _, g := range o.LogGroups {
		out = append(out, g.Resource)
	}
	for _, a := range o.Alarms {
		out = append(out, a.Resource)
	}
	return out
}

// PresentAlarms returns the alarms a deployment has.
func (o Observability) PresentAlarms(c Choices) []ModelAlarm {
	return present(o.Alarms, func(a ModelAlarm) Option { return a.When }, c)
}

// PresentWidgets returns the dashboard widgets a deployment has.
func (o Observability) PresentWidgets(c Choices) []Widget {
	return present(o.Widgets, func(w Widget) Option { return w.When }, c)
}

func observability() Observability {
	o := Observability{
		LogsKey:      Resource{ID: IDLogsKey, Kind: "kms", Purpose: "logs"},
		LogsKeyAlias: Resource{ID: IDLogsKeyAlias, Kind: "alias", Purpose: "kms-logs"},
		LogGroups: []LogGroup{
			{Resource: Resource{ID: IDAppLogGroup, Kind: "log", Purpose: "app"}, Path: AppLogGroupPath(PhSuffix)},
			// RDS writes the exported postgresql log to this fixed name; the stack creates it
			// first so it has a retention and is deleted with the stack.
			{Resource: Resource{ID: IDDBLogGroup, Kind: "log", Purpose: "db"}, Path: DBLogGroupPath(PhSuffix)},
			{Resource: Resource{ID: IDFlowLogGroup, Kind: "log", Purpose: "flow", When: WithFlowLogs}, Path: FlowLogGroupPath(PhSuffix)},
		},
		Topic:        Resource{ID: IDAlarmTopic, Kind: "topic", Purpose: "alarms"},
		TopicDisplay: "Catalog alarms",
		Subscription: Resource{ID: IDAlarmSubscription, Kind: "sub", Purpose: "alarms-email", When: WithAlertEmail},
		Dashboard:    Resource{ID: IDDashboard, Kind: "dashboard", Purpose: Project},
	}
	var logARNs []any
	for _, g := range o.LogGroups {
		logARNs = append(logARNs, LogGroupARN(g.Path))
	}
	o.LogsKeyPolicy = map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				// The default key policy: without it the key would be unmanageable.
				"Sid":       "AccountAdministers",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": "arn:" + PhPartition + ":iam::" + PhAccount + ":root"},
				"Action":    "kms:*",
				"Resource":  "*", // in a key policy, "*" is this key
			},
			map[string]any{
				"Sid":       "LogsEncryptStackLogGroups",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "logs." + PhRegion + ".amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
				"Resource":  "*",
				"Condition": map[string]any{"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": logARNs}},
			},
			map[string]any{
				// CloudWatch cannot publish to a topic under the AWS-managed SNS key; the alarm
				// topic uses this key, and alarms in this account may use it for that.
				"Sid":       "CloudWatchAlarmsPublishToTopic",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": PhAccount}},
			},
			map[string]any{
				"Sid":       "GrantsOnlyForAWSServices",
				"Effect":    "Deny",
				"Principal": "*",
				"Action":    []string{"kms:CreateGrant"},
				"Resource":  "*",
				"Condition": map[string]any{"BoolIfExists": map[string]any{
					"kms:GrantIsForAWSResource": "false",
					"aws:PrincipalIsAWSService": "false",
				}},
			},
		},
	}
	for _, a := range Alarms {
		o.Alarms = append(o.Alarms, modelAlarm(a))
	}
	lb := []string{DimLoadBalancer}
	tg := []string{DimTargetGroup, DimLoadBalancer}
	svc := []string{DimClusterName, DimServiceName}
	db := []string{DimDBCluster}
	o.Widgets = []Widget{
		{0, 0, 12, 6, "ALB requests and 5xx", "Sum", []Metric{
			{"AWS/ApplicationELB", "RequestCount", lb}, {"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb}, {"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb}}, Always},
		{12, 0, 12, 6, "Target response time p99 (s)", "p99", []Metric{{"AWS/ApplicationELB", "TargetResponseTime", lb}}, Always},
		{0, 6, 12, 6, "Healthy and unhealthy targets", "Minimum", []Metric{
			{"AWS/ApplicationELB", "HealthyHostCount", tg}, {"AWS/ApplicationELB", "UnHealthyHostCount", tg}}, Always},
		{12, 6, 12, 6, "Service CPU and memory (%)", "Average", []Metric{
			{"AWS/ECS", "CPUUtilization", svc}, {"AWS/ECS", "MemoryUtilization", svc}}, WithImage},
		{0, 12, 12, 6, "Running tasks", "Average", []Metric{{"ECS/ContainerInsights", "RunningTaskCount", svc}}, WithImage},
		{12, 12, 12, 6, "Database CPU (%), connections and capacity (ACU)", "Average", []Metric{
			{"AWS/RDS", "CPUUtilization", db}, {"AWS/RDS", "DatabaseConnections", db}, {"AWS/RDS", "ServerlessDatabaseCapacity", db}}, Always},
	}
	return o
}

// modelAlarm makes a an alarm of the stack, existing only with the service if it needs it, and
// only under its own option if it has one.
func modelAlarm(a Alarm) ModelAlarm {
	when := a.When
	if a.NeedsService {
		when = WithImage
		if a.When != Always {
			when = AllOf(WithImage, a.When)
		}
	}
	return ModelAlarm{Resource: Resource{ID: AlarmID(a.Purpose), Kind: "alarm", Purpose: a.Purpose, When: when}, Alarm: a}
}

// DashboardBody renders widgets in CloudWatch's dashboard body syntax (the DashboardBody of
// PutDashboard, the same for every tool): region and each dimension's value come from the
// renderer, as text it may fill in later (CloudFormation: ${...} for Fn::Sub).
func DashboardBody(widgets []Widget, region string, dimension func(name string) (string, bool)) (string, error) {
	type widget struct {
		Type       string         `json:"type"`
		X          int            `json:"x"`
		Y          int            `json:"y"`
		Width      int            `json:"width"`
		Height     int            `json:"height"`
		Properties map[string]any `json:"properties"`
	}
	var out []widget
	for _, w := range widgets {
		var metrics [][]any
		for _, m := range w.Metrics {
			line := []any{m.Namespace, m.Name}
			for _, d := range m.Dimensions {
				v, ok := dimension(d)
				if !ok {
					return "", fmt.Errorf("dashboard widget %q: no value for dimension %s", w.Title, d)
				}
				line = append(line, d, v)
			}
			metrics = append(metrics, line)
		}
		out = append(out, widget{"metric", w.X, w.Y, w.Width, w.Height, map[string]any{
			"title": w.Title, "region": region, "view": "timeSeries", "stacked": false,
			"stat": w.Stat, "period": DashboardPeriodSeconds, "metrics": metrics,
		}})
	}
	b, err := json.Marshal(map[string]any{"widgets": out})
	return string(b), err
}
