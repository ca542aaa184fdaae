package blueprint

// Wait is one deploy-order constraint: From is created only once To exists. Both are resource
// IDs. Each renderer's dependency graph must contain a path From -> To (CloudFormation: its
// DependsOn, Ref, GetAtt and Sub; Pulumi: the dependencies the engine records).
type Wait struct {
	From, To string
	Why      string
}

// Order returns the architecture's deploy-order constraints, whatever their option. Several are
// facts the model already holds as data (a database instance's After, the cluster's LogGroup),
// listed here so one policy and one check per renderer see them all.
func (a Architecture) Order() []Wait {
	var out []Wait
	svc := a.Service.Service.ID
	for _, in := range a.Database.Instances {
		if in.After != "" {
			out = append(out, Wait{in.ID, in.After, "the first instance of a cluster becomes its writer"})
		} else {
			out = append(out, Wait{svc, in.ID, "tasks connect to the database writer as they start"})
		}
	}
	out = append(out,
		Wait{svc, a.Database.Cluster.ID, "tasks read the cluster's secret"},
		Wait{a.Database.Cluster.ID, a.Database.LogGroup, "RDS would create the log group without retention"},
		Wait{a.Scaling.Target.ID, svc, "the scalable target names the service"},
	)
	for _, s := range a.SaleWarm.Schedules {
		out = append(out,
			Wait{s.ID, a.Database.Cluster.ID, "the schedule's input names the cluster"},
			Wait{s.ID, a.SaleWarm.Role.ID, "the schedule's target runs as the role"})
	}
	for _, l := range []Listener{a.Edge.HTTPListener, a.Edge.HTTPSListener} {
		out = append(out, Wait{svc, l.ID, "the target group must be attached to a listener before the service registers tasks"})
	}
	for _, r := range a.Edge.Rules {
		if r.Forward {
			// With CloudFront the listener's default refuses: this rule attaches the target group.
			out = append(out, Wait{svc, r.ID, "the target group must be attached to a listener before the service registers tasks"})
		}
	}
	return out
}

// PresentOrder returns the order constraints between resources a deployment has.
func (a Architecture) PresentOrder(c Choices) []Wait {
	when := map[string]Option{}
	for _, r := range a.Resources() {
		when[r.ID] = r.When
	}
	var out []Wait
	for _, e := range a.Order() {
		if c.Has(when[e.From]) && c.Has(when[e.To]) {
			out = append(out, e)
		}
	}
	return out
}
