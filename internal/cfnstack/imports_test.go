package cfnstack

import (
	"slices"
	"strconv"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// TestImportParallelEvaluates: the service's IMPORT_PARALLEL is the environment's default while
// ImportParallel is 0 and the parameter otherwise, in every environment; the parameter offers
// exactly the service's bounds, and the migrate task gets none.
func TestImportParallelEvaluates(t *testing.T) {
	tmpl := underTest(t)
	var c blueprint.Choices
	for _, ch := range blueprint.AllChoices() {
		if ch.Has(blueprint.WithImage) {
			c = ch
			break
		}
	}
	want := []string{"0"}
	for n := blueprint.MinImportParallel; n <= blueprint.MaxImportParallel; n++ {
		want = append(want, strconv.Itoa(n))
	}
	if got := tmpl.Parameters[ParamImportParallel].AllowedValues; !slices.Equal(got, want) {
		t.Errorf("%s allows %q, want %q", ParamImportParallel, got, want)
	}
	for _, env := range blueprint.Environments {
		for _, set := range []string{"0", "1", "5", "8"} {
			p := parametersFor(c)
			p[ParamEnvironment], p[ParamImportParallel] = env.Name, set
			e, err := cfn.Evaluate(tmpl, p)
			if err != nil {
				t.Fatal(err)
			}
			vars := func(id string) map[string]string { return containerEnv(t, e, tmpl, id) }
			expect := set
			if set == "0" {
				expect = strconv.Itoa(env.ImportParallel)
			}
			if got := vars(IDTaskDefinition)[blueprint.EnvImportParallel]; got != expect {
				t.Errorf("%s, %s=%s: service %s = %q, want %s", env.Name, ParamImportParallel, set, blueprint.EnvImportParallel, got, expect)
			}
			if got, ok := vars(IDMigrateTaskDefinition)[blueprint.EnvImportParallel]; ok {
				t.Errorf("%s: the migrate task gets %s = %q", env.Name, blueprint.EnvImportParallel, got)
			}
		}
	}
}

// containerEnv returns the plain environment of task definition id's container, evaluated.
func containerEnv(t *testing.T, e *cfn.Evaluation, tmpl *cfn.Template, id string) map[string]string {
	t.Helper()
	props, err := e.Properties(tmpl.Resources[id])
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	out := map[string]string{}
	for _, v := range props["ContainerDefinitions"].([]any)[0].(map[string]any)["Environment"].([]any) {
		m := v.(map[string]any)
		out[m["Name"].(string)] = cfn.Scalar(m["Value"])
	}
	return out
}
