package parity

import (
	"fmt"
	"strings"
)

// The facts are gathered in the same shape from both tools: a fact function per concern takes
// a neutral view of one resource kind and renders the key numbers.

// sgRule is a security-group rule between roles ("alb", "tasks", "db", "endpoints") or from
// or to a CIDR.
type sgRule struct {
	role, proto, from, to, peer string
}

func (r sgRule) String() string {
	ports := r.from
	if r.to != r.from {
		ports += "-" + r.to
	}
	return fmt.Sprintf("%s %s %s %s", r.role, r.proto, ports, r.peer)
}

// isNoEgress reports the placeholder rule that removes EC2's default allow-all egress
// (CloudFormation idiom: ICMP type 252 code 86 to 255.255.255.255/32). Pulumi removes the
// default egress itself, so the placeholder has no counterpart.
func isNoEgress(proto, peer string) bool {
	return peer == "255.255.255.255/32" && (proto == "icmp" || proto == "1")
}

// alarmFact renders an alarm's definition.
func alarmFact(cmp, threshold, period, evals, datapoints, stat, treat string) string {
	return fmt.Sprintf("%s %s period %s x%s (%s to alarm) %s missing=%s", cmp, threshold, period, evals, datapoints, stat, treat)
}

// relativeName strips the suffix from a physical name so names compare across suffixes.
func relativeName(name, suffix string) string {
	return strings.ReplaceAll(name, suffix, "{suffix}")
}

// trustFact renders a role's trust policy: who may assume it, under which condition keys.
func trustFact(doc any) string {
	var out []string
	for _, st := range asList(get(doc, "Statement")) {
		var conds []string
		for op, kv := range asMap(get(st, "Condition")) {
			for k := range asMap(kv) {
				conds = append(conds, op+":"+k)
			}
		}
		out = append(out, fmt.Sprintf("%s %s by %s if %s", str(st, "Effect"), str(st, "Action"), str(st, "Principal.Service"), sortedJoin(conds)))
	}
	return strings.Join(out, " | ")
}
