package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestPushImage(t *testing.T) {
	root := repoRoot(t)
	tests := []struct {
		name   string
		rules  []rule
		args   []string
		code   int
		want   []string
		absent []string
		exact  bool
		output string
	}{{
		name:  "builds for linux/amd64 and pushes",
		rules: []rule{imageMissing},
		args:  []string{repo, "v1.2.3"},
		want: []string{
			"aws sts get-caller-identity --region us-east-1 *",
			"aws ecr describe-images --region us-east-1 --repository-name ecr-catalog-dev --image-ids imageTag=v1.2.3 *",
			"aws ecr get-login-password --region us-east-1",
			"docker login --username AWS --password-stdin " + account + ".dkr.ecr.us-east-1.amazonaws.com",
			"docker build --platform linux/amd64 --build-arg VERSION=v1.2.3 * --tag " + repo + ":v1.2.3 " + root,
			"docker push " + repo + ":v1.2.3",
		},
	}, {
		name:   "tag already pushed: nothing built",
		args:   []string{repo, "v1.2.3"},
		want:   []string{"aws ecr describe-images *"},
		absent: []string{"docker *"},
		output: "already pushed",
	}, {
		name:   "region taken from the URI",
		rules:  []rule{imageMissing},
		args:   []string{account + ".dkr.ecr.eu-central-1.amazonaws.com/ecr-catalog-qa", "v1"},
		want:   []string{"aws ecr describe-images --region eu-central-1 --repository-name ecr-catalog-qa *", "docker push " + account + ".dkr.ecr.eu-central-1.amazonaws.com/ecr-catalog-qa:v1"},
		absent: []string{"* us-east-1*"},
	}, {
		name:   "not an ECR URI: usage error, no call",
		args:   []string{"docker.io/acme/catalog", "v1"},
		code:   2,
		exact:  true,
		output: "is not an ECR repository URI",
	}, {
		name:   "bad tag: usage error, no call",
		args:   []string{repo, "-v1"},
		code:   2,
		exact:  true,
		output: "--tag '-v1'",
	}, {
		name:   "no credentials",
		rules:  []rule{fail("aws sts get-caller-identity *", 253, "Unable to locate credentials.\n")},
		args:   []string{repo, "v1"},
		code:   1,
		want:   []string{"aws sts get-caller-identity *"},
		exact:  true,
		output: "no usable AWS credentials",
	}, {
		name:   "wrong number of arguments",
		args:   []string{repo},
		code:   2,
		exact:  true,
		output: "expected <repository-uri> <tag>",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, append(tt.rules, commonRules()...))
			res := e.run(t, "push-image.sh", nil, tt.args...)
			checkRun(t, res, tt.code, tt.want, tt.absent, tt.exact, tt.output)
		})
	}
}

// TestScriptsRunOnOldBash: macOS ships bash 3.2 as /bin/bash, so the scripts use none of the
// bash 4 features (associative arrays, mapfile, namerefs, case conversion) and guard every
// possibly empty array under set -u (bash before 4.4 calls "${a[@]}" of an empty array unbound).
func TestScriptsRunOnOldBash(t *testing.T) {
	bash4 := regexp.MustCompile(`declare -A|local -A|mapfile|readarray|local -n|declare -n|\$\{[A-Za-z_]+(,,|\^\^)\}|&>>|\|&`)
	bareArray := regexp.MustCompile(`"\$\{(PARAMS|env|location|insecure)\[@\]\}"`)
	guarded := regexp.MustCompile(`\$\{(PARAMS|env|location|insecure)\[@\]\+"\$\{(PARAMS|env|location|insecure)\[@\]\}"\}`)
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "scripts", "*.sh"))
	lib, _ := filepath.Glob(filepath.Join(repoRoot(t), "scripts", "lib", "*.sh"))
	for _, f := range append(files, lib...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if m := bash4.FindString(src); m != "" {
			t.Errorf("%s uses %q, which bash 3.2 (macOS) lacks", filepath.Base(f), m)
		}
		if n, g := len(bareArray.FindAllString(src, -1)), len(guarded.FindAllString(src, -1)); n != g {
			t.Errorf("%s expands a possibly empty array without the ${a[@]+\"${a[@]}\"} guard (%d of %d guarded)", filepath.Base(f), g, n)
		}
	}
}
