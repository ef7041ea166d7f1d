#!/usr/bin/env bash
# Everything vfiofd needs, idempotent and cached: Debian packages, DPDK 22.11 with the
# driver SDK, the two guest kernels and 6.12 uAPI headers, then the project build.
# Prints the time each step took (the cold/warm timings quoted in the issues).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "run as root: setup installs Debian packages and builds into $VFIOFD_CACHE"
mkdir -p "$VFIOFD_TOP/build"
export STEP_LOG=$VFIOFD_TOP/build/setup-times.log
: > "$STEP_LOG"
S=$VFIOFD_TOP/scripts
step packages bash "$S/setup-packages.sh"
check_cache_dir "$VFIOFD_CACHE"
step dpdk bash "$S/build-dpdk.sh"
step kernels bash "$S/build-kernel.sh"
step configure bash "$S/configure.sh"
step build ninja -C "$VFIOFD_TOP/build"
sed 's/^/[setup] /' "$STEP_LOG" >&2
