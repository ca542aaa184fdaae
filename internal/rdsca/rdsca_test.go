package rdsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestPoolFrom(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test RDS CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if _, err := poolFrom(fstest.MapFS{"certs/global-bundle.pem": {Data: pemBytes}, "certs/README.md": {Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := poolFrom(fstest.MapFS{"certs/README.md": {Data: []byte("x")}}); err == nil || !strings.Contains(err.Error(), "DB_SSLROOTCERT") {
		t.Fatalf("no bundle: %v", err)
	}
	if _, err := poolFrom(fstest.MapFS{"certs/bad.pem": {Data: []byte("not a cert")}}); err == nil {
		t.Fatal("a bad PEM file was accepted")
	}
}
