#!/usr/bin/env bash
# Configure (or reconfigure) the vfiofd meson build against the cached DPDK and the 6.12
# uAPI headers. Usage: configure.sh [builddir]   (default: build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

B=${1:-$VFIOFD_TOP/build}
pcdir=$(dirname "$(find "$DPDK_PREFIX" -name libdpdk.pc -print -quit 2>/dev/null)" 2>/dev/null || true)
[ -n "$pcdir" ] && [ -f "$pcdir/libdpdk.pc" ] || die "no DPDK in $DPDK_PREFIX: run scripts/build-dpdk.sh (make setup)"
mkdir -p "$B"
native=$B/dpdk-cache.ini
# pkg_config_libdir replaces pkg-config's search path: keep the system's after DPDK's,
# where libdpdk.pc's own requirements (libpcap, libelf, ...) are found.
dirs="'$pcdir'"
IFS=: read -ra sys <<< "$(pkg-config --variable pc_path pkg-config)"
for d in "${sys[@]}"; do dirs+=", '$d'"; done
sed "s|\['@DPDK_PREFIX@/lib/x86_64-linux-gnu/pkgconfig'\]|[$dirs]|" \
	"$VFIOFD_TOP/config/meson/dpdk-cache.ini.in" > "$native.new"
cmp -s "$native.new" "$native" && rm "$native.new" || mv "$native.new" "$native"
opts=(--native-file "$native" -Dkernel_uapi_headers="$VFIOFD_CACHE/kernel/uapi-headers")
if [ -f "$B/build.ninja" ]; then
	meson configure "$B" "${opts[@]:2}" > /dev/null
else
	meson setup "$B" "$VFIOFD_TOP" "${opts[@]}" > "$B/setup.log" 2>&1 ||
		{ cat "$B/setup.log"; die "meson setup failed"; }
fi
