package stacksummary

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// noEgress reports the template's placeholder rule that removes EC2's default allow-all egress
// (ICMP type 252 code 86 to 255.255.255.255/32): Pulumi removes the default itself, so the
// placeholder has no counterpart.
func noEgress(proto, peer string) bool {
	return peer == "255.255.255.255/32" && (proto == "icmp" || proto == "1")
}

// template is an evaluated template's present resources, by type, with resolved properties.
type template struct {
	props map[string]map[string]any
	types map[string]string
	ids   []string
}

func (t template) of(typ string) []map[string]any {
	var out []map[string]any
	for _, id := range t.ids {
		if t.types[id] == typ {
			out = append(out, t.props[id])
		}
	}
	return out
}

// ofIDs is of, keyed by logical ID.
func (t template) ofIDs(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, id := range t.ids {
		if t.types[id] == typ {
			out[id] = t.props[id]
		}
	}
	return out
}

func (t template) first(typ string) map[string]any {
	if l := t.of(typ); len(l) > 0 {
		return l[0]
	}
	return map[string]any{}
}

func refID(v any) string {
	if r, ok := v.(cfn.ResourceValue); ok {
		return r.ID
	}
	return cfn.Scalar(v)
}

// FromTemplate summarises a template under an evaluation (its parameters chosen); suffix is
// the EnvironmentSuffix the evaluation uses.
func FromTemplate(e *cfn.Evaluation, suffix string) (Summary, error) {
	t := template{props: map[string]map[string]any{}, types: map[string]string{}}
	for id, r := range e.Template().Resources {
		if !e.Present(r.Condition) {
			continue
		}
		p, err := e.Properties(r)
		if err != nil {
			return Summary{}, fmt.Errorf("resource %s: %w", id, err)
		}
		t.props[id], t.types[id] = p, r.Type
		t.ids = append(t.ids, id)
	}
	sort.Strings(t.ids)
	return Summary{
		cfnNetwork(t, suffix), cfnCDN(t), cfnEdge(t), cfnService(t), cfnMigrate(t), cfnScaling(t), cfnIAM(t),
		cfnDatabase(t), cfnRegistry(t), cfnObservability(t), cfnConfig(t, suffix), cfnFirewall(t, suffix),
	}, nil
}

func cfnNetwork(t template, suffix string) Network {
	// Which tier uses each group.
	tier := map[string]string{}
	use := func(list any, name string) {
		for _, x := range asList(list) {
			tier[refID(x)] = name
		}
	}
	use(get(t.first("AWS::ElasticLoadBalancingV2::LoadBalancer"), "SecurityGroups"), "alb")
	use(get(t.first("AWS::ECS::Service"), "NetworkConfiguration.AwsvpcConfiguration.SecurityGroups"), "tasks")
	use(get(t.first("AWS::RDS::DBCluster"), "VpcSecurityGroupIds"), "db")
	for _, ep := range t.of("AWS::EC2::VPCEndpoint") {
		use(ep["SecurityGroupIds"], "endpoints")
	}
	groupOf := func(id string) string {
		if r, ok := tier[id]; ok {
			return r
		}
		// A group no resource uses (the tasks' before the service exists) goes by its Name tag.
		return "unused-group:" + relative(keyValues(t.props[id]["Tags"])["Name"], suffix)
	}
	var ingress, egress []string
	add := func(group string, r map[string]any, in bool) {
		peer := str(r, "CidrIp")
		for _, k := range []string{"SourceSecurityGroupId", "DestinationSecurityGroupId"} {
			if v, ok := r[k]; ok {
				peer = groupOf(refID(v))
			}
		}
		if id := str(r, "SourcePrefixListId"); id != "" && peer == "" {
			peer = "prefix-list " + id
		} else if id != "" {
			peer += "+other"
		}
		if str(r, "CidrIpv6") != "" || str(r, "DestinationPrefixListId") != "" {
			peer += "+other"
		}
		proto := str(r, "IpProtocol")
		if !in && noEgress(proto, peer) {
			return
		}
		x := rule(groupOf(group), proto, str(r, "FromPort"), str(r, "ToPort"), peer)
		if in {
			ingress = append(ingress, x)
		} else {
			egress = append(egress, x)
		}
	}
	for _, id := range t.ids {
		p := t.props[id]
		switch t.types[id] {
		case "AWS::EC2::SecurityGroup":
			for _, r := range asList(p["SecurityGroupIngress"]) {
				add(id, asMap(r), true)
			}
			for _, r := range asList(p["SecurityGroupEgress"]) {
				add(id, asMap(r), false)
			}
		case "AWS::EC2::SecurityGroupIngress":
			add(refID(p["GroupId"]), p, true)
		case "AWS::EC2::SecurityGroupEgress":
			add(refID(p["GroupId"]), p, false)
		}
	}
	var cidrs, public, endpoints []string
	for _, sn := range t.of("AWS::EC2::Subnet") {
		cidrs = append(cidrs, str(sn, "CidrBlock"))
		if str(sn, "MapPublicIpOnLaunch") == "true" {
			public = append(public, str(sn, "CidrBlock"))
		}
	}
	var policies []string
	for _, ep := range t.of("AWS::EC2::VPCEndpoint") {
		endpoints = append(endpoints, str(ep, "ServiceName")+" "+str(ep, "VpcEndpointType"))
		doc, _ := json.Marshal(ep["PolicyDocument"])
		policies = append(policies, str(ep, "ServiceName")+" "+canonicalJSON(string(doc)))
	}
	return Network{str(t.first("AWS::EC2::VPC"), "CidrBlock"), sorted(cidrs), sorted(public), sorted(endpoints), sorted(ingress), sorted(egress), sorted(policies)}
}

func cfnEdge(t template) Edge {
	alb := t.first("AWS::ElasticLoadBalancingV2::LoadBalancer")
	attrs := keyValues(alb["LoadBalancerAttributes"])
	tg := t.first("AWS::ElasticLoadBalancingV2::TargetGroup")
	var listeners []string
	for _, l := range t.of("AWS::ElasticLoadBalancingV2::Listener") {
		listeners = append(listeners, listener(str(l, "Port"), str(l, "Protocol"), str(l, "DefaultActions.0.Type"),
			str(l, "DefaultActions.0.RedirectConfig.Protocol"), str(l, "DefaultActions.0.RedirectConfig.Port"), str(l, "SslPolicy")))
	}
	port := map[string]string{}
	for id, l := range t.ofIDs("AWS::ElasticLoadBalancingV2::Listener") {
		port[id] = str(l, "Port")
	}
	var rules []string
	for _, r := range t.of("AWS::ElasticLoadBalancingV2::ListenerRule") {
		var paths []string
		header := ""
		for _, c := range asList(r["Conditions"]) {
			paths = append(paths, strs(get(c, "PathPatternConfig.Values"))...)
			if h := str(c, "HttpHeaderConfig.HttpHeaderName"); h != "" {
				header = h
			}
		}
		rules = append(rules, listenerRule(port[refID(r["ListenerArn"])], str(r, "Priority"), paths, header,
			str(r, "Actions.0.Type"), str(r, "Actions.0.FixedResponseConfig.StatusCode")))
	}
	return Edge{
		str(alb, "Scheme"),
		attrs["routing.http.drop_invalid_header_fields.enabled"],
		orDefault(attrs["idle_timeout.timeout_seconds"], "60"),
		fmt.Sprintf("%s %s:%s", str(tg, "TargetType"), str(tg, "Protocol"), str(tg, "Port")),
		healthCheck(str(tg, "HealthCheckPath"), str(tg, "HealthCheckIntervalSeconds"), str(tg, "HealthCheckTimeoutSeconds"),
			str(tg, "HealthyThresholdCount"), str(tg, "UnhealthyThresholdCount"), str(tg, "Matcher.HttpCode")),
		keyValues(tg["TargetGroupAttributes"])["deregistration_delay.timeout_seconds"],
		sorted(listeners),
		sorted(rules),
	}
}

func cfnCDN(t template) CDN {
	d := asMap(t.first("AWS::CloudFront::Distribution")["DistributionConfig"])
	if len(d) == 0 {
		return CDN{"none", "none", "none", "none", "none"}
	}
	o := asMap(get(d, "Origins.0"))
	b := asMap(d["DefaultCacheBehavior"])
	header, value := str(o, "OriginCustomHeaders.0.HeaderName"), str(o, "OriginCustomHeaders.0.HeaderValue")
	matches := false
	for _, r := range t.of("AWS::ElasticLoadBalancingV2::ListenerRule") {
		for _, c := range asList(r["Conditions"]) {
			if str(c, "HttpHeaderConfig.HttpHeaderName") == header && str(c, "HttpHeaderConfig.Values.0") == value && value != "" {
				matches = str(r, "Actions.0.Type") == "forward"
			}
		}
	}
	policy := map[string]any{}
	for id, p := range t.ofIDs("AWS::CloudFront::CachePolicy") {
		if id == refID(b["CachePolicyId"]) {
			policy = asMap(p["CachePolicyConfig"])
		}
	}
	key := asMap(policy["ParametersInCacheKeyAndForwardedToOrigin"])
	return CDN{
		cdnOrigin(originKind(str(o, "DomainName")), str(o, "CustomOriginConfig.OriginProtocolPolicy"), str(o, "CustomOriginConfig.HTTPPort"),
			str(o, "CustomOriginConfig.HTTPSPort"), strs(get(o, "CustomOriginConfig.OriginSSLProtocols")), str(o, "CustomOriginConfig.OriginReadTimeout")),
		fmt.Sprintf("%s rule-forwards-on-it=%t", header, matches),
		cdnBehaviour(str(b, "ViewerProtocolPolicy"), strs(b["AllowedMethods"]), strs(b["CachedMethods"]), str(b, "Compress"), str(b, "OriginRequestPolicyId")),
		cdnCache(str(policy, "MinTTL"), str(policy, "DefaultTTL"), str(policy, "MaxTTL"), strs(get(key, "HeadersConfig.Headers")),
			str(key, "QueryStringsConfig.QueryStringBehavior"), str(key, "CookiesConfig.CookieBehavior"), str(key, "EnableAcceptEncodingGzip"), str(key, "EnableAcceptEncodingBrotli")),
		cdnViewer(str(d, "ViewerCertificate.CloudFrontDefaultCertificate"), str(d, "ViewerCertificate.MinimumProtocolVersion"), str(d, "HttpVersion"),
			str(d, "IPV6Enabled"), str(d, "PriceClass")),
	}
}

// cfnTaskDefinition returns the service's task definition (migrate false) or the migrate task's.
func cfnTaskDefinition(t template, migrate bool) (map[string]any, map[string]any) {
	for _, td := range t.of("AWS::ECS::TaskDefinition") {
		if c := asMap(get(td, "ContainerDefinitions.0")); isMigrate(c, "Command") == migrate {
			return td, c
		}
	}
	return map[string]any{}, map[string]any{}
}

func cfnMigrate(t template) Migrate {
	td, c := cfnTaskDefinition(t, true)
	if len(td) == 0 {
		return Migrate{"no task", "no task", "no task", nil, nil}
	}
	return Migrate{strings.Join(strs(c["Command"]), " "), str(td, "Cpu") + "/" + str(td, "Memory"), str(td, "NetworkMode"),
		field(c["Environment"], "Name"), field(c["Secrets"], "Name")}
}

func cfnService(t template) Service {
	td, c := cfnTaskDefinition(t, false)
	svc := t.first("AWS::ECS::Service")
	publicIP := map[string]string{"DISABLED": "false", "ENABLED": "true"}[str(svc, "NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp")]
	left := fmt.Sprint(get(svc, "DesiredCount") == nil)
	if len(svc) == 0 {
		publicIP, left = "no service", "no service"
	}
	return Service{
		str(td, "Cpu") + "/" + str(td, "Memory"), str(td, "NetworkMode"),
		str(c, "User"), str(c, "ReadonlyRootFilesystem"), str(c, "PortMappings.0.ContainerPort"), str(c, "Memory"),
		containerHealth(str(c, "HealthCheck.Command"), str(c, "HealthCheck.Interval"), str(c, "HealthCheck.Timeout"),
			str(c, "HealthCheck.Retries"), str(c, "HealthCheck.StartPeriod")),
		str(c, "StopTimeout"),
		str(c, "LogConfiguration.LogDriver") + " mode=" + str(c, "LogConfiguration.Options.mode") + " buffer=" + str(c, "LogConfiguration.Options.max-buffer-size"),
		field(c["MountPoints"], "ContainerPath"), field(c["Environment"], "Name"), field(c["Secrets"], "Name"),
		str(svc, "LaunchType"), publicIP,
		str(svc, "DeploymentConfiguration.MinimumHealthyPercent") + "/" + str(svc, "DeploymentConfiguration.MaximumPercent"),
		str(svc, "DeploymentConfiguration.DeploymentCircuitBreaker.Enable") + "/" + str(svc, "DeploymentConfiguration.DeploymentCircuitBreaker.Rollback"),
		str(svc, "HealthCheckGracePeriodSeconds"),
		left,
		pairs(t.first("AWS::ECS::Cluster")["ClusterSettings"], "Name", "Value"),
		settings(c["Environment"], "Name", "Value"),
	}
}

func cfnScaling(t template) Scaling {
	st := t.first("AWS::ApplicationAutoScaling::ScalableTarget")
	var policies []string
	var steps []string
	for id, p := range t.ofIDs("AWS::ApplicationAutoScaling::ScalingPolicy") {
		if str(p, "PolicyType") == "StepScaling" {
			var alarms []string
			for _, a := range t.of("AWS::CloudWatch::Alarm") {
				if acts := asList(a["AlarmActions"]); len(acts) == 1 && refID(acts[0]) == id {
					alarms = append(alarms, alarm(str(a, "Namespace"), str(a, "MetricName"), str(a, "ComparisonOperator"), str(a, "Threshold"),
						str(a, "Period"), str(a, "EvaluationPeriods"), str(a, "DatapointsToAlarm"), str(a, "Statistic")+str(a, "ExtendedStatistic"), str(a, "TreatMissingData")))
				}
			}
			c := asMap(p["StepScalingPolicyConfiguration"])
			steps = append(steps, stepPolicy(str(c, "AdjustmentType"), str(c, "Cooldown"), str(c, "MetricAggregationType"), str(c, "MinAdjustmentMagnitude"),
				asList(c["StepAdjustments"]), "MetricIntervalLowerBound", "MetricIntervalUpperBound", "ScalingAdjustment", alarms))
			continue
		}
		c := asMap(p["TargetTrackingScalingPolicyConfiguration"])
		policies = append(policies, scalingPolicy(str(p, "PolicyType"), str(c, "PredefinedMetricSpecification.PredefinedMetricType"), get(c, "PredefinedMetricSpecification.ResourceLabel") != nil,
			str(c, "TargetValue"), str(c, "ScaleOutCooldown"), str(c, "ScaleInCooldown")))
	}
	var scheduled []string
	for _, a := range asList(st["ScheduledActions"]) {
		scheduled = append(scheduled, scheduledAction(str(a, "Schedule"), str(a, "ScalableTargetAction.MinCapacity"), str(a, "ScalableTargetAction.MaxCapacity")))
	}
	return Scaling{str(st, "MinCapacity") + "-" + str(st, "MaxCapacity"), sorted(policies), sorted(steps), sorted(scheduled)}
}

func cfnIAM(t template) IAM {
	var out, perms []string
	for _, r := range t.of("AWS::IAM::Role") {
		out = append(out, trust(r["AssumeRolePolicyDocument"]))
		for _, p := range asList(r["Policies"]) {
			perms = append(perms, permissions(get(p, "PolicyDocument"))...)
		}
	}
	return IAM{sorted(out), sorted(perms)}
}

func cfnDatabase(t template) Database {
	db := t.first("AWS::RDS::DBCluster")
	var instances []string
	for _, in := range t.of("AWS::RDS::DBInstance") {
		instances = append(instances, instance(str(in, "DBInstanceClass"), str(in, "PubliclyAccessible"), str(in, "EnablePerformanceInsights")))
	}
	pg := t.first("AWS::RDS::DBClusterParameterGroup")
	var sale []string
	for _, sc := range t.of("AWS::Scheduler::Schedule") {
		sale = append(sale, saleSchedule(str(sc, "ScheduleExpression"), str(sc, "ScheduleExpressionTimezone"), str(sc, "FlexibleTimeWindow.Mode"),
			str(sc, "State"), str(sc, "ActionAfterCompletion"), str(sc, "Target.Arn"), str(sc, "Target.Input"), "{"+clusterID(t)+"}"))
	}
	return Database{
		str(db, "Engine") + " " + str(db, "EngineVersion"), str(db, "StorageEncrypted"), str(db, "BackupRetentionPeriod"),
		str(db, "ServerlessV2ScalingConfiguration.MinCapacity") + "-" + str(db, "ServerlessV2ScalingConfiguration.MaxCapacity"),
		orDefault(str(db, "Port"), "5432"),
		str(db, "ManageMasterUserPassword"), orDefault(str(db, "DeletionProtection"), "false"),
		str(db, "EnableCloudwatchLogsExports"),
		sorted(instances),
		str(pg, "Family") + " " + joinMap(asMap(pg["Parameters"])),
		sorted(sale),
	}
}

func cfnRegistry(t template) Registry {
	repo := t.first("AWS::ECR::Repository")
	return Registry{str(repo, "ImageTagMutability"), str(repo, "ImageScanningConfiguration.ScanOnPush"),
		canonicalJSON(str(repo, "LifecyclePolicy.LifecyclePolicyText")), str(repo, "EmptyOnDelete")}
}

func cfnObservability(t template) Observability {
	var retention, alarms []string
	for _, g := range t.of("AWS::Logs::LogGroup") {
		retention = append(retention, str(g, "RetentionInDays"))
	}
	topics := map[string]bool{}
	for _, id := range t.ids {
		if t.types[id] == "AWS::SNS::Topic" {
			topics[id] = true
		}
	}
	notifying := 0
	all := t.of("AWS::CloudWatch::Alarm")
	for _, a := range all {
		alarms = append(alarms, alarm(str(a, "Namespace"), str(a, "MetricName"), str(a, "ComparisonOperator"), str(a, "Threshold"),
			str(a, "Period"), str(a, "EvaluationPeriods"), str(a, "DatapointsToAlarm"), str(a, "Statistic")+str(a, "ExtendedStatistic"), str(a, "TreatMissingData")))
		if acts := asList(a["AlarmActions"]); len(acts) == 1 && topics[refID(acts[0])] {
			notifying++
		}
	}
	return Observability{sorted(retention), sorted(alarms), fmt.Sprintf("%d of %d", notifying, len(all))}
}

func cfnConfig(t template, suffix string) Config {
	var params []string
	for _, p := range t.of("AWS::SSM::Parameter") {
		params = append(params, relative(str(p, "Name"), suffix)+" "+str(p, "Type"))
	}
	return Config{sorted(params)}
}

// clusterID is the logical ID of the template's database cluster.
func clusterID(t template) string {
	for id := range t.ofIDs("AWS::RDS::DBCluster") {
		return id
	}
	return ""
}
