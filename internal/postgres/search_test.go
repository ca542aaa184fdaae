package postgres_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/catalog/internal/catalog"
	"github.com/acme/catalog/internal/pgtest"
	"github.com/acme/catalog/internal/postgres"
)

// TestStopWordsMatchPostgres holds catalog.StopWords to the list PostgreSQL's english
// configuration drops: a word PostgreSQL drops but the service keeps would find nothing here
// and products in the embedded store; a word the service drops but PostgreSQL keeps could not
// be searched for at all.
func TestStopWordsMatchPostgres(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ours := strings.Fields(catalog.StopWords)
	var kept []string
	err = s.Pool().QueryRow(ctx, `SELECT coalesce(array_agg(w), '{}') FROM unnest($1::text[]) w
		WHERE to_tsvector('catalog_english', w) <> ''::tsvector`, ours).Scan(&kept)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) > 0 {
		t.Errorf("PostgreSQL searches for these words the service drops: %v", kept)
	}

	out, err := exec.Command("pg_config", "--sharedir").Output()
	if err != nil {
		t.Fatalf("pg_config: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "tsearch_data", "english.stop"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.Fields(string(data))
	slices.Sort(theirs)
	slices.Sort(ours)
	if !slices.Equal(slices.Compact(theirs), slices.Compact(ours)) {
		t.Errorf("english.stop has %d words, catalog.StopWords %d: keep them equal", len(theirs), len(ours))
	}
}
