package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestFeedWaitsForEarlierTransaction is ADR 0014's case, made deterministic: transaction A
// writes an event first (taking the lower identity) and stays open; B writes after it and
// commits. A feed that ordered by the identity, or filtered only by B's xid, would hand out B
// and then skip A. The feed must hold B back until A ends, then give A before B.
func TestFeedWaitsForEarlierTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	a, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, `INSERT INTO events (id, type, subject, actor, at) VALUES ($1, 'catalog.category.created', 'categories/a', 'test', now())`,
		catalog.NewID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "b", Name: "B"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 {
		t.Fatalf("while A runs the feed gave %s %s: a later poll would then skip A's event", page.Events[0].Type, page.Events[0].Subject)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err = s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Events[0].Subject != "categories/a" || page.Events[1].Subject != "categories/b" {
		t.Fatalf("after A committed the feed gave %+v, want A's event then B's", page.Events)
	}
}

// TestFeedOlderXidCommitsFirst is the case that defeats "identity order below the xmin
// horizon": B takes its xid first, A then inserts its event (the lower identity), B inserts
// its event and commits while A runs. B's event must be given (it committed), and A's must
// still come after it once A commits, not be skipped for having the lower identity.
func TestFeedOlderXidCommitsFirst(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	insert := `INSERT INTO events (id, type, subject, actor, at) VALUES ($1, 'catalog.category.created', $2, 'test', now())`

	b, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback(ctx)
	if _, err := b.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // B's xid, before A's
		t.Fatal(err)
	}
	a, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx)
	if _, err := a.Exec(ctx, insert, catalog.NewID(), "categories/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, insert, catalog.NewID(), "categories/b"); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Subject != "categories/b" {
		t.Fatalf("with A running the feed gave %+v, want B's event", page.Events)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	next, err := s.Events(ctx, catalog.EventQuery{After: page.Next, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Events) != 1 || next.Events[0].Subject != "categories/a" {
		t.Fatalf("following from %d after A committed gave %+v, want A's event", page.Next, next.Events)
	}
}
