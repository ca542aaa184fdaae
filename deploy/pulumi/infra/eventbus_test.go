package infra_test

import (
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// testExistingBus is the existing bus the tests' deployments with WithExistingEventBus publish to.
const testExistingBus = "arn:aws:events:us-east-1:123456789012:event-bus/orders"

// The bus as the program makes it: with eventBus (the default) a bus and its archive under the
// stack key, kept eventArchiveDays; the service's container gets the bus's ARN and the configured
// source, the migrate task neither. Without it, no bus, no archive, no settings. (That the task
// role may put events on this bus only is TestPolicyIAMLeastPrivilege; that both stacks agree
// in every deployment is TestParityInEveryDeployment.)
func TestEventBus(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := defaultConfig()
		cfg.EventBus, cfg.EventSource, cfg.EventArchiveDays = on, "com.example.catalog", 90
		r := runStack(t, cfg)
		buses, archives := r.of(tEventBus), r.of(tArchive)
		if on != (len(buses) == 1) || on != (len(archives) == 1) || len(buses) > 1 || len(archives) > 1 {
			t.Fatalf("eventBus %v: %d buses, %d archives", on, len(buses), len(archives))
		}
		var defs []struct {
			Environment []struct{ Name, Value string }
		}
		jsonInput(t, r.named(t, tTaskDef, "task-catalog-"+cfg.Suffix), "containerDefinitions", &defs)
		env := map[string]string{}
		for _, e := range defs[0].Environment {
			env[e.Name] = e.Value
		}
		var migrate []struct {
			Environment []struct{ Name, Value string }
		}
		jsonInput(t, r.named(t, tTaskDef, "task-catalog-migrate-"+cfg.Suffix), "containerDefinitions", &migrate)
		for _, e := range migrate[0].Environment {
			if e.Name == blueprint.EnvEventBusName || e.Name == blueprint.EnvEventSource {
				t.Errorf("the migrate task gets %s", e.Name)
			}
		}
		if !on {
			if _, ok := env[blueprint.EnvEventBusName]; ok {
				t.Errorf("without the bus the service gets %s=%s", blueprint.EnvEventBusName, env[blueprint.EnvEventBusName])
			}
			if _, ok := r.outputs["eventBusArn"]; ok {
				t.Error("without the bus the stack exports eventBusArn")
			}
			continue
		}
		bus, archive := buses[0], archives[0]
		stackKey := func(arn string) bool {
			k, ok := r.byARN(arn)
			return ok && k.Type == tKMSKey && k.Name == "kms-logs-"+cfg.Suffix
		}
		if bus.Name != "bus-catalog-"+cfg.Suffix || !stackKey(bus.str("kmsKeyIdentifier")) {
			t.Errorf("bus %s under key %q, want bus-catalog-%s under the stack key", bus.Name, bus.str("kmsKeyIdentifier"), cfg.Suffix)
		}
		busARN := "arn:aws:events:" + testRegion + ":" + testAccount + ":event-bus/" + bus.Name
		if archive.str("eventSourceArn") != busARN || archive.num("retentionDays") != 90 || !stackKey(archive.str("kmsKeyIdentifier")) {
			t.Errorf("archive of %s kept %v days under %s, want the bus %s, 90 days, the stack key", archive.str("eventSourceArn"), archive.num("retentionDays"), archive.str("kmsKeyIdentifier"), busARN)
		}
		if env[blueprint.EnvEventBusName] != busARN || env[blueprint.EnvEventSource] != "com.example.catalog" {
			t.Errorf("service %s=%q %s=%q, want %s and the configured source", blueprint.EnvEventBusName, env[blueprint.EnvEventBusName],
				blueprint.EnvEventSource, env[blueprint.EnvEventSource], busARN)
		}
		if r.outputs["eventBusArn"] != busARN || r.outputs["eventBusName"] != bus.Name {
			t.Errorf("outputs eventBusArn %v, eventBusName %v", r.outputs["eventBusArn"], r.outputs["eventBusName"])
		}
	}
}

// With eventBusArn the service publishes to that bus: the task role may put events on it only,
// EVENT_BUS_NAME is its ARN, and the stack creates no bus, no archive and no key grant's bus.
func TestExistingEventBus(t *testing.T) {
	cfg := defaultConfig()
	cfg.EventBusARN = testExistingBus
	r := runStack(t, cfg)
	if n := len(r.of(tEventBus)) + len(r.of(tArchive)); n != 0 {
		t.Errorf("with an existing bus the stack makes %d buses and archives", n)
	}
	var defs []struct {
		Environment []struct{ Name, Value string }
	}
	jsonInput(t, r.named(t, tTaskDef, "task-catalog-"+cfg.Suffix), "containerDefinitions", &defs)
	found := false
	for _, e := range defs[0].Environment {
		if e.Name == blueprint.EnvEventBusName {
			found = e.Value == testExistingBus
		}
	}
	if !found {
		t.Errorf("service environment %+v: want %s=%s", defs[0].Environment, blueprint.EnvEventBusName, testExistingBus)
	}
	var doc struct {
		Statement []struct {
			Sid      string
			Action   []string
			Resource []string
		}
	}
	jsonInput(t, r.named(t, tRolePolicy, "policy-task-"+cfg.Suffix), "policy", &doc)
	var events []string
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "events:") {
				events = append(events, a+" on "+strings.Join(st.Resource, ","))
			}
		}
	}
	if want := "events:PutEvents on " + testExistingBus; len(events) != 1 || events[0] != want {
		t.Errorf("task role events grants %q, want %q", events, want)
	}
	// Without eventBus an ARN means nothing: refused rather than silently ignored.
	cfg.EventBus = false
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "eventBusArn") {
		t.Errorf("eventBus false with eventBusArn: Validate = %v, want a refusal naming eventBusArn", err)
	}
}
