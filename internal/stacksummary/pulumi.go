package stacksummary

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// PulumiResource is one custom resource a run of the Pulumi program registered, as its mocks
// record it: plain values, no Pulumi types.
type PulumiResource struct {
	Type string
	// ID is the physical ID the mocks gave it, which other resources' inputs reference.
	ID            string
	Inputs        map[string]any
	IgnoreChanges []string
}

type program struct {
	byType map[string][]map[string]any
	all    []PulumiResource
}

func (p program) of(typ string) []map[string]any { return p.byType[typ] }

func (p program) first(typ string) map[string]any {
	if l := p.of(typ); len(l) > 0 {
		return l[0]
	}
	return map[string]any{}
}

// FromPulumi summarises the custom resources of one run of the program; suffix is its
// environment suffix.
func FromPulumi(resources []PulumiResource, suffix string) (Summary, error) {
	p := program{byType: map[string][]map[string]any{}, all: resources}
	for _, r := range resources {
		p.byType[r.Type] = append(p.byType[r.Type], r.Inputs)
	}
	svc, err := pulumiService(p)
	if err != nil {
		return Summary{}, err
	}
	mig, err := pulumiMigrate(p)
	if err != nil {
		return Summary{}, err
	}
	iam, err := pulumiIAM(p)
	if err != nil {
		return Summary{}, err
	}
	return Summary{
		pulumiNetwork(p, suffix), pulumiCDN(p), pulumiEdge(p), svc, mig, pulumiScaling(p), iam,
		pulumiDatabase(p), pulumiRegistry(p), pulumiObservability(p), pulumiConfig(p, suffix), pulumiFirewall(p, suffix),
	}, nil
}

func pulumiNetwork(p program, suffix string) Network {
	tier := map[string]string{}
	use := func(list any, name string) {
		for _, x := range asList(list) {
			tier[cfn.Scalar(x)] = name
		}
	}
	use(get(p.first("aws:lb/loadBalancer:LoadBalancer"), "securityGroups"), "alb")
	use(get(p.first("aws:ecs/service:Service"), "networkConfiguration.securityGroups"), "tasks")
	use(get(p.first("aws:rds/cluster:Cluster"), "vpcSecurityGroupIds"), "db")
	for _, ep := range p.of("aws:ec2/vpcEndpoint:VpcEndpoint") {
		use(ep["securityGroupIds"], "endpoints")
	}
	groupOf := func(id string) string {
		if r, ok := tier[id]; ok {
			return r
		}
		for _, r := range p.all {
			if r.ID == id && r.Type == "aws:ec2/securityGroup:SecurityGroup" {
				return "unused-group:" + relative(str(r.Inputs, "tags.Name"), suffix)
			}
		}
		return "unused-group:" + id
	}
	rules := func(typ string) []string {
		var out []string
		for _, r := range p.of(typ) {
			peer := str(r, "cidrIpv4")
			if id := str(r, "referencedSecurityGroupId"); id != "" {
				peer = groupOf(id)
			}
			if id := str(r, "prefixListId"); id != "" && peer == "" {
				peer = "prefix-list " + id
			} else if id != "" {
				peer += "+other"
			}
			if str(r, "cidrIpv6") != "" {
				peer += "+other"
			}
			out = append(out, rule(groupOf(str(r, "securityGroupId")), str(r, "ipProtocol"), str(r, "fromPort"), str(r, "toPort"), peer))
		}
		for _, g := range p.of("aws:ec2/securityGroup:SecurityGroup") {
			if g["ingress"] != nil || g["egress"] != nil {
				out = append(out, "inline rules on a group (not compared)")
			}
		}
		return sorted(out)
	}
	var cidrs, public, endpoints, policies []string
	for _, sn := range p.of("aws:ec2/subnet:Subnet") {
		cidrs = append(cidrs, str(sn, "cidrBlock"))
		if str(sn, "mapPublicIpOnLaunch") == "true" {
			public = append(public, str(sn, "cidrBlock"))
		}
	}
	for _, ep := range p.of("aws:ec2/vpcEndpoint:VpcEndpoint") {
		endpoints = append(endpoints, str(ep, "serviceName")+" "+str(ep, "vpcEndpointType"))
		policies = append(policies, str(ep, "serviceName")+" "+canonicalJSON(str(ep, "policy")))
	}
	return Network{str(p.first("aws:ec2/vpc:Vpc"), "cidrBlock"), sorted(cidrs), sorted(public), sorted(endpoints),
		rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"), sorted(policies)}
}

func pulumiEdge(p program) Edge {
	alb := p.first("aws:lb/loadBalancer:LoadBalancer")
	tg := p.first("aws:lb/targetGroup:TargetGroup")
	var listeners []string
	for _, l := range p.of("aws:lb/listener:Listener") {
		listeners = append(listeners, listener(str(l, "port"), str(l, "protocol"), str(l, "defaultActions.0.type"),
			str(l, "defaultActions.0.redirect.protocol"), str(l, "defaultActions.0.redirect.port"), str(l, "sslPolicy")))
	}
	port := map[string]string{} // listeners by the ARN the mocks gave them
	for _, r := range p.all {
		if r.Type == "aws:lb/listener:Listener" {
			port[str(r.Inputs, "arn")] = str(r.Inputs, "port")
			port[r.ID] = str(r.Inputs, "port")
		}
	}
	var rules []string
	for _, r := range p.of("aws:lb/listenerRule:ListenerRule") {
		var paths []string
		header := ""
		for _, c := range asList(r["conditions"]) {
			paths = append(paths, strs(get(c, "pathPattern.values"))...)
			if h := str(c, "httpHeader.httpHeaderName"); h != "" {
				header = h
			}
		}
		rules = append(rules, listenerRule(port[str(r, "listenerArn")], str(r, "priority"), paths, header,
			str(r, "actions.0.type"), str(r, "actions.0.fixedResponse.statusCode")))
	}
	return Edge{
		map[string]string{"false": "internet-facing", "true": "internal", "": "internet-facing"}[str(alb, "internal")],
		str(alb, "dropInvalidHeaderFields"),
		orDefault(str(alb, "idleTimeout"), "60"),
		fmt.Sprintf("%s %s:%s", str(tg, "targetType"), str(tg, "protocol"), str(tg, "port")),
		healthCheck(str(tg, "healthCheck.path"), str(tg, "healthCheck.interval"), str(tg, "healthCheck.timeout"),
			str(tg, "healthCheck.healthyThreshold"), str(tg, "healthCheck.unhealthyThreshold"), str(tg, "healthCheck.matcher")),
		str(tg, "deregistrationDelay"),
		sorted(listeners),
		sorted(rules),
	}
}

func pulumiCDN(p program) CDN {
	d := p.first("aws:cloudfront/distribution:Distribution")
	if len(d) == 0 {
		return CDN{"none", "none", "none", "none", "none"}
	}
	o := asMap(get(d, "origins.0"))
	b := asMap(d["defaultCacheBehavior"])
	header, value := str(o, "customHeaders.0.name"), str(o, "customHeaders.0.value")
	matches := false
	for _, r := range p.of("aws:lb/listenerRule:ListenerRule") {
		for _, c := range asList(r["conditions"]) {
			if str(c, "httpHeader.httpHeaderName") == header && str(c, "httpHeader.values.0") == value && value != "" {
				matches = str(r, "actions.0.type") == "forward"
			}
		}
	}
	policy := map[string]any{}
	for _, r := range p.all {
		if r.Type == "aws:cloudfront/cachePolicy:CachePolicy" && r.ID == str(b, "cachePolicyId") {
			policy = r.Inputs
		}
	}
	key := asMap(policy["parametersInCacheKeyAndForwardedToOrigin"])
	return CDN{
		cdnOrigin(originKind(str(o, "domainName")), str(o, "customOriginConfig.originProtocolPolicy"), str(o, "customOriginConfig.httpPort"),
			str(o, "customOriginConfig.httpsPort"), strs(get(o, "customOriginConfig.originSslProtocols")), str(o, "customOriginConfig.originReadTimeout")),
		fmt.Sprintf("%s rule-forwards-on-it=%t", header, matches),
		cdnBehaviour(str(b, "viewerProtocolPolicy"), strs(b["allowedMethods"]), strs(b["cachedMethods"]), str(b, "compress"), str(b, "originRequestPolicyId")),
		cdnCache(str(policy, "minTtl"), str(policy, "defaultTtl"), str(policy, "maxTtl"), strs(get(key, "headersConfig.headers.items")),
			str(key, "queryStringsConfig.queryStringBehavior"), str(key, "cookiesConfig.cookieBehavior"), str(key, "enableAcceptEncodingGzip"), str(key, "enableAcceptEncodingBrotli")),
		cdnViewer(str(d, "viewerCertificate.cloudfrontDefaultCertificate"), str(d, "viewerCertificate.minimumProtocolVersion"), str(d, "httpVersion"),
			str(d, "isIpv6Enabled"), str(d, "priceClass")),
	}
}

// pulumiTaskDefinition returns the service's task definition (migrate false) or the migrate
// task's, with its first container; none in a bootstrap deploy (no image).
func pulumiTaskDefinition(p program, migrate bool) (map[string]any, map[string]any, error) {
	for _, td := range p.of("aws:ecs/taskDefinition:TaskDefinition") {
		var defs []any
		if err := json.Unmarshal([]byte(str(td, "containerDefinitions")), &defs); err != nil {
			return nil, nil, fmt.Errorf("container definitions: %w", err)
		}
		if c := asMap(get(defs, "0")); isMigrate(c, "command") == migrate {
			return td, c, nil
		}
	}
	return map[string]any{}, map[string]any{}, nil
}

func pulumiMigrate(p program) (Migrate, error) {
	td, c, err := pulumiTaskDefinition(p, true)
	if err != nil || len(td) == 0 {
		return Migrate{"no task", "no task", "no task", nil, nil}, err
	}
	return Migrate{strings.Join(strs(c["command"]), " "), str(td, "cpu") + "/" + str(td, "memory"), str(td, "networkMode"),
		field(c["environment"], "name"), field(c["secrets"], "name")}, nil
}

func pulumiService(p program) (Service, error) {
	td, c, err := pulumiTaskDefinition(p, false)
	if err != nil {
		return Service{}, err
	}
	svc := p.first("aws:ecs/service:Service")
	left := false
	for _, r := range p.all {
		if r.Type == "aws:ecs/service:Service" {
			left = slices.Contains(r.IgnoreChanges, "desiredCount")
		}
	}
	publicIP, leftToScaling := orDefault(str(svc, "networkConfiguration.assignPublicIp"), "false"), fmt.Sprint(left)
	if len(svc) == 0 {
		publicIP, leftToScaling = "no service", "no service"
	}
	return Service{
		str(td, "cpu") + "/" + str(td, "memory"), str(td, "networkMode"),
		str(c, "user"), str(c, "readonlyRootFilesystem"), str(c, "portMappings.0.containerPort"), str(c, "memory"),
		containerHealth(str(c, "healthCheck.command"), str(c, "healthCheck.interval"), str(c, "healthCheck.timeout"),
			str(c, "healthCheck.retries"), str(c, "healthCheck.startPeriod")),
		str(c, "stopTimeout"),
		str(c, "logConfiguration.logDriver") + " mode=" + str(c, "logConfiguration.options.mode") + " buffer=" + str(c, "logConfiguration.options.max-buffer-size"),
		field(c["mountPoints"], "containerPath"), field(c["environment"], "name"), field(c["secrets"], "name"),
		str(svc, "launchType"), publicIP,
		str(svc, "deploymentMinimumHealthyPercent") + "/" + str(svc, "deploymentMaximumPercent"),
		str(svc, "deploymentCircuitBreaker.enable") + "/" + str(svc, "deploymentCircuitBreaker.rollback"),
		str(svc, "healthCheckGracePeriodSeconds"),
		leftToScaling,
		pairs(p.first("aws:ecs/cluster:Cluster")["settings"], "name", "value"),
		settings(c["environment"], "name", "value"),
	}, nil
}

func pulumiScaling(p program) Scaling {
	st := p.first("aws:appautoscaling/target:Target")
	var policies []string
	var steps []string
	for _, x := range p.of("aws:appautoscaling/policy:Policy") {
		if str(x, "policyType") == "StepScaling" {
			// The mocks give ARNs as arn:aws:appautoscaling:...:Policy/<name>.
			var alarms []string
			for _, a := range p.of("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if acts := asList(a["alarmActions"]); len(acts) == 1 && strings.HasSuffix(cfn.Scalar(acts[0]), ":Policy/"+str(x, "name")) {
					alarms = append(alarms, alarm(str(a, "namespace"), str(a, "metricName"), str(a, "comparisonOperator"), str(a, "threshold"),
						str(a, "period"), str(a, "evaluationPeriods"), str(a, "datapointsToAlarm"), str(a, "statistic")+str(a, "extendedStatistic"), str(a, "treatMissingData")))
				}
			}
			c := asMap(x["stepScalingPolicyConfiguration"])
			steps = append(steps, stepPolicy(str(c, "adjustmentType"), str(c, "cooldown"), str(c, "metricAggregationType"), str(c, "minAdjustmentMagnitude"),
				asList(c["stepAdjustments"]), "metricIntervalLowerBound", "metricIntervalUpperBound", "scalingAdjustment", alarms))
			continue
		}
		c := asMap(x["targetTrackingScalingPolicyConfiguration"])
		policies = append(policies, scalingPolicy(str(x, "policyType"), str(c, "predefinedMetricSpecification.predefinedMetricType"), get(c, "predefinedMetricSpecification.resourceLabel") != nil,
			str(c, "targetValue"), str(c, "scaleOutCooldown"), str(c, "scaleInCooldown")))
	}
	var scheduled []string
	for _, a := range p.of("aws:appautoscaling/scheduledAction:ScheduledAction") {
		scheduled = append(scheduled, scheduledAction(str(a, "schedule"), str(a, "scalableTargetAction.minCapacity"), str(a, "scalableTargetAction.maxCapacity")))
	}
	return Scaling{str(st, "minCapacity") + "-" + str(st, "maxCapacity"), sorted(policies), sorted(steps), sorted(scheduled)}
}

func pulumiIAM(p program) (IAM, error) {
	var out []string
	for _, r := range p.of("aws:iam/role:Role") {
		var doc any
		if err := json.Unmarshal([]byte(str(r, "assumeRolePolicy")), &doc); err != nil {
			return IAM{}, fmt.Errorf("role trust policy: %w", err)
		}
		out = append(out, trust(doc))
	}
	var perms []string
	for _, r := range p.of("aws:iam/rolePolicy:RolePolicy") {
		var doc any
		if err := json.Unmarshal([]byte(str(r, "policy")), &doc); err != nil {
			return IAM{}, fmt.Errorf("role policy: %w", err)
		}
		perms = append(perms, permissions(doc)...)
	}
	return IAM{sorted(out), sorted(perms)}, nil
}

func pulumiDatabase(p program) Database {
	db := p.first("aws:rds/cluster:Cluster")
	var instances []string
	for _, in := range p.of("aws:rds/clusterInstance:ClusterInstance") {
		instances = append(instances, instance(str(in, "instanceClass"), str(in, "publiclyAccessible"), str(in, "performanceInsightsEnabled")))
	}
	pg := p.first("aws:rds/clusterParameterGroup:ClusterParameterGroup")
	params := map[string]any{}
	for _, x := range asList(pg["parameters"]) {
		params[str(x, "name")] = get(x, "value")
	}
	var sale []string
	for _, sc := range p.of("aws:scheduler/schedule:Schedule") {
		sale = append(sale, saleSchedule(str(sc, "scheduleExpression"), str(sc, "scheduleExpressionTimezone"), str(sc, "flexibleTimeWindow.mode"),
			str(sc, "state"), str(sc, "actionAfterCompletion"), str(sc, "target.arn"), str(sc, "target.input"), str(db, "clusterIdentifier")))
	}
	return Database{
		str(db, "engine") + " " + str(db, "engineVersion"), str(db, "storageEncrypted"), str(db, "backupRetentionPeriod"),
		str(db, "serverlessv2ScalingConfiguration.minCapacity") + "-" + str(db, "serverlessv2ScalingConfiguration.maxCapacity"),
		orDefault(str(db, "port"), "5432"),
		str(db, "manageMasterUserPassword"), orDefault(str(db, "deletionProtection"), "false"),
		str(db, "enabledCloudwatchLogsExports"),
		sorted(instances),
		str(pg, "family") + " " + joinMap(params),
		sorted(sale),
	}
}

func pulumiRegistry(p program) Registry {
	repo := p.first("aws:ecr/repository:Repository")
	return Registry{str(repo, "imageTagMutability"), str(repo, "imageScanningConfiguration.scanOnPush"),
		canonicalJSON(str(p.first("aws:ecr/lifecyclePolicy:LifecyclePolicy"), "policy")), str(repo, "forceDelete")}
}

func pulumiObservability(p program) Observability {
	var retention, alarms []string
	for _, g := range p.of("aws:cloudwatch/logGroup:LogGroup") {
		retention = append(retention, str(g, "retentionInDays"))
	}
	notifying := 0
	all := p.of("aws:cloudwatch/metricAlarm:MetricAlarm")
	for _, a := range all {
		alarms = append(alarms, alarm(str(a, "namespace"), str(a, "metricName"), str(a, "comparisonOperator"), str(a, "threshold"),
			str(a, "period"), str(a, "evaluationPeriods"), str(a, "datapointsToAlarm"), str(a, "statistic")+str(a, "extendedStatistic"), str(a, "treatMissingData")))
		// The mocks give ARNs as arn:aws:sns:...; the policy test checks it is this stack's topic.
		if acts := asList(a["alarmActions"]); len(acts) == 1 && strings.Contains(cfn.Scalar(acts[0]), ":sns:") {
			notifying++
		}
	}
	return Observability{sorted(retention), sorted(alarms), fmt.Sprintf("%d of %d", notifying, len(all))}
}

// pulumiConfig lists the String parameters: the SecureString ones (the API keys and the
// connection string) have no counterpart in the template (blueprint.Config).
func pulumiConfig(p program, suffix string) Config {
	var params []string
	for _, x := range p.of("aws:ssm/parameter:Parameter") {
		if str(x, "type") != "SecureString" {
			params = append(params, relative(str(x, "name"), suffix)+" "+str(x, "type"))
		}
	}
	return Config{sorted(params)}
}
