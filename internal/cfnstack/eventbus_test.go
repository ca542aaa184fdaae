package cfnstack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// testExistingBus is the existing bus the tests' deployments with WithExistingEventBus publish to.
const testExistingBus = "arn:aws:events:us-east-1:123456789012:event-bus/orders"

// The rendered bus, deployment by deployment (the template evaluated with each combination's
// parameters): with EventBusMode=create the task role puts events on the bus's ARN and nowhere
// else, the service's container gets the bus ARN and the EventSource parameter, the migrate task
// gets neither, and bus and archive are encrypted with the stack key; with off, none of it.
func TestEventBusRendersPerDeployment(t *testing.T) {
	tmpl := underTest(t)
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	for _, c := range blueprint.AllChoices() {
		if !c.Has(blueprint.WithImage) {
			continue // no task definitions to look at; the role is checked with the image
		}
		params := parametersFor(c)
		params[ParamEventSource] = "com.example.catalog"
		e, err := cfn.Evaluate(tmpl, params)
		if err != nil {
			t.Fatal(err)
		}
		props := func(id string) map[string]any {
			p, err := e.Properties(tmpl.Resources[id])
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return p
		}
		on, existing := c.Has(blueprint.WithEventBus), c.Has(blueprint.WithExistingEventBus)
		busARN := cfn.ResourceValue{ID: IDEventBus, Attr: "Arn"}.String()
		if existing {
			busARN = testExistingBus
		}

		var events []string
		for id, r := range tmpl.Resources {
			if r.Type != "AWS::IAM::Role" || !e.Present(r.Condition) {
				continue
			}
			for _, pol := range props(id)["Policies"].([]any) {
				for _, st := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					m := st.(map[string]any)
					if strings.Contains(js(m["Action"]), "events:") {
						var resources []string
						for _, r := range m["Resource"].([]any) {
							resources = append(resources, cfn.Scalar(r))
						}
						events = append(events, id+" "+js(m["Action"])+" "+strings.Join(resources, ","))
					}
				}
			}
		}
		want := 0
		if on {
			want = 1
		}
		if len(events) != want || on && events[0] != IDTaskRole+` ["events:PutEvents"] `+busARN {
			t.Errorf("%v: events grants %q, want only %s PutEvents on %s with the bus", c, events, IDTaskRole, busARN)
		}

		env := func(id string) map[string]string { return containerEnv(t, e, tmpl, id) }
		svc := env(IDTaskDefinition)
		if got, ok := svc[blueprint.EnvEventBusName]; ok != on || on && got != busARN {
			t.Errorf("%v: service %s = %q (set %v), want %s only with the bus", c, blueprint.EnvEventBusName, got, ok, busARN)
		}
		if got, ok := svc[blueprint.EnvEventSource]; ok != on || on && got != "com.example.catalog" {
			t.Errorf("%v: service %s = %q (set %v), want the EventSource parameter only with the bus", c, blueprint.EnvEventSource, got, ok)
		}
		for name := range env(IDMigrateTaskDefinition) {
			if strings.HasPrefix(name, "EVENT_") {
				t.Errorf("%v: the migrate task gets %s", c, name)
			}
		}
		for _, id := range []string{IDEventBus, IDEventArchive} {
			if got := e.Present(tmpl.Resources[id].Condition); got != (on && !existing) {
				t.Errorf("%v: %s exists: %v", c, id, got)
			}
		}
		if on && !existing {
			key := cfn.ResourceValue{ID: blueprint.IDLogsKey, Attr: "Arn"}.String()
			for _, id := range []string{IDEventBus, IDEventArchive} {
				if got := cfn.Scalar(props(id)["KmsKeyIdentifier"]); got != key {
					t.Errorf("%v: %s encrypted with %q, want the stack key %s", c, id, got, key)
				}
			}
		}
	}
}

// The parameters say what the model says: the source's pattern and default, the archive's
// default retention, the bus on by default.
func TestEventBusParameters(t *testing.T) {
	tmpl := underTest(t)
	m := blueprint.Model().EventBus
	if p := tmpl.Parameters[ParamEventSource]; p == nil || p.AllowedPattern != blueprint.EventSourcePattern || p.Default != blueprint.DefaultEventSource {
		t.Errorf("%s = %+v, want the model's pattern and default", ParamEventSource, p)
	}
	if p := tmpl.Parameters[ParamEventArchiveRetentionDays]; p == nil || p.Default != "30" || m.ArchiveRetentionDays != 30 {
		t.Errorf("%s = %+v, want the model's %d days", ParamEventArchiveRetentionDays, p, m.ArchiveRetentionDays)
	}
	if p := tmpl.Parameters[ParamEventBus]; p == nil || p.Default != EventBusCreate {
		t.Errorf("%s = %+v, want create by default", ParamEventBus, p)
	}
}
