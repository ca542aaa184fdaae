package postgres_test

import (
	"context"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestEventSource: EVENT_SOURCE reaches every event the feed returns.
func TestEventSource(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{EventSource: "com.acme.catalog"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: "src", Name: "S"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.Events(ctx, catalog.EventQuery{})
	if err != nil || len(page.Events) == 0 {
		t.Fatalf("Events = %v, %v", page.Events, err)
	}
	for _, e := range page.Events {
		if e.Source != "com.acme.catalog" {
			t.Fatalf("event %s has source %q", e.Sequence, e.Source)
		}
	}
}
