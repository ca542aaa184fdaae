package infra

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

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
	// TaskDefinition, MigrateTaskDefinition and Service are nil without an image (a bootstrap
	// deploy).
	TaskDefinition        *ecs.TaskDefinition
	MigrateTaskDefinition *ecs.TaskDefinition
	Service               *ecs.Service
	// rolesByID are every model role, by ID.
	rolesByID map[string]*iam.Role
}

// NewService makes the service.
func NewService(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, reg *Registry, edge *LoadBalancer, db *Database, settings *Settings, events *Events, opts ...pulumi.ResourceOption) (*Service, error) {
	s := &Service{}
	parent, err := newComponent(ctx, cfg, "Service", "service", s, opts...)
	if err != nil {
		return nil, err
	}

	s.LogGroup, err = newLogGroup(ctx, cfg, logs, blueprint.IDAppLogGroup, parent)
	if err != nil {
		return nil, err
	}

	if err := s.roles(ctx, cfg, net, logs, reg, db, settings, events, parent); err != nil {
		return nil, err
	}
	if err := s.fargate(ctx, cfg, net, reg, edge, db, settings, events, parent); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{"clusterName": s.Cluster.Name}
	if s.Service != nil {
		outputs["serviceName"] = s.Service.Name
	}
	return s, ctx.RegisterResourceOutputs(s, outputs)
}

// fargate makes the cluster and, with an image, the task definition and the service.
func (s *Service) fargate(ctx *pulumi.Context, cfg Config, net *Network, reg *Registry, edge *LoadBalancer, db *Database, settings *Settings, events *Events, parent pulumi.ResourceOption) error {
	m := blueprint.Model().Service
	clusterName := cfg.ModelName(m.Cluster)
	var err error
	s.Cluster, err = ecs.NewCluster(ctx, clusterName, &ecs.ClusterArgs{
		Name: pulumi.String(clusterName),
		Settings: ecs.ClusterSettingArray{ecs.ClusterSettingArgs{
			Name: pulumi.String("containerInsights"), Value: pulumi.String(enabled(m.ContainerInsights)),
		}},
		Tags: tags(cfg, clusterName),
	}, parent)
	if err != nil || !cfg.HasImage() {
		return err
	}

	if s.TaskDefinition, err = s.taskDefinition(ctx, cfg, net, reg, db, settings, events, m.TaskDefinition, m.Container,
		blueprint.IDExecutionRole, blueprint.IDTaskRole, parent); err != nil {
		return err
	}
	// The migrate task: same image, network and size; its own roles hold the master secret.
	if s.MigrateTaskDefinition, err = s.taskDefinition(ctx, cfg, net, reg, db, settings, events, m.MigrateTaskDefinition, m.MigrateContainer,
		blueprint.IDMigrateExecutionRole, blueprint.IDMigrateTaskRole, parent); err != nil {
		return err
	}

	private := pulumi.StringArray{}
	for _, id := range blueprint.Model().Network.SubnetIDs(m.Subnets) {
		private = append(private, net.subnets[id].ID())
	}
	// The service's waits are the model's (blueprint.Architecture.Order): the target group must
	// belong to a listener first, and tasks connect to the database writer as they start.
	waitable := map[string]pulumi.Resource{blueprint.IDHTTPListener: edge.HTTPListener, blueprint.IDDBWriter: db.Writer, blueprint.IDDBCluster: db.Cluster}
	if edge.HTTPSListener != nil {
		waitable[blueprint.IDHTTPSListener] = edge.HTTPSListener
	}
	for id, r := range edge.forwardingRules {
		waitable[id] = r
	}
	var deps []pulumi.Resource
	for _, w := range blueprint.Model().PresentOrder(cfg.Choices()) {
		if w.From != m.Service.ID {
			continue
		}
		r, ok := waitable[w.To]
		if !ok {
			return fmt.Errorf("the service must wait for %s (%s), which this program cannot name", w.To, w.Why)
		}
		deps = append(deps, r)
	}
	svcName := cfg.ModelName(m.Service)
	s.Service, err = ecs.NewService(ctx, svcName, &ecs.ServiceArgs{
		Name:            pulumi.String(svcName),
		Cluster:         s.Cluster.Arn,
		TaskDefinition:  s.TaskDefinition.Arn,
		LaunchType:      pulumi.String("FARGATE"),
		PlatformVersion: pulumi.String("LATEST"),
		// The initial count only: auto scaling owns it afterwards (see IgnoreChanges below).
		DesiredCount:                    pulumi.Int(cfg.MinTasks),
		DeploymentMinimumHealthyPercent: pulumi.Int(m.Deployment.MinHealthyPercent),
		DeploymentMaximumPercent:        pulumi.Int(m.Deployment.MaxPercent),
		DeploymentCircuitBreaker: &ecs.ServiceDeploymentCircuitBreakerArgs{
			Enable: pulumi.Bool(m.Deployment.CircuitBreaker), Rollback: pulumi.Bool(m.Deployment.Rollback),
		},
		HealthCheckGracePeriodSeconds: pulumi.Int(m.Deployment.GracePeriodSeconds),
		NetworkConfiguration: &ecs.ServiceNetworkConfigurationArgs{
			Subnets:        private,
			SecurityGroups: pulumi.StringArray{net.TaskSecurityGroup.ID()},
			AssignPublicIp: pulumi.Bool(false),
		},
		LoadBalancers: ecs.ServiceLoadBalancerArray{ecs.ServiceLoadBalancerArgs{
			TargetGroupArn: edge.TargetGroup.Arn,
			ContainerName:  pulumi.String(m.Container.Name),
			ContainerPort:  pulumi.Int(m.Container.Port),
		}},
		PropagateTags:        pulumi.String("SERVICE"),
		EnableEcsManagedTags: pulumi.Bool(true),
		WaitForSteadyState:   pulumi.Bool(false),
		Tags:                 tags(cfg, svcName),
	}, parent, pulumi.IgnoreChanges([]string{"desiredCount"}), pulumi.DependsOn(deps))
	return err
}

// containerDefinitions renders the model's container with this stack's values: the image, the
// log group, the region and environment, and the ARNs its settings refer to.
func containerDefinitions(cfg Config, region string, c blueprint.Container, image, logGroup string, arns map[string]string) (string, error) {
	type kv struct {
		Name  string `json:"name"`
		Value string `json:"value,omitempty"`
		From  string `json:"valueFrom,omitempty"`
	}
	value := func(v blueprint.Value) (string, error) {
		if v.Ref == "" || v.With != blueprint.Always && cfg.Has(v.With) {
			text := cfg.placeholders().Replace(v.TextIn(cfg.Choices()))
			return blueprint.Expand(text, partition, region, "", cfg.Suffix), nil
		}
		arn, ok := arns[v.Ref]
		if !ok || arn == "" {
			return "", fmt.Errorf("container setting refers to %s, which the stack has no ARN for", v.Ref)
		}
		if v.JSONKey != "" {
			arn += ":" + v.JSONKey + "::"
		}
		return arn, nil
	}
	var env, secrets []kv
	for _, e := range c.EnvironmentIn(cfg.Choices()) {
		v, err := value(e.Value)
		if err != nil {
			return "", err
		}
		env = append(env, kv{Name: e.Name, Value: v})
	}
	for _, e := range c.Secrets {
		v, err := value(e.Value)
		if err != nil {
			return "", err
		}
		secrets = append(secrets, kv{Name: e.Name, From: v})
	}
	def := []map[string]any{{
		"name":      c.Name,
		"image":     image,
		"essential": true,
		"user":      c.User,
		// The container may use the whole task's memory and no more.
		"memory":                 cfg.TaskSize.Memory,
		"readonlyRootFilesystem": true,
		"privileged":             false,
		"environment":            env,
		"secrets":                secrets,
		"mountPoints": []map[string]any{{
			"sourceVolume": c.ScratchVolume, "containerPath": c.ScratchPath, "readOnly": false,
		}},
		"stopTimeout": c.StopTimeout,
		"logConfiguration": map[string]any{
			"logDriver": "awslogs",
			"options": map[string]string{
				"awslogs-group":         logGroup,
				"awslogs-region":        region,
				"awslogs-stream-prefix": c.LogStreamPrefix,
				"mode":                  c.LogMode,
				"max-buffer-size":       c.LogMaxBuffer,
			},
		},
	}}
	if len(c.Command) > 0 {
		def[0]["command"] = c.Command
	}
	if !c.NoPort {
		def[0]["portMappings"] = []map[string]any{{
			"containerPort": c.Port, "protocol": "tcp", "name": c.PortName, "appProtocol": c.AppProtocol,
		}}
		def[0]["healthCheck"] = map[string]any{
			"command":     c.HealthCheck,
			"interval":    c.HealthInterval,
			"timeout":     c.HealthTimeout,
			"retries":     c.HealthRetries,
			"startPeriod": c.HealthStart,
		}
	}
	b, err := json.Marshal(def)
	if err != nil {
		return "", fmt.Errorf("container definitions: %w", err)
	}
	return string(b), nil
}

// placeholders replace the model's placeholders this configuration decides (the others are the
// provider's: blueprint.Expand).
func (c Config) placeholders() *strings.Replacer {
	return strings.NewReplacer(blueprint.PhEnvironment, c.Environment.Name, blueprint.PhEventSource, c.EventSource, blueprint.PhEventBusARN, c.EventBusARN,
		blueprint.PhEventBusConcurrency, strconv.Itoa(c.EventBusConcurrency), blueprint.PhImportParallel, strconv.Itoa(c.ImportParallel))
}

// enabled is how ECS spells a cluster setting's state.
func enabled(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// taskDefinition renders a task definition running one model container with the given roles.
func (s *Service) taskDefinition(ctx *pulumi.Context, cfg Config, net *Network, reg *Registry, db *Database, settings *Settings, events *Events,
	td blueprint.Resource, c blueprint.Container, executionRole, taskRole string, parent pulumi.ResourceOption) (*ecs.TaskDefinition, error) {
	family := cfg.ModelName(td)
	// The ARNs the container's settings refer to, by model ID.
	refs := map[string]pulumi.StringOutput{
		blueprint.IDDBSecret:          db.SecretARN,
		blueprint.IDAPIKeySecret:      settings.APIKeys.Arn,
		blueprint.IDDBHostParameter:   settings.DBHost.Arn,
		blueprint.IDDBReaderHostParam: settings.DBReaderHost.Arn,
		blueprint.IDDBPortParameter:   settings.DBPort.Arn,
		blueprint.IDDBNameParameter:   settings.DBName.Arn,
	}
	if events.Bus != nil {
		refs[blueprint.IDEventBus] = events.Bus.Arn
	}
	var refIDs []string
	image := reg.Image
	if td.ID == blueprint.IDMigrateTaskDef && cfg.MigrateImageTag != "" {
		// A rolling upgrade: the migrate task runs the new image while the service runs the old.
		image = pulumi.Sprintf("%s:%s", reg.Repository.RepositoryUrl, cfg.MigrateImageTag)
	}
	inputs := []any{image, s.LogGroup.Name}
	for id, arn := range refs {
		refIDs = append(refIDs, id)
		inputs = append(inputs, arn)
	}
	containers := pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		arns := map[string]string{}
		for i, id := range refIDs {
			arns[id] = v[i+2].(string)
		}
		return containerDefinitions(cfg, net.Region, c, v[0].(string), v[1].(string), arns)
	}).(pulumi.StringOutput)
	return ecs.NewTaskDefinition(ctx, family, &ecs.TaskDefinitionArgs{
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
		ExecutionRoleArn:     s.rolesByID[executionRole].Arn,
		TaskRoleArn:          s.rolesByID[taskRole].Arn,
		Volumes:              ecs.TaskDefinitionVolumeArray{ecs.TaskDefinitionVolumeArgs{Name: pulumi.String(c.ScratchVolume)}},
		ContainerDefinitions: containers,
		Tags:                 tags(cfg, family),
	}, parent)
}
