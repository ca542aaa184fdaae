package stacksummary_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
	"github.com/acme/catalog/internal/cfnstack"
	"github.com/acme/catalog/internal/stacksummary"
)

// templateSummary builds the template and summarises it under params.
func templateSummary(t *testing.T, params map[string]string) stacksummary.Summary {
	t.Helper()
	tmpl, err := cfnstack.Build(cfnstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.JSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := cfn.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	e, err := cfn.Evaluate(parsed, params)
	if err != nil {
		t.Fatal(err)
	}
	s, err := stacksummary.FromTemplate(e, params["EnvironmentSuffix"])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var allOptions = map[string]string{
	"EnvironmentSuffix": "x", "ImageTag": "v1", "NatGatewayMode": blueprint.NATPerAZ, "EnableInterfaceEndpoints": "true",
	"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x", "WebAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/y",
	"AlertEmail": "ops@example.com", "SaleStart": "2026-12-24T08:55:00", "SaleEnd": "2026-12-24T12:00:00",
	"EnableCloudFront": "true", "CloudFrontPrefixListId": "pl-3b927c52", "OriginDomainName": "api.example.com",
	"EnableFlowLogs": "true",
}

// ownWebACL is allOptions with the stack's own web ACL instead of an existing one's (the two are
// exclusive).
func ownWebACL() map[string]string {
	p := maps.Clone(allOptions)
	p["WebAclArn"], p["CreateWebAcl"] = "", "true"
	return p
}

// Every fact of the template's summary with every option on says something: an extractor that
// reads the wrong property leaves a blank, which would compare equal to the other side's blank.
func TestTemplateSummaryHasEveryFact(t *testing.T) {
	for _, params := range []map[string]string{allOptions, ownWebACL()} {
		templateSummaryHasEveryFact(t, params)
	}
	s := templateSummary(t, ownWebACL())
	want := []string{
		"0 rate-per-client rate FORWARDED_IP True-Client-IP MATCH 20000/300s block=429 metric=webacl-catalog-{suffix}-rate-per-client",
		"1 aws-common managed AWS/AWSManagedRulesCommonRuleSet count=SizeRestrictions_BODY:count override=none metric=webacl-catalog-{suffix}-aws-common",
	}
	if !slices.Equal(s.Firewall.Rules, want) || s.Firewall.WebACL != "REGIONAL default=allow metric=webacl-catalog-{suffix} associations=1" {
		t.Errorf("firewall summary %+v, want rules %q", s.Firewall, want)
	}
}

func templateSummaryHasEveryFact(t *testing.T, params map[string]string) {
	s := templateSummary(t, params)
	var blank []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(strings.TrimPrefix(path+"."+v.Type().Field(i).Name, "."), v.Field(i))
			}
		case reflect.String:
			if s := v.String(); s == "" || strings.Contains(s, "<nil>") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
				blank = append(blank, path+"="+s)
			}
		case reflect.Slice:
			// No subnet maps public IPs: the point. With an existing web ACL the stack has no rules.
			if v.Len() == 0 && path != "Network.PublicIPSubnets" && (path != "Firewall.Rules" || params["CreateWebAcl"] == "true") {
				blank = append(blank, path)
			}
		}
	}
	walk("", reflect.ValueOf(s))
	if len(blank) > 0 {
		t.Errorf("blank facts: %q", blank)
	}
}

// The summary says what the model says.
func TestTemplateSummaryReadsTheModel(t *testing.T) {
	s := templateSummary(t, allOptions)
	if s.Network.VPCCIDR != blueprint.VPCCIDR || len(s.Network.Subnets) != 3*blueprint.AZCount {
		t.Errorf("network %+v", s.Network)
	}
	if want := fmt.Sprintf("%d-%d", blueprint.MinTasks, blueprint.MaxTasks); s.Scaling.Bounds != want {
		t.Errorf("Scaling.Bounds = %q, want %q", s.Scaling.Bounds, want)
	}
	// Every model alarm notifies the topic; step scaling's alarm acts on its policy instead.
	// (With the image and the bus: the relay's alarms too.)
	alarms := len(blueprint.Alarms) + len(blueprint.EventAlarms)
	if want := fmt.Sprintf("%d of %d", alarms, alarms+1); s.Observability.AlarmsNotifying != want {
		t.Errorf("AlarmsNotifying = %q, want %q", s.Observability.AlarmsNotifying, want)
	}
	if want := []string{
		fmt.Sprintf("at(2026-12-24T08:55:00) min %d max %d", blueprint.SaleMinTasks, blueprint.MaxTasks),
		fmt.Sprintf("at(2026-12-24T12:00:00) min %d max %d", blueprint.MinTasks, blueprint.MaxTasks),
	}; !slices.Equal(s.Scaling.Scheduled, want) {
		t.Errorf("Scaling.Scheduled = %q, want %q", s.Scaling.Scheduled, want)
	}
	// The sale warms the database: the sale's minimum at the start, the environment's own minimum
	// at the end, its maximum both times, on the stack's own cluster.
	env, _ := blueprint.LookupEnvironment(allOptions["Environment"])
	if env.Name == "" {
		env = blueprint.Environments[0] // the template's default environment
	}
	acu := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	if want := []string{
		"at(2026-12-24T08:55:00) UTC window=OFF ENABLED after=NONE arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster own-cluster " + acu(env.SaleMinACU) + "-" + acu(env.MaxACU),
		"at(2026-12-24T12:00:00) UTC window=OFF ENABLED after=NONE arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster own-cluster " + acu(env.MinACU) + "-" + acu(env.MaxACU),
	}; !slices.Equal(s.Database.SaleSchedules, want) {
		t.Errorf("Database.SaleSchedules = %q, want %q", s.Database.SaleSchedules, want)
	}
	if len(s.Scaling.Step) != 1 || !strings.Contains(s.Scaling.Step[0], "steps [0..15:+100 15..:+200]") ||
		!strings.Contains(s.Scaling.Step[0], "AWS/ECS/CPUUtilization GreaterThanThreshold 80 period 60 x1 (1 to alarm)") {
		t.Errorf("Scaling.Step = %q, want the step policy with its one-datapoint CPU alarm", s.Scaling.Step)
	}
	if !slices.Contains(s.Network.Ingress, fmt.Sprintf("db tcp %d tasks", blueprint.DBPort)) {
		t.Errorf("ingress %q lacks the database's rule", s.Network.Ingress)
	}
	if !slices.Contains(s.Edge.Listeners, "80 HTTP redirect to HTTPS:443") {
		t.Errorf("listeners %q: with a certificate HTTP redirects", s.Edge.Listeners)
	}
	// The edge (issue 13): CloudFront over HTTPS to the certificate's domain, with the header the
	// serving listener's forwarding rule matches; the ALB open only to the prefix list.
	if !strings.HasPrefix(s.CDN.Origin, "api.example.com https-only 80/443 TLSv1.2") || s.CDN.OriginHeader != blueprint.OriginVerifyHeader+" rule-forwards-on-it=true" {
		t.Errorf("CDN %+v", s.CDN)
	}
	if want := []string{"443 1 path=/metrics,/metrics/* fixed-response 404", "443 10 header=X-Origin-Verify forward"}; !slices.Equal(s.Edge.Rules, want) {
		t.Errorf("Edge.Rules = %q, want %q", s.Edge.Rules, want)
	}
	if !slices.Contains(s.Network.Ingress, "alb tcp 443 prefix-list pl-3b927c52") || slices.Contains(s.Network.Ingress, "alb tcp 80 0.0.0.0/0") {
		t.Errorf("ingress %q: want the ALB open to the prefix list only", s.Network.Ingress)
	}
	// The environment's import batches in flight: ImportParallel is left at 0.
	imports := fmt.Sprintf("IMPORT_PARALLEL=%d", env.ImportParallel)
	if want := []string{"EVENT_BUS_CONCURRENCY=1", imports, "METRICS_EMF=true", "METRICS_PORT=9090", "TRUSTED_PROXY_HOPS=2"}; !slices.Equal(s.Service.Settings, want) {
		t.Errorf("Service.Settings = %q, want %q", s.Service.Settings, want)
	}
	// The master secret reaches the migrate task only.
	if s.Migrate.Command != "migrate" || !slices.Contains(s.Migrate.Secrets, "DB_PASSWORD") || slices.Contains(s.Service.Secrets, "DB_PASSWORD") ||
		slices.Contains(s.Service.Environment, "DB_SECRET_ARN") || !slices.Contains(s.Service.Environment, "DB_IAM_AUTH") {
		t.Errorf("migrate %+v, service secrets %q, environment %q", s.Migrate, s.Service.Secrets, s.Service.Environment)
	}
	direct := maps.Clone(allOptions)
	direct["EnableCloudFront"] = "false"
	d := templateSummary(t, direct)
	if d.CDN.Origin != "none" || !slices.Equal(d.Service.Settings, []string{"EVENT_BUS_CONCURRENCY=1", imports, "METRICS_EMF=true", "METRICS_PORT=9090", "TRUSTED_PROXY_HOPS=1"}) ||
		!slices.Equal(d.Edge.Rules, []string{"443 1 path=/metrics,/metrics/* fixed-response 404"}) || !slices.Contains(d.Network.Ingress, "alb tcp 80 0.0.0.0/0") {
		t.Errorf("without CloudFront: CDN %+v, settings %q, rules %q, ingress %q", d.CDN, d.Service.Settings, d.Edge.Rules, d.Network.Ingress)
	}
	boot := templateSummary(t, map[string]string{"EnvironmentSuffix": "x"})
	if boot.Service.LaunchType != "" || boot.Service.AssignPublicIP != "no service" {
		t.Errorf("bootstrap service %+v, want none", boot.Service)
	}
}

func TestCompareNamesTheField(t *testing.T) {
	a := templateSummary(t, allOptions)
	b := a
	b.Edge.IdleTimeout = "61"
	b.Observability.Alarms = a.Observability.Alarms[1:]
	diffs := stacksummary.Compare(a, b)
	if len(diffs) != 2 || !strings.HasPrefix(diffs[0], "Edge.IdleTimeout:") || !strings.HasPrefix(diffs[1], "Observability.Alarms:") {
		t.Errorf("Compare = %q, want Edge.IdleTimeout and Observability.Alarms", diffs)
	}
	if d := stacksummary.Compare(a, a); len(d) != 0 {
		t.Errorf("Compare(a, a) = %q", d)
	}
	if table := stacksummary.Table(a, b); !strings.Contains(table, "≠ Edge.IdleTimeout") {
		t.Errorf("Table does not mark the difference:\n%s", table)
	}
}

// The Pulumi extractor reads the provider's input names; a small program's worth of resources.
func TestFromPulumi(t *testing.T) {
	res := []stacksummary.PulumiResource{
		{Type: "aws:ec2/vpc:Vpc", ID: "vpc-id", Inputs: map[string]any{"cidrBlock": "10.0.0.0/16"}},
		{Type: "aws:ec2/securityGroup:SecurityGroup", ID: "sg-alb", Inputs: map[string]any{"tags": map[string]any{"Name": "secgrp-alb-s1"}}},
		{Type: "aws:ec2/securityGroup:SecurityGroup", ID: "sg-x", Inputs: map[string]any{"tags": map[string]any{"Name": "secgrp-x-s1"}}},
		{Type: "aws:lb/loadBalancer:LoadBalancer", ID: "alb", Inputs: map[string]any{"securityGroups": []any{"sg-alb"}, "internal": false}},
		{Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", ID: "r1", Inputs: map[string]any{
			"securityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": float64(443), "toPort": float64(443), "cidrIpv4": "0.0.0.0/0"}},
		{Type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", ID: "r2", Inputs: map[string]any{
			"securityGroupId": "sg-alb", "ipProtocol": "tcp", "fromPort": float64(8080), "toPort": float64(8080), "referencedSecurityGroupId": "sg-x"}},
		{Type: "aws:appautoscaling/target:Target", ID: "t", Inputs: map[string]any{"minCapacity": float64(2), "maxCapacity": float64(10)}},
		{Type: "aws:ecs/service:Service", ID: "svc", Inputs: map[string]any{"launchType": "FARGATE"}, IgnoreChanges: []string{"desiredCount"}},
	}
	s, err := stacksummary.FromPulumi(res, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Network.VPCCIDR != "10.0.0.0/16" || s.Edge.Scheme != "internet-facing" || s.Scaling.Bounds != "2-10" {
		t.Errorf("summary %+v", s)
	}
	if want := []string{"alb tcp 443 0.0.0.0/0"}; !slices.Equal(s.Network.Ingress, want) {
		t.Errorf("ingress %q, want %q", s.Network.Ingress, want)
	}
	if want := []string{"alb tcp 8080 unused-group:secgrp-x-{suffix}"}; !slices.Equal(s.Network.Egress, want) {
		t.Errorf("egress %q, want %q", s.Network.Egress, want)
	}
	if s.Service.DesiredCountLeftToScaling != "true" || s.Service.LaunchType != "FARGATE" {
		t.Errorf("service %+v", s.Service)
	}
	if _, err := stacksummary.FromPulumi([]stacksummary.PulumiResource{{Type: "aws:iam/role:Role", Inputs: map[string]any{"assumeRolePolicy": "{"}}}, "s1"); err == nil {
		t.Error("a role with a broken trust policy summarised without an error")
	}
}
