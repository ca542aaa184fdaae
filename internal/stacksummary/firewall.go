package stacksummary

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Firewall: the stack's own web ACL ("none" without one), the CloudFront viewer function and
// the VPC's flow log.
type Firewall struct {
	// WebACL: scope, default action, metric name, and how many web ACL associations the stack
	// has (an existing ACL's or its own).
	WebACL string
	// Rules: "<priority> <name> <statement> <action> metric=<name>".
	Rules []string
	// ViewerFunction: runtime, the code's digest, and the event the distribution runs it on.
	ViewerFunction string
	// FlowLog: what it captures, where to, and the aggregation interval.
	FlowLog string
}

// wafRule is one rule's facts, the same whichever tool spelled them.
func wafRule(priority, name, rateKey, rateHeader, fallback, limit, window, managed string, counted []string, blockCode, override, metric, suffix string) string {
	statement := "managed " + managed + " count=" + strings.Join(sorted(counted), ",") + " override=" + override
	if managed == "/" {
		statement = fmt.Sprintf("rate %s %s %s %s/%ss block=%s", rateKey, rateHeader, fallback, limit, window, blockCode)
	}
	return fmt.Sprintf("%s %s %s metric=%s", priority, name, statement, relative(metric, suffix))
}

// firstKey is the one key of an action object ({"Allow":{}} -> "allow").
func firstKey(v any) string {
	var keys []string
	for k := range asMap(v) {
		keys = append(keys, strings.ToLower(k))
	}
	sort.Strings(keys)
	return strings.Join(keys, "+")
}

func digest(code string) string {
	if code == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:6])
}

func cfnFirewall(t template, suffix string) Firewall {
	f := Firewall{WebACL: "none", ViewerFunction: "none", FlowLog: "none"}
	if acl := t.first("AWS::WAFv2::WebACL"); len(acl) > 0 {
		f.WebACL = fmt.Sprintf("%s default=%s metric=%s", str(acl, "Scope"), firstKey(acl["DefaultAction"]), relative(str(acl, "VisibilityConfig.MetricName"), suffix))
		for _, r := range asList(acl["Rules"]) {
			rate, mg := asMap(get(r, "Statement.RateBasedStatement")), asMap(get(r, "Statement.ManagedRuleGroupStatement"))
			var counted []string
			for _, o := range asList(mg["RuleActionOverrides"]) {
				counted = append(counted, str(o, "Name")+":"+firstKey(get(o, "ActionToUse")))
			}
			f.Rules = append(f.Rules, wafRule(str(r, "Priority"), str(r, "Name"), str(rate, "AggregateKeyType"), str(rate, "ForwardedIPConfig.HeaderName"),
				str(rate, "ForwardedIPConfig.FallbackBehavior"), str(rate, "Limit"), str(rate, "EvaluationWindowSec"), str(mg, "VendorName")+"/"+str(mg, "Name"), counted,
				str(r, "Action.Block.CustomResponse.ResponseCode"), firstKey(get(r, "OverrideAction")), str(r, "VisibilityConfig.MetricName"), suffix))
		}
		f.Rules = sorted(f.Rules)
	}
	f.WebACL += fmt.Sprintf(" associations=%d", len(t.of("AWS::WAFv2::WebACLAssociation")))
	if fn := t.first("AWS::CloudFront::Function"); len(fn) > 0 {
		event := str(asMap(t.first("AWS::CloudFront::Distribution")["DistributionConfig"]), "DefaultCacheBehavior.FunctionAssociations.0.EventType")
		f.ViewerFunction = fmt.Sprintf("%s code=%s published=%s on=%s", str(fn, "FunctionConfig.Runtime"), digest(str(fn, "FunctionCode")), str(fn, "AutoPublish"), event)
	}
	if fl := t.first("AWS::EC2::FlowLog"); len(fl) > 0 {
		f.FlowLog = fmt.Sprintf("%s %s to %s every %ss", str(fl, "ResourceType"), str(fl, "TrafficType"), str(fl, "LogDestinationType"), str(fl, "MaxAggregationInterval"))
	}
	return f
}

func pulumiFirewall(p program, suffix string) Firewall {
	f := Firewall{WebACL: "none", ViewerFunction: "none", FlowLog: "none"}
	if acl := p.first("aws:wafv2/webAcl:WebAcl"); len(acl) > 0 {
		f.WebACL = fmt.Sprintf("%s default=%s metric=%s", str(acl, "scope"), firstKey(acl["defaultAction"]), relative(str(acl, "visibilityConfig.metricName"), suffix))
		for _, r := range asList(acl["rules"]) {
			rate, mg := asMap(get(r, "statement.rateBasedStatement")), asMap(get(r, "statement.managedRuleGroupStatement"))
			var counted []string
			for _, o := range asList(mg["ruleActionOverrides"]) {
				counted = append(counted, str(o, "name")+":"+firstKey(get(o, "actionToUse")))
			}
			f.Rules = append(f.Rules, wafRule(str(r, "priority"), str(r, "name"), str(rate, "aggregateKeyType"), str(rate, "forwardedIpConfig.headerName"),
				str(rate, "forwardedIpConfig.fallbackBehavior"), str(rate, "limit"), str(rate, "evaluationWindowSec"), str(mg, "vendorName")+"/"+str(mg, "name"), counted,
				str(r, "action.block.customResponse.responseCode"), firstKey(get(r, "overrideAction")), str(r, "visibilityConfig.metricName"), suffix))
		}
		f.Rules = sorted(f.Rules)
	}
	f.WebACL += fmt.Sprintf(" associations=%d", len(p.of("aws:wafv2/webAclAssociation:WebAclAssociation")))
	if fn := p.first("aws:cloudfront/function:Function"); len(fn) > 0 {
		event := str(p.first("aws:cloudfront/distribution:Distribution"), "defaultCacheBehavior.functionAssociations.0.eventType")
		f.ViewerFunction = fmt.Sprintf("%s code=%s published=%s on=%s", str(fn, "runtime"), digest(str(fn, "code")), str(fn, "publish"), event)
	}
	if fl := p.first("aws:ec2/flowLog:FlowLog"); len(fl) > 0 {
		kind := "VPC"
		if str(fl, "vpcId") == "" {
			kind = "not-the-vpc"
		}
		f.FlowLog = fmt.Sprintf("%s %s to %s every %ss", kind, str(fl, "trafficType"), str(fl, "logDestinationType"), str(fl, "maxAggregationInterval"))
	}
	return f
}
