#!/usr/bin/env bash
# Deploy (or --destroy) the catalog Pulumi stack from an empty account in one command: the
# service-linked roles, the stack and its configuration (a generated API key the first time),
# the bootstrap `pulumi up` (everything but the service, so the ECR repository exists), the
# image built for linux/amd64 and pushed, `pulumi up` with catalog:imageTag, the wait for a
# stable service and a smoke test through the load balancer. Needs the Pulumi CLI (logged in to
# a backend), the AWS CLI v2 and Docker. Run with --help for the options.
set -euo pipefail
PROG=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/deploy.sh
. "$(dirname "$0")/lib/deploy.sh"

PROJECT_DIR=$REPO_ROOT/deploy/pulumi
STACK=

usage() {
  cat <<EOF
Usage: $PROG [options]

Deploys the catalog Pulumi program (deploy/pulumi) and the service
image; run it again to deploy the current commit. --destroy destroys the stack's resources.

Options:
  --suffix SUFFIX        environment suffix of every resource name (default: dev)
  --stack NAME           Pulumi stack (default: SUFFIX)
  --environment ENV      dev, staging or prod (default: dev for a new stack; an existing
                         stack keeps its own)
  --region REGION        AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, aws configure)
  --param KEY=VALUE      catalog:KEY configuration, repeatable (e.g. --param natMode=single)
  --tag TAG              image tag (default: the commit's short hash, -dirty if changed)
  --destroy              destroy the stack's resources (asks for the stack name; --yes skips it)
  -y, --yes              do not ask before --destroy
  -h, --help             this help

The Pulumi backend is whatever 'pulumi login' chose (Pulumi Cloud, --local or s3://...).
Environment: SMOKE_TIMEOUT (seconds, default 300) and SMOKE_INTERVAL (default 10) bound the
smoke test of GET /health and GET /ready.

Examples:
  $PROG --suffix dev --param natMode=single
  $PROG --suffix prod --environment prod --param alertEmail=oncall@example.com
  $PROG --suffix dev --destroy
EOF
}

tool_option() {
  case $1 in
    --stack)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      STACK=$2
      CONSUMED=2
      ;;
  esac
}

parse_args "$@"
reject_params environmentSuffix environment imageTag image apiKeys migrateImageTag
STACK=${STACK:-$SUFFIX}
[[ $STACK =~ ^[A-Za-z0-9_./-]{1,100}$ ]] || usage_error "--stack '$STACK': letters, digits, '-', '_', '.', '/'"

if $DESTROY; then
  require_commands pulumi aws
else
  require_commands pulumi aws docker openssl
fi
require_credentials
cd "$PROJECT_DIR"

# p runs a pulumi command on $STACK: --stack goes after the command's words ("up", "config
# set", "stack output"), before the arguments, which may follow a "--".
p() {
  local n=1
  case $1 in config | stack) n=2 ;; esac
  pulumi --non-interactive "${@:1:n}" --stack "$STACK" "${@:n+1}"
}

# config_get prints the configuration value $1, or nothing when it is not set. Any other
# failure (a backend or passphrase problem) stops the script: taking it for "not set" would
# generate a new API key or remove the service.
config_get() {
  local out
  if out=$(p config get "$1" 2>&1); then
    printf '%s\n' "$out"
  elif [[ $out != *"not found"* ]]; then
    die "could not read $1 of the stack $STACK: $out"
  fi
}

config_value() { config_get "catalog:$1"; }

# output_value prints the stack output $1, or nothing when the stack has none.
output_value() { p stack output "$1" 2>/dev/null || true; }

# migrate runs the migrate task definition $1 with the image $2 in the service's network (the
# stack's private subnets, a JSON list here, and the service's security group).
migrate() {
  local subnets
  subnets=$(p stack output privateSubnetIds --json 2>/dev/null) || die "the stack $STACK has no privateSubnetIds output"
  subnets=${subnets//[$'\n\r\t '\"\[\]]/}
  run_migrate "$(output_value clusterName)" "$1" "$subnets" "$(output_value serviceSecurityGroupId)" "$2"
}

# configure sets the stack's configuration; $1 says whether the stack has resources.
configure() {
  # Another suffix or region renames or moves, so replaces, every resource, the database
  # included: a deployed stack keeps its own. (A new stack may carry a committed example
  # configuration, Pulumi.<stack>.yaml, whose values are not deployed yet.)
  local suffix region
  suffix=$(config_value environmentSuffix)
  if $1 && [ -n "$suffix" ] && [ "$suffix" != "$SUFFIX" ]; then
    die "the stack $STACK has catalog:environmentSuffix '$suffix': deploying it with --suffix $SUFFIX would replace every named resource, the database included. Pass --suffix $suffix --stack $STACK"
  fi
  region=$(config_get aws:region)
  if $1 && [ -n "$region" ] && [ "$region" != "$REGION" ]; then
    die "the stack $STACK is in $region: deploying it to $REGION would replace every resource. Pass --region $region"
  fi
  say "configuring the stack $STACK"
  p config set aws:region "$REGION"
  p config set catalog:environmentSuffix "$SUFFIX"
  if [ -n "$ENVIRONMENT" ] || [ -z "$(config_value environment)" ]; then
    p config set catalog:environment "${ENVIRONMENT:-dev}"
  fi
  local kv
  for kv in ${PARAMS[@]+"${PARAMS[@]}"}; do
    p config set "catalog:${kv%%=*}" -- "${kv#*=}"
  done
  # The key goes through stdin, never argv (which other users of the machine can read).
  if [ -z "$(config_value apiKeys)" ]; then
    say "generating the API key (catalog:apiKeys, a Pulumi secret)"
    local key
    key=$(openssl rand -hex 32) || die "openssl rand failed"
    printf '%s' "$key" | p config set --secret catalog:apiKeys || die "could not set catalog:apiKeys"
  fi
}

destroy() {
  if ! pulumi --non-interactive stack select "$STACK" >/dev/null 2>&1; then
    say "there is no Pulumi stack $STACK: nothing to destroy"
    return 0
  fi
  confirm_destroy "$STACK"
  # The program's repository has forceDelete; emptying first also covers a stack created by an
  # older program without it, which the CLI cannot tell.
  local repo
  repo=$(output_value ecrRepositoryUri)
  [ -z "$repo" ] || empty_repository "$repo"
  say "destroying the stack $STACK (about 15 minutes: the database and NAT gateways take longest)"
  p destroy --yes || die "pulumi destroy failed: run it again ('cd deploy/pulumi && pulumi destroy --stack $STACK')"
  cat <<EOF
==> destroyed the resources of $STACK. What remains:
  - the Pulumi stack itself (configuration, encrypted API key, history); remove it with
      (cd deploy/pulumi && pulumi stack rm $STACK)
  - manual database snapshots you took (the cluster is deleted without a final snapshot,
    skipFinalSnapshot, by default its automated backups too):
      aws rds describe-db-cluster-snapshots --region $REGION --snapshot-type manual --db-cluster-identifier db-catalog-$SUFFIX
  - the logs' KMS key, pending deletion for 7 days, and the service-linked roles
EOF
}

deploy() {
  TAG=${TAG:-$(default_tag)}
  ensure_service_linked_roles
  pulumi --non-interactive stack select --create "$STACK" || die "could not select or create the Pulumi stack $STACK (is 'pulumi login' done?)"

  local repo outputs deployed=true
  outputs=$(p stack output --json) || die "could not read the outputs of the stack $STACK"
  [ "$(tr -d '[:space:]' <<<"$outputs")" != "{}" ] || deployed=false
  configure "$deployed"
  if ! $deployed; then
    # A new stack: a service needs an image that exists, and there is no repository yet, even
    # when catalog:imageTag was set by hand.
    p config rm catalog:imageTag >/dev/null 2>&1 || true
    p config rm catalog:image >/dev/null 2>&1 || true
  fi
  if [ -z "$(config_value imageTag)" ] && [ -z "$(config_value image)" ]; then
    say "pulumi up without the service (first deploy: the ECR repository must exist before the image)"
    p up --yes || die "pulumi up (bootstrap) failed"
  fi
  repo=$(output_value ecrRepositoryUri)
  [ -n "$repo" ] || die "the stack $STACK has no ecrRepositoryUri output"

  build_and_push "$repo" "$TAG"

  # The service signs in as the application role and does not migrate: the migrate task runs
  # the new image's migrations first. A stack without the task yet (the first image) gets it
  # with this update and migrates right after, before the smoke test.
  # The stack gives its own migrate task definition the new image first (catalog:migrateImageTag;
  # the service keeps its image), the task runs, and only then does the service get the image.
  local migrate_td migrated=false
  migrate_td=$(output_value migrateTaskDefinitionArn)
  if [ -n "$migrate_td" ]; then
    say "pulumi up with the migrate task on $repo:$TAG (the service keeps its image)"
    p config set catalog:migrateImageTag "$TAG"
    p up --yes || die "pulumi up with catalog:migrateImageTag=$TAG failed"
    migrate "$(output_value migrateTaskDefinitionArn)" "$repo:$TAG"
    migrated=true
  fi

  say "pulumi up with the image $repo:$TAG"
  p config set catalog:imageTag "$TAG"
  p config rm catalog:image >/dev/null 2>&1 || true
  p config rm catalog:migrateImageTag >/dev/null 2>&1 || true
  p up --yes || die "pulumi up with catalog:imageTag=$TAG failed"

  local cluster service url
  cluster=$(output_value clusterName)
  service=$(output_value serviceName)
  url=$(output_value serviceUrl)
  if [ -z "$cluster" ] || [ -z "$service" ] || [ -z "$url" ]; then
    die "the stack $STACK lacks the clusterName, serviceName or serviceUrl output after pulumi up"
  fi
  if ! $migrated; then
    migrate_td=$(output_value migrateTaskDefinitionArn)
    [ -n "$migrate_td" ] || die "the stack $STACK has no migrateTaskDefinitionArn output after pulumi up"
    migrate "$migrate_td" "$repo:$TAG"
  fi
  wait_service_stable "$cluster" "$service"
  smoke_test "$url"
  cat <<EOF
==> $STACK runs $repo:$TAG
  service URL: $url
  API key document (the admin key is its "key"; rotate it in Secrets Manager, see deploy/pulumi/README.md):
    aws secretsmanager get-secret-value --region $REGION --secret-id $(output_value apiKeySecretArn) --query SecretString --output text
  dashboard: $(output_value dashboardUrl)
EOF
}

if $DESTROY; then
  destroy
else
  deploy
fi
