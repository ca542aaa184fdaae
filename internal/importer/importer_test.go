package importer_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/catalog/internal/bulk"
	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/importer"
	"github.com/acme/catalog/internal/sqlite"
)

func open(t *testing.T) catalog.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCategory(context.Background(), catalog.CategoryInput{Slug: "misc", Name: "Misc"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// stuck is a store whose upserts wait until their context ends: a job caught mid-batch.
type stuck struct {
	catalog.Store
	entered chan struct{}
}

func (s *stuck) UpsertProducts(ctx context.Context, _ []catalog.ImportItem, _ bool) (catalog.ImportResult, error) {
	s.entered <- struct{}{}
	<-ctx.Done()
	return catalog.ImportResult{}, ctx.Err()
}

func wait(t *testing.T, s catalog.Store, id string) catalog.ImportJob {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		j, err := s.ImportJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Finished() {
			return j
		}
	}
	t.Fatalf("job %s did not finish", id)
	return catalog.ImportJob{}
}

const line = `{"name":"A","category":"misc","status":"active","variants":[{"sku":"A-1","prices":[{"currency":"USD","amount":100}]}]}` + "\n"

// TestStopFailsHeldJobs: a stopping instance fails the job it is applying and the ones waiting,
// with a reason, at once: none stays running.
func TestStopFailsHeldJobs(t *testing.T) {
	base := open(t)
	s := &stuck{Store: base, entered: make(chan struct{}, 1)}
	r := importer.New(s, importer.Config{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	running, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Body: strings.NewReader(line)})
	if err != nil {
		t.Fatal(err)
	}
	<-s.entered
	waiting, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Body: strings.NewReader(line + line)})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := r.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{running.ID, waiting.ID} {
		j := wait(t, base, id)
		if j.State != catalog.ImportFailed || !strings.Contains(j.Reason, "interrupted") {
			t.Errorf("job %s = %s (%q), want failed as interrupted", id, j.State, j.Reason)
		}
	}
}

// TestStaleJobsFail: a job whose instance vanished (its heartbeat stands still) is failed by
// another instance's sweep.
func TestStaleJobsFail(t *testing.T) {
	s := open(t)
	orphan, _, err := s.CreateImportJob(context.Background(), catalog.ImportJobInput{Format: "jsonl", Digest: "x"})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	r := importer.New(s, importer.Config{Dir: t.TempDir(), StaleAfter: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	defer func() { cancel(); _ = r.Stop(context.Background()) }()
	j := wait(t, s, orphan.ID)
	if j.State != catalog.ImportFailed || !strings.Contains(j.Reason, "the instance applying it stopped") {
		t.Fatalf("orphan = %+v", j)
	}
	// A job this instance holds keeps its heartbeat: it is not failed while it runs.
	done, _, err := r.Submit(context.Background(), importer.Upload{Format: bulk.JSONL, Body: strings.NewReader(line)})
	if err != nil {
		t.Fatal(err)
	}
	if j := wait(t, s, done.ID); j.State != catalog.ImportSucceeded || j.Created != 1 {
		t.Fatalf("held job = %+v", j)
	}
}
