package infra

import (
	"errors"
	"fmt"
	"time"

	"github.com/acme/catalog/internal/blueprint"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Stack holds handles to everything the program made.
type Stack struct {
	Network       *Network
	LogEncryption *LogEncryption
	FlowLogs      *FlowLogs // nil without flow logs
	Database      *Database
	Settings      *Settings
	Registry      *Registry
	LoadBalancer  *LoadBalancer
	Service       *Service
	Scaling       *Scaling
	Observability *Observability
	Events        *Events
	SaleWarm      *SaleWarm // nil without a sale window
}

// Build makes the whole architecture from a validated configuration. It validates again, so
// nothing is registered for a bad configuration even when the caller skipped LoadConfig.
func Build(ctx *pulumi.Context, cfg Config) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st := &Stack{}
	var err error
	if st.Network, err = NewNetwork(ctx, cfg); err != nil {
		return nil, err
	}
	if st.LogEncryption, err = NewLogEncryption(ctx, cfg, st.Network); err != nil {
		return nil, err
	}
	if st.FlowLogs, err = NewFlowLogs(ctx, cfg, st.Network, st.LogEncryption); err != nil {
		return nil, err
	}
	if st.Events, err = NewEvents(ctx, cfg, st.LogEncryption); err != nil {
		return nil, err
	}
	if st.Database, err = NewDatabase(ctx, cfg, st.Network, st.LogEncryption); err != nil {
		return nil, err
	}
	if st.SaleWarm, err = NewSaleWarm(ctx, cfg, st.Network, st.Database); err != nil {
		return nil, err
	}
	if st.Settings, err = NewSettings(ctx, cfg, st.Database, st.LogEncryption); err != nil {
		return nil, err
	}
	if st.Registry, err = NewRegistry(ctx, cfg); err != nil {
		return nil, err
	}
	if st.LoadBalancer, err = NewLoadBalancer(ctx, cfg, st.Network, st.LogEncryption); err != nil {
		return nil, err
	}
	if st.Service, err = NewService(ctx, cfg, st.Network, st.LogEncryption, st.Registry, st.LoadBalancer, st.Database, st.Settings, st.Events); err != nil {
		return nil, err
	}
	if cfg.HasImage() {
		if st.Scaling, err = NewScaling(ctx, cfg, st.Service, st.LoadBalancer); err != nil {
			return nil, err
		}
	}
	if st.Observability, err = NewObservability(ctx, cfg, st.Network, st.Database, st.LoadBalancer, st.Service, st.LogEncryption); err != nil {
		return nil, err
	}
	return st, nil
}

// Outputs are the stack outputs: the ALB URL and ECR repository URI the Pulumi specification
// asks for, and the set the CloudFormation template exports.
func (st *Stack) Outputs() map[string]pulumi.Output {
	out := map[string]pulumi.Output{
		"albUrl":            st.LoadBalancer.URL,
		"serviceUrl":        st.LoadBalancer.ServiceURL,
		"albDnsName":        st.LoadBalancer.LoadBalancer.DnsName,
		"ecrRepositoryUri":  st.Registry.Repository.RepositoryUrl,
		"clusterName":       st.Service.Cluster.Name,
		"dbWriterEndpoint":  st.Database.Cluster.Endpoint,
		"dbReaderEndpoint":  st.Database.Cluster.ReaderEndpoint,
		"dbSecretArn":       st.Database.SecretARN,
		"apiKeySecretArn":   st.Settings.APIKeys.Arn,
		"dbUrlParameterArn": st.Settings.DBURL.Arn,
		"parameterPath":     pulumi.String(st.Settings.Path).ToStringOutput(),
		"alarmTopicArn":     st.Observability.Topic.Arn,
		"vpcId":             st.Network.VPC.ID(),
		"publicSubnetIds":   SubnetIDs(st.Network.PublicSubnets),
		"privateSubnetIds":  SubnetIDs(st.Network.PrivateSubnets),
		"isolatedSubnetIds": SubnetIDs(st.Network.IsolatedSubnets),
		"dashboardUrl":      st.Observability.DashboardURL,
	}
	if st.LoadBalancer.Distribution != nil {
		out["distributionDomainName"] = st.LoadBalancer.Distribution.DomainName
		out["distributionId"] = st.LoadBalancer.Distribution.ID().ToStringOutput()
	}
	if st.Events.Bus != nil {
		out["eventBusName"] = st.Events.Bus.Name
		out["eventBusArn"] = st.Events.Bus.Arn
	}
	// What the deploy script needs to run the migrate task in the service's network.
	out["serviceSecurityGroupId"] = st.Network.TaskSecurityGroup.ID().ToStringOutput()
	// Without an image (bootstrap) there is no service to name.
	if st.Service.Service != nil {
		out["migrateTaskDefinitionArn"] = st.Service.MigrateTaskDefinition.Arn
		out["image"] = st.Registry.Image
		out["serviceName"] = st.Service.Service.Name
	}
	return out
}

// Program returns the Pulumi program: read and validate the configuration through get (the
// stack's config in the "catalog" namespace), build, export. A bad configuration returns its
// error before any resource is registered, as does a sale window that ended before now()
// (blueprint.SaleWindowAhead: the configuration is valid, its time has passed).
func Program(get func(key string) (string, bool), isSecret func(key string) bool, now func() time.Time) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := LoadConfig(get, ctx.Stack())
		if err == nil {
			if werr := blueprint.SaleWindowAhead(cfg.SaleEnd, now()); werr != nil {
				err = invalidConfig(fmt.Sprintf("%s:%s: %v; pulumi config rm %s:%s && pulumi config rm %s:%s",
					ConfigNamespace, KeySaleEnd, werr, ConfigNamespace, KeySaleStart, ConfigNamespace, KeySaleEnd))
			}
		}
		if v, ok := get(KeyAPIKeys); ok && v != "" && !isSecret(KeyAPIKeys) {
			err = errors.Join(err, invalidConfig(fmt.Sprintf("%s:%s is stored in plain text: set it with pulumi config set --secret %s:%s ...",
				ConfigNamespace, KeyAPIKeys, ConfigNamespace, KeyAPIKeys)))
		}
		if err != nil {
			return err
		}
		if !cfg.HasImage() {
			// Not an error: the bootstrap deploy (README "Deploy"). Say what comes next.
			_ = ctx.Log.Info(fmt.Sprintf("no %s:%s or %s:%s: deploying without the ECS service; push an image to the ecrRepositoryUri output, "+
				"then pulumi config set %s:%s <tag> and pulumi up", ConfigNamespace, KeyImageTag, ConfigNamespace, KeyImage, ConfigNamespace, KeyImageTag), nil)
		}
		st, err := Build(ctx, cfg)
		if err != nil {
			return err
		}
		for k, v := range st.Outputs() {
			ctx.Export(k, v)
		}
		return nil
	}
}
