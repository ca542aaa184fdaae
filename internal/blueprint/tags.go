package blueprint

// Tagging says which tags one resource carries: the common tags (TagKeys) on every resource
// whose AWS type takes tags, plus a Name tag where the console shows no name of its own (EC2
// resources, the target group). A resource without tags says why.
type Tagging struct {
	Common bool
	Name   bool
	// Untagged is why the resource carries no tags, when it carries none.
	Untagged string
}

// TagKeys are the tags every tagged resource carries: what it belongs to, which environment,
// who pays, and which tool manages it.
var TagKeys = []string{TagProject, TagEnvironment, TagCostCenter, TagManagedBy}

// TagName is the key of the Name tag.
const TagName = "Name"

// Tags returns each resource's tagging, by ID, for every resource of the architecture.
func (a Architecture) Tags() map[string]Tagging {
	out := map[string]Tagging{}
	tagged := Tagging{Common: true}
	named := Tagging{Common: true, Name: true}
	none := func(why string, rs ...Resource) {
		for _, r := range rs {
			out[r.ID] = Tagging{Untagged: why}
		}
	}
	set := func(t Tagging, rs ...Resource) {
		for _, r := range rs {
			out[r.ID] = t
		}
	}
	n := a.Network
	set(named, n.VPC, n.InternetGateway, n.S3Endpoint)
	for _, s := range n.Subnets {
		set(named, s.Resource)
	}
	for _, g := range n.NATGateways {
		set(named, g.Resource, g.EIP)
	}
	for _, rt := range n.RouteTables {
		set(named, rt.Resource)
		if rt.DefaultRoute.ID != "" {
			none("a route takes no tags (it is part of its table)", rt.DefaultRoute)
		}
	}
	for _, e := range n.Endpoints {
		set(named, e.Resource)
	}
	for _, g := range n.SecurityGroups {
		set(named, g.Resource)
	}
	for _, r := range n.Rules {
		none("a security-group rule is part of its group (CloudFormation's rule types take no tags)", r.Resource)
	}
	set(tagged, n.FlowLogs.FlowLog, n.FlowLogs.Role.Resource)
	none("an inline role policy takes no tags (its role carries them)", n.FlowLogs.Role.Policy)
	e := a.Edge
	set(tagged, e.LoadBalancer)
	set(named, e.TargetGroup)
	none("CloudFormation's listener type takes no tags", e.HTTPListener.Resource, e.HTTPSListener.Resource)
	none("a web ACL association takes no tags", e.WebACL)
	for _, r := range e.Rules {
		none("CloudFormation's listener rule type takes no tags", r.Resource)
	}
	set(tagged, e.CDN.Distribution, e.CDN.OriginSecret, e.Firewall.WebACL, e.CDN.ViewerFunction)
	none("a web ACL association takes no tags", e.Firewall.Association)
	none("a CloudFront cache policy takes no tags", e.CDN.CachePolicy)
	set(tagged, a.Registry.Repository)
	set(tagged, a.Service.Resources()...)
	none("CloudFormation's scalable target type takes no tags", a.Scaling.Target)
	for _, p := range a.Scaling.Policies {
		none("a scaling policy takes no tags", p.Resource)
	}
	none("a scaling policy takes no tags", a.Scaling.Step.Policy)
	set(tagged, a.Scaling.Step.Alarm.Resource)
	set(tagged, a.Database.Resources()...)
	set(tagged, a.Config.Resources()...)
	for _, r := range a.IAM.Roles() {
		set(tagged, r.Resource)
		none("an inline role policy takes no tags (its role carries them)", r.Policy)
	}
	o := a.Observability
	set(tagged, o.LogsKey, o.Topic)
	none("a KMS alias takes no tags", o.LogsKeyAlias)
	none("an SNS subscription takes no tags", o.Subscription)
	none("a CloudWatch dashboard takes no tags", o.Dashboard)
	for _, g := range o.LogGroups {
		set(tagged, g.Resource)
	}
	for _, al := range o.Alarms {
		set(tagged, al.Resource)
	}
	set(tagged, a.EventBus.Bus)
	none("an EventBridge archive takes no tags", a.EventBus.Archive)
	for _, s := range a.SaleWarm.Schedules {
		none("an EventBridge Scheduler schedule takes no tags", s.Resource)
	}
	set(tagged, a.SaleWarm.Role.Resource)
	none("an inline role policy takes no tags (its role carries them)", a.SaleWarm.Role.Policy)
	return out
}
