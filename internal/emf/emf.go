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
