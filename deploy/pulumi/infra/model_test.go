package infra_test

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/acme/catalog/deploy/pulumi/infra"
	"github.com/acme/catalog/internal/blueprint"
)

// pulumiOnly are the program's resources that are not resources of the model: how Pulumi says
// something the model says otherwise (a subnet's route table, the repository's lifecycle), and
// the connection string its specification asks it to keep as a SecureString parameter.
var pulumiOnly = map[string]bool{
	"aws:ec2/routeTableAssociation:RouteTableAssociation": true,
	"aws:ecr/lifecyclePolicy:LifecyclePolicy":             true,
	// The template's scalable target holds a planned sale's actions as ScheduledActions.
	"aws:appautoscaling/scheduledAction:ScheduledAction": true,
	// The origin secret's value: CloudFormation's secret generates its own.
	"aws:secretsmanager/secretVersion:SecretVersion": true,
}

// configFor returns a configuration that takes a model deployment's options.
func configFor(c blueprint.Choices) infra.Config {
	cfg := fullConfig()
	if c.Has(blueprint.WithNATPerAZ) {
		cfg.NATMode = blueprint.NATPerAZ
	}
	cfg.InterfaceEndpoints = c.Has(blueprint.WithInterfaceEndpoints)
	if !c.Has(blueprint.WithCertificate) {
		cfg.CertificateARN = ""
	}
	if !c.Has(blueprint.WithWebACL) {
		cfg.WebACLARN = ""
	}
	if !c.Has(blueprint.WithAlertEmail) {
		cfg.AlertEmail = ""
	}
	if !c.Has(blueprint.WithImage) {
		cfg.ImageTag = ""
	}
	if c.Has(blueprint.WithSale) {
		cfg.SaleStart, cfg.SaleEnd = "2026-12-24T08:55:00", "2026-12-24T12:00:00"
	} else {
		cfg.SaleStart, cfg.SaleEnd = "", ""
	}
	cfg.CloudFront = c.Has(blueprint.WithCloudFront)
	cfg.CreateWebACL = c.Has(blueprint.WithOwnWebACL)
	cfg.FlowLogs = c.Has(blueprint.WithFlowLogs)
	cfg.EventBus = c.Has(blueprint.WithEventBus)
	cfg.EventBusARN = ""
	if c.Has(blueprint.WithExistingEventBus) {
		cfg.EventBusARN = testExistingBus
	}
	return cfg
}

// TestProgramCarriesTheModel: in every case any three options can be in (CoveringChoices), the program registers exactly
// the model's resources that deployment has (by name: the model's {kind}-{purpose}-{suffix} is
// the Pulumi resource's name), plus the Pulumi-only kinds. A resource added to one and not the
// other fails here.
func TestProgramCarriesTheModel(t *testing.T) {
	a := blueprint.Model()
	for _, c := range blueprint.CoveringChoices(3) {
		cfg := configFor(c)
		if got := cfg.Choices(); !equalChoices(got, c) {
			t.Fatalf("configFor(%v) takes %v", c, got)
		}
		r := runStack(t, cfg)
		byName := map[string]string{} // Pulumi name -> model ID
		var want []string
		for _, m := range a.Resources() {
			name := cfg.ModelName(m)
			byName[name] = m.ID
			if c.Has(m.When) && m.ID != blueprint.IDDBSecret {
				want = append(want, m.ID)
			}
		}
		var got []string
		for _, x := range r.resources {
			if !x.Custom {
				continue
			}
			if id, ok := byName[x.Name]; ok {
				got = append(got, id)
			} else if !pulumiOnly[x.Type] && x.Name != cfg.Name("param", "db-url") {
				t.Errorf("%v: the program registers %s (%s), which is not in the model", c, x.Name, x.Type)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%v: program resources\n got  %q\n want %q", c, got, want)
		}
	}
}

func equalChoices(a, b blueprint.Choices) bool {
	for _, o := range blueprint.Options {
		if a.Has(o) != b.Has(o) {
			return false
		}
	}
	return true
}

// TestProgramCarriesTheModelTagsAndOrder: in every case any three options can be in, each model resource
// the program registers carries the model's tags (the common keys, a Name tag with its own name),
// and the engine's recorded dependencies have no cycle and contain every order constraint of the
// model between resources the deployment has. The program may tag more than the model says: it
// tags every resource whose type takes tags, Name included (TestPolicyEveryTaggableResourceTagged).
func TestProgramCarriesTheModelTagsAndOrder(t *testing.T) {
	a := blueprint.Model()
	tags := a.Tags()
	for _, c := range blueprint.CoveringChoices(3) {
		cfg := configFor(c)
		r := runStack(t, cfg)
		byName := map[string]res{}
		for _, x := range r.resources {
			byName[x.Name] = x
		}
		name := func(m blueprint.Resource) string {
			return cfg.ModelName(m)
		}
		for _, m := range a.Resources() {
			x, ok := byName[name(m)]
			want := tags[m.ID]
			if !ok || !c.Has(m.When) || !want.Common {
				continue
			}
			got, _ := x.get("tags").(map[string]any)
			for _, k := range blueprint.TagKeys {
				if v, _ := got[k].(string); v == "" {
					t.Errorf("%v: %s lacks the %s tag", c, x.Name, k)
				}
			}
			if got[blueprint.TagProject] != blueprint.Project {
				t.Errorf("%v: %s: Project tag %v", c, x.Name, got[blueprint.TagProject])
			}
			if n := got[blueprint.TagName]; want.Name && n != x.Name {
				t.Errorf("%v: %s: Name tag %v, the model says its name", c, x.Name, n)
			}
		}
		deps := graph(r)
		if cyc := deps.Cycle(); cyc != nil {
			t.Fatalf("%v: dependency cycle: %s", c, strings.Join(cyc, " -> "))
		}
		ids := map[string]blueprint.Resource{}
		for _, m := range a.Resources() {
			ids[m.ID] = m
		}
		for _, w := range a.PresentOrder(c) {
			from, to := name(ids[w.From]), name(ids[w.To])
			if _, ok := deps[from]; !ok {
				t.Errorf("%v: no resource %s", c, from)
				continue
			}
			if !deps.Waits(from, to) {
				t.Errorf("%v: %s does not wait for %s: %s", c, from, to, w.Why)
			}
		}
	}
}

// TestProgramPlacesByTheModel: the load balancer, the tasks and the database subnet group use
// exactly their model tier's subnets, each database instance its model zone, each subnet its
// model route table and each default route its model target; and the references a rendering can
// get wrong while every value agrees (the scalable target's service, the lifecycle policy's
// repository). That the tiers are right is blueprint's TestPolicyPlacement and
// TestPolicyNetworkTiers.
func TestProgramPlacesByTheModel(t *testing.T) {
	a := blueprint.Model()
	forEachConfig(t, func(t *testing.T, r *run) {
		c := r.cfg
		names := func(ids any) []string {
			var out []string
			for _, s := range subnetsByIDs(t, r, ids) {
				out = append(out, s.Name)
			}
			sort.Strings(out)
			return out
		}
		tier := func(tr blueprint.Tier) []string {
			var out []string
			for _, id := range a.Network.SubnetIDs(tr) {
				s, _ := a.Network.Subnet(id)
				out = append(out, c.ModelName(s.Resource))
			}
			sort.Strings(out)
			return out
		}
		svc := r.named(t, tService, c.ModelName(a.Service.Service))
		for what, x := range map[string]struct {
			got  []string
			tier blueprint.Tier
		}{
			"load balancer":   {names(r.named(t, tALB, c.ModelName(a.Edge.LoadBalancer)).get("subnets")), a.Edge.Subnets},
			"service":         {names(svc.get("networkConfiguration.subnets")), a.Service.Subnets},
			"db subnet group": {names(r.named(t, tDBSubnets, c.ModelName(a.Database.SubnetGroup)).get("subnetIds")), a.Database.Subnets},
		} {
			if want := tier(x.tier); !slices.Equal(x.got, want) {
				t.Errorf("%s subnets %v, want the %s tier %v", what, x.got, x.tier, want)
			}
		}
		// Every tier's subnet of model zone i is in the same, distinct availability zone.
		zone := map[int]string{}
		for _, s := range a.Network.Subnets {
			got := r.named(t, tSubnet, c.ModelName(s.Resource)).str("availabilityZone")
			if z, ok := zone[s.AZ]; ok && z != got {
				t.Errorf("%s in %s, other subnets of zone %d in %s", s.ID, got, s.AZ, z)
			}
			zone[s.AZ] = got
		}
		if distinct := len(slices.Compact(slices.Sorted(maps.Values(zone)))); distinct != blueprint.AZCount {
			t.Errorf("subnets in %d zones %v, want %d", distinct, zone, blueprint.AZCount)
		}
		for _, in := range a.Database.Instances {
			if got := r.named(t, tDBInstance, c.ModelName(in.Resource)).str("availabilityZone"); got != zone[in.AZ] {
				t.Errorf("%s in %s, want zone %d (%s)", in.ID, got, in.AZ, zone[in.AZ])
			}
		}
		for _, rt := range a.Network.RouteTables {
			table, ok := r.byName(c.ModelName(rt.Resource))
			if !c.Choices().Has(rt.When) {
				continue
			}
			if !ok {
				t.Errorf("no route table %s", rt.ID)
				continue
			}
			for _, id := range rt.Subnets {
				s, _ := a.Network.Subnet(id)
				subnet := r.named(t, tSubnet, c.ModelName(s.Resource))
				n := 0
				for _, as := range r.of(tRTA) {
					if as.str("subnetId") == subnet.ID {
						n++
						if as.str("routeTableId") != table.ID {
							t.Errorf("%s is associated with %s, want %s", subnet.Name, as.str("routeTableId"), table.Name)
						}
					}
				}
				if n != 1 {
					t.Errorf("%s has %d route table associations, want 1", subnet.Name, n)
				}
			}
			if rt.DefaultRoute.ID == "" {
				continue
			}
			route := r.named(t, tRoute, c.ModelName(rt.DefaultRoute))
			viaIGW, viaNAT := route.str("gatewayId") != "", route.str("natGatewayId") != ""
			if route.str("routeTableId") != table.ID || viaIGW != rt.ToInternetGateway || viaNAT == rt.ToInternetGateway {
				t.Errorf("route %s: %v, want table %s to the internet gateway %v", route.Name, route.Inputs, table.Name, rt.ToInternetGateway)
			}
		}
		// Values no model field holds yet, which parity only proves the tools agree on.
		if pub, set := svc.boolean("networkConfiguration.assignPublicIp"); !set || pub {
			t.Errorf("service assignPublicIp = %v (set %v), want false", pub, set)
		}
		for _, s := range r.of(tSubnet) {
			if pub, _ := s.boolean("mapPublicIpOnLaunch"); pub {
				t.Errorf("%s maps public IPs on launch", s.Name)
			}
		}
		if _, set := r.of(tDBCluster)[0].Inputs["masterPassword"]; set {
			t.Error("the DB cluster carries a password; the model has RDS manage it")
		}
		if td := r.of(tTaskDef)[0]; !reflect.DeepEqual(td.get("requiresCompatibilities"), []any{"FARGATE"}) {
			t.Errorf("task definition compatibilities %v, want FARGATE", td.get("requiresCompatibilities"))
		}
		cluster := r.named(t, tCluster, c.ModelName(a.Service.Cluster))
		if got, want := r.named(t, tTarget, c.ModelName(a.Scaling.Target)).str("resourceId"), "service/"+cluster.str("name")+"/"+svc.str("name"); got != want {
			t.Errorf("scalable target resourceId = %q, want %q", got, want)
		}
		repo := r.named(t, tRepo, c.ModelName(a.Registry.Repository))
		if lc := r.of(tLifecycle); len(lc) != 1 || lc[0].str("repository") != repo.str("name") {
			t.Errorf("want one lifecycle policy on %s, got %d", repo.str("name"), len(lc))
		}
	})
}
