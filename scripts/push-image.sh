#!/usr/bin/env bash
# Build the image for linux/amd64 and push it to an ECR repository, unless the tag is already
# there (tags are immutable). The deploy scripts do this themselves; this is for CI or a manual
# deploy:
#   scripts/push-image.sh <repository-uri> <tag>
# The repository URI is the CloudFormation stack's RepositoryUri output or the Pulumi stack's
# ecrRepositoryUri output; the tag is what you then deploy as ImageTag / catalog:imageTag.
set -euo pipefail
PROG=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/deploy.sh
. "$(dirname "$0")/lib/deploy.sh"

usage() {
  cat <<USAGE
Usage: $PROG <repository-uri> <tag>
  e.g. $PROG 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-catalog-dev "\$(git rev-parse --short=12 HEAD)"
USAGE
}
case ${1:-} in -h | --help)
  usage
  exit 0
  ;;
esac
[ $# -eq 2 ] || usage_error "expected <repository-uri> <tag>"
repo=$1 TAG=$2
REGION=$(sed -nE 's#^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/.+$#\1#p' <<<"$repo")
[ -n "$REGION" ] || usage_error "'$repo' is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>)"
check_common_args
require_commands aws docker
require_credentials
build_and_push "$repo" "$TAG"
say "$repo:$TAG is in the repository"
