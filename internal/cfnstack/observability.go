package cfnstack

import (
	"encoding/json"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Observability logical IDs.
const (
	IDAppLogGroup       = "AppLogGroup"
	IDDBLogGroup        = "DBLogGroup"
	IDAlarmTopic        = "AlarmTopic"
	IDAlarmSubscription = "AlarmEmailSubscription"
	IDDashboard         = "Dashboard"
	IDLogsKey           = "LogsKey"
	IDLogsKeyAlias      = "LogsKeyAlias"
)

// AlarmID returns the logical ID of the alarm with the given blueprint purpose, such as
// "cpu-high": "CpuHighAlarm".
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

// appLogGroupName is the application's log group: /ecs/svc-catalog-{suffix}.
func appLogGroupName() string {
	return "/ecs/" + blueprint.Name("svc", blueprint.Project, "${"+ParamEnvironmentSuffix+"}")
}

// dbLogGroupName is where RDS exports the postgresql log: /aws/rds/cluster/{cluster}/postgresql.
func dbLogGroupName() string {
	return "/aws/rds/cluster/" + blueprint.Name("db", blueprint.Project, "${"+ParamEnvironmentSuffix+"}") + "/postgresql"
}

// logsKeyPolicy lets the account administer the key (the default key policy, without which the
// key would be unmanageable), lets CloudWatch Logs use it for exactly the stack's two log
// groups, and denies grants to anything but AWS services.
func logsKeyPolicy() map[string]any {
	logGroupARN := func(n string) any {
		return cfn.Sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + n)
	}
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{
				"Sid":       "AccountAdministers",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": cfn.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
				"Action":    "kms:*",
				"Resource":  "*", // in a key policy, "*" is this key
			},
			map[string]any{
				"Sid":       "LogsEncryptStackLogGroups",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": cfn.Sub("logs.${AWS::Region}.amazonaws.com")},
				"Action":    []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
				"Resource":  "*",
				"Condition": map[string]any{"ArnEquals": map[string]any{
					"kms:EncryptionContext:aws:logs:arn": []any{logGroupARN(appLogGroupName()), logGroupARN(dbLogGroupName())},
				}},
			},
			map[string]any{
				// CloudWatch cannot publish to a topic under the AWS-managed SNS key; the alarm
				// topic uses this key, and alarms in this account may use it for that.
				"Sid":       "CloudWatchAlarmsPublishToTopic",
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref("AWS::AccountId")}},
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
}

func (b *builder) observability(Options) error {
	b.add(IDLogsKey, "AWS::KMS::Key", map[string]any{
		"Description":         cfn.Sub("Encrypts the catalog log groups and alarm topic of stack ${AWS::StackName}"),
		"KeySpec":             "SYMMETRIC_DEFAULT",
		"KeyUsage":            "ENCRYPT_DECRYPT",
		"EnableKeyRotation":   true,
		"PendingWindowInDays": 7, // the shortest: nothing lingers after the stack is deleted
		"KeyPolicy":           logsKeyPolicy(),
		"Tags":                tags(nil),
	})
	b.add(IDLogsKeyAlias, "AWS::KMS::Alias", map[string]any{
		"AliasName":   cfn.Sub("alias/" + blueprint.Name("kms", "logs", "${"+ParamEnvironmentSuffix+"}")),
		"TargetKeyId": cfn.Ref(IDLogsKey),
	})
	b.add(IDAppLogGroup, "AWS::Logs::LogGroup", map[string]any{
		"LogGroupName":    cfn.Sub(appLogGroupName()),
		"RetentionInDays": cfn.Ref(ParamLogRetentionDays),
		"KmsKeyId":        cfn.GetAtt(IDLogsKey, "Arn"),
		"Tags":            tags(nil),
	})
	// RDS writes the exported postgresql log to this fixed name; the stack creates it first so
	// it has a retention and is deleted with the stack.
	b.add(IDDBLogGroup, "AWS::Logs::LogGroup", map[string]any{
		"LogGroupName":    cfn.Sub(dbLogGroupName()),
		"RetentionInDays": cfn.Ref(ParamLogRetentionDays),
		"KmsKeyId":        cfn.GetAtt(IDLogsKey, "Arn"),
		"Tags":            tags(nil),
	})
	b.add(IDAlarmTopic, "AWS::SNS::Topic", map[string]any{
		"TopicName":      name("topic", "alarms"),
		"DisplayName":    "Catalog alarms",
		"KmsMasterKeyId": cfn.Ref(IDLogsKey),
		"Tags":           tags(nil),
	})
	b.add(IDAlarmSubscription, "AWS::SNS::Subscription", map[string]any{
		"TopicArn": cfn.Ref(IDAlarmTopic),
		"Protocol": "email",
		"Endpoint": cfn.Ref(ParamAlertEmail),
	}, when(CondHasAlertEmail))
	return nil
}

// alarms adds blueprint.Alarms, each notifying the topic on alarm and on recovery.
func (b *builder) alarms(Options) error {
	dims := map[string]any{
		blueprint.DimClusterName:  cfn.Ref(IDCluster),
		blueprint.DimServiceName:  cfn.GetAtt(IDService, "Name"),
		blueprint.DimLoadBalancer: cfn.GetAtt(IDLoadBalancer, "LoadBalancerFullName"),
		blueprint.DimTargetGroup:  cfn.GetAtt(IDTargetGroup, "TargetGroupFullName"),
		blueprint.DimDBCluster:    cfn.Ref(IDDBCluster),
	}
	for _, a := range blueprint.Alarms {
		var ds []any
		for _, d := range a.Dimensions {
			v, ok := dims[d]
			if !ok {
				b.fail("alarm %s: unknown dimension %s", a.Purpose, d)
				continue
			}
			ds = append(ds, map[string]any{"Name": d, "Value": v})
		}
		props := map[string]any{
			"AlarmName":          name("alarm", a.Purpose),
			"AlarmDescription":   a.Description,
			"Namespace":          a.Namespace,
			"MetricName":         a.Metric,
			"Dimensions":         ds,
			"ComparisonOperator": a.Comparison,
			"Threshold":          a.Threshold,
			"Period":             a.PeriodSeconds,
			"EvaluationPeriods":  a.EvaluationPeriods,
			"DatapointsToAlarm":  a.DatapointsToAlarm,
			"TreatMissingData":   a.TreatMissingData,
			"ActionsEnabled":     true,
			"AlarmActions":       []any{cfn.Ref(IDAlarmTopic)},
			"OKActions":          []any{cfn.Ref(IDAlarmTopic)},
			"Tags":               tags(nil),
		}
		if a.ExtendedStatistic != "" {
			props["ExtendedStatistic"] = a.ExtendedStatistic
		} else {
			props["Statistic"] = a.Statistic
		}
		var opts []func(*cfn.Resource)
		if a.NeedsService {
			opts = append(opts, when(CondHasImage))
		}
		b.add(AlarmID(a.Purpose), "AWS::CloudWatch::Alarm", props, opts...)
	}
	return nil
}

// dashboard adds one dashboard with the load balancer, service and database at a glance.
func (b *builder) dashboard(Options) error {
	type widget struct {
		Type       string         `json:"type"`
		X          int            `json:"x"`
		Y          int            `json:"y"`
		Width      int            `json:"width"`
		Height     int            `json:"height"`
		Properties map[string]any `json:"properties"`
	}
	const (
		lb      = "${" + IDLoadBalancer + ".LoadBalancerFullName}"
		tg      = "${" + IDTargetGroup + ".TargetGroupFullName}"
		cluster = "${" + IDCluster + "}"
		service = "${" + IDService + ".Name}"
		db      = "${" + IDDBCluster + "}"
	)
	metric := func(title string, stat string, metrics ...[]any) map[string]any {
		return map[string]any{
			"title":   title,
			"region":  "${AWS::Region}",
			"view":    "timeSeries",
			"stacked": false,
			"stat":    stat,
			"period":  60,
			"metrics": metrics,
		}
	}
	widgets := []widget{
		{"metric", 0, 0, 12, 6, metric("ALB requests and 5xx", "Sum",
			[]any{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb},
			[]any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb},
			[]any{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb})},
		{"metric", 12, 0, 12, 6, metric("Target response time p99 (s)", "p99",
			[]any{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb})},
		{"metric", 0, 6, 12, 6, metric("Healthy and unhealthy targets", "Minimum",
			[]any{"AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb},
			[]any{"AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb})},
		{"metric", 12, 6, 12, 6, metric("Service CPU and memory (%)", "Average",
			[]any{"AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", service},
			[]any{"AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", service})},
		{"metric", 0, 12, 12, 6, metric("Running tasks", "Average",
			[]any{"ECS/ContainerInsights", "RunningTaskCount", "ClusterName", cluster, "ServiceName", service})},
		{"metric", 12, 12, 12, 6, metric("Database CPU (%), connections and capacity (ACU)", "Average",
			[]any{"AWS/RDS", "CPUUtilization", "DBClusterIdentifier", db},
			[]any{"AWS/RDS", "DatabaseConnections", "DBClusterIdentifier", db},
			[]any{"AWS/RDS", "ServerlessDatabaseCapacity", "DBClusterIdentifier", db})},
	}
	body, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		return err
	}
	// Without an image (HasImage false) there is no service: the widgets that name it are left
	// out, or their ${Service.Name} would refer to a resource that does not exist.
	var bootstrap []widget
	for _, w := range widgets {
		wb, err := json.Marshal(w)
		if err != nil {
			return err
		}
		if !strings.Contains(string(wb), service) {
			bootstrap = append(bootstrap, w)
		}
	}
	bootstrapBody, err := json.Marshal(map[string]any{"widgets": bootstrap})
	if err != nil {
		return err
	}
	// CloudWatch dashboards take no tags (AWS::CloudWatch::Dashboard has no Tags property).
	b.add(IDDashboard, "AWS::CloudWatch::Dashboard", map[string]any{
		"DashboardName": name("dashboard", blueprint.Project),
		"DashboardBody": cfn.If(CondHasImage, cfn.Sub(string(body)), cfn.Sub(string(bootstrapBody))),
	})
	return nil
}
