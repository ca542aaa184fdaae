package importer

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// spoolPrefix names every file a Runner writes in its directory: the upload spool
// (spoolPrefix + random) and the validation pass's parsed copy (the same + parsedSuffix).
const (
	spoolPrefix  = "catalog-import-"
	parsedSuffix = ".parsed"
)

// orphanMinAge keeps the orphan sweep off a spool another instance has just created and not
// yet locked (the lock follows creation by a system call).
const orphanMinAge = time.Minute

// A spool is locked (shared) by the instance whose job it is, from its creation until it is
// removed, so an instance starting on the same directory can tell a spool whose instance
// crashed (no lock held: the kernel drops a dead process's locks) from one still in use.
// Without this, every crash mid-import left up to IMPORT_MAX_BYTES (1 GiB) on the disk, and
// its parsed copy beside it, for good. On Fargate the task's disk goes with the task; on a VM
// or a shared volume it does not.

// spoolLock holds a spool's lock; close releases it. A nil *spoolLock is valid (no lock).
type spoolLock struct{ f *os.File }

// lockSpool takes the shared lock on path for this instance.
func lockSpool(path string) (*spoolLock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f, false); err != nil {
		f.Close()
		return nil, err
	}
	return &spoolLock{f: f}, nil
}

func (l *spoolLock) close() {
	if l != nil {
		l.f.Close()
	}
}

// removeSpool removes a job's upload spool and then releases its lock (in that order, so the
// sweep never finds the file unlocked while its job still owns it).
func removeSpool(path string, l *spoolLock) {
	_ = os.Remove(path)
	l.close()
}

// sweepOrphans removes the spools in dir that no running instance holds, older than minAge,
// with their parsed copies, and parsed copies whose upload is gone. It returns the files
// removed and their bytes. A file it cannot lock or stat is left alone: the sweep only ever
// removes what is certainly abandoned.
func sweepOrphans(dir string, minAge time.Duration, now time.Time, log *slog.Logger) (files int, bytes int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("import spool sweep: directory not read", "dir", dir, "err", err)
		return 0, 0
	}
	remove := func(path string) {
		info, err := os.Lstat(path)
		if err != nil {
			return
		}
		if err := os.Remove(path); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				log.Warn("import spool sweep: not removed", "file", path, "err", err)
			}
			return
		}
		files++
		bytes += info.Size()
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, spoolPrefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < minAge {
			continue
		}
		path := filepath.Join(dir, name)
		if upload, ok := strings.CutSuffix(path, parsedSuffix); ok {
			// A parsed copy is written while its upload exists and removed before it.
			if _, err := os.Lstat(upload); errors.Is(err, fs.ErrNotExist) {
				remove(path)
			}
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		if lockFile(f, true) == nil {
			remove(path + parsedSuffix)
			remove(path)
		}
		f.Close()
	}
	if files > 0 {
		log.Info("import spools of stopped instances removed", "dir", dir, "files", files, "bytes", bytes)
	}
	return files, bytes
}
