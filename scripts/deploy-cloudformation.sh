#!/usr/bin/env bash
# Deploy (or --destroy) the catalog CloudFormation stack from an empty account in one command:
# service-linked roles, template bucket, validation, the bootstrap deploy (everything but the
# service, so the ECR repository exists), the image built for linux/amd64 and pushed, the deploy
# with ImageTag, the wait for a stable service and a smoke test through the load balancer.
# Needs only the AWS CLI v2 and Docker. Run with --help for the options.
set -euo pipefail
PROG=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/deploy.sh
. "$(dirname "$0")/lib/deploy.sh"

TEMPLATE=$REPO_ROOT/deploy/cloudformation/catalog.json
STACK=
BUCKET=

usage() {
  cat <<EOF
Usage: $PROG [options]

Deploys the catalog CloudFormation stack (deploy/cloudformation/catalog.json) and the
service image; run it again to deploy the current commit. --destroy deletes the stack.

Options:
  --suffix SUFFIX        environment suffix of every resource name (default: dev)
  --stack-name NAME      stack name (default: catalog-SUFFIX)
  --environment ENV      dev, staging or prod (default: dev for a new stack; an existing
                         stack keeps its own)
  --region REGION        AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, aws configure)
  --param KEY=VALUE      template parameter, repeatable (e.g. --param NatGatewayMode=single)
  --tag TAG              image tag (default: the commit's short hash, -dirty if changed)
  --s3-bucket BUCKET     bucket for the template, which is too big to send inline
                         (default: catalog-cfn-templates-ACCOUNT-REGION, created if missing)
  --destroy              delete the stack (asks for the stack name; --yes skips the question)
  -y, --yes              do not ask before --destroy
  -h, --help             this help

Environment: SMOKE_TIMEOUT (seconds, default 300) and SMOKE_INTERVAL (default 10) bound the
smoke test of GET /health and GET /ready.

Examples:
  $PROG --suffix dev --param NatGatewayMode=single
  $PROG --suffix prod --environment prod --param AlertEmail=oncall@example.com
  $PROG --suffix dev --destroy
EOF
}

tool_option() {
  case $1 in
    --stack-name | --s3-bucket)
      [ $# -ge 2 ] || usage_error "$1 needs a value"
      if [ "$1" = --stack-name ]; then STACK=$2; else BUCKET=$2; fi
      CONSUMED=2
      ;;
  esac
}

parse_args "$@"
reject_params EnvironmentSuffix Environment ImageTag ContainerImage MigrateImageTag
STACK=${STACK:-catalog-$SUFFIX}
[[ $STACK =~ ^[A-Za-z][A-Za-z0-9-]{0,127}$ ]] ||
  usage_error "--stack-name '$STACK': letters, digits and hyphens, starting with a letter, at most 128"

if $DESTROY; then
  require_commands aws
else
  require_commands aws docker
fi
require_credentials

# stack_status prints the stack's status, its EnvironmentSuffix and its SaleEnd, tab-separated
# (None for a parameter it lacks), or nothing when there is no such stack.
stack_status() {
  local out
  if out=$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].[StackStatus,Parameters[?ParameterKey=='EnvironmentSuffix'].ParameterValue|[0],Parameters[?ParameterKey=='SaleEnd'].ParameterValue|[0]]" \
    --output text 2>&1); then
    printf '%s\n' "$out"
  elif [[ $out == *"does not exist"* ]]; then
    return 0
  else
    die "could not describe the stack $STACK: $out"
  fi
}

# read_outputs fills OUT_<key> from the stack's outputs (one describe-stacks call).
read_outputs() {
  local key value table
  OUT_RepositoryUri='' OUT_ServiceUrl='' OUT_ClusterName='' OUT_ServiceName='' OUT_ApiKeySecretArn='' OUT_DashboardUrl=''
  OUT_MigrateTaskDefinitionArn='' OUT_PrivateSubnetIds='' OUT_ServiceSecurityGroupId=''
  table=$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text) ||
    die "could not read the outputs of $STACK"
  while IFS=$'\t' read -r key value; do
    if [[ $key =~ ^[A-Za-z0-9]+$ ]]; then printf -v "OUT_$key" '%s' "$value"; fi
  done <<<"$table"
}

# template_bucket makes sure the bucket exists: CloudFormation takes at most 51,200 bytes of
# template inline (TemplateBody); the template is larger, so it goes through S3 (TemplateURL).
template_bucket() {
  BUCKET=${BUCKET:-catalog-cfn-templates-$ACCOUNT-$REGION}
  # Bucket names are global: the owner check keeps templates out of a look-alike bucket.
  if aws s3api head-bucket --bucket "$BUCKET" --region "$REGION" --expected-bucket-owner "$ACCOUNT" >/dev/null 2>&1; then
    return 0
  fi
  say "creating the template bucket $BUCKET"
  # us-east-1 refuses a LocationConstraint naming itself; every other region requires one.
  local location=()
  [ "$REGION" = us-east-1 ] || location=(--create-bucket-configuration "LocationConstraint=$REGION")
  aws s3api create-bucket --bucket "$BUCKET" --region "$REGION" ${location[@]+"${location[@]}"} >/dev/null ||
    die "could not create the bucket $BUCKET (pass an existing one with --s3-bucket)"
  aws s3api put-public-access-block --bucket "$BUCKET" --region "$REGION" \
    --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true ||
    die "could not block public access to $BUCKET"
  # Templates are only needed while a deploy runs; keep them a month for reference.
  aws s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --region "$REGION" \
    --lifecycle-configuration '{"Rules":[{"ID":"expire-templates","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":30}}]}' ||
    die "could not set the lifecycle of $BUCKET"
}

validate_template() {
  local key url
  key=catalog/$STACK/$(file_digest "$TEMPLATE").json
  aws s3 cp --region "$REGION" --only-show-errors --expected-bucket-owner "$ACCOUNT" "$TEMPLATE" "s3://$BUCKET/$key" ||
    die "could not upload the template to s3://$BUCKET/$key"
  url=https://$BUCKET.s3.$REGION.amazonaws.com/$key
  say "validating the template"
  aws cloudformation validate-template --region "$REGION" --template-url "$url" >/dev/null ||
    die "CloudFormation refused the template $TEMPLATE"
}

# cloudfront_prefix_list resolves the ID of CloudFront's origin-facing managed prefix list in
# the region: the template admits only it to the load balancer, and CloudFormation cannot look
# a prefix list up by name. A --param CloudFrontPrefixListId=... given later still wins.
cloudfront_prefix_list() {
  PREFIX_LIST=$(aws ec2 describe-managed-prefix-lists --region "$REGION" \
    --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing \
    --query 'PrefixLists[0].PrefixListId' --output text) ||
    die "could not look up the CloudFront origin-facing prefix list in $REGION (aws ec2 describe-managed-prefix-lists)"
  [[ $PREFIX_LIST == pl-* ]] ||
    die "the region $REGION has no com.amazonaws.global.cloudfront.origin-facing prefix list (got '$PREFIX_LIST'); deploy with --param EnableCloudFront=false there"
}

# deploy_stack runs one deploy with the given image parameters. Parameters not given keep their
# values on an existing stack (aws cloudformation deploy), so Environment goes only when asked.
deploy_stack() {
  local env=()
  [ -z "$ENVIRONMENT" ] || env=("Environment=$ENVIRONMENT")
  aws cloudformation deploy --region "$REGION" --stack-name "$STACK" \
    --template-file "$TEMPLATE" --s3-bucket "$BUCKET" --s3-prefix "catalog/$STACK" \
    --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
    --parameter-overrides "EnvironmentSuffix=$SUFFIX" ${env[@]+"${env[@]}"} "CloudFrontPrefixListId=$PREFIX_LIST" "$@" ${PARAMS[@]+"${PARAMS[@]}"} ||
    die "the deploy of $STACK failed: see 'aws cloudformation describe-stack-events --stack-name $STACK --region $REGION --max-items 20'"
}

# sale_window_ahead refuses a planned sale whose end has passed, before anything is deployed
# (blueprint.SaleWindowAhead says why: its schedules would be created or changed after their
# time). The end is the --param SaleEnd given, else the one the stack keeps ($1: "aws
# cloudformation deploy" keeps a parameter not given). The times are UTC yyyy-mm-ddThh:mm:ss,
# which order as text; one in another form is the template's pattern's to refuse.
sale_window_ahead() {
  local end=$1 p now
  for p in ${PARAMS[@]+"${PARAMS[@]}"}; do
    if [[ $p == SaleEnd=* ]]; then end=${p#SaleEnd=}; fi
  done
  [[ $end =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] || return 0
  now=$(date -u +%Y-%m-%dT%H:%M:%S)
  [[ $end > $now ]] ||
    die "the planned sale ended at $end UTC (now $now UTC): clear its window before deploying, with --param SaleStart= --param SaleEnd= (its schedules have run; one created or changed after its time has no documented behaviour)"
}

destroy() {
  local out status suffix sale_end
  out=$(stack_status)
  IFS=$'\t' read -r status suffix sale_end <<<"$out"
  # The names below carry the stack's own suffix, whatever --suffix said.
  [[ $suffix =~ ^[a-z0-9-]+$ ]] && SUFFIX=$suffix
  if [ -z "$status" ]; then
    say "there is no stack $STACK in $REGION: nothing to delete"
    return 0
  fi
  confirm_destroy "$STACK"
  read_outputs
  # The template's repository has EmptyOnDelete; a stack created from an older template may
  # not, and CloudFormation cannot delete a repository that still holds images.
  local empties
  empties=$(aws cloudformation get-template --region "$REGION" --stack-name "$STACK" \
    --query 'TemplateBody.Resources.Repository.Properties.EmptyOnDelete' --output text 2>/dev/null || true)
  if [ -n "$OUT_RepositoryUri" ] && [ "$empties" != True ] && [ "$empties" != true ]; then
    empty_repository "$OUT_RepositoryUri"
  fi
  say "deleting the stack $STACK (about 15 minutes: the database and NAT gateways take longest)"
  aws cloudformation delete-stack --region "$REGION" --stack-name "$STACK" ||
    die "could not delete $STACK"
  aws cloudformation wait stack-delete-complete --region "$REGION" --stack-name "$STACK" ||
    die "the deletion of $STACK did not complete: see 'aws cloudformation describe-stack-events --stack-name $STACK --region $REGION --max-items 20'"
  cat <<EOF
==> deleted $STACK. What remains:
  - manual database snapshots you took (the cluster is deleted without a final snapshot,
    DeletionPolicy Delete, by default its automated backups too):
      aws rds describe-db-cluster-snapshots --region $REGION --snapshot-type manual --db-cluster-identifier db-catalog-$SUFFIX
  - the API-key secret catalog/$SUFFIX/api-keys, scheduled for deletion by Secrets Manager; to
    reuse the suffix at once:
      aws secretsmanager delete-secret --region $REGION --secret-id catalog/$SUFFIX/api-keys --force-delete-without-recovery
  - the logs' KMS key, pending deletion for 7 days
  - the template bucket ${BUCKET:-catalog-cfn-templates-$ACCOUNT-$REGION} and the service-linked roles, shared by every stack
EOF
}

deploy() {
  local out status suffix sale_end
  TAG=${TAG:-$(default_tag)}
  ensure_service_linked_roles
  template_bucket
  validate_template
  cloudfront_prefix_list

  out=$(stack_status)
  IFS=$'\t' read -r status suffix sale_end <<<"$out"
  sale_window_ahead "$sale_end"
  if [ -n "$status" ] && [ "$suffix" != "$SUFFIX" ] && [ "$suffix" != None ]; then
    die "the stack $STACK has the suffix '$suffix': deploying it with --suffix $SUFFIX would replace every named resource, the database included. Pass --suffix $suffix, or another --stack-name for a new stack"
  fi
  case $status in
    *_IN_PROGRESS)
      die "the stack $STACK is busy ($status): wait for it to finish and run again" ;;
    UPDATE_ROLLBACK_FAILED)
      die "the stack $STACK is UPDATE_ROLLBACK_FAILED: fix the cause in its events, run 'aws cloudformation continue-update-rollback --region $REGION --stack-name $STACK', wait for UPDATE_ROLLBACK_COMPLETE and run again" ;;
    ROLLBACK_COMPLETE | ROLLBACK_FAILED | DELETE_FAILED)
      die "the stack $STACK is $status (its creation failed and cannot be updated): run $PROG --stack-name $STACK --region $REGION --destroy, then deploy again" ;;
  esac
  [ -z "$status" ] || read_outputs
  if [ -z "$status" ] || [ -z "$OUT_ServiceName" ]; then
    [ -n "$status" ] || ENVIRONMENT=${ENVIRONMENT:-dev}
    say "deploying $STACK without the service (first deploy: the ECR repository must exist before the image)"
    deploy_stack ImageTag= ContainerImage=
    read_outputs
  fi
  [ -n "$OUT_RepositoryUri" ] || die "the stack $STACK has no RepositoryUri output"

  build_and_push "$OUT_RepositoryUri" "$TAG"

  # The service signs in as the application role and does not migrate: the migrate task runs
  # the new image's migrations first. The stack gives its own migrate task definition the new
  # image (MigrateImageTag; ImageTag and the service stay as they are), the task runs, and only
  # then does the service get the image. A stack without the task yet (the first image) gets it
  # with the service's deploy and migrates right after, before the smoke test.
  local migrated=false
  if [ -n "$OUT_MigrateTaskDefinitionArn" ]; then
    say "deploying $STACK's migrate task with the image $OUT_RepositoryUri:$TAG (the service keeps its image)"
    deploy_stack "MigrateImageTag=$TAG"
    read_outputs
    run_migrate "$OUT_ClusterName" "$OUT_MigrateTaskDefinitionArn" "$OUT_PrivateSubnetIds" "$OUT_ServiceSecurityGroupId" "$OUT_RepositoryUri:$TAG"
    migrated=true
  fi

  say "deploying $STACK with the image $OUT_RepositoryUri:$TAG"
  deploy_stack "ImageTag=$TAG" ContainerImage= MigrateImageTag=
  read_outputs
  if [ -z "$OUT_ServiceName" ] || [ -z "$OUT_ClusterName" ]; then
    die "the stack $STACK has no ServiceName/ClusterName output after the deploy with ImageTag=$TAG"
  fi
  if ! $migrated; then
    [ -n "$OUT_MigrateTaskDefinitionArn" ] || die "the stack $STACK has no MigrateTaskDefinitionArn output after the deploy with ImageTag=$TAG"
    run_migrate "$OUT_ClusterName" "$OUT_MigrateTaskDefinitionArn" "$OUT_PrivateSubnetIds" "$OUT_ServiceSecurityGroupId" "$OUT_RepositoryUri:$TAG"
  fi
  wait_service_stable "$OUT_ClusterName" "$OUT_ServiceName"
  smoke_test "$OUT_ServiceUrl"
  cat <<EOF
==> $STACK runs $OUT_RepositoryUri:$TAG
  service URL: $OUT_ServiceUrl
  API key document (the admin key is its "key"; rotate it in Secrets Manager, see deploy/cloudformation/README.md):
    aws secretsmanager get-secret-value --region $REGION --secret-id $OUT_ApiKeySecretArn --query SecretString --output text
  dashboard: $OUT_DashboardUrl
EOF
}

if $DESTROY; then
  destroy
else
  deploy
fi
