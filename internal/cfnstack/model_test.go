package cfnstack

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// translationOnly are the template's resources that are not resources of the model: how
// CloudFormation says something the model says otherwise (the internet gateway's VPC, a subnet's
// route table, "whichever listeners exist"). Anything else in the template must be in the model.
var translationOnly = map[string]bool{
	"AWS::EC2::VPCGatewayAttachment":           true,
	"AWS::EC2::SubnetRouteTableAssociation":    true,
	"AWS::CloudFormation::WaitConditionHandle": true,
}

// notOwnResources reports the model resources the template holds inside another resource: rules
// with an address range are inline in their group, role policies inline in their role, and the
// database secret is the cluster's.
func notOwnResources(a blueprint.Architecture) map[string]bool {
	out := map[string]bool{blueprint.IDDBSecret: true}
	for _, r := range a.Network.Rules {
		if r.PeerGroup == "" { // an address range or a prefix list
			out[r.ID] = true
		}
	}
	for _, r := range a.IAM.Roles() {
		out[r.Policy.ID] = true
	}
	out[a.Network.FlowLogs.Role.Policy.ID] = true
	out[a.SaleWarm.Role.Policy.ID] = true
	return out
}

// parametersFor returns the template parameters that take a model deployment's options.
func parametersFor(c blueprint.Choices) map[string]string {
	p := map[string]string{ParamEnvironmentSuffix: "x", ParamNATGatewayMode: blueprint.NATSingle, ParamEnableInterfaceEndpoints: "false"}
	if c.Has(blueprint.WithNATPerAZ) {
		p[ParamNATGatewayMode] = blueprint.NATPerAZ
	}
	if c.Has(blueprint.WithInterfaceEndpoints) {
		p[ParamEnableInterfaceEndpoints] = "true"
	}
	if c.Has(blueprint.WithCertificate) {
		p[ParamCertificateARN] = "arn:aws:acm:us-east-1:123456789012:certificate/x"
	}
	if c.Has(blueprint.WithWebACL) {
		p[ParamWebACLARN] = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y"
	}
	if c.Has(blueprint.WithAlertEmail) {
		p[ParamAlertEmail] = "ops@example.com"
	}
	if c.Has(blueprint.WithImage) {
		p[ParamImageTag] = "v1"
	}
	if c.Has(blueprint.WithSale) {
		p[ParamSaleStart], p[ParamSaleEnd] = "2026-12-24T08:55:00", "2026-12-24T12:00:00"
	}
	p[ParamCreateWebACL] = strconv.FormatBool(c.Has(blueprint.WithOwnWebACL))
	p[ParamEnableFlowLogs] = strconv.FormatBool(c.Has(blueprint.WithFlowLogs))
	p[ParamEventBus] = EventBusOff
	if c.Has(blueprint.WithEventBus) {
		p[ParamEventBus] = EventBusCreate
	}
	if c.Has(blueprint.WithExistingEventBus) {
		p[ParamEventBus] = testExistingBus
	}
	p[ParamEnableCloudFront] = "false"
	if c.Has(blueprint.WithCloudFront) {
		p[ParamEnableCloudFront], p[ParamCloudFrontPrefixListID], p[ParamOriginDomainName] = "true", testPrefixList, "api.example.com"
	}
	return p
}

// TestTemplateCarriesTheModel: in every combination of options, the template's resources are
// exactly the model's resources that deployment has (by logical ID = model ID), plus the
// translation-only kinds. A resource added to one and not the other fails here.
func TestTemplateCarriesTheModel(t *testing.T) {
	tmpl := underTest(t)
	a := blueprint.Model()
	skip := notOwnResources(a)
	model := map[string]blueprint.Resource{}
	for _, r := range a.Resources() {
		model[r.ID] = r
	}
	for _, c := range blueprint.AllChoices() {
		e, err := cfn.Evaluate(tmpl, parametersFor(c))
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for id, r := range model {
			if c.Has(r.When) && !skip[id] {
				want = append(want, id)
			}
		}
		for id, r := range tmpl.Resources {
			if !e.Present(r.Condition) {
				continue
			}
			if _, ok := model[id]; ok {
				got = append(got, id)
			} else if !translationOnly[r.Type] {
				t.Errorf("%v: the template has %s (%s), which is not in the model", c, id, r.Type)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%v: template resources\n got  %q\n want %q", c, got, want)
		}
	}
}

// TestEveryModelValueRenders: every value the model holds (container settings, parameters, IAM
// resources) renders to something the template can resolve: a known attribute, parameter or
// resource. An attribute or reference the renderer cannot say fails the build, not a deploy.
func TestEveryModelValueRenders(t *testing.T) {
	a := blueprint.Model()
	var values []blueprint.Value
	for _, e := range append(a.Service.Container.Environment, a.Service.Container.Secrets...) {
		values = append(values, e.Value)
	}
	for _, p := range a.Config.Parameters {
		values = append(values, p.Value)
	}
	for _, r := range a.IAM.Roles() {
		for _, s := range r.Statements {
			values = append(values, s.Resources...)
		}
	}
	tmpl, err := Build(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{m: a, t: tmpl}
	for _, v := range values {
		_ = b.value(v)
	}
	if b.err != nil {
		t.Error(b.err)
	}
	b.value(blueprint.Value{Ref: "NoSuchResource"})
	b.value(blueprint.Value{Ref: blueprint.IDDBCluster, Attr: "no-such-attribute"})
	if b.err == nil {
		t.Error("an unknown reference and attribute rendered without an error")
	}
}

// renderedTags returns a resource's tags by key, whichever form its type takes (a list of
// Key/Value, or an object for AWS::SSM::Parameter), each value as JSON.
func renderedTags(tb testing.TB, r *cfn.Resource) (map[string]string, bool) {
	tb.Helper()
	v, ok := r.Properties["Tags"]
	if !ok {
		return nil, false
	}
	js := func(x any) string {
		b, err := json.Marshal(x)
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
	out := map[string]string{}
	switch tv := v.(type) {
	case []cfn.Tag:
		for _, t := range tv {
			out[t.Key] = js(t.Value)
		}
	case []any: // the template read back from JSON
		for _, x := range tv {
			m, _ := x.(map[string]any)
			k, _ := m["Key"].(string)
			out[k] = js(m["Value"])
		}
	case map[string]any:
		for k, x := range tv {
			out[k] = js(x)
		}
	default:
		tb.Fatalf("Tags of type %T", v)
	}
	return out, true
}

// TestTemplateCarriesTheModelTags: every model resource the template holds carries the tags the
// model says (the common keys; a Name tag with the resource's own name) and no tags where the
// model says it takes none.
func TestTemplateCarriesTheModelTags(t *testing.T) {
	tmpl := underTest(t)
	a := blueprint.Model()
	for _, r := range a.Resources() {
		tr, ok := tmpl.Resources[r.ID]
		if !ok {
			continue // held inside another resource (notOwnResources)
		}
		want := a.Tags()[r.ID]
		got, has := renderedTags(t, tr)
		if has != want.Common {
			t.Errorf("%s: tagged %v, the model says %v (%s)", r.ID, has, want.Common, want.Untagged)
			continue
		}
		for _, k := range blueprint.TagKeys {
			if want.Common && got[k] == "" {
				t.Errorf("%s lacks the %s tag", r.ID, k)
			}
		}
		if want.Common && got[blueprint.TagProject] != `"`+blueprint.Project+`"` {
			t.Errorf("%s: Project tag %s", r.ID, got[blueprint.TagProject])
		}
		name, err := json.Marshal(modelName(r))
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := got[blueprint.TagName]; ok != want.Name || (ok && n != string(name)) {
			t.Errorf("%s: Name tag %q (present %v), the model says %v with %s", r.ID, n, ok, want.Name, name)
		}
	}
}

// TestTemplateCarriesTheModelOrder: the template's dependency graph (DependsOn, Ref, GetAtt,
// Sub) has no cycle and contains every order constraint of the model (whichever conditions
// hold, since the graph is built over every resource).
func TestTemplateCarriesTheModelOrder(t *testing.T) {
	deps := underTest(t).Dependencies()
	if c := deps.Cycle(); c != nil {
		t.Fatalf("dependency cycle: %s", strings.Join(c, " -> "))
	}
	order := blueprint.Model().Order()
	if len(order) == 0 {
		t.Fatal("the model states no order")
	}
	for _, w := range order {
		if _, ok := deps[w.From]; !ok {
			t.Errorf("no resource %s", w.From)
			continue
		}
		if !deps.Waits(w.From, w.To) {
			t.Errorf("%s does not wait for %s: %s", w.From, w.To, w.Why)
		}
	}
}

// TestTemplatePlacesByTheModel: the load balancer, the tasks and the database subnet group
// reference exactly their model tier's subnets, each database instance its model zone, each
// subnet its model route table and each default route its model target.
// (That the tiers are right is blueprint's TestPolicyPlacement and TestPolicyNetworkTiers.)
func TestTemplatePlacesByTheModel(t *testing.T) {
	tp := decoded(t)
	a := blueprint.Model()
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	subnets := func(tier blueprint.Tier) string {
		var out []any
		for _, id := range a.Network.SubnetIDs(tier) {
			out = append(out, refTo(id))
		}
		return js(out)
	}
	svc := tp.props(t, IDService)["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)
	for what, c := range map[string]struct {
		got  any
		tier blueprint.Tier
	}{
		"load balancer":   {tp.props(t, IDLoadBalancer)["Subnets"], a.Edge.Subnets},
		"service":         {svc["Subnets"], a.Service.Subnets},
		"db subnet group": {tp.props(t, IDDBSubnetGroup)["SubnetIds"], a.Database.Subnets},
	} {
		if js(c.got) != subnets(c.tier) {
			t.Errorf("%s subnets %s, want the %s tier %s", what, js(c.got), c.tier, subnets(c.tier))
		}
	}
	// Each subnet's association and each default route reference the model's table and target.
	for _, rt := range a.Network.RouteTables {
		for _, id := range rt.Subnets {
			if got := js(tp.props(t, id+"RouteTableAssociation")["RouteTableId"]); got != js(refTo(rt.ID)) {
				t.Errorf("%s is associated with %s, want %s", id, got, rt.ID)
			}
		}
		if rt.DefaultRoute.ID == "" {
			continue
		}
		p := tp.props(t, rt.DefaultRoute.ID)
		_, viaIGW := p["GatewayId"]
		_, viaNAT := p["NatGatewayId"]
		if js(p["RouteTableId"]) != js(refTo(rt.ID)) || viaIGW != rt.ToInternetGateway || viaNAT == rt.ToInternetGateway {
			t.Errorf("route %s: %v, want table %s to the internet gateway %v", rt.DefaultRoute.ID, p, rt.ID, rt.ToInternetGateway)
		}
	}
	// Values no model field holds yet, which parity only proves the tools agree on.
	if svc["AssignPublicIp"] != "DISABLED" {
		t.Errorf("AssignPublicIp = %v, want DISABLED", svc["AssignPublicIp"])
	}
	for _, s := range a.Network.Subnets {
		if tp.props(t, s.ID)["MapPublicIpOnLaunch"] != false {
			t.Errorf("%s maps public IPs on launch", s.ID)
		}
	}
	if _, ok := tp.props(t, IDDBCluster)["MasterUserPassword"]; ok {
		t.Error("the DB cluster carries a password; the model has RDS manage it")
	}
	for _, in := range a.Database.Instances {
		if got, want := js(tp.props(t, in.ID)["AvailabilityZone"]), js(az(in.AZ)); got != want {
			t.Errorf("%s in zone %s, want %s", in.ID, got, want)
		}
	}
}

// TestSaleActionsExactlyWithTheSale: in every deployment, the scalable target schedules the
// model's sale actions exactly when it takes a sale window (issue 19): up to SaleMinTasks at the
// start, back to the minimum at the end, the maximum unchanged.
func TestSaleActionsExactlyWithTheSale(t *testing.T) {
	tmpl := underTest(t)
	sc := blueprint.Model().Scaling
	for _, c := range blueprint.AllChoices() {
		if !c.Has(sc.Target.When) {
			continue
		}
		e, err := cfn.Evaluate(tmpl, parametersFor(c))
		if err != nil {
			t.Fatal(err)
		}
		props, err := e.Properties(tmpl.Resources[IDScalableTarget])
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		actions, _ := props["ScheduledActions"].([]any)
		for _, a := range actions {
			act := a.(map[string]any)
			ta := act["ScalableTargetAction"].(map[string]any)
			got = append(got, fmt.Sprintf("%v %v-%v", act["Schedule"], ta["MinCapacity"], ta["MaxCapacity"]))
		}
		var want []string
		if c.Has(blueprint.WithSale) {
			want = []string{fmt.Sprintf("at(2026-12-24T08:55:00) %d-%d", blueprint.SaleMinTasks, sc.Max), fmt.Sprintf("at(2026-12-24T12:00:00) %d-%d", sc.Min, sc.Max)}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%v: scheduled actions %q, want %q", c, got, want)
		}
	}
}
