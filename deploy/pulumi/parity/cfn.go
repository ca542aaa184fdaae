package parity

import (
	"fmt"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// cfnNameProps is the property that holds each CloudFormation type's physical name.
var cfnNameProps = map[string]string{
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "Name", "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
	"AWS::ECS::Cluster": "ClusterName", "AWS::ECS::Service": "ServiceName", "AWS::ECS::TaskDefinition": "Family",
	"AWS::ECR::Repository": "RepositoryName", "AWS::RDS::DBCluster": "DBClusterIdentifier",
	"AWS::RDS::DBInstance": "DBInstanceIdentifier", "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
	"AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName", "AWS::Logs::LogGroup": "LogGroupName",
	"AWS::CloudWatch::Alarm": "AlarmName", "AWS::SNS::Topic": "TopicName", "AWS::CloudWatch::Dashboard": "DashboardName",
	"AWS::IAM::Role": "RoleName", "AWS::EC2::SecurityGroup": "GroupName", "AWS::SSM::Parameter": "Name",
	"AWS::ApplicationAutoScaling::ScalingPolicy": "PolicyName",
}

// FromTemplate summarises the template under an evaluation (parameters chosen). suffix is the
// EnvironmentSuffix the evaluation uses; names are compared with it replaced.
func FromTemplate(e *cfn.Evaluation, suffix string) (Summary, error) {
	s := Summary{Counts: map[string]int{}, Facts: map[string]string{}}
	props := map[string]map[string]any{}
	types := map[string]string{}
	for id, r := range e.Template().Resources {
		if !e.Present(r.Condition) {
			continue
		}
		p, err := e.Properties(r)
		if err != nil {
			return s, fmt.Errorf("resource %s: %w", id, err)
		}
		props[id], types[id] = p, r.Type
		if !foldedCFN[r.Type] {
			s.Counts[r.Type]++
		}
		if r.Type == "AWS::SNS::Topic" {
			if subs, _ := p["Subscription"].([]any); len(subs) > 0 {
				s.Counts["AWS::SNS::Subscription"] += len(subs)
			}
		}
	}
	of := func(typ string) []map[string]any {
		var out []map[string]any
		for _, id := range sortedIDs(types) {
			if types[id] == typ {
				out = append(out, props[id])
			}
		}
		return out
	}
	first := func(typ string) map[string]any {
		if l := of(typ); len(l) > 0 {
			return l[0]
		}
		return map[string]any{}
	}
	refID := func(v any) string {
		if r, ok := v.(cfn.ResourceValue); ok {
			return r.ID
		}
		return cfn.Scalar(v)
	}
	f := s.Facts

	// Security-group roles: which group each tier uses.
	role := map[string]string{}
	setRole := func(list any, name string) {
		if l, ok := list.([]any); ok {
			for _, x := range l {
				role[refID(x)] = name
			}
		}
	}
	setRole(get(first("AWS::ElasticLoadBalancingV2::LoadBalancer"), "SecurityGroups"), "alb")
	setRole(get(first("AWS::ECS::Service"), "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups"), "tasks")
	setRole(get(first("AWS::RDS::DBCluster"), "VpcSecurityGroupIds"), "db")
	for _, ep := range of("AWS::EC2::VPCEndpoint") {
		setRole(ep["SecurityGroupIds"], "endpoints")
	}
	roleOf := func(id string) string {
		if r, ok := role[id]; ok {
			return r
		}
		// A group no resource uses (the tasks' group before the service exists) goes by its
		// Name tag.
		if p, ok := props[id]; ok {
			if tags := keyValues(p["Tags"]); tags["Name"] != "" {
				return "unused-group:" + relativeName(tags["Name"], suffix)
			}
		}
		return "unused-group:" + id
	}
	var ingress, egress []string
	rule := func(group string, r map[string]any, dir string) {
		peer := str(r, "CidrIp")
		for _, k := range []string{"SourceSecurityGroupId", "DestinationSecurityGroupId"} {
			if v, ok := r[k]; ok {
				peer = roleOf(refID(v))
			}
		}
		if str(r, "CidrIpv6") != "" || str(r, "SourcePrefixListId") != "" || str(r, "DestinationPrefixListId") != "" {
			peer += "+other"
		}
		proto := strings.ToLower(str(r, "IpProtocol"))
		if dir == "egress" && isNoEgress(proto, peer) {
			return
		}
		x := sgRule{role: roleOf(group), proto: proto, from: str(r, "FromPort"), to: str(r, "ToPort"), peer: peer}.String()
		if dir == "ingress" {
			ingress = append(ingress, x)
		} else {
			egress = append(egress, x)
		}
	}
	for _, id := range sortedIDs(types) {
		p := props[id]
		switch types[id] {
		case "AWS::EC2::SecurityGroup":
			for _, r := range asList(p["SecurityGroupIngress"]) {
				rule(id, asMap(r), "ingress")
			}
			for _, r := range asList(p["SecurityGroupEgress"]) {
				rule(id, asMap(r), "egress")
			}
		case "AWS::EC2::SecurityGroupIngress":
			rule(refID(p["GroupId"]), p, "ingress")
		case "AWS::EC2::SecurityGroupEgress":
			rule(refID(p["GroupId"]), p, "egress")
		}
	}
	f["sg.ingress"] = sortedJoin(ingress)
	f["sg.egress"] = sortedJoin(egress)

	// Network.
	f["network.vpc.cidr"] = str(first("AWS::EC2::VPC"), "CidrBlock")
	var cidrs, publicIPs, endpoints []string
	for _, sn := range of("AWS::EC2::Subnet") {
		cidrs = append(cidrs, str(sn, "CidrBlock"))
		if str(sn, "MapPublicIpOnLaunch") == "true" {
			publicIPs = append(publicIPs, str(sn, "CidrBlock"))
		}
	}
	for _, ep := range of("AWS::EC2::VPCEndpoint") {
		endpoints = append(endpoints, str(ep, "ServiceName")+" "+str(ep, "VpcEndpointType"))
	}
	f["network.subnets"] = sortedJoin(cidrs)
	f["network.subnets.mapPublicIp"] = sortedJoin(publicIPs)
	f["network.endpoints"] = sortedJoin(endpoints)

	// Load balancer.
	alb := first("AWS::ElasticLoadBalancingV2::LoadBalancer")
	f["alb.scheme"] = str(alb, "Scheme")
	attrs := keyValues(alb["LoadBalancerAttributes"])
	f["alb.dropInvalidHeaders"] = attrs["routing.http.drop_invalid_header_fields.enabled"]
	f["alb.idleTimeout"] = orDefault(attrs["idle_timeout.timeout_seconds"], "60")
	tg := first("AWS::ElasticLoadBalancingV2::TargetGroup")
	f["tg.target"] = fmt.Sprintf("%s %s:%s", str(tg, "TargetType"), str(tg, "Protocol"), str(tg, "Port"))
	f["tg.healthCheck"] = fmt.Sprintf("%s interval %s timeout %s healthy %s unhealthy %s matcher %s",
		str(tg, "HealthCheckPath"), str(tg, "HealthCheckIntervalSeconds"), str(tg, "HealthCheckTimeoutSeconds"),
		str(tg, "HealthyThresholdCount"), str(tg, "UnhealthyThresholdCount"), str(tg, "Matcher.HttpCode"))
	f["tg.deregistrationDelay"] = keyValues(tg["TargetGroupAttributes"])["deregistration_delay.timeout_seconds"]
	var listeners []string
	for _, l := range of("AWS::ElasticLoadBalancingV2::Listener") {
		action := str(l, "DefaultActions.0.Type")
		if action == "redirect" {
			action += " to " + str(l, "DefaultActions.0.RedirectConfig.Protocol") + ":" + str(l, "DefaultActions.0.RedirectConfig.Port")
		}
		listeners = append(listeners, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", str(l, "Port"), str(l, "Protocol"), action, str(l, "SslPolicy"))))
	}
	f["alb.listeners"] = sortedJoin(listeners)

	// Service.
	td := first("AWS::ECS::TaskDefinition")
	f["task.size"] = str(td, "Cpu") + "/" + str(td, "Memory")
	f["task.networkMode"] = str(td, "NetworkMode")
	c := asMap(get(td, "ContainerDefinitions.0"))
	f["container.user"] = str(c, "User")
	f["container.readonlyRootFilesystem"] = str(c, "ReadonlyRootFilesystem")
	f["container.port"] = str(c, "PortMappings.0.ContainerPort")
	f["container.healthCheck"] = fmt.Sprintf("%s interval %s timeout %s retries %s start %s", str(c, "HealthCheck.Command"),
		str(c, "HealthCheck.Interval"), str(c, "HealthCheck.Timeout"), str(c, "HealthCheck.Retries"), str(c, "HealthCheck.StartPeriod"))
	f["container.stopTimeout"] = str(c, "StopTimeout")
	f["container.logDriver"] = str(c, "LogConfiguration.LogDriver") + " mode=" + str(c, "LogConfiguration.Options.mode") +
		" buffer=" + str(c, "LogConfiguration.Options.max-buffer-size")
	f["container.memory"] = str(c, "Memory")
	f["container.mounts"] = joinField(c["MountPoints"], "ContainerPath")
	f["container.environment"] = joinField(c["Environment"], "Name")
	f["container.secrets"] = joinField(c["Secrets"], "Name")
	svc := first("AWS::ECS::Service")
	f["service.launchType"] = str(svc, "LaunchType")
	f["service.assignPublicIp"] = map[string]string{"DISABLED": "false", "ENABLED": "true"}[str(svc, "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp")]
	f["service.deployment"] = str(svc, "DeploymentConfiguration.MinimumHealthyPercent") + "/" + str(svc, "DeploymentConfiguration.MaximumPercent")
	f["service.circuitBreaker"] = str(svc, "DeploymentConfiguration.DeploymentCircuitBreaker.Enable") + "/" + str(svc, "DeploymentConfiguration.DeploymentCircuitBreaker.Rollback")
	f["service.gracePeriod"] = str(svc, "HealthCheckGracePeriodSeconds")
	f["service.desiredCountLeftToScaling"] = fmt.Sprint(get(svc, "DesiredCount") == nil)
	if len(svc) == 0 {
		f["service.desiredCountLeftToScaling"] = "no service"
		f["service.assignPublicIp"] = "no service"
	}
	f["cluster.settings"] = joinKV(first("AWS::ECS::Cluster")["ClusterSettings"], "Name", "Value")
	st := first("AWS::ApplicationAutoScaling::ScalableTarget")
	f["scaling.bounds"] = str(st, "MinCapacity") + "-" + str(st, "MaxCapacity")
	var policies []string
	for _, p := range of("AWS::ApplicationAutoScaling::ScalingPolicy") {
		cfg := asMap(p["TargetTrackingScalingPolicyConfiguration"])
		policies = append(policies, fmt.Sprintf("%s %s target %s out %s in %s", str(p, "PolicyType"),
			str(cfg, "PredefinedMetricSpecification.PredefinedMetricType"), str(cfg, "TargetValue"),
			str(cfg, "ScaleOutCooldown"), str(cfg, "ScaleInCooldown")))
	}
	f["scaling.policies"] = sortedJoin(policies)

	var trust []string
	for _, r := range of("AWS::IAM::Role") {
		trust = append(trust, trustFact(r["AssumeRolePolicyDocument"]))
	}
	f["iam.trust"] = sortedJoin(trust)

	// Database.
	db := first("AWS::RDS::DBCluster")
	f["db.engine"] = str(db, "Engine") + " " + str(db, "EngineVersion")
	f["db.encrypted"] = str(db, "StorageEncrypted")
	f["db.backupRetention"] = str(db, "BackupRetentionPeriod")
	f["db.acu"] = str(db, "ServerlessV2ScalingConfiguration.MinCapacity") + "-" + str(db, "ServerlessV2ScalingConfiguration.MaxCapacity")
	f["db.port"] = orDefault(str(db, "Port"), "5432")
	f["db.managedPassword"] = str(db, "ManageMasterUserPassword")
	f["db.deletionProtection"] = orDefault(str(db, "DeletionProtection"), "false")
	f["db.logExports"] = str(db, "EnableCloudwatchLogsExports")
	var instances []string
	for _, in := range of("AWS::RDS::DBInstance") {
		instances = append(instances, fmt.Sprintf("%s public=%s insights=%s", str(in, "DBInstanceClass"),
			orDefault(str(in, "PubliclyAccessible"), "false"), str(in, "EnablePerformanceInsights")))
	}
	f["db.instances"] = sortedJoin(instances)
	pg := first("AWS::RDS::DBClusterParameterGroup")
	f["db.parameterGroup"] = str(pg, "Family") + " " + joinMap(pg["Parameters"])

	// Registry.
	repo := first("AWS::ECR::Repository")
	f["ecr.tags"] = str(repo, "ImageTagMutability")
	f["ecr.scanOnPush"] = str(repo, "ImageScanningConfiguration.ScanOnPush")
	f["ecr.lifecycle"] = canonicalJSON(str(repo, "LifecyclePolicy.LifecyclePolicyText"))
	f["ecr.emptiedOnDelete"] = str(repo, "EmptyOnDelete")

	// Observability.
	var retention []string
	for _, g := range of("AWS::Logs::LogGroup") {
		retention = append(retention, str(g, "RetentionInDays"))
	}
	f["logs.retention"] = sortedJoin(retention)
	topicIDs := map[string]bool{}
	for id, t := range types {
		if t == "AWS::SNS::Topic" {
			topicIDs[id] = true
		}
	}
	notifying := 0
	alarms := of("AWS::CloudWatch::Alarm")
	for _, a := range alarms {
		key := "alarm." + str(a, "Namespace") + "/" + str(a, "MetricName")
		stat := str(a, "Statistic") + str(a, "ExtendedStatistic")
		f[key] = alarmFact(str(a, "ComparisonOperator"), str(a, "Threshold"), str(a, "Period"), str(a, "EvaluationPeriods"),
			str(a, "DatapointsToAlarm"), stat, str(a, "TreatMissingData"))
		acts := asList(a["AlarmActions"])
		if len(acts) == 1 && topicIDs[refID(acts[0])] {
			notifying++
		}
	}
	f["alarms.notifyingTheTopic"] = fmt.Sprintf("%d of %d", notifying, len(alarms))

	// Parameter Store (String parameters; SecureString exists on the Pulumi side only).
	var params []string
	for _, p := range of("AWS::SSM::Parameter") {
		params = append(params, relativeName(str(p, "Name"), suffix)+" "+str(p, "Type"))
	}
	f["ssm.parameters"] = sortedJoin(params)

	// Names.
	names := map[string][]string{}
	for id, t := range types {
		if prop, ok := cfnNameProps[t]; ok {
			names[t] = append(names[t], relativeName(str(props[id], prop), suffix))
		}
	}
	for t, n := range names {
		f["names."+t] = sortedJoin(n)
	}
	return s, nil
}
