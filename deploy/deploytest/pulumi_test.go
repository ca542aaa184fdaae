package deploytest

import (
	"regexp"
	"strings"
	"testing"
)

// pulumiRules answer what a healthy account and a logged-in Pulumi CLI answer for a stack
// that exists with its service; a case's own rules come first and win.
func pulumiRules() []rule {
	return append([]rule{
		answer("pulumi --non-interactive stack output --stack dev --json", `{"ecrRepositoryUri": "`+repo+`", "serviceName": "svc-catalog-dev"}`+"\n"),
		answer("pulumi --non-interactive stack output --stack dev ecrRepositoryUri", repo+"\n"),
		answer("pulumi --non-interactive stack output --stack dev clusterName", "cluster-catalog-dev\n"),
		answer("pulumi --non-interactive stack output --stack dev serviceName", "svc-catalog-dev\n"),
		answer("pulumi --non-interactive stack output --stack dev serviceUrl", alb+"\n"),
		answer("pulumi --non-interactive stack output --stack dev migrateTaskDefinitionArn", migrateTaskDef+":1\n"),
		answer("pulumi --non-interactive stack output --stack dev serviceSecurityGroupId", "sg-tasks\n"),
		answer("pulumi --non-interactive stack output --stack dev privateSubnetIds --json", "[\n  \"subnet-p1\",\n  \"subnet-p2\",\n  \"subnet-p3\"\n]\n"),
		answer("pulumi --non-interactive stack output --stack dev dashboardUrl", "https://console.aws.amazon.com/cloudwatch/home#dashboards:name=dashboard-catalog-dev\n"),
		answer("pulumi --non-interactive stack output --stack dev apiKeySecretArn", "arn:aws:secretsmanager:us-east-1:"+account+":secret:catalog/dev/api-keys-AbCdEf\n"),
		answer("pulumi --non-interactive config get --stack dev catalog:apiKeys", strings.Repeat("cd", 32)+"\n"),
		answer("pulumi --non-interactive config get --stack dev catalog:imageTag", "0ld7a9\n"),
		answer("pulumi --non-interactive config get --stack dev catalog:environmentSuffix", "dev\n"),
		answer("pulumi --non-interactive config get --stack dev aws:region", "us-east-1\n"),
		answer("pulumi --non-interactive config get --stack dev catalog:environment", "prod\n"),
		fail("pulumi --non-interactive config get --stack dev catalog:image", 255, "error: configuration key 'catalog:image' not found for stack 'dev'\n"),
	}, commonRules()...)
}

var (
	newStack   = once("pulumi --non-interactive stack output --stack dev --json", "{}\n")
	noAPIKey   = failOnce("pulumi --non-interactive config get --stack dev catalog:apiKeys", 255, "error: configuration key 'catalog:apiKeys' not found for stack 'dev'\n")
	newConfig  = fail("pulumi --non-interactive config get --stack dev *:*", 255, "error: configuration key not found\n")
	noImageTag = fail("pulumi --non-interactive config get --stack dev catalog:imageTag", 255, "error: configuration key 'catalog:imageTag' not found for stack 'dev'\n")
)

func TestDeployPulumi(t *testing.T) {
	root := repoRoot(t)
	deployArgs := []string{"--suffix", "dev", "--region", "us-east-1", "--param", "natMode=single"}
	destroyArgs := []string{"--suffix", "dev", "--region", "us-east-1", "--destroy", "--yes"}
	tests := []struct {
		name    string
		rules   []rule
		missing []string
		args    []string
		code    int
		want    []string
		absent  []string
		exact   bool
		output  string
	}{{
		name: "first deploy from nothing",
		// The migrate task exists once the image is deployed.
		rules: []rule{newStack, noAPIKey, noImageTag, newConfig, imageMissing, once("pulumi --non-interactive stack output --stack dev migrateTaskDefinitionArn", "")},
		args:  deployArgs,
		want: []string{
			"aws sts get-caller-identity --region us-east-1 *",
			"aws iam get-role --role-name AWSServiceRoleForECS *",
			"aws iam get-role --role-name AWSServiceRoleForApplicationAutoScaling_ECSService *",
			"pulumi --non-interactive stack select --create dev",
			"pulumi --non-interactive stack output --stack dev --json",
			"pulumi --non-interactive config set --stack dev aws:region us-east-1",
			"pulumi --non-interactive config set --stack dev catalog:environmentSuffix dev",
			"pulumi --non-interactive config set --stack dev catalog:environment dev",
			"pulumi --non-interactive config set --stack dev catalog:natMode -- single",
			"pulumi --non-interactive config get --stack dev catalog:apiKeys",
			"openssl rand -hex 32",
			"pulumi --non-interactive config set --stack dev --secret catalog:apiKeys",
			"pulumi --non-interactive config rm --stack dev catalog:imageTag",
			"pulumi --non-interactive config get --stack dev catalog:imageTag",
			"pulumi --non-interactive up --stack dev --yes",
			"pulumi --non-interactive stack output --stack dev ecrRepositoryUri",
			"aws ecr describe-images --region us-east-1 --repository-name ecr-catalog-dev --image-ids imageTag=" + tag + " *",
			"aws ecr get-login-password --region us-east-1",
			"docker login --username AWS --password-stdin " + account + ".dkr.ecr.us-east-1.amazonaws.com",
			"docker build --platform linux/amd64 --build-arg VERSION=" + tag + " --build-arg REVISION=* --build-arg CREATED=* --tag " + repo + ":" + tag + " " + root,
			"docker push " + repo + ":" + tag,
			"pulumi --non-interactive config set --stack dev catalog:imageTag " + tag,
			"pulumi --non-interactive up --stack dev --yes",
			"pulumi --non-interactive stack output --stack dev clusterName",
			"pulumi --non-interactive stack output --stack dev serviceName",
			"pulumi --non-interactive stack output --stack dev serviceUrl",
			// The first image: the migrate task exists from this update on and runs its image.
			"pulumi --non-interactive stack output --stack dev migrateTaskDefinitionArn",
			"aws ecs describe-task-definition --region us-east-1 --task-definition " + migrateTaskDef + ":1 *",
			migrateRun[0], migrateRun[1], migrateRun[2],
			"aws ecs wait services-stable --region us-east-1 --cluster cluster-catalog-dev --services svc-catalog-dev",
			"curl * " + alb + "/health",
			"curl * " + alb + "/ready",
		},
		output: "aws secretsmanager get-secret-value --region us-east-1 --secret-id arn:aws:secretsmanager:us-east-1:" + account + ":secret:catalog/dev/api-keys-AbCdEf --query SecretString --output text",
	}, {
		name:  "update: the stack has its image, so one pulumi up and the key is kept",
		rules: []rule{imageMissing},
		args:  deployArgs,
		want: []string{
			"pulumi --non-interactive stack select --create dev",
			"pulumi --non-interactive config get --stack dev catalog:apiKeys",
			"docker build --platform linux/amd64 *",
			"docker push *",
			"pulumi --non-interactive config set --stack dev catalog:imageTag " + tag,
			"pulumi --non-interactive up --stack dev --yes",
			"aws ecs wait services-stable *",
			"curl *",
		},
		absent: []string{"* --secret *", "openssl *", "pulumi * config set --stack dev catalog:environment *"},
	}, {
		name:  "update: the stack's migrate task gets the new image and runs before the service gets it",
		rules: []rule{imageMissing},
		args:  deployArgs,
		want: append(append([]string{
			"docker push *",
			"pulumi --non-interactive config set --stack dev catalog:migrateImageTag " + tag,
			"pulumi --non-interactive up --stack dev --yes",
			"aws ecs run-task * --task-definition " + migrateTaskDef + ":1 *",
		}, migrateRun[1:]...),
			"pulumi --non-interactive config set --stack dev catalog:imageTag "+tag,
			"pulumi --non-interactive config rm --stack dev catalog:migrateImageTag",
			"pulumi --non-interactive up --stack dev --yes",
		),
		absent: []string{"aws ecs register-task-definition *"},
	}, {
		name:  "update: a migrate task definition on another image still gets a revision with the new one",
		rules: []rule{imageMissing, migrateOldImage},
		args:  deployArgs,
		want: append(append([]string{
			"docker push *",
			"pulumi --non-interactive up --stack dev --yes",
			"aws ecs register-task-definition --region us-east-1 --cli-input-json *\"image\": \"" + repo + ":" + tag + "\"* --query taskDefinition.taskDefinitionArn --output text",
			"aws ecs run-task * --task-definition " + migrateTaskDef + ":2 *",
		}, migrateRun[1:]...),
			"pulumi --non-interactive config set --stack dev catalog:imageTag "+tag,
			"pulumi --non-interactive up --stack dev --yes",
		),
	}, {
		name:  "update: a failed migration stops the deploy, the service keeps its image",
		rules: []rule{imageMissing, migrateOldImage, migrateFails},
		args:  deployArgs,
		code:  1,
		// The one pulumi up before the task changes only the migrate task definition.
		want:   append([]string{"docker push *", "pulumi --non-interactive config set --stack dev catalog:migrateImageTag " + tag, "pulumi --non-interactive up --stack dev --yes"}, migrateRun...),
		absent: []string{"pulumi * config set --stack dev catalog:imageTag *"},
		output: "the migrate task exited with 1 (Essential container in task exited): the service keeps its current image",
	}, {
		name:   "existing stack with another suffix: refused, nothing replaced",
		args:   []string{"--suffix", "qa", "--stack", "dev", "--region", "us-east-1"},
		code:   1,
		absent: []string{"pulumi * up *", "pulumi * config set *", "docker *"},
		output: "has catalog:environmentSuffix 'dev'",
	}, {
		name:   "stack left in its bootstrap state: bootstrap up again, then the image",
		rules:  []rule{noImageTag, imageMissing},
		args:   deployArgs,
		want:   []string{"pulumi --non-interactive up --stack dev --yes", "docker push *", "pulumi * config set --stack dev catalog:imageTag " + tag, "pulumi --non-interactive up --stack dev --yes"},
		absent: []string{"pulumi * config rm --stack dev catalog:imageTag", "openssl *"},
	}, {
		name:   "configuration unreadable (no passphrase): stop, generate no key, remove nothing",
		rules:  []rule{fail("pulumi --non-interactive config get *", 255, "error: constructing secrets manager of type \"passphrase\": passphrase must be set with PULUMI_CONFIG_PASSPHRASE\n")},
		args:   deployArgs,
		code:   1,
		absent: []string{"openssl *", "pulumi * config set *", "pulumi * config rm *", "pulumi * up *"},
		output: "PULUMI_CONFIG_PASSPHRASE",
	}, {
		name:   "outputs unreadable: stop before any up",
		rules:  []rule{fail("pulumi --non-interactive stack output --stack dev --json", 255, "error: could not reach the backend\n")},
		args:   deployArgs,
		code:   1,
		absent: []string{"pulumi * config rm *", "pulumi * up *"},
		output: "could not read the outputs",
	}, {
		name: "new stack with a committed example configuration in another region: configured, not refused",
		rules: []rule{newStack, noAPIKey, noImageTag, imageMissing,
			answer("pulumi --non-interactive config get --stack dev aws:region", "us-east-1\n"),
			answer("pulumi --non-interactive config get --stack dev catalog:environmentSuffix", "example\n")},
		args: []string{"--suffix", "dev", "--region", "eu-west-1"},
		want: []string{"pulumi --non-interactive config set --stack dev aws:region eu-west-1", "pulumi * config rm --stack dev catalog:imageTag", "pulumi * up *", "docker push *", "pulumi * up *"},
	}, {
		name:   "existing stack in another region: refused",
		args:   []string{"--suffix", "dev", "--region", "eu-west-1"},
		code:   1,
		absent: []string{"pulumi * up *", "pulumi * config set *", "docker *"},
		output: "the stack dev is in us-east-1",
	}, {
		name: "--environment on an existing stack is set",
		args: []string{"--suffix", "dev", "--environment", "staging", "--region", "us-east-1"},
		want: []string{"pulumi --non-interactive config set --stack dev catalog:environment staging", "pulumi * up *"},
	}, {
		name:   "tag already pushed: no build",
		args:   deployArgs,
		want:   []string{"aws ecr describe-images *", "pulumi --non-interactive up --stack dev --yes", "aws ecs wait services-stable *"},
		absent: []string{"docker *"},
	}, {
		name:   "no credentials: a clear message and no other call",
		rules:  []rule{fail("aws sts get-caller-identity *", 253, "Unable to locate credentials.\n")},
		args:   deployArgs,
		code:   1,
		want:   []string{"aws sts get-caller-identity *"},
		exact:  true,
		output: "no usable AWS credentials",
	}, {
		name:    "pulumi missing: refused before any call",
		missing: []string{"pulumi"},
		args:    deployArgs,
		code:    1,
		exact:   true,
		output:  "'pulumi' is not installed",
	}, {
		name:    "docker missing: refused before any call",
		missing: []string{"docker"},
		args:    deployArgs,
		code:    1,
		exact:   true,
		output:  "'docker' is not installed",
	}, {
		name:   "smoke test fails: non-zero exit",
		rules:  []rule{answer("curl *", "502")},
		args:   deployArgs,
		code:   1,
		want:   []string{"aws ecs wait services-stable *", "curl * " + alb + "/health"},
		output: "smoke test failed",
	}, {
		name:   "bootstrap up fails: stops before the image",
		rules:  []rule{newStack, noAPIKey, noImageTag, newConfig, fail("pulumi --non-interactive up *", 255, "error: update failed\n")},
		args:   deployArgs,
		code:   1,
		want:   []string{"pulumi --non-interactive up --stack dev --yes"},
		absent: []string{"docker *", "aws ecs *"},
		output: "pulumi up (bootstrap) failed",
	}, {
		name:   "parameter the script owns: usage error",
		args:   []string{"--param", "imageTag=x", "--region", "us-east-1"},
		code:   2,
		exact:  true,
		output: "--param imageTag: set by this script",
	}, {
		name: "fresh account: both service-linked roles created",
		rules: []rule{
			fail("aws iam get-role *", 254, "An error occurred (NoSuchEntity) when calling the GetRole operation\n"),
		},
		args: deployArgs,
		want: []string{
			"aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
			"aws iam create-service-linked-role --aws-service-name ecs.application-autoscaling.amazonaws.com",
			"pulumi --non-interactive stack select --create dev",
		},
	}, {
		name:  "destroy: the repository is emptied, then pulumi destroy",
		rules: []rule{answer("aws ecr list-images *", "sha256:aaa\n")},
		args:  destroyArgs,
		want: []string{
			"aws sts get-caller-identity *",
			"pulumi --non-interactive stack select dev",
			"pulumi --non-interactive stack output --stack dev ecrRepositoryUri",
			"aws ecr list-images --region us-east-1 --repository-name ecr-catalog-dev *",
			"aws ecr batch-delete-image --region us-east-1 --repository-name ecr-catalog-dev --image-ids imageDigest=sha256:aaa",
			"pulumi --non-interactive destroy --stack dev --yes",
		},
		absent: []string{"docker *", "pulumi * up *", "pulumi * stack rm *"},
		output: "pulumi stack rm dev",
	}, {
		name:   "destroy a stack that does not exist: nothing to do",
		rules:  []rule{fail("pulumi --non-interactive stack select dev", 255, "error: no stack named 'dev' found\n")},
		args:   destroyArgs,
		absent: []string{"pulumi * destroy *"},
		output: "nothing to destroy",
	}, {
		name:   "destroy without --yes and without a terminal: refused",
		args:   []string{"--suffix", "dev", "--region", "us-east-1", "--destroy"},
		code:   2,
		absent: []string{"pulumi * destroy *", "aws ecr batch-delete-image *"},
		output: "add --yes",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, append(tt.rules, pulumiRules()...), tt.missing...)
			res := e.run(t, "deploy-pulumi.sh", nil, tt.args...)
			checkRun(t, res, tt.code, tt.want, tt.absent, tt.exact, tt.output)
			if len(matching(res.calls, "pulumi * --secret catalog:apiKeys*")) > 0 {
				key := e.stdin(t, "pulumi")
				if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) {
					t.Errorf("catalog:apiKeys was set to %q, want 64 hex digits without a newline", key)
				}
				for _, c := range res.calls {
					if strings.Contains(c, key) {
						t.Errorf("the API key is on a command line: %q", c)
					}
				}
			}
		})
	}
}
