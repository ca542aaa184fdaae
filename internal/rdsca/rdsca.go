// Package rdsca holds the Amazon RDS certificate authorities the binary embeds, so verify-full
// TLS to Aurora needs no file in the container.
package rdsca

import (
	"crypto/x509"
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed certs
var certs embed.FS

// Pool returns the embedded CA certificates, or an error when the binary was built without
// the bundle (see certs/README.md).
func Pool() (*x509.CertPool, error) { return poolFrom(certs) }

func poolFrom(fsys fs.FS) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pem") {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		if !pool.AppendCertsFromPEM(b) {
			return fmt.Errorf("%s holds no PEM certificate", path)
		}
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("this binary was built without the Amazon RDS CA bundle (internal/rdsca/certs/global-bundle.pem); rebuild with it or set DB_SSLROOTCERT to a PEM file")
	}
	return pool, nil
}
