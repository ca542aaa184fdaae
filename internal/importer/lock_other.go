//go:build !unix

package importer

import (
	"errors"
	"os"
)

// lockFile: no flock(2) here, so no spool is ever taken for abandoned (the sweep removes
// nothing) and the owner's lock is a no-op.
func lockFile(_ *os.File, exclusive bool) error {
	if exclusive {
		return errors.New("importer: file locks are not supported on this system")
	}
	return nil
}
