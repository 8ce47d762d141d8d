#!/usr/bin/env bash
# The roles the example handlers act as (Lambda's execution roles): an IAM user each, with the policy of the same
# name from policies/. Run it once against the running server; running it again replaces the policies.
#
#   bash examples/lambda/roles.sh [--server URL] [--data DIR]
#
# PLUMB names the plumb binary (default: plumb on the PATH, else .build/release/plumb).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
plumb=${PLUMB:-$(command -v plumb || echo "$here/../../.build/release/plumb")}
for role in lambda-digest lambda-findings; do
  if ! made=$("$plumb" iam users create "$role" "$@" 2>&1); then
    case "$made" in
      *EntityAlreadyExists*|*"'$role' exists"*) echo "user $role: already there" ;;
      *) echo "$made" >&2; exit 1 ;;
    esac
  else
    echo "$made"
  fi
  "$plumb" iam policies put "$role" "$here/policies/$role.json" "$@"
  "$plumb" iam users attach "$role" "$role" "$@"
done
