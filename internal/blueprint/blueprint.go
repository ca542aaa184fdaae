// Package blueprint is the catalog's AWS architecture as plain, typed data: its numbers and
// names (this file) and, in Model, every resource by concern with its settings and the options
// it exists under. The CloudFormation template builder (internal/cfnstack) and the Pulumi
// program (deploy/pulumi/infra) render the model and decide nothing of their own; the policy
// tests of this package are the architecture's rules (docs/adr/0010-blueprint-model.md).
//
// The package is plain data and pure functions: no AWS SDK, no tool's types, no I/O.
package blueprint

import (
	"fmt"
	"regexp"
	"time"

	"github.com/acme/catalog/internal/emf"
)

// Project is the purpose word in most resource names and the value of the Project tag.
const Project = "catalog"

// Region is the default region the documentation deploys to; both stacks take the region from
// their deployment, never from this constant.
const Region = "us-east-1"

// The service's contract with the platform.
const (
	AppPort       = 8080
	HealthPath    = "/health"
	ReadyPath     = "/ready"
	ContainerName = "catalog"
	// ContainerUser is distroless's "nonroot" user; the image declares it too, and the task
	// definition repeats it so a different image cannot silently run as root.
	ContainerUser = "65532:65532"
	// TmpfsPath is the only writable path in the container (read-only root filesystem).
	TmpfsPath = "/tmp"
)

// HealthCheckCommand is the container health check: the binary checks itself, no shell needed.
var HealthCheckCommand = []string{"CMD", "/catalog", "healthcheck"}

// Container health check timing (ECS task definition), in seconds.
const (
	ContainerHealthInterval    = 15
	ContainerHealthTimeout     = 5
	ContainerHealthRetries     = 3
	ContainerHealthStartPeriod = 15
)

// TaskSize is a Fargate task size: CPU in units (1024 = 1 vCPU) and memory in MiB.
type TaskSize struct {
	CPU    int
	Memory int
}

// DefaultTaskSize is 1 vCPU and 2 GB.
var DefaultTaskSize = TaskSize{CPU: 1024, Memory: 2048}

// String returns the size as "cpu/memory", the form both stacks' parameters use.
func (s TaskSize) String() string { return fmt.Sprintf("%d/%d", s.CPU, s.Memory) }

// Valid reports whether Fargate accepts the combination (Linux, up to 4 vCPU).
func (s TaskSize) Valid() error {
	for _, v := range ValidTaskSizes() {
		if v == s {
			return nil
		}
	}
	return fmt.Errorf("task size %s (cpu units/memory MiB) is not a Fargate combination; valid: 256/512..2048, 512/1024..4096, 1024/2048..8192, 2048/4096..16384 and 4096/8192..30720 in 1024 MiB steps", s)
}

// ValidTaskSizes lists every Fargate Linux CPU/memory combination from 0.25 to 4 vCPU, in
// ascending order.
func ValidTaskSizes() []TaskSize {
	var sizes []TaskSize
	add := func(cpu int, mems ...int) {
		for _, m := range mems {
			sizes = append(sizes, TaskSize{CPU: cpu, Memory: m})
		}
	}
	steps := func(from, to int) []int {
		var out []int
		for m := from; m <= to; m += 1024 {
			out = append(out, m)
		}
		return out
	}
	add(256, 512, 1024, 2048)
	add(512, steps(1024, 4096)...)
	add(1024, steps(2048, 8192)...)
	add(2048, steps(4096, 16384)...)
	add(4096, steps(8192, 30720)...)
	return sizes
}

// Service scaling and deployment.
const (
	MinTasks               = 2
	MaxTasks               = 24 // a 10x sale over 2,000 req/s needs 16 tasks (RequestsPerTask); 24 leaves half as many again
	CPUTargetPercent       = 70
	MemoryTargetPercent    = 75
	ScaleOutCooldown       = 60  // seconds: react fast to a flash sale
	ScaleInCooldown        = 300 // seconds: shed capacity slowly
	HealthCheckGracePeriod = 60  // seconds the ECS service ignores failing ALB checks after start
	DeploymentMinHealthy   = 100 // percent
	DeploymentMaxPercent   = 200 // percent
)

// RequestsPerTask is the requests per second one task (DefaultTaskSize, 1 vCPU) serves at
// CPUTargetPercent: 0.70 vCPU over the measured mix's server CPU per request (docs/capacity.md,
// `go run ./cmd/bench -capacity`). Ten runs on 2026-12-03, products with variants, measured
// 400-550 µs, so 1,273-1,747 req/s; the figure is near the lowest, so request-count scaling
// adds a task before the slowest measured task passes the CPU target. Measure again and change
// it (with SaleMinTasks, MaxTasks and ReaderCPUPerRequest) when a request's cost changes.
const RequestsPerTask = 1300

// ReaderCPUPerRequest is the database CPU the measured mix costs the reader, per request of the
// whole mix: public reads go to the reader (ADR 0022), and search and filtered lists are most
// of it. The same ten runs measured 808-1,122 µs; at 10x over 2,000 req/s that is 16-22 vCPU,
// 92-128 ACU at 70%, the busiest instance by far (the writer's reservations: 9.5-12.5 ACU).
// Prod's MaxACU is set from it (ADR 0028).
const ReaderCPUPerRequest = 1050 * time.Microsecond

// RequestCountTarget is the ALBRequestCountPerTarget target: the metric is requests per target
// per minute, so a task at RequestCountTarget runs at about CPUTargetPercent.
const RequestCountTarget = RequestsPerTask * 60

// Target group health check, against HealthPath on AppPort.
const (
	HealthCheckIntervalSeconds = 10
	HealthCheckTimeoutSeconds  = 5
	HealthyThreshold           = 2
	UnhealthyThreshold         = 3
	HealthCheckMatcher         = "200"
	DeregistrationDelaySeconds = 30
	ALBIdleTimeoutSeconds      = 60
	// TLSPolicy accepts TLS 1.3 and 1.2 with forward-secret ciphers only.
	TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
)

// Shutdown timing. On SIGTERM the service fails readiness and /health, keeps serving for
// DrainDelay while the load balancer stops routing to it, then finishes in-flight requests; the
// whole sequence ends within ShutdownTimeout, which stays under StopTimeout so ECS never has to
// SIGKILL a task that is still finishing requests.
const (
	DrainDelay         = 10 * time.Second
	ShutdownTimeout    = 25 * time.Second
	StopTimeoutSeconds = 30
)

// LogRetentionDays applies to the application and database log groups.
const LogRetentionDays = 7

// Network plan: one /16, three AZs, three tiers. Public subnets hold the ALB and NAT gateways,
// private subnets the tasks (large: Fargate uses one IP per task), isolated subnets the database
// (no route to the internet at all).
const (
	AZCount = 3
	VPCCIDR = "10.0.0.0/16"
)

// Subnet CIDRs per tier, one per AZ, in AZ order.
var (
	PublicSubnetCIDRs   = [AZCount]string{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"}
	PrivateSubnetCIDRs  = [AZCount]string{"10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"}
	IsolatedSubnetCIDRs = [AZCount]string{"10.0.64.0/24", "10.0.65.0/24", "10.0.66.0/24"}
)

// NAT modes.
const (
	NATPerAZ  = "per-az" // one NAT gateway per AZ: an AZ outage leaves the others routing
	NATSingle = "single" // one NAT gateway: cheaper, for dev
)

// InterfaceEndpointServices are the optional VPC interface endpoints, so tasks reach ECR, logs
// and secrets without the NAT gateways. The S3 gateway endpoint (free) is always created: ECR
// image layers come from S3.
var InterfaceEndpointServices = []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"}

// Container registry.
const (
	ECRKeepImages         = 5 // the 5 most recent images stay, older ones expire
	ECRUntaggedExpiryDays = 1
)

// ECRLifecyclePolicy returns the lifecycle policy text both stacks attach to the repository:
// untagged images expire after a day, and of all images only the ECRKeepImages most recent stay.
func ECRLifecyclePolicy() string {
	return fmt.Sprintf(`{"rules":[`+
		`{"rulePriority":1,"description":"Expire untagged images after %d day","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":%d},"action":{"type":"expire"}},`+
		`{"rulePriority":2,"description":"Keep only the %d most recent images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":%d},"action":{"type":"expire"}}]}`,
		ECRUntaggedExpiryDays, ECRUntaggedExpiryDays, ECRKeepImages, ECRKeepImages)
}

// Database: Aurora PostgreSQL Serverless v2, one writer and one reader in different AZs.
const (
	DBPort                   = 5432
	DBName                   = "catalog"
	DBMasterUsername         = "catalog_admin"
	DBEngine                 = "aurora-postgresql"
	DBParameterGroupFamily   = "aurora-postgresql16"
	DBInstanceClass          = "db.serverless"
	DBInstanceCount          = 2
	DBBackupRetentionDays    = 7
	DBPerformanceInsightsTTL = 7 // days: the free tier
	DBPreferredBackupWindow  = "03:00-04:00"
	DBMaintenanceWindow      = "sun:04:30-sun:05:30"
)

// DBEngineVersion is the default Aurora PostgreSQL version of a new cluster; both stacks take it as
// a parameter (CloudFormation DBEngineVersion, Pulumi catalog:dbEngineVersion) because AWS retires
// minor versions, and a retired default makes a fresh deploy fail. AutoMinorVersionUpgrade moves a
// running cluster past it; the stacks ignore that drift (see the deploy READMEs).
const DBEngineVersion = "16.9"

// DBEngineVersionPattern is what the engine version parameter accepts: a 16.x minor, the major
// the cluster parameter group family (DBParameterGroupFamily) is for.
const DBEngineVersionPattern = `^16\.[0-9]{1,2}$`

var dbEngineVersionRE = regexp.MustCompile(DBEngineVersionPattern)

// ValidateDBEngineVersion reports whether v is a usable engine version for this architecture.
func ValidateDBEngineVersion(v string) error {
	if !dbEngineVersionRE.MatchString(v) {
		return fmt.Errorf("database engine version %q must be an Aurora PostgreSQL 16 minor version such as %s (the parameter group family is %s)", v, DBEngineVersion, DBParameterGroupFamily)
	}
	return nil
}

// DBURL returns the connection string stored under ParamDBURL (the Pulumi stack's SecureString;
// the template stores the parts, host, port and name, as String parameters): no password (the
// service reads it from the RDS-managed secret) and no sslrootcert, because libpq and pgx read
// sslrootcert as a file path. A client downloads the RDS CA bundle (RDSCABundleURL) and appends
// "&sslrootcert=<path>"; the catalog binary verifies against its embedded bundle instead.
func DBURL(host string) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=%s", DBMasterUsername, host, DBPort, DBName, DBSSLMode)
}

// RDSCABundleURL is the global Amazon RDS CA bundle a client verifies the database against.
const RDSCABundleURL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

// DBURLDescription is the Parameter Store description of the connection string.
const DBURLDescription = "Catalog database connection string without password (sslmode=verify-full): download " + RDSCABundleURL + " and append &sslrootcert=<path>"

// DBClusterParameters are set on the cluster parameter group: TLS is mandatory for every
// connection, and slow statements are logged to the exported postgresql log.
var DBClusterParameters = map[string]string{
	"rds.force_ssl":              "1",
	"log_min_duration_statement": "1000",
}

// Alarm is one CloudWatch alarm both stacks create, notifying the alarm topic.
type Alarm struct {
	Purpose           string // the name's purpose part: alarm-{Purpose}-{suffix}
	Description       string
	Namespace         string
	Metric            string
	Statistic         string // Average, Sum, Minimum, Maximum; empty when ExtendedStatistic is set
	ExtendedStatistic string // p99 and the like
	Comparison        string
	Threshold         float64
	PeriodSeconds     int
	EvaluationPeriods int
	DatapointsToAlarm int
	// Dimensions names the metric dimensions; each stack fills in its own values.
	Dimensions []string
	// TreatMissingData is how a gap counts; "breaching" where silence means trouble.
	TreatMissingData string
	// NeedsService marks alarms that only make sense once the ECS service exists: they name it,
	// or they would page during a bootstrap deploy that has no tasks yet. Both stacks create
	// them only with an image.
	NeedsService bool
	// When, if set, is a further option the alarm exists under (the relay's alarms: publishing).
	When Option
	// ThresholdSetting, if set, names the deployment setting (Setting*) the threshold comes
	// from; Threshold is then its default.
	ThresholdSetting string
}

// Alarm dimension names.
const (
	DimClusterName  = "ClusterName"
	DimServiceName  = "ServiceName"
	DimLoadBalancer = "LoadBalancer"
	DimTargetGroup  = "TargetGroup"
	DimDBCluster    = "DBClusterIdentifier"
	// DimEnvironment is the dimension of the service's own metrics (EMF): its APP_ENV.
	DimEnvironment = emf.DimEnvironment
)

// DimensionText are the dimensions whose value is model text (with placeholders) rather than a
// resource's attribute: the service's metrics carry its APP_ENV, which the stacks set to
// PhEnvironment.
var DimensionText = map[string]string{DimEnvironment: PhEnvironment}

// Alarms are the alarms of the architecture, in a fixed order.
var Alarms = []Alarm{
	{
		Purpose: "cpu-high", Description: "Catalog service CPU above 80% for 3 minutes",
		Namespace: "AWS/ECS", Metric: "CPUUtilization", Statistic: "Average",
		Comparison: "GreaterThanThreshold", Threshold: 80,
		PeriodSeconds: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3,
		Dimensions: []string{DimClusterName, DimServiceName}, TreatMissingData: "notBreaching", NeedsService: true,
	},
	{
		Purpose: "healthy-tasks-low", Description: "Fewer than 2 healthy catalog tasks behind the load balancer",
		Namespace: "AWS/ApplicationELB", Metric: "HealthyHostCount", Statistic: "Minimum",
		Comparison: "LessThanThreshold", Threshold: 2,
		PeriodSeconds: 60, EvaluationPeriods: 2, DatapointsToAlarm: 2,
		Dimensions: []string{DimTargetGroup, DimLoadBalancer}, TreatMissingData: "breaching", NeedsService: true,
	},
	{
		Purpose: "alb-5xx", Description: "Catalog targets answered more than 10 5xx responses a minute",
		Namespace: "AWS/ApplicationELB", Metric: "HTTPCode_Target_5XX_Count", Statistic: "Sum",
		Comparison: "GreaterThanThreshold", Threshold: 10,
		PeriodSeconds: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2,
		Dimensions: []string{DimTargetGroup, DimLoadBalancer}, TreatMissingData: "notBreaching",
	},
	{
		Purpose: "latency-high", Description: "Catalog p99 target response time above 1 second",
		Namespace: "AWS/ApplicationELB", Metric: "TargetResponseTime", ExtendedStatistic: "p99",
		Comparison: "GreaterThanThreshold", Threshold: 1,
		PeriodSeconds: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3,
		Dimensions: []string{DimTargetGroup, DimLoadBalancer}, TreatMissingData: "notBreaching",
	},
	{
		Purpose: "db-cpu-high", Description: "Catalog database CPU above 80% for 5 minutes",
		Namespace: "AWS/RDS", Metric: "CPUUtilization", Statistic: "Average",
		Comparison: "GreaterThanThreshold", Threshold: 80,
		PeriodSeconds: 60, EvaluationPeriods: 5, DatapointsToAlarm: 5,
		Dimensions: []string{DimDBCluster}, TreatMissingData: "notBreaching",
	},
	{
		Purpose: "db-connections-high", Description: "Catalog database connections above 400",
		Namespace: "AWS/RDS", Metric: "DatabaseConnections", Statistic: "Maximum",
		Comparison: "GreaterThanThreshold", Threshold: 400,
		PeriodSeconds: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3,
		Dimensions: []string{DimDBCluster}, TreatMissingData: "notBreaching",
	},
	{
		// The worker disables a subscription after a day of failures, a 410, or when it fell
		// behind the feed's retention: the receiver's owner must act, and only an operator
		// knows. The service writes the count only when there is one: a gap is no disable.
		Purpose: "webhooks-disabled", Description: "The catalog disabled a webhook subscription (see the log line \"webhook disabled\" for which and why)",
		Namespace: emf.Namespace, Metric: emf.WebhooksDisabled, Statistic: "Sum",
		Comparison: "GreaterThanThreshold", Threshold: 0,
		PeriodSeconds: 60, EvaluationPeriods: 1, DatapointsToAlarm: 1,
		Dimensions: []string{DimEnvironment}, TreatMissingData: "notBreaching", NeedsService: true,
	},
}

// Environment holds the per-environment defaults (CloudFormation mappings, Pulumi defaults).
type Environment struct {
	Name       string
	MinACU     float64
	MaxACU     float64
	NATMode    string
	CostCenter string
	// FlowLogs is whether the VPC's flow logs are on when the deployment does not say.
	FlowLogs bool
	// SaleMinACU is the database's minimum during a planned sale (SaleWarm), within MinACU and
	// MaxACU: prod's 48 is about half the reader's 10x need (ReaderCPUPerRequest), from which
	// Serverless v2 reaches the need in seconds; dev and staging warm to their maximum.
	SaleMinACU float64
	// ImportParallel is the service's IMPORT_PARALLEL when the deployment does not say: the
	// service's default where the writer has a vCPU or two at most, and in prod enough batches
	// in flight for ImportWriterVCPUs with one to spare (a backend idles between its batches
	// while the job sends the next).
	ImportParallel int
}

// Environments are the environments a stack may be deployed as, in a fixed order. Prod's
// MaxACU 128: a 10x sale over 2,000 req/s keeps the reader at 92-128 ACU (ReaderCPUPerRequest,
// ADR 0028). Serverless v2 caps each instance at MaxACU on its own, allows up to MaxACULimit,
// and the cluster pays only for the capacity it uses.
var Environments = []Environment{
	{Name: "dev", MinACU: 0.5, MaxACU: 4, SaleMinACU: 4, ImportParallel: 2, NATMode: NATPerAZ, CostCenter: "ecommerce-dev"},
	{Name: "staging", MinACU: 0.5, MaxACU: 8, SaleMinACU: 8, ImportParallel: 2, NATMode: NATPerAZ, CostCenter: "ecommerce-staging"},
	{Name: "prod", MinACU: 1, MaxACU: 128, SaleMinACU: 48, ImportParallel: 6, NATMode: NATPerAZ, CostCenter: "ecommerce", FlowLogs: true},
}

// LookupEnvironment returns the named environment.
func LookupEnvironment(name string) (Environment, error) {
	for _, e := range Environments {
		if e.Name == name {
			return e, nil
		}
	}
	return Environment{}, fmt.Errorf("unknown environment %q: want dev, staging or prod", name)
}

// Serverless v2 capacity bounds AWS accepts.
const (
	MinACULimit = 0.5
	MaxACULimit = 256
)

// ACUChoices are the capacities the CloudFormation parameters offer (CloudFormation rules cannot
// compare numbers, so min <= max is checked by enumerating these); every one is a 0.5 step
// within MinACULimit..MaxACULimit. The Pulumi program accepts every 0.5 step.
var ACUChoices = []float64{0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256}

// SuffixPattern is what an environment suffix must match: lower case because ECR and several
// other names must be; hyphens only between letters or digits, because RDS refuses identifiers
// with two hyphens in a row or a trailing hyphen. MaxSuffixLength bounds it separately (at most
// 16 characters so "tg-catalog-{suffix}" fits the 32-character limit of target group and load
// balancer names).
const SuffixPattern = `^[a-z0-9]+(?:-[a-z0-9]+)*$`

// MaxSuffixLength is the longest suffix SuffixPattern accepts.
const MaxSuffixLength = 16

var suffixRE = regexp.MustCompile(SuffixPattern)

// ValidateSuffix reports whether s is a usable environment suffix.
func ValidateSuffix(s string) error {
	if len(s) > MaxSuffixLength || !suffixRE.MatchString(s) {
		return fmt.Errorf("environment suffix %q must be 1-%d lower-case letters or digits, with single hyphens only between them", s, MaxSuffixLength)
	}
	return nil
}

// Name builds a resource name following {type}-{purpose}-{suffix}. In CloudFormation the suffix
// is the placeholder "${EnvironmentSuffix}" inside Fn::Sub.
func Name(kind, purpose, suffix string) string {
	return kind + "-" + purpose + "-" + suffix
}

// Tag keys every taggable resource carries.
const (
	TagProject     = "Project"
	TagEnvironment = "Environment"
	TagCostCenter  = "CostCenter"
	TagManagedBy   = "ManagedBy"
)

// ParameterPath returns the Parameter Store path under which a stack keeps its settings.
func ParameterPath(suffix string) string { return "/" + Project + "/" + suffix + "/" }

// Parameter Store names under ParameterPath. Both stacks create the plain ones; the Pulumi stack
// also creates the SecureString ones (CloudFormation cannot create SecureString parameters, so
// the template keeps its secrets in Secrets Manager instead).
const (
	ParamDBHost       = "db/host"
	ParamDBReaderHost = "db/reader-host"
	ParamDBPort       = "db/port"
	ParamDBName       = "db/name"
	ParamDBURL        = "db/url" // SecureString (Pulumi): connection string without the password
)

// Environment variables the service reads. The stacks set these on the container; the service's
// configuration documents each one.
const (
	EnvPort             = "PORT"
	EnvDatabaseURL      = "DATABASE_URL"
	EnvDBHost           = "DB_HOST"
	EnvDBReaderHost     = "DB_READER_HOST"
	EnvDBPort           = "DB_PORT"
	EnvDBName           = "DB_NAME"
	EnvDBUser           = "DB_USER"
	EnvDBPassword       = "DB_PASSWORD"
	EnvDBSSLMode        = "DB_SSLMODE"
	EnvDBSSLRootCert    = "DB_SSLROOTCERT"
	EnvDBSecretARN      = "DB_SECRET_ARN"
	EnvAPIKeys          = "API_KEYS"
	EnvAPIKeysSecretARN = "API_KEYS_SECRET_ARN"
	EnvDrainDelay       = "DRAIN_DELAY"
	EnvShutdownTimeout  = "SHUTDOWN_TIMEOUT"
	EnvMetricsEMF       = "METRICS_EMF"
	EnvLogLevel         = "LOG_LEVEL"
	EnvAWSRegion        = "AWS_REGION"
	EnvEnvironment      = "APP_ENV"
	EnvTrustedProxyHops = "TRUSTED_PROXY_HOPS"
	EnvDBIAMAuth        = "DB_IAM_AUTH"      // the service signs in with an IAM token, no password
	EnvMigrateOnStart   = "MIGRATE_ON_START" // false in AWS: the migrate task migrates
	EnvDBAppRole        = "DB_APP_ROLE"      // the role the migrate command creates and grants DML
	EnvDBAppRoleIAM     = "DB_APP_ROLE_IAM"  // and grants rds_iam
	EnvMetricsPort      = "METRICS_PORT"
)

// DBAppRole is the database role the service runs as: created by the migrate task, granted DML on
// the service's tables only (no DDL, not the master user), signed in with IAM database
// authentication (rds_iam).
const DBAppRole = "catalog_app"

// MigrateCommand is the migrate task's command: the catalog binary's one-off migration.
var MigrateCommand = []string{"migrate"}

// DBUserARN returns the ARN rds-db:connect takes for a database user, with placeholders: the
// cluster's resource ID (not its name) names the cluster
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html).
func DBUserARN(clusterResourceID, user string) string {
	return "arn:" + PhPartition + ":rds-db:" + PhRegion + ":" + PhAccount + ":dbuser:" + clusterResourceID + "/" + user
}

// ImagePlatform is the one platform the task definitions of both stacks run (their
// runtimePlatform is ECSCPUArchitecture of it): build and push images for it, for example
// docker buildx build --platform linux/amd64.
const ImagePlatform = "linux/amd64"

// ECSCPUArchitecture is ImagePlatform in the ECS task definition's runtimePlatform terms.
func ECSCPUArchitecture() string {
	switch ImagePlatform {
	case "linux/arm64":
		return "ARM64"
	default:
		return "X86_64"
	}
}

// ECSOperatingSystemFamily is ImagePlatform's operating system in ECS terms.
const ECSOperatingSystemFamily = "LINUX"

// APIKeySecretName returns the Secrets Manager name of the API-key secret: a path, so the name
// never ends in a hyphen and six characters (Secrets Manager appends exactly that to the ARN, and
// a name ending like it breaks lookups by partial ARN).
func APIKeySecretName(suffix string) string { return Project + "/" + suffix + "/api-keys" }

// DBSSLMode and DBSSLRootCert are what both stacks set: verify the server against the Amazon RDS
// CA bundle embedded in the binary ("rds" names that bundle).
const (
	DBSSLMode     = "verify-full"
	DBSSLRootCert = "rds"
)

// SecurityGroupKind is the {type} part of security-group names. It is not "sg": EC2
// CreateSecurityGroup refuses a GroupName that starts with "sg-". The stacks leave GroupName to
// the tool (CloudFormation generates one, Pulumi adds a random suffix to this prefix) so a
// replaced group can be created before the one in use is deleted; this name is the Name tag.
const SecurityGroupKind = "secgrp"
