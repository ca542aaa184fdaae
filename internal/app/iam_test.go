package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// selfSigned returns a throw-away server certificate for 127.0.0.1 (sslmode=require encrypts
// without verifying, as the IAM path needs at least).
func selfSigned(t *testing.T) *pgtest.TLSFiles {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return &pgtest.TLSFiles{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})}
}

type recordingTokens struct {
	mu    sync.Mutex
	token string
	calls []string
}

func (r *recordingTokens) AuthToken(_ context.Context, endpoint, user string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, endpoint+" "+user)
	return r.token, nil
}

// TestServeWithIAMTokens is the AWS set-up end to end, with a token source standing in for the
// SDK: `catalog migrate` as the owner makes the app role (its password standing in for what
// rds_iam checks), then the service starts from DB_HOST, DB_USER, DB_SSLMODE=require and
// DB_IAM_AUTH=true with MIGRATE_ON_START=false, and its connections sign in with the token
// made for host:port and the app role, over TLS.
func TestServeWithIAMTokens(t *testing.T) {
	c, err := pgtest.StartWith(pgtest.Options{TLS: selfSigned(t)})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Exec(ctx, "CREATE DATABASE catalog"); err != nil {
		t.Fatal(err)
	}
	const role, token = "catalog_iam_app", "tok-1"
	rep, err := Migrate(ctx, testConfig(t, map[string]string{"DATABASE_URL": pgtest.WithDatabase(c.AdminURL, "catalog"),
		"DB_APP_ROLE": role, "DB_APP_ROLE_PASSWORD": token}), nil)
	if err != nil || rep.AppRole == nil || !rep.AppRole.Created {
		t.Fatalf("Migrate = %+v, %v; want the app role created", rep, err)
	}

	cfg := testConfig(t, map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": strconv.Itoa(c.TCPPort), "DB_USER": role,
		"DB_SSLMODE": "require", "DB_IAM_AUTH": "true", "MIGRATE_ON_START": "false"})
	tokens := &recordingTokens{token: token}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(ctx, cfg, Options{Listener: ln, AuthTokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("not ready within 30s")
	}
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	if got := get(t, hc, "http://"+a.Addr().String()+"/products?limit=1"); got != 200 {
		t.Fatalf("GET /products as the app role with IAM tokens = %d, want 200", got)
	}
	tokens.mu.Lock()
	calls := append([]string(nil), tokens.calls...)
	tokens.mu.Unlock()
	want := "127.0.0.1:" + strconv.Itoa(c.TCPPort) + " " + role
	if len(calls) == 0 || calls[0] != want {
		t.Fatalf("the token source was asked for %q, want %q first", calls, want)
	}
	a.mu.Lock()
	store := a.owned.(*postgres.Store)
	a.mu.Unlock()
	var ssl bool
	var user string
	if err := store.Pool().QueryRow(ctx, "SELECT ssl, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &user); err != nil || !ssl || user != role {
		t.Fatalf("the connection: TLS %v as %q (%v), want TLS as %s", ssl, user, err, role)
	}
}

// TestMigrateEmbedded: on the embedded store, Migrate migrates the file and loads no sample.
func TestMigrateEmbedded(t *testing.T) {
	cfg := testConfig(t, nil)
	rep, err := Migrate(context.Background(), cfg, nil)
	if err != nil || rep.Store != "sqlite" || rep.AppRole != nil {
		t.Fatalf("Migrate(embedded) = %+v, %v", rep, err)
	}
	s, err := OpenStore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if empty, err := s.Empty(context.Background()); err != nil || !empty {
		t.Fatalf("after Migrate the embedded store is empty=%v (%v), want empty", empty, err)
	}
}
