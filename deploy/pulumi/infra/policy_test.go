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
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/secretsmanager"
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
	tWebACL      = "aws:wafv2/webAcl:WebAcl"
	tCFFunction  = "aws:cloudfront/function:Function"
	tFlowLog     = "aws:ec2/flowLog:FlowLog"
	tCluster     = "aws:ecs/cluster:Cluster"
	tTaskDef     = "aws:ecs/taskDefinition:TaskDefinition"
	tService     = "aws:ecs/service:Service"
	tRepo        = "aws:ecr/repository:Repository"
	tLifecycle   = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
	tRole        = "aws:iam/role:Role"
	tRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	tTarget      = "aws:appautoscaling/target:Target"
	tPolicy      = "aws:appautoscaling/policy:Policy"
	tScheduled   = "aws:appautoscaling/scheduledAction:ScheduledAction"
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
	tSecret      = "aws:secretsmanager/secret:Secret"
	tSecretValue = "aws:secretsmanager/secretVersion:SecretVersion"
	tRule        = "aws:lb/listenerRule:ListenerRule"
	tCachePolicy = "aws:cloudfront/cachePolicy:CachePolicy"
	tCDN         = "aws:cloudfront/distribution:Distribution"
	tEventBus    = "aws:cloudwatch/eventBus:EventBus"
	tArchive     = "aws:cloudwatch/eventArchive:EventArchive"
	tSchedule    = "aws:scheduler/schedule:Schedule"
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
	tWAF: wafv2.WebAclAssociationArgs{}, tWebACL: wafv2.WebAclArgs{}, tCFFunction: cloudfront.FunctionArgs{}, tFlowLog: ec2.FlowLogArgs{},
	tCluster: ecs.ClusterArgs{}, tTaskDef: ecs.TaskDefinitionArgs{},
	tService: ecs.ServiceArgs{}, tRepo: ecr.RepositoryArgs{}, tLifecycle: ecr.LifecyclePolicyArgs{},
	tRole: iam.RoleArgs{}, tRolePolicy: iam.RolePolicyArgs{}, tTarget: appautoscaling.TargetArgs{},
	tPolicy: appautoscaling.PolicyArgs{}, tScheduled: appautoscaling.ScheduledActionArgs{}, tSchedule: scheduler.ScheduleArgs{}, tDBCluster: rds.ClusterArgs{}, tDBInstance: rds.ClusterInstanceArgs{},
	tDBSubnets: rds.SubnetGroupArgs{}, tDBParams: rds.ClusterParameterGroupArgs{},
	tLogGroup: cloudwatch.LogGroupArgs{}, tAlarm: cloudwatch.MetricAlarmArgs{},
	tDashboard: cloudwatch.DashboardArgs{}, tTopic: sns.TopicArgs{}, tSubscribe: sns.TopicSubscriptionArgs{},
	tParameter: ssm.ParameterArgs{}, tKMSKey: kms.KeyArgs{}, tKMSAlias: kms.AliasArgs{},
	tSecret: secretsmanager.SecretArgs{}, tSecretValue: secretsmanager.SecretVersionArgs{}, tRule: lb.ListenerRuleArgs{},
	tCachePolicy: cloudfront.CachePolicyArgs{}, tCDN: cloudfront.DistributionArgs{},
	tEventBus: cloudwatch.EventBusArgs{}, tArchive: cloudwatch.EventArchiveArgs{},
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
		if id := rule.str("prefixListId"); id != "" {
			if peer != "" || id != testPrefixList {
				peer += "+other"
			} else {
				peer = blueprint.CloudFrontPrefixListName // what the program looked up
			}
		}
		if rule.str("cidrIpv6") != "" {
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
			peer := rule.CIDR + rule.PrefixList
			if rule.PeerGroup != "" {
				p, _ := m.SecurityGroup(rule.PeerGroup)
				peer = blueprint.Name(p.Kind, p.Purpose, "")
				peer = strings.TrimSuffix(peer, "-")
			}
			group := strings.TrimSuffix(blueprint.Name(g.Kind, g.Purpose, ""), "-")
			port := rule.PortIn(r.cfg.Choices())
			if rule.Direction == blueprint.Ingress {
				wantIn = append(wantIn, fmt.Sprintf("%s: tcp %d from %s", group, port, peer))
			} else {
				wantOut = append(wantOut, fmt.Sprintf("%s: tcp %d to %s", group, port, peer))
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

// TestPolicyAlarmsNotifyTheTopic: the rendered references (the alarms, their number and
// thresholds are blueprint's TestPolicyAlarms, TestPolicySpecification and parity): the topic
// is encrypted with the stack's key, whose policy lets CloudWatch in (CloudWatch cannot publish
// to a topic under the AWS-managed SNS key), and every alarm notifies it with its dimensions
// filled in.
func TestPolicyAlarmsNotifyTheTopic(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		topic := r.of(tTopic)[0]
		if key, ok := r.byARN(topic.str("kmsMasterKeyId")); !ok || key.Type != tKMSKey {
			t.Errorf("alarm topic is not encrypted with the stack's key: %v", topic.get("kmsMasterKeyId"))
		} else if !strings.Contains(key.str("policy"), `"cloudwatch.amazonaws.com"`) {
			t.Errorf("the key policy does not let CloudWatch publish to the topic")
		}
		topicARN := r.outputs["alarmTopicArn"]
		stepAlarms := 0
		for _, a := range r.of(tAlarm) {
			if a.str("metricName") == "CPUUtilization" && a.get("evaluationPeriods") == 1.0 {
				stepAlarms++
				// Step scaling's alarm: its one action is this stack's step policy, no recovery.
				acts, _ := a.get("alarmActions").([]any)
				if len(acts) != 1 || a.get("okActions") != nil {
					t.Errorf("alarm %s actions %v / OK %v, want the step policy only", a.Name, acts, a.get("okActions"))
				} else if p, ok := r.byARN(fmt.Sprint(acts[0])); !ok || p.Type != tPolicy || p.str("policyType") != "StepScaling" {
					t.Errorf("alarm %s acts on %v, not this stack's step scaling policy", a.Name, acts[0])
				}
			} else {
				for _, key := range []string{"alarmActions", "okActions"} {
					if got := a.get(key); !reflect.DeepEqual(got, []any{topicARN}) {
						t.Errorf("alarm %s %s = %v, want [%v]", a.Name, key, got, topicARN)
					}
				}
			}
			dims, _ := a.get("dimensions").(map[string]any)
			if len(dims) == 0 {
				t.Errorf("alarm %s has no dimensions", a.Name)
			}
			for k, v := range dims {
				if v == "" || v == nil {
					t.Errorf("alarm %s dimension %s is empty", a.Name, k)
				}
			}
		}
		if want := len(r.of(tTarget)); stepAlarms != want {
			t.Errorf("%d step scaling alarms, want %d (one with the service)", stepAlarms, want)
		}
	})
}

// TestPolicyLogGroupsAreTheStacks: the rendered references (which log groups exist and their
// retention are TestProgramCarriesTheModel, parity and TestPolicySpecification): each log group
// is encrypted with the stack's key, the database's is the one RDS writes to, and the container
// logs to one of them.
func TestPolicyLogGroupsAreTheStacks(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		names := map[string]bool{}
		for _, g := range r.of(tLogGroup) {
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
				// Parameters, log groups and secrets are paths with the suffix as a segment.
				if x.Type != tParameter && x.Type != tLogGroup && x.Type != tSecret && !strings.HasSuffix(v, "-"+suffix) {
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

// TestPolicyTaskDefinition: the rendered references (the container's settings are blueprint's
// TestPolicyContainer and TestPolicySpecification, and parity's Service): the image is the
// configured one or the stack's repository's, and the secrets come from this stack's parameter
// and the RDS-managed secret.
func TestPolicyTaskDefinition(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		var defs []struct {
			Image       string
			Secrets     []struct{ Name, ValueFrom string }
			Environment []struct{ Name, Value string }
		}
		jsonInput(t, r.named(t, tTaskDef, "task-catalog-"+r.cfg.Suffix), "containerDefinitions", &defs)
		if len(defs) != 1 {
			t.Fatalf("%d containers, want 1", len(defs))
		}
		c := defs[0]
		var migrate []struct {
			Image   string
			Command []string
			Secrets []struct{ Name, ValueFrom string }
		}
		jsonInput(t, r.named(t, tTaskDef, "task-catalog-migrate-"+r.cfg.Suffix), "containerDefinitions", &migrate)
		if len(migrate) != 1 || migrate[0].Image != c.Image || !reflect.DeepEqual(migrate[0].Command, []string{"migrate"}) {
			t.Fatalf("migrate task %+v, want one container running migrate with the service's image %s", migrate, c.Image)
		}
		migrateSecrets := map[string]string{}
		for _, s := range migrate[0].Secrets {
			migrateSecrets[s.Name] = s.ValueFrom
		}
		// The master secret reaches the migrate task only (blueprint's
		// TestPolicyMigrateTaskAloneHoldsTheMasterSecret); here, that it renders as its JSON keys.
		if migrateSecrets[blueprint.EnvDBUser] != fmt.Sprint(r.outputs["dbSecretArn"])+":username::" ||
			migrateSecrets[blueprint.EnvDBPassword] != fmt.Sprint(r.outputs["dbSecretArn"])+":password::" {
			t.Errorf("migrate DB_USER/DB_PASSWORD come from %q/%q, want the RDS-managed secret", migrateSecrets[blueprint.EnvDBUser], migrateSecrets[blueprint.EnvDBPassword])
		}
		if want := r.outputs["image"]; c.Image != want {
			t.Errorf("image %q, want %q", c.Image, want)
		}
		if r.cfg.Image == "" && !strings.HasPrefix(c.Image, fmt.Sprint(r.outputs["ecrRepositoryUri"])+":") {
			t.Errorf("image %q is not from the stack's repository", c.Image)
		}
		secrets := map[string]string{}
		for _, s := range c.Secrets {
			secrets[s.Name] = s.ValueFrom
		}
		// The service reads the API keys itself: the secret's ARN, never its value.
		if v, ok := secrets[blueprint.EnvAPIKeys]; ok {
			t.Errorf("API_KEYS is injected from %q; the service must read the secret itself", v)
		}
		env := map[string]string{}
		for _, e := range c.Environment {
			env[e.Name] = e.Value
		}
		if x, ok := r.byARN(env[blueprint.EnvAPIKeysSecretARN]); !ok || x.Type != tSecret || x.str("name") != blueprint.APIKeySecretName(r.cfg.Suffix) {
			t.Errorf("API_KEYS_SECRET_ARN = %q, want the API-key secret's ARN", env[blueprint.EnvAPIKeysSecretARN])
		}
		for _, name := range []string{blueprint.EnvDBUser, blueprint.EnvDBPassword} {
			if v, ok := secrets[name]; ok {
				t.Errorf("the service's %s comes from %q: only the migrate task holds the master secret", name, v)
			}
		}
	})
}

// TestPolicyServiceDeployment: what only the Pulumi rendering says (the deployment's settings are
// TestPolicySpecification and parity; the wait for the listeners is
// TestProgramCarriesTheModelTagsAndOrder): deploys leave auto scaling's count alone, and the
// service registers the model's container and port with the target group.
func TestPolicyServiceDeployment(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		svc := r.of(tService)[0]
		if !slices.Contains(svc.Ignore, "desiredCount") {
			t.Errorf("service ignoreChanges = %v, want desiredCount so deploys leave auto scaling's count alone", svc.Ignore)
		}
		tg, ok := r.byARN(svc.str("loadBalancers.0.targetGroupArn"))
		if !ok || tg.Type != tTG || svc.num("loadBalancers.0.containerPort") != blueprint.AppPort || svc.str("loadBalancers.0.containerName") != blueprint.ContainerName {
			t.Errorf("service load balancer %v", svc.get("loadBalancers"))
		}
	})
}

// TestPolicyLoadBalancer: the rendered reference (the listeners, their redirect and TLS policy
// are blueprint's TestPolicyEdge and parity; the attributes TestPolicySpecification and parity):
// the HTTPS listener serves the configured certificate.
func TestPolicyLoadBalancer(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		for _, l := range r.of(tListener) {
			if l.num("port") == blueprint.HTTPSPort && l.str("certificateArn") != r.cfg.CertificateARN {
				t.Errorf("HTTPS listener certificate %q, want %q", l.str("certificateArn"), r.cfg.CertificateARN)
			}
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
				// ECS tasks, the flow-logs service for the flow-logs role only and EventBridge
				// Scheduler for the sale's role only, each pinned to this account (confused
				// deputy); the flow-logs role also to this account's flow logs
				// (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
				service := "ecs-tasks.amazonaws.com"
				if role.Name == "role-sale-db-"+r.cfg.Suffix {
					service = blueprint.SchedulerPrincipal
				}
				if role.Name == "role-flow-logs-"+r.cfg.Suffix {
					service = blueprint.FlowLogsPrincipal
					if want := "arn:aws:ec2:" + testRegion + ":" + testAccount + ":vpc-flow-log/*"; st.Condition["ArnLike"]["aws:SourceArn"] != want {
						t.Errorf("role %s: aws:SourceArn %q, want %q", role.Name, st.Condition["ArnLike"]["aws:SourceArn"], want)
					}
				}
				if st.Principal.Service != service || st.Condition["StringEquals"]["aws:SourceAccount"] != testAccount {
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
			case arn == r.outputs["apiKeySecretArn"] && reflect.DeepEqual(granted[arn], []string{"secretsmanager:GetSecretValue"}):
			case arn == "arn:aws:rds-db:"+testRegion+":"+testAccount+":dbuser:"+testClusterResourceID+"/"+blueprint.DBAppRole &&
				reflect.DeepEqual(granted[arn], []string{"rds-db:connect"}):
			case strings.HasPrefix(arn, path):
			case arn == r.outputs["eventBusArn"] && reflect.DeepEqual(granted[arn], []string{"events:PutEvents"}):
			case reflect.DeepEqual(granted[arn], []string{"kms:Decrypt"}) && func() bool { k, ok := r.byARN(arn); return ok && k.Type == tKMSKey }():
			case strings.HasPrefix(arn, "arn:aws:logs:") && strings.Contains(arn, ":log-group:/ecs/svc-catalog-"+r.cfg.Suffix+":"):
			case arn == "arn:aws:logs:"+testRegion+":"+testAccount+":log-group:"+blueprint.FlowLogGroupPath(r.cfg.Suffix)+":*" &&
				reflect.DeepEqual(granted[arn], []string{"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"}):
			// DescribeLogGroups lists by prefix: the account's groups, and nothing else.
			case arn == "arn:aws:logs:"+testRegion+":"+testAccount+":log-group:*" && reflect.DeepEqual(granted[arn], []string{"logs:DescribeLogGroups"}):
			case strings.HasPrefix(arn, "arn:aws:ecr:") && strings.HasSuffix(arn, "/ecr-catalog-"+r.cfg.Suffix):
			// The sale's schedules modify this stack's cluster, and nothing else.
			case reflect.DeepEqual(granted[arn], []string{"rds:ModifyDBCluster"}) && func() bool { c, ok := r.byARN(arn); return ok && c.Type == tDBCluster }():
			default:
				t.Errorf("a role is granted %v on %s, which is not this stack's", granted[arn], arn)
			}
		}
		// The API keys are encrypted with the stack's key.
		if key, ok := r.byARN(r.named(t, tSecret, "secret-api-keys-"+r.cfg.Suffix).str("kmsKeyId")); !ok || key.Type != tKMSKey {
			t.Errorf("the API-key secret is encrypted with %q, want the stack's key", r.named(t, tSecret, "secret-api-keys-"+r.cfg.Suffix).str("kmsKeyId"))
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
			path + blueprint.ParamDBURL: "SecureString",
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
		if url := r.named(t, tParameter, "param-db-url-"+r.cfg.Suffix).str("value"); !strings.HasPrefix(url, "postgres://") || !strings.Contains(url, "sslmode=verify-full") {
			t.Errorf("db/url = %q", url)
		}
	})
}

func TestOutputs(t *testing.T) {
	r := runStack(t, defaultConfig())
	want := []string{
		"albUrl", "serviceUrl", "albDnsName", "ecrRepositoryUri", "image", "clusterName", "serviceName",
		"dbWriterEndpoint", "dbReaderEndpoint", "dbSecretArn", "apiKeySecretArn", "dbUrlParameterArn",
		"parameterPath", "alarmTopicArn", "vpcId", "publicSubnetIds", "privateSubnetIds", "isolatedSubnetIds", "dashboardUrl",
		"distributionDomainName", "distributionId", "migrateTaskDefinitionArn", "serviceSecurityGroupId",
		"eventBusName", "eventBusArn",
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
	// The service's URL is the distribution's, over HTTPS; without CloudFront, the load balancer's.
	if got, want := r.outputs["serviceUrl"], "https://"+fmt.Sprint(r.outputs["distributionDomainName"]); got != want || !strings.HasSuffix(fmt.Sprint(got), ".cloudfront.net") {
		t.Errorf("serviceUrl = %v, want %s on cloudfront.net", got, want)
	}
	direct := defaultConfig()
	direct.CloudFront = false
	if got := runStack(t, direct).outputs; got["serviceUrl"] != got["albUrl"] || got["distributionDomainName"] != nil {
		t.Errorf("without CloudFront: serviceUrl %v, albUrl %v, distribution %v", got["serviceUrl"], got["albUrl"], got["distributionDomainName"])
	}
}

// TestPolicyRequestCountNamesTheStacksTargetGroup: the rendered reference (the policy, its
// metric and target are blueprint's TestPolicyFlashSale and parity): ALBRequestCountPerTarget's
// resource label is this stack's load balancer and target group, as
// app/<lb>/<id>/targetgroup/<tg>/<id> (the mocks' ARN suffixes).
func TestPolicyRequestCountNamesTheStacksTargetGroup(t *testing.T) {
	forEachConfig(t, func(t *testing.T, r *run) {
		if len(r.of(tTarget)) == 0 {
			return // bootstrap: no service, no scaling
		}
		want := "app/" + r.of(tALB)[0].Name + "/0123456789abcdef/targetgroup/" + r.of(tTG)[0].Name + "/0123456789abcdef"
		n := 0
		for _, p := range r.of(tPolicy) {
			spec := p.get("targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification")
			m, _ := spec.(map[string]any)
			if m["predefinedMetricType"] != "ALBRequestCountPerTarget" {
				continue
			}
			n++
			if m["resourceLabel"] != want {
				t.Errorf("policy %s resource label %v, want %s", p.Name, m["resourceLabel"], want)
			}
		}
		if n != 1 {
			t.Errorf("%d request-count policies, want 1", n)
		}
	})
}

// TestPolicySaleActionsExactlyWithTheSale: in every case of three options the program schedules the model's
// sale actions exactly when it has the service and a sale window: up to saleMinTasks at the
// start, back to minTasks at the end, the maximum unchanged, on this stack's scalable target.
func TestPolicySaleActionsExactlyWithTheSale(t *testing.T) {
	for _, c := range blueprint.CoveringChoices(3) {
		cfg := configFor(c)
		r := runStack(t, cfg)
		var got []string
		for _, a := range r.of(tScheduled) {
			if a.get("resourceId") != r.of(tTarget)[0].get("resourceId") {
				t.Errorf("%v: %s acts on %v, not the service's scalable target", c, a.Name, a.get("resourceId"))
			}
			got = append(got, fmt.Sprintf("%v %v-%v", a.get("schedule"), a.get("scalableTargetAction.minCapacity"), a.get("scalableTargetAction.maxCapacity")))
		}
		var want []string
		if c.Has(blueprint.WithSale) && c.Has(blueprint.WithImage) {
			want = []string{fmt.Sprintf("at(%s) %d-%d", cfg.SaleStart, cfg.SaleMinTasks, cfg.MaxTasks), fmt.Sprintf("at(%s) %d-%d", cfg.SaleEnd, cfg.MinTasks, cfg.MaxTasks)}
		}
		slices.Sort(got) // the mocks record registrations in no fixed order
		if !slices.Equal(got, want) {
			t.Errorf("%v: scheduled actions %q, want %q", c, got, want)
		}
	}
}

// TestPolicyOriginSecretIsTheStoredOne: the header CloudFront adds and the value the forwarding
// rule matches are the value the stack stored on its first run (read back from Secrets Manager),
// never this run's newly generated one, which the secret version ignores: otherwise every
// pulumi up would change the secret the edge depends on. The rules hang off the serving
// listener; without CloudFront there is no secret, distribution or header rule.
func TestPolicyOriginSecretIsTheStoredOne(t *testing.T) {
	for _, cloudFront := range []bool{true, false} {
		for _, cfg := range []configT{defaultConfig(), fullConfig()} {
			cfg.CloudFront = cloudFront
			r := runStack(t, cfg)
			servingName := "listener-http-" + cfg.Suffix
			if cfg.HTTPS() {
				servingName = "listener-https-" + cfg.Suffix
			}
			for _, rule := range r.of(tRule) {
				if l, ok := r.byARN(rule.str("listenerArn")); !ok || l.Name != servingName {
					t.Errorf("rule %s is on %v, want %s", rule.Name, rule.get("listenerArn"), servingName)
				}
			}
			if !cloudFront {
				if n := len(r.of(tCDN)) + len(originSecrets(r, tSecret)) + len(r.of(tRule)) - 1; n != 0 {
					t.Errorf("without CloudFront: %d distributions, secrets and header rules", n)
				}
				continue
			}
			header := r.of(tCDN)[0].str("origins.0.customHeaders.0.value")
			var matched string
			for _, rule := range r.of(tRule) {
				if v := rule.str("conditions.0.httpHeader.values.0"); v != "" {
					matched = v
				}
			}
			if header != testStoredSecret || matched != testStoredSecret {
				t.Errorf("CloudFront sends %q, the rule matches %q; want the stored %q (not this run's %q)", header, matched, testStoredSecret, testGeneratedSecret)
			}
			if key, ok := r.byARN(originSecrets(r, tSecret)[0].str("kmsKeyId")); !ok || key.Type != tKMSKey {
				t.Errorf("the origin secret is encrypted with %q, want the stack's key", originSecrets(r, tSecret)[0].str("kmsKeyId"))
			}
			v := originSecrets(r, tSecretValue)[0]
			if !slices.Contains(v.Ignore, "secretString") || !v.Secret["secretString"] {
				t.Errorf("secret version %s: ignoreChanges %q, secret %v; want secretString ignored and secret", v.Name, v.Ignore, v.Secret)
			}
			origin := r.of(tCDN)[0]
			wantProtocol, wantDomain := "http-only", "alb-catalog-"+cfg.Suffix+".elb.amazonaws.com"
			if cfg.HTTPS() {
				wantProtocol, wantDomain = "https-only", cfg.OriginDomain
			}
			if got := origin.str("origins.0.customOriginConfig.originProtocolPolicy"); got != wantProtocol || origin.str("origins.0.domainName") != wantDomain {
				t.Errorf("origin %s over %s, want %s over %s", origin.str("origins.0.domainName"), got, wantDomain, wantProtocol)
			}
		}
	}
}

// originSecrets are the resources of type typ (secrets, secret versions) other than the API
// keys': those of the origin header.
func originSecrets(r *run, typ string) []res {
	var out []res
	for _, x := range r.of(typ) {
		if !strings.HasPrefix(x.Name, "secret-api-keys") {
			out = append(out, x)
		}
	}
	return out
}
