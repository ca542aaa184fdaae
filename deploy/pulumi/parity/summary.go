package parity

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// Summary is what the two stacks must agree on: how many resources of each CloudFormation kind
// exist, and facts (key numbers and settings) rendered as canonical strings.
type Summary struct {
	Counts map[string]int
	Facts  map[string]string
}

// TypeMap maps each Pulumi resource type the program uses to its CloudFormation type. An empty
// value means the Pulumi resource is folded into another resource on the CloudFormation side
// (see Folded); a type missing here is a difference in itself.
var TypeMap = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "AWS::EC2::VPC",
	"aws:ec2/subnet:Subnet":                                     "AWS::EC2::Subnet",
	"aws:ec2/internetGateway:InternetGateway":                   "AWS::EC2::InternetGateway",
	"aws:ec2/eip:Eip":                                           "AWS::EC2::EIP",
	"aws:ec2/natGateway:NatGateway":                             "AWS::EC2::NatGateway",
	"aws:ec2/routeTable:RouteTable":                             "AWS::EC2::RouteTable",
	"aws:ec2/route:Route":                                       "AWS::EC2::Route",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":       "AWS::EC2::SubnetRouteTableAssociation",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "AWS::EC2::VPCEndpoint",
	"aws:ec2/securityGroup:SecurityGroup":                       "AWS::EC2::SecurityGroup",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "",
	"aws:lb/loadBalancer:LoadBalancer":                          "AWS::ElasticLoadBalancingV2::LoadBalancer",
	"aws:lb/targetGroup:TargetGroup":                            "AWS::ElasticLoadBalancingV2::TargetGroup",
	"aws:lb/listener:Listener":                                  "AWS::ElasticLoadBalancingV2::Listener",
	"aws:wafv2/webAclAssociation:WebAclAssociation":             "AWS::WAFv2::WebACLAssociation",
	"aws:ecs/cluster:Cluster":                                   "AWS::ECS::Cluster",
	"aws:ecs/taskDefinition:TaskDefinition":                     "AWS::ECS::TaskDefinition",
	"aws:ecs/service:Service":                                   "AWS::ECS::Service",
	"aws:ecr/repository:Repository":                             "AWS::ECR::Repository",
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":                   "",
	"aws:iam/role:Role":                                         "AWS::IAM::Role",
	"aws:iam/rolePolicy:RolePolicy":                             "",
	"aws:appautoscaling/target:Target":                          "AWS::ApplicationAutoScaling::ScalableTarget",
	"aws:appautoscaling/policy:Policy":                          "AWS::ApplicationAutoScaling::ScalingPolicy",
	"aws:rds/cluster:Cluster":                                   "AWS::RDS::DBCluster",
	"aws:rds/clusterInstance:ClusterInstance":                   "AWS::RDS::DBInstance",
	"aws:rds/subnetGroup:SubnetGroup":                           "AWS::RDS::DBSubnetGroup",
	"aws:rds/clusterParameterGroup:ClusterParameterGroup":       "AWS::RDS::DBClusterParameterGroup",
	"aws:cloudwatch/logGroup:LogGroup":                          "AWS::Logs::LogGroup",
	"aws:cloudwatch/metricAlarm:MetricAlarm":                    "AWS::CloudWatch::Alarm",
	"aws:cloudwatch/dashboard:Dashboard":                        "AWS::CloudWatch::Dashboard",
	"aws:sns/topic:Topic":                                       "AWS::SNS::Topic",
	"aws:sns/topicSubscription:TopicSubscription":               "AWS::SNS::Subscription",
	"aws:ssm/parameter:Parameter":                               "AWS::SSM::Parameter",
	"aws:kms/key:Key":                                           "AWS::KMS::Key",
	"aws:kms/alias:Alias":                                       "AWS::KMS::Alias",
}

// Folded lists the kinds whose granularity differs between the tools. They are not counted;
// what they hold is compared as facts instead.
var Folded = map[string]string{
	"security group rules":        "Pulumi: one vpc.SecurityGroupIngressRule/EgressRule per rule; CloudFormation: inline SecurityGroupIngress/Egress or AWS::EC2::SecurityGroupIngress/Egress. Compared as the rule set (facts sg.ingress, sg.egress).",
	"IAM role policies":           "Pulumi: iam.RolePolicy per role; CloudFormation: inline Policies, AWS::IAM::Policy, AWS::IAM::RolePolicy or AWS::IAM::ManagedPolicy. Roles are counted; policies are checked by each stack's own least-privilege test.",
	"ECR lifecycle policy":        "Pulumi: ecr.LifecyclePolicy; CloudFormation: the repository's LifecyclePolicy property. Compared as fact ecr.lifecycle.",
	"internet gateway attachment": "Pulumi: the InternetGateway's vpcId; CloudFormation: AWS::EC2::VPCGatewayAttachment. Counted as an attachment for every Pulumi gateway with a vpcId.",
	"SNS subscriptions":           "CloudFormation may list them inline in the topic's Subscription property; counted as AWS::SNS::Subscription either way.",
	"wait condition handles":      "CloudFormation only: an AWS::CloudFormation::WaitConditionHandle that makes the service wait for a conditional listener; Pulumi says the same with dependsOn. Not counted.",
}

// Kind names for what only one tool has.
const (
	KindSecureString = "SSM SecureString parameter (Pulumi only)"
)

// ExpectedDeltas are the deliberate differences in counts: Pulumi's count minus
// CloudFormation's, per kind. CloudFormation cannot create SecureString parameters, so the
// template keeps the API key in a Secrets Manager secret it generates; the Pulumi program
// keeps the API keys and the connection string in SecureString parameters, as its
// specification asks.
var ExpectedDeltas = map[string]int{
	KindSecureString:              +2, // db/url and api-keys
	"AWS::SecretsManager::Secret": -1, // the template's generated API-key secret
}

// foldedCFN are the CloudFormation types not counted (see Folded).
var foldedCFN = map[string]bool{
	"AWS::EC2::SecurityGroupIngress": true, "AWS::EC2::SecurityGroupEgress": true,
	"AWS::IAM::Policy": true, "AWS::IAM::RolePolicy": true, "AWS::IAM::ManagedPolicy": true,
	"AWS::CloudFormation::WaitConditionHandle": true,
}

// Compare lists the differences between the Pulumi and CloudFormation summaries, counts
// adjusted by ExpectedDeltas. An empty list means parity.
func Compare(pulumi, cfn Summary) []string {
	var diffs []string
	kinds := map[string]bool{}
	for k := range pulumi.Counts {
		kinds[k] = true
	}
	for k := range cfn.Counts {
		kinds[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		p, c := pulumi.Counts[k], cfn.Counts[k]
		if p-c != ExpectedDeltas[k] {
			diffs = append(diffs, fmt.Sprintf("count %s: Pulumi %d, CloudFormation %d (expected difference %+d)", k, p, c, ExpectedDeltas[k]))
		}
	}
	facts := map[string]bool{}
	for k := range pulumi.Facts {
		facts[k] = true
	}
	for k := range cfn.Facts {
		facts[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(facts)) {
		p, pok := pulumi.Facts[k]
		c, cok := cfn.Facts[k]
		switch {
		case !pok:
			diffs = append(diffs, fmt.Sprintf("fact %s: missing in Pulumi, CloudFormation %q", k, c))
		case !cok:
			diffs = append(diffs, fmt.Sprintf("fact %s: Pulumi %q, missing in CloudFormation", k, p))
		case p != c:
			diffs = append(diffs, fmt.Sprintf("fact %s: Pulumi %q, CloudFormation %q", k, p, c))
		}
	}
	return diffs
}

// Table renders the comparison side by side, for the test log.
func Table(pulumi, cfn Summary) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-60s %-28s %s\n", "kind / fact", "Pulumi", "CloudFormation")
	kinds := map[string]bool{}
	for k := range pulumi.Counts {
		kinds[k] = true
	}
	for k := range cfn.Counts {
		kinds[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		fmt.Fprintf(&sb, "%-60s %-28d %d\n", k, pulumi.Counts[k], cfn.Counts[k])
	}
	facts := map[string]bool{}
	for k := range pulumi.Facts {
		facts[k] = true
	}
	for k := range cfn.Facts {
		facts[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(facts)) {
		fmt.Fprintf(&sb, "%-60s %-28s %s\n", k, pulumi.Facts[k], cfn.Facts[k])
	}
	return sb.String()
}

// sortedJoin renders a set of strings canonically.
func sortedJoin(items []string) string {
	sort.Strings(items)
	return strings.Join(items, "; ")
}

// canonicalJSON re-encodes a JSON text with sorted keys and no spaces.
func canonicalJSON(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "invalid JSON: " + s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// get walks a path of map keys and list indexes ("HealthCheck.Command", "Rules.0").
func get(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// str is get rendered canonically ("" when absent).
func str(v any, path string) string { return cfn.Scalar(get(v, path)) }
