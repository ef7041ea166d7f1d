#!/usr/bin/env bash
# Run every test, host and VM, and end with "N passed, N failed".
# Usage: run-tests.sh [meson test args...]   (e.g. --suite host)
# Without arguments: every suite but vm-newer (which needs the optional newer kernel:
# make test-newer).
# The VM tests share boots: consecutive tests on the same machine run in one session of
# it, each on a clean guest (scripts/vm-run.sh, "Sessions"). VFIOFD_VM_SESSIONS=off
# gives every test a boot of its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_TOP/build
rm -f "$B/meson-logs/testlog.json"
if [ "${VFIOFD_VM_SESSIONS:-}" = off ]; then
	unset VFIOFD_VM_SESSIONS
else
	VFIOFD_VM_SESSIONS=$(mktemp -d "$B/vm-sessions.XXXXXX")
	export VFIOFD_VM_SESSIONS
	trap 'bash "$VFIOFD_TOP/scripts/vm-run.sh" --stop-sessions' EXIT
fi
rc=0
[ $# -gt 0 ] || set -- --no-suite vm-newer
# three at a time where tests may overlap: the host tests, and the VM tests that mostly
# wait on their guest's kernel (vm_own_boot_parallel in app/test-vfiofd/meson.build)
meson test -C "$B" --num-processes 3 --print-errorlogs "$@" || rc=$?
python3 "$VFIOFD_TOP/scripts/test-summary.py" "$B/meson-logs/testlog.json" || rc=1
exit $rc
