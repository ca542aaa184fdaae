# shellcheck shell=bash disable=SC2034 # the variables set here are read by the callers
# Shared functions of scripts/deploy-cloudformation.sh and scripts/deploy-pulumi.sh: argument
# parsing and checks, credentials, the ECS and Application Auto Scaling service-linked roles,
# the image (tag, ECR login, linux/amd64 build, push), waiting for the service and the smoke
# test. Sourced, never run. Each function says what it needs; the callers set PROG and define
# usage and tool_option (options only one tool has).

# The platform the task definitions pin (blueprint.ImagePlatform, runtimePlatform X86_64): an
# image built for the builder's own architecture on an arm64 laptop dies with "exec format error".
readonly IMAGE_PLATFORM=linux/amd64

# The service-linked roles a fresh account may lack. ECS creates AWSServiceRoleForECS on first
# use only when the caller may; the stack's scalable target needs the second one. Names from
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html and
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
readonly SERVICE_LINKED_ROLES="AWSServiceRoleForECS=ecs.amazonaws.com AWSServiceRoleForApplicationAutoScaling_ECSService=ecs.application-autoscaling.amazonaws.com"

# AWS CLI v2 pipes output through a pager on a terminal, which would stop the script.
export AWS_PAGER=""

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
# usage_error is a mistake in the command line: exit 2, as getopt-style tools do.
usage_error() {
  printf '%s: %s\nRun %s --help for the options.\n' "$PROG" "$*" "$PROG" >&2
  exit 2
}

# Options both scripts take; the callers read these after parse_args.
SUFFIX=dev
# Empty unless --environment is given: a new stack gets dev, an existing one keeps its own (a
# forgotten option must not turn prod's database into dev's).
ENVIRONMENT=
REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
TAG=
DESTROY=false
ASSUME_YES=false
PARAMS=()
# Smoke test budget: a new load balancer's DNS name can take a few minutes to resolve.
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-300}
SMOKE_INTERVAL=${SMOKE_INTERVAL:-10}

# parse_args reads the common options and hands the others to tool_option, which sets
# CONSUMED to the number of arguments it used (0: unknown option).
parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help)
        usage
        exit 0
        ;;
      --suffix | --env | --environment | --region | --tag | --param)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $1 in
          --suffix) SUFFIX=$2 ;;
          --env | --environment) ENVIRONMENT=$2 ;;
          --region) REGION=$2 ;;
          --tag) TAG=$2 ;;
          --param) PARAMS+=("$2") ;;
        esac
        shift 2
        ;;
      --suffix=* | --env=* | --environment=* | --region=* | --tag=* | --param=*)
        local name=${1%%=*} value=${1#*=}
        shift
        set -- "$name" "$value" "$@"
        ;;
      --destroy)
        DESTROY=true
        shift
        ;;
      -y | --yes)
        ASSUME_YES=true
        shift
        ;;
      *)
        CONSUMED=0
        tool_option "$@"
        [ "$CONSUMED" -gt 0 ] || usage_error "unknown option: $1"
        shift "$CONSUMED"
        ;;
    esac
  done
  check_common_args
}

# check_common_args applies the rules AWS would apply later, so a typo fails in a second with a
# message naming the option instead of half-way through a deploy.
check_common_args() {
  [[ $SUFFIX =~ ^[a-z0-9]+(-[a-z0-9]+)*$ && ${#SUFFIX} -le 16 ]] ||
    usage_error "--suffix '$SUFFIX': 1-16 lower-case letters, digits and inner hyphens (it ends every resource name)"
  case $ENVIRONMENT in
    '' | dev | staging | prod) ;;
    *) usage_error "--environment '$ENVIRONMENT': must be one of dev, staging, prod" ;;
  esac
  [ -n "$REGION" ] || REGION=$(aws configure get region 2>/dev/null || true)
  [ -n "$REGION" ] || usage_error "no region: pass --region or set AWS_REGION"
  [[ $REGION =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "--region '$REGION' is not an AWS region name (like us-east-1)"
  if [ -n "$TAG" ]; then
    # ECR's tag rule, the same as the stacks' ImageTag/imageTag.
    [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
      usage_error "--tag '$TAG': 1-128 letters, digits, '_', '.', '-', not starting with '.' or '-'"
  fi
  local p
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    [[ $p == *=* ]] || usage_error "--param '$p': expected KEY=VALUE"
    [[ ${p%%=*} =~ ^[A-Za-z][A-Za-z0-9]*$ ]] || usage_error "--param '$p': the key must be letters and digits"
  done
  [[ $SMOKE_TIMEOUT =~ ^[0-9]+$ ]] || usage_error "SMOKE_TIMEOUT '$SMOKE_TIMEOUT' is not a number of seconds"
  [[ $SMOKE_INTERVAL =~ ^[0-9]+$ ]] || usage_error "SMOKE_INTERVAL '$SMOKE_INTERVAL' is not a number of seconds"
}

# reject_params refuses pass-through keys that the script sets itself.
reject_params() {
  local p key reserved
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    key=${p%%=*}
    for reserved in "$@"; do
      [ "$key" != "$reserved" ] || usage_error "--param $key: set by this script (use --suffix, --environment or --tag)"
    done
  done
}

require_commands() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is not installed or not on PATH ($(install_hint "$c"))"
  done
}

install_hint() {
  case $1 in
    aws) echo "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" ;;
    docker) echo "install Docker with buildx: https://docs.docker.com/get-docker/" ;;
    pulumi) echo "install the Pulumi CLI 3.x: https://www.pulumi.com/docs/install/" ;;
    *) echo "install it and try again" ;;
  esac
}

# require_credentials sets ACCOUNT, or stops before anything else calls AWS.
require_credentials() {
  if ! ACCOUNT=$(aws sts get-caller-identity --region "$REGION" --query Account --output text 2>&1); then
    die "no usable AWS credentials (aws sts get-caller-identity failed: ${ACCOUNT//$'\n'/ }). Configure them with 'aws configure', 'aws sso login' or AWS_PROFILE and run again."
  fi
  [[ $ACCOUNT =~ ^[0-9]{12}$ ]] || die "aws sts get-caller-identity answered '$ACCOUNT', not an account ID"
  say "account $ACCOUNT, region $REGION"
}

# confirm_destroy asks for the name on a terminal; without one, --yes must say it.
confirm_destroy() {
  local what=$1 answer
  $ASSUME_YES && return 0
  [ -t 0 ] || usage_error "--destroy deletes $what and its database: add --yes to run it without a terminal"
  printf 'This deletes %s, its database (no final snapshot) and its images. Type %s to go on: ' "$what" "$what"
  read -r answer
  [ "$answer" = "$what" ] || die "not confirmed; nothing was deleted"
}

# ensure_service_linked_roles creates the roles a fresh account lacks. Creating one that exists
# fails, so it asks first; a role created by someone else in between is fine. An identity that
# may not read roles gets a warning, not a stop: the roles usually exist.
ensure_service_linked_roles() {
  local pair role service out
  for pair in $SERVICE_LINKED_ROLES; do
    role=${pair%%=*} service=${pair#*=}
    if out=$(aws iam get-role --role-name "$role" --query Role.RoleName --output text 2>&1); then
      continue
    fi
    if [[ $out != *NoSuchEntity* ]]; then
      warn "could not check the service-linked role $role (${out//$'\n'/ }); if the deploy fails with 'Unable to assume the service linked role', run: aws iam create-service-linked-role --aws-service-name $service"
      continue
    fi
    say "creating the service-linked role $role ($service)"
    if ! out=$(aws iam create-service-linked-role --aws-service-name "$service" 2>&1); then
      [[ $out == *"has been taken"* ]] ||
        die "could not create the service-linked role $role: $out (it needs iam:CreateServiceLinkedRole)"
    fi
  done
}

# default_tag is the commit's short hash, with -dirty when the work tree has changes, so a tag
# names exactly what was built; tags are immutable, so a dirty tree is built once per commit.
# Pulumi stack configuration files are deployment state, which `pulumi config set` changes,
# not source: they do not make the tree dirty.
default_tag() {
  local hash
  hash=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null) ||
    usage_error "not a git checkout: pass --tag"
  if [ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no -- . ':(exclude)deploy/pulumi/Pulumi.*.yaml' 2>/dev/null)" ]; then
    hash+=-dirty
  fi
  printf '%s\n' "$hash"
}

# image_pushed reports whether repository $1 has tag $2.
image_pushed() {
  local name=${1#*/} out
  if out=$(aws ecr describe-images --region "$REGION" --repository-name "$name" \
    --image-ids "imageTag=$2" --query 'imageDetails[0].imageDigest' --output text 2>&1); then
    return 0
  fi
  [[ $out == *ImageNotFoundException* ]] || die "could not look up $1:$2: $out"
  return 1
}

# build_and_push builds the image for the tasks' platform and pushes it, unless the tag is
# already in the repository: tags are immutable, so the pushed image is the one wanted.
build_and_push() {
  local repo=$1 tag=$2 registry=${1%%/*}
  [[ $registry =~ ^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$ ]] ||
    die "'$repo' is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>)"
  if image_pushed "$repo" "$tag"; then
    say "$repo:$tag is already pushed (tags are immutable): not building"
    return 0
  fi
  say "logging Docker in to $registry"
  aws ecr get-login-password --region "$REGION" |
    docker login --username AWS --password-stdin "$registry" ||
    die "docker login to $registry failed"
  say "building $repo:$tag for $IMAGE_PLATFORM"
  # BuildKit: the Dockerfile's cache mounts and $BUILDPLATFORM need it (older engines default
  # to the legacy builder).
  DOCKER_BUILDKIT=1 docker build --platform "$IMAGE_PLATFORM" \
    --build-arg "VERSION=$tag" \
    --build-arg "REVISION=$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --tag "$repo:$tag" "$REPO_ROOT" || die "docker build failed"
  say "pushing $repo:$tag"
  docker push "$repo:$tag" || die "docker push $repo:$tag failed"
}

# empty_repository deletes every image of repository $1, 100 per call (the API's limit).
empty_repository() {
  local name=${1#*/} digests ids=() d i
  digests=$(aws ecr list-images --region "$REGION" --repository-name "$name" \
    --query 'imageIds[].imageDigest' --output text 2>&1) || {
    [[ $digests == *RepositoryNotFoundException* ]] && return 0
    die "could not list the images of $name: $digests"
  }
  [ "$digests" != None ] || return 0
  # A digest with several tags is listed once per tag; one delete removes them all.
  for d in $(tr -s '[:space:]' '\n' <<<"$digests" | sort -u); do
    ids+=("imageDigest=$d")
  done
  [ ${#ids[@]} -gt 0 ] || return 0
  say "emptying the ECR repository $name (${#ids[@]} images)"
  for ((i = 0; i < ${#ids[@]}; i += 100)); do
    aws ecr batch-delete-image --region "$REGION" --repository-name "$name" \
      --image-ids "${ids[@]:i:100}" >/dev/null || die "could not delete images from $name"
  done
}

# file_digest prints the first 16 hex digits of a file's SHA-256 (macOS has shasum, Linux both).
file_digest() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -c1-16
  else
    shasum -a 256 "$1" | cut -c1-16
  fi
}

wait_service_stable() {
  local cluster=$1 service=$2
  say "waiting for $service to be stable (all tasks running and healthy)"
  aws ecs wait services-stable --region "$REGION" --cluster "$cluster" --services "$service" ||
    die "the service $service did not become stable: see 'aws ecs describe-services --cluster $cluster --services $service --query services[0].events[:10]' and the log group /ecs/$service"
}

# run_migrate runs the one-off migrate task (catalog migrate: the schema as the database owner,
# and the application role the service signs in as) with the image $5, in the service's network
# (private subnets $3, comma-separated; security group $4), waits for it to stop and stops the
# deploy unless its container exited 0, before the service is given that image. The deploy
# scripts first give the stack's migrate task definition $2 that image (MigrateImageTag); should
# it still run another (run-task cannot override an image), a revision with the image is
# registered first.
run_migrate() {
  local cluster=$1 taskdef=$2 subnets=$3 group=$4 image=$5 current def task result code reason
  current=$(aws ecs describe-task-definition --region "$REGION" --task-definition "$taskdef" \
    --query 'taskDefinition.containerDefinitions[0].image' --output text) ||
    die "could not read the migrate task definition $taskdef"
  if [ "$current" != "$image" ]; then
    def=$(aws ecs describe-task-definition --region "$REGION" --task-definition "$taskdef" \
      --query 'taskDefinition.{family:family,taskRoleArn:taskRoleArn,executionRoleArn:executionRoleArn,networkMode:networkMode,containerDefinitions:containerDefinitions,volumes:volumes,requiresCompatibilities:requiresCompatibilities,cpu:cpu,memory:memory,runtimePlatform:runtimePlatform}' \
      --output json) || die "could not read the migrate task definition $taskdef"
    def=${def//"\"$current\""/"\"$image\""}
    taskdef=$(aws ecs register-task-definition --region "$REGION" --cli-input-json "$def" \
      --query taskDefinition.taskDefinitionArn --output text) ||
      die "could not register the migrate task definition with $image"
  fi
  say "running the migrate task with $image (before the service gets it)"
  task=$(aws ecs run-task --region "$REGION" --cluster "$cluster" --task-definition "$taskdef" \
    --launch-type FARGATE --count 1 --started-by catalog-deploy \
    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$group],assignPublicIp=DISABLED}" \
    --query 'tasks[0].taskArn' --output text) || die "the migrate task did not start"
  [[ $task == arn:* ]] || die "the migrate task did not start (run-task answered '$task'): see 'aws ecs run-task' failures"
  aws ecs wait tasks-stopped --region "$REGION" --cluster "$cluster" --tasks "$task" ||
    die "the migrate task $task did not stop in time: see 'aws ecs describe-tasks --cluster $cluster --tasks $task'"
  result=$(aws ecs describe-tasks --region "$REGION" --cluster "$cluster" --tasks "$task" \
    --query 'tasks[0].[containers[0].exitCode,stoppedReason]' --output text) ||
    die "could not read how the migrate task $task ended"
  code=${result%%$'\t'*} reason=${result#*$'\t'}
  [ "$code" = 0 ] ||
    die "the migrate task exited with ${code:-no code} ($reason): the service keeps its current image; see the task's log stream (prefix catalog-migrate) in the service's log group"
  say "migrate task: exit 0"
}

# smoke_test checks /health and /ready through the load balancer, retrying every
# SMOKE_INTERVAL seconds for at most SMOKE_TIMEOUT seconds in all.
smoke_test() {
  local url=${1%/} path code deadline=$((SECONDS + SMOKE_TIMEOUT)) insecure=()
  # With CertificateArn the URL is https on the ALB's own name, which the certificate (for your
  # domain) does not cover: the smoke test checks the service, not the certificate.
  if [[ $url == https://*.elb.amazonaws.com* ]]; then
    insecure=(--insecure)
  fi
  for path in /health /ready; do
    while :; do
      code=$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
        --max-time 10 ${insecure[@]+"${insecure[@]}"} "$url$path" 2>/dev/null) || code=${code:-000}
      [ "$code" = 200 ] && break
      if [ "$SECONDS" -ge "$deadline" ]; then
        die "smoke test failed: GET $url$path answered ${code:-nothing} (want 200) for ${SMOKE_TIMEOUT}s"
      fi
      sleep "$SMOKE_INTERVAL"
    done
    say "GET $url$path: 200"
  done
}
