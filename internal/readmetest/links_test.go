package readmetest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// linkRE is an inline Markdown link or image: [text](target) with an optional "title".
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// codeSpanRE is inline code, whose brackets and parentheses are no link.
var codeSpanRE = regexp.MustCompile("`[^`]*`")

// headingRE is an ATX heading.
var headingRE = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$`)

// slug is the anchor GitHub gives a heading: lower case, only letters, digits, spaces, hyphens
// and underscores kept, spaces made hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the anchors of doc's headings, outside code blocks, numbered as GitHub numbers
// repeats ("a", "a-1", ...).
func anchors(doc string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range outsideCode(doc) {
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[s+"-"+strconv.Itoa(n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// outsideCode returns doc's lines outside fenced code blocks, the fences left out too.
func outsideCode(doc string) []string {
	var out []string
	var f fences
	for _, line := range strings.Split(doc, "\n") {
		if code, _ := f.read(line); !code {
			out = append(out, line)
		}
	}
	return out
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Bulk import in AWS":              "bulk-import-in-aws",
		"0024. A product read takes one":  "0024-a-product-read-takes-one",
		"`GET /exports` and `format=csv`": "get-exports-and-formatcsv",
		"Hot reads: 2026-12-03 (late)":    "hot-reads-2026-12-03-late",
		"What an update replaces":         "what-an-update-replaces",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocsLinksResolve: every relative link in the project's Markdown names a file or
// directory that exists, and a #fragment into a Markdown file names one of its headings.
func TestDocsLinksResolve(t *testing.T) {
	docs := markdownFiles(t)
	anchorsOf := map[string]map[string]bool{} // each file's, parsed once
	links := 0
	for path, doc := range docs {
		// Links inside code are examples, not links.
		var prose strings.Builder
		for _, line := range outsideCode(doc) {
			prose.WriteString(codeSpanRE.ReplaceAllString(line, "") + "\n")
		}
		for _, m := range linkRE.FindAllStringSubmatch(prose.String(), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			file, frag, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(path), file))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %s does not exist", path, target, dest)
					continue
				}
			}
			if frag == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			if anchorsOf[dest] == nil {
				anchorsOf[dest] = anchors(docs[dest])
			}
			if !anchorsOf[dest][frag] {
				t.Errorf("%s: link %q: %s has no heading with the anchor #%s", path, target, dest, frag)
			}
		}
	}
	if links < 50 {
		t.Fatalf("checked %d relative links: is the walk rooted at the repository?", links)
	}
	t.Logf("%d relative links in %d Markdown files", links, len(docs))
}
