package cfnstack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Event bus parameters and conditions.
const (
	ParamEventBus                  = "EventBusMode"
	ParamEventSource               = "EventSource"
	ParamEventArchiveRetentionDays = "EventArchiveRetentionDays"
	ParamEventBusConcurrency       = "EventBusConcurrency"
	ParamEventLagAlarm             = "EventLagAlarmMilliseconds"
	// CondPublishEvents: the service publishes (to the stack's bus or an existing one);
	// CondEventBus: the stack creates its bus; CondExistingEventBus: EventBusMode is an ARN;
	// CondEventsEndpoint adds the events interface endpoint to the others.
	CondPublishEvents    = "PublishEvents"
	CondEventBus         = "CreateEventBus"
	CondExistingEventBus = "UseExistingEventBus"
	CondEventsEndpoint   = "CreateEventsEndpoint"
	// CondEventAlarms: the relay's alarms, where the service runs and publishes.
	CondEventAlarms = "CreateEventAlarms"
)

// EventBus parameter values.
const (
	EventBusCreate = "create"
	EventBusOff    = "off"
)

// Event bus logical IDs (the model's).
const (
	IDEventBus     = blueprint.IDEventBus
	IDEventArchive = blueprint.IDEventArchive
)

// eventBus renders blueprint.EventBus: its parameters and conditions, the bus and the archive,
// and their outputs. The task role's statement, the container's settings and the endpoint are
// rendered with their own concerns, from the model.
func (b *builder) eventBus(Options) error {
	p := b.t.Parameters
	p[ParamEventBus] = &cfn.Parameter{
		Type: "String",
		Description: "create: an EventBridge bus (" + blueprint.Name(b.m.EventBus.Bus.Kind, b.m.EventBus.Bus.Purpose, "{suffix}") +
			") the service publishes every catalog event to, with an archive for replays; the ARN of an existing bus: the service publishes there (nothing is created); " +
			"off: the service publishes nothing to EventBridge.",
		AllowedPattern:        "^(?:" + EventBusCreate + "|" + EventBusOff + "|" + strings.TrimSuffix(strings.TrimPrefix(blueprint.EventBusARNPattern, "^"), "$") + ")$",
		MaxLength:             cfn.Int(400),
		ConstraintDescription: "create, off, or an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>).",
		Default:               EventBusCreate,
	}
	p[ParamEventSource] = &cfn.Parameter{
		Type:                  "String",
		Description:           "Source of the catalog's events on the bus (EventBridge source and CloudEvents source): what subscribers' rules match on.",
		Default:               blueprint.DefaultEventSource,
		AllowedPattern:        blueprint.EventSourcePattern,
		MaxLength:             cfn.Int(256),
		ConstraintDescription: "1-256 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, not starting with \"aws.\" (reserved for AWS services).",
	}
	p[ParamEventArchiveRetentionDays] = &cfn.Parameter{
		Type:        "Number",
		Description: "Days the bus's archive keeps events for replay (0 keeps them indefinitely).",
		Default:     strconv.Itoa(b.m.EventBus.ArchiveRetentionDays),
		MinValue:    cfn.Float(0),
		MaxValue:    cfn.Float(3650),
	}
	// The parameter's bounds are the service's (blueprint holds them to internal/config): a
	// value the service would refuse at start is refused before the stack changes.
	p[ParamEventBusConcurrency] = &cfn.Parameter{
		Type: "Number",
		Description: "PutEvents requests the relay keeps in flight (EVENT_BUS_CONCURRENCY): 1 publishes in commit order; more raises throughput, " +
			"and subscribers then order by each event's entityversion.",
		Default:               strconv.Itoa(blueprint.DefaultEventBusConcurrency),
		MinValue:              cfn.Float(blueprint.MinEventBusConcurrency),
		MaxValue:              cfn.Float(blueprint.MaxEventBusConcurrency),
		ConstraintDescription: fmt.Sprintf("a whole number from %d to %d.", blueprint.MinEventBusConcurrency, blueprint.MaxEventBusConcurrency),
	}
	p[ParamEventLagAlarm] = &cfn.Parameter{
		Type: "Number",
		Description: fmt.Sprintf("Alarm when events reach EventBridge later than this many milliseconds after their change (EventLagMax) for %d minutes in a row.",
			blueprint.EventLagAlarmPeriods),
		Default:               strconv.Itoa(blueprint.DefaultEventLagAlarm),
		MinValue:              cfn.Float(blueprint.EventLagAlarmMin),
		MaxValue:              cfn.Float(blueprint.EventLagAlarmMax),
		ConstraintDescription: fmt.Sprintf("milliseconds from %d to %d.", blueprint.EventLagAlarmMin, blueprint.EventLagAlarmMax),
	}
	c := b.t.Conditions
	c[CondEventAlarms] = cfn.And(cfn.Condition(CondHasImage), cfn.Condition(CondPublishEvents))
	c[CondPublishEvents] = cfn.Not(cfn.Equals(cfn.Ref(ParamEventBus), EventBusOff))
	c[CondEventBus] = cfn.Equals(cfn.Ref(ParamEventBus), EventBusCreate)
	c[CondExistingEventBus] = cfn.And(cfn.Condition(CondPublishEvents), cfn.Not(cfn.Condition(CondEventBus)))
	c[CondEventsEndpoint] = cfn.And(cfn.Condition(CondCreateInterfaceEndpoints), cfn.Condition(CondPublishEvents))
	if iface, ok := b.t.Metadata["AWS::CloudFormation::Interface"].(map[string]any); ok {
		iface["ParameterGroups"] = append(iface["ParameterGroups"].([]any), group("Events", ParamEventBus, ParamEventSource, ParamEventArchiveRetentionDays,
			ParamEventBusConcurrency, ParamEventLagAlarm))
	}

	e := b.m.EventBus
	key := cfn.GetAtt(e.Key, "Arn")
	b.add(e.Bus.ID, "AWS::Events::EventBus", map[string]any{
		"Name":             modelName(e.Bus),
		"Description":      e.Description,
		"KmsKeyIdentifier": key,
	}, b.when(e.Bus.When))
	b.add(e.Archive.ID, "AWS::Events::Archive", map[string]any{
		"ArchiveName":      modelName(e.Archive),
		"Description":      "Every event of the catalog bus, for replays",
		"SourceArn":        cfn.GetAtt(e.Bus.ID, "Arn"),
		"RetentionDays":    cfn.Ref(ParamEventArchiveRetentionDays),
		"KmsKeyIdentifier": key,
	}, b.when(e.Archive.When))

	out := func(id, description string, value any) {
		b.t.Outputs[id] = &cfn.Output{Description: description, Value: value, Condition: CondEventBus,
			Export: &cfn.Export{Name: cfn.Sub("${AWS::StackName}-" + id)}}
	}
	out("EventBusName", "EventBridge bus the catalog's events are published to (only with EventBusMode=create)", cfn.Ref(e.Bus.ID))
	out("EventBusArn", "ARN of the catalog's event bus, for rules of other stacks (only with EventBusMode=create)", cfn.GetAtt(e.Bus.ID, "Arn"))
	return nil
}
