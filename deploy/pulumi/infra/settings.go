package infra

import (
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Settings are the service's Parameter Store parameters under blueprint.ParameterPath: plain
// String parameters for where the database is, and SecureString parameters (encrypted with
// the account's aws/ssm key) for the connection string and the API keys. CloudFormation cannot
// create SecureString parameters; this stack can, as the Pulumi specification asks.
type Settings struct {
	pulumi.ResourceState

	Path         string
	DBHost       *ssm.Parameter
	DBReaderHost *ssm.Parameter
	DBPort       *ssm.Parameter
	DBName       *ssm.Parameter
	DBURL        *ssm.Parameter
	APIKeys      *ssm.Parameter
}

// NewSettings makes the parameters.
func NewSettings(ctx *pulumi.Context, cfg Config, db *Database, opts ...pulumi.ResourceOption) (*Settings, error) {
	s := &Settings{Path: blueprint.ParameterPath(cfg.Suffix)}
	parent, err := newComponent(ctx, cfg, "Settings", "settings", s, opts...)
	if err != nil {
		return nil, err
	}
	param := func(key, kind, description string, value pulumi.StringInput) (*ssm.Parameter, error) {
		name := s.Path + key
		args := &ssm.ParameterArgs{
			Name:        pulumi.String(name),
			Type:        pulumi.String(kind),
			Description: pulumi.String(description),
			Tags:        tags(cfg, name),
		}
		// Plain settings stay readable in the state and previews (insecureValue); the SDK
		// treats value as a Pulumi secret, which is what SecureString values are.
		if kind == "SecureString" {
			args.Value = value
		} else {
			args.InsecureValue = value
		}
		return ssm.NewParameter(ctx, cfg.Name("param", pathPurpose(key)), args, parent)
	}
	port := strconv.Itoa(blueprint.DBPort)
	if s.DBHost, err = param(blueprint.ParamDBHost, "String", "Catalog database writer endpoint", db.Cluster.Endpoint); err != nil {
		return nil, err
	}
	if s.DBReaderHost, err = param(blueprint.ParamDBReaderHost, "String", "Catalog database reader endpoint", db.Cluster.ReaderEndpoint); err != nil {
		return nil, err
	}
	if s.DBPort, err = param(blueprint.ParamDBPort, "String", "Catalog database port", pulumi.String(port)); err != nil {
		return nil, err
	}
	if s.DBName, err = param(blueprint.ParamDBName, "String", "Catalog database name", pulumi.String(blueprint.DBName)); err != nil {
		return nil, err
	}
	// The connection string carries no password (the service reads it from the RDS-managed
	// secret, so rotation needs no redeploy) and no sslrootcert, which clients read as a path.
	url := db.Cluster.Endpoint.ApplyT(blueprint.DBURL).(pulumi.StringOutput)
	if s.DBURL, err = param(blueprint.ParamDBURL, "SecureString", blueprint.DBURLDescription, pulumi.ToSecret(url).(pulumi.StringOutput)); err != nil {
		return nil, err
	}
	if s.APIKeys, err = param(blueprint.ParamAPIKeys, "SecureString", "Catalog API keys for write endpoints", pulumi.ToSecret(pulumi.String(cfg.APIKeys)).(pulumi.StringOutput)); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"path": pulumi.String(s.Path)})
}

// pathPurpose turns a parameter key ("db/reader-host") into a name part ("db-reader-host").
func pathPurpose(key string) string { return strings.ReplaceAll(key, "/", "-") }
