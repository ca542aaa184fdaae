package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Database logical IDs.
const (
	IDDBSubnetGroup    = blueprint.IDDBSubnetGroup
	IDDBParameterGroup = blueprint.IDDBParameterGroup
	IDDBCluster        = blueprint.IDDBCluster
	IDDBWriter         = blueprint.IDDBWriter
	IDDBReader         = blueprint.IDDBReader
)

// dbSecretARN is the ARN of the secret RDS creates and rotates for the master user.
func dbSecretARN() cfn.Fn { return cfn.GetAtt(IDDBCluster, "MasterUserSecret.SecretArn") }

// database renders blueprint.Database; the engine version, backup retention and capacity are
// template parameters (capacity defaults per environment through the mapping).
func (b *builder) database(Options) error {
	d := b.m.Database
	b.add(d.SubnetGroup.ID, "AWS::RDS::DBSubnetGroup", map[string]any{
		"DBSubnetGroupName":        modelName(d.SubnetGroup),
		"DBSubnetGroupDescription": "Catalog database: the isolated subnets, no route to the internet",
		"SubnetIds":                refs(b.m.Network.SubnetIDs(d.Subnets)),
	}, b.when(d.SubnetGroup.When))
	params := map[string]any{}
	for k, v := range d.Parameters {
		params[k] = v
	}
	b.add(d.ParameterGroup.ID, "AWS::RDS::DBClusterParameterGroup", map[string]any{
		"DBClusterParameterGroupName": modelName(d.ParameterGroup),
		"Description":                 "Catalog database: TLS required for every connection, slow statements logged",
		"Family":                      blueprint.DBParameterGroupFamily,
		"Parameters":                  params,
	}, b.when(d.ParameterGroup.When))
	var exports []any
	for _, e := range d.LogExports {
		exports = append(exports, e)
	}
	b.add(d.Cluster.ID, "AWS::RDS::DBCluster", map[string]any{
		"DBClusterIdentifier":             modelName(d.Cluster),
		"Engine":                          blueprint.DBEngine,
		"EngineVersion":                   cfn.Ref(ParamDBEngineVersion),
		"DatabaseName":                    blueprint.DBName,
		"Port":                            blueprint.DBPort,
		"MasterUsername":                  blueprint.DBMasterUsername,
		"ManageMasterUserPassword":        d.ManagedPassword,
		"DBSubnetGroupName":               cfn.Ref(d.SubnetGroup.ID),
		"DBClusterParameterGroupName":     cfn.Ref(d.ParameterGroup.ID),
		"VpcSecurityGroupIds":             []any{cfn.GetAtt(d.SecurityGroup, "GroupId")},
		"StorageEncrypted":                d.Encrypted,
		"EnableIAMDatabaseAuthentication": d.IAMAuthentication,
		"BackupRetentionPeriod":           cfn.Ref(ParamDBBackupRetentionDays),
		"PreferredBackupWindow":           blueprint.DBPreferredBackupWindow,
		"PreferredMaintenanceWindow":      blueprint.DBMaintenanceWindow,
		"CopyTagsToSnapshot":              d.CopyTagsToSnapshot,
		"DeletionProtection":              d.DeletionProtection,
		"EnableCloudwatchLogsExports":     exports,
		"ServerlessV2ScalingConfiguration": map[string]any{
			"MinCapacity": environmentDefault(CondEnvironmentMinCapacity, ParamDBMinCapacity, "DBMinCapacity"),
			"MaxCapacity": environmentDefault(CondEnvironmentMaxCapacity, ParamDBMaxCapacity, "DBMaxCapacity"),
		},
	}, b.when(d.Cluster.When), dependsOn(d.LogGroup))
	for _, inst := range d.Instances {
		var deps []string
		if inst.After != "" {
			deps = append(deps, inst.After)
		}
		b.add(inst.ID, "AWS::RDS::DBInstance", map[string]any{
			"DBInstanceIdentifier":               modelName(inst.Resource),
			"DBClusterIdentifier":                cfn.Ref(d.Cluster.ID),
			"DBInstanceClass":                    d.InstanceClass,
			"Engine":                             blueprint.DBEngine,
			"AvailabilityZone":                   az(inst.AZ),
			"PubliclyAccessible":                 d.PubliclyAccessible,
			"PromotionTier":                      inst.PromotionTier,
			"AutoMinorVersionUpgrade":            true,
			"EnablePerformanceInsights":          d.PerformanceInsights,
			"PerformanceInsightsRetentionPeriod": d.PerformanceInsightsDays,
		}, b.when(inst.When), dependsOn(deps...))
	}
	return nil
}

// environmentDefault is the value of a parameter whose 0 means the environment's default: the
// mapping's key while cond says the parameter was left at 0, the parameter otherwise. The
// cluster and the sale's schedules take their capacity bounds from it, the service its
// IMPORT_PARALLEL.
func environmentDefault(cond, param, key string) any {
	return cfn.If(cond, cfn.FindInMap(MapEnvironment, cfn.Ref(ParamEnvironment), key), cfn.Ref(param))
}
