#!/usr/bin/env bash
# Build the image and push it to a stack's ECR repository with the tag the stack expects.
#   scripts/push-image.sh <repository-uri> <tag>
# The repository URI is the stacks' EcrRepositoryUri output; the tag is the ImageTag parameter
# (CloudFormation) or the imageTag config (Pulumi). Tags are immutable: push a new one per build.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 <repository-uri> <tag>" >&2
  exit 2
fi
repo=$1 tag=$2
registry=${repo%%/*}
region=$(sed -E 's/^[0-9]+\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$/\1/' <<<"$registry")
if [ "$region" = "$registry" ]; then
  echo "$repo is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
docker build --platform linux/amd64 \
  --build-arg VERSION="$tag" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$repo:$tag" .
docker push "$repo:$tag"
echo "pushed $repo:$tag"
