package cfnstack

import (
	"fmt"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// The renderer's part of the edge (its policies are blueprint's edge_policy_test.go): the header
// CloudFront adds and the value the forwarding rule matches are both the generated secret, read
// by a dynamic reference when CloudFormation creates them; the rules hang off the serving
// listener; the service URL is the distribution's with CloudFront and the ALB's without.
func TestEdgeRendersTheOriginSecretAndURL(t *testing.T) {
	tmpl := underTest(t)
	want := "{{resolve:secretsmanager:{" + IDOriginSecret + "}}}"
	for _, c := range blueprint.AllChoices() {
		e, err := cfn.Evaluate(tmpl, parametersFor(c))
		if err != nil {
			t.Fatal(err)
		}
		prop := func(id, path string) string {
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
					v = x[i]
				}
			}
			return cfn.Scalar(v)
		}
		url, err := e.Value(tmpl.Outputs["ServiceUrl"].Value)
		if err != nil {
			t.Fatal(err)
		}
		serving := "{" + blueprint.Model().Edge.ServingListener(c).ID + "}"
		if got := prop(IDMetricsRefusedRule, "ListenerArn"); got != serving {
			t.Errorf("%v: the metrics rule is on %s, want the serving listener %s", c, got, serving)
		}
		if !c.Has(blueprint.WithCloudFront) {
			if prop(IDDistribution, "") != "absent" || prop(IDOriginVerifiedRule, "") != "absent" || !strings.Contains(cfn.Scalar(url), "{LoadBalancer.DNSName}") {
				t.Errorf("%v: without CloudFront: distribution %s, rule %s, URL %v", c, prop(IDDistribution, ""), prop(IDOriginVerifiedRule, ""), url)
			}
			continue
		}
		header := prop(IDDistribution, "DistributionConfig.Origins.0.OriginCustomHeaders.0.HeaderValue")
		rule := prop(IDOriginVerifiedRule, "Conditions.0.HttpHeaderConfig.Values.0")
		if header != want || rule != want {
			t.Errorf("%v: CloudFront sends %q, the rule matches %q; want both %q", c, header, rule, want)
		}
		if got := prop(IDOriginVerifiedRule, "ListenerArn"); got != serving {
			t.Errorf("%v: the origin rule is on %s, want %s", c, got, serving)
		}
		if cfn.Scalar(url) != "https://{"+IDDistribution+".DomainName}" {
			t.Errorf("%v: ServiceUrl %v, want the distribution's HTTPS URL", c, url)
		}
		domain, protocol := prop(IDDistribution, "DistributionConfig.Origins.0.DomainName"), prop(IDDistribution, "DistributionConfig.Origins.0.CustomOriginConfig.OriginProtocolPolicy")
		if c.Has(blueprint.WithCertificate) != (domain == "api.example.com" && protocol == "https-only") ||
			!c.Has(blueprint.WithCertificate) != (domain == "{LoadBalancer.DNSName}" && protocol == "http-only") {
			t.Errorf("%v: origin %s over %s", c, domain, protocol)
		}
		if got := prop(IDALBSecurityGroup, "SecurityGroupIngress.0.SourcePrefixListId"); got != testPrefixList {
			t.Errorf("%v: the ALB group admits %s, want the prefix list parameter's %s", c, got, testPrefixList)
		}
	}
}
