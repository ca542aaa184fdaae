package blueprint

import (
	"slices"
	"strconv"
	"strings"
)

// itoa is strconv.Itoa, short for the model's tables.
func itoa(n int) string { return strconv.Itoa(n) }

// This file is the architecture as data: every resource by concern, with its identity, its name
// and its settings, and the options it depends on. The CloudFormation builder (internal/cfnstack)
// and the Pulumi program (deploy/pulumi/infra) walk it and translate; the policy tests in this
// package hold it to the rules. See docs/adr/0010-blueprint-model.md.

// Option is a per-deployment choice the architecture depends on. CloudFormation decides it at
// deploy time (a condition on a parameter); Pulumi decides it when the program runs (its
// configuration). The model only says which resources and values depend on which option.
type Option string

// The options. Always is no option: the resource exists in every deployment.
const (
	Always                 Option = ""
	WithNATPerAZ           Option = "nat-per-az"          // one NAT gateway per AZ (else one)
	WithInterfaceEndpoints Option = "interface-endpoints" // VPC interface endpoints
	WithCertificate        Option = "certificate"         // an HTTPS listener; HTTP redirects
	WithWebACL             Option = "web-acl"             // a WAFv2 web ACL on the load balancer
	WithAlertEmail         Option = "alert-email"         // an e-mail subscription to the alarm topic
	WithImage              Option = "image"               // the ECS service runs (else: bootstrap)
	WithSale               Option = "sale"                // a planned sale's window raises the minimum tasks
	WithCloudFront         Option = "cloudfront"          // a CloudFront distribution in front; the load balancer admits only it
	WithOwnWebACL          Option = "own-web-acl"         // the stack creates a WAFv2 web ACL and associates it (never with WithWebACL)
	WithFlowLogs           Option = "flow-logs"           // VPC flow logs to an encrypted log group
	WithEventBus           Option = "event-bus"           // the service publishes its events to an EventBridge bus
	WithExistingEventBus   Option = "existing-event-bus"  // that bus is an existing one, by ARN (else the stack's own)
)

// Requires lists, per option, the option it only exists with: AllChoices leaves out the
// deployments that take it alone (an existing bus without publishing means nothing).
var Requires = map[Option]Option{WithExistingEventBus: WithEventBus}

// Without is the option that holds when o does not: what exists only in a deployment without o
// (the load balancer open to the internet exists only without CloudFront).
func Without(o Option) Option { return "!" + o }

// AllOf is the option that holds when every one of os does: what exists only with two options
// (the events interface endpoint needs both the endpoints and the bus).
func AllOf(os ...Option) Option {
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = string(o)
	}
	return Option(strings.Join(parts, "&"))
}

// Parts returns the options AllOf joined, or o alone.
func (o Option) Parts() []Option {
	var out []Option
	for _, p := range strings.Split(string(o), "&") {
		out = append(out, Option(p))
	}
	return out
}

// Negated reports whether o is Without(some option), and which.
func (o Option) Negated() (Option, bool) {
	if rest, ok := strings.CutPrefix(string(o), "!"); ok {
		return Option(rest), true
	}
	return o, false
}

// Options lists every option, in a fixed order.
var Options = []Option{WithNATPerAZ, WithInterfaceEndpoints, WithCertificate, WithWebACL, WithAlertEmail, WithImage, WithSale, WithCloudFront,
	WithOwnWebACL, WithFlowLogs, WithEventBus, WithExistingEventBus}

// Exclusive are the pairs of options no deployment takes together; each stack refuses them
// before creating anything (a template rule, a configuration check). A load balancer has at
// most one web ACL: the stack's own, or an existing one.
var Exclusive = [][2]Option{{WithWebACL, WithOwnWebACL}}

// Valid reports whether the choices take no Exclusive pair.
func (c Choices) Valid() bool {
	for _, p := range Exclusive {
		if c.Has(p[0]) && c.Has(p[1]) {
			return false
		}
	}
	return true
}

// Choices are the options one deployment takes.
type Choices map[Option]bool

// Has reports whether a resource that exists when o exists under these choices.
func (c Choices) Has(o Option) bool {
	if parts := o.Parts(); len(parts) > 1 {
		for _, p := range parts {
			if !c.Has(p) {
				return false
			}
		}
		return true
	}
	if p, ok := o.Negated(); ok {
		return !c.Has(p)
	}
	return o == Always || c[o]
}

// AllChoices returns every valid combination of the options, for tests that hold a policy in
// every deployment rather than in the one a fixture picked.
func AllChoices() []Choices {
	var out []Choices
	for mask := 0; mask < 1<<len(Options); mask++ {
		c := Choices{}
		for i, o := range Options {
			c[o] = mask&(1<<i) != 0
		}
		if c.Valid() && c.consistent() {
			out = append(out, c)
		}
	}
	return out
}

// consistent reports whether every option the choices take has the option it requires.
func (c Choices) consistent() bool {
	for o, needs := range Requires {
		if c[o] && !c[needs] {
			return false
		}
	}
	return true
}

// Architecture is the whole stack, by concern.
type Architecture struct {
	Network       Network
	Edge          Edge
	Registry      Registry
	Service       Service
	Scaling       Scaling
	Database      Database
	Config        Config
	IAM           IAM
	Observability Observability
	EventBus      EventBus
	// SaleWarm raises the database's minimum for a planned sale's window.
	SaleWarm SaleWarm
}

// Model returns the architecture. It is a pure function: every deployment's stack is this
// model under that deployment's Choices and settings.
func Model() Architecture {
	a := Architecture{Network: network(), Edge: edge(), Registry: registry(), Service: service(), Scaling: scaling(), Database: database(), Config: config(), Observability: observability(), EventBus: eventBus(), SaleWarm: saleWarm()}
	a.IAM = iam(a.Config)
	a.withEventBus()
	return a
}

// present returns the items whose option the choices take.
func present[T any](items []T, when func(T) Option, c Choices) []T {
	return slices.DeleteFunc(slices.Clone(items), func(x T) bool { return !c.Has(when(x)) })
}

// Resources returns every resource of the architecture, whatever its option, concern by
// concern.
func (a Architecture) Resources() []Resource {
	out := a.Network.Resources()
	out = append(out, a.Edge.Resources()...)
	out = append(out, a.Registry.Resources()...)
	out = append(out, a.Service.Resources()...)
	out = append(out, a.Scaling.Resources()...)
	out = append(out, a.Database.Resources()...)
	out = append(out, a.Config.Resources()...)
	out = append(out, a.IAM.Resources()...)
	out = append(out, a.Observability.Resources()...)
	out = append(out, a.EventBus.Resources()...)
	return append(out, a.SaleWarm.Resources()...)
}
