// Package awsnames holds the naming rules AWS APIs enforce on the names and identifiers the
// catalog stacks choose, as pure functions. Schemas and linters do not know most of them; a
// deploy does, so both stacks' tests run every physical name through Check.
//
// Each rule cites the API reference page it comes from.
package awsnames

import (
	"fmt"
	"regexp"
	"strings"
)

// Kind names a kind of AWS name.
type Kind string

// The kinds of names the stacks choose.
const (
	SecurityGroupName     Kind = "EC2 security group name"
	DBClusterIdentifier   Kind = "RDS DB cluster identifier"
	DBInstanceIdentifier  Kind = "RDS DB instance identifier"
	DBSubnetGroupName     Kind = "RDS DB subnet group name"
	DBParameterGroupName  Kind = "RDS DB cluster parameter group name"
	LoadBalancerName      Kind = "ELB load balancer name"
	TargetGroupName       Kind = "ELB target group name"
	ECRRepositoryName     Kind = "ECR repository name"
	IAMRoleName           Kind = "IAM role name"
	IAMPolicyName         Kind = "IAM inline policy name"
	IAMPath               Kind = "IAM path"
	KMSAliasName          Kind = "KMS alias name"
	SSMParameterName      Kind = "SSM parameter name"
	LogGroupName          Kind = "CloudWatch Logs log group name"
	SecretName            Kind = "Secrets Manager secret name"
	ECSClusterName        Kind = "ECS cluster name"
	ECSServiceName        Kind = "ECS service name"
	ECSTaskFamily         Kind = "ECS task definition family"
	SNSTopicName          Kind = "SNS topic name"
	AlarmName             Kind = "CloudWatch alarm name"
	DashboardName         Kind = "CloudWatch dashboard name"
	ScalingPolicyName     Kind = "Application Auto Scaling policy name"
	CachePolicyName       Kind = "CloudFront cache policy name"
	EventBusName          Kind = "EventBridge event bus name"
	EventArchiveName      Kind = "EventBridge archive name"
	SchedulerScheduleName Kind = "EventBridge Scheduler schedule name"
	TagValue              Kind = "tag value"
	WebACLName            Kind = "WAFv2 web ACL name"
	WAFMetricName         Kind = "WAFv2 metric name"
	CloudFrontFunction    Kind = "CloudFront function name"
	securityGroupMaxBytes      = 255
)

// Rule is one kind's rules and the page that states them.
type Rule struct {
	Kind Kind
	// Doc is the AWS API reference page the rules come from.
	Doc   string
	check func(string) []string
}

var (
	rdsIdentifier   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	elbName         = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	ecrName         = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	iamName         = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPath         = regexp.MustCompile(`^/(?:[\x21-\x7E]*/)?$`)
	kmsAlias        = regexp.MustCompile(`^alias/[A-Za-z0-9/_-]+$`)
	ssmName         = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)
	logGroup        = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]+$`)
	secretName      = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	secretARNSuffix = regexp.MustCompile(`-[^-]{6}$`)
	ecsName         = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	subnetGroup     = regexp.MustCompile(`^[A-Za-z0-9 ._-]+$`)
	snsName         = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	dashboard       = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	cachePolicy     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	wafName         = regexp.MustCompile(`^[\w\-]+$`)
	wafMetric       = regexp.MustCompile(`^[\w#:\.\-/]+$`)
	cfFunction      = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	eventBus        = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)
	eventArchive    = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)
	scheduleName    = regexp.MustCompile(`^[0-9a-zA-Z\-_.]+$`)
)

func length(s string, min, max int) []string {
	if n := len(s); n < min || n > max {
		return []string{fmt.Sprintf("must be %d-%d characters, is %d", min, max, n)}
	}
	return nil
}

func match(re *regexp.Regexp, s, what string) []string {
	if !re.MatchString(s) {
		return []string{"may contain only " + what}
	}
	return nil
}

// rdsIdentifierRules are RDS's rules for cluster and instance identifiers.
func rdsIdentifierRules(s string) []string { return rdsNameRules(s, 63) }

// rdsNameRules are RDS's rules for identifiers and parameter group names, up to max characters.
func rdsNameRules(s string, max int) []string {
	p := length(s, 1, max)
	p = append(p, match(rdsIdentifier, s, "ASCII letters, digits and hyphens, starting with a letter")...)
	if strings.Contains(s, "--") {
		p = append(p, "must not contain two consecutive hyphens")
	}
	if strings.HasSuffix(s, "-") {
		p = append(p, "must not end with a hyphen")
	}
	return p
}

// Rules are the rules of every kind.
var Rules = map[Kind]Rule{
	SecurityGroupName: {SecurityGroupName, "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
		func(s string) []string {
			p := length(s, 1, securityGroupMaxBytes)
			if strings.HasPrefix(strings.ToLower(s), "sg-") {
				p = append(p, `must not start with "sg-"`)
			}
			for _, r := range s {
				if r < 0x20 || r > 0x7e {
					p = append(p, "may contain only printable ASCII characters")
					break
				}
			}
			return p
		}},
	DBClusterIdentifier: {DBClusterIdentifier, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html", rdsIdentifierRules},
	DBInstanceIdentifier: {DBInstanceIdentifier, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
		rdsIdentifierRules},
	DBParameterGroupName: {DBParameterGroupName, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterParameterGroup.html",
		func(s string) []string { return rdsNameRules(s, 255) }},
	DBSubnetGroupName: {DBSubnetGroupName, "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
		func(s string) []string {
			p := length(s, 1, 255)
			p = append(p, match(subnetGroup, s, "ASCII letters, digits, spaces, periods, underscores and hyphens")...)
			if strings.EqualFold(s, "default") {
				p = append(p, `must not be "default"`)
			}
			return p
		}},
	LoadBalancerName: {LoadBalancerName, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
		func(s string) []string {
			p := length(s, 1, 32)
			p = append(p, match(elbName, s, "alphanumeric characters and hyphens")...)
			if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
				p = append(p, "must not begin or end with a hyphen")
			}
			if strings.HasPrefix(s, "internal-") {
				p = append(p, `must not begin with "internal-"`)
			}
			return p
		}},
	TargetGroupName: {TargetGroupName, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
		func(s string) []string {
			p := length(s, 1, 32)
			p = append(p, match(elbName, s, "alphanumeric characters and hyphens")...)
			if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
				p = append(p, "must not begin or end with a hyphen")
			}
			return p
		}},
	ECRRepositoryName: {ECRRepositoryName, "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
		func(s string) []string {
			return append(length(s, 2, 256), match(ecrName, s, "lower-case letters, digits and single '.', '_', '-' or '/' between them")...)
		}},
	IAMRoleName: {IAMRoleName, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
		func(s string) []string {
			return append(length(s, 1, 64), match(iamName, s, "letters, digits and +=,.@_-")...)
		}},
	IAMPolicyName: {IAMPolicyName, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html",
		func(s string) []string {
			return append(length(s, 1, 128), match(iamName, s, "letters, digits and +=,.@_-")...)
		}},
	IAMPath: {IAMPath, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
		func(s string) []string {
			return append(length(s, 1, 512), match(iamPath, s, "printable ASCII between a leading and a trailing '/'")...)
		}},
	KMSAliasName: {KMSAliasName, "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
		func(s string) []string {
			p := length(s, 1, 256)
			p = append(p, match(kmsAlias, s, `"alias/" then letters, digits, '/', '_' and '-'`)...)
			if strings.HasPrefix(s, "alias/aws/") {
				p = append(p, `must not begin with "alias/aws/" (reserved for AWS managed keys)`)
			}
			return p
		}},
	SSMParameterName: {SSMParameterName, "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html",
		func(s string) []string {
			p := length(s, 1, 1011)
			p = append(p, match(ssmName, s, "letters, digits, '.', '-', '_' and '/'")...)
			if strings.Contains(s, "/") && !strings.HasPrefix(s, "/") {
				p = append(p, `a hierarchical name must begin with "/"`)
			}
			if levels := strings.Count(strings.TrimPrefix(s, "/"), "/") + 1; levels > 15 {
				p = append(p, fmt.Sprintf("may have at most 15 levels, has %d", levels))
			}
			first := strings.ToLower(strings.SplitN(strings.TrimPrefix(s, "/"), "/", 2)[0])
			if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
				p = append(p, `must not begin with "aws" or "ssm" (reserved)`)
			}
			return p
		}},
	LogGroupName: {LogGroupName, "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
		func(s string) []string {
			return append(length(s, 1, 512), match(logGroup, s, "letters, digits, '_', '-', '/', '.' and '#'")...)
		}},
	SecretName: {SecretName, "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html",
		func(s string) []string {
			p := length(s, 1, 512)
			p = append(p, match(secretName, s, "letters, digits and /_+=.@-")...)
			if secretARNSuffix.MatchString(s) {
				p = append(p, "must not end with a hyphen and six characters (Secrets Manager appends that to the ARN; partial-ARN lookups break)")
			}
			return p
		}},
	ECSClusterName: {ECSClusterName, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html",
		func(s string) []string {
			return append(length(s, 1, 255), match(ecsName, s, "letters, digits, hyphens and underscores")...)
		}},
	ECSServiceName: {ECSServiceName, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html",
		func(s string) []string {
			return append(length(s, 1, 255), match(ecsName, s, "letters, digits, hyphens and underscores")...)
		}},
	ECSTaskFamily: {ECSTaskFamily, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
		func(s string) []string {
			return append(length(s, 1, 255), match(ecsName, s, "letters, digits, hyphens and underscores")...)
		}},
	SNSTopicName: {SNSTopicName, "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
		func(s string) []string {
			return append(length(s, 1, 256), match(snsName, s, "letters, digits, hyphens and underscores")...)
		}},
	AlarmName: {AlarmName, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
		func(s string) []string { return length(s, 1, 255) }},
	DashboardName: {DashboardName, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
		func(s string) []string {
			return append(length(s, 1, 255), match(dashboard, s, "letters, digits, hyphens and underscores")...)
		}},
	// The API reference says only "a unique name"; the console and CloudFormation's schema limit
	// it to 128 letters, digits, hyphens and underscores, unique in the account.
	CachePolicyName: {CachePolicyName, "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyConfig.html",
		func(s string) []string {
			return append(length(s, 1, 128), match(cachePolicy, s, "letters, digits, hyphens and underscores")...)
		}},
	WebACLName: {WebACLName, "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
		func(s string) []string {
			return append(length(s, 1, 128), match(wafName, s, "letters, digits, underscores and hyphens")...)
		}},
	WAFMetricName: {WAFMetricName, "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html",
		func(s string) []string {
			return append(length(s, 1, 255), match(wafMetric, s, "letters, digits, and _ # : . - / (no whitespace)")...)
		}},
	CloudFrontFunction: {CloudFrontFunction, "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateFunction.html",
		func(s string) []string {
			return append(length(s, 1, 64), match(cfFunction, s, "letters, digits, hyphens and underscores")...)
		}},
	ScalingPolicyName: {ScalingPolicyName, "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
		func(s string) []string {
			p := length(s, 1, 256)
			if strings.ContainsAny(s, ":") {
				p = append(p, "must not contain ':'")
			}
			return p
		}},
	// The pattern allows '/' for partner buses only; "default" is the account's own bus.
	EventBusName: {EventBusName, "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html",
		func(s string) []string {
			p := length(s, 1, 256)
			p = append(p, match(eventBus, s, "letters, digits, '.', '-' and '_' (a custom bus name may not contain '/')")...)
			if s == "default" {
				p = append(p, `must not be "default" (the account's default event bus)`)
			}
			return p
		}},
	EventArchiveName: {EventArchiveName, "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateArchive.html",
		func(s string) []string {
			return append(length(s, 1, 48), match(eventArchive, s, "letters, digits, '.', '-' and '_'")...)
		}},
	SchedulerScheduleName: {SchedulerScheduleName, "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html",
		func(s string) []string {
			return append(length(s, 1, 64), match(scheduleName, s, "letters, digits, '-', '_' and '.'")...)
		}},
	TagValue: {TagValue, "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
		func(s string) []string { return length(s, 0, 256) }},
}

// Check returns nil if AWS accepts name as a kind's name, else an error naming every rule it
// breaks and the page the rules come from.
func Check(kind Kind, name string) error {
	r, ok := Rules[kind]
	if !ok {
		return fmt.Errorf("no rules for %s", kind)
	}
	if p := r.check(name); len(p) > 0 {
		return fmt.Errorf("%s %q: %s (%s)", kind, name, strings.Join(p, "; "), r.Doc)
	}
	return nil
}
