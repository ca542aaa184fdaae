package infra

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/acme/catalog/internal/blueprint"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v7/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Settings are the service's Parameter Store parameters under blueprint.ParameterPath (plain
// String parameters for where the database is, and a SecureString parameter, encrypted with the
// account's aws/ssm key, for the connection string; CloudFormation cannot create SecureString
// parameters, this stack can, as the Pulumi specification asks) and the API-key secret.
type Settings struct {
	pulumi.ResourceState

	Path         string
	DBHost       *ssm.Parameter
	DBReaderHost *ssm.Parameter
	DBPort       *ssm.Parameter
	DBName       *ssm.Parameter
	DBURL        *ssm.Parameter
	APIKeys      *secretsmanager.Secret
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
	// The API keys are a Secrets Manager secret encrypted with the stack's key
	// (blueprint.Config.APIKeysKey), as in CloudFormation: the service reads it itself
	// (API_KEYS_SECRET_ARN) and re-reads it, so keys rotate without a deploy.
	if blueprint.Model().Config.APIKeysKey != blueprint.IDLogsKey {
		return nil, errUnknownModelID(blueprint.Model().Config.APIKeysKey)
	}
	doc, err := APIKeyDocument(cfg.APIKeys)
	if err != nil {
		return nil, fmt.Errorf("%s:%s %w", ConfigNamespace, KeyAPIKeys, err)
	}
	m := blueprint.Model().Config.APIKeys
	name := cfg.ModelName(m)
	if s.APIKeys, err = secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name:        pulumi.String(blueprint.APIKeySecretName(cfg.Suffix)),
		Description: pulumi.String("API keys of the catalog service, a key document the service re-reads (API_KEYS_SECRET_ARN)"),
		KmsKeyId:    logs.Key.Arn,
		Tags:        tags(cfg, name),
	}, parent); err != nil {
		return nil, err
	}
	// The configuration is the first value only: once deployed, keys are rotated in Secrets
	// Manager (deploy/pulumi/README.md), and a later pulumi up must not put the old ones back.
	if _, err = secretsmanager.NewSecretVersion(ctx, cfg.Name("secret", m.Purpose+"-value"), &secretsmanager.SecretVersionArgs{
		SecretId:     s.APIKeys.ID(),
		SecretString: pulumi.ToSecret(pulumi.String(doc)).(pulumi.StringOutput),
	}, parent, pulumi.IgnoreChanges([]string{"secretString"})); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"path": pulumi.String(s.Path)})
}

// pathPurpose turns a parameter key ("db/reader-host") into a name part ("db-reader-host").
func pathPurpose(key string) string { return strings.ReplaceAll(key, "/", "-") }
