package blueprint

// Database is Aurora PostgreSQL Serverless v2 in the isolated subnets: the subnet group, the
// cluster parameter group, the cluster (encrypted, with an RDS-managed master password) and its
// instances, the writer first and the reader in another zone.
type Database struct {
	SubnetGroup    Resource
	Subnets        Tier
	ParameterGroup Resource
	Parameters     map[string]string
	Cluster        Resource
	SecurityGroup  string // the cluster's security group's ID
	// LogGroup is the ID of the log group the cluster exports to; it must exist first, or RDS
	// creates it without retention.
	LogGroup           string
	LogExports         []string
	Encrypted          bool
	ManagedPassword    bool // a Secrets Manager secret RDS creates and rotates
	IAMAuthentication  bool // tokens need no secret at all; the app uses the managed password
	DeletionProtection bool
	CopyTagsToSnapshot bool
	Instances          []DBInstance
	PubliclyAccessible bool
	// InstanceClass and Performance Insights apply to every instance.
	InstanceClass           string
	PerformanceInsights     bool
	PerformanceInsightsDays int
}

// DBInstance is one instance of the cluster. After names the instance it waits for: RDS makes
// the first instance of a cluster its writer, so instances created in parallel could swap roles
// (and zones).
type DBInstance struct {
	Resource
	AZ            int
	PromotionTier int
	After         string
}

// Database IDs.
const (
	IDDBSubnetGroup    = "DBSubnetGroup"
	IDDBParameterGroup = "DBClusterParameterGroup"
	IDDBCluster        = "DBCluster"
	IDDBWriter         = "DBWriterInstance"
	IDDBReader         = "DBReaderInstance"
)

// Resources returns the database's resources.
func (d Database) Resources() []Resource {
	out := []Resource{d.SubnetGroup, d.ParameterGroup, d.Cluster}
	for _, i := range d.Instances {
		out = append(out, i.Resource)
	}
	return out
}

func database() Database {
	return Database{
		SubnetGroup:         Resource{ID: IDDBSubnetGroup, Kind: "dbsubnets", Purpose: Project},
		Subnets:             TierIsolated,
		ParameterGroup:      Resource{ID: IDDBParameterGroup, Kind: "dbparams", Purpose: Project},
		Parameters:          DBClusterParameters,
		Cluster:             Resource{ID: IDDBCluster, Kind: "db", Purpose: Project},
		SecurityGroup:       SGDatabase,
		LogGroup:            IDDBLogGroup,
		LogExports:          []string{"postgresql"},
		Encrypted:           true,
		ManagedPassword:     true,
		IAMAuthentication:   true,
		DeletionProtection:  false, // the stack must be destroyable: rebuilt from code and backups
		CopyTagsToSnapshot:  true,
		InstanceClass:       DBInstanceClass,
		PerformanceInsights: true, PerformanceInsightsDays: DBPerformanceInsightsTTL,
		Instances: []DBInstance{
			{Resource: Resource{ID: IDDBWriter, Kind: "db", Purpose: "writer"}, AZ: 0, PromotionTier: 0},
			{Resource: Resource{ID: IDDBReader, Kind: "db", Purpose: "reader"}, AZ: 1, PromotionTier: 1, After: IDDBWriter},
		},
	}
}
