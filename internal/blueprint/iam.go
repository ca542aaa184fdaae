package blueprint

// IAM is the roles the tasks run under. An execution role is what ECS itself uses to start a
// task: pull the image, create log streams, resolve the container's secrets. A task role is what
// the application's own AWS calls use: the service's may only sign in to the database as the
// application role (rds-db:connect); the migrate task's re-reads the master secret.
type IAM struct {
	ExecutionRole Role
	TaskRole      Role
	// The migrate task's roles: its execution role injects the master secret, which no other
	// role reads; its task role re-reads it.
	MigrateExecutionRole Role
	MigrateTaskRole      Role
	// TrustPolicy lets ECS tasks of this account assume a role, and no one else's
	// (confused-deputy protection); with placeholders.
	TrustPolicy map[string]any
}

// Role is an IAM role with one inline policy.
type Role struct {
	Resource
	Policy      Resource // the inline policy, by its name
	Description string
	Statements  []Statement
	// OptionalStatements exist only under an option (StatementsIn).
	OptionalStatements []OptionalStatement
}

// Statement allows actions on resources: model values (a resource's ARN), or the text "*" for
// the actions AWS defines no resource for (WildcardResourceActions).
type Statement struct {
	Sid       string
	Actions   []string
	Resources []Value
	// Condition is the statement's IAM condition block (operator, key, value), with
	// placeholders (PhRegion...) each renderer expands; nil for none.
	Condition map[string]any
}

// WildcardResourceActions are the only actions granted on Resource "*": AWS defines no resource
// for them, so they cannot be scoped to one.
var WildcardResourceActions = []string{"ecr:GetAuthorizationToken"}

// SecretsManagerService is the kms:ViaService value of calls Secrets Manager makes for a caller
// in the stack's region: https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
const SecretsManagerService = "secretsmanager." + PhRegion + ".amazonaws.com"

// Attributes for IAM statements.
const (
	AttrARN        = "arn"         // a resource's ARN where its reference is not one
	AttrLogStreams = "log-streams" // the ARN that covers a log group's streams
)

// IAM IDs.
const (
	IDExecutionRole        = "TaskExecutionRole"
	IDTaskRole             = "TaskRole"
	IDMigrateExecutionRole = "MigrateTaskExecutionRole"
	IDMigrateTaskRole      = "MigrateTaskRole"
)

// Resources returns the roles and their policies.
func (i IAM) Resources() []Resource {
	var out []Resource
	for _, r := range i.Roles() {
		out = append(out, r.Resource, r.Policy)
	}
	return out
}

// Roles returns every role: the service's two, then the migrate task's.
func (i IAM) Roles() []Role {
	return []Role{i.ExecutionRole, i.TaskRole, i.MigrateExecutionRole, i.MigrateTaskRole}
}

func iam(cfg Config) IAM {
	var params []Value
	for _, p := range cfg.Parameters {
		params = append(params, Value{Ref: p.ID})
	}
	return IAM{
		ExecutionRole: Role{
			Resource:    Resource{ID: IDExecutionRole, Kind: "role", Purpose: "task-execution"},
			Policy:      Resource{ID: IDExecutionRole + "Policy", Kind: "policy", Purpose: "task-execution"},
			Description: "ECS starts catalog tasks with this role: image pull, logs and the injected parameters",
			Statements: []Statement{
				{"EcrAuthorization", WildcardResourceActions, []Value{{Text: "*"}}, nil},
				{"EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
					[]Value{{Ref: IDRepository, Attr: AttrARN}}, nil},
				{"Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []Value{{Ref: IDAppLogGroup, Attr: AttrLogStreams}}, nil},
				{"Parameters", []string{"ssm:GetParameters"}, params, nil},
			},
		},
		TaskRole: Role{
			Resource:    Resource{ID: IDTaskRole, Kind: "role", Purpose: "task"},
			Policy:      Resource{ID: IDTaskRole + "Policy", Kind: "policy", Purpose: "task"},
			Description: "The catalog application's own AWS calls: sign in to the database as " + DBAppRole + " with an IAM token, read the API-key secret",
			Statements: []Statement{
				{"DatabaseConnect", []string{"rds-db:connect"}, []Value{{Ref: IDDBCluster, Attr: AttrDBUserARN, Text: DBAppRole}}, nil},
				// The service reads the API keys itself (API_KEYS_SECRET_ARN) and re-reads them
				// on an interval, so a rotation needs no redeploy; the secret is encrypted with
				// the stack's key, which it may use only through Secrets Manager.
				{"ApiKeySecret", []string{"secretsmanager:GetSecretValue"}, []Value{{Ref: IDAPIKeySecret}}, nil},
				{"DecryptApiKeySecret", []string{"kms:Decrypt"}, []Value{{Ref: cfg.APIKeysKey, Attr: AttrARN}}, map[string]any{
					"StringEquals": map[string]any{"kms:ViaService": SecretsManagerService},
				}},
			},
		},
		MigrateExecutionRole: Role{
			Resource:    Resource{ID: IDMigrateExecutionRole, Kind: "role", Purpose: "migrate-execution"},
			Policy:      Resource{ID: IDMigrateExecutionRole + "Policy", Kind: "policy", Purpose: "migrate-execution"},
			Description: "ECS starts the catalog migrate task with this role: image pull, logs, the database master secret and parameters",
			Statements: []Statement{
				{"EcrAuthorization", WildcardResourceActions, []Value{{Text: "*"}}, nil},
				{"EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
					[]Value{{Ref: IDRepository, Attr: AttrARN}}, nil},
				{"Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []Value{{Ref: IDAppLogGroup, Attr: AttrLogStreams}}, nil},
				{"Secrets", []string{"secretsmanager:GetSecretValue"}, []Value{{Ref: IDDBSecret}}, nil},
				{"Parameters", []string{"ssm:GetParameters"}, []Value{{Ref: IDDBHostParameter}, {Ref: IDDBPortParameter}, {Ref: IDDBNameParameter}}, nil},
			},
		},
		MigrateTaskRole: Role{
			Resource:    Resource{ID: IDMigrateTaskRole, Kind: "role", Purpose: "migrate-task"},
			Policy:      Resource{ID: IDMigrateTaskRole + "Policy", Kind: "policy", Purpose: "migrate-task"},
			Description: "The catalog migrate task's own AWS calls: re-read the rotated database master secret",
			Statements: []Statement{
				{"DatabaseSecret", []string{"secretsmanager:GetSecretValue"}, []Value{{Ref: IDDBSecret}}, nil},
			},
		},
		TrustPolicy: map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"},
				"Action":    "sts:AssumeRole",
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": PhAccount},
					"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + PhPartition + ":ecs:" + PhRegion + ":" + PhAccount + ":*"},
				},
			}},
		},
	}
}
