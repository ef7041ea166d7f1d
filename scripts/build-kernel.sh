#!/usr/bin/env bash
# Build the test-bed guest kernels from Debian's linux-source-6.12:
#   default   = tinyconfig + config/kernel/vfiofd.config
#   cdev-only = the same + config/kernel/cdev-only.config (VFIO_GROUP=n)
# and install the 6.12 uAPI headers (iommufd.h, vfio.h; bookworm's are 6.1).
# Optional, only when asked for: newer = the default configuration on the newest
# linux-source sid carries (scripts/fetch-newer-kernel.sh), for post-6.12 features.
# Each kernel is cached under $VFIOFD_CACHE/kernel keyed on the source version and the
# fragments; every option of the fragments is checked in the final .config.
# Usage: build-kernel.sh [default|cdev-only|newer ...]   (no argument: default, cdev-only)
#        build-kernel.sh --check-config OUTDIR FRAGMENT...
#   (configure only, into OUTDIR, and check the fragments: what setup does before a build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

K=$VFIOFD_CACHE/kernel
CFG=$VFIOFD_TOP/config/kernel
# Options without which vfiofd cannot work at all, checked whatever the fragment says.
REQUIRED="IOMMUFD:/dev/iommu VFIO_DEVICE_CDEV:/dev/vfio/devices/vfioN VFIO_PCI:the-vfio-pci-driver INTEL_IOMMU:the-emulated-IOMMU IRQ_REMAP:BIND_IOMMUFD-without-unsafe-interrupts HUGETLBFS:DPDK-hugepages"

check_cache_dir "$VFIOFD_CACHE"

# Select the kernel source: TARBALL, its version (pkgver) and where it is extracted.
use_source() { # $1 = bookworm | newer
	if [ "$1" = newer ]; then
		TARBALL=$(bash "$VFIOFD_TOP/scripts/fetch-newer-kernel.sh")
		pkgver=$(basename "$(dirname "$(dirname "$(dirname "$TARBALL")")")")
		pkgver=${pkgver#linux-source-}
	else
		TARBALL=/usr/src/linux-source-$KERNEL_VERSION_SERIES.tar.xz
		[ -f "$TARBALL" ] || die "$TARBALL missing: install linux-source-$KERNEL_VERSION_SERIES (scripts/setup-packages.sh)"
		pkgver=$(dpkg-query -W -f='${Version}' linux-source-$KERNEL_VERSION_SERIES)
	fi
	SRC=$K/linux-source-$pkgver
}
use_source bookworm

extract_source() {
	[ -f "$SRC/.extracted" ] && return 0
	# one extraction at a time (the configuration test runs several checks at once)
	mkdir -p "$K"
	exec 8> "$K/.extract.lock"
	flock 8
	[ -f "$SRC/.extracted" ] && { flock -u 8; return 0; }
	log "extracting $TARBALL"
	rm -rf "$SRC" "$K/tmp-extract"
	mkdir -p "$K/tmp-extract"
	tar -C "$K/tmp-extract" -xf "$TARBALL"
	mv "$K/tmp-extract"/linux-source-* "$SRC"
	rmdir "$K/tmp-extract"
	touch "$SRC/.extracted"
	flock -u 8
}

# Every option the fragments set (a later fragment overriding an earlier one, as
# merge_config does) must hold in the final .config; so must the REQUIRED options.
# Prints the offending options and fails otherwise.
check_fragments() {
	local config=$1; shift
	local bad=0 opt want what
	declare -A wanted=()
	local -a order=()
	while IFS=' ' read -r opt want; do
		[ -n "${wanted[$opt]+x}" ] || order+=("$opt")
		wanted[$opt]=$want
	done < <(sed -nE -e 's/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/\1 \2/p' \
			 -e 's/^# (CONFIG_[A-Za-z0-9_]+) is not set$/\1 n/p' "$@")
	for opt in "${order[@]}"; do
		want=${wanted[$opt]}
		if [ "$want" = n ]; then
			grep -qE "^$opt=[ym]" "$config" &&
				{ log "fragment says $opt is not set, the final .config sets it"; bad=1; }
		elif ! grep -qx "$opt=$want" "$config"; then
			log "fragment option lost: $opt=$want (final: $(grep -E "^$opt=|^# $opt is not set" "$config" || echo 'absent: a dependency is missing'))"
			bad=1
		fi
	done
	for req in $REQUIRED; do
		opt=CONFIG_${req%%:*}
		grep -qx "$opt=y" "$config" || {
			what=${req#*:}
			log "required option $opt is not set in the final .config: vfiofd needs it for ${what//-/ }; add $opt=y to config/kernel/vfiofd.config"
			bad=1; }
	done
	return $bad
}

# The source's tinyconfig, made once and kept next to it: "make tinyconfig" takes
# seconds (Kconfig probes the compiler over and over), and every configuration starts
# from the same one.
tiny_base() {
	local base=$SRC/.vfiofd-tinyconfig tmp
	[ -f "$base" ] && return 0
	exec 9> "$K/.tinyconfig.lock"
	flock 9
	if [ ! -f "$base" ]; then
		tmp=$(mktemp -d "$K/tinyconfig.XXXXXX")
		make -s -C "$SRC" O="$tmp" tinyconfig > /dev/null
		cp "$tmp/.config" "$base.tmp" && mv "$base.tmp" "$base"
		rm -rf "$tmp"
	fi
	flock -u 9
}

# tinyconfig + fragments + olddefconfig into $1, then check the result.
configure() {
	local out=$1; shift
	mkdir -p "$out"
	tiny_base
	cp "$SRC/.vfiofd-tinyconfig" "$out/.config"
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$@" > "$out/merge.log" 2>&1
	make -s -C "$SRC" O="$out" olddefconfig > /dev/null
	check_fragments "$out/.config" "$@"
}

build_one() { # $1 = flavour
	local flavour=$1 frags=("$CFG/vfiofd.config") out
	if [ "$flavour" = newer ]; then use_source newer; else use_source bookworm; fi
	[ "$flavour" = cdev-only ] && frags+=("$CFG/cdev-only.config")
	[ "$flavour" = newer ] && frags+=("$CFG/newer.config")
	out=$K/build-$flavour
	local key
	# bump the trailing tag when this script changes how a kernel is built
	key=$( { echo "$pkgver"; cat "${frags[@]}"; echo build-v1; } | sha256sum | cut -c1-16)
	if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$key" ] && [ -f "$out/arch/x86/boot/bzImage" ]; then
		log "kernel $flavour cached ($(cat "$out/include/config/kernel.release"))"
		return 0
	fi
	extract_source
	rm -f "$out/.stamp"
	# The cdev-only kernel differs from the default one in a handful of VFIO files: start
	# from a copy of the default build so kbuild only recompiles what the options touch.
	if [ "$flavour" = cdev-only ] && [ -f "$K/build-default/.stamp" ] && [ ! -d "$out" ]; then
		cp -a "$K/build-default" "$out"
	fi
	log "configuring kernel $flavour (tinyconfig + ${frags[*]##*/})"
	configure "$out" "${frags[@]}" ||
		die "kernel $flavour: the final .config does not hold the fragment (see above); fix config/kernel/*.config"
	log "building kernel $flavour (make -j$(nproc) bzImage)"
	make -C "$SRC" O="$out" -j"$(nproc)" bzImage > "$out/build.log" 2>&1 ||
		{ tail -n 30 "$out/build.log"; die "kernel $flavour build failed (log: $out/build.log)"; }
	echo "$key" > "$out/.stamp"
	log "kernel $flavour built: $(cat "$out/include/config/kernel.release"), $(stat -c %s "$out/arch/x86/boot/bzImage") bytes"
}

install_headers() {
	local h=$K/uapi-headers key
	key=$pkgver
	[ -f "$h/.stamp" ] && [ "$(cat "$h/.stamp")" = "$key" ] && return 0
	extract_source
	log "installing $KERNEL_VERSION_SERIES uAPI headers into $h"
	rm -rf "$h"
	make -s -C "$SRC" O="$K/build-headers" headers_install INSTALL_HDR_PATH="$h" > /dev/null
	rm -rf "$K/build-headers"
	echo "$key" > "$h/.stamp"
}

if [ "${1:-}" = --check-config ]; then
	[ $# -ge 3 ] || die "usage: build-kernel.sh --check-config OUTDIR FRAGMENT..."
	out=$2; shift 2
	extract_source
	configure "$out" "$@" || die "the final .config does not hold the fragment (see above)"
	log "fragments hold in $out/.config"
	exit 0
fi

flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(default cdev-only)
install_headers
for f in "${flavours[@]}"; do
	case "$f" in default|cdev-only|newer) build_one "$f" ;; *) die "unknown kernel flavour '$f' (default, cdev-only, newer)";; esac
done
