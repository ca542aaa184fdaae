#!/usr/bin/env bash
# The whole test suite: format and vet, the service's tests (against a throw-away PostgreSQL
# started from initdb/pg_ctl, or DATABASE_URL when set), short fuzz runs, the Pulumi program's
# tests under mocks, and the CloudFormation template's validators. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# The rolling-restart test puts two instances behind HAProxy, the way the ALB fronts tasks.
if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing haproxy for the rolling-restart test"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null \
        || echo "warning: could not install haproxy; the rolling-restart test will say so"
    fi
  else
    echo "note: haproxy is not installed; the rolling-restart test will skip (outside CI)"
  fi
fi

# The README's examples (internal/readmetest) run with bash, curl and jq, as users paste them.
if ! command -v jq >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing jq for the README's examples"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null \
        || echo "warning: could not install jq; the README test will say so"
    fi
  else
    echo "note: jq is not installed; the README test will skip (outside CI)"
  fi
fi

step "gofmt and go vet"
unformatted=$(gofmt -l cmd internal api deploy 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...

step "service tests (SQLite and PostgreSQL)"
go test -count=1 -timeout 20m ./...

if [ -d internal/fuzz ] || grep -rlq '^func Fuzz' --include='*_test.go' internal; then
  step "fuzz targets, ${FUZZTIME:=10s} each"
  for target in $(grep -rho '^func Fuzz[A-Za-z0-9_]*' --include='*_test.go' internal | sed 's/^func //' | sort -u); do
    pkg=$(dirname "$(grep -rl "^func ${target}(" --include='*_test.go' internal | head -1)")
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$pkg"
  done
fi

if [ -f deploy/pulumi/go.mod ]; then
  step "Pulumi program under mocks"
  (cd deploy/pulumi && go vet ./... && go test -count=1 -timeout 20m ./...)
fi

if [ -x deploy/cloudformation/validate.sh ] || [ -f deploy/cloudformation/validate.sh ]; then
  step "CloudFormation template: cfn-lint and cfn-guard"
  bash deploy/cloudformation/validate.sh
fi

step "all tests passed"
