package importer

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
)

// spoolFile writes name in dir, last modified age ago.
func spoolFile(t *testing.T, dir, name string, age time.Duration) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
	return path
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestSweepOrphans: what the sweep removes and what it must leave. A spool another process
// holds is simulated by a second open file holding the shared lock: flock(2) locks belong to
// the open file, so this process's own exclusive attempt is refused exactly as another's.
func TestSweepOrphans(t *testing.T) {
	dir := t.TempDir()
	old := 2 * orphanMinAge
	orphan := spoolFile(t, dir, spoolPrefix+"1", old)
	orphanParsed := spoolFile(t, dir, spoolPrefix+"1"+parsedSuffix, old)
	held := spoolFile(t, dir, spoolPrefix+"2", old)
	heldParsed := spoolFile(t, dir, spoolPrefix+"2"+parsedSuffix, old)
	young := spoolFile(t, dir, spoolPrefix+"3", orphanMinAge/2) // just created, lock not taken yet
	strayParsed := spoolFile(t, dir, spoolPrefix+"4"+parsedSuffix, old)
	youngParsed := spoolFile(t, dir, spoolPrefix+"5"+parsedSuffix, orphanMinAge/2)
	other := spoolFile(t, dir, "catalog.db", old)
	lock, err := lockSpool(held)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.close()

	files, bytes := sweepOrphans(dir, orphanMinAge, time.Now(), slog.New(slog.DiscardHandler))

	for _, path := range []string{orphan, orphanParsed, strayParsed} {
		if exists(path) {
			t.Errorf("%s: kept, want removed (abandoned)", filepath.Base(path))
		}
	}
	for _, path := range []string{held, heldParsed, young, youngParsed, other} {
		if !exists(path) {
			t.Errorf("%s: removed, want kept", filepath.Base(path))
		}
	}
	if files != 3 || bytes != 9 {
		t.Errorf("sweep reported %d files, %d bytes; want 3, 9", files, bytes)
	}
	// Once its holder lets go (the process ended), the held spool is an orphan too.
	lock.close()
	if files, _ := sweepOrphans(dir, orphanMinAge, time.Now(), slog.New(slog.DiscardHandler)); files != 2 || exists(held) || exists(heldParsed) {
		t.Errorf("after the holder let go: %d files removed, held kept %t, its parsed copy kept %t; want 2, false, false", files, exists(held), exists(heldParsed))
	}
}

// TestSweepMissingDir: a directory that cannot be read is logged and skipped, not fatal.
func TestSweepMissingDir(t *testing.T) {
	if files, _ := sweepOrphans(filepath.Join(t.TempDir(), "gone"), 0, time.Now(), slog.New(slog.DiscardHandler)); files != 0 {
		t.Fatalf("removed %d files from a missing directory", files)
	}
}

// waiting is a store whose imports wait until released: a job in flight while a second
// instance starts on the same directory.
type waiting struct {
	catalog.Store
	entered, release chan struct{}
}

func (s *waiting) UpsertProducts(ctx context.Context, items []catalog.ImportItem, dry bool) (catalog.ImportResult, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.UpsertProducts(ctx, items, dry)
}

// TestSpoolHeldWhileJobRuns: a job's spools stay locked from upload to their removal, so a
// second instance starting on the same directory (its sweep allowed to take any file, however
// young) removes nothing of a running job; at the end no file is left.
func TestSpoolHeldWhileJobRuns(t *testing.T) {
	ctx := context.Background()
	base, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	if _, err := base.CreateCategory(ctx, catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	s := &waiting{Store: base, entered: make(chan struct{}, 8), release: make(chan struct{})}
	dir := t.TempDir()
	r := New(s, Config{Dir: dir})
	r.Start(ctx)
	defer r.Stop(ctx)
	release := sync.OnceFunc(func() { close(s.release) })
	defer release() // before Stop, so a failing test ends rather than waits
	body := `{"name":"A","category":"misc","status":"active","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":100}]}]}` + "\n"
	job, _, err := r.Submit(ctx, Upload{Format: bulk.JSONL, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	<-s.entered // the validation pass's dry run: the upload and its parsed copy exist
	before, _ := os.ReadDir(dir)
	if files, _ := sweepOrphans(dir, 0, time.Now().Add(time.Hour), slog.New(slog.DiscardHandler)); files != 0 {
		t.Fatalf("a second instance's sweep removed %d files of a running job", files)
	}
	if len(before) == 0 {
		t.Fatal("no spool while the job runs")
	}
	release()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		j, err := base.ImportJob(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Finished() {
			if j.State != catalog.ImportSucceeded || j.Created != 1 {
				t.Fatalf("job %s, created %d: want succeeded, 1 (%s)", j.State, j.Created, j.Reason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job did not finish")
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left after the job: %v", len(left), left)
	}
}
