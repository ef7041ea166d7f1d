#!/usr/bin/env bash
# Everything vfiofd needs, idempotent and cached: Debian packages, every DPDK LTS whose
# source is at hand (scripts/lib.sh, "DPDK releases") with the driver SDK, the two guest
# kernels and 6.12 uAPI headers, then the project build against each DPDK.
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
read -r -a series <<< "$(dpdk_available)"
log "DPDK: ${series[*]} (default $(dpdk_default); make run and the full suite use it)"
for s in "${series[@]}"; do
	step "dpdk-$s" bash "$S/build-dpdk.sh" "$s"
done
step kernels bash "$S/build-kernel.sh"
for s in "${series[@]}"; do
	step "configure-$s" bash "$S/configure.sh" "$s"
	step "build-$s" ninja -C "$(build_dir_of "$s")"
done
sed 's/^/[setup] /' "$STEP_LOG" >&2
