// Package rdsiam signs RDS IAM database authentication tokens: the password of a connection
// as a database user granted rds_iam, made locally (Signature Version 4, no network call) from
// the default AWS credential chain, which on ECS is the task role. A token is valid for 15
// minutes and is checked only when a connection is made
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.html).
package rdsiam

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
)

// Tokens signs authentication tokens for one region with one credentials provider. It
// implements postgres.TokenSource.
type Tokens struct {
	region string
	creds  aws.CredentialsProvider
}

// New returns a token signer for region with creds.
func New(region string, creds aws.CredentialsProvider) (*Tokens, error) {
	if region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (ECS sets it in every task)")
	}
	if creds == nil {
		return nil, errors.New("no AWS credentials provider")
	}
	return &Tokens{region: region, creds: creds}, nil
}

// NewFromEnvironment uses the default configuration: the region from AWS_REGION, credentials
// from the default chain (the ECS task role in AWS), cached and refreshed before they expire.
func NewFromEnvironment(ctx context.Context) (*Tokens, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return New(cfg.Region, cfg.Credentials)
}

// AuthToken returns a token that lets user connect to endpoint (host:port) for 15 minutes.
func (t *Tokens) AuthToken(ctx context.Context, endpoint, user string) (string, error) {
	tok, err := auth.BuildAuthToken(ctx, endpoint, t.region, user, t.creds)
	if err != nil {
		return "", fmt.Errorf("sign an IAM authentication token for %s at %s: %w", user, endpoint, err)
	}
	return tok, nil
}
