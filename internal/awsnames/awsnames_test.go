package awsnames

import (
	"strings"
	"testing"
)

func TestRules(t *testing.T) {
	tests := []struct {
		kind Kind
		good []string
		bad  []string
	}{
		{SecurityGroupName, []string{"secgrp-alb-dev", "alb-sg-dev", strings.Repeat("a", 255)},
			[]string{"sg-alb-dev", "SG-alb", "", strings.Repeat("a", 256), "grp\u00e9"}},
		{DBClusterIdentifier, []string{"db-catalog-dev", "a", "a" + strings.Repeat("1", 62)},
			[]string{"db-catalog-a--b", "db-catalog-", "1db", "-db", "db_catalog", "", "a" + strings.Repeat("1", 63)}},
		{DBInstanceIdentifier, []string{"db-writer-dev"}, []string{"db-writer-a--b", "db-writer-dev-"}},
		{DBParameterGroupName, []string{"dbparams-catalog-dev", "a" + strings.Repeat("b", 100)}, []string{"dbparams--x", "9params", "p-"}},
		{DBSubnetGroupName, []string{"dbsubnets-catalog-dev", "my group.1"}, []string{"default", "DEFAULT", "a/b", ""}},
		{LoadBalancerName, []string{"alb-catalog-" + strings.Repeat("a", 16)},
			[]string{"alb-catalog-" + strings.Repeat("a", 21), "-alb", "alb-", "internal-alb", "alb_catalog"}},
		{TargetGroupName, []string{"tg-catalog-dev"}, []string{"tg-" + strings.Repeat("a", 30), "tg-", "tg.catalog"}},
		{ECRRepositoryName, []string{"ecr-catalog-dev", "team/app", "a.b_c"}, []string{"ECR", "a", "a--b/", "/a", "a//b"}},
		{IAMRoleName, []string{"role-task-dev", "a+=,.@_-"}, []string{strings.Repeat("r", 65), "role/x", "role x"}},
		{IAMPolicyName, []string{"policy-task-dev"}, []string{strings.Repeat("p", 129), "p:x"}},
		{IAMPath, []string{"/", "/catalog/", "/a/b/"}, []string{"catalog", "/catalog", "//x"}},
		{KMSAliasName, []string{"alias/kms-logs-dev"}, []string{"kms-logs", "alias/aws/logs", "alias/a b"}},
		{SSMParameterName, []string{"/catalog/dev/db/url", "plain"},
			[]string{"catalog/dev", "/aws/x", "/ssm-x/y", "/SSM/y", "/" + strings.Repeat("a/", 15) + "x", "/a b"}},
		{LogGroupName, []string{"/ecs/svc-catalog-dev", "/aws/rds/cluster/db-catalog-dev/postgresql"}, []string{"", "/ecs/a b", "/ecs/a:b"}},
		{SecretName, []string{"catalog/dev/api-keys", "catalog-abcde", "catalog-abcdefg"},
			[]string{"secret-api-keys-zq9abc", "x-123456", "a b", strings.Repeat("s", 513)}},
		{ECSClusterName, []string{"ecs-catalog-dev"}, []string{"ecs.catalog", strings.Repeat("c", 256)}},
		{ECSServiceName, []string{"svc-catalog-dev"}, []string{"svc/catalog"}},
		{ECSTaskFamily, []string{"task-catalog-dev"}, []string{"task catalog"}},
		{SNSTopicName, []string{"topic-alarms-dev"}, []string{"topic.alarms", ""}},
		{AlarmName, []string{"alarm-cpu-high-dev"}, []string{"", strings.Repeat("a", 256)}},
		{DashboardName, []string{"dashboard-catalog-dev"}, []string{"dash board", "dash/x"}},
		{ScalingPolicyName, []string{"scaling-cpu-dev"}, []string{"scaling:cpu", ""}},
		{CachePolicyName, []string{"cachepolicy-catalog-dev", "a_b"}, []string{"cache policy", "", strings.Repeat("c", 129)}},
		{WebACLName, []string{"webacl-catalog-dev", "a_b"}, []string{"web acl", "", "a.b", strings.Repeat("w", 129)}},
		{WAFMetricName, []string{"webacl-catalog-dev-rate-per-client", "a#b:c.d/e"}, []string{"a b", "", strings.Repeat("m", 256)}},
		{CloudFrontFunction, []string{"cffn-viewer-address-dev"}, []string{"a.b", "", strings.Repeat("f", 65)}},
		{EventBusName, []string{"bus-catalog-dev", "orders.v1_x", "Default", strings.Repeat("b", 256)},
			[]string{"default", "aws.partner/x/y", "bus catalog", "", strings.Repeat("b", 257), "bus:catalog"}},
		{SchedulerScheduleName, []string{"schedule-sale-db-start-dev", "a", strings.Repeat("a", 64), "A.b_c-9"},
			[]string{"", strings.Repeat("a", 65), "sale/db", "sale db", "sale:db", "caf\u00e9"}},
		{EventArchiveName, []string{"archive-events-dev", "a.b_c", strings.Repeat("a", 48)},
			[]string{"", strings.Repeat("a", 49), "archive/events", "archive events"}},
	}
	seen := map[Kind]bool{}
	for _, tt := range tests {
		seen[tt.kind] = true
		for _, n := range tt.good {
			if err := Check(tt.kind, n); err != nil {
				t.Errorf("Check(%s, %q) = %v, want nil", tt.kind, n, err)
			}
		}
		for _, n := range tt.bad {
			err := Check(tt.kind, n)
			if err == nil {
				t.Errorf("Check(%s, %q) = nil, want an error", tt.kind, n)
				continue
			}
			if !strings.Contains(err.Error(), "https://docs.aws.amazon.com/") {
				t.Errorf("Check(%s, %q) = %v: does not cite the AWS page", tt.kind, n, err)
			}
		}
	}
	for k, r := range Rules {
		if k != r.Kind {
			t.Errorf("Rules[%s].Kind = %s", k, r.Kind)
		}
		if !strings.HasPrefix(r.Doc, "https://docs.aws.amazon.com/") {
			t.Errorf("Rules[%s].Doc = %q, want an AWS documentation URL", k, r.Doc)
		}
		if !seen[k] && k != TagValue {
			t.Errorf("kind %s has no table test", k)
		}
	}
	if err := Check("no such kind", "x"); err == nil {
		t.Error("Check of an unknown kind = nil, want an error")
	}
}

// FuzzCheck: Check never panics, and what it accepts as an RDS identifier has none of the
// shapes RDS refuses.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"db-catalog-dev", "a--b", "-", "", "sg-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for k := range Rules {
			_ = Check(k, s)
		}
		if Check(DBClusterIdentifier, s) == nil {
			if strings.Contains(s, "--") || strings.HasSuffix(s, "-") || len(s) > 63 || s == "" {
				t.Errorf("Check(DBClusterIdentifier, %q) accepted a name RDS refuses", s)
			}
		}
	})
}
