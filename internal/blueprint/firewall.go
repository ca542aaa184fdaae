package blueprint

// Firewall is the WAFv2 web ACL the stack creates with WithOwnWebACL, and its association with
// the load balancer. (WithWebACL associates an existing ACL instead: Edge.WebACL.)
//
// Scope: the ACL is REGIONAL, on the load balancer. With CloudFront in front a CLOUDFRONT-scope
// ACL on the distribution would see the viewer directly, but AWS creates those only in
// us-east-1 (WebACLScope), and this stack deploys to any region. On the load balancer the
// request's source address is CloudFront's, not the viewer's, and a rate-based rule on the
// forwarded X-Forwarded-For takes its FIRST address, which the viewer writes itself: spoofable.
// CloudFront's own CloudFront-Viewer-Address carries the viewer's source port too ("ip:port"),
// so as an aggregation key it counts per connection, not per client. So with CloudFront a
// viewer-request function (CDN.ViewerFunction) overwrites ViewerIPHeader with the address
// CloudFront saw, and the rate rule reads that header (FORWARDED_IP); a viewer cannot set it,
// and a request that reaches the load balancer some other way lacks the origin secret and is
// refused by the listener anyway. Without CloudFront the rule keys on the source address.
type Firewall struct {
	WebACL      Resource
	Association Resource
	Scope       string
	// RateLimit is the rate rule's default limit: requests per RateWindowSeconds from one client
	// (a deployment may change it within RateLimitMin..RateLimitMax). It sheds floods before
	// they cost tasks; the service's own token buckets (RATE_LIMIT_PER_IP 50/s) do the fine
	// limiting, so the WAF limit sits above them.
	RateLimit         int
	RateWindowSeconds int
	// RateKeyHeaderWhen is the option under which the rate rule keys on ViewerIPHeader
	// (FORWARDED_IP); else on the request's source address (IP).
	RateKeyHeaderWhen Option
	RateKeyHeader     string
	// RateFallback is the match status of a request whose header holds no valid address: MATCH,
	// so a malformed header is rate limited as one client rather than never counted.
	RateFallback string
	// RateResponseStatus and RateResponseBody answer a rate-limited request (the service's error
	// shape, so clients handle the WAF's 429 like the service's).
	RateResponseStatus int
	RateResponseKey    string
	RateResponseBody   string
	RateRetryAfter     string // seconds, the 429's Retry-After
	// Managed is the AWS managed common rule set, with the rules that only count (CountRules).
	Managed ManagedRuleGroup
	// Rules are the ACL's rules in priority order, with their metric names' purposes.
	Rules []FirewallRule
}

// ManagedRuleGroup is an AWS managed rule group, and the rules of it that only count: their
// matches are labelled and measured, never blocked (RuleActionOverrides to Count).
type ManagedRuleGroup struct {
	Vendor, Name string
	// Capacity is the group's WCUs, which count against the ACL's WebACLCapacityLimit.
	Capacity   int
	CountRules []CountedRule
}

// CountedRule is a managed rule overridden to Count, and why.
type CountedRule struct {
	Name, Why string
}

// FirewallRule is one rule of the ACL: the rate rule or the managed group.
type FirewallRule struct {
	Name     string // the rule's name, unique in the ACL
	Priority int
	Managed  bool // the managed group; else the rate rule
	// Capacity is the rule's WCUs.
	Capacity int
}

// Firewall constants.
const (
	IDOwnWebACL            = "WebAcl"
	IDOwnWebACLAssociation = "WebAclOwnAssociation"
	// WebACLScope is REGIONAL: CLOUDFRONT scope is created only in us-east-1
	// (https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html, Scope).
	WebACLScope = "REGIONAL"
	// ViewerIPHeader is the header the viewer-request function sets to the viewer's address (the
	// name AWS's own example uses:
	// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/example-function-add-true-client-ip-header.html).
	ViewerIPHeader = "True-Client-IP"
	// RateLimitMin and RateLimitMax bound a rate-based rule's Limit
	// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html:
	// "The lowest limit setting allowed is 10"; the API's maximum is 2,000,000,000).
	RateLimitMin = 10
	RateLimitMax = 2000000000
	// WebACLCapacityLimit is the WCUs a web ACL may use without a quota increase
	// (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html).
	WebACLCapacityLimit = 1500
	// CommonRuleSetCapacity is AWSManagedRulesCommonRuleSet's WCUs
	// (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html).
	CommonRuleSetCapacity = 700
	// RateRuleCapacity is a rate-based rule's base WCUs
	// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html);
	// what its forwarded-IP key adds is not stated there as a figure, and the ACL's total leaves
	// hundreds of WCUs to spare (TestPolicyWebACLWithinAWSLimits).
	RateRuleCapacity = 2
	// ALBBodyInspectionBytes is what WAF can inspect of a body on a load balancer: fixed at 8 KB
	// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-oversize-request-components.html).
	ALBBodyInspectionBytes = 8192
)

// RateWindows are the evaluation windows a rate-based rule accepts, in seconds
// (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html).
var RateWindows = []int{60, 120, 300, 600}

// RateLimitedBody is the body of the WAF's 429, in the service's error shape.
const RateLimitedBody = `{"error":{"code":"rate_limited","message":"too many requests from this client; slow down and retry later"}}`

// MetricName returns the CloudWatch metric name of the ACL (purpose "") or of one of its rules,
// with the suffix placeholder so two stacks in one account never share a metric.
func (f Firewall) MetricName(rule string) string {
	n := f.WebACL.Name(PhSuffix)
	if rule != "" {
		n += "-" + rule
	}
	return n
}

// Capacity is the WCUs the ACL's rules use.
func (f Firewall) Capacity() int {
	n := 0
	for _, r := range f.Rules {
		n += r.Capacity
	}
	return n
}

// Resources returns the firewall's resources.
func (f Firewall) Resources() []Resource { return []Resource{f.WebACL, f.Association} }

func firewall() Firewall {
	return Firewall{
		WebACL:             Resource{ID: IDOwnWebACL, Kind: "webacl", Purpose: Project, When: WithOwnWebACL},
		Association:        Resource{ID: IDOwnWebACLAssociation, Kind: "waf", Purpose: "own-acl", When: WithOwnWebACL},
		Scope:              WebACLScope,
		RateLimit:          20000, // about 67 requests a second for 5 minutes: above the service's 50/s per address
		RateWindowSeconds:  300,
		RateKeyHeaderWhen:  WithCloudFront,
		RateKeyHeader:      ViewerIPHeader,
		RateFallback:       "MATCH",
		RateResponseStatus: 429,
		RateResponseKey:    "rate-limited",
		RateResponseBody:   RateLimitedBody,
		RateRetryAfter:     "60",
		Managed: ManagedRuleGroup{Vendor: "AWS", Name: "AWSManagedRulesCommonRuleSet", Capacity: CommonRuleSetCapacity,
			CountRules: []CountedRule{{
				Name: "SizeRestrictions_BODY",
				Why: "it blocks every body above 8 KB, and our write bodies exceed that legitimately on every write route " +
					"(a product with many variants, an import upload); the service bounds each route's body itself (413), " +
					"and WAF on a load balancer cannot inspect past 8 KB whatever this rule does",
			}}},
		Rules: []FirewallRule{
			{Name: "rate-per-client", Priority: 0, Capacity: RateRuleCapacity},
			{Name: "aws-common", Priority: 1, Managed: true, Capacity: CommonRuleSetCapacity},
		},
	}
}
