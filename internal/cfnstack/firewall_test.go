package cfnstack

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// evaluated returns a property reader of the template under parameters: the scalar at a dotted
// path of a resource's evaluated properties, or "absent" when the resource does not exist.
func evaluated(t *testing.T, tmpl *cfn.Template, params map[string]string) func(id, path string) string {
	t.Helper()
	e, err := cfn.Evaluate(tmpl, params)
	if err != nil {
		t.Fatal(err)
	}
	return func(id, path string) string {
		t.Helper()
		r, ok := tmpl.Resources[id]
		if !ok || !e.Present(r.Condition) {
			return "absent"
		}
		p, err := e.Properties(r)
		if err != nil {
			t.Fatal(err)
		}
		var v any = p
		for _, part := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[part]
			case []any:
				var i int
				fmt.Sscan(part, &i)
				if i >= len(x) {
					return "absent"
				}
				v = x[i]
			}
		}
		return cfn.Scalar(v)
	}
}

// TestDeployOneWebACLAndMigrateImageInputs: the template refuses, before any change, the stack's
// own web ACL together with an existing one (a load balancer has one), and a migrate image tag
// with a public image (the tag names an image of the stack's repository).
func TestDeployOneWebACLAndMigrateImageInputs(t *testing.T) {
	tp := underTest(t)
	acl := "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y"
	for _, c := range []struct {
		name   string
		params map[string]string
		failed []string
	}{
		{"own web ACL", map[string]string{ParamCreateWebACL: "true"}, nil},
		{"existing web ACL", map[string]string{ParamWebACLARN: acl}, nil},
		{"both", map[string]string{ParamCreateWebACL: "true", ParamWebACLARN: acl}, []string{"OwnWebAclOrExistingOne"}},
		{"migrate tag", map[string]string{ParamImageTag: "v1", ParamMigrateImageTag: "v2"}, nil},
		{"migrate tag with a public image", map[string]string{ParamContainerImage: "public.ecr.aws/acme/catalog:1", ParamMigrateImageTag: "v2"}, []string{"MigrateImageTagNeedsRepository"}},
	} {
		c.params[ParamCloudFrontPrefixListID] = testPrefixList
		var got []string
		for _, f := range failedRules(t, tp, c.params) {
			got = append(got, strings.SplitN(f, ":", 2)[0])
		}
		if !slices.Equal(got, c.failed) {
			t.Errorf("%s: failed rules %q, want %q", c.name, got, c.failed)
		}
	}
	if p := tp.Parameters[ParamWebACLRateLimit]; cfn.Scalar(p.MinValue) != "10" || cfn.Scalar(p.MaxValue) != "2000000000" {
		// https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html
		t.Errorf("WebAclRateLimit bounds %v..%v, want WAF's 10..2000000000", cfn.Scalar(p.MinValue), cfn.Scalar(p.MaxValue))
	}
}

// TestFirewallRendersTheModel: the rate rule keys on the viewer-address header CloudFront's
// function sets (with CloudFront) or the source address (without), at the parameter's limit; the
// managed group counts SizeRestrictions_BODY; the ACL is associated with the load balancer; the
// distribution runs the function on viewer requests.
func TestFirewallRendersTheModel(t *testing.T) {
	tmpl := underTest(t)
	for _, cf := range []bool{true, false} {
		params := parametersFor(blueprint.Choices{blueprint.WithOwnWebACL: true, blueprint.WithCloudFront: cf, blueprint.WithImage: true})
		params[ParamWebACLRateLimit] = "777"
		prop := evaluated(t, tmpl, params)
		rate := "Rules.0.Statement.RateBasedStatement."
		key, header, limit := prop(IDOwnWebACL, rate+"AggregateKeyType"), prop(IDOwnWebACL, rate+"ForwardedIPConfig.HeaderName"), prop(IDOwnWebACL, rate+"Limit")
		if cf && (key != "FORWARDED_IP" || header != blueprint.ViewerIPHeader) || !cf && (key != "IP" || header != "absent" && header != "") || limit != "777" {
			t.Errorf("CloudFront %t: rate rule key %s header %q limit %s", cf, key, header, limit)
		}
		if got := prop(IDOwnWebACL, "Rules.1.Statement.ManagedRuleGroupStatement.RuleActionOverrides.0.Name"); got != "SizeRestrictions_BODY" {
			t.Errorf("CloudFront %t: managed override %q", cf, got)
		}
		if got := prop(IDOwnWebACL, "Scope"); got != "REGIONAL" {
			t.Errorf("scope %s", got)
		}
		if got := prop(IDOwnWebACLAssociation, "ResourceArn"); got != "{"+IDLoadBalancer+"}" {
			t.Errorf("the ACL is associated with %s", got)
		}
		fn := prop(IDDistribution, "DistributionConfig.DefaultCacheBehavior.FunctionAssociations.0.FunctionARN")
		if cf && fn != "{"+blueprint.IDViewerFunc+".FunctionARN}" || !cf && fn != "absent" {
			t.Errorf("CloudFront %t: viewer function association %s", cf, fn)
		}
	}
	prop := evaluated(t, tmpl, parametersFor(blueprint.Choices{blueprint.WithCloudFront: true}))
	if prop(IDOwnWebACL, "Scope") != "absent" || prop(IDOwnWebACLAssociation, "ResourceArn") != "absent" {
		t.Error("the web ACL exists without CreateWebAcl")
	}
}

// TestFlowLogsFollowTheEnvironment: empty EnableFlowLogs takes the environment's default (on in
// prod only); true and false override it. The flow log writes to its group with its role.
func TestFlowLogsFollowTheEnvironment(t *testing.T) {
	tmpl := underTest(t)
	for _, c := range []struct {
		env, param string
		on         bool
	}{{"dev", "", false}, {"staging", "", false}, {"prod", "", true}, {"dev", "true", true}, {"prod", "false", false}} {
		prop := evaluated(t, tmpl, map[string]string{ParamEnvironment: c.env, ParamEnableFlowLogs: c.param, ParamCloudFrontPrefixListID: testPrefixList})
		dest := prop(blueprint.IDFlowLog, "LogDestination")
		if on := dest != "absent"; on != c.on {
			t.Errorf("%s with EnableFlowLogs=%q: flow logs %t, want %t", c.env, c.param, on, c.on)
		}
		if c.on && (dest != "{"+blueprint.IDFlowLogGroup+".Arn}" || prop(blueprint.IDFlowLog, "DeliverLogsPermissionArn") != "{"+blueprint.IDFlowLogRole+".Arn}" ||
			prop(blueprint.IDFlowLogGroup, "KmsKeyId") != "{"+blueprint.IDLogsKey+".Arn}" || prop(blueprint.IDFlowLog, "ResourceId") != "{"+IDVPC+"}") {
			t.Errorf("%s: flow log to %s with %s, group key %s", c.env, dest, prop(blueprint.IDFlowLog, "DeliverLogsPermissionArn"), prop(blueprint.IDFlowLogGroup, "KmsKeyId"))
		}
	}
}

// TestMigrateImageTag: the migrate task runs MigrateImageTag of the stack's repository when set,
// the service's image otherwise; the service's task always runs ImageTag.
func TestMigrateImageTag(t *testing.T) {
	tmpl := underTest(t)
	image := func(params map[string]string, id string) string {
		params[ParamCloudFrontPrefixListID] = testPrefixList
		return evaluated(t, tmpl, params)(id, "ContainerDefinitions.0.Image")
	}
	repo := "{" + IDRepository + ".RepositoryUri}"
	if got := image(map[string]string{ParamImageTag: "v1", ParamMigrateImageTag: "v2"}, IDMigrateTaskDefinition); got != repo+":v2" {
		t.Errorf("migrate image %s, want %s:v2", got, repo)
	}
	if got := image(map[string]string{ParamImageTag: "v1", ParamMigrateImageTag: "v2"}, IDTaskDefinition); got != repo+":v1" {
		t.Errorf("service image %s, want %s:v1", got, repo)
	}
	if got := image(map[string]string{ParamImageTag: "v1"}, IDMigrateTaskDefinition); got != repo+":v1" {
		t.Errorf("migrate image without MigrateImageTag %s, want the service's", got)
	}
	if got := image(map[string]string{ParamContainerImage: "public.ecr.aws/acme/catalog:1"}, IDMigrateTaskDefinition); got != "public.ecr.aws/acme/catalog:1" {
		t.Errorf("migrate image with ContainerImage %s", got)
	}
}
