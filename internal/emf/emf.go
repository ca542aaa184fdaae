// Package emf names what the service writes as CloudWatch Embedded Metric Format lines
// (METRICS_EMF): the namespace, the dimension and the metrics the stacks' alarms read. The
// writers (internal/httpapi, internal/app) and the architecture's alarms (internal/blueprint)
// both use these constants, so an alarm cannot watch a metric under a second spelling.
//
// CloudWatch Logs extracts the metrics from each such line of the service's log group, which
// the awslogs driver writes stdout to; no agent and no PutLogEvents header is needed
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Generation_PutLogEvents.html).
package emf

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Namespace is the CloudWatch namespace of every metric the service writes.
const Namespace = "Catalog"

// DimEnvironment is the dimension every line carries: the service's APP_ENV.
const DimEnvironment = "Environment"

// The relay's metrics (internal/app), one line a minute from the instance publishing.
const (
	EventsPublished = "EventsPublished" // Count: events EventBridge accepted
	EventsFailed    = "EventsFailed"    // Count: events a publish left unaccepted (retried)
	EventsSkipped   = "EventsSkipped"   // Count: events purged before they were published
	EventLagAvg     = "EventLagAvg"     // Milliseconds: from the change to its acceptance
	EventLagMax     = "EventLagMax"     // Milliseconds
)

// Webhook metrics (internal/httpapi): WebhookDeliveriesPrefix + a delivery outcome
// (catalog.Delivery*), and WebhooksDisabled, subscriptions the worker disabled.
const (
	WebhookDeliveriesPrefix = "WebhookDeliveries_"
	WebhooksDisabled        = "WebhooksDisabled"
)

// Units used.
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// Limits of one line's directive
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// at most MaxMetrics metrics and MaxDimensions dimensions in a dimension set; a metric's name
// at most MaxNameLength characters (CloudWatch's MetricDatum), as a dimension's.
const (
	MaxMetrics    = 100
	MaxDimensions = 30
	MaxNameLength = 255
)

// Metric is one metric a line defines: where CloudWatch files it and its value.
type Metric struct {
	Namespace  string
	Name, Unit string
	Dimensions []string // one dimension set, by name
	Value      float64
}

// units are the units the specification allows (MetricDefinition.Unit: CloudWatch's
// StandardUnit).
var units = map[string]bool{"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true,
	"Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true}

// Parse checks one log line against the rules of the specification CloudWatch applies when it
// extracts metrics (a line that breaks one is kept as a log event but yields no metric, so
// nothing fails loudly in AWS), and returns the metrics it defines, one per dimension set.
func Parse(line []byte) ([]Metric, error) {
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		return nil, fmt.Errorf("emf: not one JSON object: %w", err)
	}
	var meta struct {
		Timestamp         *int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	}
	raw, ok := root["_aws"]
	if !ok {
		return nil, errors.New("emf: no _aws member")
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("emf: _aws: %w", err)
	}
	if meta.Timestamp == nil || len(meta.CloudWatchMetrics) == 0 {
		return nil, errors.New("emf: _aws needs Timestamp and at least one CloudWatchMetrics directive")
	}
	var out []Metric
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == "" || len(d.Namespace) > MaxNameLength {
			return nil, fmt.Errorf("emf: namespace %q must be 1-%d characters", d.Namespace, MaxNameLength)
		}
		if len(d.Metrics) == 0 || len(d.Metrics) > MaxMetrics {
			return nil, fmt.Errorf("emf: %d metrics in a directive, want 1-%d", len(d.Metrics), MaxMetrics)
		}
		if len(d.Dimensions) == 0 {
			d.Dimensions = [][]string{{}} // filed without dimensions
		}
		for _, set := range d.Dimensions {
			if len(set) > MaxDimensions {
				return nil, fmt.Errorf("emf: %d dimensions in a set, want at most %d", len(set), MaxDimensions)
			}
			for _, k := range set {
				if v, ok := root[k].(string); !ok || v == "" {
					return nil, fmt.Errorf("emf: dimension %q has no string value in the line", k)
				}
			}
		}
		for _, m := range d.Metrics {
			if m.Name == "" || len(m.Name) > MaxNameLength {
				return nil, fmt.Errorf("emf: metric name %q must be 1-%d characters", m.Name, MaxNameLength)
			}
			if !units[m.Unit] {
				return nil, fmt.Errorf("emf: metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			v, ok := root[m.Name].(float64)
			if !ok {
				return nil, fmt.Errorf("emf: metric %s has no numeric value in the line", m.Name)
			}
			for _, set := range d.Dimensions {
				out = append(out, Metric{Namespace: d.Namespace, Name: m.Name, Unit: m.Unit, Dimensions: set, Value: v})
			}
		}
	}
	return out, nil
}
