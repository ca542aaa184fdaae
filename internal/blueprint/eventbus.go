package blueprint

import (
	"fmt"
	"regexp"

	"github.com/acme/catalog/internal/emf"
)

// EventBus is the EventBridge bus the service publishes the catalog's events to (issue 17,
// docs/adr/0016-event-bus-in-the-stacks.md), so other AWS services subscribe with rules instead
// of webhooks; and its archive, so a consumer that lost events can replay them.
//
// WithEventBus the service publishes: the task role may events:PutEvents on the bus only, the
// service gets EVENT_BUS_NAME and EVENT_SOURCE, and the events interface endpoint joins the other
// interface endpoints (withEventBus adds these to the other concerns). The bus is the stack's own
// (OwnBus: the bus and its archive here, encrypted with the stack key, whose policy grants
// EventBridge its use) unless WithExistingEventBus names another one by ARN (PhEventBusARN). The
// migrate task publishes nothing and gets none of it.
type EventBus struct {
	Bus Resource
	// Archive keeps every event of the bus for ArchiveRetentionDays (a deployment may choose
	// another retention; 0 keeps them indefinitely).
	Archive              Resource
	ArchiveRetentionDays int
	// Key is the ID of the KMS key bus and archive are encrypted with: the stack's own, whose
	// policy lets EventBridge use it for this bus only (KeyPolicyStatements).
	Key string
	// Description is the bus's description.
	Description string
}

// Event bus IDs.
const (
	IDEventBus     = "EventBus"
	IDEventArchive = "EventArchive"
)

// Environment variables of the event publisher: the bus (its ARN: PutEvents' EventBusName takes
// a name or an ARN) and the events' source.
const (
	EnvEventBusName        = "EVENT_BUS_NAME"
	EnvEventSource         = "EVENT_SOURCE"
	EnvEventBusConcurrency = "EVENT_BUS_CONCURRENCY"
)

// The relay's PutEvents requests in flight (EVENT_BUS_CONCURRENCY): the service's default and
// bounds, which the stacks' parameter and configuration check repeat (a test holds them to
// internal/config). 1 publishes in sequence order; more raises throughput, and a subscriber
// must then order by the events' entityversion (docs/events.md).
const (
	DefaultEventBusConcurrency = 1
	MinEventBusConcurrency     = 1
	MaxEventBusConcurrency     = 10
)

// PhEventSource stands for the deployment's event source (the EventSource parameter, the
// eventSource configuration); PhEventBusARN for the existing bus's ARN (WithExistingEventBus).
const (
	PhEventSource = "${eventsource}"
	PhEventBusARN = "${eventbusarn}"
	// PhEventBusConcurrency stands for the deployment's EVENT_BUS_CONCURRENCY.
	PhEventBusConcurrency = "${eventbusconcurrency}"
)

// SettingEventLagAlarm is the deployment setting the publish-lag alarm's threshold comes from
// (milliseconds, as the service writes EventLagMax), within EventLagAlarmMin..Max.
// DefaultEventLagAlarm is its default: a minute.
const (
	SettingEventLagAlarm = "event-lag-alarm-ms"
	DefaultEventLagAlarm = 60_000
	EventLagAlarmMin     = 1000
	EventLagAlarmMax     = 3_600_000
)

// EventLagAlarmPeriods is how many one-minute periods in a row the lag must stay above the
// threshold: a lease taking over from a task that died (up to the relay's 30 s lease) or a
// burst of writes passes; a relay that keeps falling behind does not.
const EventLagAlarmPeriods = 3

// EventAlarms watch the relay (ADR 0018) through the line it writes to EMF once a minute from
// the instance holding its lease (internal/app): they exist only where it publishes, and with
// the service. Missing data: a minute without a line is a minute no instance held the lease;
// the lag, failure and skip alarms cannot judge it (notBreaching), event-relay-stopped pages
// when it lasts.
var EventAlarms = []Alarm{
	{
		Purpose: "event-lag-high", Description: "Catalog events reach EventBridge late: the relay's publish lag (change to acceptance) above the threshold for 3 minutes",
		Namespace: emf.Namespace, Metric: emf.EventLagMax, Statistic: "Maximum",
		Comparison: "GreaterThanThreshold", Threshold: DefaultEventLagAlarm, ThresholdSetting: SettingEventLagAlarm,
		PeriodSeconds: 60, EvaluationPeriods: EventLagAlarmPeriods, DatapointsToAlarm: EventLagAlarmPeriods,
		Dimensions: []string{DimEnvironment}, TreatMissingData: "notBreaching", NeedsService: true, When: WithEventBus,
	},
	{
		// Retried, never skipped: a failure that lasts 3 minutes is not throttling (the relay
		// backs off up to 30 s, so a failing minute has attempts) but a permission, key or
		// bus problem.
		Purpose: "events-failed", Description: "EventBridge refused catalog events in each of 3 minutes (retried; the bus gets them late or not while it lasts)",
		Namespace: emf.Namespace, Metric: emf.EventsFailed, Statistic: "Sum",
		Comparison: "GreaterThanThreshold", Threshold: 0,
		PeriodSeconds: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3,
		Dimensions: []string{DimEnvironment}, TreatMissingData: "notBreaching", NeedsService: true, When: WithEventBus,
	},
	{
		// The relay fell behind the change feed's retention: the bus missed these events for
		// good, and its subscribers must re-sync from an export.
		Purpose: "events-skipped", Description: "Catalog events were purged before the relay published them: EventBridge subscribers missed them and must re-sync from an export",
		Namespace: emf.Namespace, Metric: emf.EventsSkipped, Statistic: "Sum",
		Comparison: "GreaterThanThreshold", Threshold: 0,
		PeriodSeconds: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1,
		Dimensions: []string{DimEnvironment}, TreatMissingData: "notBreaching", NeedsService: true, When: WithEventBus,
	},
	{
		// The lease holder writes a line every minute, even idle; none for 5 minutes means no
		// instance publishes (the lease cannot be claimed, or no task runs the relay).
		Purpose: "event-relay-stopped", Description: "No catalog instance has published to EventBridge for 5 minutes (no relay line in the logs: lease not held)",
		Namespace: emf.Namespace, Metric: emf.EventsPublished, Statistic: "SampleCount",
		Comparison: "LessThanThreshold", Threshold: 1,
		PeriodSeconds: 60, EvaluationPeriods: 5, DatapointsToAlarm: 5,
		Dimensions: []string{DimEnvironment}, TreatMissingData: "breaching", NeedsService: true, When: WithEventBus,
	},
}

// EventBusARNPattern is what an existing bus's ARN must match: a bus in any partition, region
// and account, named by CreateEventBus's rules (awsnames.EventBusName).
const EventBusARNPattern = `^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]{1,256}$`

// OwnBus is the option under which the stack creates its own bus: publishing, to no existing bus.
var OwnBus = AllOf(WithEventBus, Without(WithExistingEventBus))

// DefaultEventSource is the events' source unless a deployment says otherwise: the EventBridge
// Source field and the CloudEvents source.
const DefaultEventSource = Project

// EventSourcePattern is what an event source must match: 1-256 characters (PutEvents' Source),
// of letters, digits and . _ - / starting with a letter or digit (safe in a rule pattern and a
// log), and not starting with "aws.", which EventBridge reserves for AWS services' events
// (https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html). Written without
// lookahead so Go, CloudFormation and the deploy scripts read it alike.
const EventSourcePattern = `^(?:a|aw|aws|[A-Zb-z0-9][A-Za-z0-9._/-]{0,255}|a[A-Za-vx-z0-9._/-][A-Za-z0-9._/-]{0,254}|` +
	`aw[A-Za-rt-z0-9._/-][A-Za-z0-9._/-]{0,253}|aws[A-Za-z0-9_/-][A-Za-z0-9._/-]{0,252})$`

var eventSourceRE = regexp.MustCompile(EventSourcePattern)

// ValidateEventSource reports whether s is a usable event source.
func ValidateEventSource(s string) error {
	if !eventSourceRE.MatchString(s) {
		return fmt.Errorf("event source %q must be 1-256 letters, digits, '.', '_', '-' or '/', start with a letter or digit, and not start with \"aws.\" (reserved for AWS services)", s)
	}
	return nil
}

// EventArchiveRetentionDays is the archive's default retention: longer than the change feed's 7
// days, so a consumer that finds a gap after the feed has purged can still replay from AWS.
const EventArchiveRetentionDays = 30

// EventsEndpointService is the interface endpoint EventBridge's API is reached through.
const EventsEndpointService = "events"

// EventBusARN returns the ARN of the bus named name, with placeholders.
func EventBusARN(name string) string {
	return "arn:" + PhPartition + ":events:" + PhRegion + ":" + PhAccount + ":event-bus/" + name
}

// Resources returns the bus and its archive.
func (e EventBus) Resources() []Resource { return []Resource{e.Bus, e.Archive} }

func eventBus() EventBus {
	return EventBus{
		Bus:                  Resource{ID: IDEventBus, Kind: "bus", Purpose: Project, When: OwnBus},
		Archive:              Resource{ID: IDEventArchive, Kind: "archive", Purpose: "events", When: OwnBus},
		ArchiveRetentionDays: EventArchiveRetentionDays,
		Key:                  IDLogsKey,
		Description:          "Catalog events (product, price, stock, category and collection changes) for rules of other services",
	}
}

// KeyPolicyStatements are what the stack key's policy must allow EventBridge for the bus and its
// archive: DescribeKey (to check the key is symmetric), and GenerateDataKey, Decrypt and
// ReEncrypt* only with the encryption context of this bus, which EventBridge uses for the bus's
// events and its archive alike
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html).
// The statements are those pages' examples: DescribeKey (the key's metadata, no data) without a
// condition, as the examples have it; the data keys only in the context of this bus, whose ARN
// names this account, so no other bus and no other account's EventBridge can use them. (An
// aws:SourceAccount condition besides is the pages' "best practice", but their archive example
// leaves it out; a condition EventBridge does not send would fail the bus's creation.)
func (e EventBus) KeyPolicyStatements() []any {
	busARN := EventBusARN(e.Bus.Name(PhSuffix))
	return []any{
		map[string]any{
			"Sid":       "EventBridgeDescribesKey",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "events.amazonaws.com"},
			"Action":    "kms:DescribeKey",
			"Resource":  "*",
		},
		map[string]any{
			"Sid":       "EventBridgeEncryptsStackBus",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "events.amazonaws.com"},
			"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"},
			"Resource":  "*",
			"Condition": map[string]any{"StringEquals": map[string]any{
				"kms:EncryptionContext:aws:events:event-bus:arn": busARN,
			}},
		},
	}
}

// OptionalEnvVar is a container setting that exists only under an option.
type OptionalEnvVar struct {
	EnvVar
	When Option
}

// OptionalStatement is a role's statement that exists only under an option (its resource does
// not exist otherwise).
type OptionalStatement struct {
	Statement
	When Option
}

// EnvironmentIn returns the container's plain settings in a deployment: every one of
// Environment, then the optional ones the deployment has.
func (c Container) EnvironmentIn(ch Choices) []EnvVar {
	out := append([]EnvVar(nil), c.Environment...)
	for _, e := range c.OptionalEnvironment {
		if ch.Has(e.When) {
			out = append(out, e.EnvVar)
		}
	}
	return out
}

// StatementsIn returns the role's statements in a deployment: every one of Statements, then the
// optional ones the deployment has.
func (r Role) StatementsIn(ch Choices) []Statement {
	out := append([]Statement(nil), r.Statements...)
	for _, s := range r.OptionalStatements {
		if ch.Has(s.When) {
			out = append(out, s.Statement)
		}
	}
	return out
}

// withEventBus adds the bus's consequences to the other concerns: the publisher's permission and
// settings, the endpoint it reaches EventBridge through, and the key's grant.
func (a *Architecture) withEventBus() {
	e := a.EventBus
	// The stack's bus, or the existing one.
	busARN := Value{Ref: e.Bus.ID, Attr: AttrARN, With: WithExistingEventBus, WithText: PhEventBusARN}
	a.IAM.TaskRole.OptionalStatements = append(a.IAM.TaskRole.OptionalStatements, OptionalStatement{
		Statement: Statement{Sid: "PublishEvents", Actions: []string{"events:PutEvents"}, Resources: []Value{busARN}},
		When:      WithEventBus,
	})
	a.IAM.TaskRole.Description += "; publish events to the catalog bus"
	c := &a.Service.Container
	c.OptionalEnvironment = append(c.OptionalEnvironment,
		OptionalEnvVar{EnvVar{EnvEventBusName, busARN}, WithEventBus},
		OptionalEnvVar{EnvVar{EnvEventSource, Value{Text: PhEventSource}}, WithEventBus},
		OptionalEnvVar{EnvVar{EnvEventBusConcurrency, Value{Text: PhEventBusConcurrency}}, WithEventBus},
	)
	for _, al := range EventAlarms {
		a.Observability.Alarms = append(a.Observability.Alarms, modelAlarm(al))
	}
	a.Network.Endpoints = append(a.Network.Endpoints, InterfaceEndpoint{
		Resource: Resource{ID: endpointID(EventsEndpointService), Kind: "vpce", Purpose: EndpointPurpose(EventsEndpointService),
			When: AllOf(WithInterfaceEndpoints, WithEventBus)},
		Service: EventsEndpointService, SecurityGroup: SGEndpoints,
	})
	policy := a.Observability.LogsKeyPolicy
	statements := append([]any(nil), policy["Statement"].([]any)...)
	policy["Statement"] = append(statements, e.KeyPolicyStatements()...)
}
