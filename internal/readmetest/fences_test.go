package readmetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fenceRE is a CommonMark code fence: up to three spaces, three or more backticks or tildes,
// then an info string (only an opening fence may have one).
var fenceRE = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")

// fences follows a Markdown document's code blocks a line at a time. A closing fence is the
// opener's character, at least as long, with nothing after it.
type fences struct {
	open     string // the open block's fence, "" outside one
	openLine int    // its line, 1-based
	line     int
}

// read takes the next line and reports whether it is code (a fence, or inside a block), and
// whether it is a fence with an info string ("```sh") that could close the open block: the
// sign of an opener whose block before it lost its closing fence, since CommonMark then reads
// it as code and the block swallows the prose up to the next bare fence.
func (f *fences) read(line string) (code, lostCloser bool) {
	f.line++
	m := fenceRE.FindStringSubmatch(line)
	if m == nil {
		return f.open != "", false
	}
	couldClose := f.open != "" && m[1][0] == f.open[0] && len(m[1]) >= len(f.open)
	switch {
	case f.open == "":
		f.open, f.openLine = m[1], f.line
	case couldClose && strings.TrimSpace(m[2]) == "":
		f.open = ""
	case couldClose:
		return true, true
	}
	return true, false
}

// unclosedFence returns the line (1-based) of the first code fence in doc that is not closed
// where it should be (never, or a lost closer: fences.read), or 0.
func unclosedFence(doc string) int {
	var f fences
	for _, line := range strings.Split(doc, "\n") {
		if _, lost := f.read(line); lost {
			return f.openLine
		}
	}
	if f.open != "" {
		return f.openLine
	}
	return 0
}

// markdownFiles returns the repository's Markdown files by path (relative to this package),
// failing the test if the walk finds too few to be rooted at the repository.
func markdownFiles(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs[filepath.Clean(path)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 20 {
		t.Fatalf("found %d Markdown files: is the walk rooted at the repository?", len(docs))
	}
	return docs
}

func TestUnclosedFence(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want int
	}{
		{"text\n```sh\necho hi\n```\nmore\n", 0},
		{"```sh\necho hi\n## heading\n\n```sh\necho again\n```\n", 1}, // the second opener is text
		{"~~~\n```\n~~~\n", 0},
		{"````\n```\n````\n", 0},
		{"````markdown\n```sh\necho\n```\n````\n", 0}, // a longer fence around an example of one
		{"a\n```go\nx\n", 2},
	} {
		if got := unclosedFence(c.doc); got != c.want {
			t.Errorf("unclosedFence(%q) = %d, want %d", c.doc, got, c.want)
		}
	}
}

// TestDocsFencesClosed: every code block of the project's Markdown is closed. A merge once lost
// the fence after the import CLI's example in README.md, and everything after it, half the
// README, rendered as a shell block.
func TestDocsFencesClosed(t *testing.T) {
	for path, doc := range markdownFiles(t) {
		if line := unclosedFence(doc); line != 0 {
			t.Errorf("%s:%d: a code block opens here and is never closed", path, line)
		}
	}
}
