package cfnstack

import (
	"maps"
	"slices"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Service logical IDs (the model's).
const (
	IDCluster        = blueprint.IDCluster
	IDTaskDefinition = blueprint.IDTaskDefinition
	IDService        = blueprint.IDService
	// IDMigrateTaskDefinition is the one-off migrate task's definition.
	IDMigrateTaskDefinition = blueprint.IDMigrateTaskDef
)

// value renders a model value: text with its placeholders, or the ARN of a model resource (a
// JSON key of a secret as "<arn>:<key>::").
func (b *builder) value(v blueprint.Value) any {
	if v.Ref == "" {
		if v.With != blueprint.Always {
			return cfn.If(b.condition(v.With), expand(v.WithText), expand(v.Text))
		}
		return expand(v.Text)
	}
	if v.With != blueprint.Always {
		// A resource's attribute, or under an option a text instead (an existing resource's ARN).
		alt := v
		alt.With, alt.WithText = blueprint.Always, ""
		return cfn.If(b.condition(v.With), expand(v.WithText), b.value(alt))
	}
	if v.Attr == blueprint.AttrSecretValue {
		// A dynamic reference: CloudFormation reads the secret when it creates the resource.
		return cfn.Sub("{{resolve:secretsmanager:${" + v.Ref + "}}}")
	}
	if v.Attr == blueprint.AttrDBUserARN {
		return expand(blueprint.DBUserARN("${"+v.Ref+".DBClusterResourceId}", v.Text))
	}
	if v.Attr == blueprint.AttrARN && v.Ref == IDDBCluster {
		return cfn.GetAtt(v.Ref, "DBClusterArn") // a cluster's ARN attribute has its own name
	}
	if v.Attr != "" {
		attr, ok := attributes[v.Attr]
		if !ok {
			b.fail("cfnstack: model attribute %q has no template name", v.Attr)
		}
		return cfn.GetAtt(v.Ref, attr)
	}
	var arn string // inside Fn::Sub
	switch {
	case v.Ref == blueprint.IDDBSecret:
		if v.JSONKey == "" {
			return dbSecretARN()
		}
		arn = "${" + IDDBCluster + ".MasterUserSecret.SecretArn}"
	case isConfigParameter(v.Ref):
		if v.JSONKey == "" {
			return parameterARN(v.Ref)
		}
		arn = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${" + v.Ref + "}"
	default:
		if _, ok := b.t.Resources[v.Ref]; !ok {
			b.fail("cfnstack: model value refers to %s, which the template does not have", v.Ref)
		}
		if v.JSONKey == "" {
			return cfn.Ref(v.Ref) // a secret's Ref is its ARN
		}
		arn = "${" + v.Ref + "}"
	}
	return cfn.Sub(arn + ":" + v.JSONKey + "::")
}

func (b *builder) service(Options) error {
	m := b.m.Service
	c := m.Container
	b.add(m.Cluster.ID, "AWS::ECS::Cluster", map[string]any{
		"ClusterName":     modelName(m.Cluster),
		"ClusterSettings": []any{map[string]any{"Name": "containerInsights", "Value": enabled(m.ContainerInsights)}},
	}, b.when(m.Cluster.When))

	b.taskDefinition(m.TaskDefinition, c, IDExecutionRole, IDTaskRole, image())
	// The migrate task: same image, network and size; its own roles hold the master secret.
	// MigrateImageTag, when set, is the image it runs instead (a rolling upgrade migrates with
	// the new image while the service still runs the old one).
	migrateImage := cfn.If(CondMigrateImageTag, cfn.Sub("${"+IDRepository+".RepositoryUri}:${"+ParamMigrateImageTag+"}"), image())
	b.taskDefinition(m.MigrateTaskDefinition, m.MigrateContainer, blueprint.IDMigrateExecutionRole, blueprint.IDMigrateTaskRole, migrateImage)

	// No DesiredCount: ECS starts with one task, auto scaling raises it to MinTasks, and later
	// deploys keep whatever count auto scaling chose.
	b.add(m.Service.ID, "AWS::ECS::Service", map[string]any{
		"ServiceName":     modelName(m.Service),
		"Cluster":         cfn.Ref(IDCluster),
		"TaskDefinition":  cfn.Ref(IDTaskDefinition),
		"LaunchType":      "FARGATE",
		"PlatformVersion": "LATEST",
		"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": map[string]any{
			"AssignPublicIp": "DISABLED",
			"Subnets":        refs(b.m.Network.SubnetIDs(m.Subnets)),
			"SecurityGroups": []any{cfn.GetAtt(IDTaskSecurityGroup, "GroupId")},
		}},
		"LoadBalancers": []any{map[string]any{
			"ContainerName":  c.Name,
			"ContainerPort":  c.Port,
			"TargetGroupArn": cfn.Ref(IDTargetGroup),
		}},
		"HealthCheckGracePeriodSeconds": m.Deployment.GracePeriodSeconds,
		"DeploymentConfiguration": map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": m.Deployment.CircuitBreaker, "Rollback": m.Deployment.Rollback},
			"MinimumHealthyPercent":    m.Deployment.MinHealthyPercent,
			"MaximumPercent":           m.Deployment.MaxPercent,
		},
		"DeploymentController": map[string]any{"Type": "ECS"},
		"EnableECSManagedTags": true,
		"PropagateTags":        "SERVICE",
		"EnableExecuteCommand": false,
	}, b.when(m.Service.When),
		// The target group must belong to a listener first, and the tasks connect to the
		// database at start: the writer instance must exist, not just the cluster.
		dependsOn(IDListenersReady, IDDBWriter))
	return nil
}

// enabled is how ECS spells a cluster setting's state.
func enabled(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// environment renders the container's plain settings. Settings that exist only under an option
// make the whole list an Fn::If per option, each branch a literal list: cfn-guard's CT.ECS.PR.12
// (no credentials among the names) reads only a literal list of names, and an Fn::If item in it
// would fail that control.
func (b *builder) environment(c blueprint.Container) any {
	var opts []blueprint.Option
	for _, e := range c.OptionalEnvironment {
		if !slices.Contains(opts, e.When) {
			opts = append(opts, e.When)
		}
	}
	var list func(i int, on blueprint.Choices) any
	list = func(i int, on blueprint.Choices) any {
		if i < len(opts) {
			with, without := maps.Clone(on), maps.Clone(on)
			with[opts[i]] = true
			return cfn.If(b.condition(opts[i]), list(i+1, with), list(i+1, without))
		}
		var env []any
		for _, e := range c.Environment {
			env = append(env, map[string]any{"Name": e.Name, "Value": b.value(e.Value)})
		}
		for _, e := range c.OptionalEnvironment {
			if on[e.When] {
				env = append(env, map[string]any{"Name": e.Name, "Value": b.value(e.Value)})
			}
		}
		return env
	}
	return list(0, blueprint.Choices{})
}

// taskDefinition renders a task definition running one model container with the given roles.
func (b *builder) taskDefinition(td blueprint.Resource, c blueprint.Container, executionRole, taskRole string, image any) {
	var secrets []any
	env := b.environment(c)
	for _, e := range c.Secrets {
		secrets = append(secrets, map[string]any{"Name": e.Name, "ValueFrom": b.value(e.Value)})
	}
	size := cfn.Split("/", cfn.Ref(ParamTaskSize))
	container := map[string]any{
		"Name":      c.Name,
		"Image":     image,
		"Essential": true,
		// The whole task's memory, as a hard limit: the container cannot outgrow the task.
		"Memory":                 cfn.Select(1, size),
		"User":                   c.User,
		"ReadonlyRootFilesystem": true,
		"Privileged":             false,
		"MountPoints": []any{map[string]any{
			"SourceVolume": c.ScratchVolume, "ContainerPath": c.ScratchPath, "ReadOnly": false,
		}},
		// ECS sends SIGTERM, waits StopTimeout, then SIGKILL; the app's drain and shutdown
		// end before that.
		"StopTimeout": c.StopTimeout,
		"Environment": env,
		"Secrets":     secrets,
		"LogConfiguration": map[string]any{
			"LogDriver": "awslogs",
			"Options": map[string]any{
				"awslogs-group":         cfn.Ref(IDAppLogGroup),
				"awslogs-region":        cfn.Ref(cfn.Region),
				"awslogs-stream-prefix": c.LogStreamPrefix,
				"mode":                  c.LogMode,
				"max-buffer-size":       c.LogMaxBuffer,
			},
		},
	}
	if len(c.Command) > 0 {
		container["Command"] = c.Command
	}
	if !c.NoPort {
		container["PortMappings"] = []any{map[string]any{
			"Name": c.PortName, "ContainerPort": c.Port, "Protocol": "tcp", "AppProtocol": c.AppProtocol,
		}}
		container["HealthCheck"] = map[string]any{
			"Command":     c.HealthCheck,
			"Interval":    c.HealthInterval,
			"Timeout":     c.HealthTimeout,
			"Retries":     c.HealthRetries,
			"StartPeriod": c.HealthStart,
		}
	}
	b.add(td.ID, "AWS::ECS::TaskDefinition", map[string]any{
		"Family":                  modelName(td),
		"RequiresCompatibilities": []any{"FARGATE"},
		"NetworkMode":             "awsvpc",
		"Cpu":                     cfn.Select(0, size),
		"Memory":                  cfn.Select(1, size),
		// The one platform images are built for (blueprint.ImagePlatform).
		"RuntimePlatform":  map[string]any{"OperatingSystemFamily": blueprint.ECSOperatingSystemFamily, "CpuArchitecture": blueprint.ECSCPUArchitecture()},
		"ExecutionRoleArn": cfn.GetAtt(executionRole, "Arn"),
		"TaskRoleArn":      cfn.GetAtt(taskRole, "Arn"),
		// Fargate has no tmpfs: an empty task volume is the writable /tmp.
		"Volumes":              []any{map[string]any{"Name": c.ScratchVolume}},
		"ContainerDefinitions": []any{container},
	}, b.when(td.When))
}
