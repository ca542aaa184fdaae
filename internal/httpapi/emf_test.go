package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/emf"
)

func TestEMFLines(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics()
	m.EMF = NewEMF(&buf, "Catalog", "prod")
	m.observeRequest("GET /products/{id}", "GET", 200, 4*time.Millisecond)
	m.observeRequest("GET /products/{id}", "GET", 503, 10*time.Millisecond)
	m.observeRequest("POST /reservations", "POST", 409, time.Millisecond)
	m.Reservation("insufficient_stock", 1)
	if err := m.EMF.Flush(time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	var first struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Route                  string
		Requests, Errors5xx    int
		LatencyAvg, LatencyMax float64
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	d := first.AWS.CloudWatchMetrics[0]
	if first.AWS.Timestamp != 1700000000000 || d.Namespace != "Catalog" || first.Route != "GET /products/{id}" ||
		first.Requests != 2 || first.Errors5xx != 1 || first.LatencyAvg != 7 || first.LatencyMax != 10 || len(d.Metrics) != 5 {
		t.Fatalf("first line: %s", lines[0])
	}
	// Every metric a directive names is a member of the line (CloudWatch drops the line otherwise).
	for _, l := range lines {
		var v map[string]any
		json.Unmarshal([]byte(l), &v)
		meta := v["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		for _, mm := range meta["Metrics"].([]any) {
			if _, ok := v[mm.(map[string]any)["Name"].(string)]; !ok {
				t.Fatalf("metric %v missing from %s", mm, l)
			}
		}
		for _, dims := range meta["Dimensions"].([]any) {
			for _, dim := range dims.([]any) {
				if _, ok := v[dim.(string)]; !ok {
					t.Fatalf("dimension %v missing from %s", dim, l)
				}
			}
		}
	}
	buf.Reset()
	m.EMF.Flush(time.Now())
	if buf.Len() != 0 {
		t.Fatalf("a flush with nothing new wrote %q", buf.String())
	}
}

// TestWebhookDeliveryMetrics: deliveries are counted by outcome in Prometheus and in one EMF
// line per flush; an outcome outside the closed set counts as failed.
func TestWebhookDeliveryMetrics(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics()
	m.EMF = NewEMF(&buf, "Catalog", "prod")
	for _, o := range []string{"delivered", "delivered", "failed", "refused", "gone", "surprise"} {
		m.WebhookDelivery(o)
	}
	if err := m.EMF.Flush(time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	for name, want := range map[string]float64{"WebhookDeliveries_delivered": 2, "WebhookDeliveries_failed": 2,
		"WebhookDeliveries_refused": 1, "WebhookDeliveries_gone": 1} {
		if line[name] != want {
			t.Errorf("%s = %v, want %v in %s", name, line[name], want, buf.String())
		}
	}
	if _, ok := line["WebhookDeliveries_surprise"]; ok {
		t.Error("an unknown outcome got its own series")
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "catalog_webhook_deliveries_total" {
			if n := len(f.GetMetric()); n != 4 {
				t.Errorf("%d outcome series, want 4", n)
			}
			return
		}
	}
	t.Error("catalog_webhook_deliveries_total is not registered")
}

// TestWebhooksDisabledMetric: each disabled subscription counts once in Prometheus and in an
// EMF line of its own (namespace, Environment dimension, Count), which the stacks alarm on;
// a flush without one writes no such line.
func TestWebhooksDisabledMetric(t *testing.T) {
	var buf bytes.Buffer
	m := NewMetrics()
	m.EMF = NewEMF(&buf, emf.Namespace, "prod")
	m.WebhookDisabled("failing for a day")
	m.WebhookDisabled("gone")
	if err := m.EMF.Flush(time.UnixMilli(1700000000000)); err != nil {
		t.Fatal(err)
	}
	var line struct {
		AWS struct {
			CloudWatchMetrics []emfDirective
		} `json:"_aws"`
		Environment string
		Disabled    float64 `json:"WebhooksDisabled"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := []emfDirective{{Namespace: emf.Namespace, Dimensions: [][]string{{emf.DimEnvironment}},
		Metrics: []emfMetric{{emf.WebhooksDisabled, emf.UnitCount}}}}
	if !reflect.DeepEqual(want, line.AWS.CloudWatchMetrics) || line.Environment != "prod" || line.Disabled != 2 {
		t.Fatalf("EMF line %s, want the directive %+v, Environment prod and WebhooksDisabled 2", buf.String(), want)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := -1.0
	for _, f := range families {
		if f.GetName() == "catalog_webhooks_disabled_total" {
			got = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got != 2 {
		t.Errorf("catalog_webhooks_disabled_total = %v, want 2", got)
	}
	buf.Reset()
	m.EMF.Flush(time.Now())
	if strings.Contains(buf.String(), emf.WebhooksDisabled) {
		t.Errorf("a flush after the count was written wrote it again: %s", buf.String())
	}
}
