package cfnstack

// Rules a deploy enforces and no schema knows: the names each AWS API accepts, the order
// resources must be created in, the bootstrap deploy without an image, and the parameter rules
// that must refuse a bad combination before anything is created. Run them against another
// template (an older commit's, say) with: go test ./internal/cfnstack -run Deploy -template=FILE

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/awsnames"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

var templateFile = flag.String("template", "", "check this template file instead of the builder's output (deploy tests only)")

// underTest is the template the deploy tests check: the builder's, or -template's.
func underTest(tb testing.TB) *cfn.Template {
	tb.Helper()
	b := build(tb)
	if *templateFile != "" {
		var err error
		if b, err = os.ReadFile(*templateFile); err != nil {
			tb.Fatal(err)
		}
	}
	var t cfn.Template
	if err := json.Unmarshal(b, &t); err != nil {
		tb.Fatalf("decoding the template: %v", err)
	}
	return &t
}

// testSuffixes are the suffixes the naming rules are checked with: the shortest, typical ones,
// six characters (the shape Secrets Manager reserves) and the longest the pattern allows.
var testSuffixes = []string{"a", "dev", "pr-12", "zq9abc", strings.Repeat("z", blueprint.MaxSuffixLength), "a1-b2-c3-d4-e5-f6"[:blueprint.MaxSuffixLength]}

// namedProperties are, per resource type, the properties that hold a name AWS checks, and the
// rules that apply. A name-like property (…Name, …Identifier, Family) of a type not listed
// fails TestDeployNamesFollowAWSRules: classify it.
var namedProperties = map[string]map[string]awsnames.Kind{
	"AWS::WAFv2::WebACL":                         {"Name": awsnames.WebACLName},
	"AWS::CloudFront::Function":                  {"Name": awsnames.CloudFrontFunction},
	"AWS::EC2::SecurityGroup":                    {"GroupName": awsnames.SecurityGroupName},
	"AWS::RDS::DBCluster":                        {"DBClusterIdentifier": awsnames.DBClusterIdentifier},
	"AWS::RDS::DBInstance":                       {"DBInstanceIdentifier": awsnames.DBInstanceIdentifier},
	"AWS::RDS::DBSubnetGroup":                    {"DBSubnetGroupName": awsnames.DBSubnetGroupName},
	"AWS::RDS::DBClusterParameterGroup":          {"DBClusterParameterGroupName": awsnames.DBParameterGroupName},
	"AWS::ElasticLoadBalancingV2::LoadBalancer":  {"Name": awsnames.LoadBalancerName},
	"AWS::ElasticLoadBalancingV2::TargetGroup":   {"Name": awsnames.TargetGroupName},
	"AWS::ECR::Repository":                       {"RepositoryName": awsnames.ECRRepositoryName},
	"AWS::IAM::Role":                             {"RoleName": awsnames.IAMRoleName, "Path": awsnames.IAMPath},
	"AWS::KMS::Alias":                            {"AliasName": awsnames.KMSAliasName},
	"AWS::SSM::Parameter":                        {"Name": awsnames.SSMParameterName},
	"AWS::Logs::LogGroup":                        {"LogGroupName": awsnames.LogGroupName},
	"AWS::SecretsManager::Secret":                {"Name": awsnames.SecretName},
	"AWS::ECS::Cluster":                          {"ClusterName": awsnames.ECSClusterName},
	"AWS::ECS::Service":                          {"ServiceName": awsnames.ECSServiceName},
	"AWS::ECS::TaskDefinition":                   {"Family": awsnames.ECSTaskFamily},
	"AWS::SNS::Topic":                            {"TopicName": awsnames.SNSTopicName},
	"AWS::CloudWatch::Alarm":                     {"AlarmName": awsnames.AlarmName},
	"AWS::CloudWatch::Dashboard":                 {"DashboardName": awsnames.DashboardName},
	"AWS::ApplicationAutoScaling::ScalingPolicy": {"PolicyName": awsnames.ScalingPolicyName},
	"AWS::Events::EventBus":                      {"Name": awsnames.EventBusName},
	"AWS::Events::Archive":                       {"ArchiveName": awsnames.EventArchiveName},
	"AWS::Scheduler::Schedule":                   {"Name": awsnames.SchedulerScheduleName},
}

// notNames are name-like properties that name something else: the AWS service an endpoint
// reaches, the engine family, a referenced resource.
var notNames = map[string]bool{
	"AWS::EC2::VPCEndpoint.ServiceName": true, "AWS::RDS::DBClusterParameterGroup.Family": true,
	"AWS::RDS::DBCluster.DBSubnetGroupName": true, "AWS::RDS::DBCluster.DBClusterParameterGroupName": true,
	"AWS::RDS::DBCluster.DatabaseName": true, "AWS::RDS::DBInstance.DBClusterIdentifier": true,
	"AWS::SNS::Topic.DisplayName": true, "AWS::CloudWatch::Alarm.MetricName": true,
	"AWS::Events::EventBus.KmsKeyIdentifier": true, "AWS::Events::Archive.KmsKeyIdentifier": true,
}

var nameLike = regexp.MustCompile(`(Name|Identifier|^Family)$`)

// physical evaluates a name: a string, or a Fn::Sub of the suffix and pseudo parameters.
func physical(v any, suffix string) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case map[string]any:
		text, ok := x["Fn::Sub"].(string)
		if !ok {
			return "", false
		}
		r := strings.NewReplacer("${"+ParamEnvironmentSuffix+"}", suffix, "${AWS::Region}", "us-east-1",
			"${AWS::AccountId}", "123456789012", "${AWS::Partition}", "aws", "${AWS::StackName}", "catalog-"+suffix)
		out := r.Replace(text)
		return out, !strings.Contains(out, "${")
	}
	return "", false
}

func TestDeployNamesFollowAWSRules(t *testing.T) {
	tp := underTest(t)
	for _, env := range blueprint.Environments {
		for _, suffix := range testSuffixes {
			if err := blueprint.ValidateSuffix(suffix); err != nil {
				t.Fatalf("test suffix: %v", err)
			}
			checked := 0
			check := func(id, prop string, kind awsnames.Kind, v any) {
				name, ok := physical(v, suffix)
				if !ok {
					if m, isMap := v.(map[string]any); isMap && (m["Ref"] != nil || m["Fn::GetAtt"] != nil) {
						return // names another resource, checked there
					}
					t.Errorf("%s.%s = %v: cannot evaluate the name offline", id, prop, v)
					return
				}
				checked++
				if err := awsnames.Check(kind, name); err != nil {
					t.Errorf("environment %s, suffix %q: %s.%s: %v", env.Name, suffix, id, prop, err)
				}
			}
			for _, id := range tp.ResourceIDs() {
				r := tp.Resources[id]
				for prop, v := range r.Properties {
					kind, known := namedProperties[r.Type][prop]
					if !known {
						if nameLike.MatchString(prop) && !notNames[r.Type+"."+prop] {
							t.Errorf("%s (%s) has name-like property %s without naming rules: add it to namedProperties or notNames", id, r.Type, prop)
						}
						continue
					}
					check(id, prop, kind, v)
				}
				if pols, ok := r.Properties["Policies"].([]any); ok {
					for _, p := range pols {
						check(id, "Policies.PolicyName", awsnames.IAMPolicyName, p.(map[string]any)["PolicyName"])
					}
				}
				// A security group without GroupName gets one from CloudFormation; its Name tag is
				// the convention name and must be one EC2 would accept too.
				if r.Type == "AWS::EC2::SecurityGroup" {
					for _, tag := range asList(r.Properties["Tags"]) {
						if m := tag.(map[string]any); m["Key"] == "Name" {
							check(id, "Tags.Name", awsnames.SecurityGroupName, m["Value"])
						}
					}
				}
			}
			if checked < 30 {
				t.Errorf("suffix %q: only %d names checked", suffix, checked)
			}
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

// conditions decides every condition of the template for the given parameter values (defaults
// for the rest).
func conditions(tb testing.TB, tp *cfn.Template, params map[string]string) map[string]bool {
	tb.Helper()
	values := map[string]string{}
	for name, p := range tp.Parameters {
		if p.Default != nil {
			values[name] = fmt.Sprint(p.Default)
		}
	}
	for k, v := range params {
		values[k] = v
	}
	out := map[string]bool{}
	var eval func(v any) bool
	value := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			if r, ok := x["Ref"].(string); ok {
				return values[r]
			}
		}
		tb.Fatalf("cannot evaluate %v in a condition", v)
		return ""
	}
	eval = func(v any) bool {
		m, _ := v.(map[string]any)
		for k, arg := range m {
			l, _ := arg.([]any)
			switch k {
			case "Fn::Equals":
				return value(l[0]) == value(l[1])
			case "Fn::Not":
				return !eval(l[0])
			case "Fn::And":
				for _, c := range l {
					if !eval(c) {
						return false
					}
				}
				return true
			case "Fn::Or":
				for _, c := range l {
					if eval(c) {
						return true
					}
				}
				return false
			case "Condition":
				return eval(tp.Conditions[arg.(string)])
			}
		}
		tb.Fatalf("cannot evaluate condition %v", v)
		return false
	}
	for name, c := range tp.Conditions {
		out[name] = eval(c)
	}
	return out
}

// chosen replaces every Fn::If by the branch the conditions choose.
func chosen(v any, conds map[string]bool) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = chosen(e, conds)
		}
		return out
	case map[string]any:
		if a, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(a) == 3 {
			if conds[a[0].(string)] {
				return chosen(a[1], conds)
			}
			return chosen(a[2], conds)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = chosen(e, conds)
		}
		return out
	}
	return v
}

// TestDeployBootstrapWithoutImage: with no image (ImageTag and ContainerImage empty, the
// defaults) the stack makes everything a first image push needs, and nothing that needs the
// image; every remaining reference resolves. With a tag, the service and its scaling appear.
func TestDeployBootstrapWithoutImage(t *testing.T) {
	tp := underTest(t)
	for _, p := range []string{ParamImageTag, ParamContainerImage} {
		if d := tp.Parameters[p]; d == nil || d.Default != "" {
			t.Errorf("parameter %s must default to \"\" (bootstrap deploy), is %+v", p, d)
		}
	}
	imageTypes := []string{"AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy"}
	bootstrapTypes := []string{"AWS::EC2::VPC", "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::ECR::Repository",
		"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::Listener", "AWS::ElasticLoadBalancingV2::TargetGroup",
		"AWS::SecretsManager::Secret", "AWS::SSM::Parameter", "AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::SNS::Topic", "AWS::ECS::Cluster", "AWS::CloudWatch::Dashboard"}
	bootstrapOutputs := []string{"RepositoryUri", "ServiceUrl", "ApiKeySecretArn", "ClusterName", "DashboardUrl"}
	for _, sc := range []struct {
		name      string
		params    map[string]string
		withImage bool
	}{
		{"bootstrap", map[string]string{ParamEnvironmentSuffix: "dev"}, false},
		{"image-tag", map[string]string{ParamEnvironmentSuffix: "dev", ParamImageTag: "1.0.0"}, true},
		{"container-image", map[string]string{ParamEnvironmentSuffix: "dev", ParamContainerImage: "public.ecr.aws/acme/catalog:1.0.0"}, true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			conds := conditions(t, tp, sc.params)
			present := map[string]bool{}
			types := map[string]bool{}
			for id, r := range tp.Resources {
				if r.Condition == "" || conds[r.Condition] {
					present[id] = true
					types[r.Type] = true
				}
			}
			for _, typ := range imageTypes {
				if types[typ] != sc.withImage {
					t.Errorf("%s present = %v, want %v", typ, types[typ], sc.withImage)
				}
			}
			for _, typ := range bootstrapTypes {
				if !types[typ] {
					t.Errorf("no %s", typ)
				}
			}
			// Nothing present may refer to a resource that is not.
			for id := range present {
				r := tp.Resources[id]
				for _, ref := range cfn.References(chosen(map[string]any{"p": r.Properties, "m": r.Metadata, "d": r.DependsOn}, conds)) {
					if _, isRes := tp.Resources[ref.Target]; isRes && !present[ref.Target] {
						t.Errorf("%s refers to %s, which this deploy does not create", id, ref.Target)
					}
				}
				for _, d := range r.DependsOn {
					if !present[d] {
						t.Errorf("%s DependsOn %s, which this deploy does not create", id, d)
					}
				}
			}
			for name, o := range tp.Outputs {
				if o.Condition != "" && !conds[o.Condition] {
					continue
				}
				for _, ref := range cfn.References(chosen(o.Value, conds)) {
					if _, isRes := tp.Resources[ref.Target]; isRes && !present[ref.Target] {
						t.Errorf("output %s refers to %s, which this deploy does not create", name, ref.Target)
					}
				}
			}
			for _, name := range bootstrapOutputs {
				if o := tp.Outputs[name]; o == nil || o.Condition != "" && !conds[o.Condition] {
					t.Errorf("output %s missing", name)
				}
			}
			if o := tp.Outputs["ServiceName"]; o == nil || (o.Condition == "" || conds[o.Condition]) != sc.withImage {
				t.Errorf("output ServiceName present must be %v", sc.withImage)
			}
		})
	}
}

// TestDeployCapacityRulesRefuseMinAboveMax evaluates the template's rules for every capacity
// pair and environment: they must accept exactly the pairs whose effective minimum (0 meaning
// the environment's) is at most the effective maximum.
func TestDeployCapacityRulesRefuseMinAboveMax(t *testing.T) {
	tp := underTest(t)
	if len(tp.Rules) == 0 {
		t.Fatal("the template has no Rules: capacity bounds are checked only when RDS refuses them, after the network exists")
	}
	values := []string{"0"}
	for _, v := range blueprint.ACUChoices {
		values = append(values, acuString(v))
	}
	if got := tp.Parameters[ParamDBMinCapacity].AllowedValues; !slices.Equal(got, values) {
		t.Errorf("DBMinCapacity AllowedValues = %v, want %v", got, values)
	}
	for _, env := range blueprint.Environments {
		for _, min := range values {
			for _, max := range values {
				params := map[string]string{ParamEnvironment: env.Name, ParamDBMinCapacity: min, ParamDBMaxCapacity: max, ParamCloudFrontPrefixListID: testPrefixList}
				effMin, effMax := parseACU(min, env.MinACU), parseACU(max, env.MaxACU)
				failed := failedRules(t, tp, params)
				if ok := effMin <= effMax; ok != (len(failed) == 0) {
					t.Errorf("environment %s, min %s, max %s: failed rules %v, want accepted = %v", env.Name, min, max, failed, ok)
				}
			}
		}
	}
}

func parseACU(s string, def float64) float64 {
	var f float64
	fmt.Sscan(s, &f)
	if f == 0 {
		return def
	}
	return f
}

// failedRules evaluates the template's rules (the functions they use here: Fn::Equals, Fn::And,
// Fn::Contains, Ref) and returns the descriptions of the failed assertions.
func failedRules(tb testing.TB, tp *cfn.Template, params map[string]string) []string {
	tb.Helper()
	var eval func(v any) any
	eval = func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		for k, arg := range m {
			l, _ := arg.([]any)
			switch k {
			case "Ref":
				if p, ok := params[arg.(string)]; ok {
					return p
				}
				return fmt.Sprint(tp.Parameters[arg.(string)].Default)
			case "Fn::Equals":
				return eval(l[0]) == eval(l[1])
			case "Fn::Not":
				return eval(l[0]) != true
			case "Fn::And":
				for _, c := range l {
					if eval(c) != true {
						return false
					}
				}
				return true
			case "Fn::Or":
				for _, c := range l {
					if eval(c) == true {
						return true
					}
				}
				return false
			case "Fn::Contains":
				x := eval(l[1])
				for _, e := range l[0].([]any) {
					if e == x {
						return true
					}
				}
				return false
			}
		}
		tb.Fatalf("cannot evaluate rule function %v", v)
		return nil
	}
	var failed []string
	for _, id := range slices.Sorted(mapsKeys(tp.Rules)) {
		r := tp.Rules[id]
		if r.RuleCondition != nil && eval(r.RuleCondition) != true {
			continue
		}
		for _, a := range r.Assertions {
			if eval(a.Assert) != true {
				failed = append(failed, id+": "+a.AssertDescription)
			}
		}
	}
	return failed
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDeployZonesFromParameterOrGetAZs: every availability zone in the template (subnets and
// database instances) is the AvailabilityZones parameter's when it is set, and Fn::GetAZs'
// (zones with a default subnet, never a Local Zone) otherwise; the writer and reader differ.
func TestDeployZonesFromParameterOrGetAZs(t *testing.T) {
	tp := underTest(t)
	for _, sc := range []struct {
		name  string
		param string
		want  func(i int) any
	}{
		{"default", "", func(i int) any {
			return map[string]any{"Fn::Select": []any{float64(i), map[string]any{"Fn::GetAZs": ""}}}
		}},
		{"given", "us-east-1a,us-east-1b,us-east-1c", func(i int) any {
			return map[string]any{"Fn::Select": []any{float64(i), map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": ParamAvailabilityZones}}}}}
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			conds := conditions(t, tp, map[string]string{ParamEnvironmentSuffix: "dev", ParamAvailabilityZones: sc.param})
			seen := 0
			for _, id := range tp.ResourceIDs() {
				r := tp.Resources[id]
				v, ok := r.Properties["AvailabilityZone"]
				if !ok {
					continue
				}
				seen++
				got, _ := json.Marshal(chosen(v, conds))
				matched := false
				for i := range blueprint.AZCount {
					w, _ := json.Marshal(sc.want(i))
					if string(got) == string(w) {
						matched = true
					}
				}
				if !matched {
					t.Errorf("%s AvailabilityZone = %s, want a zone from %s", id, got, map[bool]string{true: "Fn::GetAZs", false: "the AvailabilityZones parameter"}[sc.param == ""])
				}
			}
			if seen != 3*blueprint.AZCount+2 {
				t.Errorf("%d resources with an AvailabilityZone, want %d (9 subnets, 2 instances)", seen, 3*blueprint.AZCount+2)
			}
			w, r := tp.Resources[IDDBWriter].Properties["AvailabilityZone"], tp.Resources[IDDBReader].Properties["AvailabilityZone"]
			if a, b := fmt.Sprint(chosen(w, conds)), fmt.Sprint(chosen(r, conds)); a == b {
				t.Errorf("writer and reader share the zone %s", a)
			}
		})
	}
	if p := tp.Parameters[ParamAvailabilityZones]; p == nil || !regexp.MustCompile(p.AllowedPattern).MatchString("us-east-1a,us-east-1b,us-east-1c") ||
		regexp.MustCompile(p.AllowedPattern).MatchString("us-east-1a,us-east-1b") {
		t.Errorf("AvailabilityZones must accept exactly three zone names: %+v", p)
	}
}

// TestDeployReplaceableWithoutFixedNames: resources whose ordinary changes replace them (a
// security group's description, a target group's port) have no fixed name, because
// CloudFormation cannot replace a custom-named resource; their Name tag carries the convention.
func TestDeployReplaceableWithoutFixedNames(t *testing.T) {
	tp := underTest(t)
	for typ, prop := range map[string]string{"AWS::EC2::SecurityGroup": "GroupName", "AWS::ElasticLoadBalancingV2::TargetGroup": "Name"} {
		for _, id := range tp.ResourceIDs() {
			r := tp.Resources[id]
			if r.Type != typ {
				continue
			}
			if v, ok := r.Properties[prop]; ok {
				t.Errorf("%s.%s = %v: a fixed name blocks replacement", id, prop, v)
			}
			named := false
			for _, tag := range asList(r.Properties["Tags"]) {
				named = named || tag.(map[string]any)["Key"] == "Name"
			}
			if !named {
				t.Errorf("%s has no Name tag", id)
			}
		}
	}
}

// TestDeploySaleWindowNeedsBothEnds: a sale's start without its end would raise the minimum for
// good, an end alone schedules nothing useful; the template refuses both before any change.
func TestDeploySaleWindowNeedsBothEnds(t *testing.T) {
	tp := underTest(t)
	for _, c := range []struct {
		start, end string
		refused    bool
	}{{"", "", false}, {"2026-12-24T08:55:00", "2026-12-24T12:00:00", false}, {"2026-12-24T08:55:00", "", true}, {"", "2026-12-24T12:00:00", true}} {
		failed := failedRules(t, tp, map[string]string{ParamSaleStart: c.start, ParamSaleEnd: c.end, ParamCloudFrontPrefixListID: testPrefixList})
		if got := slices.ContainsFunc(failed, func(f string) bool { return strings.Contains(f, "SaleStart and SaleEnd") }); got != c.refused {
			t.Errorf("start %q end %q: refused %t, want %t (%v)", c.start, c.end, got, c.refused, failed)
		}
	}
	re := regexp.MustCompile(SaleTimePattern)
	for v, ok := range map[string]bool{"": true, "2026-12-24T08:55:00": true, "2026-12-24 08:55": false, "at(2026-12-24T08:55:00)": false, "2026-12-24T08:55:00Z": false} {
		if re.MatchString(v) != ok || (tp.Parameters[ParamSaleStart].AllowedPattern != SaleTimePattern) {
			t.Errorf("sale time %q: accepted %t, want %t", v, re.MatchString(v), ok)
		}
	}
}

// testPrefixList stands for the CloudFront prefix list's ID the deploy script resolves.
const testPrefixList = "pl-3b927c52"

// TestDeployCloudFrontNeedsItsInputs: with CloudFront (the default) the template refuses to
// start without the prefix list's ID (CloudFormation cannot look it up by name), and with a
// certificate also without the origin domain the certificate covers; without CloudFront neither
// is needed.
func TestDeployCloudFrontNeedsItsInputs(t *testing.T) {
	tp := underTest(t)
	cert := "arn:aws:acm:us-east-1:123456789012:certificate/x"
	for _, c := range []struct {
		name   string
		params map[string]string
		failed []string
	}{
		{"default without prefix list", map[string]string{}, []string{"CloudFrontNeedsPrefixList"}},
		{"default with prefix list", map[string]string{ParamCloudFrontPrefixListID: testPrefixList}, nil},
		{"certificate without origin domain", map[string]string{ParamCloudFrontPrefixListID: testPrefixList, ParamCertificateARN: cert}, []string{"CloudFrontOverHTTPSNeedsOriginDomain"}},
		{"certificate with origin domain", map[string]string{ParamCloudFrontPrefixListID: testPrefixList, ParamCertificateARN: cert, ParamOriginDomainName: "api.example.com"}, nil},
		{"off", map[string]string{ParamEnableCloudFront: "false", ParamCertificateARN: cert}, nil},
	} {
		var got []string
		for _, f := range failedRules(t, tp, c.params) {
			got = append(got, strings.SplitN(f, ":", 2)[0])
		}
		if !slices.Equal(got, c.failed) {
			t.Errorf("%s: failed rules %q, want %q", c.name, got, c.failed)
		}
	}
}
