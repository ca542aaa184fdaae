package parity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// Resource is one resource the Pulumi program registered, as recorded by the test mocks.
type Resource struct {
	Type string
	// ID is the physical ID the mocks gave it, which other resources' inputs reference.
	ID string
	// Inputs are the resource's inputs as plain values (secrets unwrapped).
	Inputs map[string]any
	// IgnoreChanges are the resource's ignoreChanges option.
	IgnoreChanges []string
}

// pulumiNameProps is the input that holds each type's physical name, by CloudFormation type.
var pulumiNameProps = map[string]string{
	"AWS::ECS::TaskDefinition": "family", "AWS::RDS::DBCluster": "clusterIdentifier",
	"AWS::RDS::DBInstance": "identifier", "AWS::CloudWatch::Dashboard": "dashboardName",
}

// FromPulumi summarises the registered resources of one run of the program. Custom resources
// only: component resources are grouping, not infrastructure.
func FromPulumi(resources []Resource, suffix string) (Summary, error) {
	s := Summary{Counts: map[string]int{}, Facts: map[string]string{}}
	byType := map[string][]map[string]any{}
	byID := map[string]Resource{}
	for _, r := range resources {
		kind, known := TypeMap[r.Type]
		if !known {
			return s, fmt.Errorf("Pulumi type %s has no CloudFormation counterpart in parity.TypeMap", r.Type)
		}
		byType[r.Type] = append(byType[r.Type], r.Inputs)
		byID[r.ID] = r
		switch {
		case r.Type == "aws:ssm/parameter:Parameter" && str(r.Inputs, "type") == "SecureString":
			s.Counts[KindSecureString]++
		case kind != "":
			s.Counts[kind]++
		}
		if r.Type == "aws:ec2/internetGateway:InternetGateway" && str(r.Inputs, "vpcId") != "" {
			s.Counts["AWS::EC2::VPCGatewayAttachment"]++
		}
	}
	of := func(typ string) []map[string]any { return byType[typ] }
	first := func(typ string) map[string]any {
		if l := of(typ); len(l) > 0 {
			return l[0]
		}
		return map[string]any{}
	}
	f := s.Facts

	role := map[string]string{}
	setRole := func(list any, name string) {
		for _, x := range asList(list) {
			role[cfn.Scalar(x)] = name
		}
	}
	setRole(get(first("aws:lb/loadBalancer:LoadBalancer"), "securityGroups"), "alb")
	setRole(get(first("aws:ecs/service:Service"), "networkConfiguration.securityGroups"), "tasks")
	setRole(get(first("aws:rds/cluster:Cluster"), "vpcSecurityGroupIds"), "db")
	for _, ep := range of("aws:ec2/vpcEndpoint:VpcEndpoint") {
		setRole(ep["securityGroupIds"], "endpoints")
	}
	roleOf := func(id string) string {
		if r, ok := role[id]; ok {
			return r
		}
		// A group no resource uses (the tasks' group before the service exists) goes by its
		// Name tag.
		for _, r := range resources {
			if r.ID == id && r.Type == "aws:ec2/securityGroup:SecurityGroup" {
				return "unused-group:" + relativeName(str(r.Inputs, "tags.Name"), suffix)
			}
		}
		return "unused-group:" + id
	}
	rules := func(typ string) string {
		var out []string
		for _, r := range of(typ) {
			peer := str(r, "cidrIpv4")
			if id := str(r, "referencedSecurityGroupId"); id != "" {
				peer = roleOf(id)
			}
			if str(r, "cidrIpv6") != "" || str(r, "prefixListId") != "" {
				peer += "+other"
			}
			out = append(out, sgRule{role: roleOf(str(r, "securityGroupId")), proto: strings.ToLower(str(r, "ipProtocol")),
				from: str(r, "fromPort"), to: str(r, "toPort"), peer: peer}.String())
		}
		for _, g := range of("aws:ec2/securityGroup:SecurityGroup") {
			if g["ingress"] != nil || g["egress"] != nil {
				out = append(out, "inline rules on a group (not compared)")
			}
		}
		return sortedJoin(out)
	}
	f["sg.ingress"] = rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	f["sg.egress"] = rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")

	f["network.vpc.cidr"] = str(first("aws:ec2/vpc:Vpc"), "cidrBlock")
	var cidrs, publicIPs, endpoints []string
	for _, sn := range of("aws:ec2/subnet:Subnet") {
		cidrs = append(cidrs, str(sn, "cidrBlock"))
		if str(sn, "mapPublicIpOnLaunch") == "true" {
			publicIPs = append(publicIPs, str(sn, "cidrBlock"))
		}
	}
	for _, ep := range of("aws:ec2/vpcEndpoint:VpcEndpoint") {
		endpoints = append(endpoints, str(ep, "serviceName")+" "+str(ep, "vpcEndpointType"))
	}
	f["network.subnets"] = sortedJoin(cidrs)
	f["network.subnets.mapPublicIp"] = sortedJoin(publicIPs)
	f["network.endpoints"] = sortedJoin(endpoints)

	alb := first("aws:lb/loadBalancer:LoadBalancer")
	f["alb.scheme"] = map[string]string{"false": "internet-facing", "true": "internal", "": "internet-facing"}[str(alb, "internal")]
	f["alb.dropInvalidHeaders"] = str(alb, "dropInvalidHeaderFields")
	f["alb.idleTimeout"] = orDefault(str(alb, "idleTimeout"), "60")
	tg := first("aws:lb/targetGroup:TargetGroup")
	f["tg.target"] = fmt.Sprintf("%s %s:%s", str(tg, "targetType"), str(tg, "protocol"), str(tg, "port"))
	f["tg.healthCheck"] = fmt.Sprintf("%s interval %s timeout %s healthy %s unhealthy %s matcher %s",
		str(tg, "healthCheck.path"), str(tg, "healthCheck.interval"), str(tg, "healthCheck.timeout"),
		str(tg, "healthCheck.healthyThreshold"), str(tg, "healthCheck.unhealthyThreshold"), str(tg, "healthCheck.matcher"))
	f["tg.deregistrationDelay"] = str(tg, "deregistrationDelay")
	var listeners []string
	for _, l := range of("aws:lb/listener:Listener") {
		action := str(l, "defaultActions.0.type")
		if action == "redirect" {
			action += " to " + str(l, "defaultActions.0.redirect.protocol") + ":" + str(l, "defaultActions.0.redirect.port")
		}
		listeners = append(listeners, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", str(l, "port"), str(l, "protocol"), action, str(l, "sslPolicy"))))
	}
	f["alb.listeners"] = sortedJoin(listeners)

	td := first("aws:ecs/taskDefinition:TaskDefinition")
	f["task.size"] = str(td, "cpu") + "/" + str(td, "memory")
	f["task.networkMode"] = str(td, "networkMode")
	var defs []any
	// A bootstrap deploy (no image) has no task definition.
	if cd := str(td, "containerDefinitions"); cd != "" {
		if err := jsonUnmarshal(cd, &defs); err != nil {
			return s, fmt.Errorf("container definitions: %w", err)
		}
	}
	c := asMap(get(defs, "0"))
	f["container.user"] = str(c, "user")
	f["container.readonlyRootFilesystem"] = str(c, "readonlyRootFilesystem")
	f["container.port"] = str(c, "portMappings.0.containerPort")
	f["container.healthCheck"] = fmt.Sprintf("%s interval %s timeout %s retries %s start %s", str(c, "healthCheck.command"),
		str(c, "healthCheck.interval"), str(c, "healthCheck.timeout"), str(c, "healthCheck.retries"), str(c, "healthCheck.startPeriod"))
	f["container.stopTimeout"] = str(c, "stopTimeout")
	f["container.logDriver"] = str(c, "logConfiguration.logDriver") + " mode=" + str(c, "logConfiguration.options.mode") +
		" buffer=" + str(c, "logConfiguration.options.max-buffer-size")
	f["container.memory"] = str(c, "memory")
	f["container.mounts"] = joinField(c["mountPoints"], "containerPath")
	f["container.environment"] = joinField(c["environment"], "name")
	f["container.secrets"] = joinField(c["secrets"], "name")
	svc := first("aws:ecs/service:Service")
	f["service.launchType"] = str(svc, "launchType")
	f["service.assignPublicIp"] = orDefault(str(svc, "networkConfiguration.assignPublicIp"), "false")
	f["service.deployment"] = str(svc, "deploymentMinimumHealthyPercent") + "/" + str(svc, "deploymentMaximumPercent")
	f["service.circuitBreaker"] = str(svc, "deploymentCircuitBreaker.enable") + "/" + str(svc, "deploymentCircuitBreaker.rollback")
	f["service.gracePeriod"] = str(svc, "healthCheckGracePeriodSeconds")
	left := false
	for _, r := range resources {
		if r.Type == "aws:ecs/service:Service" {
			left = slices.Contains(r.IgnoreChanges, "desiredCount")
		}
	}
	f["service.desiredCountLeftToScaling"] = fmt.Sprint(left)
	if len(svc) == 0 {
		f["service.desiredCountLeftToScaling"] = "no service"
		f["service.assignPublicIp"] = "no service"
	}
	f["cluster.settings"] = joinKV(first("aws:ecs/cluster:Cluster")["settings"], "name", "value")
	st := first("aws:appautoscaling/target:Target")
	f["scaling.bounds"] = str(st, "minCapacity") + "-" + str(st, "maxCapacity")
	var policies []string
	for _, p := range of("aws:appautoscaling/policy:Policy") {
		cfg := asMap(p["targetTrackingScalingPolicyConfiguration"])
		policies = append(policies, fmt.Sprintf("%s %s target %s out %s in %s", str(p, "policyType"),
			str(cfg, "predefinedMetricSpecification.predefinedMetricType"), str(cfg, "targetValue"),
			str(cfg, "scaleOutCooldown"), str(cfg, "scaleInCooldown")))
	}
	f["scaling.policies"] = sortedJoin(policies)

	var trust []string
	for _, r := range of("aws:iam/role:Role") {
		var doc any
		if err := jsonUnmarshal(str(r, "assumeRolePolicy"), &doc); err != nil {
			return s, fmt.Errorf("role trust policy: %w", err)
		}
		trust = append(trust, trustFact(doc))
	}
	f["iam.trust"] = sortedJoin(trust)

	db := first("aws:rds/cluster:Cluster")
	f["db.engine"] = str(db, "engine") + " " + str(db, "engineVersion")
	f["db.encrypted"] = str(db, "storageEncrypted")
	f["db.backupRetention"] = str(db, "backupRetentionPeriod")
	f["db.acu"] = str(db, "serverlessv2ScalingConfiguration.minCapacity") + "-" + str(db, "serverlessv2ScalingConfiguration.maxCapacity")
	f["db.port"] = orDefault(str(db, "port"), "5432")
	f["db.managedPassword"] = str(db, "manageMasterUserPassword")
	f["db.deletionProtection"] = orDefault(str(db, "deletionProtection"), "false")
	f["db.logExports"] = str(db, "enabledCloudwatchLogsExports")
	var instances []string
	for _, in := range of("aws:rds/clusterInstance:ClusterInstance") {
		instances = append(instances, fmt.Sprintf("%s public=%s insights=%s", str(in, "instanceClass"),
			orDefault(str(in, "publiclyAccessible"), "false"), str(in, "performanceInsightsEnabled")))
	}
	f["db.instances"] = sortedJoin(instances)
	pg := first("aws:rds/clusterParameterGroup:ClusterParameterGroup")
	params := map[string]any{}
	for _, p := range asList(pg["parameters"]) {
		params[str(p, "name")] = get(p, "value")
	}
	f["db.parameterGroup"] = str(pg, "family") + " " + joinMap(params)

	repo := first("aws:ecr/repository:Repository")
	f["ecr.tags"] = str(repo, "imageTagMutability")
	f["ecr.scanOnPush"] = str(repo, "imageScanningConfiguration.scanOnPush")
	f["ecr.lifecycle"] = canonicalJSON(str(first("aws:ecr/lifecyclePolicy:LifecyclePolicy"), "policy"))
	f["ecr.emptiedOnDelete"] = str(repo, "forceDelete")

	var retention []string
	for _, g := range of("aws:cloudwatch/logGroup:LogGroup") {
		retention = append(retention, str(g, "retentionInDays"))
	}
	f["logs.retention"] = sortedJoin(retention)
	notifying := 0
	alarms := of("aws:cloudwatch/metricAlarm:MetricAlarm")
	for _, a := range alarms {
		key := "alarm." + str(a, "namespace") + "/" + str(a, "metricName")
		stat := str(a, "statistic") + str(a, "extendedStatistic")
		f[key] = alarmFact(str(a, "comparisonOperator"), str(a, "threshold"), str(a, "period"), str(a, "evaluationPeriods"),
			str(a, "datapointsToAlarm"), stat, str(a, "treatMissingData"))
		// The mocks give ARNs as arn:aws:sns:...; the policy test checks it is this stack's topic.
		if acts := asList(a["alarmActions"]); len(acts) == 1 && strings.Contains(cfn.Scalar(acts[0]), ":sns:") {
			notifying++
		}
	}
	f["alarms.notifyingTheTopic"] = fmt.Sprintf("%d of %d", notifying, len(alarms))

	var ssmParams []string
	for _, p := range of("aws:ssm/parameter:Parameter") {
		if str(p, "type") != "SecureString" {
			ssmParams = append(ssmParams, relativeName(str(p, "name"), suffix)+" "+str(p, "type"))
		}
	}
	f["ssm.parameters"] = sortedJoin(ssmParams)

	names := map[string][]string{}
	for _, r := range resources {
		kind := TypeMap[r.Type]
		if _, named := cfnNameProps[kind]; !named {
			continue
		}
		if kind == "AWS::SSM::Parameter" && str(r.Inputs, "type") == "SecureString" {
			continue
		}
		prop := pulumiNameProps[kind]
		if prop == "" {
			prop = "name"
		}
		names[kind] = append(names[kind], relativeName(str(r.Inputs, prop), suffix))
	}
	for t, n := range names {
		f["names."+t] = sortedJoin(n)
	}
	return s, nil
}
