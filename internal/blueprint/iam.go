package blueprint

// IAM is the two roles the tasks run under. The execution role is what ECS itself uses to start
// a task: pull the image, create log streams, resolve the container's secrets. The task role is
// what the application's own AWS calls use: it re-reads the database secret after RDS rotates
// the password, and nothing else.
type IAM struct {
	ExecutionRole Role
	TaskRole      Role
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
}

// Statement allows actions on resources: model values (a resource's ARN), or the text "*" for
// the actions AWS defines no resource for (WildcardResourceActions).
type Statement struct {
	Sid       string
	Actions   []string
	Resources []Value
}

// WildcardResourceActions are the only actions granted on Resource "*": AWS defines no resource
// for them, so they cannot be scoped to one.
var WildcardResourceActions = []string{"ecr:GetAuthorizationToken"}

// Attributes for IAM statements.
const (
	AttrARN        = "arn"         // a resource's ARN where its reference is not one
	AttrLogStreams = "log-streams" // the ARN that covers a log group's streams
)

// IAM IDs.
const (
	IDExecutionRole = "TaskExecutionRole"
	IDTaskRole      = "TaskRole"
)

// Resources returns the roles and their policies.
func (i IAM) Resources() []Resource {
	return []Resource{i.ExecutionRole.Resource, i.ExecutionRole.Policy, i.TaskRole.Resource, i.TaskRole.Policy}
}

// Roles returns both roles.
func (i IAM) Roles() []Role { return []Role{i.ExecutionRole, i.TaskRole} }

func iam(cfg Config) IAM {
	var params []Value
	for _, p := range cfg.Parameters {
		params = append(params, Value{Ref: p.ID})
	}
	return IAM{
		ExecutionRole: Role{
			Resource:    Resource{ID: IDExecutionRole, Kind: "role", Purpose: "task-execution"},
			Policy:      Resource{ID: IDExecutionRole + "Policy", Kind: "policy", Purpose: "task-execution"},
			Description: "ECS starts catalog tasks with this role: image pull, logs, injected secrets and parameters",
			Statements: []Statement{
				{"EcrAuthorization", WildcardResourceActions, []Value{{Text: "*"}}},
				{"EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
					[]Value{{Ref: IDRepository, Attr: AttrARN}}},
				{"Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []Value{{Ref: IDAppLogGroup, Attr: AttrLogStreams}}},
				{"Secrets", []string{"secretsmanager:GetSecretValue"}, []Value{{Ref: IDDBSecret}, {Ref: IDAPIKeySecret}}},
				{"Parameters", []string{"ssm:GetParameters"}, params},
			},
		},
		TaskRole: Role{
			Resource:    Resource{ID: IDTaskRole, Kind: "role", Purpose: "task"},
			Policy:      Resource{ID: IDTaskRole + "Policy", Kind: "policy", Purpose: "task"},
			Description: "The catalog application's own AWS calls: read the rotated database secret",
			Statements: []Statement{
				{"DatabaseSecret", []string{"secretsmanager:GetSecretValue"}, []Value{{Ref: IDDBSecret}}},
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
