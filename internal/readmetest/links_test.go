package readmetest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// linkRE is an inline Markdown link or image: [text](target) with an optional "title".
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// refDefRE is a reference-style link's definition, "[label]: target", alone on its line.
var refDefRE = regexp.MustCompile(`^ {0,3}\[([^\]]+)\]:\s*<?([^\s>]+)>?`)

// refUseRE is a full or collapsed reference link, "[text][label]" or "[text][]". A shortcut
// reference ("[label]" alone) cannot be told from brackets in prose, so it is not checked.
var refUseRE = regexp.MustCompile(`\[([^\]]+)\]\[([^\]]*)\]`)

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

// linkTargets returns the targets of doc's links outside code, inline and reference-style,
// and the labels of reference links that have no definition.
func linkTargets(doc string) (targets, undefined []string) {
	defined := map[string]bool{}
	var prose strings.Builder
	for _, line := range outsideCode(doc) {
		line = codeSpanRE.ReplaceAllString(line, "")
		if m := refDefRE.FindStringSubmatch(line); m != nil {
			defined[strings.ToLower(m[1])] = true
			targets = append(targets, m[2])
			continue
		}
		prose.WriteString(line + "\n")
	}
	for _, m := range linkRE.FindAllStringSubmatch(prose.String(), -1) {
		targets = append(targets, m[1])
	}
	for _, m := range refUseRE.FindAllStringSubmatch(prose.String(), -1) {
		label := m[2]
		if label == "" {
			label = m[1]
		}
		if !defined[strings.ToLower(label)] {
			undefined = append(undefined, label)
		}
	}
	return targets, undefined
}

func TestLinkTargets(t *testing.T) {
	doc := "See [the ADR](docs/adr/0001.md#why) and [the guide][guide], [Ops][].\n" +
		"Not a link: `[x](y.md)`, nor [this] alone, nor [a][missing].\n" +
		"```\n[in code](z.md)\n```\n" +
		"[guide]: <docs/guide.md#start>\n" +
		"[ops]: https://example.com/ops\n"
	targets, undefined := linkTargets(doc)
	if want := []string{"docs/guide.md#start", "https://example.com/ops", "docs/adr/0001.md#why"}; !slices.Equal(targets, want) {
		t.Errorf("targets %q, want %q", targets, want)
	}
	if want := []string{"missing"}; !slices.Equal(undefined, want) {
		t.Errorf("undefined %q, want %q", undefined, want)
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
		targets, undefined := linkTargets(doc)
		for _, label := range undefined {
			t.Errorf("%s: reference link [%s] has no definition", path, label)
		}
		for _, target := range targets {
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
