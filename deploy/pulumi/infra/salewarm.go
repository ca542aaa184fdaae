package infra

import (
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SaleWarm renders blueprint.SaleWarm: with a sale window, two EventBridge Scheduler schedules
// that set the cluster's Serverless v2 minimum to saleMinAcu at the window's start and back to
// dbMinAcu at its end (the maximum dbMaxAcu both times), and the role they run as.
type SaleWarm struct {
	pulumi.ResourceState

	Role      *iam.Role
	Schedules []*scheduler.Schedule
}

// NewSaleWarm makes the schedules and their role, with a sale window; nil without one.
func NewSaleWarm(ctx *pulumi.Context, cfg Config, net *Network, db *Database, opts ...pulumi.ResourceOption) (*SaleWarm, error) {
	m := blueprint.Model().SaleWarm
	if !cfg.Has(m.Role.When) {
		return nil, nil
	}
	w := &SaleWarm{}
	parent, err := newComponent(ctx, cfg, "SaleWarm", "sale-db", w, opts...)
	if err != nil {
		return nil, err
	}
	var stmts []statement
	for _, st := range m.Role.Statements {
		out := statement{Sid: st.Sid, Actions: st.Actions}
		for _, v := range st.Resources {
			if v.Ref != blueprint.IDDBCluster || v.Attr != blueprint.AttrARN {
				return nil, errUnknownModelID(v.Ref)
			}
			out.Resources = append(out.Resources, db.Cluster.Arn)
		}
		stmts = append(stmts, out)
	}
	var policy *iam.RolePolicy
	if w.Role, policy, err = newServiceRole(ctx, cfg, net, m.Role, m.Trust, stmts, parent); err != nil {
		return nil, err
	}
	acu := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, s := range m.Schedules {
		// The cluster's identifier as an output: the schedule waits for the cluster.
		input := db.Cluster.ClusterIdentifier.ApplyT(func(id string) string {
			return s.Input(id, acu(cfg.DBMinACU), acu(cfg.SaleMinACU), acu(cfg.DBMaxACU))
		}).(pulumi.StringOutput)
		name := cfg.ModelName(s.Resource)
		// The policy first: the schedule's first run must be allowed to modify the cluster.
		sch, err := scheduler.NewSchedule(ctx, name, &scheduler.ScheduleArgs{
			Name:                       pulumi.String(name),
			Description:                pulumi.String(s.Description),
			ScheduleExpression:         pulumi.String(s.Expression(cfg.SaleStart, cfg.SaleEnd)),
			ScheduleExpressionTimezone: pulumi.String(m.TimeZone),
			FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String(m.FlexibleWindow)},
			State:                      pulumi.String("ENABLED"),
			ActionAfterCompletion:      pulumi.String(m.ActionAfterCompletion),
			Target: &scheduler.ScheduleTargetArgs{
				Arn:     pulumi.String(expand(m.Target, cfg, net).(string)),
				RoleArn: w.Role.Arn,
				Input:   input,
			},
		}, parent, pulumi.DependsOn([]pulumi.Resource{policy}))
		if err != nil {
			return nil, err
		}
		w.Schedules = append(w.Schedules, sch)
	}
	return w, ctx.RegisterResourceOutputs(w, pulumi.Map{})
}
