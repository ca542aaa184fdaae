package access

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager call used; *secretsmanager.Client has it.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretSource keeps a Keyring in step with a Secrets Manager secret holding a SecretDocument,
// so a key added or revoked in AWS takes effect within one refresh interval, without a deploy.
type SecretSource struct {
	Client SecretGetter
	ARN    string
	Ring   *Keyring
	Log    *slog.Logger
}

// Load reads the secret once and installs its keys. A start-up with an unreadable secret fails
// rather than serving with no keys.
func (s *SecretSource) Load(ctx context.Context) error {
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
	if err != nil {
		return fmt.Errorf("read API key secret %s: %w", s.ARN, err)
	}
	if out.SecretString == nil {
		return fmt.Errorf("API key secret %s has no string value", s.ARN)
	}
	set, err := ParseSecret([]byte(*out.SecretString))
	if err != nil {
		return fmt.Errorf("API key secret %s: %w", s.ARN, err)
	}
	s.Ring.Store(set)
	return nil
}

// Run re-reads the secret every interval until ctx ends. A failed read or a bad document keeps
// the last good set and is logged: a Secrets Manager outage must not lock every client out.
func (s *SecretSource) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, min(interval, 10*time.Second))
		err := s.Load(rctx)
		cancel()
		if err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("API key refresh failed; keeping the last good keys", "err", err, "keys", s.Ring.Load().Len())
		}
	}
}
