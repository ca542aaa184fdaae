package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/catalog/internal/awsevents"
	"github.com/acme/catalog/internal/emf"
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
// instance is the one publishing; with METRICS_EMF, to CloudWatch too, where the alarms are.
func (a *App) relayHooks() relay.Hooks {
	m := a.metrics
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
	lines := &relayEMF{out: a.emfOut, env: a.cfg.Env}
	if a.emfOut != nil {
		a.loop(func(ctx context.Context) { lines.run(ctx, time.Minute) })
	}
	return relay.Hooks{
		Published: func(lags []time.Duration) {
			published.Add(float64(len(lags)))
			for _, l := range lags {
				lag.Observe(l.Seconds())
			}
			lines.published(lags)
		},
		Failed: func(n int) {
			failed.Add(float64(n))
			lines.add(func(e *relayEMF) { e.failed += n })
		},
		Skipped: func(n int64) {
			skipped.Add(float64(n))
			lines.add(func(e *relayEMF) { e.skipped += n })
		},
		Leading: func(b bool) {
			if b {
				leader.Set(1)
			} else {
				leader.Set(0)
			}
			lines.add(func(e *relayEMF) { e.leading = b })
		},
	}
}

// relayEMF writes the relay's figures as one CloudWatch Embedded Metric Format line per
// interval (namespace Catalog, dimension Environment), from the instance publishing: the
// stacks' alarms on EventLagMax and EventsSkipped read them.
type relayEMF struct {
	out io.Writer // nil: off
	env string

	mu                      sync.Mutex
	count, failed           int
	skipped                 int64
	lagSum, lagMax          time.Duration
	leading, leadInInterval bool
}

func (e *relayEMF) add(fn func(*relayEMF)) {
	if e.out == nil {
		return
	}
	e.mu.Lock()
	fn(e)
	e.leadInInterval = e.leadInInterval || e.leading
	e.mu.Unlock()
}

func (e *relayEMF) published(lags []time.Duration) {
	e.add(func(e *relayEMF) {
		e.count += len(lags)
		for _, l := range lags {
			e.lagSum += l
			e.lagMax = max(e.lagMax, l)
		}
	})
}

// flush writes the interval's line (none from a standby that did nothing) and starts afresh.
func (e *relayEMF) flush(now time.Time) error {
	e.mu.Lock()
	c := struct {
		count, failed  int
		skipped        int64
		lagSum, lagMax time.Duration
		leadInInterval bool
	}{e.count, e.failed, e.skipped, e.lagSum, e.lagMax, e.leadInInterval}
	e.count, e.failed, e.skipped, e.lagSum, e.lagMax = 0, 0, 0, 0, 0
	e.leadInInterval = e.leading
	e.mu.Unlock()
	if !c.leadInInterval && c.count == 0 && c.failed == 0 && c.skipped == 0 {
		return nil
	}
	avg := 0.0
	if c.count > 0 {
		avg = float64(c.lagSum.Microseconds()) / 1000 / float64(c.count)
	}
	line := map[string]any{
		"_aws": map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": []map[string]any{{
			"Namespace": emf.Namespace, "Dimensions": [][]string{{emf.DimEnvironment}},
			"Metrics": []map[string]string{{"Name": emf.EventsPublished, "Unit": emf.UnitCount}, {"Name": emf.EventsFailed, "Unit": emf.UnitCount},
				{"Name": emf.EventsSkipped, "Unit": emf.UnitCount}, {"Name": emf.EventLagAvg, "Unit": emf.UnitMilliseconds},
				{"Name": emf.EventLagMax, "Unit": emf.UnitMilliseconds}},
		}}},
		emf.DimEnvironment: e.env, emf.EventsPublished: c.count, emf.EventsFailed: c.failed, emf.EventsSkipped: c.skipped,
		emf.EventLagAvg: avg, emf.EventLagMax: float64(c.lagMax.Microseconds()) / 1000,
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = e.out.Write(append(b, '\n'))
	return err
}

func (e *relayEMF) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.flush(time.Now())
			return
		case now := <-t.C:
			e.flush(now)
		}
	}
}

// lockedWriter serialises writes, so lines written whole from several goroutines (the
// request metrics', the relay's) never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
