package cfnstack

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var readmePath = filepath.Join("..", "..", "deploy", "cloudformation", "README.md")

// markdownTables renders the parameters and outputs tables of the README from the template.
func markdownTables(tb testing.TB) map[string]string {
	tb.Helper()
	tp := decoded(tb)
	cell := func(v any) string {
		s := fmt.Sprint(v)
		s = strings.ReplaceAll(s, "|", `\|`)
		return strings.ReplaceAll(s, "\n", " ")
	}
	var p strings.Builder
	p.WriteString("| Parameter | Type | Default | Constraint | Description |\n|---|---|---|---|---|\n")
	var names []string
	for n := range tp.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q := tp.Parameters[n]
		def := "(required)"
		if d, ok := q["Default"]; ok {
			def = "`" + cell(d) + "`"
			if d == "" {
				def = "empty"
			}
		}
		var cons []string
		if v, ok := q["AllowedValues"].([]any); ok {
			if len(v) > 8 {
				cons = append(cons, fmt.Sprintf("one of %d values (%v ... %v)", len(v), v[0], v[len(v)-1]))
			} else {
				var s []string
				for _, e := range v {
					s = append(s, fmt.Sprint(e))
				}
				cons = append(cons, "one of "+strings.Join(s, ", "))
			}
		}
		if v, ok := q["AllowedPattern"]; ok {
			cons = append(cons, "pattern `"+cell(v)+"`")
		}
		for _, k := range []string{"MinLength", "MaxLength", "MinValue", "MaxValue"} {
			if v, ok := q[k]; ok {
				if f, isNum := v.(float64); isNum {
					v = strconv.FormatFloat(f, 'f', -1, 64) // 3600000, not 3.6e+06
				}
				cons = append(cons, fmt.Sprintf("%s %v", k, v))
			}
		}
		fmt.Fprintf(&p, "| `%s` | %s | %s | %s | %s |\n", n, q["Type"], def, strings.Join(cons, "; "), cell(q["Description"]))
	}
	var o strings.Builder
	o.WriteString("| Output | Export name | Description |\n|---|---|---|\n")
	names = names[:0]
	for n := range tp.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&o, "| `%s` | `<stack name>-%s` | %s |\n", n, n, cell(tp.Outputs[n]["Description"]))
	}
	return map[string]string{"parameters": p.String(), "outputs": o.String()}
}

// TestReadmeTablesAreCurrent keeps the README's tables equal to the template; -update
// rewrites them between their markers.
func TestReadmeTablesAreCurrent(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, table := range markdownTables(t) {
		begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("README lacks the %q markers", name)
		}
		if doc[i+len(begin):j] == table {
			continue
		}
		if *update {
			doc = doc[:i+len(begin)] + table + doc[j:]
			continue
		}
		t.Errorf("README's %s table is stale; refresh it with: go test ./internal/cfnstack -update", name)
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadmeListsTheGuardSkips keeps the documented exceptions equal to validate.sh's list.
func TestReadmeListsTheGuardSkips(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	skips, err := os.ReadFile(filepath.Join("..", "..", "deploy", "cloudformation", "guard-skips.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(skips), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		n++
		id := strings.TrimSuffix(f[0], ".guard")
		if !strings.Contains(string(readme), id) {
			t.Errorf("README does not explain the skipped guard control %s", id)
		}
	}
	if n == 0 {
		t.Error("guard-skips.txt lists nothing; did its format change?")
	}
}
