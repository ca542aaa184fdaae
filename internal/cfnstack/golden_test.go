package cfnstack

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite deploy/cloudformation/catalog.json from the builder")

// goldenPath is the committed template, which is its own golden file.
var goldenPath = filepath.Join("..", "..", "deploy", "cloudformation", "catalog.json")

func build(tb testing.TB) []byte {
	tb.Helper()
	tpl, err := Build(Options{})
	if err != nil {
		tb.Fatalf("Build(Options{}) = %v", err)
	}
	b, err := tpl.JSON()
	if err != nil {
		tb.Fatalf("encoding the template: %v", err)
	}
	return b
}

func TestCommittedTemplateIsCurrent(t *testing.T) {
	got := build(t)
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("reading the committed template: %v (create it with: go test ./internal/cfnstack -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s is stale; these differ from the builder: %s\nrefresh it with: go test ./internal/cfnstack -update",
		goldenPath, strings.Join(diffIDs(t, got, want), ", "))
}

// diffIDs names the top-level entries (resources, parameters, outputs, ...) that differ
// between two templates, as "Section.LogicalID".
func diffIDs(tb testing.TB, a, b []byte) []string {
	tb.Helper()
	var da, db map[string]any
	if err := json.Unmarshal(a, &da); err != nil {
		tb.Fatalf("generated template is not JSON: %v", err)
	}
	if err := json.Unmarshal(b, &db); err != nil {
		return []string{"(the committed file is not JSON)"}
	}
	var out []string
	for _, section := range union(da, db) {
		ma, okA := da[section].(map[string]any)
		mb, okB := db[section].(map[string]any)
		if !okA || !okB {
			if !reflect.DeepEqual(da[section], db[section]) {
				out = append(out, section)
			}
			continue
		}
		for _, id := range union(ma, mb) {
			if !reflect.DeepEqual(ma[id], mb[id]) {
				out = append(out, section+"."+id)
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "(formatting only)")
	}
	return out
}

func union(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestBuildIsDeterministic(t *testing.T) {
	if a, b := build(t), build(t); !bytes.Equal(a, b) {
		t.Errorf("two builds differ in: %s", strings.Join(diffIDs(t, a, b), ", "))
	}
}

func TestDiffIDsNamesTheDrift(t *testing.T) {
	a := []byte(`{"Resources":{"A":{"Type":"x"},"B":{"Type":"y"}},"Outputs":{"O":{"Value":1}}}`)
	b := []byte(`{"Resources":{"A":{"Type":"x"},"B":{"Type":"z"}},"Outputs":{}}`)
	got := diffIDs(t, a, b)
	want := []string{"Outputs.O", "Resources.B"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diffIDs = %q, want %q", got, want)
	}
}

func TestBuildRejectsUnknownEnvironment(t *testing.T) {
	if _, err := Build(Options{DefaultEnvironment: "qa"}); err == nil {
		t.Error(`Build(Options{DefaultEnvironment: "qa"}) = nil error, want one`)
	}
}
