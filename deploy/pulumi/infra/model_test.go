package infra_test

import (
	"slices"
	"sort"
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
