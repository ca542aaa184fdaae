package infra_test

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
	"github.com/acme/catalog/internal/stacksummary"
)

// templatePath is the CloudFormation template, relative to this package.
const templatePath = "../../cloudformation/catalog.json"

// loadTemplate reads the committed template; a missing one says how to make it.
func loadTemplate(path string) (*cfn.Template, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the CloudFormation template %s does not exist: generate it from the repository root with "+
			"go run ./cmd/cfngen -o deploy/cloudformation/catalog.json (or refresh the golden file: go test ./internal/cfnstack -update)", path)
	}
	if err != nil {
		return nil, err
	}
	return cfn.Parse(b)
}

// scenarios pair a Pulumi configuration with the template parameters that mean the same.
var scenarios = []struct {
	name   string
	cfg    func() (c configT)
	params func(c configT) map[string]string
}{
	{"defaults", defaultConfig, func(c configT) map[string]string {
		return map[string]string{"EnvironmentSuffix": c.Suffix, "ImageTag": c.ImageTag, "CloudFrontPrefixListId": testPrefixList}
	}},
	{"bootstrap", func() configT { c := defaultConfig(); c.ImageTag = ""; return c }, func(c configT) map[string]string {
		return map[string]string{"EnvironmentSuffix": c.Suffix, "CloudFrontPrefixListId": testPrefixList}
	}},
	{"all-options", fullConfig, func(c configT) map[string]string {
		return map[string]string{
			"EnvironmentSuffix":         c.Suffix,
			"ImageTag":                  c.ImageTag,
			"NatGatewayMode":            c.NATMode,
			"EnableInterfaceEndpoints":  "true",
			"CertificateArn":            c.CertificateARN,
			"WebAclArn":                 c.WebACLARN,
			"AlertEmail":                c.AlertEmail,
			"SaleStart":                 c.SaleStart,
			"SaleEnd":                   c.SaleEnd,
			"SaleMinTasks":              fmt.Sprint(c.SaleMinTasks),
			"SaleMinACU":                fmt.Sprint(c.SaleMinACU),
			"EnableCloudFront":          "true",
			"CloudFrontPrefixListId":    testPrefixList,
			"OriginDomainName":          c.OriginDomain,
			"EnableFlowLogs":            "true",
			"EventBusConcurrency":       fmt.Sprint(c.EventBusConcurrency),
			"EventLagAlarmMilliseconds": fmt.Sprint(c.EventLagAlarmMs),
			"ImportParallel":            fmt.Sprint(c.ImportParallel),
		}
	}},
	{"own-web-acl", func() configT {
		c := fullConfig()
		c.WebACLARN, c.CreateWebACL, c.WebACLRateLimit = "", true, 5000
		return c
	}, templateParams},
}

// pulumiSummary runs the program under mocks and summarises what it registered.
func pulumiSummary(t *testing.T, c configT) (stacksummary.Summary, *run) {
	t.Helper()
	r := runStack(t, c)
	var resources []stacksummary.PulumiResource
	for _, x := range r.resources {
		if !x.Custom {
			continue
		}
		in := x.Inputs
		if x.Type == tTopic {
			// The mocks' ARN, so alarm actions can be matched to the topic.
			in = maps.Clone(in)
			in["arn"] = r.outputs["alarmTopicArn"]
		}
		if x.Type == tListener {
			// The mocks' ARN (arn:aws:lb:...:Listener/<name>), so rules can be matched to it.
			in = maps.Clone(in)
			in["arn"] = fmt.Sprintf("arn:aws:lb:%s:%s:Listener/%s", testRegion, testAccount, x.Name)
		}
		resources = append(resources, stacksummary.PulumiResource{Type: x.Type, ID: x.ID, Inputs: in, IgnoreChanges: x.Ignore})
	}
	s, err := stacksummary.FromPulumi(resources, c.Suffix)
	if err != nil {
		t.Fatalf("summarising the Pulumi program: %v", err)
	}
	return s, r
}

func cfnSummary(t *testing.T, tmpl *cfn.Template, params map[string]string, suffix string) stacksummary.Summary {
	t.Helper()
	e, err := cfn.Evaluate(tmpl, params)
	if err != nil {
		t.Fatalf("evaluating the template with %v: %v", params, err)
	}
	s, err := stacksummary.FromTemplate(e, suffix)
	if err != nil {
		t.Fatalf("summarising the template: %v", err)
	}
	return s
}

// TestParityWithCloudFormation holds the Pulumi program to the generated CloudFormation
// template: the same kinds and counts of resources (granularity differences and deliberate
// differences are tabled in package parity) and the same key numbers, under the defaults and
// with every option on. A missing template fails: the comparison is the point.
func TestParityWithCloudFormation(t *testing.T) {
	tmpl, err := loadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			c := sc.cfg()
			p, r := pulumiSummary(t, c)
			cf := cfnSummary(t, tmpl, sc.params(c), c.Suffix)
			t.Logf("comparison (%s):\n%s", sc.name, stacksummary.Table(p, cf))
			for _, d := range stacksummary.Compare(p, cf) {
				t.Errorf("%s", d)
			}
			// Every output the template exports has a Pulumi counterpart.
			e, err := cfn.Evaluate(tmpl, sc.params(c))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range slices.Sorted(maps.Keys(tmpl.Outputs)) {
				key := outputAliases[name]
				if key == "" {
					key = strings.ToLower(name[:1]) + name[1:]
				}
				// An output with a false condition (ServiceName in a bootstrap deploy) is absent.
				if !e.Present(tmpl.Outputs[name].Condition) {
					if _, ok := r.outputs[key]; ok {
						t.Errorf("the template has no %s in this deploy; the Pulumi stack exports %s", name, key)
					}
					continue
				}
				if _, ok := r.outputs[key]; !ok {
					t.Errorf("the template exports %s; the Pulumi stack has no output %s", name, key)
				}
			}
		})
	}
}

// outputAliases name the Pulumi output for a template output whose name differs beyond the
// first letter's case.
var outputAliases = map[string]string{
	"LoadBalancerDnsName": "albDnsName",
	"RepositoryUri":       "ecrRepositoryUri",
	"ApiKeysSecretArn":    "apiKeySecretArn",
	"DBSecretArn":         "dbSecretArn",
	"DBWriterEndpoint":    "dbWriterEndpoint",
	"DBReaderEndpoint":    "dbReaderEndpoint",
	"VPCId":               "vpcId",
	"ALBDnsName":          "albDnsName",
	"ALBDNSName":          "albDnsName",
	"ECRRepositoryUri":    "ecrRepositoryUri",
	"SNSTopicArn":         "alarmTopicArn",
	"AlarmTopicArn":       "alarmTopicArn",
	"ServiceURL":          "serviceUrl",
	"DashboardURL":        "dashboardUrl",
	"ECSClusterName":      "clusterName",
	"ECSServiceName":      "serviceName",
	"PublicSubnetIDs":     "publicSubnetIds",
	"PrivateSubnetIDs":    "privateSubnetIds",
	"IsolatedSubnetIDs":   "isolatedSubnetIds",
}

// TestParityDetectsDifferences shows the comparison can fail: a changed number or a dropped
// resource in the template each produce a difference naming it.
func TestParityDetectsDifferences(t *testing.T) {
	tmpl, err := loadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	c := defaultConfig()
	p, _ := pulumiSummary(t, c)
	params := scenarios[0].params(c)

	for _, mutation := range []struct {
		name, want string
		mutate     func(*cfn.Template)
	}{
		{"scaling max raised", "Scaling.Bounds", func(t *cfn.Template) {
			for _, r := range t.Resources {
				if r.Type == "AWS::ApplicationAutoScaling::ScalableTarget" {
					r.Properties["MaxCapacity"] = 11
				}
			}
		}},
		{"step scaling's alarm drops its policy", "Scaling.Step", func(t *cfn.Template) {
			for _, r := range t.Resources {
				if r.Type == "AWS::CloudWatch::Alarm" && r.Properties["EvaluationPeriods"] == 1.0 {
					r.Properties["AlarmActions"] = []any{}
				}
			}
		}},
		{"an alarm dropped", "Observability.Alarms", func(t *cfn.Template) {
			for id, r := range t.Resources {
				if r.Type == "AWS::CloudWatch::Alarm" {
					delete(t.Resources, id)
					return
				}
			}
		}},
		{"the API-key secret decrypts without kms:ViaService", "IAM.Permissions", func(t *cfn.Template) {
			for _, p := range t.Resources[blueprint.IDTaskRole].Properties["Policies"].([]any) {
				for _, st := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					delete(st.(map[string]any), "Condition")
				}
			}
		}},
		{"health check path changed", "Edge.HealthCheck", func(t *cfn.Template) {
			for _, r := range t.Resources {
				if r.Type == "AWS::ElasticLoadBalancingV2::TargetGroup" {
					r.Properties["HealthCheckPath"] = "/ready"
				}
			}
		}},
	} {
		t.Run(mutation.name, func(t *testing.T) {
			mutated, err := loadTemplate(templatePath) // a fresh copy to change
			if err != nil {
				t.Fatal(err)
			}
			mutation.mutate(mutated)
			diffs := stacksummary.Compare(p, cfnSummary(t, mutated, params, c.Suffix))
			found := false
			for _, d := range diffs {
				found = found || strings.Contains(d, mutation.want)
			}
			if !found {
				t.Errorf("after %s, differences = %q, want one about %s", mutation.name, diffs, mutation.want)
			}
		})
	}
	_ = tmpl
}

// templateParams are the template parameters that mean the same as a configuration.
func templateParams(c configT) map[string]string {
	p := map[string]string{
		"EnvironmentSuffix": c.Suffix, "ImageTag": c.ImageTag, "NatGatewayMode": c.NATMode,
		"EnableInterfaceEndpoints": fmt.Sprint(c.InterfaceEndpoints), "CertificateArn": c.CertificateARN,
		"WebAclArn": c.WebACLARN, "AlertEmail": c.AlertEmail,
		"SaleStart": c.SaleStart, "SaleEnd": c.SaleEnd, "SaleMinTasks": fmt.Sprint(c.SaleMinTasks), "SaleMinACU": fmt.Sprint(c.SaleMinACU),
		"EnableCloudFront": fmt.Sprint(c.CloudFront), "CloudFrontPrefixListId": testPrefixList, "OriginDomainName": c.OriginDomain,
		"CreateWebAcl": fmt.Sprint(c.CreateWebACL), "WebAclRateLimit": fmt.Sprint(c.WebACLRateLimit), "EnableFlowLogs": fmt.Sprint(c.FlowLogs),
		"MigrateImageTag": c.MigrateImageTag,
		"EventBusMode":    "off", "EventSource": c.EventSource, "EventArchiveRetentionDays": fmt.Sprint(c.EventArchiveDays),
		"EventBusConcurrency": fmt.Sprint(c.EventBusConcurrency), "EventLagAlarmMilliseconds": fmt.Sprint(c.EventLagAlarmMs),
		"ImportParallel": fmt.Sprint(c.ImportParallel),
	}
	if c.EventBus {
		p["EventBusMode"] = "create"
	}
	if c.EventBusARN != "" {
		p["EventBusMode"] = c.EventBusARN
	}
	return p
}

// TestParityInEveryDeployment: both renderings agree in every deployment of blueprint.CoveringChoices(3)
// (every case any three options can be in), not only in the three scenarios above.
func TestParityInEveryDeployment(t *testing.T) {
	tmpl, err := loadTemplate(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range blueprint.CoveringChoices(3) {
		cfg := configFor(c)
		p, _ := pulumiSummary(t, cfg)
		cf := cfnSummary(t, tmpl, templateParams(cfg), cfg.Suffix)
		for _, d := range stacksummary.Compare(p, cf) {
			t.Errorf("%v: %s", c, d)
		}
	}
}
