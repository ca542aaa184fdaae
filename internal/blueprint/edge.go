package blueprint

// Edge is the service's front door: the internet-facing application load balancer in the
// public subnets, the target group of tasks, the HTTP listener (which redirects to HTTPS with a
// certificate), the HTTPS listener (only with a certificate) and the optional WAF association.
type Edge struct {
	LoadBalancer  Resource
	SecurityGroup string // the load balancer's security group's ID
	Subnets       Tier
	TargetGroup   Resource
	HTTPListener  Listener
	HTTPSListener Listener
	WebACL        Resource
	Attributes    LoadBalancerAttributes
	HealthCheck   HealthCheck
}

// LoadBalancerAttributes are the load balancer's and target group's settings besides placement.
type LoadBalancerAttributes struct {
	DropInvalidHeaders         bool // header smuggling: the app never sees a malformed header
	IdleTimeoutSeconds         int
	DeletionProtection         bool // off: the stack must be destroyable (TestPolicyTeardown)
	DeregistrationDelaySeconds int  // longer than the app's drain
}

// HealthCheck is the target group's check of each task, on the traffic port over HTTP.
type HealthCheck struct {
	Path                                 string
	IntervalSeconds, TimeoutSeconds      int
	HealthyThreshold, UnhealthyThreshold int
	Matcher                              string
}

// Listener is a listener of the load balancer on one port. With RedirectWhen's option, it
// redirects to HTTPS (301) instead of forwarding to the target group.
type Listener struct {
	Resource
	Port         int
	Protocol     string
	RedirectWhen Option
}

// Edge IDs.
const (
	IDLoadBalancer  = "LoadBalancer"
	IDTargetGroup   = "TargetGroup"
	IDHTTPListener  = "HttpListener"
	IDHTTPSListener = "HttpsListener"
	IDWebACL        = "WebAclAssociation"
)

// Resources returns every resource of the edge, whatever its option.
func (e Edge) Resources() []Resource {
	return []Resource{e.LoadBalancer, e.TargetGroup, e.HTTPListener.Resource, e.HTTPSListener.Resource, e.WebACL}
}

// Listeners returns the listeners a deployment has.
func (e Edge) Listeners(c Choices) []Listener {
	return present([]Listener{e.HTTPListener, e.HTTPSListener}, func(l Listener) Option { return l.When }, c)
}

func edge() Edge {
	return Edge{
		LoadBalancer:  Resource{ID: IDLoadBalancer, Kind: "alb", Purpose: Project},
		SecurityGroup: SGLoadBalancer,
		Subnets:       TierPublic,
		TargetGroup:   Resource{ID: IDTargetGroup, Kind: "tg", Purpose: Project},
		HTTPListener: Listener{Resource: Resource{ID: IDHTTPListener, Kind: "listener", Purpose: "http"},
			Port: HTTPPort, Protocol: "HTTP", RedirectWhen: WithCertificate},
		HTTPSListener: Listener{Resource: Resource{ID: IDHTTPSListener, Kind: "listener", Purpose: "https", When: WithCertificate},
			Port: HTTPSPort, Protocol: "HTTPS"},
		WebACL: Resource{ID: IDWebACL, Kind: "waf", Purpose: Project, When: WithWebACL},
		Attributes: LoadBalancerAttributes{DropInvalidHeaders: true, IdleTimeoutSeconds: ALBIdleTimeoutSeconds,
			DeregistrationDelaySeconds: DeregistrationDelaySeconds},
		HealthCheck: HealthCheck{Path: HealthPath, IntervalSeconds: HealthCheckIntervalSeconds, TimeoutSeconds: HealthCheckTimeoutSeconds,
			HealthyThreshold: HealthyThreshold, UnhealthyThreshold: UnhealthyThreshold, Matcher: HealthCheckMatcher},
	}
}
