package blueprint

// Service is the Fargate service: its cluster, task definition and ECS service (the last two
// only with an image), and the one container the task runs.
type Service struct {
	Cluster        Resource
	TaskDefinition Resource
	Service        Resource
	// MigrateTaskDefinition runs MigrateContainer once per deploy, before the service takes the
	// new image: the only task that holds the database's master secret.
	MigrateTaskDefinition Resource
	MigrateContainer      Container
	// Subnets is the tier the tasks run in.
	Subnets Tier
	// TaskSize is the default size (both stacks let a deployment choose another valid one).
	TaskSize          TaskSize
	Deployment        Deployment
	ContainerInsights bool
	Container         Container
}

// Deployment is how ECS replaces tasks: the share of tasks kept and allowed during a deploy, a
// circuit breaker that stops a failing deploy and rolls it back, and how long new tasks may
// fail the load balancer's check while they start.
type Deployment struct {
	MinHealthyPercent, MaxPercent int
	CircuitBreaker, Rollback      bool
	GracePeriodSeconds            int
}

// Container is the task's only container: non-root, read-only root filesystem with one
// writable scratch volume, the binary's own health check, a stop timeout longer than the app's
// drain, and its settings as environment variables and secrets.
type Container struct {
	Name           string
	Command        []string // empty: the image's
	NoPort         bool     // a one-off task: no port, no health check
	User           string
	Port           int
	PortName       string // the port mapping's name
	AppProtocol    string
	ScratchVolume  string // the task volume mounted at TmpfsPath, the only writable path
	ScratchPath    string
	HealthCheck    []string
	HealthInterval int
	HealthTimeout  int
	HealthRetries  int
	HealthStart    int
	StopTimeout    int
	// Log options of the awslogs driver besides group and region: a slow log pipeline must not
	// block the app, so it buffers and drops when the buffer is full.
	LogStreamPrefix string
	LogMode         string
	LogMaxBuffer    string
	// Environment holds plain values; Secrets are resolved by ECS when the task starts, from
	// Secrets Manager or Parameter Store, with the execution role.
	Environment []EnvVar
	Secrets     []EnvVar
	// OptionalEnvironment are plain values that exist only under an option (EnvironmentIn).
	OptionalEnvironment []OptionalEnvVar
}

// EnvVar is one environment variable of the container.
type EnvVar struct {
	Name  string
	Value Value
}

// Value is a setting's value: text (which may hold the placeholders, PhRegion, PhEnvironment,
// ...), or a reference to a resource of the model; under With's option, WithText instead (of
// either). For a reference, JSONKey picks one key of a
// JSON secret ("<arn>:<key>::" in ECS terms: the latest version).
type Value struct {
	Text    string
	Ref     string // a model resource's ID: its ARN, or the attribute Attr
	Attr    string // Attr* or empty
	JSONKey string
	// With and WithText: under With's option a text value is WithText instead of Text.
	With     Option
	WithText string
}

// TextIn returns a text value in a deployment.
func (v Value) TextIn(c Choices) string {
	if v.With != Always && c.Has(v.With) {
		return v.WithText
	}
	return v.Text
}

// PhEnvironment stands for the environment's name (dev, staging, prod).
const PhEnvironment = "${environment}"

// Model IDs of the resources the container's settings come from. The database secret is the
// one RDS manages for the cluster; the API keys are a Secrets Manager secret in both stacks
// (blueprint.Config), read by the service itself. The four database settings are Parameter
// Store strings.
const (
	IDDBSecret            = "DBCluster.MasterUserSecret"
	IDAPIKeySecret        = "ApiKeySecret"
	IDDBHostParameter     = "DBHostParameter"
	IDDBReaderHostParam   = "DBReaderHostParameter"
	IDDBPortParameter     = "DBPortParameter"
	IDDBNameParameter     = "DBNameParameter"
	IDCluster             = "Cluster"
	IDTaskDefinition      = "TaskDefinition"
	IDService             = "Service"
	IDMigrateTaskDef      = "MigrateTaskDefinition"
	containerScratchMount = "tmp"
)

// Resources returns every resource of the service, whatever its option.
func (s Service) Resources() []Resource {
	return []Resource{s.Cluster, s.TaskDefinition, s.Service, s.MigrateTaskDefinition}
}

func service() Service {
	s := serviceOnly()
	text := func(s string) Value { return Value{Text: s} }
	s.MigrateTaskDefinition = Resource{ID: IDMigrateTaskDef, Kind: "task", Purpose: Project + "-migrate", When: WithImage}
	s.MigrateContainer = Container{
		Name: ContainerName, Command: MigrateCommand, NoPort: true, User: ContainerUser,
		ScratchVolume: containerScratchMount, ScratchPath: TmpfsPath,
		StopTimeout:     StopTimeoutSeconds,
		LogStreamPrefix: ContainerName + "-migrate", LogMode: "non-blocking", LogMaxBuffer: "4m",
		Environment: []EnvVar{
			{EnvEnvironment, text(PhEnvironment)},
			{EnvAWSRegion, text(PhRegion)},
			{EnvDBSSLMode, text(DBSSLMode)},
			{EnvDBSSLRootCert, text(DBSSLRootCert)},
			// The owner's secret, to re-read it should RDS rotate the password mid-run.
			{EnvDBSecretARN, Value{Ref: IDDBSecret}},
			{EnvDBAppRole, text(DBAppRole)},
			{EnvDBAppRoleIAM, text("true")},
		},
		Secrets: []EnvVar{
			{EnvDBUser, Value{Ref: IDDBSecret, JSONKey: "username"}},
			{EnvDBPassword, Value{Ref: IDDBSecret, JSONKey: "password"}},
			{EnvDBHost, Value{Ref: IDDBHostParameter}},
			{EnvDBPort, Value{Ref: IDDBPortParameter}},
			{EnvDBName, Value{Ref: IDDBNameParameter}},
		},
	}
	return s
}

func serviceOnly() Service {
	text := func(s string) Value { return Value{Text: s} }
	return Service{
		Cluster:        Resource{ID: IDCluster, Kind: "ecs", Purpose: Project},
		TaskDefinition: Resource{ID: IDTaskDefinition, Kind: "task", Purpose: Project, When: WithImage},
		Service:        Resource{ID: IDService, Kind: "svc", Purpose: Project, When: WithImage},
		Subnets:        TierPrivate,
		TaskSize:       DefaultTaskSize,
		Deployment: Deployment{MinHealthyPercent: DeploymentMinHealthy, MaxPercent: DeploymentMaxPercent,
			CircuitBreaker: true, Rollback: true, GracePeriodSeconds: HealthCheckGracePeriod},
		ContainerInsights: true,
		Container: Container{
			Name: ContainerName, User: ContainerUser, Port: AppPort, PortName: "http", AppProtocol: "http",
			ScratchVolume: containerScratchMount, ScratchPath: TmpfsPath,
			HealthCheck: HealthCheckCommand, HealthInterval: ContainerHealthInterval, HealthTimeout: ContainerHealthTimeout,
			HealthRetries: ContainerHealthRetries, HealthStart: ContainerHealthStartPeriod,
			StopTimeout:     StopTimeoutSeconds,
			LogStreamPrefix: ContainerName, LogMode: "non-blocking", LogMaxBuffer: "4m",
			Environment: []EnvVar{
				{EnvPort, text(itoa(AppPort))},
				{EnvEnvironment, text(PhEnvironment)},
				{EnvAWSRegion, text(PhRegion)},
				{EnvDBSSLMode, text(DBSSLMode)},
				{EnvDBSSLRootCert, text(DBSSLRootCert)},
				// The service signs in as the application role with an IAM token (its task role's
				// rds-db:connect): no password, and never the master user; the migrate task
				// migrates, so the service does not at start.
				{EnvDBUser, text(DBAppRole)},
				{EnvDBIAMAuth, text("true")},
				{EnvMigrateOnStart, text("false")},
				{EnvDBReaderMaxLag, text(DBReaderMaxLag.String())},
				{EnvDrainDelay, text(DrainDelay.String())},
				// The client address is the X-Forwarded-For entry this many hops from the right:
				// the load balancer adds one, CloudFront another.
				{EnvTrustedProxyHops, Value{Text: "1", With: WithCloudFront, WithText: "2"}},
				{EnvMetricsPort, text(itoa(MetricsPort))},
				// Metrics as CloudWatch EMF lines on stdout, which the awslogs driver sends to the
				// service's log group, where CloudWatch extracts them: the relay's and webhooks'
				// alarms read them (internal/emf).
				{EnvMetricsEMF, text("true")},
				{EnvShutdownTimeout, text(ShutdownTimeout.String())},
				// Batches of an import in the writer at once: the environment's, or the deployment's.
				{EnvImportParallel, text(PhImportParallel)},
				// The secret's ARN, not its value: the service reads and re-reads it (its task
				// role), so a key rotated in Secrets Manager takes effect without a deploy.
				{EnvAPIKeysSecretARN, Value{Ref: IDAPIKeySecret}},
			},
			Secrets: []EnvVar{
				{EnvDBHost, Value{Ref: IDDBHostParameter}},
				{EnvDBReaderHost, Value{Ref: IDDBReaderHostParam}},
				{EnvDBPort, Value{Ref: IDDBPortParameter}},
				{EnvDBName, Value{Ref: IDDBNameParameter}},
			},
		},
	}
}
