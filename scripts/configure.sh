#!/usr/bin/env bash
# Configure (or reconfigure) the vfiofd meson build against a cached DPDK and the 6.12
# uAPI headers. Usage: configure.sh [series]   (default: the default series)
# The default series builds in build/ with every test (test_set=full); another series
# builds in build-<series>/ with the tests of the version matrix (test_set=matrix). The
# series is recorded in <build>/dpdk-series (scripts/lib.sh reads it). The install
# prefix is the DPDK's own, so that `meson install` puts the plugins where that DPDK's
# EAL loads them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:-$(dpdk_default)}
B=$(build_dir_of "$series")
prefix=$(dpdk_prefix "$series")
pcdir=$(dirname "$(find "$prefix" -name libdpdk.pc -print -quit 2>/dev/null)" 2>/dev/null || true)
[ -n "$pcdir" ] && [ -f "$pcdir/libdpdk.pc" ] || die "no DPDK $series in $prefix: run scripts/build-dpdk.sh $series (make setup)"
[ "$series" = "$(dpdk_default)" ] && test_set=full || test_set=matrix
# a build of another series (VFIOFD_DPDK changed, or a build from before the series
# were recorded): start afresh
if [ -f "$B/build.ninja" ] && [ "$(cat "$B/dpdk-series" 2> /dev/null)" != "$series" ]; then
	log "$B was configured for another DPDK, now $series: configuring afresh"
	rm -rf "$B"
fi
if [ -f "$B/build.ninja" ] && ! cmp -s "$prefix/.stamp" "$B/dpdk-stamp"; then
	# that DPDK was rebuilt since (other libraries, other options): meson keeps what
	# pkg-config said of it even across --reconfigure, so start the build afresh
	log "DPDK $series was rebuilt since $B was configured: configuring afresh"
	rm -rf "$B"
fi
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
opts=(-Dkernel_uapi_headers="$VFIOFD_CACHE/kernel/uapi-headers" -Dtest_set=$test_set
	--prefix="$prefix" --libdir="$(realpath --relative-to="$prefix" "$(dirname "$pcdir")")")
if [ -f "$B/build.ninja" ]; then
	meson configure "$B" "${opts[@]}" > /dev/null
else
	meson setup "$B" "$VFIOFD_TOP" --native-file "$native" "${opts[@]}" > "$B/setup.log" 2>&1 ||
		{ cat "$B/setup.log"; die "meson setup failed (DPDK $series)"; }
fi
echo "$series" > "$B/dpdk-series"
cp "$prefix/.stamp" "$B/dpdk-stamp"
