package cfnstack

import (
	"github.com/acme/catalog/internal/blueprint"
	"github.com/acme/catalog/internal/cfn"
)

// Database logical IDs.
const (
	IDDBSubnetGroup    = "DBSubnetGroup"
	IDDBParameterGroup = "DBClusterParameterGroup"
	IDDBCluster        = "DBCluster"
	IDDBWriter         = "DBWriterInstance"
	IDDBReader         = "DBReaderInstance"
)

// dbSecretARN is the ARN of the secret RDS creates and rotates for the master user.
func dbSecretARN() cfn.Fn { return cfn.GetAtt(IDDBCluster, "MasterUserSecret.SecretArn") }

func (b *builder) database(Options) error {
	b.add(IDDBSubnetGroup, "AWS::RDS::DBSubnetGroup", map[string]any{
		"DBSubnetGroupName":        name("dbsubnets", blueprint.Project),
		"DBSubnetGroupDescription": "Catalog database: the isolated subnets, no route to the internet",
		"SubnetIds":                refs(IsolatedSubnetIDs),
		"Tags":                     tags(nil),
	})
	params := map[string]any{}
	for k, v := range blueprint.DBClusterParameters {
		params[k] = v
	}
	b.add(IDDBParameterGroup, "AWS::RDS::DBClusterParameterGroup", map[string]any{
		"DBClusterParameterGroupName": name("dbparams", blueprint.Project),
		"Description":                 "Catalog database: TLS required for every connection, slow statements logged",
		"Family":                      blueprint.DBParameterGroupFamily,
		"Parameters":                  params,
		"Tags":                        tags(nil),
	})
	capacity := func(cond, param, key string) any {
		return cfn.If(cond, cfn.FindInMap(MapEnvironment, cfn.Ref(ParamEnvironment), key), cfn.Ref(param))
	}
	b.add(IDDBCluster, "AWS::RDS::DBCluster", map[string]any{
		"DBClusterIdentifier":         name("db", blueprint.Project),
		"Engine":                      blueprint.DBEngine,
		"EngineVersion":               cfn.Ref(ParamDBEngineVersion),
		"DatabaseName":                blueprint.DBName,
		"Port":                        blueprint.DBPort,
		"MasterUsername":              blueprint.DBMasterUsername,
		"ManageMasterUserPassword":    true, // Secrets Manager secret with RDS-managed rotation
		"DBSubnetGroupName":           cfn.Ref(IDDBSubnetGroup),
		"DBClusterParameterGroupName": cfn.Ref(IDDBParameterGroup),
		"VpcSecurityGroupIds":         []any{cfn.GetAtt(IDDBSecurityGroup, "GroupId")},
		"StorageEncrypted":            true,
		// IAM authentication is available besides the managed password; the app uses the
		// password, but tokens need no secret at all.
		"EnableIAMDatabaseAuthentication": true,
		"BackupRetentionPeriod":           cfn.Ref(ParamDBBackupRetentionDays),
		"PreferredBackupWindow":           blueprint.DBPreferredBackupWindow,
		"PreferredMaintenanceWindow":      blueprint.DBMaintenanceWindow,
		"CopyTagsToSnapshot":              true,
		"DeletionProtection":              false, // the stack must be destroyable
		"EnableCloudwatchLogsExports":     []any{"postgresql"},
		"ServerlessV2ScalingConfiguration": map[string]any{
			"MinCapacity": capacity(CondEnvironmentMinCapacity, ParamDBMinCapacity, "DBMinCapacity"),
			"MaxCapacity": capacity(CondEnvironmentMaxCapacity, ParamDBMaxCapacity, "DBMaxCapacity"),
		},
		"Tags": tags(nil),
	}, dependsOn(IDDBLogGroup)) // RDS would otherwise create the log group without retention
	// The reader waits for the writer: RDS makes the first instance of a cluster its writer, so
	// instances created in parallel could swap roles (and AZs).
	for i, inst := range []struct {
		id, purpose string
		deps        []string
	}{{IDDBWriter, "writer", nil}, {IDDBReader, "reader", []string{IDDBWriter}}} {
		b.add(inst.id, "AWS::RDS::DBInstance", map[string]any{
			"DBInstanceIdentifier":               name("db", inst.purpose),
			"DBClusterIdentifier":                cfn.Ref(IDDBCluster),
			"DBInstanceClass":                    blueprint.DBInstanceClass,
			"Engine":                             blueprint.DBEngine,
			"AvailabilityZone":                   az(i), // writer and reader in different AZs
			"PubliclyAccessible":                 false,
			"PromotionTier":                      i,
			"AutoMinorVersionUpgrade":            true,
			"EnablePerformanceInsights":          true,
			"PerformanceInsightsRetentionPeriod": blueprint.DBPerformanceInsightsTTL,
			"Tags":                               tags(nil),
		}, dependsOn(inst.deps...))
	}
	return nil
}
