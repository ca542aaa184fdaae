package blueprint_test

// The policy suite: the architecture's rules, written once against the model. Each renderer's
// tests only check that its output carries what the model says (cfnstack's and
// deploy/pulumi/infra's model tests).

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/awsnames"
	"github.com/acme/catalog/internal/blueprint"
)

// eachDeployment runs a policy under every combination of the options.
func eachDeployment(t *testing.T, policy func(t *testing.T, a blueprint.Architecture, c blueprint.Choices)) {
	t.Helper()
	a := blueprint.Model()
	for _, c := range blueprint.AllChoices() {
		t.Run(choiceName(c), func(t *testing.T) { policy(t, a, c) })
	}
}

func choiceName(c blueprint.Choices) string {
	var on []string
	for _, o := range blueprint.Options {
		if c[o] {
			on = append(on, string(o))
		}
	}
	if len(on) == 0 {
		return "no-options"
	}
	return strings.Join(on, "+")
}

// The security-group chain, exactly: internet -> load balancer (80, 443) -> tasks (AppPort) ->
// database (DBPort), tasks -> AWS APIs over HTTPS, and with interface endpoints tasks ->
// endpoints (443). Nothing else.
func TestPolicySecurityGroupChainIsExact(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		n := a.Network
		var got []string
		for _, r := range n.PresentRules(c) {
			peer := r.CIDR
			if r.PeerGroup != "" {
				g, ok := n.SecurityGroup(r.PeerGroup)
				if !ok || !c.Has(g.When) {
					t.Errorf("rule %s refers to group %s, which this deployment lacks", r.ID, r.PeerGroup)
				}
				peer = g.Purpose
			}
			g, ok := n.SecurityGroup(r.Group)
			if !ok || !c.Has(g.When) {
				t.Errorf("rule %s belongs to group %s, which this deployment lacks", r.ID, r.Group)
			}
			got = append(got, fmt.Sprintf("%s %s tcp/%d %s", g.Purpose, r.Direction, r.Port, peer))
		}
		want := []string{
			"alb ingress tcp/80 0.0.0.0/0",
			"alb ingress tcp/443 0.0.0.0/0",
			fmt.Sprintf("alb egress tcp/%d tasks", blueprint.AppPort),
			fmt.Sprintf("tasks ingress tcp/%d alb", blueprint.AppPort),
			"tasks egress tcp/443 0.0.0.0/0",
			fmt.Sprintf("tasks egress tcp/%d db", blueprint.DBPort),
			fmt.Sprintf("db ingress tcp/%d tasks", blueprint.DBPort),
		}
		if c.Has(blueprint.WithInterfaceEndpoints) {
			want = append(want, "endpoints ingress tcp/443 tasks")
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("security-group rules:\n got  %q\n want %q", got, want)
		}
		// The only rules from anywhere are to the load balancer; the only rules to anywhere
		// leave the tasks over HTTPS.
		for _, r := range n.PresentRules(c) {
			if r.CIDR == "" {
				continue
			}
			if r.Direction == blueprint.Ingress && r.Group != blueprint.SGLoadBalancer {
				t.Errorf("rule %s lets %s into %s; only the load balancer is open to an address range", r.ID, r.CIDR, r.Group)
			}
			if r.Direction == blueprint.Egress && (r.Group != blueprint.SGTasks || r.Port != blueprint.HTTPSPort) {
				t.Errorf("rule %s sends %s to %s; only the tasks reach out, over HTTPS", r.ID, r.Group, r.CIDR)
			}
		}
	})
}

// Tiers: public subnets route to the internet gateway, private ones only through a NAT gateway
// that exists in the deployment, isolated ones nowhere; NAT gateways sit in public subnets.
func TestPolicyNetworkTiers(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		n := a.Network
		nats := n.PresentNATGateways(c)
		wantNATs := 1
		if c.Has(blueprint.WithNATPerAZ) {
			wantNATs = blueprint.AZCount
		}
		if len(nats) != wantNATs {
			t.Errorf("%d NAT gateways, want %d", len(nats), wantNATs)
		}
		for _, g := range nats {
			if s, ok := n.Subnet(g.Subnet); !ok || s.Tier != blueprint.TierPublic {
				t.Errorf("NAT gateway %s is in %s, want a public subnet", g.ID, g.Subnet)
			}
			if g.EIP.When != g.When {
				t.Errorf("NAT gateway %s and its address %s exist under different options", g.ID, g.EIP.ID)
			}
		}
		associated := map[string]int{}
		for _, rt := range n.RouteTables {
			for _, id := range rt.Subnets {
				associated[id]++
				if s, _ := n.Subnet(id); s.Tier != rt.Tier {
					t.Errorf("route table %s (%s) holds %s subnet %s", rt.ID, rt.Tier, s.Tier, id)
				}
			}
			switch rt.Tier {
			case blueprint.TierPublic:
				if !rt.ToInternetGateway || rt.DefaultRoute.ID == "" {
					t.Errorf("public route table %s has no route to the internet gateway", rt.ID)
				}
			case blueprint.TierPrivate:
				if rt.ToInternetGateway || rt.DefaultRoute.ID == "" {
					t.Errorf("private route table %s must route out through NAT only", rt.ID)
				}
				if g := n.RouteNAT(rt, c); !c.Has(g.When) {
					t.Errorf("private route table %s routes to NAT gateway %s, absent in this deployment", rt.ID, g.ID)
				}
			case blueprint.TierIsolated:
				if rt.ToInternetGateway || rt.DefaultRoute.ID != "" {
					t.Errorf("isolated route table %s has a route out", rt.ID)
				}
			}
		}
		for _, s := range n.Subnets {
			if associated[s.ID] != 1 {
				t.Errorf("subnet %s is in %d route tables, want 1", s.ID, associated[s.ID])
			}
		}
		// Per-AZ NAT: each private table uses its own zone's gateway, so an AZ outage leaves
		// the others routing.
		if c.Has(blueprint.WithNATPerAZ) {
			for _, rt := range n.RouteTables {
				if rt.Tier != blueprint.TierPrivate {
					continue
				}
				s, _ := n.Subnet(rt.Subnets[0])
				nat, _ := n.Subnet(n.RouteNAT(rt, c).Subnet)
				if s.AZ != nat.AZ {
					t.Errorf("route table %s (AZ %d) uses the NAT gateway in AZ %d", rt.ID, s.AZ, nat.AZ)
				}
			}
		}
	})
}

// Every resource has a unique ID and a unique name, and AWS accepts the name for the longest
// and the shortest suffix (awsnames cites the rules). Security groups' names are checked as
// group names: EC2 refuses "sg-" at the start.
func TestPolicyNames(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	for _, r := range blueprint.Model().Resources() {
		if r.ID == "" || r.Kind == "" || r.Purpose == "" {
			t.Errorf("resource %+v lacks an ID, a kind or a purpose", r)
			continue
		}
		if ids[r.ID] {
			t.Errorf("ID %s is used twice", r.ID)
		}
		ids[r.ID] = true
		if n := r.Name("x"); names[n] {
			t.Errorf("name %s is used twice", n)
		} else {
			names[n] = true
		}
		for _, suffix := range []string{"a", strings.Repeat("z", blueprint.MaxSuffixLength)} {
			name := r.Name(suffix)
			if !strings.HasSuffix(name, "-"+suffix) {
				t.Errorf("%s: name %s does not end in the suffix", r.ID, name)
			}
			kind := awsnames.TagValue
			if r.Kind == blueprint.SecurityGroupKind {
				kind = awsnames.SecurityGroupName
			}
			if err := awsnames.Check(kind, name); err != nil {
				t.Errorf("%s: %v", r.ID, err)
			}
		}
	}
}

// Every option some resource depends on is one the model declares, so each renderer can
// decide it (CloudFormation: a condition; Pulumi: the configuration).
func TestPolicyOptionsAreDeclared(t *testing.T) {
	for _, r := range blueprint.Model().Resources() {
		if r.When != blueprint.Always && !slices.Contains(blueprint.Options, r.When) {
			t.Errorf("%s exists under undeclared option %q", r.ID, r.When)
		}
	}
}
