package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/sqlite"
)

// TestEventSource: EVENT_SOURCE reaches every event the feed returns, including those recorded
// before it was set (the source is stamped at read time, not stored).
func TestEventSource(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	for i, source := range []string{"", "com.acme.catalog"} {
		s, err := sqlite.Open(ctx, path, sqlite.Options{EventSource: source})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCategory(ctx, catalog.CategoryInput{Slug: fmt.Sprintf("src-%d", i), Name: "S"}); err != nil {
			t.Fatal(err)
		}
		page, err := s.Events(ctx, catalog.EventQuery{})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := source
		if want == "" {
			want = catalog.DefaultEventSource
		}
		for _, e := range page.Events {
			if e.Source != want {
				t.Fatalf("EventSource %q: event %s has source %q, want %q", source, e.Sequence, e.Source, want)
			}
		}
		if len(page.Events) == 0 {
			t.Fatal("no events")
		}
	}
}
