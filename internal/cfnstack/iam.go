package cfnstack

import (
	"github.com/acme/catalog/internal/cfn"
)

// IAM logical IDs.
const (
	IDExecutionRole = "TaskExecutionRole"
	IDTaskRole      = "TaskRole"
)

// WildcardResourceActions are the only actions granted on Resource "*": AWS defines no
// resource for them, so they cannot be scoped to one.
var WildcardResourceActions = []string{"ecr:GetAuthorizationToken"}

func assumeByECSTasks() map[string]any {
	return map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"},
			"Action":    "sts:AssumeRole",
			// Only tasks of this account may assume the role (confused-deputy protection).
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref(cfn.AccountID)},
				"ArnLike":      map[string]any{"aws:SourceArn": cfn.Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*")},
			},
		}},
	}
}

func statement(sid string, actions []string, resources ...any) map[string]any {
	return map[string]any{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
}

func (b *builder) iam(Options) error {
	var paramARNs []any
	for _, p := range configParameters {
		paramARNs = append(paramARNs, parameterARN(p.ID))
	}
	// The execution role is what ECS itself uses to start a task: pull the image, create log
	// streams, and read the secrets and parameters injected into the container.
	b.add(IDExecutionRole, "AWS::IAM::Role", map[string]any{
		"RoleName":                 name("role", "task-execution"),
		"Description":              "ECS starts catalog tasks with this role: image pull, logs, injected secrets and parameters",
		"AssumeRolePolicyDocument": assumeByECSTasks(),
		"Policies": []any{map[string]any{
			"PolicyName": name("policy", "task-execution"),
			"PolicyDocument": map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{
					statement("EcrAuthorization", WildcardResourceActions, "*"),
					statement("EcrPull", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
						cfn.GetAtt(IDRepository, "Arn")),
					statement("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
						cfn.GetAtt(IDAppLogGroup, "Arn")),
					statement("Secrets", []string{"secretsmanager:GetSecretValue"},
						dbSecretARN(), cfn.Ref(IDAPIKeySecret)),
					statement("Parameters", []string{"ssm:GetParameters"}, paramARNs...),
				},
			},
		}},
		"Tags": tags(nil),
	})
	// The task role is what the application's own AWS calls use: it re-reads the database
	// secret after RDS rotates the password, and nothing else.
	b.add(IDTaskRole, "AWS::IAM::Role", map[string]any{
		"RoleName":                 name("role", "task"),
		"Description":              "The catalog application's own AWS calls: read the rotated database secret",
		"AssumeRolePolicyDocument": assumeByECSTasks(),
		"Policies": []any{map[string]any{
			"PolicyName": name("policy", "task"),
			"PolicyDocument": map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{
					statement("DatabaseSecret", []string{"secretsmanager:GetSecretValue"}, dbSecretARN()),
				},
			},
		}},
		"Tags": tags(nil),
	})
	return nil
}
