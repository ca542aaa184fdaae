package stacksummary

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/acme/catalog/internal/cfn"
)

// sorted returns items sorted, nil when empty, so "none" compares equal on both sides.
func sorted(items []string) []string {
	if len(items) == 0 {
		return nil
	}
	sort.Strings(items)
	return items
}

// get walks a path of map keys and list indexes ("HealthCheck.Command", "Rules.0").
func get(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// str is the scalar at a path, canonical (numbers as numbers).
func str(v any, path string) string { return cfn.Scalar(get(v, path)) }

func asList(v any) []any { l, _ := v.([]any); return l }

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// field renders one field of each element of a list, sorted.
func field(v any, name string) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x, name))
	}
	return sorted(out)
}

// pairs renders a list of {k: ..., v: ...} as sorted "k=v".
func pairs(v any, k, val string) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x, k)+"="+str(x, val))
	}
	return sorted(out)
}

// keyValues turns a list of {Key, Value} into a map.
func keyValues(v any) map[string]string {
	out := map[string]string{}
	for _, x := range asList(v) {
		out[str(x, "Key")] = str(x, "Value")
	}
	return out
}

// joinMap renders a map as one sorted "k=v; ..." string.
func joinMap(m map[string]any) string {
	var out []string
	for k, x := range m {
		out = append(out, k+"="+cfn.Scalar(x))
	}
	return strings.Join(sorted(out), "; ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// canonicalJSON re-encodes a JSON text with sorted keys and no spaces.
func canonicalJSON(s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return "invalid JSON: " + s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// relative strips the suffix from a physical name, so names compare across suffixes.
func relative(name, suffix string) string { return strings.ReplaceAll(name, suffix, "{suffix}") }

// rule renders a security-group rule: "alb tcp 443 0.0.0.0/0".
func rule(group, proto, from, to, peer string) string {
	ports := from
	if to != from {
		ports += "-" + to
	}
	return fmt.Sprintf("%s %s %s %s", group, strings.ToLower(proto), ports, peer)
}

// healthCheck, listener, scalingPolicy, alarm and instance render those facts the same way
// for both tools.
func healthCheck(path, interval, timeout, healthy, unhealthy, matcher string) string {
	return fmt.Sprintf("%s interval %s timeout %s healthy %s unhealthy %s matcher %s", path, interval, timeout, healthy, unhealthy, matcher)
}

func listener(port, protocol, action, redirectProtocol, redirectPort, sslPolicy string) string {
	if action == "redirect" {
		action += " to " + redirectProtocol + ":" + redirectPort
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s %s", port, protocol, action, sslPolicy))
}

func containerHealth(command, interval, timeout, retries, start string) string {
	return fmt.Sprintf("%s interval %s timeout %s retries %s start %s", command, interval, timeout, retries, start)
}

// scalingPolicy: labelled says the metric names a load balancer and target group (the label's
// value is an intrinsic in one stack and an output in the other).
func scalingPolicy(typ, metric string, labelled bool, target, out, in string) string {
	return fmt.Sprintf("%s %s labelled=%t target %s out %s in %s", typ, metric, labelled, target, out, in)
}

// stepPolicy summarises a step scaling policy: its settings, its steps (lower..upper:+adjustment)
// and the alarms that trigger it.
func stepPolicy(adjust, cooldown, aggregation, minAdjust string, steps []any, lower, upper, adjustment string, alarms []string) string {
	var st []string
	for _, x := range steps {
		st = append(st, str(x, lower)+".."+str(x, upper)+":+"+str(x, adjustment))
	}
	return fmt.Sprintf("%s cooldown %s %s min %s steps %v alarms %v", adjust, cooldown, aggregation, minAdjust, st, sorted(alarms))
}

func scheduledAction(schedule, min, max string) string {
	return fmt.Sprintf("%s min %s max %s", schedule, min, max)
}

func alarm(namespace, metric, cmp, threshold, period, evals, datapoints, stat, treat string) string {
	return fmt.Sprintf("%s/%s %s %s period %s x%s (%s to alarm) %s missing=%s", namespace, metric, cmp, threshold, period, evals, datapoints, stat, treat)
}

// saleSchedule renders a sale schedule; its input is a ModifyDBCluster request, and a cluster
// identifier equal to cluster (the stack's own) reads "own-cluster".
func saleSchedule(expr, zone, mode, state, after, target, input, cluster string) string {
	var in struct {
		DbClusterIdentifier              string
		ServerlessV2ScalingConfiguration struct{ MinCapacity, MaxCapacity any }
	}
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		return fmt.Sprintf("%s %s: input %q is not a ModifyDBCluster request", expr, target, input)
	}
	id := in.DbClusterIdentifier
	if id == cluster {
		id = "own-cluster"
	}
	sc := in.ServerlessV2ScalingConfiguration
	return fmt.Sprintf("%s %s window=%s %s after=%s %s %s %v-%v", expr, zone, mode, orDefault(state, "ENABLED"), orDefault(after, "NONE"), target, id, sc.MinCapacity, sc.MaxCapacity)
}

func instance(class, public, insights string) string {
	return fmt.Sprintf("%s public=%s insights=%s", class, orDefault(public, "false"), insights)
}

// trust renders a role's trust policy: who may assume it, under which condition keys.
func trust(doc any) string {
	var out []string
	for _, st := range asList(get(doc, "Statement")) {
		var conds []string
		for op, kv := range asMap(get(st, "Condition")) {
			for k := range asMap(kv) {
				conds = append(conds, op+":"+k)
			}
		}
		out = append(out, fmt.Sprintf("%s %s by %s if %s", str(st, "Effect"), str(st, "Action"), str(st, "Principal.Service"), strings.Join(sorted(conds), "; ")))
	}
	return strings.Join(out, " | ")
}

// permissions renders a permission policy's statements: "Sid Effect Action if op:key=value".
// Resources differ in spelling between the tools and are left to each stack's own tests.
func permissions(doc any) []string {
	var out []string
	for _, st := range asList(get(doc, "Statement")) {
		var conds []string
		for op, kv := range asMap(get(st, "Condition")) {
			for k, v := range asMap(kv) {
				conds = append(conds, op+":"+k+"="+conditionValue(v))
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s if %s", str(st, "Sid"), str(st, "Effect"), str(st, "Action"), strings.Join(sorted(conds), "; ")))
	}
	return out
}

// conditionValue spells a condition value the same for both tools: CloudFormation's
// {"Fn::Sub": "...${AWS::Region}..."} and Pulumi's expanded string both become the region-free
// form with "${AWS::Region}" for the region.
func conditionValue(v any) string {
	if m := asMap(v); m != nil {
		if s, ok := m["Fn::Sub"].(string); ok {
			return s
		}
	}
	return regionPart.ReplaceAllString(fmt.Sprint(v), ".$${AWS::Region}.")
}

// regionPart is a region between dots in a host name ("secretsmanager.eu-west-1.amazonaws.com").
var regionPart = regexp.MustCompile(`\.[a-z]{2}(-[a-z]+)+-[0-9]+\.`)

// edgeSettings are the container settings whose values both tools must agree on: those that
// depend on the edge, the EMF switch the alarms need, the relay's concurrency and an import's
// batches in flight (a parameter with an environment's default).
var edgeSettings = []string{"TRUSTED_PROXY_HOPS", "METRICS_PORT", "METRICS_EMF", "EVENT_BUS_CONCURRENCY", "IMPORT_PARALLEL"}

// settings renders the edge settings of a container's environment list ("name"/"value" keys
// as each tool spells them).
func settings(env any, nameKey, valueKey string) []string {
	var out []string
	for _, e := range asList(env) {
		m := asMap(e)
		if slices.Contains(edgeSettings, str(m, nameKey)) {
			out = append(out, str(m, nameKey)+"="+str(m, valueKey))
		}
	}
	return sorted(out)
}

// listenerRule renders a listener rule: "<port> <priority> <conditions> <action>".
func listenerRule(port, priority string, paths []string, header string, action, status string) string {
	var cond []string
	if len(paths) > 0 {
		cond = append(cond, "path="+strings.Join(paths, ","))
	}
	if header != "" {
		cond = append(cond, "header="+header)
	}
	if action == "fixed-response" {
		action += " " + status
	}
	return fmt.Sprintf("%s %s %s %s", port, priority, strings.Join(cond, "+"), action)
}

// originKind names a CloudFront origin's domain: the load balancer's own name, or a domain.
func originKind(domain string) string {
	if domain == "{LoadBalancer.DNSName}" || strings.HasSuffix(domain, ".elb.amazonaws.com") {
		return "load-balancer"
	}
	return domain
}

// strs renders a list's items.
func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, cfn.Scalar(x))
	}
	return out
}

// cdnOrigin, cdnBehaviour, cdnCache and cdnViewer render the distribution's facts the same way
// for both tools.
func cdnOrigin(kind, protocol, httpPort, httpsPort string, tls []string, readTimeout string) string {
	return fmt.Sprintf("%s %s %s/%s %s read-timeout %s", kind, protocol, httpPort, httpsPort, strings.Join(sorted(tls), ","), readTimeout)
}

func cdnBehaviour(viewer string, allowed, cached []string, compress, originRequestPolicy string) string {
	return fmt.Sprintf("%s allowed %s cached %s compress %s origin-request-policy %s", viewer,
		strings.Join(sorted(allowed), ","), strings.Join(sorted(cached), ","), compress, originRequestPolicy)
}

func cdnCache(min, def, max string, headers []string, queryStrings, cookies, gzip, brotli string) string {
	return fmt.Sprintf("ttl %s/%s/%s headers %s query-strings %s cookies %s gzip %s brotli %s", min, def, max,
		strings.Join(sorted(headers), ","), queryStrings, cookies, gzip, brotli)
}

func cdnViewer(defaultCertificate, tls, httpVersion, ipv6, priceClass string) string {
	return fmt.Sprintf("default-certificate %s %s %s ipv6 %s %s", defaultCertificate, tls, httpVersion, ipv6, priceClass)
}

// isMigrate reports whether a container definition is the migrate task's.
func isMigrate(c map[string]any, commandKey string) bool {
	return slices.Equal(strs(c[commandKey]), []string{"migrate"})
}
