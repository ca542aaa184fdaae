package app

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/emf"
	"github.com/acme/catalog/internal/httpapi"
)

// TestEMFCarriesWhatTheAlarmsRead: every line the service writes with METRICS_EMF is valid EMF
// (internal/emf.Parse: CloudWatch extracts nothing from a line that breaks the specification,
// and says nothing), and every stack alarm on the Catalog namespace finds its metric in those
// lines under exactly its dimensions, with the Environment value the service is given (APP_ENV,
// which the stacks set to the environment the alarms name). The lag alarm's threshold is in
// the unit the lag is written in.
func TestEMFCarriesWhatTheAlarmsRead(t *testing.T) {
	const env = "prod"
	var out bytes.Buffer
	relay := &relayEMF{out: &out, env: env}
	relay.add(func(e *relayEMF) { e.leading = true })
	relay.published([]time.Duration{40 * time.Millisecond})
	relay.add(func(e *relayEMF) { e.failed++ })
	relay.add(func(e *relayEMF) { e.skipped++ })
	if err := relay.flush(time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	m := httpapi.NewMetrics()
	m.EMF = httpapi.NewEMF(&out, emf.Namespace, env)
	m.Reservation("reserved", 1)
	for _, o := range []string{catalog.DeliveryDelivered, catalog.DeliveryFailed, catalog.DeliveryGone, catalog.DeliveryRefused} {
		m.WebhookDelivery(o)
	}
	m.WebhookDisabled(catalog.DisabledGone)
	if err := m.EMF.Flush(time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}

	type key struct{ namespace, name, dims string }
	written := map[key]emf.Metric{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		ms, err := emf.Parse(sc.Bytes())
		if err != nil {
			t.Fatalf("%v in %s", err, sc.Text())
		}
		if !strings.Contains(sc.Text(), `"`+emf.DimEnvironment+`":"`+env+`"`) {
			t.Errorf("line without %s=%s: %s", emf.DimEnvironment, env, sc.Text())
		}
		for _, x := range ms {
			written[key{x.Namespace, x.Name, strings.Join(x.Dimensions, ",")}] = x
		}
	}
	checked := 0
	for _, ma := range blueprint.Model().Observability.Alarms {
		a := ma.Alarm
		if a.Namespace != emf.Namespace {
			continue
		}
		checked++
		x, ok := written[key{a.Namespace, a.Metric, strings.Join(a.Dimensions, ",")}]
		if !ok {
			t.Errorf("alarm %s reads %s/%s by %v, which no line the service writes defines", ma.ID, a.Namespace, a.Metric, a.Dimensions)
			continue
		}
		if a.ThresholdSetting == blueprint.SettingEventLagAlarm && x.Unit != emf.UnitMilliseconds {
			t.Errorf("alarm %s's threshold is in milliseconds but %s is written in %s", ma.ID, a.Metric, x.Unit)
		}
	}
	if checked < 5 {
		t.Errorf("%d alarms on the service's metrics, want the relay's four and webhooks-disabled", checked)
	}
	if want := strings.ReplaceAll(blueprint.DimensionText[blueprint.DimEnvironment], blueprint.PhEnvironment, env); want != env {
		t.Errorf("the stacks' Environment dimension renders %q for APP_ENV %q", want, env)
	}
}
