package infra

import (
	"fmt"
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
func NewSettings(ctx *pulumi.Context, cfg Config, db *Database, logs *LogEncryption, opts ...pulumi.ResourceOption) (*Settings, error) {
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
	// The model's String parameters; the attributes they name are the cluster's.
	attrs := map[string]pulumi.StringOutput{
		blueprint.AttrWriterHost: db.Cluster.Endpoint,
		blueprint.AttrReaderHost: db.Cluster.ReaderEndpoint,
		blueprint.AttrPort:       db.Cluster.Port.ApplyT(func(p int) string { return strconv.Itoa(p) }).(pulumi.StringOutput),
	}
	params := map[string]*ssm.Parameter{}
	for _, p := range blueprint.Model().Config.Parameters {
		var value pulumi.StringInput = pulumi.String(p.Value.Text)
		if p.Value.Ref != "" {
			v, ok := attrs[p.Value.Attr]
			if p.Value.Ref != blueprint.IDDBCluster || !ok {
				return nil, fmt.Errorf("parameter %s: no value for %s of %s", p.ID, p.Value.Attr, p.Value.Ref)
			}
			value = v
		}
		if params[p.ID], err = param(p.Key, "String", fmt.Sprintf("%s (%q in the task)", p.Description, p.Env), value); err != nil {
			return nil, err
		}
	}
	s.DBHost, s.DBReaderHost = params[blueprint.IDDBHostParameter], params[blueprint.IDDBReaderHostParam]
	s.DBPort, s.DBName = params[blueprint.IDDBPortParameter], params[blueprint.IDDBNameParameter]
	// The connection string carries no password (the service reads it from the RDS-managed
	// secret, so rotation needs no redeploy) and no sslrootcert, which clients read as a path.
	url := db.Cluster.Endpoint.ApplyT(blueprint.DBURL).(pulumi.StringOutput)
	if s.DBURL, err = param(blueprint.ParamDBURL, "SecureString", blueprint.DBURLDescription, pulumi.ToSecret(url).(pulumi.StringOutput)); err != nil {
		return nil, err
	}
	// The API keys are encrypted with the stack's key (blueprint.Config.APIKeysKey), not the
	// account's aws/ssm key.
	if blueprint.Model().Config.APIKeysKey != blueprint.IDLogsKey {
		return nil, errUnknownModelID(blueprint.Model().Config.APIKeysKey)
	}
	name := s.Path + blueprint.ParamAPIKeys
	if s.APIKeys, err = ssm.NewParameter(ctx, cfg.Name("param", pathPurpose(blueprint.ParamAPIKeys)), &ssm.ParameterArgs{
		Name:        pulumi.String(name),
		Type:        pulumi.String("SecureString"),
		Description: pulumi.String("Catalog API keys for write endpoints"),
		Value:       pulumi.ToSecret(pulumi.String(cfg.APIKeys)).(pulumi.StringOutput),
		KeyId:       logs.Key.Arn,
		Tags:        tags(cfg, name),
	}, parent); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"path": pulumi.String(s.Path)})
}

// pathPurpose turns a parameter key ("db/reader-host") into a name part ("db-reader-host").
func pathPurpose(key string) string { return strings.ReplaceAll(key, "/", "-") }
