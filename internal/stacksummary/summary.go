// Package stacksummary reduces each rendering of the blueprint model (the CloudFormation
// template under chosen parameters, and the resources the Pulumi program registered) to one
// neutral Summary, so the two renderings of one deployment compare field by field.
//
// Each concern's facts are a struct that both extractors build with an unkeyed composite
// literal: a fact added to the struct is a compile error in every extractor until it says it.
// Which resources exist is not summarised here: the renderers' model tests hold both to the
// model's resources in every combination of options.
package stacksummary

import (
	"fmt"
	"reflect"
	"strings"
)

// Summary is what both renderings must agree on.
type Summary struct {
	Network       Network
	CDN           CDN
	Edge          Edge
	Service       Service
	Migrate       Migrate
	Scaling       Scaling
	IAM           IAM
	Database      Database
	Registry      Registry
	Observability Observability
	Config        Config
	Firewall      Firewall
}

// Network: the VPC, subnets, endpoints and security-group rules ("alb tcp 443 0.0.0.0/0", groups
// by the tier that uses them).
type Network struct {
	VPCCIDR         string
	Subnets         []string
	PublicIPSubnets []string
	Endpoints       []string
	Ingress, Egress []string
	// EndpointPolicies: each endpoint's policy, as canonical JSON ("ecr.api <policy>").
	EndpointPolicies []string
}

// Edge: the load balancer, its target group and listeners.
type Edge struct {
	Scheme              string
	DropInvalidHeaders  string
	IdleTimeout         string
	Target              string
	HealthCheck         string
	DeregistrationDelay string
	Listeners           []string
	// Rules are the listener rules: "<port> <priority> <conditions> <action>".
	Rules []string
}

// CDN: the CloudFront distribution in front of the load balancer ("none" without one).
type CDN struct {
	// Origin: where and how CloudFront connects ("load-balancer http-only 80/443 TLSv1.2").
	Origin string
	// OriginHeader: the custom header's name, and whether its value is the one the listener
	// rule forwards on.
	OriginHeader string
	// Behaviour: viewer protocol, methods allowed and cached, compression, origin request policy.
	Behaviour string
	// Cache: TTLs and the cache key.
	Cache string
	// Viewer: certificate, TLS policy, HTTP versions, IPv6, price class.
	Viewer string
}

// Service: the task definition, its container and the ECS service.
type Service struct {
	TaskSize, NetworkMode                   string
	User, ReadonlyRoot, Port, Memory        string
	HealthCheck, StopTimeout, LogDriver     string
	Mounts, Environment, Secrets            []string
	LaunchType, AssignPublicIP              string
	Deployment, CircuitBreaker, GracePeriod string
	DesiredCountLeftToScaling               string
	ClusterSettings                         []string
	// Settings are the values of the container settings the edge decides (proxy hops, metrics
	// port): "NAME=value".
	Settings []string
}

// Migrate: the one-off migrate task ("no task" before an image): its command, settings, and
// whether it runs with the service's size and network mode.
type Migrate struct {
	Command, TaskSize, NetworkMode string
	Environment, Secrets           []string
}

// Scaling: bounds, target-tracking policies, step scaling with the alarm that drives it, and
// scheduled actions.
type Scaling struct {
	Bounds   string
	Policies []string
	Step     []string
	// Scheduled are the scheduled actions (a planned sale's): schedule and capacity bounds.
	Scheduled []string
}

// IAM: who may assume the roles.
type IAM struct {
	Trust []string
	// Permissions are the roles' policy statements: Sid, actions and condition keys with their
	// values, so a grant or a condition one stack lacks (kms:ViaService) is a difference.
	Permissions []string
}

// Database: the cluster, its instances and parameter group.
type Database struct {
	Engine, Encrypted, BackupRetention, ACU, Port string
	ManagedPassword, DeletionProtection           string
	LogExports                                    string
	Instances                                     []string
	ParameterGroup                                string
	// SaleSchedules are the schedules that warm the database for a planned sale: when, how
	// exactly, what they do after running, and the capacity they set on which cluster.
	SaleSchedules []string
}

// Registry: the repository.
type Registry struct {
	Tags, ScanOnPush, Lifecycle, EmptiedOnDelete string
}

// Observability: log retention and alarms.
type Observability struct {
	LogRetention    []string
	Alarms          []string
	AlarmsNotifying string
}

// Config: the plain Parameter Store settings ("/catalog/{suffix}/db/host String").
type Config struct {
	Parameters []string
}

// Compare lists the facts on which two summaries differ, as "Concern.Field: Pulumi ...,
// CloudFormation ...". An empty list means parity.
func Compare(pulumi, cloudformation Summary) []string {
	var diffs []string
	walk("", reflect.ValueOf(pulumi), reflect.ValueOf(cloudformation), func(path string, p, c any) {
		diffs = append(diffs, fmt.Sprintf("%s: Pulumi %q, CloudFormation %q", path, fmt.Sprint(p), fmt.Sprint(c)))
	})
	return diffs
}

// Table renders both summaries side by side, for a test log.
func Table(pulumi, cloudformation Summary) string {
	var sb strings.Builder
	each("", reflect.ValueOf(pulumi), reflect.ValueOf(cloudformation), func(path string, p, c any) {
		mark := " "
		if !reflect.DeepEqual(p, c) {
			mark = "≠"
		}
		fmt.Fprintf(&sb, "%s %-40s %v | %v\n", mark, path, p, c)
	})
	return sb.String()
}

// walk calls differ for every leaf field whose values differ.
func walk(path string, a, b reflect.Value, differ func(path string, a, b any)) {
	each(path, a, b, func(path string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			differ(path, x, y)
		}
	})
}

// each calls f for every leaf field of two values of the same struct type.
func each(path string, a, b reflect.Value, f func(path string, a, b any)) {
	if a.Kind() != reflect.Struct {
		f(path, a.Interface(), b.Interface())
		return
	}
	for i := 0; i < a.NumField(); i++ {
		name := a.Type().Field(i).Name
		if path != "" {
			name = path + "." + name
		}
		each(name, a.Field(i), b.Field(i), f)
	}
}
