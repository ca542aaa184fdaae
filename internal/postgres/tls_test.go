package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func (ca testCA) serverCert(t *testing.T, host string) *pgtest.TLSFiles {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return &pgtest.TLSFiles{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})}
}

// TestVerifyFullTLS connects over TLS the way the service connects to Aurora (verify-full):
// with the CA as a file, with the CA as an embedded pool, and refuses a server its CA did not
// sign or whose name does not match.
func TestVerifyFullTLS(t *testing.T) {
	ca := newCA(t, "Test CA")
	c, err := pgtest.StartWith(pgtest.Options{TLS: ca.serverCert(t, "localhost")})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Exec(ctx, "CREATE ROLE tls_app LOGIN PASSWORD 'tls-pw'"); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, ca.pem, 0o600)
	url := func(host, mode, root string) string {
		u := fmt.Sprintf("postgres://tls_app:tls-pw@%s:%d/postgres?sslmode=%s", host, c.TCPPort, mode)
		if root != "" {
			u += "&sslrootcert=" + root
		}
		return u
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	other := x509.NewCertPool()
	other.AppendCertsFromPEM(newCA(t, "Someone else").pem)

	for _, tc := range []struct {
		name    string
		url     string
		roots   *x509.CertPool
		wantErr bool
	}{
		{"CA file", url("localhost", "verify-full", caFile), nil, false},
		{"embedded pool", url("localhost", "verify-full", ""), pool, false},
		{"pool, verify-ca by IP", url("127.0.0.1", "verify-ca", ""), pool, false},
		{"another CA", url("localhost", "verify-full", ""), other, true},
		{"name mismatch", url("127.0.0.2", "verify-full", caFile), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(ctx, tc.url, postgres.Options{SkipMigrate: true, RootCAs: tc.roots})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Ping(ctx)
			switch {
			case tc.wantErr && err == nil:
				t.Fatal("connected to a server that should not be trusted")
			case tc.wantErr && catalog.ErrorCode(err) != catalog.CodeUnavailable:
				t.Fatalf("refusal is %v, want unavailable", err)
			case !tc.wantErr && err != nil:
				t.Fatal(err)
			}
			if !tc.wantErr {
				var ssl bool
				if err := s.Pool().QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
					t.Fatalf("connection is not TLS: %v %v", ssl, err)
				}
			}
		})
	}
	if _, err := postgres.Open(ctx, url("localhost", "disable", ""), postgres.Options{SkipMigrate: true, RootCAs: pool}); err == nil {
		t.Fatal("a CA pool with sslmode=disable was accepted silently")
	}
}
