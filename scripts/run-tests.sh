#!/usr/bin/env bash
# Run every test, host and VM, and end with "N passed, N failed".
# Usage: run-tests.sh [meson test args...]   (e.g. --suite host)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_TOP/build
rm -f "$B/meson-logs/testlog.json"
rc=0
meson test -C "$B" --print-errorlogs "$@" || rc=$?
python3 "$VFIOFD_TOP/scripts/test-summary.py" "$B/meson-logs/testlog.json" || rc=1
exit $rc
