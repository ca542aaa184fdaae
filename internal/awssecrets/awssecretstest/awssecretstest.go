// Package awssecretstest is an in-process stand-in for AWS Secrets Manager that serves one
// RDS-style database secret by version stage. The awssecrets tests use it through Client; the
// fault bench points the real binary at it through Env.
package awssecretstest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// ARN is the one secret the server holds; any other secret ID is not found.
const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-db-credentials-test"

// Server answers GetSecretValue as Secrets Manager's JSON protocol does.
type Server struct {
	// URL is the endpoint to give the SDK.
	URL string

	srv   *http.Server
	user  string
	reads atomic.Int64

	mu     sync.Mutex
	stages map[string]string // version stage -> password
	raw    *string           // when set, AWSCURRENT's SecretString as is (any secret, not RDS's)
}

// SetString makes AWSCURRENT hold s verbatim, for secrets other than RDS credentials (the API
// key document, for example); each call is a new version, as PutSecretValue makes.
func (s *Server) SetString(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = &v
}

// Start serves a secret whose AWSCURRENT version holds user and password, on a free port of
// 127.0.0.1.
func Start(user, password string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), user: user, stages: map[string]string{"AWSCURRENT": password}}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Reads counts the GetSecretValue calls answered so far, found or not.
func (s *Server) Reads() int64 { return s.reads.Load() }

// StagePending stores a new password as AWSPENDING, as a rotation's createSecret step does;
// AWSCURRENT keeps the old one until FinishRotation.
func (s *Server) StagePending(password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stages["AWSPENDING"] = password
}

// FinishRotation moves AWSCURRENT to the pending password and drops AWSPENDING, as a
// rotation's finishSecret step does. Without a pending password it changes nothing.
func (s *Server) FinishRotation() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pw, ok := s.stages["AWSPENDING"]; ok {
		s.stages["AWSCURRENT"] = pw
		delete(s.stages, "AWSPENDING")
	}
}

// Client returns a Secrets Manager client of this server, with static fake credentials.
func (s *Server) Client() *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// Env returns the environment that makes the AWS SDK's default configuration in another
// process use this server with fake static credentials, and no shared config or credentials
// file, instance metadata or real account it might otherwise find.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": s.URL,
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":            "secret",
		"AWS_CONFIG_FILE":                  "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":      "/dev/null",
		"AWS_EC2_METADATA_DISABLED":        "true",
	}
}

// ServeHTTP answers GetSecretValue for ARN by VersionStage (AWSCURRENT when none is given).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		http.Error(w, "unexpected call "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
		return
	}
	var in struct{ SecretId, VersionStage string }
	json.NewDecoder(r.Body).Decode(&in)
	if in.VersionStage == "" {
		in.VersionStage = "AWSCURRENT"
	}
	s.reads.Add(1)
	s.mu.Lock()
	pw, ok := s.stages[in.VersionStage]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if !ok || in.SecretId != ARN {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","Message":"no secret %s with stage %s"}`, in.SecretId, in.VersionStage)
		return
	}
	secret, _ := json.Marshal(map[string]string{"username": s.user, "password": pw, "engine": "postgres"})
	s.mu.Lock()
	if s.raw != nil && in.VersionStage == "AWSCURRENT" {
		secret = []byte(*s.raw)
	}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"ARN": ARN, "Name": "rds-db-credentials-test", "SecretString": string(secret),
		"VersionId": "v-" + pw, "VersionStages": []string{in.VersionStage}})
}
