package migrate

import (
	"testing"
	"testing/fstest"
)

func TestBridgeGap(t *testing.T) {
	gap := fstest.MapFS{
		"0001_a.sql":           {Data: []byte("a")},
		"0003_collections.sql": {Data: []byte("c")},
	}
	ms, err := Load(BridgeGap(gap, 2, "0003_collections.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[1].Version != 2 || ms[1].Name != "collections" || ms[1].SQL != "c" {
		t.Fatalf("bridged = %+v, want 0003_collections shown as version 2", ms)
	}
	// Once the missing number arrives, nothing is renamed.
	gap["0002_variants.sql"] = &fstest.MapFile{Data: []byte("v")}
	ms, err = Load(BridgeGap(gap, 2, "0003_collections.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[1].Name != "variants" || ms[2].Version != 3 || ms[2].Name != "collections" {
		t.Fatalf("with no gap = %+v, want 1 a, 2 variants, 3 collections", ms)
	}
}
