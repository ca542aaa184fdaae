#!/usr/bin/env bash
# Validates catalog.json: cfn-lint (no errors, no warnings) and cfn-guard with the AWS Control
# Tower proactive-control rules, except the controls listed with their reasons in
# guard-skips.txt. Installs what it needs (npm ci here, cfn-lint if missing). Exits non-zero
# on any failure. Runs non-interactively, from any directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
template="$here/catalog.json"
skips="$here/guard-skips.txt"
cfn_lint_version="1.51.0"

log() { printf '== %s\n' "$*"; }
die() { printf 'validate.sh: %s\n' "$*" >&2; exit 1; }

[[ -f "$template" ]] || die "missing $template (run: go run ./cmd/cfngen -o deploy/cloudformation/catalog.json)"

# --- cfn-lint -------------------------------------------------------------------------------
if command -v cfn-lint >/dev/null 2>&1; then
  cfn_lint="$(command -v cfn-lint)"
elif [[ -x /root/.pyenv/shims/cfn-lint ]]; then
  cfn_lint=/root/.pyenv/shims/cfn-lint
else
  log "cfn-lint not found: installing cfn-lint==$cfn_lint_version with pip"
  python3 -m pip install --quiet "cfn-lint==$cfn_lint_version" || die "could not install cfn-lint"
  cfn_lint="$(command -v cfn-lint || true)"
  [[ -n "$cfn_lint" ]] || cfn_lint="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/cfn-lint"
fi
log "cfn-lint $("$cfn_lint" --version 2>&1 | awk '{print $NF}') on catalog.json"
# Errors and warnings both fail: cfn-lint exits non-zero on either (informational findings are
# not reported by default).
if ! "$cfn_lint" --format parseable -- "$template"; then
  die "cfn-lint reported errors or warnings"
fi
log "cfn-lint: no errors, no warnings"

# --- cfn-guard with the Control Tower rules --------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm is required to install @cdklabs/cdk-validator-cfnguard"
pkg="$here/node_modules/@cdklabs/cdk-validator-cfnguard"
want="$(node -p "require('$here/package-lock.json').packages['node_modules/@cdklabs/cdk-validator-cfnguard'].version")"
have=""
[[ -f "$pkg/package.json" ]] && have="$(node -p "require('$pkg/package.json').version")"
if [[ "$have" != "$want" ]]; then
  log "installing @cdklabs/cdk-validator-cfnguard@$want (npm ci)"
  (cd "$here" && CI=true npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi
guard="$pkg/bin/ubuntu/x86_64/cfn-guard"
rules="$pkg/rules/control-tower/cfn-guard"
[[ -x "$guard" ]] || chmod +x "$guard" 2>/dev/null || true
[[ -x "$guard" ]] || die "cfn-guard binary missing at $guard"
[[ -d "$rules" ]] || die "Control Tower rules missing at $rules"

declare -A skip=()
while read -r rule reason; do
  [[ -z "$rule" || "$rule" == \#* ]] && continue
  [[ -n "$reason" ]] || die "guard-skips.txt: $rule has no reason"
  skip["$rule"]="$reason"
done <"$skips"

enforced=()
declare -A skipped_path=()
while IFS= read -r -d '' f; do
  b="$(basename "$f")"
  if [[ -n "${skip[$b]+x}" ]]; then
    skipped_path["$b"]="$f"
  else
    enforced+=("$f")
  fi
done < <(find "$rules" -name '*.guard' -print0 | sort -z)
for b in "${!skip[@]}"; do
  [[ -n "${skipped_path[$b]+x}" ]] || die "guard-skips.txt lists $b, which is not a rule of this package version"
done

log "$($guard --version) with ${#enforced[@]} Control Tower rules (${#skip[@]} skipped, see guard-skips.txt)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
args=()
for f in "${enforced[@]}"; do args+=(--rules "$f"); done
set +e
"$guard" validate "${args[@]}" --data "$template" --show-summary fail --output-format single-line-summary >"$out" 2>&1
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  cat "$out"
  die "cfn-guard: Control Tower controls failed (exit $rc)"
fi
log "cfn-guard: every enforced control passes"

# A skip must still be needed: a skipped rule that now passes is a stale exception.
stale=0
for b in $(printf '%s\n' "${!skipped_path[@]}" | sort); do
  if "$guard" validate --rules "${skipped_path[$b]}" --data "$template" --show-summary none >/dev/null 2>&1; then
    printf 'validate.sh: %s passes now; remove it from guard-skips.txt\n' "$b" >&2
    stale=1
  else
    printf '   skipped %-36s %s\n' "$b" "${skip[$b]}"
  fi
done
[[ $stale -eq 0 ]] || exit 1
log "catalog.json is valid"
