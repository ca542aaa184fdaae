package infra_test

// Policies the stack must keep, checked on every resource the program registers under mocks.
// Each test runs the program with the defaults and with every option switched on.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ssm"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/vpc"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/wafv2"
)

// Resource type tokens.
const (
	tVPC         = "aws:ec2/vpc:Vpc"
	tSubnet      = "aws:ec2/subnet:Subnet"
	tIGW         = "aws:ec2/internetGateway:InternetGateway"
	tEIP         = "aws:ec2/eip:Eip"
	tNAT         = "aws:ec2/natGateway:NatGateway"
	tRouteTable  = "aws:ec2/routeTable:RouteTable"
	tRoute       = "aws:ec2/route:Route"
	tRTA         = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	tEndpoint    = "aws:ec2/vpcEndpoint:VpcEndpoint"
	tSG          = "aws:ec2/securityGroup:SecurityGroup"
	tIngress     = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tEgress      = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tALB         = "aws:lb/loadBalancer:LoadBalancer"
	tTG          = "aws:lb/targetGroup:TargetGroup"
	tListener    = "aws:lb/listener:Listener"
	tWAF         = "aws:wafv2/webAclAssociation:WebAclAssociation"
	tCluster     = "aws:ecs/cluster:Cluster"
	tTaskDef     = "aws:ecs/taskDefinition:TaskDefinition"
	tService     = "aws:ecs/service:Service"
	tRepo        = "aws:ecr/repository:Repository"
	tLifecycle   = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	tRole        = "aws:iam/role:Role"
	tRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	tTarget      = "aws:appautoscaling/target:Target"
	tPolicy      = "aws:appautoscaling/policy:Policy"
	tDBCluster   = "aws:rds/cluster:Cluster"
	tDBInstance  = "aws:rds/clusterInstance:ClusterInstance"
	tDBSubnets   = "aws:rds/subnetGroup:SubnetGroup"
	tDBParams    = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
	tLogGroup    = "aws:cloudwatch/logGroup:LogGroup"
	tAlarm       = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tDashboard   = "aws:cloudwatch/dashboard:Dashboard"
	tTopic       = "aws:sns/topic:Topic"
	tSubscribe   = "aws:sns/topicSubscription:TopicSubscription"
	tParameter   = "aws:ssm/parameter:Parameter"
	tKMSKey      = "aws:kms/key:Key"
	tKMSAlias    = "aws:kms/alias:Alias"
	componentPfx = "catalog:infra:"
)

// argsTypes maps every resource type the program may register to its Go args type, so the
// tagging policy can tell from the SDK itself which types take tags. A type missing here fails
// TestPolicyEveryTaggableResourceTagged: classify it.
var argsTypes = map[string]any{
	tVPC: ec2.VpcArgs{}, tSubnet: ec2.SubnetArgs{}, tIGW: ec2.InternetGatewayArgs{}, tEIP: ec2.EipArgs{},
	tNAT: ec2.NatGatewayArgs{}, tRouteTable: ec2.RouteTableArgs{}, tRoute: ec2.RouteArgs{},
	tRTA: ec2.RouteTableAssociationArgs{}, tEndpoint: ec2.VpcEndpointArgs{}, tSG: ec2.SecurityGroupArgs{},
	tIngress: vpc.SecurityGroupIngressRuleArgs{}, tEgress: vpc.SecurityGroupEgressRuleArgs{},
	tALB: lb.LoadBalancerArgs{}, tTG: lb.TargetGroupArgs{}, tListener: lb.ListenerArgs{},
	tWAF: wafv2.WebAclAssociationArgs{}, tCluster: ecs.ClusterArgs{}, tTaskDef: ecs.TaskDefinitionArgs{},
	tService: ecs.ServiceArgs{}, tRepo: ecr.RepositoryArgs{}, tLifecycle: ecr.LifecyclePolicyArgs{},
	tRole: iam.RoleArgs{}, tRolePolicy: iam.RolePolicyArgs{}, tTarget: appautoscaling.TargetArgs{},
	tPolicy: appautoscaling.PolicyArgs{}, tDBCluster: rds.ClusterArgs{}, tDBInstance: rds.ClusterInstanceArgs{},
	tDBSubnets: rds.SubnetGroupArgs{}, tDBParams: rds.ClusterParameterGroupArgs{},
	tLogGroup: cloudwatch.LogGroupArgs{}, tAlarm: cloudwatch.MetricAlarmArgs{},
	tDashboard: cloudwatch.DashboardArgs{}, tTopic: sns.TopicArgs{}, tSubscribe: sns.TopicSubscriptionArgs{},
	tParameter: ssm.ParameterArgs{}, tKMSKey: kms.KeyArgs{}, tKMSAlias: kms.AliasArgs{},
}

func taggable(typ string) (bool, bool) {
	a, ok := argsTypes[typ]
	if !ok {
		return false, false
	}
	_, has := reflect.TypeOf(a).FieldByName("Tags")
	return has, true
}

// configs are the configurations every policy is checked under.
var configs = []struct {
	name string
	cfg  func() infra.Config
}{
	{"defaults", defaultConfig},
	{"all-options", fullConfig},
}

func forEachConfig(t *testing.T, check func(t *testing.T, r *run)) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) { check(t, runStack(t, c.cfg())) })
	}
}

// defaultRouteTarget returns what a subnet's 0.0.0.0/0 route points at: "igw", "nat" or ""
// (no route out of the VPC).
func defaultRouteTarget(tb testing.TB, r *run, subnet res) string {
	tb.Helper()
	var rtID string
	for _, a := range r.of(tRTA) {
		if a.str("subnetId") == subnet.ID {
			if rtID != "" {
				tb.Fatalf("subnet %s has two route table associations", subnet.Name)
			}
			rtID = a.str("routeTableId")
		}
	}
	if rtID == "" {
		tb.Fatalf("subnet %s has no route table association", subnet.Name)
	}
	target := ""
	for _, rt := range r.of(tRoute) {
		if rt.str("routeTableId") != rtID || rt.str("destinationCidrBlock") != "0.0.0.0/0" {
			continue
		}
		switch {
		case rt.str("gatewayId") != "":
			target = "igw"
		case rt.str("natGatewayId") != "":
			target = "nat"
		default:
			target = "other"
		}
	}
	return target
}

func subnetsByIDs(tb testing.TB, r *run, ids any) []res {
	tb.Helper()
	list, _ := ids.([]any)
	var out []res
	for _, id := range list {
		s, ok := r.byID(fmt.Sprint(id))
		if !ok || s.Type != tSubnet {
			tb.Fatalf("%v is not a subnet of the stack", id)
		}
		out = append(out, s)
	}
	return out
}

func TestPolicyTasksRunPrivateWithoutPublicIPs(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		svcs := r.of(tService)
		if len(svcs) != 1 {
			t.Fatalf("%d ECS services, want 1", len(svcs))
		}
		svc := svcs[0]
		if pub, set := svc.boolean("networkConfiguration.assignPublicIp"); !set || pub {
			t.Errorf("service assignPublicIp = %v (set %v), want false", pub, set)
		}
		subnets := subnetsByIDs(t, r, svc.get("networkConfiguration.subnets"))
		if len(subnets) != blueprint.AZCount {
			t.Errorf("service runs in %d subnets, want %d", len(subnets), blueprint.AZCount)
		}
		for _, s := range subnets {
			if !slices.Contains(blueprint.PrivateSubnetCIDRs[:], s.str("cidrBlock")) {
				t.Errorf("service subnet %s (%s) is not a private-tier subnet", s.Name, s.str("cidrBlock"))
			}
			if pub, _ := s.boolean("mapPublicIpOnLaunch"); pub {
				t.Errorf("service subnet %s maps public IPs", s.Name)
			}
			if got := defaultRouteTarget(t, r, s); got != "nat" {
				t.Errorf("service subnet %s routes to the internet through %q, want a NAT gateway", s.Name, got)
			}
		}
		// And the load balancer is the only thing in the public subnets.
		alb := r.of(tALB)[0]
		for _, s := range subnetsByIDs(t, r, alb.get("subnets")) {
			if got := defaultRouteTarget(t, r, s); got != "igw" {
				t.Errorf("ALB subnet %s routes through %q, want the internet gateway", s.Name, got)
			}
		}
		if internal, _ := alb.boolean("internal"); internal {
			t.Error("ALB is internal, want internet-facing")
		}
	})
}

func TestPolicyDatabaseIsPrivateAndEncrypted(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		clusters := r.of(tDBCluster)
		if len(clusters) != 1 {
			t.Fatalf("%d DB clusters, want 1", len(clusters))
		}
		c := clusters[0]
		for key, want := range map[string]bool{
			"storageEncrypted": true, "manageMasterUserPassword": true, "skipFinalSnapshot": true, "deletionProtection": false,
		} {
			if got, set := c.boolean(key); !set || got != want {
				t.Errorf("DB cluster %s = %v (set %v), want %v", key, got, set, want)
			}
		}
		if _, set := c.Inputs["masterPassword"]; set {
			t.Error("DB cluster has a master password in the program; RDS must manage it")
		}
		if got := c.num("backupRetentionPeriod"); got != blueprint.DBBackupRetentionDays {
			t.Errorf("DB backup retention = %v, want %d", got, blueprint.DBBackupRetentionDays)
		}
		if got := c.str("engine"); got != blueprint.DBEngine {
			t.Errorf("DB engine = %q, want %q", got, blueprint.DBEngine)
		}
		if got := c.num("serverlessv2ScalingConfiguration.minCapacity"); got != r.cfg.Environment.MinACU {
			t.Errorf("DB min ACU = %v, want %v", got, r.cfg.Environment.MinACU)
		}
		if got := c.get("enabledCloudwatchLogsExports"); !reflect.DeepEqual(got, []any{"postgresql"}) {
			t.Errorf("DB log exports = %v, want [postgresql]", got)
		}
		instances := r.of(tDBInstance)
		if len(instances) != blueprint.DBInstanceCount {
			t.Fatalf("%d DB instances, want %d", len(instances), blueprint.DBInstanceCount)
		}
		azs := map[string]bool{}
		for _, in := range instances {
			if pub, set := in.boolean("publiclyAccessible"); !set || pub {
				t.Errorf("DB instance %s publiclyAccessible = %v (set %v), want false", in.Name, pub, set)
			}
			if pi, _ := in.boolean("performanceInsightsEnabled"); !pi {
				t.Errorf("DB instance %s has no Performance Insights", in.Name)
			}
			if in.str("instanceClass") != blueprint.DBInstanceClass {
				t.Errorf("DB instance %s class %q, want %q", in.Name, in.str("instanceClass"), blueprint.DBInstanceClass)
			}
			azs[in.str("availabilityZone")] = true
		}
		if len(azs) != len(instances) {
			t.Errorf("DB instances share an AZ: %v", azs)
		}
		// The subnet group holds the isolated subnets only: no route out of the VPC.
		group := r.of(tDBSubnets)[0]
		for _, s := range subnetsByIDs(t, r, group.get("subnetIds")) {
			if got := defaultRouteTarget(t, r, s); got != "" {
				t.Errorf("DB subnet %s has a default route through %q, want none", s.Name, got)
			}
		}
		params := map[string]string{}
		for _, p := range r.of(tDBParams)[0].get("parameters").([]any) {
			m := p.(map[string]any)
			params[m["name"].(string)] = m["value"].(string)
		}
		if !reflect.DeepEqual(params, blueprint.DBClusterParameters) {
			t.Errorf("DB cluster parameters = %v, want %v", params, blueprint.DBClusterParameters)
		}
	})
}

// sgRules are a type of security-group rule in words: "secgrp-db: tcp 5432 from secgrp-tasks"
// (groups by their Name tag: their EC2 names carry a random suffix).
func sgRules(tb testing.TB, r *run, typ, dir string) []string {
	tb.Helper()
	var out []string
	for _, rule := range r.of(typ) {
		group, ok := r.byID(rule.str("securityGroupId"))
		if !ok {
			tb.Fatalf("rule %s is on an unknown group", rule.Name)
		}
		peer := rule.str("cidrIpv4")
		if id := rule.str("referencedSecurityGroupId"); id != "" {
			p, ok := r.byID(id)
			if !ok {
				tb.Fatalf("rule %s references an unknown group", rule.Name)
			}
			peer = strings.TrimSuffix(p.str("tags.Name"), "-"+r.cfg.Suffix)
		}
		if rule.str("cidrIpv6") != "" || rule.str("prefixListId") != "" {
			peer += "+other"
		}
		ports := fmt.Sprintf("%v", rule.num("fromPort"))
		if rule.num("toPort") != rule.num("fromPort") {
			ports += fmt.Sprintf("-%v", rule.num("toPort"))
		}
		out = append(out, fmt.Sprintf("%s: %s %s %s %s", strings.TrimSuffix(group.str("tags.Name"), "-"+r.cfg.Suffix), rule.str("ipProtocol"), ports, dir, peer))
	}
	slices.Sort(out)
	return out
}

func TestPolicySecurityGroupChain(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		for _, sg := range r.of(tSG) {
			if sg.get("ingress") != nil || sg.get("egress") != nil {
				t.Errorf("security group %s has inline rules; every rule must be its own resource", sg.Name)
			}
		}
		// The chain itself is a policy of the model (blueprint's
		// TestPolicySecurityGroupChainIsExact); the program must carry exactly its rules.
		m := blueprint.Model().Network
		var wantIn, wantOut []string
		for _, rule := range m.PresentRules(r.cfg.Choices()) {
			g, _ := m.SecurityGroup(rule.Group)
			peer := rule.CIDR
			if rule.PeerGroup != "" {
				p, _ := m.SecurityGroup(rule.PeerGroup)
				peer = blueprint.Name(p.Kind, p.Purpose, "")
				peer = strings.TrimSuffix(peer, "-")
			}
			group := strings.TrimSuffix(blueprint.Name(g.Kind, g.Purpose, ""), "-")
			if rule.Direction == blueprint.Ingress {
				wantIn = append(wantIn, fmt.Sprintf("%s: tcp %d from %s", group, rule.Port, peer))
			} else {
				wantOut = append(wantOut, fmt.Sprintf("%s: tcp %d to %s", group, rule.Port, peer))
			}
		}
		slices.Sort(wantOut)
		slices.Sort(wantIn)
		if got := sgRules(t, r, tIngress, "from"); !reflect.DeepEqual(got, wantIn) {
			t.Errorf("ingress rules:\n got  %q\n want %q", got, wantIn)
		}
		if got := sgRules(t, r, tEgress, "to"); !reflect.DeepEqual(got, wantOut) {
			t.Errorf("egress rules:\n got  %q\n want %q", got, wantOut)
		}
		// The groups are used where the chain says.
		sgName := func(id any) string {
			s, _ := r.byID(fmt.Sprint(id))
			return strings.TrimSuffix(s.str("tags.Name"), "-"+r.cfg.Suffix)
		}
		if got := sgName(r.of(tALB)[0].get("securityGroups.0")); got != "secgrp-alb" {
			t.Errorf("ALB security group = %s, want secgrp-alb", got)
		}
		if got := sgName(r.of(tService)[0].get("networkConfiguration.securityGroups.0")); got != "secgrp-tasks" {
			t.Errorf("service security group = %s, want secgrp-tasks", got)
		}
		if got := sgName(r.of(tDBCluster)[0].get("vpcSecurityGroupIds.0")); got != "secgrp-db" {
			t.Errorf("database security group = %s, want secgrp-db", got)
		}
	})
}

func TestPolicyScaling(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		targets := r.of(tTarget)
		if len(targets) != 1 {
			t.Fatalf("%d scalable targets, want 1", len(targets))
		}
		tg := targets[0]
		if tg.num("minCapacity") != 2 || tg.num("maxCapacity") != 10 {
			t.Errorf("scaling bounds %v-%v, want 2-10", tg.num("minCapacity"), tg.num("maxCapacity"))
		}
		svc := r.of(tService)[0]
		cluster := r.of(tCluster)[0]
		if want := "service/" + cluster.str("name") + "/" + svc.str("name"); tg.str("resourceId") != want {
			t.Errorf("scalable target resourceId = %q, want %q", tg.str("resourceId"), want)
		}
		want := map[string]float64{"ECSServiceAverageCPUUtilization": 70, "ECSServiceAverageMemoryUtilization": blueprint.MemoryTargetPercent}
		got := map[string]float64{}
		for _, p := range r.of(tPolicy) {
			if p.str("policyType") != "TargetTrackingScaling" || p.str("resourceId") != tg.str("resourceId") {
				t.Errorf("policy %s is not target tracking on the service", p.Name)
			}
			c := "targetTrackingScalingPolicyConfiguration."
			got[p.str(c+"predefinedMetricSpecification.predefinedMetricType")] = p.num(c + "targetValue")
			if p.num(c+"scaleOutCooldown") != blueprint.ScaleOutCooldown || p.num(c+"scaleInCooldown") != blueprint.ScaleInCooldown {
				t.Errorf("policy %s cooldowns out %v in %v, want %d %d", p.Name, p.num(c+"scaleOutCooldown"), p.num(c+"scaleInCooldown"), blueprint.ScaleOutCooldown, blueprint.ScaleInCooldown)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("target tracking = %v, want %v", got, want)
		}
	})
}

func TestPolicyAlarmsNotifyTheTopic(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		topics := r.of(tTopic)
		if len(topics) != 1 {
			t.Fatalf("%d topics, want 1", len(topics))
		}
		// CloudWatch cannot publish to a topic under the AWS-managed SNS key: the topic uses
		// the stack's key, whose policy lets CloudWatch in.
		if key, ok := r.byARN(topics[0].str("kmsMasterKeyId")); !ok || key.Type != tKMSKey {
			t.Errorf("alarm topic is not encrypted with the stack's key: %v", topics[0].get("kmsMasterKeyId"))
		} else if !strings.Contains(key.str("policy"), `"cloudwatch.amazonaws.com"`) {
			t.Errorf("the key policy does not let CloudWatch publish to the topic")
		}
		topicARN := r.outputs["alarmTopicArn"]
		alarms := map[string]res{}
		for _, a := range r.of(tAlarm) {
			alarms[a.str("name")] = a
			for _, key := range []string{"alarmActions", "okActions"} {
				if got := a.get(key); !reflect.DeepEqual(got, []any{topicARN}) {
					t.Errorf("alarm %s %s = %v, want [%v]", a.Name, key, got, topicARN)
				}
			}
			if dims, _ := a.get("dimensions").(map[string]any); len(dims) == 0 {
				t.Errorf("alarm %s has no dimensions", a.Name)
			} else {
				for k, v := range dims {
					if v == "" || v == nil {
						t.Errorf("alarm %s dimension %s is empty", a.Name, k)
					}
				}
			}
		}
		if len(alarms) != len(blueprint.Alarms) {
			t.Errorf("%d alarms, want %d", len(alarms), len(blueprint.Alarms))
		}
		// The two the specification names, spelled out.
		cpu, ok := alarms["alarm-cpu-high-"+r.cfg.Suffix]
		if !ok || cpu.str("namespace") != "AWS/ECS" || cpu.str("metricName") != "CPUUtilization" ||
			cpu.str("comparisonOperator") != "GreaterThanThreshold" || cpu.num("threshold") != 80 {
			t.Errorf("no alarm for service CPU > 80%%: %+v", cpu.Inputs)
		}
		healthy, ok := alarms["alarm-healthy-tasks-low-"+r.cfg.Suffix]
		if !ok || healthy.str("metricName") != "HealthyHostCount" ||
			healthy.str("comparisonOperator") != "LessThanThreshold" || healthy.num("threshold") != 2 {
			t.Errorf("no alarm for healthy tasks < 2: %+v", healthy.Inputs)
		}
		for _, want := range blueprint.Alarms {
			a, ok := alarms[blueprint.Name("alarm", want.Purpose, r.cfg.Suffix)]
			if !ok {
				t.Errorf("alarm %s missing", want.Purpose)
				continue
			}
			if a.num("threshold") != want.Threshold || a.str("comparisonOperator") != want.Comparison ||
				a.num("period") != float64(want.PeriodSeconds) || a.num("evaluationPeriods") != float64(want.EvaluationPeriods) {
				t.Errorf("alarm %s = %v %v period %v x%v, want %v %v period %v x%v", want.Purpose,
					a.str("comparisonOperator"), a.num("threshold"), a.num("period"), a.num("evaluationPeriods"),
					want.Comparison, want.Threshold, want.PeriodSeconds, want.EvaluationPeriods)
			}
		}
		subs := r.of(tSubscribe)
		if (r.cfg.AlertEmail != "") != (len(subs) == 1) {
			t.Errorf("%d subscriptions with alert e-mail %q", len(subs), r.cfg.AlertEmail)
		}
	})
}

func TestPolicyLogRetention(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		groups := r.of(tLogGroup)
		if len(groups) != 2 {
			t.Errorf("%d log groups, want 2 (app, database)", len(groups))
		}
		names := map[string]bool{}
		for _, g := range groups {
			if got := g.num("retentionInDays"); got != 7 {
				t.Errorf("log group %s retention = %v days, want 7", g.str("name"), got)
			}
			names[g.str("name")] = true
			if key, ok := r.byARN(g.str("kmsKeyId")); !ok || key.Type != tKMSKey {
				t.Errorf("log group %s is not encrypted with the stack's key (kmsKeyId %q)", g.str("name"), g.str("kmsKeyId"))
			}
		}
		dbLog := "/aws/rds/cluster/" + r.of(tDBCluster)[0].str("clusterIdentifier") + "/postgresql"
		if !names[dbLog] {
			t.Errorf("the stack does not own the database log group %s (has %v)", dbLog, names)
		}
		var defs []map[string]any
		jsonInput(t, r.of(tTaskDef)[0], "containerDefinitions", &defs)
		if g := defs[0]["logConfiguration"].(map[string]any)["options"].(map[string]any)["awslogs-group"]; !names[g.(string)] {
			t.Errorf("the container logs to %v, not a log group of the stack", g)
		}
	})
}

func TestPolicyECRKeepsFiveImages(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		repo := r.of(tRepo)[0]
		if scan, _ := repo.boolean("imageScanningConfiguration.scanOnPush"); !scan {
			t.Error("ECR repository does not scan on push")
		}
		if repo.str("imageTagMutability") != "IMMUTABLE" {
			t.Errorf("ECR tags are %q, want IMMUTABLE", repo.str("imageTagMutability"))
		}
		lc := r.of(tLifecycle)
		if len(lc) != 1 || lc[0].str("repository") != repo.str("name") {
			t.Fatalf("want one lifecycle policy on %s, got %d", repo.str("name"), len(lc))
		}
		var policy struct {
			Rules []struct {
				Selection struct {
					TagStatus   string
					CountType   string
					CountNumber int
				}
				Action struct{ Type string }
			}
		}
		jsonInput(t, lc[0], "policy", &policy)
		keeps := false
		for _, rule := range policy.Rules {
			s := rule.Selection
			if s.TagStatus == "any" && s.CountType == "imageCountMoreThan" && s.CountNumber == 5 && rule.Action.Type == "expire" {
				keeps = true
			}
		}
		if !keeps {
			t.Errorf("lifecycle policy does not keep the 5 most recent images: %s", lc[0].str("policy"))
		}
	})
}

// nameKeys are the inputs that hold a resource's physical name.
var nameKeys = []string{"name", "family", "clusterIdentifier", "identifier", "dashboardName"}

func TestPolicyEveryNameCarriesTheSuffix(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		suffix := r.cfg.Suffix
		for _, x := range r.resources {
			if !strings.HasSuffix(x.Name, "-"+suffix) {
				t.Errorf("%s %s: logical name lacks the suffix -%s", x.Type, x.Name, suffix)
			}
			if !x.Custom {
				continue
			}
			for _, k := range nameKeys {
				v, ok := x.Inputs[k].(string)
				if !ok || (k == "clusterIdentifier" && x.Type != tDBCluster) || (k == "family" && x.Type != tTaskDef) {
					continue
				}
				if !strings.Contains(v, suffix) {
					t.Errorf("%s %s: %s %q lacks the suffix", x.Type, x.Name, k, v)
				}
				if x.Type != tParameter && x.Type != tLogGroup && !strings.HasSuffix(v, "-"+suffix) {
					t.Errorf("%s %s: %s %q does not follow {type}-{purpose}-{suffix}", x.Type, x.Name, k, v)
				}
			}
			if tags, ok := x.Inputs["tags"].(map[string]any); ok && !strings.Contains(fmt.Sprint(tags["Name"]), suffix) {
				t.Errorf("%s %s: Name tag %v lacks the suffix", x.Type, x.Name, tags["Name"])
			}
		}
	})
}

func TestPolicyEveryTaggableResourceTagged(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		want := map[string]string{
			blueprint.TagProject: blueprint.Project, blueprint.TagEnvironment: r.cfg.Environment.Name,
			blueprint.TagCostCenter: r.cfg.CostCenter, blueprint.TagManagedBy: "pulumi",
		}
		for _, x := range r.resources {
			if !x.Custom {
				if !strings.HasPrefix(x.Type, componentPfx) {
					t.Errorf("unexpected component %s", x.Type)
				}
				continue
			}
			can, known := taggable(x.Type)
			if !known {
				t.Errorf("resource type %s is not classified in argsTypes", x.Type)
				continue
			}
			tags, _ := x.Inputs["tags"].(map[string]any)
			if !can {
				if tags != nil {
					t.Errorf("%s %s: tags on an untaggable type", x.Type, x.Name)
				}
				continue
			}
			for k, v := range want {
				if tags[k] != v {
					t.Errorf("%s %s: tag %s = %v, want %q", x.Type, x.Name, k, tags[k], v)
				}
			}
		}
	})
}

func TestPolicyNothingProtected(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		for _, x := range r.resources {
			if x.Protect || x.Retain {
				t.Errorf("%s %s: protect=%v retainOnDelete=%v", x.Type, x.Name, x.Protect, x.Retain)
			}
			for _, k := range []string{"deletionProtection", "enableDeletionProtection", "deletionProtectionEnabled", "skipDestroy"} {
				if v, _ := x.boolean(k); v {
					t.Errorf("%s %s: %s is true", x.Type, x.Name, k)
				}
			}
		}
		for _, k := range r.of(tKMSKey) {
			if k.num("deletionWindowInDays") != 7 {
				t.Errorf("KMS key %s deletion window %v days, want the shortest, 7", k.Name, k.num("deletionWindowInDays"))
			}
		}
		if v, _ := r.of(tRepo)[0].boolean("forceDelete"); !v {
			t.Error("ECR repository is not emptied on delete (forceDelete)")
		}
		if v, _ := r.of(tDBCluster)[0].boolean("skipFinalSnapshot"); !v {
			t.Error("DB cluster would block destroy on a final snapshot")
		}
		if r.of(tDBCluster)[0].str("finalSnapshotIdentifier") != "" {
			t.Error("DB cluster names a final snapshot")
		}
	})
}

func TestPolicyTaskDefinition(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		td := r.of(tTaskDef)[0]
		if td.str("cpu") != "1024" || td.str("memory") != "2048" {
			t.Errorf("task size %s/%s, want 1024/2048", td.str("cpu"), td.str("memory"))
		}
		if td.str("networkMode") != "awsvpc" || !reflect.DeepEqual(td.get("requiresCompatibilities"), []any{"FARGATE"}) {
			t.Errorf("task definition is not Fargate/awsvpc")
		}
		var defs []struct {
			Name                   string
			Image                  string
			User                   string
			ReadonlyRootFilesystem bool
			StopTimeout            int
			PortMappings           []struct{ ContainerPort int }
			MountPoints            []struct{ SourceVolume, ContainerPath string }
			HealthCheck            struct{ Command []string }
			Environment            []struct{ Name, Value string }
			Secrets                []struct{ Name, ValueFrom string }
			LogConfiguration       struct{ LogDriver string }
		}
		jsonInput(t, td, "containerDefinitions", &defs)
		if len(defs) != 1 {
			t.Fatalf("%d containers, want 1", len(defs))
		}
		c := defs[0]
		if c.User != "65532:65532" || !c.ReadonlyRootFilesystem {
			t.Errorf("container user %q read-only root %v, want 65532:65532 and true", c.User, c.ReadonlyRootFilesystem)
		}
		if !reflect.DeepEqual(c.HealthCheck.Command, []string{"CMD", "/catalog", "healthcheck"}) {
			t.Errorf("health check %q", c.HealthCheck.Command)
		}
		if c.StopTimeout != blueprint.StopTimeoutSeconds || c.LogConfiguration.LogDriver != "awslogs" {
			t.Errorf("stopTimeout %d log driver %q", c.StopTimeout, c.LogConfiguration.LogDriver)
		}
		if len(c.PortMappings) != 1 || c.PortMappings[0].ContainerPort != 8080 {
			t.Errorf("port mappings %+v, want 8080", c.PortMappings)
		}
		if len(c.MountPoints) != 1 || c.MountPoints[0].ContainerPath != "/tmp" {
			t.Errorf("mount points %+v, want /tmp only", c.MountPoints)
		}
		if want := r.outputs["image"]; c.Image != want {
			t.Errorf("image %q, want %q", c.Image, want)
		}
		if r.cfg.Image == "" && !strings.HasPrefix(c.Image, fmt.Sprint(r.outputs["ecrRepositoryUri"])+":") {
			t.Errorf("image %q is not from the stack's repository", c.Image)
		}
		// No secret travels as a plain environment variable.
		for _, e := range c.Environment {
			if e.Name == blueprint.EnvAPIKeys || e.Name == blueprint.EnvDBPassword || e.Name == blueprint.EnvDatabaseURL {
				t.Errorf("%s is a plain environment variable", e.Name)
			}
		}
		secrets := map[string]string{}
		for _, s := range c.Secrets {
			secrets[s.Name] = s.ValueFrom
		}
		if !strings.HasSuffix(secrets[blueprint.EnvAPIKeys], blueprint.ParameterPath(r.cfg.Suffix)+blueprint.ParamAPIKeys) {
			t.Errorf("API_KEYS comes from %q, want the api-keys parameter", secrets[blueprint.EnvAPIKeys])
		}
		if secrets[blueprint.EnvDBUser] != fmt.Sprint(r.outputs["dbSecretArn"])+":username::" {
			t.Errorf("DB_USER comes from %q, want the RDS-managed secret", secrets[blueprint.EnvDBUser])
		}
	})
}

func TestPolicyServiceDeployment(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		svc := r.of(tService)[0]
		// The target group must be behind a listener before the service registers targets.
		for _, l := range r.of(tListener) {
			if !slices.ContainsFunc(svc.Deps, func(urn string) bool { return strings.HasSuffix(urn, "::"+l.Name) }) {
				t.Errorf("service does not wait for listener %s (depends on %v)", l.Name, svc.Deps)
			}
		}
		if !slices.Contains(svc.Ignore, "desiredCount") {
			t.Errorf("service ignoreChanges = %v, want desiredCount so deploys leave auto scaling's count alone", svc.Ignore)
		}
		if on, _ := svc.boolean("deploymentCircuitBreaker.enable"); !on {
			t.Error("no deployment circuit breaker")
		}
		if rb, _ := svc.boolean("deploymentCircuitBreaker.rollback"); !rb {
			t.Error("circuit breaker does not roll back")
		}
		if svc.num("deploymentMinimumHealthyPercent") != 100 || svc.num("deploymentMaximumPercent") != 200 {
			t.Errorf("deployment %v/%v, want 100/200", svc.num("deploymentMinimumHealthyPercent"), svc.num("deploymentMaximumPercent"))
		}
		if svc.num("healthCheckGracePeriodSeconds") != blueprint.HealthCheckGracePeriod {
			t.Errorf("grace period %v", svc.num("healthCheckGracePeriodSeconds"))
		}
		if svc.num("loadBalancers.0.containerPort") != 8080 || svc.str("loadBalancers.0.containerName") != blueprint.ContainerName {
			t.Errorf("service load balancer %v", svc.get("loadBalancers"))
		}
		cluster := r.of(tCluster)[0]
		if !reflect.DeepEqual(cluster.get("settings"), []any{map[string]any{"name": "containerInsights", "value": "enabled"}}) {
			t.Errorf("cluster settings %v, want Container Insights", cluster.get("settings"))
		}
	})
}

func TestPolicyLoadBalancer(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		alb := r.of(tALB)[0]
		if drop, _ := alb.boolean("dropInvalidHeaderFields"); !drop {
			t.Error("ALB keeps invalid header fields")
		}
		tg := r.of(tTG)[0]
		for key, want := range map[string]any{
			"port": 8080.0, "targetType": "ip", "protocol": "HTTP", "deregistrationDelay": 30.0,
			"healthCheck.path": "/health", "healthCheck.interval": 10.0, "healthCheck.timeout": 5.0,
			"healthCheck.healthyThreshold": 2.0, "healthCheck.unhealthyThreshold": 3.0, "healthCheck.matcher": "200",
		} {
			if got := tg.get(key); got != want {
				t.Errorf("target group %s = %v, want %v", key, got, want)
			}
		}
		listeners := map[float64]res{}
		for _, l := range r.of(tListener) {
			listeners[l.num("port")] = l
		}
		http := listeners[80]
		if r.cfg.HTTPS() {
			https, ok := listeners[443]
			if !ok || https.str("sslPolicy") != blueprint.TLSPolicy || https.str("certificateArn") != r.cfg.CertificateARN {
				t.Errorf("HTTPS listener %+v", https.Inputs)
			}
			if http.str("defaultActions.0.type") != "redirect" || http.str("defaultActions.0.redirect.protocol") != "HTTPS" {
				t.Errorf("HTTP listener does not redirect to HTTPS: %v", http.get("defaultActions"))
			}
		} else {
			if len(listeners) != 1 || http.str("defaultActions.0.type") != "forward" {
				t.Errorf("want one HTTP listener forwarding to the target group, got %v", listeners)
			}
		}
		waf := r.of(tWAF)
		if (r.cfg.WebACLARN != "") != (len(waf) == 1) {
			t.Errorf("%d WAF associations with web ACL %q", len(waf), r.cfg.WebACLARN)
		}
	})
}

// iamPolicy is the part of a policy document the least-privilege policy reads.
type iamPolicy struct {
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource []string
	}
}

func TestPolicyIAMLeastPrivilege(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		for _, role := range r.of(tRole) {
			if arns, _ := role.Inputs["managedPolicyArns"].([]any); len(arns) > 0 {
				t.Errorf("role %s has managed policies; only inline, named grants", role.Name)
			}
			var trust struct {
				Statement []struct {
					Principal struct{ Service string }
					Condition map[string]map[string]string
				}
			}
			jsonInput(t, role, "assumeRolePolicy", &trust)
			for _, st := range trust.Statement {
				if st.Principal.Service != "ecs-tasks.amazonaws.com" || st.Condition["StringEquals"]["aws:SourceAccount"] != testAccount {
					t.Errorf("role %s trusts %q without pinning the source account: %+v", role.Name, st.Principal.Service, st.Condition)
				}
			}
		}
		granted := map[string][]string{} // resource -> actions, over every role
		for _, p := range r.of(tRolePolicy) {
			var doc iamPolicy
			jsonInput(t, p, "policy", &doc)
			for _, s := range doc.Statement {
				if s.Effect != "Allow" {
					continue
				}
				for _, a := range s.Action {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("policy %s grants %q", p.Name, a)
					}
				}
				for _, res := range s.Resource {
					if res == "*" && !reflect.DeepEqual(s.Action, []string{"ecr:GetAuthorizationToken"}) {
						t.Errorf("policy %s grants %v on *", p.Name, s.Action)
					}
					granted[res] = append(granted[res], s.Action...)
				}
			}
		}
		// Every granted ARN is one of this stack's resources.
		path := "arn:aws:ssm:" + testRegion + ":" + testAccount + ":parameter" + blueprint.ParameterPath(r.cfg.Suffix)
		for arn := range granted {
			switch {
			case arn == "*":
			case arn == r.outputs["dbSecretArn"]:
			case strings.HasPrefix(arn, path):
			case strings.HasPrefix(arn, "arn:aws:logs:") && strings.Contains(arn, ":log-group:/ecs/svc-catalog-"+r.cfg.Suffix+":"):
			case strings.HasPrefix(arn, "arn:aws:ecr:") && strings.HasSuffix(arn, "/ecr-catalog-"+r.cfg.Suffix):
			default:
				t.Errorf("a role is granted %v on %s, which is not this stack's", granted[arn], arn)
			}
		}
		// The SecureString connection string is for operators: no role reads it.
		if _, ok := granted[fmt.Sprint(r.outputs["dbUrlParameterArn"])]; ok {
			t.Error("a role can read the db/url parameter; nothing in the stack needs it")
		}
	})
}

func TestPolicySettingsInParameterStore(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		path := blueprint.ParameterPath(r.cfg.Suffix)
		want := map[string]string{
			path + blueprint.ParamDBHost: "String", path + blueprint.ParamDBReaderHost: "String",
			path + blueprint.ParamDBPort: "String", path + blueprint.ParamDBName: "String",
			path + blueprint.ParamDBURL: "SecureString", path + blueprint.ParamAPIKeys: "SecureString",
		}
		got := map[string]string{}
		for _, p := range r.of(tParameter) {
			got[p.str("name")] = p.str("type")
			if p.str("type") == "SecureString" {
				if !p.Secret["value"] || p.get("insecureValue") != nil {
					t.Errorf("SecureString parameter %s: value is not a Pulumi secret", p.str("name"))
				}
			} else if p.get("value") != nil || p.str("insecureValue") == "" {
				t.Errorf("String parameter %s: want its value in insecureValue, readable in the state", p.str("name"))
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parameters = %v, want %v", got, want)
		}
		apiKeys := r.named(t, tParameter, "param-api-keys-"+r.cfg.Suffix)
		if apiKeys.str("value") != r.cfg.APIKeys {
			t.Error("api-keys parameter does not hold the configured keys")
		}
		if url := r.named(t, tParameter, "param-db-url-"+r.cfg.Suffix).str("value"); !strings.HasPrefix(url, "postgres://") || !strings.Contains(url, "sslmode=verify-full") {
			t.Errorf("db/url = %q", url)
		}
	})
}

func TestNetworkShape(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		v := r.of(tVPC)
		if len(v) != 1 || v[0].str("cidrBlock") != blueprint.VPCCIDR {
			t.Fatalf("VPC %v", v)
		}
		tiers := map[string][]string{}
		azs := map[string]map[string]bool{}
		for _, s := range r.of(tSubnet) {
			tier := strings.Split(s.Name, "-")[1]
			tiers[tier] = append(tiers[tier], s.str("cidrBlock"))
			if azs[tier] == nil {
				azs[tier] = map[string]bool{}
			}
			azs[tier][s.str("availabilityZone")] = true
		}
		for tier, want := range map[string][3]string{"public": blueprint.PublicSubnetCIDRs, "private": blueprint.PrivateSubnetCIDRs, "isolated": blueprint.IsolatedSubnetCIDRs} {
			got := tiers[tier]
			slices.Sort(got)
			w := want[:]
			slices.Sort(w)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("%s subnets %v, want %v", tier, got, w)
			}
			if len(azs[tier]) != blueprint.AZCount {
				t.Errorf("%s subnets span %d AZs, want %d", tier, len(azs[tier]), blueprint.AZCount)
			}
		}
		wantNAT := 3
		if r.cfg.NATMode == blueprint.NATSingle {
			wantNAT = 1
		}
		if n, e := len(r.of(tNAT)), len(r.of(tEIP)); n != wantNAT || e != wantNAT {
			t.Errorf("%d NAT gateways and %d EIPs, want %d", n, e, wantNAT)
		}
		endpoints := map[string]string{}
		for _, e := range r.of(tEndpoint) {
			endpoints[e.str("serviceName")] = e.str("vpcEndpointType")
		}
		want := map[string]string{"com.amazonaws." + testRegion + ".s3": "Gateway"}
		if r.cfg.InterfaceEndpoints {
			for _, s := range blueprint.InterfaceEndpointServices {
				want["com.amazonaws."+testRegion+"."+s] = "Interface"
			}
		}
		if !reflect.DeepEqual(endpoints, want) {
			t.Errorf("endpoints %v, want %v", endpoints, want)
		}
	})
}

func TestOutputs(t *testing.T) {
	r := runStack(t, defaultConfig())
	want := []string{
		"albUrl", "serviceUrl", "albDnsName", "ecrRepositoryUri", "image", "clusterName", "serviceName",
		"dbWriterEndpoint", "dbReaderEndpoint", "dbSecretArn", "apiKeysParameterArn", "dbUrlParameterArn",
		"parameterPath", "alarmTopicArn", "vpcId", "publicSubnetIds", "privateSubnetIds", "isolatedSubnetIds", "dashboardUrl",
	}
	for _, k := range want {
		v, ok := r.outputs[k]
		if !ok || v == nil || v == "" {
			t.Errorf("output %s = %v, want a value", k, v)
		}
	}
	if len(r.outputs) != len(want) {
		t.Errorf("%d outputs, want %d", len(r.outputs), len(want))
	}
	if got := r.outputs["albUrl"]; got != "http://alb-catalog-zq9.elb.amazonaws.com" {
		t.Errorf("albUrl = %v", got)
	}
	if got := runStack(t, fullConfig()).outputs["albUrl"]; !strings.HasPrefix(fmt.Sprint(got), "https://") {
		t.Errorf("albUrl with a certificate = %v, want https", got)
	}
}
