package config

import (
	"strings"
	"testing"
	"time"
)

// TestReaderSettings: DATABASE_READER_URL goes with DATABASE_URL, DB_READER_HOST with DB_HOST;
// DB_READER_MAX_LAG defaults to 1s, 0 turns replica reads off, and is bounded.
func TestReaderSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://w/db", "DATABASE_READER_URL": "postgres://r/db"}))
	if err != nil || c.ReaderURL != "postgres://r/db" || c.DBReaderMaxLag != time.Second {
		t.Fatalf("Load = %q, %v, %v; want the reader URL and a 1s bound", c.ReaderURL, c.DBReaderMaxLag, err)
	}
	c, err = Load(env(map[string]string{"DATABASE_URL": "postgres://w/db", "DATABASE_READER_URL": "postgres://r/db", "DB_READER_MAX_LAG": "0"}))
	if err != nil || c.ReaderURL != "" {
		t.Fatalf("DB_READER_MAX_LAG=0: reader %q, %v; want replica reads off", c.ReaderURL, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"DATABASE_READER_URL": "postgres://r/db"}, "DATABASE_READER_URL"},
		{map[string]string{"DB_HOST": "w", "DB_USER": "u", "DATABASE_READER_URL": "postgres://r/db"}, "DATABASE_READER_URL"},
		{map[string]string{"DATABASE_URL": "postgres://w/db", "DB_READER_MAX_LAG": "31s"}, "DB_READER_MAX_LAG"},
		{map[string]string{"DATABASE_URL": "postgres://w/db", "DB_READER_MAX_LAG": "-1s"}, "DB_READER_MAX_LAG"},
		{map[string]string{"DATABASE_URL": "postgres://u@w/db?sslmode=verify-full", "DB_IAM_AUTH": "true",
			"DATABASE_READER_URL": "postgres://u:secret@r/db?sslmode=verify-full"}, "DATABASE_READER_URL"},
	} {
		if _, err := Load(env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("Load(%v) = %v, want an error naming %s", tc.env, err, tc.name)
		}
	}
}
