package cfnstack

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// want compares one value of the template to the blueprint's, as text so JSON numbers and Go
// ints compare equal.
func want(t *testing.T, where string, got, want any) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", where, got, want)
	}
}

func TestNumbersMatchTheBlueprint(t *testing.T) {
	tp := decoded(t)

	tg := tp.props(t, IDTargetGroup)
	want(t, "target type", tg["TargetType"], "ip")
	want(t, "target port", tg["Port"], blueprint.AppPort)
	want(t, "health path", tg["HealthCheckPath"], blueprint.HealthPath)
	want(t, "health interval", tg["HealthCheckIntervalSeconds"], blueprint.HealthCheckIntervalSeconds)
	want(t, "health timeout", tg["HealthCheckTimeoutSeconds"], blueprint.HealthCheckTimeoutSeconds)
	want(t, "healthy threshold", tg["HealthyThresholdCount"], blueprint.HealthyThreshold)
	want(t, "unhealthy threshold", tg["UnhealthyThresholdCount"], blueprint.UnhealthyThreshold)
	want(t, "deregistration delay", tg["TargetGroupAttributes"],
		[]any{map[string]any{"Key": "deregistration_delay.timeout_seconds", "Value": strconv.Itoa(blueprint.DeregistrationDelaySeconds)}})
	want(t, "TLS policy", tp.props(t, IDHTTPSListener)["SslPolicy"], blueprint.TLSPolicy)
	if !strings.Contains(fmt.Sprint(tp.props(t, IDLoadBalancer)["LoadBalancerAttributes"]), "routing.http.drop_invalid_header_fields.enabled Value:true") {
		t.Error("the load balancer must drop invalid header fields")
	}

	st := tp.props(t, IDScalableTarget)
	want(t, "min tasks", st["MinCapacity"], blueprint.MinTasks)
	want(t, "max tasks", st["MaxCapacity"], blueprint.MaxTasks)
	for id, target := range map[string]int{IDCPUScalingPolicy: blueprint.CPUTargetPercent, IDMemoryScalingPolicy: blueprint.MemoryTargetPercent,
		IDRequestScalingPolicy: blueprint.RequestCountTarget} {
		c := tp.props(t, id)["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
		want(t, id+" target", c["TargetValue"], target)
		want(t, id+" scale-out cooldown", c["ScaleOutCooldown"], blueprint.ScaleOutCooldown)
		want(t, id+" scale-in cooldown", c["ScaleInCooldown"], blueprint.ScaleInCooldown)
	}

	// ALBRequestCountPerTarget names its target group as app/<lb>/<id>/targetgroup/<tg>/<id>.
	rc := tp.props(t, IDRequestScalingPolicy)["TargetTrackingScalingPolicyConfiguration"].(map[string]any)["PredefinedMetricSpecification"].(map[string]any)
	want(t, "request-count resource label", rc["ResourceLabel"], cfn.Join("/", cfn.GetAtt(IDLoadBalancer, "LoadBalancerFullName"), cfn.GetAtt(IDTargetGroup, "TargetGroupFullName")))

	// Step scaling: percent steps relative to the alarm's threshold, each bounded by the next.
	ssc := tp.props(t, IDStepScalingPolicy)["StepScalingPolicyConfiguration"].(map[string]any)
	step := blueprint.Model().Scaling.Step
	want(t, "step adjustment type", ssc["AdjustmentType"], "PercentChangeInCapacity")
	want(t, "step min adjustment", ssc["MinAdjustmentMagnitude"], step.MinAdjustment)
	want(t, "step cooldown", ssc["Cooldown"], step.Cooldown)
	want(t, "step adjustments", ssc["StepAdjustments"], []map[string]any{
		{"MetricIntervalLowerBound": step.Steps[0].LowerBound, "MetricIntervalUpperBound": step.Steps[1].LowerBound, "ScalingAdjustment": step.Steps[0].PercentChange},
		{"MetricIntervalLowerBound": step.Steps[1].LowerBound, "ScalingAdjustment": step.Steps[1].PercentChange}})

	svc := tp.props(t, IDService)
	if _, ok := svc["DesiredCount"]; ok {
		t.Error("the service must not fix DesiredCount: a deploy would reset what auto scaling chose")
	}
	dc := svc["DeploymentConfiguration"].(map[string]any)
	want(t, "min healthy percent", dc["MinimumHealthyPercent"], blueprint.DeploymentMinHealthy)
	want(t, "max percent", dc["MaximumPercent"], blueprint.DeploymentMaxPercent)
	want(t, "circuit breaker", dc["DeploymentCircuitBreaker"], map[string]any{"Enable": true, "Rollback": true})
	want(t, "grace period", svc["HealthCheckGracePeriodSeconds"], blueprint.HealthCheckGracePeriod)
	if !strings.Contains(fmt.Sprint(tp.props(t, IDCluster)["ClusterSettings"]), "containerInsights Value:enabled") {
		t.Error("Container Insights must be on")
	}

	td := tp.props(t, IDTaskDefinition)
	c := td["ContainerDefinitions"].([]any)[0].(map[string]any)
	want(t, "user", c["User"], blueprint.ContainerUser)
	want(t, "read-only root", c["ReadonlyRootFilesystem"], true)
	want(t, "health check", c["HealthCheck"].(map[string]any)["Command"], blueprint.HealthCheckCommand)
	want(t, "stop timeout", c["StopTimeout"], blueprint.StopTimeoutSeconds)
	want(t, "container port", c["PortMappings"].([]any)[0].(map[string]any)["ContainerPort"], blueprint.AppPort)
	want(t, "/tmp mount", c["MountPoints"].([]any)[0].(map[string]any)["ContainerPath"], blueprint.TmpfsPath)
	want(t, "log driver", c["LogConfiguration"].(map[string]any)["LogDriver"], "awslogs")
	if blueprint.ShutdownTimeout.Seconds() >= blueprint.StopTimeoutSeconds {
		t.Error("the app's shutdown must end before ECS's stop timeout")
	}
	secrets := map[string]string{}
	for _, s := range c["Secrets"].([]any) {
		m := s.(map[string]any)
		secrets[m["Name"].(string)] = fmt.Sprint(m["ValueFrom"])
	}
	for env, from := range map[string]string{
		blueprint.EnvDBHost: IDDBHostParameter,
		blueprint.EnvDBName: IDDBNameParameter,
	} {
		if !strings.Contains(secrets[env], from) {
			t.Errorf("container secret %s = %q, want it from %s", env, secrets[env], from)
		}
	}
	// The master secret goes to the migrate task only (blueprint's
	// TestPolicyMigrateTaskAloneHoldsTheMasterSecret); here, that it renders as the JSON keys.
	mc := tp.props(t, IDMigrateTaskDefinition)["ContainerDefinitions"].([]any)[0].(map[string]any)
	migrateSecrets := map[string]string{}
	for _, s := range mc["Secrets"].([]any) {
		m := s.(map[string]any)
		migrateSecrets[m["Name"].(string)] = fmt.Sprint(m["ValueFrom"])
	}
	for env, from := range map[string]string{
		blueprint.EnvDBUser:     "MasterUserSecret.SecretArn}:username::",
		blueprint.EnvDBPassword: "MasterUserSecret.SecretArn}:password::",
	} {
		if !strings.Contains(migrateSecrets[env], from) || secrets[env] != "" {
			t.Errorf("%s: migrate task %q, service %q; want it from %s in the migrate task only", env, migrateSecrets[env], secrets[env], from)
		}
	}
	if fmt.Sprint(mc["Command"]) != "[migrate]" || mc["PortMappings"] != nil || mc["HealthCheck"] != nil {
		t.Errorf("migrate container: command %v, ports %v, health check %v", mc["Command"], mc["PortMappings"], mc["HealthCheck"])
	}

	// Task size: the default is 1 vCPU / 2 GB and every allowed value is a Fargate combination.
	ts := tp.Parameters[ParamTaskSize]
	want(t, "default task size", ts["Default"], blueprint.DefaultTaskSize.String())
	for _, v := range ts["AllowedValues"].([]any) {
		var s blueprint.TaskSize
		if _, err := fmt.Sscanf(v.(string), "%d/%d", &s.CPU, &s.Memory); err != nil || s.Valid() != nil {
			t.Errorf("TaskSize allows %v, not a Fargate size", v)
		}
	}
	if len(ts["AllowedValues"].([]any)) != len(blueprint.ValidTaskSizes()) {
		t.Error("TaskSize must allow exactly blueprint.ValidTaskSizes()")
	}

	// Network plan.
	want(t, "VPC CIDR", tp.props(t, IDVPC)["CidrBlock"], blueprint.VPCCIDR)
	for tier, ids := range map[string][]string{"public": PublicSubnetIDs, "private": PrivateSubnetIDs, "isolated": IsolatedSubnetIDs} {
		cidrs := map[string][blueprint.AZCount]string{"public": blueprint.PublicSubnetCIDRs, "private": blueprint.PrivateSubnetCIDRs, "isolated": blueprint.IsolatedSubnetCIDRs}[tier]
		for i, id := range ids {
			p := tp.props(t, id)
			want(t, id+" CIDR", p["CidrBlock"], cidrs[i])
			want(t, id+" AZ", p["AvailabilityZone"], map[string]any{"Fn::If": []any{CondDefaultAZs,
				map[string]any{"Fn::Select": []any{i, map[string]any{"Fn::GetAZs": ""}}},
				map[string]any{"Fn::Select": []any{i, map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": ParamAvailabilityZones}}}}}}})
		}
	}
	if n := len(tp.ofType("AWS::EC2::NatGateway")); n != blueprint.AZCount {
		t.Errorf("%d NAT gateways, want %d (the 2nd and 3rd conditional)", n, blueprint.AZCount)
	}
	for i, svc := range blueprint.InterfaceEndpointServices {
		id := InterfaceEndpointID(svc)
		if r, ok := tp.Resources[id]; !ok || r.Condition != CondCreateInterfaceEndpoints {
			t.Errorf("interface endpoint %d (%s) missing or unconditional", i, svc)
		}
	}
	want(t, "NAT mode default", tp.Parameters[ParamNATGatewayMode]["Default"], blueprint.NATPerAZ)

	// The platform images are built for.
	want(t, "runtime platform", tp.props(t, IDTaskDefinition)["RuntimePlatform"],
		map[string]any{"OperatingSystemFamily": blueprint.ECSOperatingSystemFamily, "CpuArchitecture": blueprint.ECSCPUArchitecture()})
	if blueprint.ImagePlatform != "linux/amd64" || blueprint.ECSCPUArchitecture() != "X86_64" {
		t.Errorf("ImagePlatform %s maps to %s; the task definition pins X86_64", blueprint.ImagePlatform, blueprint.ECSCPUArchitecture())
	}

	// Registry.
	repo := tp.props(t, IDRepository)
	want(t, "tag mutability", repo["ImageTagMutability"], "IMMUTABLE")
	want(t, "scan on push", repo["ImageScanningConfiguration"], map[string]any{"ScanOnPush": true})
	want(t, "lifecycle", repo["LifecyclePolicy"].(map[string]any)["LifecyclePolicyText"], blueprint.ECRLifecyclePolicy())

	// Database.
	db := tp.props(t, IDDBCluster)
	want(t, "engine", db["Engine"], blueprint.DBEngine)
	want(t, "engine version", db["EngineVersion"], map[string]any{"Ref": ParamDBEngineVersion})
	want(t, "engine version default", tp.Parameters[ParamDBEngineVersion]["Default"], blueprint.DBEngineVersion)
	want(t, "DB port", db["Port"], blueprint.DBPort)
	want(t, "DB name", db["DatabaseName"], blueprint.DBName)
	want(t, "parameter family", tp.props(t, IDDBParameterGroup)["Family"], blueprint.DBParameterGroupFamily)
	if !reflect.DeepEqual(anyMap(blueprint.DBClusterParameters), tp.props(t, IDDBParameterGroup)["Parameters"]) {
		t.Errorf("cluster parameters = %v, want %v", tp.props(t, IDDBParameterGroup)["Parameters"], blueprint.DBClusterParameters)
	}
	want(t, "backup retention default", tp.Parameters[ParamDBBackupRetentionDays]["Default"], blueprint.DBBackupRetentionDays)
	want(t, "log retention default", tp.Parameters[ParamLogRetentionDays]["Default"], blueprint.LogRetentionDays)
	env := tp.Mappings[MapEnvironment].(map[string]any)
	for _, e := range blueprint.Environments {
		m := env[e.Name].(map[string]any)
		want(t, e.Name+" min ACU", m["DBMinCapacity"], e.MinACU)
		want(t, e.Name+" max ACU", m["DBMaxCapacity"], e.MaxACU)
		want(t, e.Name+" cost centre", m["CostCenter"], e.CostCenter)
	}
	for _, id := range []string{IDDBWriter, IDDBReader} {
		want(t, id+" class", tp.props(t, id)["DBInstanceClass"], blueprint.DBInstanceClass)
		want(t, id+" PI retention", tp.props(t, id)["PerformanceInsightsRetentionPeriod"], blueprint.DBPerformanceInsightsTTL)
	}

	// Parameter Store paths.
	for _, p := range blueprint.Model().Config.Parameters {
		want(t, p.ID+" name", tp.props(t, p.ID)["Name"], map[string]any{"Fn::Sub": blueprint.ParameterPath("${EnvironmentSuffix}") + p.Key})
		want(t, p.ID+" type", tp.props(t, p.ID)["Type"], "String")
	}
}

func TestAlarmsMatchTheBlueprint(t *testing.T) {
	tp := decoded(t)
	// The model's alarms notify the topic on alarm and recovery; step scaling's alarm acts on
	// its policy only.
	topic := []any{refTo(IDAlarmTopic)}
	type expect struct {
		a        blueprint.Alarm
		when     blueprint.Option
		actions  []any
		recovery any
	}
	var all []expect
	for _, ma := range blueprint.Model().Observability.Alarms {
		all = append(all, expect{ma.Alarm, ma.When, topic, topic})
	}
	step := blueprint.Model().Scaling.Step.Alarm
	all = append(all, expect{step.Alarm, step.When, []any{refTo(IDStepScalingPolicy)}, nil})
	if got := len(tp.ofType("AWS::CloudWatch::Alarm")); got != len(all) {
		t.Errorf("%d alarms, want %d", got, len(all))
	}
	for _, x := range all {
		a := x.a
		p := tp.props(t, AlarmID(a.Purpose))
		want(t, a.Purpose+" metric", p["Namespace"].(string)+"/"+p["MetricName"].(string), a.Namespace+"/"+a.Metric)
		if a.ThresholdSetting == "" {
			want(t, a.Purpose+" threshold", p["Threshold"], a.Threshold)
		} else {
			// From the deployment's parameter, whose default is the model's threshold.
			want(t, a.Purpose+" threshold", p["Threshold"], refTo(thresholds[a.ThresholdSetting]))
			want(t, a.Purpose+" threshold default", tp.Parameters[thresholds[a.ThresholdSetting]]["Default"], a.Threshold)
		}
		wantCond := ""
		if x.when != blueprint.Always {
			wantCond = optionConditions[x.when]
		}
		want(t, a.Purpose+" condition", tp.Resources[AlarmID(a.Purpose)].Condition, wantCond)
		want(t, a.Purpose+" comparison", p["ComparisonOperator"], a.Comparison)
		want(t, a.Purpose+" period", p["Period"], a.PeriodSeconds)
		want(t, a.Purpose+" evaluation periods", p["EvaluationPeriods"], a.EvaluationPeriods)
		want(t, a.Purpose+" datapoints", p["DatapointsToAlarm"], a.DatapointsToAlarm)
		want(t, a.Purpose+" missing data", p["TreatMissingData"], a.TreatMissingData)
		if a.ExtendedStatistic != "" {
			want(t, a.Purpose+" statistic", p["ExtendedStatistic"], a.ExtendedStatistic)
		} else {
			want(t, a.Purpose+" statistic", p["Statistic"], a.Statistic)
		}
		var dims []string
		for _, d := range p["Dimensions"].([]any) {
			name := d.(map[string]any)["Name"].(string)
			dims = append(dims, name)
			// The service's lines carry APP_ENV, which the task sets to the Environment parameter.
			if name == blueprint.DimEnvironment {
				want(t, a.Purpose+" "+name, d.(map[string]any)["Value"], refTo(ParamEnvironment))
			}
		}
		want(t, a.Purpose+" dimensions", dims, a.Dimensions)
		if !reflect.DeepEqual(p["AlarmActions"], x.actions) || !reflect.DeepEqual(p["OKActions"], x.recovery) {
			t.Errorf("%s actions %v / OK %v, want %v / %v", a.Purpose, p["AlarmActions"], p["OKActions"], x.actions, x.recovery)
		}
	}
	if n := len(tp.ofType("AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%d dashboards, want 1", n)
	}
}
