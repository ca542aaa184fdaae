package blueprint_test

// The policy suite: the architecture's rules, written once against the model. Each renderer's
// tests only check that its output carries what the model says (cfnstack's and
// deploy/pulumi/infra's model tests).

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/awsnames"
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/capacity"
	"github.com/acme/catalog/internal/depgraph"
)

// eachDeployment runs a policy under every combination of the options.
func eachDeployment(t *testing.T, policy func(t *testing.T, a blueprint.Architecture, c blueprint.Choices)) {
	t.Helper()
	a := blueprint.Model()
	for _, c := range blueprint.AllChoices() {
		t.Run(choiceName(c), func(t *testing.T) { policy(t, a, c) })
	}
}

func choiceName(c blueprint.Choices) string {
	var on []string
	for _, o := range blueprint.Options {
		if c[o] {
			on = append(on, string(o))
		}
	}
	if len(on) == 0 {
		return "no-options"
	}
	return strings.Join(on, "+")
}

// The security-group chain, exactly: internet -> load balancer (80, 443) -> tasks (AppPort) ->
// database (DBPort), tasks -> AWS APIs over HTTPS, and with interface endpoints tasks ->
// endpoints (443). Nothing else.
func TestPolicySecurityGroupChainIsExact(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		n := a.Network
		var got []string
		for _, r := range n.PresentRules(c) {
			peer := r.CIDR
			if r.PeerGroup != "" {
				g, ok := n.SecurityGroup(r.PeerGroup)
				if !ok || !c.Has(g.When) {
					t.Errorf("rule %s refers to group %s, which this deployment lacks", r.ID, r.PeerGroup)
				}
				peer = g.Purpose
			}
			if r.PrefixList != "" {
				peer = r.PrefixList
			}
			g, ok := n.SecurityGroup(r.Group)
			if !ok || !c.Has(g.When) {
				t.Errorf("rule %s belongs to group %s, which this deployment lacks", r.ID, r.Group)
			}
			got = append(got, fmt.Sprintf("%s %s tcp/%d %s", g.Purpose, r.Direction, r.PortIn(c), peer))
		}
		want := []string{"alb ingress tcp/80 0.0.0.0/0", "alb ingress tcp/443 0.0.0.0/0"}
		if c.Has(blueprint.WithCloudFront) {
			want = []string{fmt.Sprintf("alb ingress tcp/%d %s", a.Edge.ServingListener(c).Port, blueprint.CloudFrontPrefixListName)}
		}
		want = append(want,
			fmt.Sprintf("alb egress tcp/%d tasks", blueprint.AppPort),
			fmt.Sprintf("tasks ingress tcp/%d alb", blueprint.AppPort),
			"tasks egress tcp/443 0.0.0.0/0",
			fmt.Sprintf("tasks egress tcp/%d db", blueprint.DBPort),
			fmt.Sprintf("db ingress tcp/%d tasks", blueprint.DBPort),
		)
		if c.Has(blueprint.WithInterfaceEndpoints) {
			want = append(want, "endpoints ingress tcp/443 tasks")
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("security-group rules:\n got  %q\n want %q", got, want)
		}
		// The only rules from anywhere are to the load balancer; the only rules to anywhere
		// leave the tasks over HTTPS.
		for _, r := range n.PresentRules(c) {
			if r.CIDR == "" {
				continue
			}
			if r.Direction == blueprint.Ingress && r.Group != blueprint.SGLoadBalancer {
				t.Errorf("rule %s lets %s into %s; only the load balancer is open to an address range", r.ID, r.CIDR, r.Group)
			}
			if r.Direction == blueprint.Egress && (r.Group != blueprint.SGTasks || r.Port != blueprint.HTTPSPort) {
				t.Errorf("rule %s sends %s to %s; only the tasks reach out, over HTTPS", r.ID, r.Group, r.CIDR)
			}
		}
	})
}

// Tiers: public subnets route to the internet gateway, private ones only through a NAT gateway
// that exists in the deployment, isolated ones nowhere; NAT gateways sit in public subnets.
func TestPolicyNetworkTiers(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		n := a.Network
		nats := n.PresentNATGateways(c)
		wantNATs := 1
		if c.Has(blueprint.WithNATPerAZ) {
			wantNATs = blueprint.AZCount
		}
		if len(nats) != wantNATs {
			t.Errorf("%d NAT gateways, want %d", len(nats), wantNATs)
		}
		for _, g := range nats {
			if s, ok := n.Subnet(g.Subnet); !ok || s.Tier != blueprint.TierPublic {
				t.Errorf("NAT gateway %s is in %s, want a public subnet", g.ID, g.Subnet)
			}
			if g.EIP.When != g.When {
				t.Errorf("NAT gateway %s and its address %s exist under different options", g.ID, g.EIP.ID)
			}
		}
		associated := map[string]int{}
		for _, rt := range n.RouteTables {
			for _, id := range rt.Subnets {
				associated[id]++
				if s, _ := n.Subnet(id); s.Tier != rt.Tier {
					t.Errorf("route table %s (%s) holds %s subnet %s", rt.ID, rt.Tier, s.Tier, id)
				}
			}
			switch rt.Tier {
			case blueprint.TierPublic:
				if !rt.ToInternetGateway || rt.DefaultRoute.ID == "" {
					t.Errorf("public route table %s has no route to the internet gateway", rt.ID)
				}
			case blueprint.TierPrivate:
				if rt.ToInternetGateway || rt.DefaultRoute.ID == "" {
					t.Errorf("private route table %s must route out through NAT only", rt.ID)
				}
				if g := n.RouteNAT(rt, c); !c.Has(g.When) {
					t.Errorf("private route table %s routes to NAT gateway %s, absent in this deployment", rt.ID, g.ID)
				}
			case blueprint.TierIsolated:
				if rt.ToInternetGateway || rt.DefaultRoute.ID != "" {
					t.Errorf("isolated route table %s has a route out", rt.ID)
				}
			}
		}
		for _, s := range n.Subnets {
			if associated[s.ID] != 1 {
				t.Errorf("subnet %s is in %d route tables, want 1", s.ID, associated[s.ID])
			}
		}
		// Per-AZ NAT: each private table uses its own zone's gateway, so an AZ outage leaves
		// the others routing.
		if c.Has(blueprint.WithNATPerAZ) {
			for _, rt := range n.RouteTables {
				if rt.Tier != blueprint.TierPrivate {
					continue
				}
				s, _ := n.Subnet(rt.Subnets[0])
				nat, _ := n.Subnet(n.RouteNAT(rt, c).Subnet)
				if s.AZ != nat.AZ {
					t.Errorf("route table %s (AZ %d) uses the NAT gateway in AZ %d", rt.ID, s.AZ, nat.AZ)
				}
			}
		}
	})
}

// Every resource has a unique ID and a unique name, and AWS accepts the name for the longest
// and the shortest suffix (awsnames cites the rules). Security groups' names are checked as
// group names: EC2 refuses "sg-" at the start.
func TestPolicyNames(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	for _, r := range blueprint.Model().Resources() {
		if r.ID == "" || r.Kind == "" || r.Purpose == "" {
			t.Errorf("resource %+v lacks an ID, a kind or a purpose", r)
			continue
		}
		if ids[r.ID] {
			t.Errorf("ID %s is used twice", r.ID)
		}
		ids[r.ID] = true
		if n := r.Name("x"); names[n] {
			t.Errorf("name %s is used twice", n)
		} else {
			names[n] = true
		}
		for _, suffix := range []string{"a", strings.Repeat("z", blueprint.MaxSuffixLength)} {
			name := r.Name(suffix)
			if !strings.HasSuffix(name, "-"+suffix) {
				t.Errorf("%s: name %s does not end in the suffix", r.ID, name)
			}
			kind, ok := nameKinds[r.Kind]
			if !ok {
				kind = awsnames.TagValue // only a Name tag
			}
			if err := awsnames.Check(kind, name); err != nil {
				t.Errorf("%s: %v", r.ID, err)
			}
			if r.Kind == "db" {
				if err := awsnames.Check(awsnames.DBInstanceIdentifier, name); err != nil {
					t.Errorf("%s: %v", r.ID, err)
				}
			}
		}
	}
}

// nameKinds are the AWS name rules of the resources whose name is the model's name.
var nameKinds = map[string]awsnames.Kind{
	blueprint.SecurityGroupKind: awsnames.SecurityGroupName,
	"alarm":                     awsnames.AlarmName,
	"dashboard":                 awsnames.DashboardName,
	"topic":                     awsnames.SNSTopicName,
	"ecs":                       awsnames.ECSClusterName,
	"svc":                       awsnames.ECSServiceName,
	"task":                      awsnames.ECSTaskFamily,
	"alb":                       awsnames.LoadBalancerName,
	"ecr":                       awsnames.ECRRepositoryName,
	"scaling":                   awsnames.ScalingPolicyName,
	"db":                        awsnames.DBClusterIdentifier, // and DBInstanceIdentifier: checked too
	"dbsubnets":                 awsnames.DBSubnetGroupName,
	"dbparams":                  awsnames.DBParameterGroupName,
	"role":                      awsnames.IAMRoleName,
	"policy":                    awsnames.IAMPolicyName,
	"tg":                        awsnames.TargetGroupName, // only a Name tag, but it must fit should it become the name
	"bus":                       awsnames.EventBusName,
	"archive":                   awsnames.EventArchiveName,
	"schedule":                  awsnames.SchedulerScheduleName,
}

// The edge: the load balancer sits in the public subnets behind its own group; HTTPS exactly
// when there is a certificate, and then plain HTTP only redirects.
func TestPolicyEdge(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		e := a.Edge
		if e.Subnets != blueprint.TierPublic || e.SecurityGroup != blueprint.SGLoadBalancer {
			t.Errorf("load balancer in %s subnets with group %s", e.Subnets, e.SecurityGroup)
		}
		var got []string
		for _, l := range e.Listeners(c) {
			got = append(got, fmt.Sprintf("%s/%d %s", l.Protocol, l.Port, l.DefaultAction(c)))
		}
		serving := "forward"
		if c.Has(blueprint.WithCloudFront) {
			serving = "refuse" // only the origin-header rule forwards
		}
		want := []string{"HTTP/80 " + serving}
		if c.Has(blueprint.WithCertificate) {
			want = []string{"HTTP/80 redirect", "HTTPS/443 " + serving}
		}
		if !slices.Equal(got, want) {
			t.Errorf("listeners %q, want %q", got, want)
		}
		// The serving listener's port is one the load balancer's group admits; without
		// CloudFront every listener's port is open to the internet.
		open := map[int]bool{}
		for _, r := range a.Network.PresentRules(c) {
			if r.Group == e.SecurityGroup && r.Direction == blueprint.Ingress {
				open[r.PortIn(c)] = true
			}
		}
		if l := e.ServingListener(c); !open[l.Port] {
			t.Errorf("serving listener %s on port %d, which the load balancer's group does not admit", l.ID, l.Port)
		}
		if !c.Has(blueprint.WithCloudFront) {
			for _, l := range e.Listeners(c) {
				if !open[l.Port] {
					t.Errorf("listener %s on port %d, which the load balancer's group does not open", l.ID, l.Port)
				}
			}
		}
	})
}

// The container: non-root, on the app port, stopped only after the app's own shutdown, and every
// credential injected as a secret from a resource, never as plain text.
func TestPolicyContainer(t *testing.T) {
	s := blueprint.Model().Service
	c := s.Container
	if c.User == "" || strings.HasPrefix(c.User, "0") || strings.HasPrefix(c.User, "root") {
		t.Errorf("container user %q: want a non-root UID", c.User)
	}
	if c.Port != blueprint.AppPort {
		t.Errorf("container port %d, want the app port %d", c.Port, blueprint.AppPort)
	}
	if time := blueprint.ShutdownTimeout.Seconds(); float64(c.StopTimeout) <= time {
		t.Errorf("stop timeout %d s is not longer than the app's shutdown (%v s): ECS would SIGKILL a draining task", c.StopTimeout, time)
	}
	if c.ScratchPath != blueprint.TmpfsPath || c.ScratchVolume == "" {
		t.Errorf("scratch volume %q at %q, want one at %s", c.ScratchVolume, c.ScratchPath, blueprint.TmpfsPath)
	}
	checkSettings(t, "service", c, []string{blueprint.EnvPort, blueprint.EnvEnvironment, blueprint.EnvAWSRegion, blueprint.EnvDBSSLMode,
		blueprint.EnvDBHost, blueprint.EnvDBUser, blueprint.EnvDBIAMAuth, blueprint.EnvMigrateOnStart, blueprint.EnvAPIKeysSecretARN})
	checkSettings(t, "migrate", s.MigrateContainer, []string{blueprint.EnvEnvironment, blueprint.EnvAWSRegion, blueprint.EnvDBSSLMode,
		blueprint.EnvDBSecretARN, blueprint.EnvDBHost, blueprint.EnvDBUser, blueprint.EnvDBPassword, blueprint.EnvDBAppRole, blueprint.EnvDBAppRoleIAM})
	// Without an image there is nothing to run: no task definition, no service (bootstrap).
	for _, r := range []blueprint.Resource{s.TaskDefinition, s.Service, s.MigrateTaskDefinition} {
		if r.When != blueprint.WithImage {
			t.Errorf("%s exists under %q, want only with the image", r.ID, r.When)
		}
	}
}

// checkSettings holds a container's settings to the rules: each set once, with a value, every
// credential injected as a secret from a resource, and the named ones present.
func checkSettings(t *testing.T, which string, c blueprint.Container, want []string) {
	t.Helper()
	secret := map[string]bool{blueprint.EnvDBPassword: true, blueprint.EnvAPIKeys: true}
	seen := map[string]bool{}
	for _, list := range []struct {
		vars    []blueprint.EnvVar
		secrets bool
	}{{c.Environment, false}, {c.Secrets, true}} {
		for _, e := range list.vars {
			if seen[e.Name] {
				t.Errorf("%s is set twice", e.Name)
			}
			seen[e.Name] = true
			if (secret[e.Name] || e.Value.Ref == blueprint.IDDBSecret && e.Value.JSONKey != "") && !list.secrets {
				t.Errorf("%s: %s is a plain environment variable; it must be a secret", which, e.Name)
			}
			if list.secrets && e.Value.Ref == "" {
				t.Errorf("%s: secret %s has no resource to come from", which, e.Name)
			}
			if e.Value.Ref == "" && e.Value.Text == "" {
				t.Errorf("%s: %s has no value", which, e.Name)
			}
		}
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("the %s container does not set %s", which, name)
		}
	}
}

// Names that are not {kind}-{purpose}-{suffix}: the log groups' paths and the key's alias.
func TestPolicyPathNames(t *testing.T) {
	o := blueprint.Model().Observability
	for _, suffix := range []string{"a", strings.Repeat("z", blueprint.MaxSuffixLength)} {
		for _, g := range o.LogGroups {
			if err := awsnames.Check(awsnames.LogGroupName, blueprint.Expand(g.Path, "aws", "us-east-1", "123456789012", suffix)); err != nil {
				t.Errorf("%s: %v", g.ID, err)
			}
		}
		if err := awsnames.Check(awsnames.KMSAliasName, "alias/"+o.LogsKey.Name(suffix)); err != nil {
			t.Errorf("%s: %v", o.LogsKeyAlias.ID, err)
		}
		if err := awsnames.Check(awsnames.SecretName, blueprint.APIKeySecretName(suffix)); err != nil {
			t.Errorf("%s: %v", blueprint.IDAPIKeySecret, err)
		}
		for _, p := range blueprint.Model().Config.Parameters {
			if err := awsnames.Check(awsnames.SSMParameterName, blueprint.ParameterPath(suffix)+p.Key); err != nil {
				t.Errorf("%s: %v", p.ID, err)
			}
		}
	}
}

// Alarms: each one is well formed, notifies through a topic that always exists, and names the
// service only when the service exists (else it would name nothing, or page during the
// bootstrap deploy); the dashboard's widgets likewise.
func TestPolicyAlarms(t *testing.T) {
	o := blueprint.Model().Observability
	known := map[string]bool{blueprint.DimClusterName: true, blueprint.DimServiceName: true, blueprint.DimLoadBalancer: true,
		blueprint.DimTargetGroup: true, blueprint.DimDBCluster: true, blueprint.DimEnvironment: true}
	if o.Topic.When != blueprint.Always {
		t.Errorf("the alarm topic exists under %q; alarms need it always", o.Topic.When)
	}
	if len(o.Alarms) == 0 {
		t.Fatal("no alarms")
	}
	for _, ma := range o.Alarms {
		a := ma.Alarm
		if (a.Statistic == "") == (a.ExtendedStatistic == "") {
			t.Errorf("alarm %s: want exactly one of Statistic and ExtendedStatistic", ma.ID)
		}
		if a.DatapointsToAlarm < 1 || a.DatapointsToAlarm > a.EvaluationPeriods {
			t.Errorf("alarm %s: %d datapoints of %d periods", ma.ID, a.DatapointsToAlarm, a.EvaluationPeriods)
		}
		// CloudWatch takes periods of 10, 30 or a multiple of 60 seconds (PutMetricAlarm, Period:
		// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
		if p := a.PeriodSeconds; p != 10 && p != 30 && (p < 60 || p%60 != 0) {
			t.Errorf("alarm %s: period %d s", ma.ID, p)
		}
		// Same page: Period times EvaluationPeriods at most 604,800 s (7 days), and at most
		// 86,400 s for a period under an hour; AlarmDescription at most 1024 characters.
		limit := 604_800
		if a.PeriodSeconds < 3600 {
			limit = 86_400
		}
		if a.PeriodSeconds*a.EvaluationPeriods > limit {
			t.Errorf("alarm %s evaluates %d s, more than the %d s CloudWatch allows", ma.ID, a.PeriodSeconds*a.EvaluationPeriods, limit)
		}
		if len(a.Description) > 1024 {
			t.Errorf("alarm %s: description of %d characters, at most 1024", ma.ID, len(a.Description))
		}
		if !slices.Contains([]string{"breaching", "notBreaching", "ignore", "missing"}, a.TreatMissingData) {
			t.Errorf("alarm %s: TreatMissingData %q", ma.ID, a.TreatMissingData)
		}
		if a.Description == "" || a.Namespace == "" || a.Metric == "" || a.Comparison == "" || len(a.Dimensions) == 0 {
			t.Errorf("alarm %s is incomplete: %+v", ma.ID, a)
		}
		for _, d := range a.Dimensions {
			if !known[d] {
				t.Errorf("alarm %s: unknown dimension %s", ma.ID, d)
			}
			if d == blueprint.DimServiceName && !slices.Contains(ma.When.Parts(), blueprint.WithImage) {
				t.Errorf("alarm %s names the service but exists under %q; it must exist only with the image", ma.ID, ma.When)
			}
		}
		if a.NeedsService != slices.Contains(ma.When.Parts(), blueprint.WithImage) {
			t.Errorf("alarm %s: NeedsService %v but exists under %q", ma.ID, a.NeedsService, ma.When)
		}
	}
	for _, w := range o.Widgets {
		for _, m := range w.Metrics {
			for _, d := range m.Dimensions {
				if !known[d] {
					t.Errorf("widget %q: unknown dimension %s", w.Title, d)
				}
				if d == blueprint.DimServiceName && w.When != blueprint.WithImage {
					t.Errorf("widget %q names the service but exists under %q", w.Title, w.When)
				}
			}
		}
	}
}

// The logs key lets CloudWatch Logs use it for exactly the stack's log groups, and denies grants
// to anything but AWS services.
func TestPolicyLogsKey(t *testing.T) {
	o := blueprint.Model().Observability
	var want []any
	for _, g := range o.LogGroups {
		want = append(want, blueprint.LogGroupARN(g.Path))
	}
	var gotARNs []any
	denies := false
	for _, st := range o.LogsKeyPolicy["Statement"].([]any) {
		m := st.(map[string]any)
		if m["Sid"] == "LogsEncryptStackLogGroups" {
			gotARNs = m["Condition"].(map[string]any)["ArnEquals"].(map[string]any)["kms:EncryptionContext:aws:logs:arn"].([]any)
		}
		if m["Effect"] == "Deny" && slices.Equal(m["Action"].([]string), []string{"kms:CreateGrant"}) {
			denies = true
		}
	}
	if !slices.Equal(gotARNs, want) {
		t.Errorf("the key admits log groups %v, want %v", gotARNs, want)
	}
	if !denies {
		t.Error("the key policy does not deny grants to non-AWS services")
	}
}

// Scaling: at least two tasks (one zone's loss leaves one), out fast and in slowly, targets with
// headroom, and only where the service exists.
func TestPolicyScaling(t *testing.T) {
	a := blueprint.Model()
	sc := a.Scaling
	if sc.Min < 2 || sc.Max < sc.Min {
		t.Errorf("scaling %d-%d tasks, want at least 2 and max >= min", sc.Min, sc.Max)
	}
	if sc.ScaleOutCooldown >= sc.ScaleInCooldown {
		t.Errorf("scale-out cooldown %d s >= scale-in %d s: capacity must come faster than it goes", sc.ScaleOutCooldown, sc.ScaleInCooldown)
	}
	metrics := map[string]bool{}
	for _, p := range sc.Policies {
		metrics[p.Metric] = true
		if p.Metric != "ALBRequestCountPerTarget" && (p.Target < 10 || p.Target > 90) {
			t.Errorf("policy %s targets %d%%", p.ID, p.Target)
		}
		if p.ResourceLabel != (p.Metric == "ALBRequestCountPerTarget") {
			t.Errorf("policy %s on %s: resource label %t; only ALBRequestCountPerTarget takes one", p.ID, p.Metric, p.ResourceLabel)
		}
		if p.When != a.Service.Service.When {
			t.Errorf("policy %s exists under %q, the service under %q", p.ID, p.When, a.Service.Service.When)
		}
	}
	if !metrics["ECSServiceAverageCPUUtilization"] || !metrics["ECSServiceAverageMemoryUtilization"] || !metrics["ALBRequestCountPerTarget"] {
		t.Errorf("scaling tracks %v, want CPU, memory and request count", metrics)
	}
	if sc.Target.When != a.Service.Service.When {
		t.Errorf("the scalable target exists under %q, the service under %q", sc.Target.When, a.Service.Service.When)
	}
}

// Flash sale (issue 19, docs/capacity.md): the scaling the simulation made necessary. A 10x
// ramp over the baseline must fit under MaxTasks with headroom, request-count tracking must aim
// at what a task serves at the CPU target (so both policies agree on a task's load), and prod's
// database must be allowed the capacity units 10x needs.
func TestPolicyFlashSale(t *testing.T) {
	const baseline, factor = 2000.0, 10 // req/s, docs/capacity.md's stated baseline
	a := blueprint.Model()
	need := int(math.Ceil(baseline * factor / blueprint.RequestsPerTask))
	if a.Scaling.Max < need+need/2 {
		t.Errorf("max tasks %d: a 10x sale needs %d, want at least half as many again for headroom", a.Scaling.Max, need)
	}
	var req *blueprint.ScalingPolicy
	for i, p := range a.Scaling.Policies {
		if p.Metric == "ALBRequestCountPerTarget" {
			req = &a.Scaling.Policies[i]
		}
	}
	if req == nil {
		t.Fatal("no ALBRequestCountPerTarget policy: CPU tracking alone leaves 430 s of the sale unserved")
	}
	// The target is per minute: a task at the target runs at the CPU target, not above it.
	if req.Target != blueprint.RequestsPerTask*60 || !req.ResourceLabel {
		t.Errorf("request-count target %d (label %t), want %d requests/minute/target with a resource label", req.Target, req.ResourceLabel, blueprint.RequestsPerTask*60)
	}
	// Step scaling: one one-minute datapoint, above the CPU target (or it would fight target
	// tracking's scale-in) and below saturation (a saturated task reads 100%), steps from the
	// threshold up, each adding at least half the capacity.
	st := a.Scaling.Step
	al := st.Alarm.Alarm
	if al.Namespace != "AWS/ECS" || al.Metric != "CPUUtilization" || al.PeriodSeconds != 60 || al.EvaluationPeriods != 1 || al.DatapointsToAlarm != 1 ||
		al.Comparison != "GreaterThanThreshold" || !(al.Threshold > blueprint.CPUTargetPercent && al.Threshold < 100) {
		t.Errorf("step scaling alarm %+v: want service CPU above the target on one 60 s datapoint", al)
	}
	if len(st.Steps) == 0 || st.Steps[0].LowerBound != 0 {
		t.Errorf("steps %v: the first must start at the threshold", st.Steps)
	}
	for i, x := range st.Steps {
		if x.PercentChange < 50 || (i > 0 && (x.LowerBound <= st.Steps[i-1].LowerBound || x.PercentChange <= st.Steps[i-1].PercentChange)) {
			t.Errorf("step %d %+v: steps ascend in bound and size, each at least +50%%", i, x)
		}
		if float64(x.LowerBound)+al.Threshold >= 100 {
			t.Errorf("step %d starts at %v%% CPU, which a service never exceeds", i, float64(x.LowerBound)+al.Threshold)
		}
	}
	if st.MinAdjustment < 1 || st.Cooldown != a.Scaling.ScaleOutCooldown {
		t.Errorf("step scaling adds at least %d tasks, cooldown %d s; want >= 1 and the scale-out cooldown", st.MinAdjustment, st.Cooldown)
	}
	if svc := a.Service.Service.When; st.Policy.When != svc || st.Alarm.When != svc || !al.NeedsService {
		t.Errorf("step policy under %q, its alarm under %q, the service under %q", st.Policy.When, st.Alarm.When, svc)
	}
	// A planned sale: one action raises the minimum at the window's start, one restores it at
	// its end (a start alone would keep the sale's tasks for good); the default minimum covers
	// the 10x peak and fits under MaxTasks.
	var starts, ends int
	for _, x := range a.Scaling.Sale {
		if x.AtEnd {
			ends++
		} else {
			starts++
		}
	}
	if starts != 1 || ends != 1 {
		t.Errorf("sale actions %+v: want one at the start and one at the end", a.Scaling.Sale)
	}
	if blueprint.SaleMinTasks < need || blueprint.SaleMinTasks > a.Scaling.Max {
		t.Errorf("sale minimum %d: want the 10x need %d, at most MaxTasks %d", blueprint.SaleMinTasks, need, a.Scaling.Max)
	}
	prod, err := blueprint.LookupEnvironment("prod")
	if err != nil {
		t.Fatal(err)
	}
	// The reader carries the public reads: at 10x it needs their database CPU at the CPU
	// target, in ACU of a quarter vCPU (capacity.VCPUPerACU). Serverless v2 caps each instance
	// at MaxACU on its own and stops at MaxACULimit.
	readerVCPU := baseline * factor * blueprint.ReaderCPUPerRequest.Seconds()
	acu := math.Ceil(readerVCPU / capacity.VCPUPerACU / (blueprint.CPUTargetPercent / 100.0))
	if prod.MaxACU < acu || prod.MaxACU > blueprint.MaxACULimit || !slices.Contains(blueprint.ACUChoices, prod.MaxACU) {
		t.Errorf("prod max ACU %v: the reader needs %v at 10x; want at least that, within %v, one of the template's choices", prod.MaxACU, acu, blueprint.MaxACULimit)
	}
}

// Teardown: deleting the stack leaves nothing behind that keeps costing or blocks a redeploy
// under the same names: the repository is emptied first, the key goes after the shortest wait.
func TestPolicyTeardown(t *testing.T) {
	a := blueprint.Model()
	if !a.Registry.EmptyOnDelete {
		t.Error("the repository is not emptied on delete: deleting the stack fails while it holds images")
	}
	// KMS accepts 7 to 30 days (ScheduleKeyDeletion, PendingWindowInDays:
	// https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html).
	if blueprint.KeyPendingWindowDays != 7 {
		t.Errorf("key pending window %d days, want the shortest, 7", blueprint.KeyPendingWindowDays)
	}
	if !a.Registry.ImmutableTags || !a.Registry.ScanOnPush || !strings.Contains(a.Registry.LifecyclePolicy, fmt.Sprintf(`"countNumber":%d`, blueprint.ECRKeepImages)) {
		t.Errorf("registry %+v: want immutable tags, scan on push and the lifecycle keeping %d images", a.Registry, blueprint.ECRKeepImages)
	}
}

// The database is private and encrypted: isolated subnets only, reachable through its own
// group (which only the tasks may reach: TestPolicySecurityGroupChainIsExact), not publicly
// accessible, storage encrypted, the password managed and rotated by RDS; writer and reader in
// different zones, the reader created after the writer.
func TestPolicyDatabaseIsPrivateAndEncrypted(t *testing.T) {
	a := blueprint.Model()
	d := a.Database
	if d.Subnets != blueprint.TierIsolated {
		t.Errorf("database in %s subnets, want isolated", d.Subnets)
	}
	if d.SecurityGroup != blueprint.SGDatabase || d.PubliclyAccessible {
		t.Errorf("database group %s, publicly accessible %v", d.SecurityGroup, d.PubliclyAccessible)
	}
	if !d.Encrypted || !d.ManagedPassword {
		t.Errorf("encrypted %v, managed password %v: want both", d.Encrypted, d.ManagedPassword)
	}
	if d.Parameters["rds.force_ssl"] != "1" {
		t.Error("the cluster parameters do not force TLS")
	}
	if d.DeletionProtection {
		t.Error("deletion protection on: the stack could not be destroyed")
	}
	found := false
	for _, g := range a.Observability.LogGroups {
		found = found || g.ID == d.LogGroup
	}
	if !found {
		t.Errorf("the database exports to log group %s, which the stack does not make", d.LogGroup)
	}
	zones := map[int]bool{}
	ids := map[string]bool{}
	for i, inst := range d.Instances {
		if zones[inst.AZ] {
			t.Errorf("instances share zone %d", inst.AZ)
		}
		zones[inst.AZ] = true
		if i > 0 && !ids[inst.After] {
			t.Errorf("instance %s does not wait for an earlier instance (After %q): RDS could make it the writer", inst.ID, inst.After)
		}
		ids[inst.ID] = true
	}
	if len(d.Instances) != blueprint.DBInstanceCount {
		t.Errorf("%d instances, want %d", len(d.Instances), blueprint.DBInstanceCount)
	}
}

// IAM is least privilege: "*" only for the actions AWS defines no resource for; the execution
// role can read exactly what the container injects (or the task cannot start) and write its log
// streams; the task role reads only the database secret; only ECS tasks of this account assume
// either.
func TestPolicyIAMIsLeastPrivilege(t *testing.T) {
	a := blueprint.Model()
	ids := map[string]bool{blueprint.IDDBSecret: true}
	for _, r := range a.Resources() {
		ids[r.ID] = true
	}
	grants := func(r blueprint.Role) map[string]bool {
		out := map[string]bool{}
		for _, st := range r.Statements {
			for _, v := range st.Resources {
				if v.Ref == "" {
					if v.Text != "*" || !slices.Equal(st.Actions, blueprint.WildcardResourceActions) {
						t.Errorf("role %s statement %s grants %v on %q", r.ID, st.Sid, st.Actions, v.Text)
					}
					continue
				}
				if !ids[v.Ref] {
					t.Errorf("role %s statement %s names %s, which the model does not have", r.ID, st.Sid, v.Ref)
				}
				out[v.Ref] = true
			}
			for _, action := range st.Actions {
				if strings.HasSuffix(action, "*") || !strings.Contains(action, ":") {
					t.Errorf("role %s statement %s: action %q is not one exact action", r.ID, st.Sid, action)
				}
			}
		}
		return out
	}
	for _, pair := range []struct {
		role blueprint.Role
		c    blueprint.Container
	}{{a.IAM.ExecutionRole, a.Service.Container}, {a.IAM.MigrateExecutionRole, a.Service.MigrateContainer}} {
		exec := grants(pair.role)
		injected := map[string]bool{}
		for _, e := range pair.c.Secrets {
			injected[e.Value.Ref] = true
			if e.Value.Ref == a.Config.APIKeys.ID {
				// Encrypted with the stack's key: reading it needs kms:Decrypt too.
				injected[a.Config.APIKeysKey] = true
				if !exec[a.Config.APIKeysKey] {
					t.Errorf("%s: the API-key secret is encrypted with %s, which the execution role cannot decrypt with", pair.role.ID, a.Config.APIKeysKey)
				}
			}
			if !exec[e.Value.Ref] {
				t.Errorf("%s: the container's %s comes from %s, which the execution role cannot read: the task would not start", pair.role.ID, e.Name, e.Value.Ref)
			}
		}
		for _, id := range []string{blueprint.IDRepository, blueprint.IDAppLogGroup} {
			if !exec[id] {
				t.Errorf("the execution role %s has no grant on %s", pair.role.ID, id)
			}
			injected[id] = true
		}
		for id := range exec {
			if !injected[id] {
				t.Errorf("the execution role %s grants %s, which its container does not use", pair.role.ID, id)
			}
		}
	}
	// The service's task role may only sign in to the database as the application role and
	// read the API-key secret, decrypting it only through Secrets Manager; the migrate task's
	// may only re-read the master secret.
	task := a.IAM.TaskRole.Statements
	want := blueprint.Value{Ref: blueprint.IDDBCluster, Attr: blueprint.AttrDBUserARN, Text: blueprint.DBAppRole}
	if len(task) != 3 || !slices.Equal(task[0].Actions, []string{"rds-db:connect"}) || len(task[0].Resources) != 1 || task[0].Resources[0] != want {
		t.Fatalf("the task role grants %+v, want rds-db:connect as %s, then the API-key secret", task, blueprint.DBAppRole)
	}
	if st := task[1]; !slices.Equal(st.Actions, []string{"secretsmanager:GetSecretValue"}) || len(st.Resources) != 1 ||
		st.Resources[0] != (blueprint.Value{Ref: a.Config.APIKeys.ID}) || st.Condition != nil {
		t.Errorf("the task role's second statement %+v, want GetSecretValue on the API-key secret only", st)
	}
	// kms:ViaService: the key decrypts for this role only in calls Secrets Manager makes in the
	// stack's region (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
	if st := task[2]; !slices.Equal(st.Actions, []string{"kms:Decrypt"}) || len(st.Resources) != 1 ||
		st.Resources[0] != (blueprint.Value{Ref: a.Config.APIKeysKey, Attr: blueprint.AttrARN}) ||
		!reflect.DeepEqual(st.Condition, map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + blueprint.PhRegion + ".amazonaws.com"}}) {
		t.Errorf("the task role's third statement %+v, want kms:Decrypt with the stack key via Secrets Manager only", st)
	}
	for _, r := range a.IAM.Roles() {
		for _, st := range r.Statements {
			if st.Condition != nil && r.ID != blueprint.IDTaskRole {
				t.Errorf("role %s statement %s has a condition no test checks", r.ID, st.Sid)
			}
		}
	}
	if got := grants(a.IAM.MigrateTaskRole); len(got) != 1 || !got[blueprint.IDDBSecret] {
		t.Errorf("the migrate task role grants %v, want only the database secret", got)
	}
	// The sale's schedules' role may only modify the cluster (TestPolicySaleWarmRoleIsLeastPrivilege).
	if got := grants(a.SaleWarm.Role); len(got) != 1 || !got[blueprint.IDDBCluster] {
		t.Errorf("the sale role grants %v, want only the database cluster", got)
	}
	st := a.IAM.TrustPolicy["Statement"].([]any)[0].(map[string]any)
	if st["Principal"].(map[string]any)["Service"] != "ecs-tasks.amazonaws.com" || st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["aws:SourceAccount"] != blueprint.PhAccount {
		t.Errorf("trust policy %v: want ECS tasks of this account only", st)
	}
}

// Every Parameter Store setting is injected into the container as the variable it says.
func TestPolicyConfigReachesTheContainer(t *testing.T) {
	a := blueprint.Model()
	from := map[string]string{}
	for _, e := range a.Service.Container.Secrets {
		from[e.Name] = e.Value.Ref
	}
	for _, p := range a.Config.Parameters {
		if from[p.Env] != p.ID {
			t.Errorf("parameter %s is for %s, which the container takes from %q", p.ID, p.Env, from[p.Env])
		}
	}
	// The keys are read at run time from the secret (API_KEYS_SECRET_ARN), never injected: an
	// injected value would stay what it was when the task started.
	if _, ok := from[blueprint.EnvAPIKeys]; ok {
		t.Errorf("API_KEYS is injected from %q; the service must read the secret itself", from[blueprint.EnvAPIKeys])
	}
	env := map[string]blueprint.Value{}
	for _, e := range a.Service.Container.Environment {
		env[e.Name] = e.Value
	}
	if _, ok := env[blueprint.EnvAPIKeys]; ok {
		t.Error("API_KEYS is a plain environment variable")
	}
	if got := env[blueprint.EnvAPIKeysSecretARN]; got != (blueprint.Value{Ref: a.Config.APIKeys.ID}) {
		t.Errorf("API_KEYS_SECRET_ARN is %+v, want the API-key secret %s (its ARN)", got, a.Config.APIKeys.ID)
	}
	for _, e := range a.Service.MigrateContainer.Environment {
		if e.Name == blueprint.EnvAPIKeysSecretARN {
			t.Error("the migrate task gets the API-key secret, which it does not use")
		}
	}
}

// The generated secret is a key document the service's own parser accepts: one admin key with
// every scope, whose key is the generated string.
func TestPolicyAPIKeySecretShape(t *testing.T) {
	c := blueprint.Model().Config
	var doc map[string]any
	if err := json.Unmarshal([]byte(c.APIKeysTemplate), &doc); err != nil {
		t.Fatalf("template %s: %v", c.APIKeysTemplate, err)
	}
	if _, ok := doc[c.APIKeysGenerateKey]; ok || c.APIKeysGenerateKey == "" {
		t.Fatalf("the generated key's field %q is empty or already in the template", c.APIKeysGenerateKey)
	}
	generated := strings.Repeat("aZ9", 16)
	doc[c.APIKeysGenerateKey] = generated
	raw, _ := json.Marshal(doc)
	set, err := access.ParseSecret(raw)
	if err != nil {
		t.Fatalf("the service refuses the generated secret %s: %v", raw, err)
	}
	if p, ok := set.Match(generated); !ok || p != (access.Principal{Name: blueprint.APIKeyAdminName, Scopes: access.AllScopes}) || set.Len() != 1 {
		t.Errorf("the generated secret holds %+v (%v, %d keys), want one admin key with every scope", p, ok, set.Len())
	}
}

// Every option some resource depends on is one the model declares, so each renderer can
// decide it (CloudFormation: a condition; Pulumi: the configuration).
func TestPolicyOptionsAreDeclared(t *testing.T) {
	for _, r := range blueprint.Model().Resources() {
		for _, part := range r.When.Parts() {
			o, _ := part.Negated()
			if r.When != blueprint.Always && !slices.Contains(blueprint.Options, o) {
				t.Errorf("%s exists under undeclared option %q", r.ID, r.When)
			}
		}
	}
}

// Tags: every resource of the model states its tags; every one that carries none says why; the
// resources the EC2 console lists by Name tag carry it; a Name tag always comes with the common
// ones. (AWS tagging best practices: tag for cost allocation and ownership,
// https://docs.aws.amazon.com/whitepapers/latest/tagging-best-practices/)
func TestPolicyTags(t *testing.T) {
	a := blueprint.Model()
	tags := a.Tags()
	for _, r := range a.Resources() {
		tg, ok := tags[r.ID]
		switch {
		case !ok:
			t.Errorf("%s: the model does not say which tags it carries", r.ID)
		case !tg.Common && tg.Untagged == "":
			t.Errorf("%s carries no tags and says not why", r.ID)
		case tg.Common && tg.Untagged != "":
			t.Errorf("%s is tagged but says why it is not", r.ID)
		case tg.Name && !tg.Common:
			t.Errorf("%s has a Name tag without the common tags", r.ID)
		}
	}
	if len(tags) != len(a.Resources()) {
		t.Errorf("the tagging names %d resources, the model has %d", len(tags), len(a.Resources()))
	}
	n := a.Network
	named := []blueprint.Resource{n.VPC, n.InternetGateway, a.Edge.TargetGroup}
	for _, s := range n.Subnets {
		named = append(named, s.Resource)
	}
	for _, g := range n.SecurityGroups {
		named = append(named, g.Resource)
	}
	for _, rt := range n.RouteTables {
		named = append(named, rt.Resource)
	}
	for _, r := range named {
		if !tags[r.ID].Name {
			t.Errorf("%s carries no Name tag: the console would list it unnamed", r.ID)
		}
	}
	for _, r := range append(a.Database.Resources(), a.Service.Resources()...) {
		if !tags[r.ID].Common {
			t.Errorf("%s carries no cost-allocation tags", r.ID)
		}
	}
	want := []string{blueprint.TagProject, blueprint.TagEnvironment, blueprint.TagCostCenter, blueprint.TagManagedBy}
	if !slices.Equal(blueprint.TagKeys, want) {
		t.Errorf("TagKeys = %v, want %v", blueprint.TagKeys, want)
	}
}

// Deploy order (the first-deploy issue): in every deployment the order constraints name
// resources of the model, form no cycle, and include the ones the stack cannot start without:
// the service after every database writer and every listener, every other instance after the
// writer, the cluster after its log group, the scalable target after the service.
func TestPolicyDeployOrder(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		present := map[string]bool{}
		for _, r := range a.Resources() {
			if c.Has(r.When) {
				present[r.ID] = true
			}
		}
		g := depgraph.Graph{}
		for _, w := range a.PresentOrder(c) {
			if !present[w.From] || !present[w.To] {
				t.Errorf("order %s -> %s names a resource this deployment lacks", w.From, w.To)
			}
			if w.Why == "" {
				t.Errorf("order %s -> %s says not why", w.From, w.To)
			}
			g[w.From] = append(g[w.From], w.To)
		}
		if cyc := g.Cycle(); cyc != nil {
			t.Fatalf("deploy-order cycle: %s", strings.Join(cyc, " -> "))
		}
		must := func(from, to string) {
			if present[from] && present[to] && !g.Waits(from, to) {
				t.Errorf("%s does not wait for %s", from, to)
			}
		}
		svc := a.Service.Service.ID
		for _, in := range a.Database.Instances {
			if in.PromotionTier == 0 {
				must(svc, in.ID)
			}
			for _, other := range a.Database.Instances {
				if other.PromotionTier == 0 && other.ID != in.ID {
					must(in.ID, other.ID)
				}
			}
		}
		for _, l := range []blueprint.Listener{a.Edge.HTTPListener, a.Edge.HTTPSListener} {
			must(svc, l.ID)
		}
		must(svc, a.Database.Cluster.ID)
		must(a.Database.Cluster.ID, a.Database.LogGroup)
		must(a.Scaling.Target.ID, svc)
		for _, sch := range a.SaleWarm.Schedules {
			must(sch.ID, a.Database.Cluster.ID)
			must(sch.ID, a.SaleWarm.Role.ID)
		}
		if c.Has(blueprint.WithImage) && len(a.PresentOrder(c)) == 0 {
			t.Error("no order constraints at all")
		}
	})
}

// Placement: the load balancer in the public tier (reached from the internet), the tasks in the
// private tier (out through NAT only, no public addresses), the database in the isolated tier
// (no route out of the VPC), each tier in every zone. (Moved here from both renderers' policy
// suites; each renderer's placement check proves it references the model's subnets.)
func TestPolicyPlacement(t *testing.T) {
	a := blueprint.Model()
	for what, tiers := range map[string][2]blueprint.Tier{
		"load balancer": {a.Edge.Subnets, blueprint.TierPublic},
		"tasks":         {a.Service.Subnets, blueprint.TierPrivate},
		"database":      {a.Database.Subnets, blueprint.TierIsolated},
	} {
		if tiers[0] != tiers[1] {
			t.Errorf("%s in the %s tier, want %s", what, tiers[0], tiers[1])
		}
		if got := len(a.Network.SubnetIDs(tiers[0])); got != blueprint.AZCount {
			t.Errorf("%s: %d subnets in its tier, want one per zone (%d)", what, got, blueprint.AZCount)
		}
	}
}

// The numbers the specification names, pinned once against the model (they were spelled out in
// both renderers' policy suites): scaling 2-10 tasks tracking CPU at 70% and memory, alarms on
// service CPU > 80% and healthy tasks < 2, the container's user, port, health check and only
// writable path, 1 vCPU/2 GB tasks, the target group's health check, deployments that keep
// every task until replacements are healthy and roll back, the five most recent images kept,
// logs kept a week.
func TestPolicySpecification(t *testing.T) {
	a := blueprint.Model()
	if a.Scaling.Min != 2 || a.Scaling.Max != 24 {
		t.Errorf("scaling %d-%d, want 2-24 (ADR 0028: 10x needs 16 tasks)", a.Scaling.Min, a.Scaling.Max)
	}
	targets := map[string]int{}
	for _, p := range a.Scaling.Policies {
		targets[p.Metric] = p.Target
	}
	if want := map[string]int{"ECSServiceAverageCPUUtilization": 70, "ECSServiceAverageMemoryUtilization": blueprint.MemoryTargetPercent,
		"ALBRequestCountPerTarget": blueprint.RequestCountTarget}; !maps.Equal(targets, want) {
		t.Errorf("target tracking %v, want %v", targets, want)
	}
	alarms := map[string]blueprint.Alarm{}
	for _, ma := range a.Observability.Alarms {
		alarms[ma.Alarm.Purpose] = ma.Alarm
	}
	if c := alarms["cpu-high"]; c.Namespace != "AWS/ECS" || c.Metric != "CPUUtilization" || c.Comparison != "GreaterThanThreshold" || c.Threshold != 80 {
		t.Errorf("no alarm for service CPU > 80%%: %+v", c)
	}
	if h := alarms["healthy-tasks-low"]; h.Metric != "HealthyHostCount" || h.Comparison != "LessThanThreshold" || h.Threshold != 2 {
		t.Errorf("no alarm for healthy tasks < 2: %+v", h)
	}
	c := a.Service.Container
	if c.User != "65532:65532" || c.Port != 8080 || c.ScratchPath != "/tmp" || !slices.Equal(c.HealthCheck, []string{"CMD", "/catalog", "healthcheck"}) {
		t.Errorf("container user %q port %d scratch %q health check %q", c.User, c.Port, c.ScratchPath, c.HealthCheck)
	}
	s := a.Service
	if s.TaskSize != (blueprint.TaskSize{CPU: 1024, Memory: 2048}) {
		t.Errorf("task size %v, want 1024/2048", s.TaskSize)
	}
	if d := s.Deployment; d.MinHealthyPercent != 100 || d.MaxPercent != 200 || !d.CircuitBreaker || !d.Rollback || !s.ContainerInsights {
		t.Errorf("deployment %+v, container insights %v: want 100/200 with a rolling-back circuit breaker, insights on", d, s.ContainerInsights)
	}
	hc := a.Edge.HealthCheck
	if hc != (blueprint.HealthCheck{Path: "/health", IntervalSeconds: 10, TimeoutSeconds: 5, HealthyThreshold: 2, UnhealthyThreshold: 3, Matcher: "200"}) {
		t.Errorf("target group health check %+v", hc)
	}
	if lb := a.Edge.Attributes; !lb.DropInvalidHeaders || lb.DeletionProtection || lb.DeregistrationDelaySeconds != 30 {
		t.Errorf("load balancer attributes %+v: want invalid headers dropped, no deletion protection, 30 s deregistration", lb)
	}
	if db := a.Database; db.InstanceClass != "db.serverless" || !db.PerformanceInsights || db.PerformanceInsightsDays != 7 {
		t.Errorf("instances %q, Performance Insights %v for %d days: want serverless v2 with the free tier's 7 days", db.InstanceClass, db.PerformanceInsights, db.PerformanceInsightsDays)
	}
	if blueprint.ECRKeepImages != 5 || blueprint.LogRetentionDays != 7 {
		t.Errorf("keeps %d images and %d days of logs, want 5 and 7", blueprint.ECRKeepImages, blueprint.LogRetentionDays)
	}
}
