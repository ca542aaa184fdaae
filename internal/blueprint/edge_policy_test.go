package blueprint_test

// The edge's policies (issue 13): CloudFront in front, the load balancer admitting only
// CloudFront and only with the secret origin header, and no path to the metrics port.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
)

// With CloudFront: one distribution with the load balancer's serving listener as its origin
// (HTTPS exactly with a certificate), viewers redirected to HTTPS, every method allowed, only
// GET and HEAD cached, the secret origin header added; without it, none of that exists.
func TestPolicyCloudFrontInFront(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		cdn := a.Edge.CDN
		for _, r := range []blueprint.Resource{cdn.Distribution, cdn.CachePolicy, cdn.OriginSecret} {
			if c.Has(r.When) != c.Has(blueprint.WithCloudFront) {
				t.Errorf("%s exists under %q, want exactly with CloudFront", r.ID, r.When)
			}
		}
		if c.Has(cdn.OriginHTTPSWhen) != c.Has(a.Edge.HTTPSListener.When) {
			t.Errorf("origin over HTTPS under %q: want exactly with the certificate (the HTTPS listener)", cdn.OriginHTTPSWhen)
		}
		if cdn.ViewerProtocol != "redirect-to-https" {
			t.Errorf("viewer protocol %q, want redirect-to-https", cdn.ViewerProtocol)
		}
		if !slices.Equal(cdn.OriginSSLProtocols, []string{"TLSv1.2"}) {
			t.Errorf("origin TLS %q, want TLSv1.2 only", cdn.OriginSSLProtocols)
		}
		all := []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
		if got := slices.Sorted(slices.Values(cdn.AllowedMethods)); !slices.Equal(got, all) {
			t.Errorf("allowed methods %q, want all of %q", got, all)
		}
		if !slices.Equal(cdn.CachedMethods, []string{"GET", "HEAD"}) {
			t.Errorf("cached methods %q, want GET and HEAD", cdn.CachedMethods)
		}
		if cdn.OriginHeader != blueprint.OriginVerifyHeader {
			t.Errorf("origin header %q, want %q", cdn.OriginHeader, blueprint.OriginVerifyHeader)
		}
		// The origin is reached on the serving listener's port, never the metrics port.
		if p := a.Edge.ServingListener(c).Port; p == blueprint.MetricsPort {
			t.Errorf("CloudFront's origin port is the metrics port %d", p)
		}
	})
}

// The cache: the origin's Cache-Control decides (min and default TTL 0: a response without one is
// not kept), every query string is in the key, and so is Authorization: CloudFront forwards
// Authorization on GET and HEAD only when the cache key includes it, and an origin request
// policy may not forward it (HTTP 400), so a key in the cache key is the documented setup, and
// keyed requests never share an entry with the public or with another key
// (https://repost.aws/knowledge-center/cloudfront-authorization-header;
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html).
// The origin request policy is the managed AllViewerExceptHostHeader: every viewer header but
// Host (the load balancer's name, not CloudFront's, must reach it) and every query string
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html).
func TestPolicyCloudFrontCache(t *testing.T) {
	cdn := blueprint.Model().Edge.CDN
	p := cdn.Cache
	if p.MinTTL != 0 || p.DefaultTTL != 0 || p.MaxTTL < 86400 {
		t.Errorf("TTLs min %d default %d max %d: want 0, 0 and at least a day (the origin decides)", p.MinTTL, p.DefaultTTL, p.MaxTTL)
	}
	if !slices.Contains(p.KeyHeaders, "Authorization") {
		t.Errorf("cache key headers %q lack Authorization", p.KeyHeaders)
	}
	if slices.ContainsFunc(p.KeyHeaders, func(h string) bool { return strings.EqualFold(h, "Host") }) {
		t.Errorf("cache key headers %q include Host", p.KeyHeaders)
	}
	if p.QueryStrings != "all" || p.Cookies != "none" {
		t.Errorf("query strings %q, cookies %q: want all and none", p.QueryStrings, p.Cookies)
	}
	if cdn.OriginRequestPolicyID != "b689b0a8-53d0-40ab-baf2-68738e2966ac" {
		t.Errorf("origin request policy %s, want the managed AllViewerExceptHostHeader", cdn.OriginRequestPolicyID)
	}
	// The service's own request timeout (10s) ends first; CloudFront allows 1-60s without a
	// quota increase.
	if cdn.OriginReadTimeoutSeconds < 10 || cdn.OriginReadTimeoutSeconds > 60 {
		t.Errorf("origin read timeout %ds, want 10-60", cdn.OriginReadTimeoutSeconds)
	}
}

// CloudFront's default certificate: the viewer policy AWS applies to *.cloudfront.net is TLSv1
// whatever MinimumProtocolVersion says, so the model states that and not a value AWS ignores
// (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html,
// MinimumProtocolVersion: "If the distribution uses the CloudFront domain name ... CloudFront
// automatically sets the security policy to TLSv1 regardless of the value that you set here").
func TestAWSRuleCloudFrontDefaultCertificateTLS(t *testing.T) {
	if got := blueprint.Model().Edge.CDN.MinimumTLS; got != "TLSv1" {
		t.Errorf("viewer TLS policy with the default certificate %q: CloudFront applies TLSv1", got)
	}
}

// With CloudFront the load balancer's group admits only CloudFront's origin-facing prefix list,
// once (a prefix list counts as its maximum entries, 55 for CloudFront's, against the group's
// default 60 inbound rules, so a second reference would exceed the quota:
// https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights),
// on the serving listener's port; no address range at all. Without it, the internet as before.
func TestPolicyLoadBalancerAdmitsOnlyCloudFront(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		var prefixLists, ranges []string
		for _, r := range a.Network.PresentRules(c) {
			if r.Group != a.Edge.SecurityGroup || r.Direction != blueprint.Ingress {
				continue
			}
			if r.PrefixList != "" {
				prefixLists = append(prefixLists, fmt.Sprintf("%s/%d", r.PrefixList, r.PortIn(c)))
			}
			if r.CIDR != "" {
				ranges = append(ranges, r.CIDR)
			}
		}
		if !c.Has(blueprint.WithCloudFront) {
			if len(prefixLists) != 0 || len(ranges) == 0 {
				t.Errorf("without CloudFront: prefix lists %q, ranges %q; want the internet only", prefixLists, ranges)
			}
			return
		}
		want := []string{fmt.Sprintf("%s/%d", blueprint.CloudFrontPrefixListName, a.Edge.ServingListener(c).Port)}
		if !slices.Equal(prefixLists, want) || len(ranges) != 0 {
			t.Errorf("with CloudFront: prefix lists %q, ranges %q; want exactly %q", prefixLists, ranges, want)
		}
	})
}

// The AWS-managed prefix list's name is CloudFront's origin-facing list, the one for origins
// (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list).
func TestAWSRuleCloudFrontPrefixListName(t *testing.T) {
	if blueprint.CloudFrontPrefixListName != "com.amazonaws.global.cloudfront.origin-facing" {
		t.Errorf("prefix list %q", blueprint.CloudFrontPrefixListName)
	}
}

// The header rule: with CloudFront the serving listener refuses by default (a fixed 403) and
// exactly one rule forwards, on the secret origin header whose value is the stack's generated
// secret; no rule forwards on anything else. Without CloudFront the listener forwards by default.
func TestPolicyOriginHeaderRule(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		e := a.Edge
		serving := e.ServingListener(c)
		var forwarding []string
		for _, r := range e.PresentRules(c) {
			if !r.Forward {
				continue
			}
			forwarding = append(forwarding, r.ID)
			if r.Header != e.CDN.OriginHeader || r.HeaderValue != e.CDN.OriginValue || r.HeaderValue.Ref != e.CDN.OriginSecret.ID || len(r.PathPatterns) != 0 {
				t.Errorf("rule %s forwards on header %q = %v, paths %q: want only the origin header with the origin secret", r.ID, r.Header, r.HeaderValue, r.PathPatterns)
			}
		}
		if c.Has(blueprint.WithCloudFront) {
			if serving.DefaultAction(c) != "refuse" || len(forwarding) != 1 {
				t.Errorf("with CloudFront: %s's default %s, forwarding rules %q; want refuse and one header rule", serving.ID, serving.DefaultAction(c), forwarding)
			}
		} else if serving.DefaultAction(c) != "forward" || len(forwarding) != 0 {
			t.Errorf("without CloudFront: %s's default %s, forwarding rules %q; want forward and none", serving.ID, serving.DefaultAction(c), forwarding)
		}
		// Priorities are unique (ALB refuses duplicates on a listener) and within 1-50000.
		seen := map[int]string{}
		for _, r := range e.Rules {
			if r.Priority < 1 || r.Priority > 50000 || seen[r.Priority] != "" {
				t.Errorf("rule %s priority %d (taken by %q)", r.ID, r.Priority, seen[r.Priority])
			}
			seen[r.Priority] = r.ID
			if !r.Forward && (r.Status < 400 || r.Status > 599 || r.ContentType != "application/json" || len(r.Body) > 1024) {
				t.Errorf("rule %s fixed response %d %s (%d bytes)", r.ID, r.Status, r.ContentType, len(r.Body))
			}
		}
	})
}

// No path to the metrics: no listener, target group or health check uses the metrics port; the
// tasks' group admits only the app port; the container is told the metrics port, which is not
// the app port; and the serving listener's first rule refuses /metrics and everything under it
// before any rule could forward it, in every deployment.
func TestPolicyNoPathToMetrics(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		e := a.Edge
		for _, l := range e.Listeners(c) {
			if l.Port == blueprint.MetricsPort {
				t.Errorf("listener %s on the metrics port", l.ID)
			}
		}
		if blueprint.AppPort == blueprint.MetricsPort || a.Service.Container.Port != blueprint.AppPort {
			t.Errorf("container port %d, metrics port %d", a.Service.Container.Port, blueprint.MetricsPort)
		}
		for _, r := range a.Network.PresentRules(c) {
			if r.PortIn(c) == blueprint.MetricsPort {
				t.Errorf("rule %s opens the metrics port", r.ID)
			}
			if r.Group == blueprint.SGTasks && r.Direction == blueprint.Ingress && (r.PortIn(c) != blueprint.AppPort || r.PeerGroup != blueprint.SGLoadBalancer) {
				t.Errorf("rule %s admits %d from %q%s into the tasks", r.ID, r.PortIn(c), r.PeerGroup, r.CIDR)
			}
		}
		env := map[string]blueprint.Value{}
		for _, v := range a.Service.Container.Environment {
			env[v.Name] = v.Value
		}
		if got := env[blueprint.EnvMetricsPort].TextIn(c); got != strconv.Itoa(blueprint.MetricsPort) {
			t.Errorf("METRICS_PORT %q, want %d", got, blueprint.MetricsPort)
		}
		rules := e.PresentRules(c)
		slices.SortFunc(rules, func(x, y blueprint.ListenerRule) int { return x.Priority - y.Priority })
		if len(rules) == 0 || rules[0].Forward || rules[0].Status != 404 {
			t.Fatalf("first rule %+v: want the metrics refusal", rules)
		}
		for _, path := range []string{"/metrics", "/metrics/", "/metrics/x"} {
			if !matchesAny(rules[0].PathPatterns, path) {
				t.Errorf("the first rule does not refuse %s", path)
			}
		}
	})
}

// matchesAny reports whether an ALB path pattern ('*' any run of characters, '?' one character,
// case-sensitive) matches path.
func matchesAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if albMatch(p, path) {
			return true
		}
	}
	return false
}

func albMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if albMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && albMatch(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && albMatch(p[1:], s[1:])
}

// The service trusts one proxy hop per proxy in front of it: the load balancer, and CloudFront
// when it is on (X-Forwarded-For gets one entry from each).
func TestPolicyTrustedProxyHops(t *testing.T) {
	eachDeployment(t, func(t *testing.T, a blueprint.Architecture, c blueprint.Choices) {
		want := "1"
		if c.Has(blueprint.WithCloudFront) {
			want = "2"
		}
		got := "unset"
		for _, v := range a.Service.Container.Environment {
			if v.Name == blueprint.EnvTrustedProxyHops {
				got = v.Value.TextIn(c)
			}
		}
		if got != want {
			t.Errorf("TRUSTED_PROXY_HOPS %q, want %s", got, want)
		}
	})
}

// Least privilege to the database (issue 13): IAM authentication is on; the migrate task is the
// only holder of the master secret (its container alone injects it, its execution role alone
// reads it, its task role alone re-reads it); the service signs in as the application role with
// an IAM token (DB_USER=catalog_app, DB_IAM_AUTH=true, no password, no secret ARN) and does not
// migrate at start; the migrate task creates that role (DB_APP_ROLE, DB_APP_ROLE_IAM) and runs
// the same image with the command migrate, in the same network.
func TestPolicyMigrateTaskAloneHoldsTheMasterSecret(t *testing.T) {
	a := blueprint.Model()
	if !a.Database.IAMAuthentication {
		t.Error("IAM database authentication is off")
	}
	uses := func(c blueprint.Container) (out []string) {
		for _, e := range append(slices.Clone(c.Environment), c.Secrets...) {
			if e.Value.Ref == blueprint.IDDBSecret {
				out = append(out, e.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := uses(a.Service.Container); len(got) != 0 {
		t.Errorf("the service container takes %q from the master secret", got)
	}
	if got, want := uses(a.Service.MigrateContainer), []string{blueprint.EnvDBPassword, blueprint.EnvDBSecretARN, blueprint.EnvDBUser}; !slices.Equal(got, want) {
		t.Errorf("the migrate container takes %q from the master secret, want %q", got, want)
	}
	for _, r := range a.IAM.Roles() {
		reads := false
		for _, st := range r.Statements {
			for _, v := range st.Resources {
				reads = reads || v.Ref == blueprint.IDDBSecret
			}
		}
		if reads != (r.ID == blueprint.IDMigrateExecutionRole || r.ID == blueprint.IDMigrateTaskRole) {
			t.Errorf("role %s reads the master secret: %v", r.ID, reads)
		}
	}
	env := func(c blueprint.Container) map[string]string {
		out := map[string]string{}
		for _, e := range c.Environment {
			out[e.Name] = e.Value.Text
		}
		for _, e := range c.Secrets {
			out[e.Name] = "secret:" + e.Value.Ref
		}
		return out
	}
	svc := env(a.Service.Container)
	for k, v := range map[string]string{blueprint.EnvDBUser: blueprint.DBAppRole, blueprint.EnvDBIAMAuth: "true", blueprint.EnvMigrateOnStart: "false",
		blueprint.EnvDBSSLMode: "verify-full", blueprint.EnvDBSSLRootCert: blueprint.DBSSLRootCert, blueprint.EnvDBHost: "secret:" + blueprint.IDDBHostParameter} {
		if svc[k] != v {
			t.Errorf("service %s = %q, want %q", k, svc[k], v)
		}
	}
	for _, k := range []string{blueprint.EnvDBPassword, blueprint.EnvDBSecretARN} {
		if _, ok := svc[k]; ok {
			t.Errorf("the service container sets %s", k)
		}
	}
	mig := env(a.Service.MigrateContainer)
	for k, v := range map[string]string{blueprint.EnvDBAppRole: blueprint.DBAppRole, blueprint.EnvDBAppRoleIAM: "true", blueprint.EnvDBSSLMode: "verify-full",
		blueprint.EnvDBHost: "secret:" + blueprint.IDDBHostParameter} {
		if mig[k] != v {
			t.Errorf("migrate %s = %q, want %q", k, mig[k], v)
		}
	}
	if m := a.Service.MigrateContainer; !slices.Equal(m.Command, []string{"migrate"}) || !m.NoPort || m.Name != a.Service.Container.Name {
		t.Errorf("migrate container %q command %q, no port %v", m.Name, m.Command, m.NoPort)
	}
}

// rds-db:connect names the database user by the cluster's resource ID (cluster-ABCDEFG...), not
// its identifier: "arn:aws:rds-db:region:account-id:dbuser:DbiResourceId/db-user-name", where for
// Aurora the resource ID is the cluster's
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).
func TestAWSRuleDBConnectARNUsesTheClusterResourceID(t *testing.T) {
	got := blueprint.Expand(blueprint.DBUserARN("cluster-ABCDEFGHIJKL01234", blueprint.DBAppRole), "aws", "us-east-1", "123456789012", "dev")
	if want := "arn:aws:rds-db:us-east-1:123456789012:dbuser:cluster-ABCDEFGHIJKL01234/catalog_app"; got != want {
		t.Errorf("DBUserARN = %s, want %s", got, want)
	}
}

// The API-key secret is encrypted with the stack's own KMS key (issue 13), the key whose policy
// the model holds, not the AWS-managed aws/secretsmanager key.
func TestPolicyAPIKeySecretUsesTheStackKey(t *testing.T) {
	a := blueprint.Model()
	if a.Config.APIKeysKey != a.Observability.LogsKey.ID {
		t.Errorf("the API-key secret is encrypted with %q, want the stack's key %s", a.Config.APIKeysKey, a.Observability.LogsKey.ID)
	}
	if a.Edge.CDN.OriginSecretKey != a.Observability.LogsKey.ID {
		t.Errorf("the origin secret is encrypted with %q, want the stack's key %s", a.Edge.CDN.OriginSecretKey, a.Observability.LogsKey.ID)
	}
}

// The VPC endpoints are limited to this account: every Allow of the interface endpoints' policy
// requires aws:PrincipalAccount to be this account; every Allow of the S3 endpoint's requires
// aws:ResourceAccount, but for reading ECR's layer bucket, without which no task could pull
// its image (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
func TestPolicyEndpointsOnlyForThisAccount(t *testing.T) {
	n := blueprint.Model().Network
	check := func(name string, doc map[string]any, key string) {
		for _, x := range doc["Statement"].([]any) {
			st := x.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			if st["Resource"] == blueprint.ECRLayerBucketARN && st["Action"] == "s3:GetObject" && key == "aws:ResourceAccount" {
				continue
			}
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if eq[key] != blueprint.PhAccount {
				t.Errorf("%s: statement %v allows without %s = this account", name, st["Sid"], key)
			}
		}
	}
	check("S3 endpoint", n.S3EndpointPolicy, "aws:ResourceAccount")
	check("interface endpoints", n.EndpointPolicy, "aws:PrincipalAccount")
}

// ECR's layer bucket is prod-<region>-starport-layer-bucket
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html#ecr-setting-up-s3-gateway).
func TestAWSRuleECRLayerBucket(t *testing.T) {
	if got := blueprint.Expand(blueprint.ECRLayerBucketARN, "aws", "eu-west-1", "1", "x"); got != "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*" {
		t.Errorf("ECR layer bucket %s", got)
	}
}
