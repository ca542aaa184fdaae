// Package migrate reads numbered SQL migrations embedded in the binary and decides which of them
// a database still needs. The stores apply them, each in its own transaction, and record every
// applied migration with a checksum so a migration edited after release is caught at start-up.
package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
)

// Migration is one numbered schema change.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string
}

// Applied is a migration a database has recorded.
type Applied struct {
	Version  int
	Checksum string
}

var fileRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations in the root of fsys. Files are named NNNN_name.sql; versions start at
// 1 and have no gaps, so two branches adding the same number collide loudly.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration versions must run 1, 2, 3... without gaps or repeats; found %04d_%s at position %d", m.Version, m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations found")
	}
	return ms, nil
}

// ChangedError says an applied migration's checksum differs from the embedded one. No retry
// fixes it, so a service waiting for its database gives up at once (see errors.As).
type ChangedError struct {
	Version           int
	Name              string
	Checksum, Applied string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("migration %04d_%s was changed after it was applied (checksum %.12s, database has %.12s): add a new migration instead of editing an applied one", e.Version, e.Name, e.Checksum, e.Applied)
}

// Plan returns the migrations still to apply, in order. It fails when an applied migration's
// checksum differs from the embedded one: the database's schema is not what this binary expects.
// Applied versions this binary does not know (a newer release migrated the database) are
// returned in ahead and are not an error, so an older task keeps running during a rolling deploy.
func Plan(known []Migration, applied []Applied) (pending []Migration, ahead []int, err error) {
	done := make(map[int]string, len(applied))
	for _, a := range applied {
		done[a.Version] = a.Checksum
	}
	for _, m := range known {
		sum, ok := done[m.Version]
		switch {
		case !ok:
			pending = append(pending, m)
		case sum != m.Checksum:
			return nil, nil, &ChangedError{Version: m.Version, Name: m.Name, Checksum: m.Checksum, Applied: sum}
		}
		delete(done, m.Version)
	}
	for v := range done {
		ahead = append(ahead, v)
	}
	slices.Sort(ahead)
	return pending, ahead, nil
}
