#!/usr/bin/env bash
# Drift of the VPS stacks from a plain cron job on an admin machine (the SSH key that infra uses
# must be readable by the cron user). Mails the report when drift appears, through the system's
# `mail` command; add to crontab with:  17 6 * * *  /path/to/repo/examples/ci/cron-drift.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
to=${DRIFT_MAIL_TO:-root}
drift=0
failed=0
for stack in examples/gw2-wvw-builder examples/finaiflow examples/attendee-ems-vps; do
  DRIFT_OUT="${TMPDIR:-/tmp}/infra-drift/$(basename "$stack")" examples/ci/drift.sh "$stack"
  code=$?
  if [ "$code" -eq 2 ]; then
    mail -s "Drift: $(basename "$stack")" "$to" <"${TMPDIR:-/tmp}/infra-drift/$(basename "$stack")/drift.md"
  fi
  [ "$code" -eq 2 ] && drift=1
  [ "$code" -eq 1 ] && failed=1
done
# An error outranks drift: the report of a failed stack is not a finding.
[ "$failed" -eq 1 ] && exit 1
[ "$drift" -eq 1 ] && exit 2
exit 0
