#!/usr/bin/env bash
# Run every test, host and VM, and end with "N passed, N failed".
# Usage: run-tests.sh [meson test args...]   (e.g. --suite host)
# Without arguments: every suite but vm-newer (which needs the optional newer kernel:
# make test-newer).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_TOP/build
rm -f "$B/meson-logs/testlog.json"
rc=0
[ $# -gt 0 ] || set -- --no-suite vm-newer
meson test -C "$B" --print-errorlogs "$@" || rc=$?
python3 "$VFIOFD_TOP/scripts/test-summary.py" "$B/meson-logs/testlog.json" || rc=1
exit $rc
