#!/usr/bin/env bash
# Run every test, host and VM, and end with "N passed, N failed".
# Usage: run-tests.sh [meson test args...]   (e.g. --suite host)
# Without arguments: the full suite (every suite but vm-newer, which needs the optional
# newer kernel: make test-newer) against the default DPDK in build/, then the tests of
# the version matrix against every other DPDK at hand in build-<series>/ (scripts/lib.sh,
# "DPDK releases"). Every test name ends in @<series>. With arguments, only build/ is
# tested, with those arguments.
# The VM tests share boots: consecutive tests on the same machine run in one session of
# it, each on a clean guest (scripts/vm-run.sh, "Sessions"). VFIOFD_VM_SESSIONS=off
# gives every test a boot of its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
default=$(dpdk_default)
builds=("$(build_dir_of "$default")")
if [ $# -eq 0 ]; then
	set -- --no-suite vm-newer
	for s in $(dpdk_available); do
		[ "$s" = "$default" ] || builds+=("$(build_dir_of "$s")")
	done
fi
if [ "${VFIOFD_VM_SESSIONS:-}" = off ]; then
	unset VFIOFD_VM_SESSIONS
else
	VFIOFD_VM_SESSIONS=$(mktemp -d "${builds[0]}/vm-sessions.XXXXXX")
	export VFIOFD_VM_SESSIONS
	trap 'bash "$VFIOFD_TOP/scripts/vm-run.sh" --stop-sessions' EXIT
fi
rc=0 logs=()
for B in "${builds[@]}"; do
	echo "== DPDK $(cat "$B/dpdk-series") ($B): $([ "$B" = "${builds[0]}" ] && echo "the full suite (the default DPDK)" || echo "the version matrix")"
	rm -f "$B/meson-logs/testlog.json"
	# three at a time where tests may overlap: the host tests, and the VM tests that
	# mostly wait on their guest's kernel (vm_own_boot_parallel in
	# app/test-vfiofd/meson.build)
	VFIOFD_BUILD=$B meson test -C "$B" --num-processes 3 --print-errorlogs "$@" || rc=$?
	logs+=("$B/meson-logs/testlog.json")
done
python3 "$VFIOFD_TOP/scripts/test-summary.py" "${logs[@]}" || rc=1
exit $rc
