package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the repository's root, two levels up from this package.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the test file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// fakeScript is every fake command: it appends its name and arguments as one line to
// $FAKE_DIR/calls.log, then answers with the first rule of $FAKE_DIR/rules whose pattern matches
// that line (a bash glob). A rule's uses field limits how often it answers ("-": always), so a
// test can say "the first describe-stacks finds nothing, later ones find the stack". A command
// reading a password or secret from stdin (docker login --password-stdin, pulumi config set
// --secret) reads it before logging, so the pipeline feeding it has logged first, and saves it.
const fakeScript = `#!/usr/bin/env bash
name=$(basename "$0")
line=$name
for a in "$@"; do line+=" $a"; done
case " $* " in
  *" --password-stdin "* | *" --secret "*) cat >"$FAKE_DIR/stdin.$name" ;;
esac
printf '%s\n' "$line" >>"$FAKE_DIR/calls.log"
printf '%s AWS_PAGER=%s DOCKER_BUILDKIT=%s\n' "$line" "${AWS_PAGER-unset}" "${DOCKER_BUILDKIT-unset}" >>"$FAKE_DIR/env.log"
n=0
while IFS=$'\t' read -r pattern uses code out err; do
  n=$((n + 1))
  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  [[ $line == $pattern ]] || continue
  if [ "$uses" != - ]; then
    used=$(cat "$FAKE_DIR/used.$n" 2>/dev/null || echo 0)
    [ "$used" -lt "$uses" ] || continue
    echo $((used + 1)) >"$FAKE_DIR/used.$n"
  fi
  printf '%b' "$out"
  printf '%b' "$err" >&2
  exit "$code"
done <"$FAKE_DIR/rules"
exit 0
`

// rule is one canned answer of the fakes.
type rule struct {
	pattern string // bash glob on "command arg1 arg2 ..."
	uses    int    // answers this many times, then lets later rules answer; 0: always
	code    int
	stdout  string
	stderr  string
}

func answer(pattern, stdout string) rule { return rule{pattern: pattern, stdout: stdout} }
func once(pattern, stdout string) rule   { return rule{pattern: pattern, uses: 1, stdout: stdout} }
func fail(pattern string, code int, stderr string) rule {
	return rule{pattern: pattern, code: code, stderr: stderr}
}
func failOnce(pattern string, code int, stderr string) rule {
	return rule{pattern: pattern, uses: 1, code: code, stderr: stderr}
}

// The tools the scripts may use besides the faked ones: a script calling anything else fails
// here, which is how the tests hold them to "the AWS CLI, Docker (and Pulumi), and coreutils".
var realTools = []string{"bash", "env", "cat", "basename", "dirname", "sed", "tr", "sort", "cut",
	"date", "sleep", "sha256sum"}

// fakeCommands are written into the fake bin directory unless a test leaves one out.
var fakeCommands = []string{"aws", "docker", "pulumi", "curl", "git", "openssl"}

// env is one run's sandbox: a PATH of fakes and the real tools above, and the log.
type env struct {
	dir  string
	path string
}

func newEnv(tb testing.TB, rules []rule, missing ...string) *env {
	tb.Helper()
	dir := tb.TempDir()
	fakes, tools := filepath.Join(dir, "fakes"), filepath.Join(dir, "tools")
	for _, d := range []string{fakes, tools, filepath.Join(dir, "home")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for _, name := range fakeCommands {
		if contains(missing, name) {
			continue
		}
		if err := os.WriteFile(filepath.Join(fakes, name), []byte(fakeScript), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for _, name := range realTools {
		p, err := exec.LookPath(name)
		if err != nil {
			tb.Fatalf("%s is needed to run the scripts: %v", name, err)
		}
		if err := os.Symlink(p, filepath.Join(tools, name)); err != nil {
			tb.Fatal(err)
		}
	}
	esc := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`)
	var b strings.Builder
	for _, r := range rules {
		uses := "-"
		if r.uses > 0 {
			uses = fmt.Sprint(r.uses)
		}
		fmt.Fprintf(&b, "%s\t%s\t%d\t%s\t%s\n", r.pattern, uses, r.code, orEmpty(esc.Replace(r.stdout)), orEmpty(esc.Replace(r.stderr)))
	}
	if err := os.WriteFile(filepath.Join(dir, "rules"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return &env{dir: dir, path: fakes + ":" + tools}
}

// fakeDate puts a date on PATH before the real one that answers now (UTC,
// yyyy-mm-ddThh:mm:ss) to "date -u +%Y-%m-%dT%H:%M:%S", the clock the deploy script checks a
// sale window with, and runs the real date for anything else.
func (e *env) fakeDate(tb testing.TB, now string) {
	tb.Helper()
	script := "#!/usr/bin/env bash\nif [ \"$*\" = \"-u +%Y-%m-%dT%H:%M:%S\" ]; then echo " + now + "; exit 0; fi\nexec " +
		filepath.Join(e.dir, "tools", "date") + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(e.dir, "fakes", "date"), []byte(script), 0o755); err != nil {
		tb.Fatal(err)
	}
}

// orEmpty keeps a field non-empty: bash's read collapses consecutive tabs (tab is IFS
// whitespace), which would shift the fields; `\c` makes printf %b print nothing.
func orEmpty(s string) string {
	if s == "" {
		return `\c`
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// result is what a run left: exit code, output, and the fakes' calls in order.
type result struct {
	code           int
	stdout, stderr string
	calls          []string
}

func (e *env) run(tb testing.TB, script string, extraEnv []string, args ...string) result {
	tb.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bash, append([]string{filepath.Join(repoRoot(tb), "scripts", script)}, args...)...)
	cmd.Env = append([]string{
		"PATH=" + e.path,
		"HOME=" + filepath.Join(e.dir, "home"),
		"FAKE_DIR=" + e.dir,
		"LANG=C",
		"AWS_PAGER=less", // the scripts must turn the pager off
		"SMOKE_TIMEOUT=0",
		"SMOKE_INTERVAL=0",
	}, extraEnv...)
	cmd.Stdin = nil // not a terminal: --destroy needs --yes
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			tb.Fatalf("running %s: %v", script, err)
		}
		res.code = ee.ExitCode()
	}
	if log, err := os.ReadFile(filepath.Join(e.dir, "calls.log")); err == nil {
		res.calls = strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
	}
	return res
}

// envOf returns the environment the fakes saw (AWS_PAGER, DOCKER_BUILDKIT) for the calls a
// pattern matches.
func (e *env) envOf(tb testing.TB, pattern string) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "env.log"))
	if os.IsNotExist(err) {
		return nil // nothing was called
	}
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	re := glob(pattern)
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if i := strings.LastIndex(line, " AWS_PAGER="); i >= 0 && re.MatchString(line[:i]) {
			out = append(out, line[i+1:])
		}
	}
	return out
}

// stdin is what a fake read from its standard input (a password or a secret).
func (e *env) stdin(tb testing.TB, command string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "stdin."+command))
	if err != nil {
		tb.Fatalf("%s read nothing from stdin: %v", command, err)
	}
	return string(b)
}

// glob turns a pattern with * wildcards into an anchored regular expression.
func glob(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// inOrder reports the first pattern of want not found, in order, among calls ("" when all are).
func inOrder(calls, want []string) string {
	i := 0
	for _, w := range want {
		re := glob(w)
		for i < len(calls) && !re.MatchString(calls[i]) {
			i++
		}
		if i == len(calls) {
			return w
		}
		i++
	}
	return ""
}

// matching returns the calls a pattern matches.
func matching(calls []string, pattern string) []string {
	var out []string
	re := glob(pattern)
	for _, c := range calls {
		if re.MatchString(c) {
			out = append(out, c)
		}
	}
	return out
}
