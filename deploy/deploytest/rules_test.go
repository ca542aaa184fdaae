package deploytest

import (
	"math/rand"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/acme/catalog/internal/blueprint"
)

// scriptPattern returns the regular expression scripts/lib/deploy.sh checks $variable with.
func scriptPattern(tb testing.TB, variable string) string {
	tb.Helper()
	return scriptCheck(tb, variable).pattern.String()
}

// scriptCheck returns the whole check of $variable: [[ $V =~ RE ]] or
// [[ $V =~ RE && ${#V} -le N ]] (ERE has no look-ahead, so a length goes apart).
func scriptCheck(tb testing.TB, variable string) templateRule {
	tb.Helper()
	m := regexp.MustCompile(`\[\[ \$` + variable + ` =~ (\S+)(?: && \$\{#` + variable + `\} -le ([0-9]+))? \]\]`).FindStringSubmatch(readScript(tb, "lib/deploy.sh"))
	if m == nil {
		tb.Fatalf("scripts/lib/deploy.sh does not check $%s with [[ =~ ]]", variable)
	}
	max, _ := strconv.Atoi(m[2])
	return templateRule{pattern: regexp.MustCompile(m[1]), maxLen: max}
}

type templateRule struct {
	pattern        *regexp.Regexp
	minLen, maxLen int
}

func (r templateRule) accepts(s string) bool {
	n := utf8.RuneCountInString(s)
	return r.pattern.MatchString(s) && n >= r.minLen && (r.maxLen == 0 || n <= r.maxLen)
}

func templateParameterRule(tb testing.TB, name string) templateRule {
	tb.Helper()
	var tpl struct {
		Parameters map[string]struct {
			AllowedPattern string
			MinLength      int
			MaxLength      int
		}
	}
	loadJSON(tb, templateFile(tb), &tpl)
	p, ok := tpl.Parameters[name]
	if !ok || p.AllowedPattern == "" {
		tb.Fatalf("the template's parameter %s has no AllowedPattern", name)
	}
	return templateRule{regexp.MustCompile(p.AllowedPattern), p.MinLength, p.MaxLength}
}

// samples are random strings over the characters that matter to these rules, edge lengths
// included.
func samples(seed int64, n int) []string {
	const alphabet = "abz09AZ-_.-/:@ "
	r := rand.New(rand.NewSource(seed))
	out := []string{"", "a", "-", "a-", "-a", "a--b", ".a", "_a", strings.Repeat("a", 16), strings.Repeat("a", 17),
		strings.Repeat("a", 128), strings.Repeat("a", 129), "v1.2.3", "abc123def456-dirty", "Dev"}
	for len(out) < n {
		length := r.Intn(20)
		if r.Intn(8) == 0 {
			length = 120 + r.Intn(20)
		}
		var b strings.Builder
		for i := 0; i < length; i++ {
			b.WriteByte(alphabet[r.Intn(len(alphabet))])
		}
		out = append(out, b.String())
	}
	return out
}

// TestScriptRulesMatchTheTemplate: the script refuses a suffix or tag exactly when the
// template would, so a bad value fails in a second with the option named, and a good one is
// never refused. A tag the template also accepts empty (the bootstrap state) is one the script
// never passes empty: it always deploys a tag it built.
func TestScriptRulesMatchTheTemplate(t *testing.T) {
	for _, c := range []struct{ variable, parameter string }{
		{"SUFFIX", "EnvironmentSuffix"},
		{"TAG", "ImageTag"},
	} {
		script := scriptCheck(t, c.variable)
		tpl := templateParameterRule(t, c.parameter)
		for _, s := range samples(1, 20000) {
			if s == "" {
				continue // the script fills in an empty value itself (default suffix, commit tag)
			}
			if got, want := script.accepts(s), tpl.accepts(s); got != want {
				t.Errorf("$%s %q: the script accepts it = %v, the template's %s = %v", c.variable, s, got, c.parameter, want)
			}
		}
	}
}

// TestBashReadsThePatternsAsGo: the property above runs the patterns with Go's regexp; bash's
// [[ =~ ]] (POSIX ERE) must read them the same way.
func TestBashReadsThePatternsAsGo(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, variable := range []string{"SUFFIX", "TAG", "REGION"} {
		pattern := scriptPattern(t, variable)
		in := samples(2, 300)
		in = append(in, "us-east-1", "ap-southeast-5", "us-gov-west-1", "eu-west-10", "useast1")
		script := `while IFS= read -r s; do if [[ $s =~ ` + pattern + ` ]]; then echo 1; else echo 0; fi; done`
		cmd := exec.Command(bash, "-c", script)
		cmd.Stdin = strings.NewReader(strings.Join(in, "\n") + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(string(out))
		if len(got) != len(in) {
			t.Fatalf("bash answered %d times for %d inputs", len(got), len(in))
		}
		re := regexp.MustCompile(pattern)
		for i, s := range in {
			if (got[i] == "1") != re.MatchString(s) {
				t.Errorf("$%s %q: bash says %s, Go says %v", variable, s, got[i], re.MatchString(s))
			}
		}
	}
}

// The deploy script's refusal of an ended sale window is blueprint.SaleWindowAhead's rule,
// written again in bash (the script cannot call Go): for ends around a faked clock, the edges
// and random offsets across day, month and year boundaries, the script refuses exactly when
// the rule does.
func TestSaleWindowRuleMatchesBlueprint(t *testing.T) {
	nows := []time.Time{
		time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC),
	}
	offsets := []time.Duration{0, time.Second, -time.Second, time.Minute, -time.Hour, 24 * time.Hour, -400 * 24 * time.Hour}
	rng := rand.New(rand.NewSource(17))
	for range 6 {
		offsets = append(offsets, time.Duration(rng.Int63n(int64(90*24*time.Hour)))-45*24*time.Hour)
	}
	for _, now := range nows {
		for _, off := range offsets {
			end := now.Add(off).Format(blueprint.SaleTimeLayout)
			t.Run(now.Format(blueprint.SaleTimeLayout)+" "+end, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, append([]rule{stackExists, imageMissing}, commonRules()...))
				e.fakeDate(t, now.Format(blueprint.SaleTimeLayout))
				res := e.run(t, "deploy-cloudformation.sh", nil, "--suffix", "dev", "--region", "us-east-1",
					"--param", "SaleStart="+now.Add(off-time.Hour).Format(blueprint.SaleTimeLayout), "--param", "SaleEnd="+end)
				refused := strings.Contains(res.stderr, "the planned sale ended at "+end)
				want := blueprint.SaleWindowAhead(end, now) != nil
				if refused != want || (refused && res.code == 0) || (!refused && res.code != 0) {
					t.Errorf("the script refused %v (exit %d), blueprint.SaleWindowAhead refuses %v\n%s", refused, res.code, want, res.stderr)
				}
			})
		}
	}
}
