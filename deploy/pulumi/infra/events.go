package infra

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Events is the EventBridge bus the service publishes the catalog's events to and its archive
// (blueprint.EventBus), both encrypted with the stack key, whose policy the model gives the
// EventBridge grant. Bus and Archive are nil without the bus (eventBus false).
type Events struct {
	pulumi.ResourceState

	Bus     *cloudwatch.EventBus
	Archive *cloudwatch.EventArchive
}

// NewEvents makes the bus and its archive when the configuration asks for them.
func NewEvents(ctx *pulumi.Context, cfg Config, logs *LogEncryption, opts ...pulumi.ResourceOption) (*Events, error) {
	e := &Events{}
	parent, err := newComponent(ctx, cfg, "Events", "events", e, opts...)
	if err != nil {
		return nil, err
	}
	m := blueprint.Model().EventBus
	outputs := pulumi.Map{}
	if cfg.Has(m.Bus.When) {
		busName := cfg.ModelName(m.Bus)
		e.Bus, err = cloudwatch.NewEventBus(ctx, busName, &cloudwatch.EventBusArgs{
			Name:             pulumi.String(busName),
			Description:      pulumi.String(m.Description),
			KmsKeyIdentifier: logs.Key.Arn,
			Tags:             tags(cfg, busName),
		}, parent)
		if err != nil {
			return nil, err
		}
		outputs["eventBusArn"] = e.Bus.Arn
	}
	if cfg.Has(m.Archive.When) {
		archiveName := cfg.ModelName(m.Archive)
		e.Archive, err = cloudwatch.NewEventArchive(ctx, archiveName, &cloudwatch.EventArchiveArgs{
			Name:             pulumi.String(archiveName),
			Description:      pulumi.String("Every event of the catalog bus, for replays"),
			EventSourceArn:   e.Bus.Arn,
			RetentionDays:    pulumi.Int(cfg.EventArchiveDays),
			KmsKeyIdentifier: logs.Key.Arn,
		}, parent)
		if err != nil {
			return nil, err
		}
	}
	return e, ctx.RegisterResourceOutputs(e, outputs)
}
