package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	cmd, args string
}

// stage is one FROM and what follows it.
type stage struct {
	from   string // FROM's arguments
	body   []instruction
	target bool // the last stage: what the image is
}

func parseDockerfile(tb testing.TB, text string) []stage {
	tb.Helper()
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			return
		}
		if len(stages) > 0 {
			stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") && cur.Len() == 0 {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(stages) == 0 {
		tb.Fatal("the Dockerfile has no FROM")
	}
	stages[len(stages)-1].target = true
	return stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// TestDockerfile checks, without a Docker engine, what the image relies on: the build stage
// runs on the builder's platform and cross-compiles to the target one (an arm64 laptop builds
// a right amd64 image without emulation); the binary is static (CGO off) on a base without
// libc; the image runs as a numeric non-root user (ECS and Kubernetes can only check a
// numeric one) and execs the binary without a shell.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(b))
	var build *stage
	for i := range stages {
		for _, run := range stages[i].all("RUN") {
			if strings.Contains(run, "go build") {
				build = &stages[i]
			}
		}
	}
	if build == nil {
		t.Fatal("no stage runs go build")
	}
	if build.target {
		t.Fatal("go build runs in the final stage: the image would carry the toolchain")
	}
	if !strings.Contains(build.from, "--platform=$BUILDPLATFORM") {
		t.Errorf("the build stage (FROM %s) does not run on --platform=$BUILDPLATFORM: on an arm64 laptop it would compile under emulation", build.from)
	}
	args := strings.Join(build.all("ARG"), " ")
	for _, a := range []string{"TARGETOS", "TARGETARCH"} {
		if !regexp.MustCompile(`\b` + a + `\b`).MatchString(args) {
			t.Errorf("the build stage does not declare ARG %s, so BuildKit does not pass it in", a)
		}
	}
	var goBuild string
	for _, run := range build.all("RUN") {
		if strings.Contains(run, "go build") {
			goBuild = run
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=${TARGETOS}", "GOARCH=${TARGETARCH}", "-trimpath"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("go build lacks %s: %s", want, goBuild)
		}
	}

	final := stages[len(stages)-1]
	if strings.Contains(final.from, "$BUILDPLATFORM") {
		t.Errorf("the final stage (FROM %s) is of the builder's platform, not the target's", final.from)
	}
	if !strings.Contains(final.from, "distroless/static") {
		t.Errorf("the final stage is %s, want a distroless/static base (no shell, no libc: the binary is static)", final.from)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("the final stage sets no USER: the image runs as root")
	}
	user := users[len(users)-1]
	m := regexp.MustCompile(`^([0-9]+)(:([0-9]+))?$`).FindStringSubmatch(user)
	if m == nil {
		t.Errorf("USER %s is not numeric: a runtime cannot tell a name from root without the image's passwd", user)
	} else if m[1] == "0" || m[3] == "0" {
		t.Errorf("USER %s is root", user)
	}
	entry := final.all("ENTRYPOINT")
	if len(entry) == 0 || !strings.HasPrefix(entry[len(entry)-1], "[") {
		t.Errorf("ENTRYPOINT %v is not in exec form: the shell form needs a shell the image does not have", entry)
	}
	for _, want := range []string{"VERSION", "REVISION", "CREATED"} {
		if !strings.Contains(strings.Join(final.all("ARG"), " "), want) {
			t.Errorf("the final stage takes no ARG %s, which the deploy scripts pass", want)
		}
	}
}

// TestDockerfileParser shows the checks can fail: a Dockerfile compiling for the builder's
// platform as root is caught.
func TestDockerfileParser(t *testing.T) {
	stages := parseDockerfile(t, "FROM golang:1 AS build\nRUN CGO_ENABLED=0 \\\n  go build -o /x .\nFROM scratch\nUSER root\n")
	if len(stages) != 2 || stages[0].from != "golang:1 AS build" || !stages[1].target {
		t.Fatalf("stages = %+v", stages)
	}
	if run := stages[0].all("RUN"); len(run) != 1 || strings.Join(strings.Fields(run[0]), " ") != "CGO_ENABLED=0 go build -o /x ." {
		t.Errorf("continuation lines not joined: %q", run)
	}
	if strings.Contains(stages[0].from, "$BUILDPLATFORM") {
		t.Error("FROM without --platform read as cross-compiling")
	}
	if u := stages[1].all("USER"); len(u) != 1 || u[0] != "root" {
		t.Errorf("USER = %q", u)
	}
}
