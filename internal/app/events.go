package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/httpapi"
	"github.com/acme/catalog/internal/relay"
)

// eventPublisher is the EventBridge publisher EVENT_BUS_NAME asks for, or nil when it is
// empty. It is made at start so an AWS configuration error stops the service there.
func eventPublisher(ctx context.Context, cfg eventConfig, given relay.Publisher) (relay.Publisher, error) {
	if cfg.bus == "" {
		return nil, nil
	}
	if given != nil {
		return given, nil
	}
	p, err := awsevents.NewFromEnvironment(ctx, cfg.bus, cfg.source)
	if err != nil {
		return nil, fmt.Errorf("EVENT_BUS_NAME: %w", err)
	}
	p.Concurrency = cfg.concurrency
	return p, nil
}

type eventConfig struct {
	bus, source string
	concurrency int
}

// relayHooks exports what the relay does as metrics: events published and refused, events
// lost to retention, the lag from a change to its acceptance by the bus, and whether this
// instance is the one publishing.
func relayHooks(m *httpapi.Metrics) relay.Hooks {
	published := prometheus.NewCounter(prometheus.CounterOpts{Name: "catalog_eventbridge_published_total",
		Help: "Events EventBridge accepted."})
	failed := prometheus.NewCounter(prometheus.CounterOpts{Name: "catalog_eventbridge_failed_total",
		Help: "Events a publish left unaccepted (retried: never skipped)."})
	skipped := prometheus.NewCounter(prometheus.CounterOpts{Name: "catalog_eventbridge_skipped_total",
		Help: "Events purged by retention before they were published: lost to the bus."})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "catalog_eventbridge_lag_seconds",
		Help:    "Time from a change to EventBridge accepting its event.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}})
	leader := prometheus.NewGauge(prometheus.GaugeOpts{Name: "catalog_eventbridge_leader",
		Help: "1 while this instance holds the relay's lease and publishes."})
	m.Registry.MustRegister(published, failed, skipped, lag, leader)
	return relay.Hooks{
		Published: func(lags []time.Duration) {
			published.Add(float64(len(lags)))
			for _, l := range lags {
				lag.Observe(l.Seconds())
			}
		},
		Failed:  func(n int) { failed.Add(float64(n)) },
		Skipped: func(n int64) { skipped.Add(float64(n)) },
		Leading: func(b bool) {
			if b {
				leader.Set(1)
			} else {
				leader.Set(0)
			}
		},
	}
}
