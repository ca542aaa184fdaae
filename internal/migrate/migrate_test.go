package migrate

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_more.sql":   {Data: []byte("CREATE TABLE b (x int);")},
		"0001_init.sql":   {Data: []byte("CREATE TABLE a (x int);")},
		"README.md":       {Data: []byte("not a migration")},
		"embed.go.txt":    {Data: []byte("ignored")},
		"nested/0003.sql": {Data: []byte("ignored: not in the root")},
	}
	ms, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].Name != "init" || ms[1].Version != 2 {
		t.Fatalf("Load = %+v, want versions 1 init, 2 more", ms)
	}
	if len(ms[0].Checksum) != 64 || ms[0].Checksum == ms[1].Checksum {
		t.Errorf("checksums %q %q: want distinct sha256 hex", ms[0].Checksum, ms[1].Checksum)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"0001_a.sql": {}, "0003_c.sql": {}},
		"repeat":   {"0001_a.sql": {}, "0001_b.sql": {}},
		"bad name": {"1_a.sql": {}},
		"empty":    {},
		"no one":   {"0002_b.sql": {}},
	} {
		if _, err := Load(fsys); err == nil {
			t.Errorf("Load(%s) = nil error, want one", name)
		}
	}
}

func TestPlan(t *testing.T) {
	known := []Migration{{Version: 1, Name: "a", Checksum: "x1"}, {Version: 2, Name: "b", Checksum: "x2"}, {Version: 3, Name: "c", Checksum: "x3"}}

	pending, ahead, err := Plan(known, []Applied{{1, "x1"}})
	if err != nil || len(pending) != 2 || pending[0].Version != 2 || len(ahead) != 0 {
		t.Errorf("Plan(applied 1) = %v, %v, %v; want 2,3 pending", pending, ahead, err)
	}
	pending, ahead, err = Plan(known, []Applied{{1, "x1"}, {2, "x2"}, {3, "x3"}, {4, "x4"}})
	if err != nil || len(pending) != 0 || len(ahead) != 1 || ahead[0] != 4 {
		t.Errorf("Plan(database ahead) = %v, %v, %v; want nothing pending, 4 ahead", pending, ahead, err)
	}
	_, _, err = Plan(known, []Applied{{1, "edited"}})
	var changed *ChangedError
	if !errors.As(err, &changed) || changed.Version != 1 || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Errorf("Plan(edited migration) error = %v, want a *ChangedError for version 1", err)
	}
}
