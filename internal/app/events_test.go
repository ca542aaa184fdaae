package app

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/catalog"
)

// recordingBus is a relay.Publisher that accepts everything.
type recordingBus struct {
	mu     sync.Mutex
	events []awsevents.Event
}

func (b *recordingBus) Publish(_ context.Context, evs []awsevents.Event) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, evs...)
	return len(evs), nil
}

func (b *recordingBus) types() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, e := range b.events {
		out = append(out, e.DetailType)
	}
	return out
}

// TestEventRelayWired: with EVENT_BUS_NAME set the service runs the relay: a write's event
// reaches the bus, and the relay's metrics are exported. Without it nothing is published.
func TestEventRelayWired(t *testing.T) {
	for _, on := range []bool{true, false} {
		env := map[string]string{"SEED_SAMPLE": "false", "EVENT_SOURCE": "com.acme.catalog"}
		if on {
			env["EVENT_BUS_NAME"] = "catalog-bus"
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		bus := &recordingBus{}
		a, err := Start(context.Background(), testConfig(t, env), Options{Listener: ln, EventPublisher: bus})
		if err != nil {
			t.Fatal(err)
		}
		<-a.Ready()
		time.Sleep(100 * time.Millisecond) // the relay's first claim places it at the head
		if _, err := a.front.CreateCategory(context.Background(), catalog.CategoryInput{Slug: "relayed", Name: "Relayed"}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for on && len(bus.types()) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !on {
			time.Sleep(300 * time.Millisecond)
		}
		got := bus.types()
		families, _ := a.metrics.Registry.Gather()
		exported := false
		for _, f := range families {
			if f.GetName() == "catalog_eventbridge_published_total" {
				exported = f.GetMetric()[0].GetCounter().GetValue() >= 1
			}
		}
		if err := a.Shutdown(); err != nil {
			t.Fatal(err)
		}
		switch {
		case on && (len(got) != 1 || got[0] != catalog.EventCategoryCreated || !exported):
			t.Fatalf("EVENT_BUS_NAME set: published %v (metric exported: %v), want one %s", got, exported, catalog.EventCategoryCreated)
		case !on && (len(got) != 0 || exported):
			t.Fatalf("EVENT_BUS_NAME empty: published %v, metric %v", got, exported)
		}
	}
}

// TestRelayEMF: the relay's figures reach CloudWatch as one EMF line per interval from the
// instance publishing, and none from a standby that did nothing.
func TestRelayEMF(t *testing.T) {
	var out syncBuffer
	e := &relayEMF{out: &out, env: "prod"}
	if err := e.flush(time.UnixMilli(1000)); err != nil || out.String() != "" {
		t.Fatalf("an idle standby wrote %q (%v)", out.String(), err)
	}
	e.add(func(e *relayEMF) { e.leading = true })
	e.published([]time.Duration{10 * time.Millisecond, 30 * time.Millisecond})
	e.add(func(e *relayEMF) { e.failed += 3 })
	e.add(func(e *relayEMF) { e.skipped += 7 })
	if err := e.flush(time.UnixMilli(2000)); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(out.String()), &line); err != nil {
		t.Fatalf("%q: %v", out.String(), err)
	}
	if line["Environment"] != "prod" || line["EventsPublished"] != 2.0 || line["EventsFailed"] != 3.0 || line["EventsSkipped"] != 7.0 ||
		line["EventLagAvg"] != 20.0 || line["EventLagMax"] != 30.0 {
		t.Fatalf("line %v", line)
	}
	aws := line["_aws"].(map[string]any)
	if aws["Timestamp"] != 2000.0 || len(aws["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)) != 5 {
		t.Fatalf("_aws %v", aws)
	}
	// A leader writes every interval, zeros included, so a stuck relay shows as a flat line.
	out.b.Reset()
	if err := e.flush(time.UnixMilli(3000)); err != nil || !strings.Contains(out.String(), `"EventsPublished":0`) {
		t.Fatalf("leader's idle interval: %q (%v)", out.String(), err)
	}
}
