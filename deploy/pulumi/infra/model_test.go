package infra_test

import (
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
	return cfg
}

// TestProgramCarriesTheModel: in every combination of options, the program registers exactly
// the model's resources that deployment has (by name: the model's {kind}-{purpose}-{suffix} is
// the Pulumi resource's name), plus the Pulumi-only kinds. A resource added to one and not the
// other fails here.
func TestProgramCarriesTheModel(t *testing.T) {
	a := blueprint.Model()
	for _, c := range blueprint.AllChoices() {
		cfg := configFor(c)
		if got := cfg.Choices(); !equalChoices(got, c) {
			t.Fatalf("configFor(%v) takes %v", c, got)
		}
		r := runStack(t, cfg)
		byName := map[string]string{} // Pulumi name -> model ID
		var want []string
		for _, m := range a.Resources() {
			name := cfg.ModelName(m)
			if m.ID == blueprint.IDAPIKeySecret {
				// This stack keeps the API-key secret as a SecureString parameter (blueprint.Config).
				name = cfg.Name("param", "api-keys")
			}
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

// TestProgramCarriesTheModelTagsAndOrder: in every combination of options, each model resource
// the program registers carries the model's tags (the common keys, a Name tag with its own name),
// and the engine's recorded dependencies have no cycle and contain every order constraint of the
// model between resources the deployment has. The program may tag more than the model says: it
// tags every resource whose type takes tags, Name included (TestPolicyEveryTaggableResourceTagged).
func TestProgramCarriesTheModelTagsAndOrder(t *testing.T) {
	a := blueprint.Model()
	tags := a.Tags()
	for _, c := range blueprint.AllChoices() {
		cfg := configFor(c)
		r := runStack(t, cfg)
		byName := map[string]res{}
		for _, x := range r.resources {
			byName[x.Name] = x
		}
		name := func(m blueprint.Resource) string {
			if m.ID == blueprint.IDAPIKeySecret {
				return cfg.Name("param", "api-keys") // a SecureString parameter here (blueprint.Config)
			}
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
