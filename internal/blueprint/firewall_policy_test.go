package blueprint_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/awsnames"
	"github.com/acme/catalog/internal/blueprint"
)

// TestPolicyWebACLIsRegional: the stack creates its ACL in its own region, on the load
// balancer. CLOUDFRONT scope is created only in us-east-1
// (https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html, Scope), and the
// stack deploys anywhere.
func TestPolicyWebACLIsRegional(t *testing.T) {
	f := blueprint.Model().Edge.Firewall
	if f.Scope != "REGIONAL" {
		t.Errorf("web ACL scope %q, want REGIONAL", f.Scope)
	}
	if f.WebACL.When != blueprint.WithOwnWebACL || f.Association.When != blueprint.WithOwnWebACL {
		t.Errorf("the ACL exists under %q and its association under %q, want both under %q", f.WebACL.When, f.Association.When, blueprint.WithOwnWebACL)
	}
}

// TestPolicyOneWebACLPerLoadBalancer: a load balancer takes one web ACL, so a deployment never
// has an existing ACL's association and the stack's own (blueprint.Exclusive); AllChoices holds
// no such deployment, and holds every other.
func TestPolicyOneWebACLPerLoadBalancer(t *testing.T) {
	all := blueprint.AllChoices()
	// A quarter of the combinations take both web ACL options; of the rest, a quarter take an
	// existing event bus without the bus (blueprint.Requires).
	if want := 1 << len(blueprint.Options) * 3 / 4 * 3 / 4; len(all) != want {
		t.Errorf("AllChoices has %d deployments, want %d (every combination without both web ACL options, and consistent)", len(all), want)
	}
	e := blueprint.Model().Edge
	for _, c := range all {
		n := 0
		for _, r := range []blueprint.Resource{e.WebACL, e.Firewall.Association} {
			if c.Has(r.When) {
				n++
			}
		}
		if n > 1 {
			t.Errorf("%v: %d web ACL associations on the load balancer", c, n)
		}
	}
	if (blueprint.Choices{blueprint.WithWebACL: true, blueprint.WithOwnWebACL: true}).Valid() {
		t.Error("Valid() accepts an existing web ACL and the stack's own together")
	}
}

// TestPolicyWebACLWithinAWSLimits: the rate rule's limit and window are values AWS accepts
// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html:
// windows 60, 120, 300 or 600 seconds; "The lowest limit setting allowed is 10"), and the
// rules' capacity fits a web ACL's 1,500 WCUs
// (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html).
func TestPolicyWebACLWithinAWSLimits(t *testing.T) {
	f := blueprint.Model().Edge.Firewall
	if f.RateLimit < blueprint.RateLimitMin || f.RateLimit > blueprint.RateLimitMax || blueprint.RateLimitMin != 10 {
		t.Errorf("rate limit %d outside %d..%d", f.RateLimit, blueprint.RateLimitMin, blueprint.RateLimitMax)
	}
	if !slices.Contains(blueprint.RateWindows, f.RateWindowSeconds) {
		t.Errorf("rate window %d s, want one of %v", f.RateWindowSeconds, blueprint.RateWindows)
	}
	if c := f.Capacity(); c > blueprint.WebACLCapacityLimit || c < blueprint.CommonRuleSetCapacity {
		t.Errorf("web ACL capacity %d WCUs, want the common rule set's %d and at most %d", c, blueprint.CommonRuleSetCapacity, blueprint.WebACLCapacityLimit)
	}
	names, priorities := map[string]bool{}, map[int]bool{}
	for _, r := range f.Rules {
		if names[r.Name] || priorities[r.Priority] {
			t.Errorf("rule %s (priority %d): names and priorities must be unique in a web ACL", r.Name, r.Priority)
		}
		names[r.Name], priorities[r.Priority] = true, true
	}
	// The service's rate limits are finer (50/s per address by default): the WAF sheds floods
	// above them, never throttles a client the service would serve.
	if perSecond := f.RateLimit / f.RateWindowSeconds; perSecond < 50 {
		t.Errorf("the WAF limit (%d per %d s, %d/s) is below the service's own 50/s per address", f.RateLimit, f.RateWindowSeconds, perSecond)
	}
}

// TestPolicyRateRuleKeysOnAnAddressNoClientWrites: the rate rule counts per client, and a client
// cannot choose what it is counted as. Without CloudFront the load balancer sees the client:
// the source address. With CloudFront the source is CloudFront; X-Forwarded-For's first address
// is the client's own writing (WAF evaluates the first address:
// https://docs.aws.amazon.com/waf/latest/APIReference/API_ForwardedIPConfig.html), and
// CloudFront-Viewer-Address carries the source port as well, so it would count connections. The
// rule reads ViewerIPHeader, which the viewer-request function overwrites with event.viewer.ip
// in every deployment with CloudFront, and which the origin request policy forwards.
func TestPolicyRateRuleKeysOnAnAddressNoClientWrites(t *testing.T) {
	e := blueprint.Model().Edge
	f, cdn := e.Firewall, e.CDN
	for _, h := range []string{"X-Forwarded-For", "CloudFront-Viewer-Address", blueprint.OriginVerifyHeader} {
		if strings.EqualFold(f.RateKeyHeader, h) {
			t.Errorf("the rate rule keys on %s", h)
		}
	}
	if f.RateKeyHeaderWhen != blueprint.WithCloudFront || cdn.ViewerFunction.When != f.RateKeyHeaderWhen {
		t.Errorf("the rate rule reads %s under %q, the function that sets it exists under %q", f.RateKeyHeader, f.RateKeyHeaderWhen, cdn.ViewerFunction.When)
	}
	set := "request.headers['" + strings.ToLower(f.RateKeyHeader) + "'] = { value: event.viewer.ip }"
	if !strings.Contains(cdn.ViewerFunctionCode, set) {
		t.Errorf("the viewer function does not overwrite %s with the viewer's address:\n%s", f.RateKeyHeader, cdn.ViewerFunctionCode)
	}
	// AllViewerExceptHostHeader forwards every viewer header, a function's included
	// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html).
	if cdn.OriginRequestPolicyID != blueprint.ManagedOriginRequestAllViewerExceptHost {
		t.Errorf("origin request policy %s may not forward %s", cdn.OriginRequestPolicyID, f.RateKeyHeader)
	}
	if f.RateFallback != "MATCH" {
		t.Errorf("fallback %q: a request with a malformed address would never be counted", f.RateFallback)
	}
	if f.RateResponseStatus != 429 || !strings.Contains(f.RateResponseBody, `"code":"rate_limited"`) {
		t.Errorf("rate-limited answer %d %s, want 429 in the service's error shape", f.RateResponseStatus, f.RateResponseBody)
	}
}

// TestPolicyOversizeBodiesAreCountedNotBlocked: on a load balancer WAF inspects the first 8 KB
// of a body and no more
// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-oversize-request-components.html),
// and the common rule set's SizeRestrictions_BODY blocks every larger body
// (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html).
// Our write routes take larger bodies legitimately (a product with many variants, an import),
// so the rule only counts, with the reason in the model.
func TestPolicyOversizeBodiesAreCountedNotBlocked(t *testing.T) {
	m := blueprint.Model().Edge.Firewall.Managed
	if m.Vendor != "AWS" || m.Name != "AWSManagedRulesCommonRuleSet" {
		t.Errorf("managed group %s/%s, want AWS/AWSManagedRulesCommonRuleSet", m.Vendor, m.Name)
	}
	i := slices.IndexFunc(m.CountRules, func(c blueprint.CountedRule) bool { return c.Name == "SizeRestrictions_BODY" })
	if i < 0 || m.CountRules[i].Why == "" {
		t.Fatalf("SizeRestrictions_BODY is not counted with a reason: %+v", m.CountRules)
	}
	if blueprint.ALBBodyInspectionBytes != 8192 {
		t.Errorf("ALB body inspection %d bytes, AWS documents 8 KB", blueprint.ALBBodyInspectionBytes)
	}
}

// TestPolicyFirewallNames: the ACL's, the function's and every metric's name is one AWS takes,
// at the longest suffix.
func TestPolicyFirewallNames(t *testing.T) {
	e := blueprint.Model().Edge
	suffix := strings.Repeat("z", blueprint.MaxSuffixLength)
	check := func(kind awsnames.Kind, name string) {
		if err := awsnames.Check(kind, name); err != nil {
			t.Error(err)
		}
	}
	check(awsnames.WebACLName, e.Firewall.WebACL.Name(suffix))
	check(awsnames.CloudFrontFunction, e.CDN.ViewerFunction.Name(suffix))
	check(awsnames.WAFMetricName, blueprint.Expand(e.Firewall.MetricName(""), "aws", "", "", suffix))
	for _, r := range e.Firewall.Rules {
		check(awsnames.WAFMetricName, blueprint.Expand(e.Firewall.MetricName(r.Name), "aws", "", "", suffix))
	}
}

// TestPolicyFlowLogs: the flow log exists with its log group and role, on in prod and off
// elsewhere by default; the group is one the key policy lets the logs service encrypt for; the
// role is assumable only by the flow-logs service, for this account's flow logs
// (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html, confused deputy),
// and may write only to its own group.
func TestPolicyFlowLogs(t *testing.T) {
	a := blueprint.Model()
	f := a.Network.FlowLogs
	var group blueprint.LogGroup
	for _, g := range a.Observability.LogGroups {
		if g.ID == f.LogGroup {
			group = g
		}
	}
	if group.ID == "" || group.When != f.FlowLog.When || f.Role.When != f.FlowLog.When || f.Role.Policy.When != f.FlowLog.When {
		t.Fatalf("the flow log (%q), its group (%+v) and its role (%q) must exist together", f.FlowLog.When, group, f.Role.When)
	}
	conds := a.Observability.LogsKeyPolicy["Statement"].([]any)[1].(map[string]any)["Condition"].(map[string]any)["ArnEquals"].(map[string]any)["kms:EncryptionContext:aws:logs:arn"].([]any)
	if !slices.Contains(conds, any(blueprint.LogGroupARN(group.Path))) {
		t.Errorf("the key policy does not let the logs service encrypt for %s", group.Path)
	}
	st := f.Trust["Statement"].([]any)[0].(map[string]any)
	cond := st["Condition"].(map[string]any)
	if st["Principal"].(map[string]any)["Service"] != blueprint.FlowLogsPrincipal ||
		cond["StringEquals"].(map[string]any)["aws:SourceAccount"] != blueprint.PhAccount ||
		!strings.HasSuffix(cond["ArnLike"].(map[string]any)["aws:SourceArn"].(string), ":"+blueprint.PhAccount+":vpc-flow-log/*") {
		t.Errorf("flow-logs trust %v: want vpc-flow-logs.amazonaws.com with aws:SourceAccount and aws:SourceArn of this account's flow logs", st)
	}
	for _, s := range f.Role.Statements {
		for _, v := range s.Resources {
			switch {
			case v.Ref == f.LogGroup:
			case slices.Equal(s.Actions, []string{"logs:DescribeLogGroups"}) && strings.HasSuffix(v.Text, ":"+blueprint.PhAccount+":log-group:*"):
			default:
				t.Errorf("flow-logs role statement %s grants %v on %+v", s.Sid, s.Actions, v)
			}
		}
	}
	for _, e := range blueprint.Environments {
		if e.FlowLogs != (e.Name == "prod") {
			t.Errorf("environment %s: flow logs %t by default, want on in prod only", e.Name, e.FlowLogs)
		}
	}
}
