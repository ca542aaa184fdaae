package blueprint_test

import (
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// The event bus (issue 17): publishing, the service may put events on that bus (the stack's own,
// or the existing one given by ARN) and nothing else new, knows the bus and its source from its
// environment, and reaches EventBridge through an endpoint when the other AWS APIs go through
// endpoints; the stack creates a bus and archive only when none is given. Without publishing,
// none of that exists. The migrate task never publishes.
func TestPolicyEventBus(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		on := c.Has(blueprint.WithEventBus)
		existing := c.Has(blueprint.WithExistingEventBus)
		if existing && !on {
			t.Fatal("AllChoices made an existing bus without publishing")
		}
		e := a.EventBus
		for _, r := range e.Resources() {
			if c.Has(r.When) != (on && !existing) {
				t.Errorf("%s exists: %v; publishing %v, to an existing bus %v", r.ID, c.Has(r.When), on, existing)
			}
		}
		// The bus's ARN: the stack's bus, or the existing one's (the deployment's parameter).
		busARN := blueprint.Value{Ref: blueprint.IDEventBus, Attr: blueprint.AttrARN, With: blueprint.WithExistingEventBus, WithText: blueprint.PhEventBusARN}

		// Every events: action in any role is PutEvents on this bus, in the task role only.
		var publish []blueprint.Statement
		for _, r := range a.IAM.Roles() {
			for _, st := range r.StatementsIn(c) {
				for _, action := range st.Actions {
					if !strings.HasPrefix(action, "events:") {
						continue
					}
					if r.ID != blueprint.IDTaskRole || action != "events:PutEvents" {
						t.Errorf("role %s statement %s grants %s; only the service's task role may put events", r.ID, st.Sid, action)
					}
					publish = append(publish, st)
				}
			}
		}
		if !on && len(publish) > 0 {
			t.Errorf("without the bus the roles grant %+v", publish)
		}
		if on {
			if len(publish) != 1 || !slices.Equal(publish[0].Actions, []string{"events:PutEvents"}) ||
				!slices.Equal(publish[0].Resources, []blueprint.Value{busARN}) || publish[0].Condition != nil {
				t.Errorf("the task role's events statements %+v, want one: events:PutEvents on the bus's ARN only", publish)
			}
		}
		// Nothing else new: the task role's statements are its fixed ones plus PutEvents.
		task := a.IAM.TaskRole
		if got := len(task.StatementsIn(c)) - len(task.Statements); got != len(publish) {
			t.Errorf("the bus adds %d statements to the task role, want %d (PutEvents only)", got, len(publish))
		}

		env := map[string]blueprint.Value{}
		for _, v := range a.Service.Container.EnvironmentIn(c) {
			if _, dup := env[v.Name]; dup {
				t.Errorf("%s is set twice", v.Name)
			}
			env[v.Name] = v.Value
		}
		for name, want := range map[string]blueprint.Value{
			blueprint.EnvEventBusName: busARN,
			blueprint.EnvEventSource:  {Text: blueprint.PhEventSource},
		} {
			got, ok := env[name]
			if ok != on || (on && got != want) {
				t.Errorf("service %s = %+v (set: %v), want %+v only with the bus", name, got, ok, want)
			}
		}
		for _, v := range a.Service.MigrateContainer.EnvironmentIn(c) {
			if strings.HasPrefix(v.Name, "EVENT_") {
				t.Errorf("the migrate task gets %s; it publishes nothing", v.Name)
			}
		}

		// The tasks reach EventBridge the way they reach every other AWS API.
		endpoint := false
		for _, ep := range a.Network.Endpoints {
			if ep.Service == blueprint.EventsEndpointService && c.Has(ep.When) {
				endpoint = true
				if ep.SecurityGroup != blueprint.SGEndpoints {
					t.Errorf("the events endpoint is in group %s", ep.SecurityGroup)
				}
			}
		}
		if want := on && c.Has(blueprint.WithInterfaceEndpoints); endpoint != want {
			t.Errorf("events interface endpoint: %v, want %v (bus %v, endpoints %v)", endpoint, want, on, c.Has(blueprint.WithInterfaceEndpoints))
		}
	})
}

// The bus and archive use the stack's key; the key policy lets EventBridge generate and decrypt
// data keys only with the encryption context of this stack's bus (whose ARN names this account),
// and describe the key; nothing else
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html).
func TestPolicyEventBusKey(t *testing.T) {
	a := blueprint.Model()
	e := a.EventBus
	if e.Key != a.Observability.LogsKey.ID {
		t.Errorf("the bus is encrypted with %q, want the stack key %s", e.Key, a.Observability.LogsKey.ID)
	}
	wantARN := "arn:" + blueprint.PhPartition + ":events:" + blueprint.PhRegion + ":" + blueprint.PhAccount + ":event-bus/" + e.Bus.Name(blueprint.PhSuffix)
	var uses, describes int
	for _, st := range a.Observability.LogsKeyPolicy["Statement"].([]any) {
		m := st.(map[string]any)
		p, _ := m["Principal"].(map[string]any)
		if p == nil || p["Service"] != "events.amazonaws.com" {
			continue
		}
		if m["Effect"] != "Allow" || m["Resource"] != "*" {
			t.Errorf("statement %v", m["Sid"])
		}
		condition, _ := m["Condition"].(map[string]any)
		cond, _ := condition["StringEquals"].(map[string]any)
		switch m["Action"] {
		case "kms:DescribeKey":
			describes++
		default:
			if !reflect.DeepEqual(m["Action"], []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}) {
				t.Errorf("statement %v grants %v", m["Sid"], m["Action"])
			}
			if len(cond) != 1 || cond["kms:EncryptionContext:aws:events:event-bus:arn"] != wantARN {
				t.Errorf("statement %v: encryption context %v, want this bus %s only", m["Sid"], cond, wantARN)
			}
			uses++
		}
	}
	if uses != 1 || describes != 1 {
		t.Errorf("%d use and %d describe statements for EventBridge, want one each", uses, describes)
	}
	if e.ArchiveRetentionDays <= 7 {
		t.Errorf("archive retention %d days: want longer than the change feed's 7", e.ArchiveRetentionDays)
	}
}

// EventSourcePattern (one regular expression, without lookahead, for Go, CloudFormation and the
// scripts) accepts exactly what the rule says, on the cases that matter and on random strings.
func TestEventSourcePattern(t *testing.T) {
	rule := func(s string) bool {
		if len(s) < 1 || len(s) > 256 || strings.HasPrefix(s, "aws.") {
			return false
		}
		for i, r := range s {
			alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
			if !alnum && (i == 0 || !strings.ContainsRune("._-/", r)) {
				return false
			}
		}
		return true
	}
	cases := []string{"catalog", "a", "aw", "aws", "aws.", "aws.catalog", "awsx", "aws-catalog", "aws_x", "aws/x", "AWS.catalog",
		"awx.y", "ax", "com.acme.catalog", ".catalog", "-x", "", "cat alog", "cat:alog", strings.Repeat("c", 256), strings.Repeat("c", 257),
		"a" + strings.Repeat("b", 255), "aws" + strings.Repeat("b", 253), "aws" + strings.Repeat("b", 254)}
	rng := rand.New(rand.NewPCG(17, 16))
	alphabet := "aws.AWSxb0_-/ :"
	for range 20000 {
		n := rng.IntN(8)
		if rng.IntN(50) == 0 {
			n = 250 + rng.IntN(10)
		}
		var sb strings.Builder
		for range n {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, sb.String())
	}
	for _, s := range cases {
		if got := blueprint.ValidateEventSource(s) == nil; got != rule(s) {
			t.Errorf("ValidateEventSource(%q) accepts: %v, want %v", s, got, rule(s))
		}
	}
	if err := blueprint.ValidateEventSource(blueprint.DefaultEventSource); err != nil {
		t.Errorf("the default source: %v", err)
	}
}

// An existing bus is given by its ARN: a bus ARN in any partition, region and account, with a
// name CreateEventBus accepts; not a rule, an archive, or a bus in another service's ARN form.
func TestEventBusARNPattern(t *testing.T) {
	re := regexp.MustCompile(blueprint.EventBusARNPattern)
	for _, s := range []string{"arn:aws:events:us-east-1:123456789012:event-bus/orders", "arn:aws-cn:events:cn-north-1:123456789012:event-bus/a.b_c-d",
		"arn:aws:events:eu-west-1:123456789012:event-bus/" + strings.Repeat("b", 256)} {
		if !re.MatchString(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "create", "off", "orders", "arn:aws:events:us-east-1:123456789012:rule/orders", "arn:aws:events:us-east-1:123456789012:event-bus/",
		"arn:aws:events:us-east-1:12345678901:event-bus/orders", "arn:aws:sqs:us-east-1:123456789012:event-bus/orders",
		"arn:aws:events:us-east-1:123456789012:event-bus/aws.partner/x/y", "arn:aws:events:us-east-1:123456789012:event-bus/" + strings.Repeat("b", 257)} {
		if re.MatchString(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
