package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestIdleFeedReadWritesNothing: a feed read with nothing to number takes no lock on the
// sequencer's row (its xmax stays), so pollers of an idle catalog (the relay, webhook
// workers, consumers) write nothing; a read after a write still numbers the new event.
func TestIdleFeedReadWritesNothing(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	xmax := func() string {
		t.Helper()
		var x string
		if err := conn.QueryRow(ctx, `SELECT xmax::text FROM event_state`).Scan(&x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	read := func() catalog.EventPage {
		t.Helper()
		page, err := s.Events(ctx, catalog.EventQuery{After: 0, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "idle", Name: "Idle"}); err != nil {
		t.Fatal(err)
	}
	if n := len(read().Events); n != 1 {
		t.Fatalf("%d events after one write, want 1", n)
	}
	locked := xmax()
	for range 3 {
		read()
	}
	if got := xmax(); got != locked {
		t.Fatalf("event_state's xmax moved from %s to %s over three idle feed reads: they locked the row", locked, got)
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "busy", Name: "Busy"}); err != nil {
		t.Fatal(err)
	}
	if n := len(read().Events); n != 2 {
		t.Fatalf("%d events after two writes, want 2", n)
	}
	if got := xmax(); got == locked {
		t.Fatal("the feed read after a write did not take the sequencer's lock")
	}
}
