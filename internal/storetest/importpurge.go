package storetest

import (
	"testing"
	"time"

	"github.com/acme/catalog/internal/catalog"
)

// testImportJobsPurged: finished jobs past their retention go, oldest first and at most limit
// per call; unfinished and younger ones stay; a purged job's idempotency key makes a new job.
func testImportJobsPurged(t *testing.T, s catalog.Store, clock *FakeClock) {
	c := catalog.WithActor(ctx(t), "apikey:bulk")
	finish := func(key string, state catalog.ImportState) catalog.ImportJob {
		j := must3(s.CreateImportJob(c, catalog.ImportJobInput{Format: "jsonl", IdempotencyKey: key, Digest: "d-" + key}))(t)
		if state != catalog.ImportQueued {
			j.State = state
			if err := s.SaveImportJob(c, j); err != nil {
				t.Fatal(err)
			}
		}
		return j
	}
	old1 := finish("old-1", catalog.ImportSucceeded)
	clock.Advance(time.Minute)
	old2 := finish("old-2", catalog.ImportFailed)
	running := finish("running", catalog.ImportRunning) // unfinished: never purged, however old
	clock.Advance(8 * 24 * time.Hour)
	young := finish("young", catalog.ImportSucceeded)

	if n := must(s.PurgeImportJobs(ctx(t), 7*24*time.Hour, 1))(t); n != 1 {
		t.Fatalf("first purge (limit 1) = %d, want 1", n)
	}
	if _, err := s.ImportJob(ctx(t), old1.ID); catalog.ErrorCode(err) != catalog.CodeNotFound {
		t.Errorf("the oldest finished job is still there after the first purge: %v", err)
	}
	if _, err := s.ImportJob(ctx(t), old2.ID); err != nil {
		t.Errorf("the second job went in the first purge (limit 1): %v", err)
	}
	if n := must(s.PurgeImportJobs(ctx(t), 7*24*time.Hour, 10))(t); n != 1 {
		t.Fatalf("second purge = %d, want 1 (old-2)", n)
	}
	if n := must(s.PurgeImportJobs(ctx(t), 7*24*time.Hour, 10))(t); n != 0 {
		t.Fatalf("third purge = %d, want 0", n)
	}
	for _, j := range []catalog.ImportJob{running, young} {
		if _, err := s.ImportJob(ctx(t), j.ID); err != nil {
			t.Errorf("job %s was purged: %v", j.IdempotencyKey, err)
		}
	}
	j, created, err := s.CreateImportJob(c, catalog.ImportJobInput{Format: "jsonl", IdempotencyKey: "old-1", Digest: "another file"})
	if err != nil || !created || j.ID == old1.ID {
		t.Errorf("key of a purged job = %s, created %v, %v; want a new job", j.ID, created, err)
	}
}
