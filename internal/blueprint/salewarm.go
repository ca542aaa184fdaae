package blueprint

import (
	"fmt"
	"time"
)

// SaleWarm is the database's side of a planned sale (WithSale). Serverless v2 capacity is not an
// Application Auto Scaling target, so the scalable target's scheduled actions cannot reach it;
// two EventBridge Scheduler schedules call RDS ModifyDBCluster through a universal target
// instead: at the window's start the cluster's minimum becomes the sale's minimum ACU, at its
// end the deployment's own minimum again, the maximum unchanged both times. Serverless v2
// scales faster the higher it already is, so the reader meets the sale's reads from near its
// need rather than from 1 ACU (docs/capacity.md, ADR 0028). The schedules exist with the sale
// window alone: a bootstrap deploy has a database to warm too.
type SaleWarm struct {
	Schedules []SaleSchedule
	// Role is the schedules' execution role: rds:ModifyDBCluster on this cluster, nothing
	// else, assumable only by EventBridge Scheduler for this account (Trust).
	Role  Role
	Trust map[string]any
	// Target is the universal target: the SDK action, by its service and API name.
	Target string
	// FlexibleWindow is OFF: the start must come before the traffic, not within a window of it.
	FlexibleWindow string
	// TimeZone is the at() expressions' zone: the sale's times are UTC, as the scaling's.
	TimeZone string
	// ActionAfterCompletion is NONE: a one-time schedule the scheduler deleted after it ran
	// would be drift against the stack (CloudFormation and Pulumi would recreate it).
	ActionAfterCompletion string
}

// SaleSchedule is one schedule of the sale's window.
type SaleSchedule struct {
	Resource
	AtEnd       bool // at the window's end, back to the deployment's minimum; else the sale's minimum
	Description string
}

// Sale-warming IDs and constants.
const (
	IDSaleWarmRole          = "SaleWarmRole"
	IDSaleWarmStartSchedule = "SaleWarmStartSchedule"
	IDSaleWarmEndSchedule   = "SaleWarmEndSchedule"
	// SchedulerPrincipal is the service that assumes a schedule's execution role.
	SchedulerPrincipal = "scheduler.amazonaws.com"
	// ModifyDBClusterTarget is the universal target of RDS ModifyDBCluster; its Input is the
	// API's request (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html)
	// with the SDK's member names: "DbClusterIdentifier", not the query API's
	// "DBClusterIdentifier", as schedules calling rds:stopDBInstance pass "DbInstanceIdentifier".
	ModifyDBClusterTarget = "arn:" + PhPartition + ":scheduler:::aws-sdk:rds:modifyDBCluster"
)

// SaleWarmInput returns a schedule's target input, the ModifyDBCluster request: the cluster by
// its identifier and both capacity bounds (the API takes the configuration whole). The three
// values are text, so each renderer passes its own (a parameter, a configured number).
func SaleWarmInput(cluster, min, max string) string {
	return `{"DbClusterIdentifier":"` + cluster + `","ServerlessV2ScalingConfiguration":{"MinCapacity":` + min + `,"MaxCapacity":` + max + `}}`
}

// Resources returns the schedules, the role and its policy.
func (w SaleWarm) Resources() []Resource {
	var out []Resource
	for _, s := range w.Schedules {
		out = append(out, s.Resource)
	}
	return append(out, w.Role.Resource, w.Role.Policy)
}

func saleWarm() SaleWarm {
	return SaleWarm{
		Schedules: []SaleSchedule{
			{Resource: Resource{ID: IDSaleWarmStartSchedule, Kind: "schedule", Purpose: "sale-db-start", When: WithSale},
				Description: "raises the catalog database's minimum capacity for the planned sale"},
			{Resource: Resource{ID: IDSaleWarmEndSchedule, Kind: "schedule", Purpose: "sale-db-end", When: WithSale}, AtEnd: true,
				Description: "restores the catalog database's minimum capacity after the planned sale"},
		},
		Role: Role{
			Resource:    Resource{ID: IDSaleWarmRole, Kind: "role", Purpose: "sale-db", When: WithSale},
			Policy:      Resource{ID: IDSaleWarmRole + "Policy", Kind: "policy", Purpose: "sale-db", When: WithSale},
			Description: "EventBridge Scheduler raises the catalog database's minimum capacity for a planned sale, and restores it, with this role",
			Statements: []Statement{
				{"ModifyClusterCapacity", []string{"rds:ModifyDBCluster"}, []Value{{Ref: IDDBCluster, Attr: AttrARN}}, nil},
			},
		},
		Trust: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": SchedulerPrincipal},
				"Action":    "sts:AssumeRole",
				// Confused deputy: only this account's schedules
				// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": PhAccount},
				},
			}},
		},
		Target:                ModifyDBClusterTarget,
		FlexibleWindow:        "OFF",
		TimeZone:              "UTC",
		ActionAfterCompletion: "NONE",
	}
}

// Expression returns the schedule's at() expression for the window's start and end (UTC,
// yyyy-mm-ddThh:mm:ss, in TimeZone).
func (s SaleSchedule) Expression(start, end string) string {
	if s.AtEnd {
		return "at(" + end + ")"
	}
	return "at(" + start + ")"
}

// Input returns the schedule's ModifyDBCluster request: at the start the sale's minimum, at the
// end the deployment's own minimum; the deployment's maximum both times.
func (s SaleSchedule) Input(cluster, deploymentMin, saleMin, max string) string {
	if s.AtEnd {
		return SaleWarmInput(cluster, deploymentMin, max)
	}
	return SaleWarmInput(cluster, saleMin, max)
}

// SaleTimeLayout is a sale window's time: UTC without a zone, as the at() expressions of
// Application Auto Scaling's scheduled actions and EventBridge Scheduler's schedules take it.
const SaleTimeLayout = "2006-01-02T15:04:05"

// SaleWindowAhead refuses a sale window whose end is not after now. Neither Application Auto
// Scaling nor EventBridge Scheduler documents what a one-time action or schedule created or
// changed after its time does: run at once, or never. A stale window left in a deployment's
// settings would then be redeployed with the next change (a new sale minimum, a renamed
// cluster), and a start schedule that runs at once after its end schedule has run leaves both
// database instances at the sale's minimum for good, about 11.50 USD an hour in prod. A window
// under way (start passed, end ahead) is allowed: a fix may need deploying during the sale, and
// unchanged schedules are not touched. Both stacks' deploy paths call it with the clock; the
// template cannot, having no clock.
func SaleWindowAhead(end string, now time.Time) error {
	if end == "" {
		return nil
	}
	t, err := time.Parse(SaleTimeLayout, end)
	if err != nil {
		return fmt.Errorf("the planned sale's end %q is not a UTC time as yyyy-mm-ddThh:mm:ss", end)
	}
	if !t.After(now) {
		return fmt.Errorf("the planned sale ended at %s UTC (now %s UTC): clear its window (both start and end) before deploying; "+
			"its schedules have run, and a schedule created or changed after its time has no documented behaviour", end, now.UTC().Format(SaleTimeLayout))
	}
	return nil
}
