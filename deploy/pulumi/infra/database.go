package infra

import (
	"maps"
	"slices"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Database is Aurora PostgreSQL Serverless v2: a writer and a reader in different AZs, in the
// isolated subnets, encrypted, with the master password managed by RDS in Secrets Manager.
type Database struct {
	pulumi.ResourceState

	Cluster  *rds.Cluster
	Writer   *rds.ClusterInstance
	Reader   *rds.ClusterInstance
	LogGroup *cloudwatch.LogGroup
	// SecretARN is the ARN of the RDS-managed master user secret (JSON with username and
	// password).
	SecretARN pulumi.StringOutput
}

// NewDatabase makes the database.
func NewDatabase(ctx *pulumi.Context, cfg Config, net *Network, logs *LogEncryption, opts ...pulumi.ResourceOption) (*Database, error) {
	d := &Database{}
	parent, err := newComponent(ctx, cfg, "Database", "database", d, opts...)
	if err != nil {
		return nil, err
	}
	m := blueprint.Model().Database
	clusterID := cfg.ModelName(m.Cluster)

	// The stack owns the exported log group (RDS would create it without retention otherwise),
	// so it must exist before the cluster starts writing.
	d.LogGroup, err = newLogGroup(ctx, cfg, logs, m.LogGroup, parent)
	if err != nil {
		return nil, err
	}

	subnetGroupName := cfg.ModelName(m.SubnetGroup)
	isolated := pulumi.StringArray{}
	for _, id := range blueprint.Model().Network.SubnetIDs(m.Subnets) {
		isolated = append(isolated, net.subnets[id].ID())
	}
	subnetGroup, err := rds.NewSubnetGroup(ctx, subnetGroupName, &rds.SubnetGroupArgs{
		Name:        pulumi.String(subnetGroupName),
		Description: pulumi.String("Catalog database: the isolated subnets"),
		SubnetIds:   isolated,
		Tags:        tags(cfg, subnetGroupName),
	}, parent)
	if err != nil {
		return nil, err
	}

	paramGroupName := cfg.ModelName(m.ParameterGroup)
	params := rds.ClusterParameterGroupParameterArray{}
	for _, k := range slices.Sorted(maps.Keys(m.Parameters)) {
		params = append(params, rds.ClusterParameterGroupParameterArgs{
			Name:  pulumi.String(k),
			Value: pulumi.String(m.Parameters[k]),
		})
	}
	paramGroup, err := rds.NewClusterParameterGroup(ctx, paramGroupName, &rds.ClusterParameterGroupArgs{
		Name:        pulumi.String(paramGroupName),
		Family:      pulumi.String(blueprint.DBParameterGroupFamily),
		Description: pulumi.String("Catalog database: TLS required, slow statements logged"),
		Parameters:  params,
		Tags:        tags(cfg, paramGroupName),
	}, parent)
	if err != nil {
		return nil, err
	}

	d.Cluster, err = rds.NewCluster(ctx, clusterID, &rds.ClusterArgs{
		ClusterIdentifier:                pulumi.String(clusterID),
		Engine:                           pulumi.String(blueprint.DBEngine),
		EngineMode:                       pulumi.String("provisioned"),
		EngineVersion:                    pulumi.String(cfg.DBEngineVersion),
		AllowMajorVersionUpgrade:         pulumi.Bool(false),
		DatabaseName:                     pulumi.String(blueprint.DBName),
		MasterUsername:                   pulumi.String(blueprint.DBMasterUsername),
		ManageMasterUserPassword:         pulumi.Bool(m.ManagedPassword),
		Port:                             pulumi.Int(blueprint.DBPort),
		DbSubnetGroupName:                subnetGroup.Name,
		VpcSecurityGroupIds:              pulumi.StringArray{net.securityGroups[m.SecurityGroup].ID()},
		DbClusterParameterGroupName:      paramGroup.Name,
		StorageEncrypted:                 pulumi.Bool(m.Encrypted),
		IamDatabaseAuthenticationEnabled: pulumi.Bool(m.IAMAuthentication),
		BackupRetentionPeriod:            pulumi.Int(cfg.DBBackupRetentionDays),
		PreferredBackupWindow:            pulumi.String(blueprint.DBPreferredBackupWindow),
		PreferredMaintenanceWindow:       pulumi.String(blueprint.DBMaintenanceWindow),
		CopyTagsToSnapshot:               pulumi.Bool(m.CopyTagsToSnapshot),
		EnabledCloudwatchLogsExports:     pulumi.ToStringArray(m.LogExports),
		Serverlessv2ScalingConfiguration: &rds.ClusterServerlessv2ScalingConfigurationArgs{
			MinCapacity: pulumi.Float64(cfg.DBMinACU),
			MaxCapacity: pulumi.Float64(cfg.DBMaxACU),
		},
		// Destroyable by design: the stack is rebuilt from code and backups, not kept.
		SkipFinalSnapshot:  pulumi.Bool(true),
		DeletionProtection: pulumi.Bool(m.DeletionProtection),
		Tags:               tags(cfg, clusterID),
	}, parent, pulumi.DependsOn([]pulumi.Resource{d.LogGroup}),
		// Automatic minor upgrades move the running version past the configured one; a later
		// update must not try to downgrade it.
		pulumi.IgnoreChanges([]string{"engineVersion"}))
	if err != nil {
		return nil, err
	}

	instances := map[string]*rds.ClusterInstance{}
	for _, inst := range m.Instances {
		var deps []pulumi.Resource
		if inst.After != "" {
			deps = append(deps, instances[inst.After])
		}
		name := cfg.ModelName(inst.Resource)
		ci, err := rds.NewClusterInstance(ctx, name, &rds.ClusterInstanceArgs{
			Identifier:                         pulumi.String(name),
			ClusterIdentifier:                  d.Cluster.ID(),
			InstanceClass:                      pulumi.String(m.InstanceClass),
			Engine:                             rds.EngineType(blueprint.DBEngine),
			EngineVersion:                      pulumi.String(cfg.DBEngineVersion),
			AvailabilityZone:                   pulumi.String(net.AZs[inst.AZ]),
			PubliclyAccessible:                 pulumi.Bool(m.PubliclyAccessible),
			PromotionTier:                      pulumi.Int(inst.PromotionTier),
			PerformanceInsightsEnabled:         pulumi.Bool(m.PerformanceInsights),
			PerformanceInsightsRetentionPeriod: pulumi.Int(m.PerformanceInsightsDays),
			AutoMinorVersionUpgrade:            pulumi.Bool(true),
			Tags:                               tags(cfg, name),
		}, parent, pulumi.DependsOn(deps), pulumi.IgnoreChanges([]string{"engineVersion"}))
		if err != nil {
			return nil, err
		}
		instances[inst.ID] = ci
	}
	d.Writer, d.Reader = instances[blueprint.IDDBWriter], instances[blueprint.IDDBReader]
	d.SecretARN = d.Cluster.MasterUserSecrets.Index(pulumi.Int(0)).SecretArn().Elem()

	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"writerEndpoint": d.Cluster.Endpoint,
		"readerEndpoint": d.Cluster.ReaderEndpoint,
		"secretArn":      d.SecretARN,
	})
}
