//go:build unix

package importer

import (
	"os"
	"syscall"
)

// lockFile takes f's lock without waiting: shared for the spool's owner, exclusive for the
// orphan sweep, which gets it only when no process holds the shared one. flock(2) locks
// belong to the open file and end with the process, however it ends.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	return syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
}
