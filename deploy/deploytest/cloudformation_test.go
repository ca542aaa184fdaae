package deploytest

import (
	"strings"
	"testing"
)

const (
	account = "123456789012"
	repo    = account + ".dkr.ecr.us-east-1.amazonaws.com/ecr-catalog-dev"
	tag     = "abc123def456"
	alb     = "http://alb-catalog-dev-1234.us-east-1.elb.amazonaws.com"
	// prefixList is CloudFront's origin-facing prefix list in us-east-1.
	prefixList = "pl-3b927c52"
)

// The stack's outputs before the image (bootstrap: no ServiceName) and after, as
// describe-stacks --query '...[OutputKey,OutputValue]' --output text prints them.
var (
	bootstrapOutputs = "RepositoryUri\t" + repo + "\nServiceUrl\t" + alb + "\nClusterName\tcluster-catalog-dev\n" +
		"ApiKeySecretArn\tarn:aws:secretsmanager:us-east-1:" + account + ":secret:catalog/dev/api-keys-AbCdEf\n" +
		"DashboardUrl\thttps://console.aws.amazon.com/cloudwatch/home#dashboards:name=dashboard-catalog-dev\n"
	serviceOutputs = bootstrapOutputs + "ServiceName\tsvc-catalog-dev\n" +
		"MigrateTaskDefinitionArn\t" + migrateTaskDef + ":1\nPrivateSubnetIds\tsubnet-p1,subnet-p2,subnet-p3\nServiceSecurityGroupId\tsg-tasks\n"
	migrateTaskDef = "arn:aws:ecs:us-east-1:" + account + ":task-definition/task-catalog-migrate-dev"
	migrateTask    = "arn:aws:ecs:us-east-1:" + account + ":task/cluster-catalog-dev/0123456789abcdef"
	// migrateRun is the migrate task's run, in order: in the service's private subnets and group.
	migrateRun = []string{
		"aws ecs run-task --region us-east-1 --cluster cluster-catalog-dev --task-definition * --launch-type FARGATE --count 1 --started-by catalog-deploy " +
			"--network-configuration awsvpcConfiguration={subnets=[subnet-p1,subnet-p2,subnet-p3],securityGroups=[sg-tasks],assignPublicIp=DISABLED} *",
		"aws ecs wait tasks-stopped --region us-east-1 --cluster cluster-catalog-dev --tasks " + migrateTask,
		"aws ecs describe-tasks --region us-east-1 --cluster cluster-catalog-dev --tasks " + migrateTask + " *",
	}
	// migrateOldImage: the stack's migrate task definition still runs the previous image.
	migrateOldImage = answer("aws ecs describe-task-definition *containerDefinitions?0?.image*", repo+":0ld\n")
	migrateFails    = answer("aws ecs describe-tasks *", "1\tEssential container in task exited\n")
)

// commonRules answer what a healthy account answers; a case's own rules come first and win.
func commonRules() []rule {
	return []rule{
		answer("aws sts get-caller-identity *", account+"\n"),
		answer("aws iam get-role *", "role\n"),
		answer("aws s3api head-bucket *", ""),
		answer("aws ec2 describe-managed-prefix-lists *", prefixList+"\n"),
		answer("aws cloudformation describe-stacks *Outputs*", serviceOutputs),
		answer("aws ecr describe-images *", ""),
		answer("aws ecr get-login-password *", "ecr-password"),
		answer("aws cloudformation get-template *", "True\n"),
		answer("curl *", "200"),
		answer("git * rev-parse --short=12 HEAD", tag+"\n"),
		answer("git * rev-parse HEAD", tag+"0123456789abcdef0123456789\n"),
		answer("git * status --porcelain --untracked-files=no -- . :(exclude)deploy/pulumi/Pulumi.*.yaml", ""),
		answer("openssl rand -hex 32", strings.Repeat("ab", 32)+"\n"),
		answer("aws ecs describe-task-definition *containerDefinitions?0?.image*", repo+":"+tag+"\n"),
		answer("aws ecs describe-task-definition *", `{"family": "task-catalog-migrate-dev", "containerDefinitions": [{"image": "`+repo+`:0ld"}]}`+"\n"),
		answer("aws ecs register-task-definition *", migrateTaskDef+":2\n"),
		answer("aws ecs run-task *", migrateTask+"\n"),
		answer("aws ecs wait tasks-stopped *", ""),
		answer("aws ecs describe-tasks *", "0\tEssential container in task exited\n"),
	}
}

var (
	noStack        = fail("aws cloudformation describe-stacks *StackStatus*", 254, "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id catalog-dev does not exist\n")
	stackExists    = answer("aws cloudformation describe-stacks *StackStatus*", "UPDATE_COMPLETE\tdev\n")
	imageMissing   = fail("aws ecr describe-images *", 254, "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: The image with imageId {imageTag:'x'} does not exist\n")
	bootstrapFirst = once("aws cloudformation describe-stacks *Outputs*", bootstrapOutputs)
)

// firstDeploy is the calls of a first deploy, in order: each pattern names the command and the
// arguments that matter. root is the repository, the build context.
func firstDeploy(root string) []string {
	return []string{
		"aws sts get-caller-identity --region us-east-1 --query Account --output text",
		"aws iam get-role --role-name AWSServiceRoleForECS *",
		"aws iam get-role --role-name AWSServiceRoleForApplicationAutoScaling_ECSService *",
		"aws s3api head-bucket --bucket catalog-cfn-templates-" + account + "-us-east-1 *",
		"aws s3 cp * */deploy/cloudformation/catalog.json s3://catalog-cfn-templates-" + account + "-us-east-1/catalog/catalog-dev/*.json",
		"aws cloudformation validate-template --region us-east-1 --template-url https://catalog-cfn-templates-" + account + "-us-east-1.s3.us-east-1.amazonaws.com/catalog/catalog-dev/*.json",
		"aws ec2 describe-managed-prefix-lists --region us-east-1 --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing --query PrefixLists[0].PrefixListId --output text",
		"aws cloudformation describe-stacks --region us-east-1 --stack-name catalog-dev --query Stacks[0].[StackStatus,Parameters[?ParameterKey=='EnvironmentSuffix'].ParameterValue|[0],Parameters[?ParameterKey=='SaleEnd'].ParameterValue|[0]] --output text",
		"aws cloudformation deploy --region us-east-1 --stack-name catalog-dev --template-file */deploy/cloudformation/catalog.json --s3-bucket catalog-cfn-templates-" + account + "-us-east-1 --s3-prefix catalog/catalog-dev --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --parameter-overrides EnvironmentSuffix=dev Environment=dev CloudFrontPrefixListId=" + prefixList + " ImageTag= ContainerImage= NatGatewayMode=single",
		"aws cloudformation describe-stacks --region us-east-1 --stack-name catalog-dev --query Stacks[0].Outputs[].[OutputKey,OutputValue] --output text",
		"aws ecr describe-images --region us-east-1 --repository-name ecr-catalog-dev --image-ids imageTag=" + tag + " *",
		"aws ecr get-login-password --region us-east-1",
		"docker login --username AWS --password-stdin " + account + ".dkr.ecr.us-east-1.amazonaws.com",
		"docker build --platform linux/amd64 --build-arg VERSION=" + tag + " --build-arg REVISION=" + tag + "0123456789abcdef0123456789 --build-arg CREATED=20*Z --tag " + repo + ":" + tag + " " + root,
		"docker push " + repo + ":" + tag,
		"aws cloudformation deploy --region us-east-1 --stack-name catalog-dev * --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset --parameter-overrides EnvironmentSuffix=dev Environment=dev CloudFrontPrefixListId=" + prefixList + " ImageTag=" + tag + " ContainerImage= MigrateImageTag= NatGatewayMode=single",
		"aws cloudformation describe-stacks * --query Stacks[0].Outputs*",
		// The first image: the migrate task exists from this deploy on and runs its image.
		"aws ecs describe-task-definition --region us-east-1 --task-definition " + migrateTaskDef + ":1 *",
		migrateRun[0], migrateRun[1], migrateRun[2],
		"aws ecs wait services-stable --region us-east-1 --cluster cluster-catalog-dev --services svc-catalog-dev",
		"curl * --max-time 10 " + alb + "/health",
		"curl * --max-time 10 " + alb + "/ready",
	}
}

func TestDeployCloudFormation(t *testing.T) {
	root := repoRoot(t)
	deployArgs := []string{"--suffix", "dev", "--region", "us-east-1", "--param", "NatGatewayMode=single"}
	tests := []struct {
		name    string
		rules   []rule
		missing []string // fake commands left off PATH
		env     []string
		args    []string
		code    int
		want    []string // patterns of calls, in this order
		absent  []string // patterns no call may match
		exact   bool     // the calls are exactly want: nothing else was called
		output  string   // in stdout+stderr
	}{{
		name:   "first deploy from nothing",
		rules:  []rule{noStack, bootstrapFirst, imageMissing},
		args:   deployArgs,
		want:   firstDeploy(root),
		absent: []string{"aws iam create-service-linked-role *", "aws s3api create-bucket *"},
		output: "aws secretsmanager get-secret-value --region us-east-1 --secret-id arn:aws:secretsmanager:us-east-1:" + account + ":secret:catalog/dev/api-keys-AbCdEf --query SecretString --output text",
	}, {
		name:  "update: the service exists, so no bootstrap deploy",
		rules: []rule{stackExists, imageMissing},
		args:  deployArgs,
		want: []string{
			"aws cloudformation describe-stacks * --query Stacks[0].[StackStatus,* --output text",
			"aws cloudformation describe-stacks * --query Stacks[0].Outputs*",
			"docker build --platform linux/amd64 *",
			"docker push *",
			"aws cloudformation deploy * ImageTag=" + tag + " ContainerImage= MigrateImageTag= NatGatewayMode=single",
			"aws ecs wait services-stable *",
			"curl *",
		},
		absent: []string{"aws cloudformation deploy * ImageTag= ContainerImage= *", "aws cloudformation deploy * Environment=*"},
	}, {
		name:  "update: the stack's migrate task gets the new image and runs before the service gets it",
		rules: []rule{stackExists, imageMissing},
		args:  deployArgs,
		want: append(append([]string{
			"docker push *",
			// Only the migrate task definition changes: ImageTag keeps its value.
			"aws cloudformation deploy * --parameter-overrides EnvironmentSuffix=dev CloudFrontPrefixListId=" + prefixList + " MigrateImageTag=" + tag + " NatGatewayMode=single",
			"aws cloudformation describe-stacks * --query Stacks[0].Outputs*",
			"aws ecs describe-task-definition --region us-east-1 --task-definition " + migrateTaskDef + ":1 --query taskDefinition.containerDefinitions[0].image --output text",
			"aws ecs run-task * --task-definition " + migrateTaskDef + ":1 *",
		}, migrateRun[1:]...),
			"aws cloudformation deploy * ImageTag="+tag+" ContainerImage= MigrateImageTag= NatGatewayMode=single",
			"aws ecs wait services-stable *",
		),
		absent: []string{"aws ecs register-task-definition *"},
	}, {
		name:  "update: a migrate task definition on another image still gets a revision with the new one",
		rules: []rule{stackExists, imageMissing, migrateOldImage},
		args:  deployArgs,
		want: append(append([]string{
			"docker push *",
			"aws cloudformation deploy * MigrateImageTag=" + tag + " *",
			"aws ecs describe-task-definition --region us-east-1 --task-definition " + migrateTaskDef + ":1 --query taskDefinition.containerDefinitions[0].image --output text",
			"aws ecs describe-task-definition --region us-east-1 --task-definition " + migrateTaskDef + ":1 --query taskDefinition.{family:family,* --output json",
			// run-task cannot override the image: a revision of the task with the new one.
			"aws ecs register-task-definition --region us-east-1 --cli-input-json *\"image\": \"" + repo + ":" + tag + "\"* --query taskDefinition.taskDefinitionArn --output text",
			"aws ecs run-task * --task-definition " + migrateTaskDef + ":2 *",
		}, migrateRun[1:]...),
			"aws cloudformation deploy * ImageTag="+tag+" ContainerImage= MigrateImageTag= NatGatewayMode=single",
			"aws ecs wait services-stable *",
		),
		absent: []string{"aws ecs register-task-definition * " + repo + ":0ld*"},
	}, {
		name:   "update: a failed migration stops the deploy, the service keeps its image",
		rules:  []rule{stackExists, imageMissing, migrateOldImage, migrateFails},
		args:   deployArgs,
		code:   1,
		want:   append([]string{"docker push *", "aws cloudformation deploy * MigrateImageTag=" + tag + " NatGatewayMode=single"}, migrateRun...),
		absent: []string{"aws cloudformation deploy * ImageTag=" + tag + " *", "aws ecs wait services-stable *"},
		output: "the migrate task exited with 1 (Essential container in task exited): the service keeps its current image",
	}, {
		name:   "region without CloudFront's prefix list: stops before any deploy",
		rules:  []rule{answer("aws ec2 describe-managed-prefix-lists *", "None\n"), noStack},
		args:   deployArgs,
		code:   1,
		absent: []string{"aws cloudformation deploy *"},
		output: "has no com.amazonaws.global.cloudfront.origin-facing prefix list",
	}, {
		name:  "update with --environment: passed on",
		rules: []rule{stackExists},
		args:  []string{"--suffix", "dev", "--environment", "staging", "--region", "us-east-1"},
		want:  []string{"aws cloudformation deploy * --parameter-overrides EnvironmentSuffix=dev Environment=staging CloudFrontPrefixListId=" + prefixList + " ImageTag=" + tag + " ContainerImage= MigrateImageTag="},
	}, {
		// blueprint.SaleWindowAhead: a schedule created or changed after its time has no
		// documented behaviour, so an ended window is refused before any deploy.
		name:   "the stack keeps a sale window that has ended: refused, nothing deployed",
		rules:  []rule{answer("aws cloudformation describe-stacks *StackStatus*", "UPDATE_COMPLETE\tdev\t2020-11-27T12:00:00\n")},
		args:   deployArgs,
		code:   1,
		absent: []string{"aws cloudformation deploy *", "docker *"},
		output: "the planned sale ended at 2020-11-27T12:00:00 UTC",
	}, {
		name:  "the ended window cleared with --param: deployed",
		rules: []rule{answer("aws cloudformation describe-stacks *StackStatus*", "UPDATE_COMPLETE\tdev\t2020-11-27T12:00:00\n"), imageMissing},
		args:  append([]string{"--param", "SaleStart=", "--param", "SaleEnd="}, deployArgs...),
		want:  []string{"aws cloudformation deploy * ImageTag=" + tag + " ContainerImage= MigrateImageTag= SaleStart= SaleEnd= NatGatewayMode=single", "curl *"},
	}, {
		name:  "a sale window ahead (or under way) on the stack: deployed",
		rules: []rule{answer("aws cloudformation describe-stacks *StackStatus*", "UPDATE_COMPLETE\tdev\t2099-11-27T12:00:00\n"), imageMissing},
		args:  deployArgs,
		want:  []string{"aws cloudformation deploy * ImageTag=" + tag + " *", "curl *"},
	}, {
		name:   "a new stack given an ended window: refused before the bootstrap deploy",
		rules:  []rule{noStack},
		args:   append([]string{"--param", "SaleStart=2020-11-27T08:55:00", "--param", "SaleEnd=2020-11-27T12:00:00"}, deployArgs...),
		code:   1,
		absent: []string{"aws cloudformation deploy *"},
		output: "with --param SaleStart= --param SaleEnd=",
	}, {
		name:   "existing stack with another suffix: refused, nothing replaced",
		rules:  []rule{stackExists},
		args:   []string{"--suffix", "dev2", "--stack-name", "catalog-dev", "--region", "us-east-1"},
		code:   1,
		absent: []string{"aws cloudformation deploy *", "docker *"},
		output: "has the suffix 'dev'",
	}, {
		name:  "stack left in its bootstrap state: bootstrap deploy again, then the image",
		rules: []rule{stackExists, {pattern: "aws cloudformation describe-stacks *Outputs*", uses: 2, stdout: bootstrapOutputs}, imageMissing},
		args:  deployArgs,
		want: []string{
			"aws cloudformation deploy * ImageTag= ContainerImage= *",
			"docker push *",
			"aws cloudformation deploy * ImageTag=" + tag + " *",
			"aws ecs wait services-stable *",
		},
	}, {
		name:  "tag already pushed: no build",
		rules: []rule{stackExists},
		args:  deployArgs,
		want: []string{
			"aws ecr describe-images * --image-ids imageTag=" + tag + " *",
			"aws cloudformation deploy * ImageTag=" + tag + " *",
			"aws ecs wait services-stable *",
		},
		absent: []string{"docker *", "aws ecr get-login-password *"},
		output: "already pushed",
	}, {
		name:  "dirty work tree: the tag says so",
		rules: []rule{answer("git * status *", " M README.md\n"), stackExists, imageMissing},
		args:  deployArgs,
		want:  []string{"docker build * --tag " + repo + ":" + tag + "-dirty *", "aws cloudformation deploy * ImageTag=" + tag + "-dirty *"},
	}, {
		name:  "explicit tag",
		rules: []rule{stackExists, imageMissing},
		args:  append([]string{"--tag", "v1.4.0"}, deployArgs...),
		want:  []string{"docker push " + repo + ":v1.4.0", "aws cloudformation deploy * ImageTag=v1.4.0 *"},
	}, {
		name:   "no credentials: a clear message and no other call",
		rules:  []rule{fail("aws sts get-caller-identity *", 253, "Unable to locate credentials. You can configure credentials by running \"aws configure\".\n")},
		args:   deployArgs,
		code:   1,
		want:   []string{"aws sts get-caller-identity *"},
		exact:  true,
		output: "no usable AWS credentials",
	}, {
		name:    "docker missing: refused before any call",
		missing: []string{"docker"},
		args:    deployArgs,
		code:    1,
		exact:   true,
		output:  "'docker' is not installed",
	}, {
		name:    "aws missing: refused before any call",
		missing: []string{"aws"},
		args:    deployArgs,
		code:    1,
		exact:   true,
		output:  "'aws' is not installed",
	}, {
		name:   "smoke test fails: non-zero exit",
		rules:  []rule{stackExists, answer("curl *", "503")},
		args:   deployArgs,
		code:   1,
		want:   []string{"aws ecs wait services-stable *", "curl * " + alb + "/health"},
		absent: []string{"curl * " + alb + "/ready"},
		output: "smoke test failed: GET " + alb + "/health answered 503",
	}, {
		name:   "smoke test retries until the load balancer answers",
		rules:  []rule{stackExists, once("curl *", "000"), once("curl *", "503")},
		env:    []string{"SMOKE_TIMEOUT=60"},
		args:   deployArgs,
		want:   []string{"curl * " + alb + "/health", "curl * " + alb + "/health", "curl * " + alb + "/health", "curl * " + alb + "/ready"},
		output: "GET " + alb + "/ready: 200",
	}, {
		name:   "HTTPS on the load balancer's own name: the smoke test does not check the certificate",
		rules:  []rule{stackExists, answer("aws cloudformation describe-stacks *Outputs*", strings.ReplaceAll(serviceOutputs, "http://", "https://"))},
		args:   deployArgs,
		want:   []string{"curl * --insecure https://alb-catalog-dev-1234.us-east-1.elb.amazonaws.com/health", "curl * --insecure https://alb-catalog-dev-1234.us-east-1.elb.amazonaws.com/ready"},
		absent: []string{"curl * http://*"},
	}, {
		name:   "service never stable: non-zero exit, no smoke test",
		rules:  []rule{stackExists, fail("aws ecs wait services-stable *", 255, "Waiter ServicesStable failed: Max attempts exceeded\n")},
		args:   deployArgs,
		code:   1,
		absent: []string{"curl *"},
		output: "did not become stable",
	}, {
		name:   "stack whose creation failed: told to destroy it",
		rules:  []rule{answer("aws cloudformation describe-stacks *StackStatus*", "ROLLBACK_COMPLETE\tdev\n")},
		args:   deployArgs,
		code:   1,
		absent: []string{"aws cloudformation deploy *"},
		output: "--destroy",
	}, {
		name: "fresh account: both service-linked roles created",
		rules: []rule{
			fail("aws iam get-role *", 254, "An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name X cannot be found.\n"),
			stackExists,
		},
		args: deployArgs,
		want: []string{
			"aws iam get-role --role-name AWSServiceRoleForECS *",
			"aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
			"aws iam get-role --role-name AWSServiceRoleForApplicationAutoScaling_ECSService *",
			"aws iam create-service-linked-role --aws-service-name ecs.application-autoscaling.amazonaws.com",
			"aws cloudformation validate-template *",
		},
	}, {
		name:   "service-linked roles present: none created",
		rules:  []rule{stackExists},
		args:   deployArgs,
		want:   []string{"aws iam get-role --role-name AWSServiceRoleForECS *", "aws iam get-role --role-name AWSServiceRoleForApplicationAutoScaling_ECSService *"},
		absent: []string{"aws iam create-service-linked-role *"},
	}, {
		name:   "roles unreadable (no iam:GetRole): a warning, no creation, the deploy goes on",
		rules:  []rule{fail("aws iam get-role *", 254, "An error occurred (AccessDenied) when calling the GetRole operation: not authorized\n"), stackExists},
		args:   deployArgs,
		want:   []string{"aws iam get-role *", "aws cloudformation deploy *", "curl *"},
		absent: []string{"aws iam create-service-linked-role *"},
		output: "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com",
	}, {
		name: "role created by someone else meanwhile: fine",
		rules: []rule{
			fail("aws iam get-role *", 254, "An error occurred (NoSuchEntity) when calling the GetRole operation\n"),
			fail("aws iam create-service-linked-role *", 254, "An error occurred (InvalidInput) when calling the CreateServiceLinkedRole operation: Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.\n"),
			stackExists,
		},
		args: deployArgs,
		want: []string{"aws iam create-service-linked-role *", "aws cloudformation deploy *"},
	}, {
		name: "role creation refused: stop",
		rules: []rule{
			fail("aws iam get-role *", 254, "An error occurred (NoSuchEntity) when calling the GetRole operation\n"),
			fail("aws iam create-service-linked-role *", 254, "An error occurred (AccessDenied) when calling the CreateServiceLinkedRole operation\n"),
		},
		args:   deployArgs,
		code:   1,
		absent: []string{"aws cloudformation *"},
		output: "needs iam:CreateServiceLinkedRole",
	}, {
		name: "template bucket created, private, in us-east-1 without a LocationConstraint",
		rules: []rule{
			fail("aws s3api head-bucket *", 254, "An error occurred (404) when calling the HeadBucket operation: Not Found\n"),
			stackExists,
		},
		args: deployArgs,
		want: []string{
			"aws s3api create-bucket --bucket catalog-cfn-templates-" + account + "-us-east-1 --region us-east-1",
			"aws s3api put-public-access-block --bucket catalog-cfn-templates-" + account + "-us-east-1 * BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
			"aws s3api put-bucket-lifecycle-configuration *",
			"aws s3 cp *",
		},
	}, {
		name: "template bucket in another region names its LocationConstraint",
		rules: []rule{
			fail("aws s3api head-bucket *", 254, "Not Found\n"),
			stackExists,
			answer("aws cloudformation describe-stacks *Outputs*", strings.ReplaceAll(serviceOutputs, "us-east-1", "eu-west-1")),
		},
		args: []string{"--suffix", "dev", "--region", "eu-west-1"},
		want: []string{
			"aws s3api create-bucket --bucket catalog-cfn-templates-" + account + "-eu-west-1 --region eu-west-1 --create-bucket-configuration LocationConstraint=eu-west-1",
			"aws cloudformation validate-template --region eu-west-1 --template-url https://catalog-cfn-templates-" + account + "-eu-west-1.s3.eu-west-1.amazonaws.com/*",
		},
	}, {
		name:   "own bucket and stack name",
		rules:  []rule{answer("aws cloudformation describe-stacks *StackStatus*", "UPDATE_COMPLETE\tqa1\n")},
		args:   []string{"--suffix", "qa1", "--stack-name", "team-catalog-qa1", "--s3-bucket", "my-templates", "--environment", "staging", "--region", "us-east-1"},
		want:   []string{"aws s3api head-bucket --bucket my-templates *", "aws cloudformation deploy --region us-east-1 --stack-name team-catalog-qa1 * --s3-bucket my-templates * --parameter-overrides EnvironmentSuffix=qa1 Environment=staging CloudFrontPrefixListId=" + prefixList + " ImageTag=" + tag + " ContainerImage= MigrateImageTag="},
		absent: []string{"*catalog-cfn-templates*"},
	}, {
		name:   "bad suffix: usage error, no call",
		args:   []string{"--suffix", "Dev_1", "--region", "us-east-1"},
		code:   2,
		exact:  true,
		output: "--suffix 'Dev_1'",
	}, {
		name:   "bad environment: usage error, no call",
		args:   []string{"--environment", "production", "--region", "us-east-1"},
		code:   2,
		exact:  true,
		output: "must be one of dev, staging, prod",
	}, {
		name:   "parameter the script owns: usage error",
		args:   []string{"--param", "ImageTag=x", "--region", "us-east-1"},
		code:   2,
		exact:  true,
		output: "--param ImageTag: set by this script",
	}, {
		name:   "unknown option: usage error",
		args:   []string{"--stack", "x", "--region", "us-east-1"},
		code:   2,
		exact:  true,
		output: "unknown option: --stack",
	}, {
		name:   "help",
		args:   []string{"--help"},
		exact:  true,
		output: "--param KEY=VALUE",
	}, {
		name:  "destroy: the template empties the repository, so only the stack is deleted",
		rules: []rule{stackExists},
		args:  []string{"--suffix", "dev", "--region", "us-east-1", "--destroy", "--yes"},
		want: []string{
			"aws sts get-caller-identity *",
			"aws cloudformation describe-stacks * --query Stacks[0].[StackStatus,* --output text",
			"aws cloudformation get-template --region us-east-1 --stack-name catalog-dev --query TemplateBody.Resources.Repository.Properties.EmptyOnDelete --output text",
			"aws cloudformation delete-stack --region us-east-1 --stack-name catalog-dev",
			"aws cloudformation wait stack-delete-complete --region us-east-1 --stack-name catalog-dev",
		},
		absent: []string{"aws ecr *", "docker *", "aws cloudformation deploy *", "aws iam *"},
		output: "--snapshot-type manual",
	}, {
		name: "destroy: a repository without EmptyOnDelete is emptied first",
		rules: []rule{
			stackExists,
			answer("aws cloudformation get-template *", "None\n"),
			answer("aws ecr list-images *", "sha256:aaa\tsha256:bbb\tsha256:aaa\n"),
		},
		args: []string{"--suffix", "dev", "--region", "us-east-1", "--destroy", "--yes"},
		want: []string{
			"aws ecr list-images --region us-east-1 --repository-name ecr-catalog-dev --query imageIds[].imageDigest --output text",
			"aws ecr batch-delete-image --region us-east-1 --repository-name ecr-catalog-dev --image-ids imageDigest=sha256:aaa imageDigest=sha256:bbb",
			"aws cloudformation delete-stack *",
			"aws cloudformation wait stack-delete-complete *",
		},
	}, {
		name:   "destroy without --yes and without a terminal: refused",
		rules:  []rule{stackExists},
		args:   []string{"--suffix", "dev", "--region", "us-east-1", "--destroy"},
		code:   2,
		absent: []string{"aws cloudformation delete-stack *"},
		output: "add --yes",
	}, {
		name:   "destroy a stack that does not exist: nothing to do",
		rules:  []rule{noStack},
		args:   []string{"--suffix", "dev", "--region", "us-east-1", "--destroy", "--yes"},
		absent: []string{"aws cloudformation delete-stack *"},
		output: "nothing to delete",
	}, {
		name:    "destroy needs no docker",
		rules:   []rule{stackExists},
		missing: []string{"docker"},
		args:    []string{"--suffix", "dev", "--region", "us-east-1", "--destroy", "--yes"},
		want:    []string{"aws cloudformation delete-stack *"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, append(tt.rules, commonRules()...), tt.missing...)
			res := e.run(t, "deploy-cloudformation.sh", tt.env, tt.args...)
			checkRun(t, res, tt.code, tt.want, tt.absent, tt.exact, tt.output)
			for _, v := range e.envOf(t, "aws *") {
				if !strings.HasPrefix(v, "AWS_PAGER= ") {
					t.Errorf("aws ran with %s: the CLI's pager would stop the script on a terminal", v)
					break
				}
			}
			for _, v := range e.envOf(t, "docker build *") {
				if !strings.HasSuffix(v, " DOCKER_BUILDKIT=1") {
					t.Errorf("docker build ran with %s: the Dockerfile needs BuildKit", v)
				}
			}
			if res.code == 0 && len(matching(res.calls, "docker login *")) > 0 {
				if got := e.stdin(t, "docker"); got != "ecr-password" {
					t.Errorf("docker login read %q from stdin, want the ECR password", got)
				}
			}
		})
	}
}

// checkRun holds a run to its exit code, its calls (want in order, none of absent; with
// exact, nothing but want) and a piece of its output.
func checkRun(t *testing.T, res result, code int, want, absent []string, exact bool, output string) {
	t.Helper()
	if res.code != code {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", res.code, code, res.stderr)
	}
	if missing := inOrder(res.calls, want); missing != "" {
		t.Errorf("no call %q (in this order)\ncalls:\n  %s", missing, strings.Join(res.calls, "\n  "))
	}
	for _, a := range absent {
		if got := matching(res.calls, a); len(got) > 0 {
			t.Errorf("unexpected call %q\ncalls:\n  %s", got[0], strings.Join(res.calls, "\n  "))
		}
	}
	if exact && len(res.calls) != len(want) {
		t.Errorf("%d calls, want exactly %d:\n  %s", len(res.calls), len(want), strings.Join(res.calls, "\n  "))
	}
	if !strings.Contains(res.stdout+res.stderr, output) {
		t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", output, res.stdout, res.stderr)
	}
}
