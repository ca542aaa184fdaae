package blueprint_test

import (
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/emf"
)

// The relay's alarms (issue 17, ADR 0016): in every deployment they exist exactly where the
// service runs and publishes, watch what the service writes in EMF (namespace, metric and its
// one dimension as internal/emf names them), and the service is told to write EMF at all; the
// webhook alarm exists wherever the service runs.
func TestPolicyEventAlarms(t *testing.T) {
	relay := map[string]bool{}
	for _, a := range blueprint.EventAlarms {
		relay[a.Purpose] = true
	}
	if len(relay) != 4 {
		t.Fatalf("%d relay alarms, want lag, failed, skipped and stopped", len(relay))
	}
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		publishing := c.Has(blueprint.WithImage) && c.Has(blueprint.WithEventBus)
		present := map[string]bool{}
		for _, ma := range a.Observability.PresentAlarms(c) {
			present[ma.Alarm.Purpose] = true
		}
		for p := range relay {
			if present[p] != publishing {
				t.Errorf("alarm %s present %v; the service runs and publishes: %v", p, present[p], publishing)
			}
		}
		if present["webhooks-disabled"] != c.Has(blueprint.WithImage) {
			t.Errorf("webhooks-disabled present %v, the service runs %v", present["webhooks-disabled"], c.Has(blueprint.WithImage))
		}
		env := envOf(a.Service.Container.EnvironmentIn(c))
		if env[blueprint.EnvMetricsEMF].Text != "true" {
			t.Errorf("the service's %s = %+v, want true: the alarms read its EMF lines", blueprint.EnvMetricsEMF, env[blueprint.EnvMetricsEMF])
		}
		// The lines carry APP_ENV as the Environment dimension; the alarms must fill in the same.
		if got, want := env[blueprint.EnvEnvironment].Text, blueprint.DimensionText[blueprint.DimEnvironment]; got != want || want == "" {
			t.Errorf("APP_ENV = %q but the alarms' %s dimension is %q", got, blueprint.DimEnvironment, want)
		}
		conc, ok := env[blueprint.EnvEventBusConcurrency]
		if ok != c.Has(blueprint.WithEventBus) || (ok && conc != (blueprint.Value{Text: blueprint.PhEventBusConcurrency})) {
			t.Errorf("%s = %+v (set %v), want the deployment's value only with the bus", blueprint.EnvEventBusConcurrency, conc, ok)
		}
		migrate := envOf(a.Service.MigrateContainer.EnvironmentIn(c))
		for _, name := range []string{blueprint.EnvMetricsEMF, blueprint.EnvEventBusConcurrency} {
			if _, ok := migrate[name]; ok {
				t.Errorf("the migrate task gets %s; it serves no metrics and publishes nothing", name)
			}
		}
	})
	// What every alarm on the service's own metrics reads is what internal/emf names (the
	// writers use the same constants; internal/app's tests check the lines themselves).
	written := map[string]string{emf.EventsPublished: emf.UnitCount, emf.EventsFailed: emf.UnitCount, emf.EventsSkipped: emf.UnitCount,
		emf.EventLagAvg: emf.UnitMilliseconds, emf.EventLagMax: emf.UnitMilliseconds, emf.WebhooksDisabled: emf.UnitCount}
	for _, ma := range blueprint.Model().Observability.Alarms {
		al := ma.Alarm
		if al.Namespace != emf.Namespace {
			continue
		}
		if _, ok := written[al.Metric]; !ok {
			t.Errorf("alarm %s reads %s/%s, which the service does not write", ma.ID, al.Namespace, al.Metric)
		}
		if len(al.Dimensions) != 1 || al.Dimensions[0] != emf.DimEnvironment {
			t.Errorf("alarm %s dimensions %v, want exactly the lines' [%s]", ma.ID, al.Dimensions, emf.DimEnvironment)
		}
		if al.Metric == emf.EventLagMax && (al.ThresholdSetting != blueprint.SettingEventLagAlarm ||
			al.Threshold < blueprint.EventLagAlarmMin || al.Threshold > blueprint.EventLagAlarmMax) {
			t.Errorf("alarm %s threshold %v from %q, want the setting %q within its bounds", ma.ID, al.Threshold, al.ThresholdSetting, blueprint.SettingEventLagAlarm)
		}
	}
}

func envOf(vars []blueprint.EnvVar) map[string]blueprint.Value {
	m := map[string]blueprint.Value{}
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	return m
}
