package rdsiam

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestTokenShape checks the token against what RDS documents for IAM database authentication
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.IAMDBAuth.Connecting.html):
// a presigned "connect" request for the host, port and database user, signed for the rds-db
// service in the region, valid for 15 minutes, and used as the password without a scheme.
func TestTokenShape(t *testing.T) {
	tokens, err := New("eu-west-1", credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.AuthToken(context.Background(), "writer.cluster-x.eu-west-1.rds.amazonaws.com:5432", "catalog_app")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, "://") {
		t.Errorf("token %q carries a scheme", tok)
	}
	u, err := url.Parse("https://" + tok)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{"Action": "connect", "DBUser": "catalog_app", "X-Amz-Expires": "900",
		"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Security-Token": "session"} {
		if got := q.Get(k); got != want {
			t.Errorf("token %s = %q, want %q", k, got, want)
		}
	}
	if u.Host != "writer.cluster-x.eu-west-1.rds.amazonaws.com:5432" {
		t.Errorf("token host %q", u.Host)
	}
	if cred := q.Get("X-Amz-Credential"); !strings.HasSuffix(cred, "/eu-west-1/rds-db/aws4_request") || !strings.HasPrefix(cred, "AKIDEXAMPLE/") {
		t.Errorf("token credential scope %q, want AKIDEXAMPLE/<date>/eu-west-1/rds-db/aws4_request", cred)
	}
	if q.Get("X-Amz-Signature") == "" {
		t.Error("token is not signed")
	}
}

type failingCreds struct{}

func (failingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("no task role yet")
}

func TestTokenErrors(t *testing.T) {
	if _, err := New("", credentials.NewStaticCredentialsProvider("a", "b", "")); err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("New without a region = %v, want an error naming AWS_REGION", err)
	}
	tokens, err := New("eu-west-1", failingCreds{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.AuthToken(context.Background(), "h:5432", "app"); err == nil || !strings.Contains(err.Error(), "no task role yet") {
		t.Errorf("AuthToken with failing credentials = %v, want their error", err)
	}
	tokens, _ = New("eu-west-1", credentials.NewStaticCredentialsProvider("a", "b", ""))
	if _, err := tokens.AuthToken(context.Background(), "h", "app"); err == nil {
		t.Error("AuthToken without a port succeeded")
	}
}
