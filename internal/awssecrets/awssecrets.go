// Package awssecrets reads database credentials from AWS Secrets Manager when connections are
// made, so a password rotated by RDS is used without restarting tasks. It is the service's only
// AWS dependency.
package awssecrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Getter is the one Secrets Manager call used; *secretsmanager.Client has it.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Credentials are a database user and password kept in a secret in the form RDS writes
// ({"username": ..., "password": ...}). They are fetched once and cached; Rejected fetches them
// again. During a rotation the database may already have the new password (stage AWSPENDING)
// while AWSCURRENT still holds the old one, so when a fresh AWSCURRENT is the password just
// refused, AWSPENDING is tried.
type Credentials struct {
	client Getter
	arn    string
	// MinRefresh keeps a burst of rejected connections from fetching the secret once each.
	MinRefresh time.Duration

	mu       sync.Mutex
	user     string
	password string
	fetched  time.Time
}

// New returns credentials read from the secret arn through client.
func New(client Getter, arn string) *Credentials {
	return &Credentials{client: client, arn: arn, MinRefresh: 100 * time.Millisecond}
}

// NewFromEnvironment uses the default AWS configuration (the task role on ECS). The
// AWS_ENDPOINT_URL_SECRETS_MANAGER variable points it elsewhere (a VPC endpoint, or a test).
func NewFromEnvironment(ctx context.Context, arn string) (*Credentials, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return New(secretsmanager.NewFromConfig(cfg), arn), nil
}

type secretValue struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (c *Credentials) fetch(ctx context.Context, stage string) (secretValue, error) {
	out, err := c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.arn), VersionStage: aws.String(stage)})
	if err != nil {
		return secretValue{}, fmt.Errorf("read secret %s (%s): %w", c.arn, stage, err)
	}
	if out.SecretString == nil {
		return secretValue{}, fmt.Errorf("secret %s (%s) has no string value", c.arn, stage)
	}
	var v secretValue
	if err := json.Unmarshal([]byte(*out.SecretString), &v); err != nil || v.Password == "" {
		return secretValue{}, fmt.Errorf("secret %s (%s) is not JSON with a password field", c.arn, stage)
	}
	return v, nil
}

// Current returns the cached credentials, fetching them the first time.
func (c *Credentials) Current(ctx context.Context) (string, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.password == "" {
		v, err := c.fetch(ctx, "AWSCURRENT")
		if err != nil {
			return "", "", err
		}
		c.user, c.password, c.fetched = v.Username, v.Password, time.Now()
	}
	return c.user, c.password, nil
}

// Rejected fetches the credentials again after the database refused the password refused
// ("" when the caller cannot tell, which means the cached one). A refusal of a password that is
// no longer cached is stale news: another connection already moved on (during a rotation, to
// AWSPENDING), and fetching again would turn the cache back to the old AWSCURRENT.
func (c *Credentials) Rejected(ctx context.Context, refused string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.password != "" && refused != "" && refused != c.password {
		return nil
	}
	if time.Since(c.fetched) < c.MinRefresh && c.password != "" {
		return nil // another connection just refreshed them
	}
	refused = c.password
	v, err := c.fetch(ctx, "AWSCURRENT")
	if err != nil {
		return err
	}
	if v.Password == refused {
		pending, err := c.fetch(ctx, "AWSPENDING")
		var notFound *types.ResourceNotFoundException
		switch {
		case err == nil:
			v = pending
		case errors.As(err, &notFound):
			// No rotation in progress: the password really is wrong; keep AWSCURRENT.
		default:
			return err
		}
	}
	c.user, c.password, c.fetched = v.Username, v.Password, time.Now()
	return nil
}
