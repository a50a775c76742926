#!/usr/bin/env bash
# Drift detection for one stack, for any CI: runs `infra drift --markdown` on STACK_DIR, writes
# the report to $DRIFT_OUT/drift.md, and keeps one issue per stack in the team's tracker: opened
# (or its body updated) while drift lasts, closed with a comment once it is gone.
#
#   examples/ci/drift.sh STACK_DIR [infra drift options...]
#
# DRIFT_TRACKER  github (the gh CLI, authenticated by GH_TOKEN), gitlab (the REST API: GITLAB_TOKEN,
#                CI_API_V4_URL, CI_PROJECT_ID), or none (default: report and exit code only)
# DRIFT_NAME     the stack's name in the issue title (default: STACK_DIR's last component)
# DRIFT_RUN_URL  a link to this run, added to the issue
# DRIFT_OUT      where drift.md goes (default: the current directory)
#
# Exit status: infra drift's own. 0 no drift, 2 drift found, 1 error (the tracker is left alone
# on errors, so a broken run never closes an open drift issue).
set -uo pipefail
stack=${1:?usage: drift.sh STACK_DIR [infra drift options...]}
shift
infra=${INFRA:-infra}
name=${DRIFT_NAME:-$(basename "$stack")}
out=${DRIFT_OUT:-.}
title="Drift: $name"
report="$out/drift.md"
mkdir -p "$out"

"$infra" -chdir="$stack" drift --markdown "$@" >"$report"
code=$?
if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then
  echo "infra drift failed (exit $code) on $stack; the tracker is left as it is." >&2
  exit 1
fi
if [ -n "${DRIFT_RUN_URL:-}" ]; then
  printf '\n---\nRun: %s\n' "$DRIFT_RUN_URL" >>"$report"
fi

case "${DRIFT_TRACKER:-none}" in
none) ;;
github)
  number=$(gh issue list --state open --search "\"$title\" in:title" --json number,title \
    --jq "map(select(.title == \"$title\")) | .[0].number // empty") || exit 1
  if [ "$code" -eq 2 ] && [ -n "$number" ]; then
    gh issue edit "$number" --body-file "$report" || exit 1
  elif [ "$code" -eq 2 ]; then
    gh issue create --title "$title" --body-file "$report" || exit 1
  elif [ -n "$number" ]; then
    gh issue close "$number" --comment "No drift any more.${DRIFT_RUN_URL:+ $DRIFT_RUN_URL}" || exit 1
  fi
  ;;
gitlab)
  api="${CI_API_V4_URL:?}/projects/${CI_PROJECT_ID:?}/issues"
  auth="PRIVATE-TOKEN: ${GITLAB_TOKEN:?a project access token with the api scope}"
  found=$(curl --fail -sS -G -H "$auth" "$api" --data-urlencode state=opened --data-urlencode in=title \
    --data-urlencode "search=$title") || exit 1
  number=$(printf '%s' "$found" | python3 -c 'import json, sys; t = sys.argv[1]; print(next((str(i["iid"]) for i in json.load(sys.stdin) if i["title"] == t), ""))' "$title") || exit 1
  if [ "$code" -eq 2 ] && [ -n "$number" ]; then
    curl --fail -sS -X PUT -H "$auth" "$api/$number" --data-urlencode "description@$report" >/dev/null || exit 1
  elif [ "$code" -eq 2 ]; then
    curl --fail -sS -X POST -H "$auth" "$api" --data-urlencode "title=$title" --data-urlencode "description@$report" >/dev/null || exit 1
  elif [ -n "$number" ]; then
    curl --fail -sS -X PUT -H "$auth" "$api/$number" --data-urlencode state_event=close >/dev/null || exit 1
  fi
  ;;
*)
  echo "DRIFT_TRACKER must be github, gitlab or none" >&2
  exit 1
  ;;
esac
exit "$code"
