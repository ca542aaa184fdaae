package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/pgtest"
)

// TestReplicaStreams: a row written on the primary appears on the replica; paused, the replica
// does not see the next one until resumed; the replica refuses writes.
func TestReplicaStreams(t *testing.T) {
	r := pgtest.StartReplica(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u := pgtest.URL(t)
	w, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	if _, err := w.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := pgx.Connect(ctx, r.URL(u))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close(ctx)
	count := func() int {
		t.Helper()
		var n int
		if err := rc.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("replica rows = %d, want 1", n)
	}
	if err := r.PauseReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past wal_writer_delay: the WAL has been sent
	if n := count(); n != 1 {
		t.Fatalf("paused replica rows = %d, want 1", n)
	}
	if err := r.ResumeReplay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("resumed replica rows = %d, want 2", n)
	}
	if _, err := rc.Exec(ctx, "INSERT INTO t VALUES (3)"); err == nil {
		t.Fatal("the replica accepted a write")
	}
}
