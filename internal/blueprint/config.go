package blueprint

// Config is the service's secrets and settings outside the container image: the API-key
// secret and the Parameter Store strings that say where the database is.
//
// The API-key secret is a Secrets Manager secret in both stacks, holding the service's key
// document (internal/access.ParseSecret); the container gets its ARN (API_KEYS_SECRET_ARN), never
// its value, and re-reads it, so keys rotate without a deploy. CloudFormation generates a first
// admin key into it (APIKeysTemplate); the Pulumi program stores its apiKeys configuration.
type Config struct {
	APIKeys Resource
	// APIKeysTemplate is the JSON the generated secret starts from, and APIKeysGenerateKey the
	// field the generated string is added as (GenerateSecretString's SecretStringTemplate and
	// GenerateStringKey): together one admin key with every scope.
	APIKeysTemplate    string
	APIKeysGenerateKey string
	// APIKeysKey is the ID of the KMS key the API-key secret is encrypted with: the stack's own,
	// so reading it needs kms:Decrypt on that key as well as the read itself.
	APIKeysKey string
	Parameters []ConfigParameter
}

// APIKeyAdminName is the name of the key the stack generates: what logs and the movement and
// price logs record as the actor of its requests.
const APIKeyAdminName = "admin"

// ConfigParameter is a plain (String) Parameter Store parameter under ParameterPath.
type ConfigParameter struct {
	Resource
	Key         string // the path under ParameterPath
	Env         string // the container variable it is injected as
	Description string
	Value       Value
}

// Attributes of model resources a Value may name (Value.Attr); each renderer knows how its
// tool says them.
const (
	AttrWriterHost = "writer-host" // a database cluster's writer endpoint address
	AttrReaderHost = "reader-host" // its reader endpoint address
	AttrPort       = "port"        // its port
	// AttrSecretValue is a generated secret's value itself, where AWS needs the value and cannot
	// read a secret (a listener rule's condition, CloudFront's custom origin header).
	AttrSecretValue = "secret-value"
	// AttrDBUserARN is, on the database cluster, the ARN of the database user named by the
	// value's Text (DBUserARN with the cluster's resource ID): what rds-db:connect takes.
	AttrDBUserARN = "db-user-arn"
)

// Resources returns the configuration's resources.
func (c Config) Resources() []Resource {
	out := []Resource{c.APIKeys}
	for _, p := range c.Parameters {
		out = append(out, p.Resource)
	}
	return out
}

func config() Config {
	param := func(id, key, env, description string, v Value) ConfigParameter {
		return ConfigParameter{Resource: Resource{ID: id, Kind: "param", Purpose: pathPurpose(key)}, Key: key, Env: env, Description: description, Value: v}
	}
	return Config{
		APIKeys:            Resource{ID: IDAPIKeySecret, Kind: "secret", Purpose: "api-keys"},
		APIKeysKey:         IDLogsKey,
		APIKeysTemplate:    `{"name":"` + APIKeyAdminName + `","scopes":["read","catalog","inventory","checkout"]}`,
		APIKeysGenerateKey: "key",
		Parameters: []ConfigParameter{
			param(IDDBHostParameter, ParamDBHost, EnvDBHost, "Catalog database writer endpoint", Value{Ref: IDDBCluster, Attr: AttrWriterHost}),
			param(IDDBReaderHostParam, ParamDBReaderHost, EnvDBReaderHost, "Catalog database reader endpoint", Value{Ref: IDDBCluster, Attr: AttrReaderHost}),
			param(IDDBPortParameter, ParamDBPort, EnvDBPort, "Catalog database port", Value{Ref: IDDBCluster, Attr: AttrPort}),
			param(IDDBNameParameter, ParamDBName, EnvDBName, "Catalog database name", Value{Text: DBName}),
		},
	}
}

// pathPurpose turns a parameter key ("db/reader-host") into a name part ("db-reader-host").
func pathPurpose(key string) string {
	out := []byte(key)
	for i, c := range out {
		if c == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
