package infra

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Service is the Fargate service: the cluster, the task definition and the ECS service behind
// the load balancer, the roles the tasks run under (iam.go) and the app's log group.
type Service struct {
	pulumi.ResourceState

	LogGroup      *cloudwatch.LogGroup
	ExecutionRole *iam.Role
	TaskRole      *iam.Role
	Cluster       *ecs.Cluster
	// TaskDefinition and Service are nil without an image (a bootstrap deploy).
	TaskDefinition *ecs.TaskDefinition
	Service        *ecs.Service
}

// NewService makes the service.
func NewService(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, reg *Registry, edge *LoadBalancer, db *Database, settings *Settings, opts ...pulumi.ResourceOption) (*Service, error) {
	s := &Service{}
	parent, err := newComponent(ctx, cfg, "Service", "service", s, opts...)
	if err != nil {
		return nil, err
	}

	s.LogGroup, err = newLogGroup(ctx, cfg, logs, blueprint.IDAppLogGroup, parent)
	if err != nil {
		return nil, err
	}

	if err := s.roles(ctx, cfg, net, reg, db, settings, parent); err != nil {
		return nil, err
	}
	if err := s.fargate(ctx, cfg, net, reg, edge, db, settings, parent); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{"clusterName": s.Cluster.Name}
	if s.Service != nil {
		outputs["serviceName"] = s.Service.Name
	}
	return s, ctx.RegisterResourceOutputs(s, outputs)
}

// fargate makes the cluster and, with an image, the task definition and the service.
func (s *Service) fargate(ctx *pulumi.Context, cfg Config, net *Network, reg *Registry, edge *LoadBalancer, db *Database, settings *Settings, parent pulumi.ResourceOption) error {
	clusterName := cfg.Name("ecs", blueprint.Project)
	var err error
	s.Cluster, err = ecs.NewCluster(ctx, clusterName, &ecs.ClusterArgs{
		Name: pulumi.String(clusterName),
		Settings: ecs.ClusterSettingArray{ecs.ClusterSettingArgs{
			Name: pulumi.String("containerInsights"), Value: pulumi.String("enabled"),
		}},
		Tags: tags(cfg, clusterName),
	}, parent)
	if err != nil || !cfg.HasImage() {
		return err
	}

	family := cfg.Name("task", blueprint.Project)
	containers := pulumi.All(reg.Image, s.LogGroup.Name, db.SecretARN,
		settings.DBHost.Arn, settings.DBReaderHost.Arn, settings.DBPort.Arn, settings.DBName.Arn, settings.APIKeys.Arn,
	).ApplyT(func(v []any) (string, error) {
		return containerDefinitions(cfg, net.Region, containerInputs{
			Image: v[0].(string), LogGroup: v[1].(string), DBSecretARN: v[2].(string),
			DBHostParam: v[3].(string), DBReaderHostParam: v[4].(string), DBPortParam: v[5].(string),
			DBNameParam: v[6].(string), APIKeysParam: v[7].(string),
		})
	}).(pulumi.StringOutput)
	s.TaskDefinition, err = ecs.NewTaskDefinition(ctx, family, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(family),
		Cpu:                     pulumi.String(strconv.Itoa(cfg.TaskSize.CPU)),
		Memory:                  pulumi.String(strconv.Itoa(cfg.TaskSize.Memory)),
		NetworkMode:             pulumi.String("awsvpc"),
		RequiresCompatibilities: pulumi.StringArray{pulumi.String("FARGATE")},
		RuntimePlatform: &ecs.TaskDefinitionRuntimePlatformArgs{
			// The one platform images are built for (blueprint.ImagePlatform).
			OperatingSystemFamily: pulumi.String(blueprint.ECSOperatingSystemFamily),
			CpuArchitecture:       pulumi.String(blueprint.ECSCPUArchitecture()),
		},
		ExecutionRoleArn:     s.ExecutionRole.Arn,
		TaskRoleArn:          s.TaskRole.Arn,
		Volumes:              ecs.TaskDefinitionVolumeArray{ecs.TaskDefinitionVolumeArgs{Name: pulumi.String(tmpVolume)}},
		ContainerDefinitions: containers,
		Tags:                 tags(cfg, family),
	}, parent)
	if err != nil {
		return err
	}

	private := pulumi.StringArray{}
	for _, sn := range net.PrivateSubnets {
		private = append(private, sn.ID())
	}
	// The target group must belong to a listener first, and tasks connect to the database as
	// they start: the writer instance must exist, not just the cluster.
	deps := []pulumi.Resource{edge.HTTPListener, db.Writer}
	if edge.HTTPSListener != nil {
		deps = append(deps, edge.HTTPSListener)
	}
	svcName := cfg.Name("svc", blueprint.Project)
	s.Service, err = ecs.NewService(ctx, svcName, &ecs.ServiceArgs{
		Name:            pulumi.String(svcName),
		Cluster:         s.Cluster.Arn,
		TaskDefinition:  s.TaskDefinition.Arn,
		LaunchType:      pulumi.String("FARGATE"),
		PlatformVersion: pulumi.String("LATEST"),
		// The initial count only: auto scaling owns it afterwards (see IgnoreChanges below).
		DesiredCount:                    pulumi.Int(cfg.MinTasks),
		DeploymentMinimumHealthyPercent: pulumi.Int(blueprint.DeploymentMinHealthy),
		DeploymentMaximumPercent:        pulumi.Int(blueprint.DeploymentMaxPercent),
		DeploymentCircuitBreaker: &ecs.ServiceDeploymentCircuitBreakerArgs{
			Enable: pulumi.Bool(true), Rollback: pulumi.Bool(true),
		},
		HealthCheckGracePeriodSeconds: pulumi.Int(blueprint.HealthCheckGracePeriod),
		NetworkConfiguration: &ecs.ServiceNetworkConfigurationArgs{
			Subnets:        private,
			SecurityGroups: pulumi.StringArray{net.TaskSecurityGroup.ID()},
			AssignPublicIp: pulumi.Bool(false),
		},
		LoadBalancers: ecs.ServiceLoadBalancerArray{ecs.ServiceLoadBalancerArgs{
			TargetGroupArn: edge.TargetGroup.Arn,
			ContainerName:  pulumi.String(blueprint.ContainerName),
			ContainerPort:  pulumi.Int(blueprint.AppPort),
		}},
		PropagateTags:        pulumi.String("SERVICE"),
		EnableEcsManagedTags: pulumi.Bool(true),
		WaitForSteadyState:   pulumi.Bool(false),
		Tags:                 tags(cfg, svcName),
	}, parent, pulumi.IgnoreChanges([]string{"desiredCount"}), pulumi.DependsOn(deps))
	return err
}

// tmpVolume is the task's scratch volume, mounted at blueprint.TmpfsPath: the only writable
// path, since the root filesystem is read-only.
const tmpVolume = "tmp"

// containerInputs are the resolved values the container definition needs.
type containerInputs struct {
	Image, LogGroup, DBSecretARN                             string
	DBHostParam, DBReaderHostParam, DBPortParam, DBNameParam string
	APIKeysParam                                             string
}

// containerDefinitions renders the task's single container: non-root, read-only root
// filesystem, the binary's own health check, a stop timeout longer than the app's drain, and
// its settings from Parameter Store and the RDS-managed secret.
func containerDefinitions(cfg Config, region string, in containerInputs) (string, error) {
	type kv struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type secret struct {
		Name      string `json:"name"`
		ValueFrom string `json:"valueFrom"`
	}
	env := []kv{
		{blueprint.EnvPort, strconv.Itoa(blueprint.AppPort)},
		{blueprint.EnvDBSSLMode, blueprint.DBSSLMode},
		{blueprint.EnvDBSSLRootCert, blueprint.DBSSLRootCert},
		{blueprint.EnvDBSecretARN, in.DBSecretARN},
		{blueprint.EnvDrainDelay, blueprint.DrainDelay.String()},
		{blueprint.EnvShutdownTimeout, blueprint.ShutdownTimeout.String()},
		{blueprint.EnvAWSRegion, region},
		{blueprint.EnvEnvironment, cfg.Environment.Name},
	}
	secrets := []secret{
		{blueprint.EnvDBHost, in.DBHostParam},
		{blueprint.EnvDBReaderHost, in.DBReaderHostParam},
		{blueprint.EnvDBPort, in.DBPortParam},
		{blueprint.EnvDBName, in.DBNameParam},
		{blueprint.EnvDBUser, in.DBSecretARN + ":username::"},
		// The password at start; the app re-reads the secret (DB_SECRET_ARN) after a rotation.
		{blueprint.EnvDBPassword, in.DBSecretARN + ":password::"},
		{blueprint.EnvAPIKeys, in.APIKeysParam},
	}
	def := []map[string]any{{
		"name":      blueprint.ContainerName,
		"image":     in.Image,
		"essential": true,
		"user":      blueprint.ContainerUser,
		// The container may use the whole task's memory and no more.
		"memory":                 cfg.TaskSize.Memory,
		"readonlyRootFilesystem": true,
		"portMappings": []map[string]any{{
			"containerPort": blueprint.AppPort, "protocol": "tcp", "name": "http",
		}},
		"environment": env,
		"secrets":     secrets,
		"mountPoints": []map[string]any{{
			"sourceVolume": tmpVolume, "containerPath": blueprint.TmpfsPath, "readOnly": false,
		}},
		"healthCheck": map[string]any{
			"command":     blueprint.HealthCheckCommand,
			"interval":    blueprint.ContainerHealthInterval,
			"timeout":     blueprint.ContainerHealthTimeout,
			"retries":     blueprint.ContainerHealthRetries,
			"startPeriod": blueprint.ContainerHealthStartPeriod,
		},
		"stopTimeout": blueprint.StopTimeoutSeconds,
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options": map[string]string{
				"awslogs-group":         in.LogGroup,
				"awslogs-region":        region,
				"awslogs-stream-prefix": blueprint.ContainerName,
				// A slow log pipeline must not block the app: buffer, drop when full.
				"mode":            "non-blocking",
				"max-buffer-size": "4m",
			},
		},
	}}
	b, err := json.Marshal(def)
	if err != nil {
		return "", fmt.Errorf("container definitions: %w", err)
	}
	return string(b), nil
}
