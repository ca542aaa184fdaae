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

// unclosedFence returns the line (1-based) of the first code fence in doc that is not closed
// where it should be, or 0. A closing fence is the opener's character, at least as long, with
// nothing after it; a fence with an info string ("```sh") inside an open block is an opener
// whose block before it lost its closing fence: CommonMark reads it as code, and the block
// then swallows the prose up to the next bare fence.
func unclosedFence(doc string) int {
	open, openLine := "", 0
	for i, line := range strings.Split(doc, "\n") {
		m := fenceRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		info := strings.TrimSpace(m[2])
		switch {
		case open == "":
			open, openLine = m[1], i+1
		case m[1][0] == open[0] && len(m[1]) >= len(open) && info == "":
			open = ""
		case m[1][0] == open[0] && len(m[1]) >= len(open):
			return openLine // could close the block, but has an info string
		}
	}
	if open != "" {
		return openLine
	}
	return 0
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
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		checked++
		if line := unclosedFence(string(b)); line != 0 {
			t.Errorf("%s:%d: a code block opens here and is never closed", path, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked %d Markdown files: is the walk rooted at the repository?", checked)
	}
}
