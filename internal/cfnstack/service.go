package cfnstack

import (
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Service logical IDs.
const (
	IDCluster        = "Cluster"
	IDTaskDefinition = "TaskDefinition"
	IDService        = "Service"
	tmpVolume        = "tmp"
)

func (b *builder) service(Options) error {
	b.add(IDCluster, "AWS::ECS::Cluster", map[string]any{
		"ClusterName":     name("ecs", blueprint.Project),
		"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": "enabled"}},
		"Tags":            tags(nil),
	})

	env := func(k string, v any) map[string]any { return map[string]any{"Name": k, "Value": v} }
	secret := func(k string, from any) map[string]any { return map[string]any{"Name": k, "ValueFrom": from} }
	secrets := []any{
		// JSON keys of the RDS-managed secret: "<arn>:<key>::" (latest version).
		secret(blueprint.EnvDBUser, cfn.Sub("${"+IDDBCluster+".MasterUserSecret.SecretArn}:username::")),
		secret(blueprint.EnvDBPassword, cfn.Sub("${"+IDDBCluster+".MasterUserSecret.SecretArn}:password::")),
		secret(blueprint.EnvAPIKeys, cfn.Ref(IDAPIKeySecret)),
	}
	for _, p := range configParameters {
		secrets = append(secrets, secret(p.Env, parameterARN(p.ID)))
	}
	size := cfn.Split("/", cfn.Ref(ParamTaskSize))
	b.add(IDTaskDefinition, "AWS::ECS::TaskDefinition", map[string]any{
		"Family":                  name("task", blueprint.Project),
		"RequiresCompatibilities": []any{"FARGATE"},
		"NetworkMode":             "awsvpc",
		"Cpu":                     cfn.Select(0, size),
		"Memory":                  cfn.Select(1, size),
		// The one platform images are built for (blueprint.ImagePlatform).
		"RuntimePlatform":  map[string]any{"OperatingSystemFamily": blueprint.ECSOperatingSystemFamily, "CpuArchitecture": blueprint.ECSCPUArchitecture()},
		"ExecutionRoleArn": cfn.GetAtt(IDExecutionRole, "Arn"),
		"TaskRoleArn":      cfn.GetAtt(IDTaskRole, "Arn"),
		// Fargate has no tmpfs: an empty task volume is the writable /tmp.
		"Volumes": []any{map[string]any{"Name": tmpVolume}},
		"ContainerDefinitions": []any{map[string]any{
			"Name":      blueprint.ContainerName,
			"Image":     image(),
			"Essential": true,
			// The whole task's memory, as a hard limit: the container cannot outgrow the task.
			"Memory":                 cfn.Select(1, size),
			"User":                   blueprint.ContainerUser,
			"ReadonlyRootFilesystem": true,
			"Privileged":             false,
			"MountPoints": []any{map[string]any{
				"SourceVolume": tmpVolume, "ContainerPath": blueprint.TmpfsPath, "ReadOnly": false,
			}},
			"PortMappings": []any{map[string]any{
				"Name": "http", "ContainerPort": blueprint.AppPort, "Protocol": "tcp", "AppProtocol": "http",
			}},
			"HealthCheck": map[string]any{
				"Command":     blueprint.HealthCheckCommand,
				"Interval":    blueprint.ContainerHealthInterval,
				"Timeout":     blueprint.ContainerHealthTimeout,
				"Retries":     blueprint.ContainerHealthRetries,
				"StartPeriod": blueprint.ContainerHealthStartPeriod,
			},
			// ECS sends SIGTERM, waits StopTimeout, then SIGKILL; the app's drain and shutdown
			// end before that.
			"StopTimeout": blueprint.StopTimeoutSeconds,
			"Environment": []any{
				env(blueprint.EnvPort, strconv.Itoa(blueprint.AppPort)),
				env(blueprint.EnvEnvironment, cfn.Ref(ParamEnvironment)),
				env(blueprint.EnvAWSRegion, cfn.Ref(cfn.Region)),
				env(blueprint.EnvDBSSLMode, blueprint.DBSSLMode),
				env(blueprint.EnvDBSSLRootCert, blueprint.DBSSLRootCert),
				env(blueprint.EnvDBSecretARN, dbSecretARN()),
				env(blueprint.EnvDrainDelay, blueprint.DrainDelay.String()),
				env(blueprint.EnvShutdownTimeout, blueprint.ShutdownTimeout.String()),
			},
			"Secrets": secrets,
			"LogConfiguration": map[string]any{
				"LogDriver": "awslogs",
				"Options": map[string]any{
					"awslogs-group":         cfn.Ref(IDAppLogGroup),
					"awslogs-region":        cfn.Ref(cfn.Region),
					"awslogs-stream-prefix": blueprint.ContainerName,
					"mode":                  "non-blocking",
					"max-buffer-size":       "4m",
				},
			},
		}},
		"Tags": tags(nil),
	}, when(CondHasImage))

	// No DesiredCount: ECS starts with one task, auto scaling raises it to MinTasks, and later
	// deploys keep whatever count auto scaling chose.
	b.add(IDService, "AWS::ECS::Service", map[string]any{
		"ServiceName":     name("svc", blueprint.Project),
		"Cluster":         cfn.Ref(IDCluster),
		"TaskDefinition":  cfn.Ref(IDTaskDefinition),
		"LaunchType":      "FARGATE",
		"PlatformVersion": "LATEST",
		"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": map[string]any{
			"AssignPublicIp": "DISABLED",
			"Subnets":        refs(PrivateSubnetIDs),
			"SecurityGroups": []any{cfn.GetAtt(IDTaskSecurityGroup, "GroupId")},
		}},
		"LoadBalancers": []any{map[string]any{
			"ContainerName":  blueprint.ContainerName,
			"ContainerPort":  blueprint.AppPort,
			"TargetGroupArn": cfn.Ref(IDTargetGroup),
		}},
		"HealthCheckGracePeriodSeconds": blueprint.HealthCheckGracePeriod,
		"DeploymentConfiguration": map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
			"MinimumHealthyPercent":    blueprint.DeploymentMinHealthy,
			"MaximumPercent":           blueprint.DeploymentMaxPercent,
		},
		"DeploymentController": map[string]any{"Type": "ECS"},
		"EnableECSManagedTags": true,
		"PropagateTags":        "SERVICE",
		"EnableExecuteCommand": false,
		"Tags":                 tags(nil),
	}, when(CondHasImage),
		// The target group must belong to a listener first, and the tasks connect to the
		// database at start: the writer instance must exist, not just the cluster.
		dependsOn(IDListenersReady, IDDBWriter))
	return nil
}
