package infra

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Service is the container registry, the load balancer and the Fargate service behind it,
// with the roles the tasks run under.
type Service struct {
	pulumi.ResourceState

	Repository    *ecr.Repository
	LogGroup      *cloudwatch.LogGroup
	ExecutionRole *iam.Role
	TaskRole      *iam.Role
	LoadBalancer  *lb.LoadBalancer
	TargetGroup   *lb.TargetGroup
	HTTPListener  *lb.Listener
	HTTPSListener *lb.Listener // nil without a certificate
	Cluster       *ecs.Cluster
	// TaskDefinition and Service are nil without an image (a bootstrap deploy).
	TaskDefinition *ecs.TaskDefinition
	Service        *ecs.Service
	// Image is the image reference the task definition runs; empty without an image.
	Image pulumi.StringOutput
	// URL is the service's address: https when a certificate is configured.
	URL pulumi.StringOutput
}

// NewService makes the service.
func NewService(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, db *Database, settings *Settings, opts ...pulumi.ResourceOption) (*Service, error) {
	s := &Service{}
	parent, err := newComponent(ctx, cfg, "Service", "service", s, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.registry(ctx, cfg, parent); err != nil {
		return nil, err
	}

	s.LogGroup, err = newLogGroup(ctx, cfg, logs, blueprint.IDAppLogGroup, parent)
	if err != nil {
		return nil, err
	}

	if err := s.roles(ctx, cfg, net, db, settings, parent); err != nil {
		return nil, err
	}
	if err := s.loadBalancer(ctx, cfg, net, parent); err != nil {
		return nil, err
	}
	if err := s.fargate(ctx, cfg, net, db, settings, parent); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{
		"url":           s.URL,
		"repositoryUrl": s.Repository.RepositoryUrl,
		"clusterName":   s.Cluster.Name,
	}
	if s.Service != nil {
		outputs["serviceName"] = s.Service.Name
	}
	return s, ctx.RegisterResourceOutputs(s, outputs)
}

// registry makes the ECR repository: scanned on push, immutable tags, the 5 latest images
// kept, emptied on delete.
func (s *Service) registry(ctx *pulumi.Context, cfg Config, parent pulumi.ResourceOption) error {
	name := cfg.Name("ecr", blueprint.Project)
	var err error
	s.Repository, err = ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name:               pulumi.String(name),
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{
			ScanOnPush: pulumi.Bool(true),
		},
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("AES256")},
		},
		ForceDelete: pulumi.Bool(true),
		Tags:        tags(cfg, name),
	}, parent)
	if err != nil {
		return err
	}
	_, err = ecr.NewLifecyclePolicy(ctx, cfg.Name("ecrlifecycle", blueprint.Project), &ecr.LifecyclePolicyArgs{
		Repository: s.Repository.Name,
		Policy:     pulumi.String(blueprint.ECRLifecyclePolicy()),
	}, parent)
	if err != nil {
		return err
	}
	switch {
	case cfg.Image != "":
		s.Image = pulumi.String(cfg.Image).ToStringOutput()
	case cfg.ImageTag != "":
		s.Image = pulumi.Sprintf("%s:%s", s.Repository.RepositoryUrl, cfg.ImageTag)
	default:
		s.Image = pulumi.String("").ToStringOutput()
	}
	return nil
}

// roles makes the execution role (ECS pulls the image, writes logs and resolves the
// container's secrets with it) and the task role (the app's own calls: reading the rotated
// database password). Each policy names the exact resources; the only "*" is
// ecr:GetAuthorizationToken, which has no resource to name.
func (s *Service) roles(ctx *pulumi.Context, cfg Config, net *Network, db *Database, settings *Settings, parent pulumi.ResourceOption) error {
	role := func(purpose, description string, policy pulumi.StringOutput) (*iam.Role, error) {
		name := cfg.Name("role", purpose)
		r, err := iam.NewRole(ctx, name, &iam.RoleArgs{
			Name:             pulumi.String(name),
			Description:      pulumi.String(description),
			AssumeRolePolicy: pulumi.String(ecsTrustPolicy(net.Account, net.Region)),
			Tags:             tags(cfg, name),
		}, parent)
		if err != nil {
			return nil, err
		}
		_, err = iam.NewRolePolicy(ctx, cfg.Name("policy", purpose), &iam.RolePolicyArgs{
			Name:   pulumi.String(cfg.Name("policy", purpose)),
			Role:   r.ID(),
			Policy: policy,
		}, parent)
		return r, err
	}
	var err error
	s.ExecutionRole, err = role("task-execution", "Catalog ECS agent: pull the image, write logs, resolve the container's secrets", policyDocument(
		statement{Sid: "ECRAuth", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []pulumi.StringInput{pulumi.String("*")}},
		statement{Sid: "ECRPull", Actions: []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"},
			Resources: []pulumi.StringInput{s.Repository.Arn}},
		statement{Sid: "Logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: []pulumi.StringInput{pulumi.Sprintf("%s:log-stream:*", s.LogGroup.Arn)}},
		statement{Sid: "Parameters", Actions: []string{"ssm:GetParameters"},
			Resources: []pulumi.StringInput{settings.DBHost.Arn, settings.DBReaderHost.Arn, settings.DBPort.Arn, settings.DBName.Arn, settings.APIKeys.Arn}},
		statement{Sid: "DBSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []pulumi.StringInput{db.SecretARN}},
	))
	if err != nil {
		return err
	}
	s.TaskRole, err = role("task", "Catalog service: read the rotated database password", policyDocument(
		statement{Sid: "DBSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []pulumi.StringInput{db.SecretARN}},
	))
	return err
}

// loadBalancer makes the internet-facing ALB, the target group, the HTTP listener and, with a
// certificate, the HTTPS listener (HTTP then redirects), and the optional WAF association.
func (s *Service) loadBalancer(ctx *pulumi.Context, cfg Config, net *Network, parent pulumi.ResourceOption) error {
	albName := cfg.Name("alb", blueprint.Project)
	public := pulumi.StringArray{}
	for _, sn := range net.PublicSubnets {
		public = append(public, sn.ID())
	}
	var err error
	s.LoadBalancer, err = lb.NewLoadBalancer(ctx, albName, &lb.LoadBalancerArgs{
		Name:                     pulumi.String(albName),
		Internal:                 pulumi.Bool(false),
		LoadBalancerType:         pulumi.String("application"),
		SecurityGroups:           pulumi.StringArray{net.ALBSecurityGroup.ID()},
		Subnets:                  public,
		DropInvalidHeaderFields:  pulumi.Bool(true),
		IdleTimeout:              pulumi.Int(blueprint.ALBIdleTimeoutSeconds),
		EnableHttp2:              pulumi.Bool(true),
		EnableDeletionProtection: pulumi.Bool(false),
		Tags:                     tags(cfg, albName),
	}, parent)
	if err != nil {
		return err
	}
	// A name prefix, not a name: port, protocol and target type replace a target group, and a
	// replacement with the same name cannot be created while the old one is in use. The Name tag
	// carries tg-catalog-{suffix}.
	tgName := cfg.Name("tg", blueprint.Project)
	s.TargetGroup, err = lb.NewTargetGroup(ctx, tgName, &lb.TargetGroupArgs{
		NamePrefix:          pulumi.String(targetGroupNamePrefix),
		Port:                pulumi.Int(blueprint.AppPort),
		Protocol:            pulumi.String("HTTP"),
		TargetType:          pulumi.String("ip"),
		VpcId:               net.VPC.ID(),
		DeregistrationDelay: pulumi.Int(blueprint.DeregistrationDelaySeconds),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Path:               pulumi.String(blueprint.HealthPath),
			Port:               pulumi.String("traffic-port"),
			Protocol:           pulumi.String("HTTP"),
			Interval:           pulumi.Int(blueprint.HealthCheckIntervalSeconds),
			Timeout:            pulumi.Int(blueprint.HealthCheckTimeoutSeconds),
			HealthyThreshold:   pulumi.Int(blueprint.HealthyThreshold),
			UnhealthyThreshold: pulumi.Int(blueprint.UnhealthyThreshold),
			Matcher:            pulumi.String(blueprint.HealthCheckMatcher),
		},
		Tags: tags(cfg, tgName),
	}, parent)
	if err != nil {
		return err
	}

	forward := lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: s.TargetGroup.Arn,
	}}
	httpAction := forward
	if cfg.HTTPS() {
		httpsName := cfg.Name("listener", "https")
		s.HTTPSListener, err = lb.NewListener(ctx, httpsName, &lb.ListenerArgs{
			LoadBalancerArn: s.LoadBalancer.Arn,
			Port:            pulumi.Int(443),
			Protocol:        pulumi.String("HTTPS"),
			SslPolicy:       pulumi.String(blueprint.TLSPolicy),
			CertificateArn:  pulumi.String(cfg.CertificateARN),
			DefaultActions:  forward,
			Tags:            tags(cfg, httpsName),
		}, parent)
		if err != nil {
			return err
		}
		httpAction = lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Protocol:   pulumi.String("HTTPS"),
				Port:       pulumi.String("443"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		s.URL = pulumi.Sprintf("https://%s", s.LoadBalancer.DnsName)
	} else {
		s.URL = pulumi.Sprintf("http://%s", s.LoadBalancer.DnsName)
	}
	httpName := cfg.Name("listener", "http")
	s.HTTPListener, err = lb.NewListener(ctx, httpName, &lb.ListenerArgs{
		LoadBalancerArn: s.LoadBalancer.Arn,
		Port:            pulumi.Int(80),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  httpAction,
		Tags:            tags(cfg, httpName),
	}, parent)
	if err != nil {
		return err
	}

	if cfg.WebACLARN != "" {
		if _, err := wafv2.NewWebAclAssociation(ctx, cfg.Name("waf", blueprint.Project), &wafv2.WebAclAssociationArgs{
			ResourceArn: s.LoadBalancer.Arn,
			WebAclArn:   pulumi.String(cfg.WebACLARN),
		}, parent); err != nil {
			return err
		}
	}
	return nil
}

// fargate makes the cluster and, with an image, the task definition and the service.
func (s *Service) fargate(ctx *pulumi.Context, cfg Config, net *Network, db *Database, settings *Settings, parent pulumi.ResourceOption) error {
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
	containers := pulumi.All(s.Image, s.LogGroup.Name, db.SecretARN,
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
	deps := []pulumi.Resource{s.HTTPListener, db.Writer}
	if s.HTTPSListener != nil {
		deps = append(deps, s.HTTPSListener)
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
			TargetGroupArn: s.TargetGroup.Arn,
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

// targetGroupNamePrefix is the target group's name prefix (at most 6 characters); the provider
// appends a random suffix.
const targetGroupNamePrefix = "tg-"

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
