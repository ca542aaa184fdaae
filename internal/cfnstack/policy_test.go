package cfnstack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// tpl is the generated template decoded to plain JSON values, the form CloudFormation reads.
type tpl struct {
	Parameters map[string]map[string]any
	Mappings   map[string]any
	Conditions map[string]any
	Resources  map[string]struct {
		Type                string
		Condition           string
		DependsOn           []string
		DeletionPolicy      string
		UpdateReplacePolicy string
		Metadata            map[string]any
		Properties          map[string]any
	}
	Outputs map[string]map[string]any
}

func decoded(tb testing.TB) tpl {
	tb.Helper()
	var t tpl
	if err := json.Unmarshal(build(tb), &t); err != nil {
		tb.Fatalf("decoding the template: %v", err)
	}
	return t
}

// ofType returns the logical IDs of the resources of a type, sorted.
func (t tpl) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (t tpl) props(tb testing.TB, id string) map[string]any {
	tb.Helper()
	r, ok := t.Resources[id]
	if !ok {
		tb.Fatalf("no resource %s", id)
	}
	return r.Properties
}

// num compares a JSON number to an int.
func num(v any) string { return fmt.Sprint(v) }

func refTo(id string) any { return map[string]any{"Ref": id} }

func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

var pseudo = map[string]bool{
	cfn.AccountID: true, cfn.NoValueID: true, cfn.Partition: true, cfn.Region: true,
	cfn.StackName: true, cfn.StackID: true, cfn.URLSuffix: true, "AWS::NotificationARNs": true,
}

func TestEveryReferenceResolves(t *testing.T) {
	tp := decoded(t)
	check := func(where string, v any) {
		for _, r := range cfn.References(v) {
			_, isParam := tp.Parameters[r.Target]
			_, isRes := tp.Resources[r.Target]
			_, isCond := tp.Conditions[r.Target]
			_, isMap := tp.Mappings[r.Target]
			ok := false
			switch r.Kind {
			case "Ref":
				ok = isParam || isRes || pseudo[r.Target]
			case "Fn::Sub":
				ok = (isParam || pseudo[r.Target]) && r.Attribute == "" || isRes
			case "Fn::GetAtt":
				ok = isRes && r.Attribute != ""
			case "Fn::If", "Condition":
				ok = isCond
			case "Fn::FindInMap":
				ok = isMap
			}
			if !ok {
				t.Errorf("%s: %s to %q (attribute %q) does not resolve", where, r.Kind, r.Target, r.Attribute)
			}
		}
	}
	for id, r := range tp.Resources {
		check("resource "+id, r.Properties)
		check("resource "+id+" metadata", r.Metadata)
		for _, d := range r.DependsOn {
			if _, ok := tp.Resources[d]; !ok {
				t.Errorf("resource %s depends on missing %s", id, d)
			}
		}
		if _, ok := tp.Conditions[r.Condition]; r.Condition != "" && !ok {
			t.Errorf("resource %s has missing condition %s", id, r.Condition)
		}
	}
	for id, o := range tp.Outputs {
		check("output "+id, o)
	}
	for id, c := range tp.Conditions {
		check("condition "+id, c)
	}
}

func TestEveryParameterConditionAndMappingIsUsed(t *testing.T) {
	tp := decoded(t)
	used := map[string]bool{}
	var all []any
	for _, r := range tp.Resources {
		all = append(all, r.Properties, r.Metadata)
		used[r.Condition] = true
	}
	for _, o := range tp.Outputs {
		all = append(all, o)
		if c, ok := o["Condition"].(string); ok {
			used[c] = true
		}
	}
	for _, c := range tp.Conditions {
		all = append(all, c)
	}
	for _, r := range cfn.References(all) {
		used[r.Target] = true
	}
	for _, section := range []map[string]any{anyMap(tp.Parameters), tp.Conditions, tp.Mappings} {
		for name := range section {
			if !used[name] {
				t.Errorf("%s is never used", name)
			}
		}
	}
	for name, p := range tp.Parameters {
		if d, _ := p["Description"].(string); d == "" {
			t.Errorf("parameter %s has no description", name)
		}
		constrained := false
		for _, k := range []string{"AllowedValues", "AllowedPattern", "MinValue", "MaxValue"} {
			if _, ok := p[k]; ok {
				constrained = true
			}
		}
		if !constrained {
			t.Errorf("parameter %s has no constraint", name)
		}
	}
}

func anyMap[V any](m map[string]V) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestNothingIsRetainedOrProtected(t *testing.T) {
	tp := decoded(t)
	for id, r := range tp.Resources {
		if r.DeletionPolicy != cfn.Delete || r.UpdateReplacePolicy != cfn.Delete {
			t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q, want Delete", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
		if v, ok := r.Properties["DeletionProtection"]; ok && v != false {
			t.Errorf("%s: DeletionProtection = %v", id, v)
		}
		if v, ok := r.Properties["DeletionProtectionEnabled"]; ok && v != false {
			t.Errorf("%s: DeletionProtectionEnabled = %v", id, v)
		}
	}
	if !strings.Contains(fmt.Sprint(tp.props(t, IDLoadBalancer)["LoadBalancerAttributes"]), "deletion_protection.enabled Value:false") {
		t.Error("the load balancer must set deletion_protection.enabled to false")
	}
	if got := tp.props(t, IDRepository)["EmptyOnDelete"]; got != true {
		t.Errorf("ECR EmptyOnDelete = %v, want true", got)
	}
	for _, id := range tp.ofType("AWS::KMS::Key") {
		if got := num(tp.props(t, id)["PendingWindowInDays"]); got != "7" {
			t.Errorf("%s: PendingWindowInDays = %s, want 7", id, got)
		}
	}
	for _, id := range tp.ofType("AWS::Logs::LogGroup") {
		if !reflect.DeepEqual(tp.props(t, id)["RetentionInDays"], refTo(ParamLogRetentionDays)) {
			t.Errorf("%s: log group without the retention parameter", id)
		}
	}
}

// rule is one security group rule: group <- peer on port (ingress) or group -> peer (egress).
type rule struct {
	Dir, Group, Peer string
	Port             string
}

func (t tpl) securityGroupRules(tb testing.TB) []rule {
	tb.Helper()
	peer := func(p map[string]any, keys ...string) string {
		for _, k := range keys {
			switch v := p[k].(type) {
			case string:
				return v
			case map[string]any:
				if a, ok := v["Fn::GetAtt"].([]any); ok {
					return fmt.Sprint(a[0])
				}
				return fmt.Sprint(v)
			}
		}
		return "?"
	}
	port := func(p map[string]any) string {
		// A port that depends on an option reads "If(condition,then,else)".
		n := func(v any) string {
			if m, ok := v.(map[string]any); ok {
				f := m["Fn::If"].([]any)
				return fmt.Sprintf("If(%v,%s,%s)", f[0], num(f[1]), num(f[2]))
			}
			return num(v)
		}
		return fmt.Sprintf("%v/%s-%s", p["IpProtocol"], n(p["FromPort"]), n(p["ToPort"]))
	}
	var rules []rule
	for _, id := range t.ofType("AWS::EC2::SecurityGroup") {
		p := t.props(tb, id)
		for _, dir := range []string{"Ingress", "Egress"} {
			list, _ := p["SecurityGroup"+dir].([]any)
			for _, r := range list {
				m := r.(map[string]any)
				if f, ok := m["Fn::If"].([]any); ok { // a rule of an option: If(condition, rule, NoValue)
					m = f[1].(map[string]any)
				}
				rules = append(rules, rule{dir, id, peer(m, "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId", "DestinationPrefixListId"), port(m)})
			}
		}
	}
	for typ, dir := range map[string]string{"AWS::EC2::SecurityGroupIngress": "Ingress", "AWS::EC2::SecurityGroupEgress": "Egress"} {
		for _, id := range t.ofType(typ) {
			p := t.props(tb, id)
			group := peer(p, "GroupId")
			rules = append(rules, rule{dir, group, peer(p, "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "DestinationSecurityGroupId", "SourcePrefixListId", "DestinationPrefixListId"), port(p)})
		}
	}
	sort.Slice(rules, func(i, j int) bool { return fmt.Sprint(rules[i]) < fmt.Sprint(rules[j]) })
	return rules
}

// TestSecurityGroupChainIsExact: the template carries the model's rules and no other (the chain
// itself is a policy of the model, blueprint's TestPolicySecurityGroupChainIsExact), plus the
// placeholder that removes EC2's default egress from each group without an inline egress rule.
func TestSecurityGroupChainIsExact(t *testing.T) {
	tcp := func(p int) string { return fmt.Sprintf("tcp/%d-%d", p, p) }
	none := "icmp/252-86"
	m := blueprint.Model().Network
	var want []rule
	hasEgress := map[string]bool{}
	for _, r := range m.Rules {
		peer := r.CIDR
		if r.PeerGroup != "" {
			peer = r.PeerGroup
		}
		if r.PrefixList != "" {
			peer = fmt.Sprint(map[string]any{"Ref": ParamCloudFrontPrefixListID})
		}
		dir := map[blueprint.Direction]string{blueprint.Ingress: "Ingress", blueprint.Egress: "Egress"}[r.Direction]
		port := tcp(r.Port)
		if r.AltPortWhen != blueprint.Always {
			alt := fmt.Sprintf("If(%s,%d,%d)", optionConditions[r.AltPortWhen], r.AltPort, r.Port)
			port = "tcp/" + alt + "-" + alt
		}
		want = append(want, rule{dir, r.Group, peer, port})
		if r.Direction == blueprint.Egress && r.CIDR != "" {
			hasEgress[r.Group] = true // inline; a separate egress resource leaves EC2's default in place
		}
	}
	for _, g := range m.SecurityGroups {
		if !hasEgress[g.ID] {
			want = append(want, rule{"Egress", g.ID, "255.255.255.255/32", none})
		}
	}
	sort.Slice(want, func(i, j int) bool { return fmt.Sprint(want[i]) < fmt.Sprint(want[j]) })
	got := decoded(t).securityGroupRules(t)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("security group rules:\n got %v\nwant %v", got, want)
	}
	// Each group and rule exists under the condition of its option.
	tp := decoded(t)
	for _, r := range m.Resources() {
		if res, ok := tp.Resources[r.ID]; ok && res.Condition != optionConditions[r.When] {
			t.Errorf("%s has condition %q, want %q (option %q)", r.ID, res.Condition, optionConditions[r.When], r.When)
		}
	}
}

// TestEveryOptionHasACondition: each model option is decided by a condition the template
// declares.
func TestEveryOptionHasACondition(t *testing.T) {
	tp := decoded(t)
	for _, o := range blueprint.Options {
		c, ok := optionConditions[o]
		if !ok {
			t.Errorf("option %q has no template condition", o)
			continue
		}
		if _, ok := tp.Conditions[c]; !ok {
			t.Errorf("option %q maps to condition %s, which the template does not declare", o, c)
		}
	}
}

// nameProperties are the properties that name a resource.
var nameProperties = []string{
	"Name", "GroupName", "RoleName", "ClusterName", "ServiceName", "Family", "RepositoryName",
	"DBClusterIdentifier", "DBInstanceIdentifier", "DBSubnetGroupName", "DBClusterParameterGroupName",
	"AlarmName", "TopicName", "DashboardName", "LogGroupName", "AliasName", "PolicyName",
}

func TestEveryNameCarriesTheSuffix(t *testing.T) {
	tp := decoded(t)
	suffix := "${" + ParamEnvironmentSuffix + "}"
	checked := 0
	checkName := func(where string, v any) {
		checked++
		m, _ := v.(map[string]any)
		s, _ := m["Fn::Sub"].(string)
		if !strings.Contains(s, suffix) {
			t.Errorf("%s = %v: does not carry %s", where, v, suffix)
		}
	}
	for id, r := range tp.Resources {
		for _, k := range nameProperties {
			v, ok := r.Properties[k]
			// An endpoint's ServiceName is the AWS service it reaches and a parameter group's
			// Family the engine: not names.
			if !ok || k == "ServiceName" && r.Type == "AWS::EC2::VPCEndpoint" || k == "Family" && r.Type == "AWS::RDS::DBClusterParameterGroup" {
				continue
			}
			// A Ref names another resource of the stack, whose own name is checked there.
			if m, isMap := v.(map[string]any); isMap && m["Ref"] != nil {
				if _, isRes := tp.Resources[fmt.Sprint(m["Ref"])]; isRes {
					continue
				}
			}
			checkName(id+"."+k, v)
		}
		if pols, ok := r.Properties["Policies"].([]any); ok {
			for _, p := range pols {
				checkName(id+".Policies.PolicyName", p.(map[string]any)["PolicyName"])
			}
		}
		if tags, ok := r.Properties["Tags"].([]any); ok {
			for _, tag := range tags {
				if m := tag.(map[string]any); m["Key"] == "Name" {
					checkName(id+".Tags.Name", m["Value"])
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d names checked; the name property list is out of date", checked)
	}
	if lb := tp.Parameters[ParamEnvironmentSuffix]; lb["AllowedPattern"] != blueprint.SuffixPattern || num(lb["MaxLength"]) != fmt.Sprint(blueprint.MaxSuffixLength) {
		t.Errorf("EnvironmentSuffix constraints = %v", lb)
	}
}

// untaggable are the resource types whose CloudFormation schema has no Tags property (checked
// against cfn-lint 1.51.0's bundled us-east-1 schemas). The ones a reviewer asks about:
//   - AWS::ElasticLoadBalancingV2::Listener: no Tags property
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listener.html
//     (the ELB API tags listeners; CloudFormation does not expose it; the Pulumi stack tags them)
//   - AWS::ApplicationAutoScaling::ScalableTarget: no Tags property
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-applicationautoscaling-scalabletarget.html
//   - AWS::CloudWatch::Dashboard: no Tags property, and dashboards cannot be tagged at all
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-dashboard.html
//   - AWS::ElasticLoadBalancingV2::ListenerRule and AWS::CloudFront::CachePolicy: no Tags property
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listenerrule.html
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudfront-cachepolicy.html
//   - AWS::Scheduler::Schedule: no Tags property (schedule groups take tags, schedules do not)
//     https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-scheduler-schedule.html
var untaggable = map[string]bool{
	"AWS::EC2::VPCGatewayAttachment":              true,
	"AWS::EC2::Route":                             true,
	"AWS::EC2::SubnetRouteTableAssociation":       true,
	"AWS::EC2::SecurityGroupIngress":              true,
	"AWS::EC2::SecurityGroupEgress":               true,
	"AWS::ElasticLoadBalancingV2::Listener":       true,
	"AWS::ElasticLoadBalancingV2::ListenerRule":   true,
	"AWS::CloudFront::CachePolicy":                true,
	"AWS::WAFv2::WebACLAssociation":               true,
	"AWS::SNS::Subscription":                      true,
	"AWS::ApplicationAutoScaling::ScalableTarget": true,
	"AWS::ApplicationAutoScaling::ScalingPolicy":  true,
	"AWS::CloudWatch::Dashboard":                  true,
	"AWS::KMS::Alias":                             true,
	"AWS::CloudFormation::WaitConditionHandle":    true,
	"AWS::Events::Archive":                        true,
	"AWS::Scheduler::Schedule":                    true,
}

func TestEverythingTaggableIsTagged(t *testing.T) {
	tp := decoded(t)
	for id, r := range tp.Resources {
		if untaggable[r.Type] {
			continue
		}
		keys := map[string]bool{}
		switch tags := r.Properties["Tags"].(type) {
		case []any:
			for _, tag := range tags {
				keys[fmt.Sprint(tag.(map[string]any)["Key"])] = true
			}
		case map[string]any: // AWS::SSM::Parameter
			for k := range tags {
				keys[k] = true
			}
		}
		for _, k := range []string{blueprint.TagProject, blueprint.TagEnvironment, blueprint.TagCostCenter, blueprint.TagManagedBy} {
			if !keys[k] {
				t.Errorf("%s (%s) lacks tag %s", id, r.Type, k)
			}
		}
	}
}

// TestTemplateCarriesTheModelIAM: each role carries exactly its model statements (Sid, Allow,
// actions, and each resource the model value renders to) and no managed policy. Least privilege
// itself is blueprint's TestPolicyIAMIsLeastPrivilege; that every model value renders is
// TestEveryModelValueRenders.
func TestTemplateCarriesTheModelIAM(t *testing.T) {
	tp := decoded(t)
	a := blueprint.Model()
	tmpl, err := Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{m: a, t: tmpl}
	js := func(v any) string { out, _ := json.Marshal(v); return string(out) }
	// The sale's schedules' role too (its trust is blueprint's TestPolicySaleWarmRoleIsLeastPrivilege
	// and TestSaleWarmRendersTheModel's).
	for _, r := range append(a.IAM.Roles(), a.SaleWarm.Role) {
		p := tp.props(t, r.ID)
		if _, ok := p["ManagedPolicyArns"]; ok {
			t.Errorf("%s attaches managed policies; grant named actions on named resources instead", r.ID)
		}
		statement := func(st blueprint.Statement) map[string]any {
			var resources []any
			for _, v := range st.Resources {
				resources = append(resources, b.value(v))
			}
			w := map[string]any{"Sid": st.Sid, "Effect": "Allow", "Action": st.Actions, "Resource": resources}
			if st.Condition != nil {
				w["Condition"] = expand(st.Condition)
			}
			return w
		}
		var want []any
		for _, st := range r.Statements {
			want = append(want, statement(st))
		}
		for _, o := range r.OptionalStatements {
			want = append(want, cfn.If(b.condition(o.When), statement(o.Statement), cfn.NoValue()))
		}
		pols, _ := p["Policies"].([]any)
		if len(pols) != 1 {
			t.Fatalf("%s has %d inline policies, want 1", r.ID, len(pols))
		}
		got := pols[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"]
		if js(got) != js(want) {
			t.Errorf("%s statements\n got  %s\n want %s", r.ID, js(got), js(want))
		}
	}
	if b.err != nil {
		t.Error(b.err)
	}
}

// TestAlarmTopicUsesStackKey: CloudWatch cannot publish alarms to a topic encrypted with the
// AWS-managed SNS key, so the topic uses the stack's key and its policy lets CloudWatch in.
func TestAlarmTopicUsesStackKey(t *testing.T) {
	tp := decoded(t)
	topic := tp.props(t, IDAlarmTopic)
	if ref, _ := topic["KmsMasterKeyId"].(map[string]any); ref["Ref"] != IDLogsKey {
		t.Fatalf("alarm topic key: %v", topic["KmsMasterKeyId"])
	}
	policy, _ := json.Marshal(tp.props(t, IDLogsKey)["KeyPolicy"])
	if !strings.Contains(string(policy), `"Service":"cloudwatch.amazonaws.com"`) {
		t.Fatalf("the key policy does not let CloudWatch publish to the topic: %s", policy)
	}
}

// TestAPIKeySecretUsesStackKey: the API-key and origin secrets are encrypted with the stack's
// key (blueprint's TestPolicyAPIKeySecretUsesTheStackKey), rendered as its ARN.
func TestAPIKeySecretUsesStackKey(t *testing.T) {
	for _, id := range []string{IDAPIKeySecret, IDOriginSecret} {
		secret := decoded(t).props(t, id)
		if !reflect.DeepEqual(secret["KmsKeyId"], getAtt(IDLogsKey, "Arn")) {
			t.Errorf("%s key: %v, want the stack's key", id, secret["KmsKeyId"])
		}
	}
}
