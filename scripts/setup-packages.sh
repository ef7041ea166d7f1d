#!/usr/bin/env bash
# Install the Debian packages vfiofd needs, from bookworm (and bookworm-backports for a
# QEMU whose intel-iommu defaults fit), never from testing/sid. Idempotent: it only calls
# apt when something is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Build tools, DPDK build deps, kernel build deps, the test bed, the docs.
PKGS_BOOKWORM="build-essential meson ninja-build pkg-config dpkg-dev python3-pyelftools
	libnuma-dev libpcap-dev bc bison flex libelf-dev libssl-dev cpio dwarves xz-utils
	rsync kmod linux-source-6.12 python3-sphinx python3-sphinx-rtd-theme clang
	libclang-rt-14-dev iproute2 strace"
PKGS_BACKPORTS="qemu-system-x86"

SRC_FILE=/etc/apt/sources.list.d/vfiofd-bookworm.sources

write_sources() {
	local main sec uri key suri skey
	main=$(mirror_of bookworm | head -n 1)
	[ -n "$main" ] || die "no apt source for bookworm found; vfiofd setup expects a Debian bookworm machine"
	uri=${main%% *}; key=${main#* }; [ "$key" = "$uri" ] && key=/usr/share/keyrings/debian-archive-keyring.gpg
	sec=$(mirror_of bookworm-security | head -n 1)
	suri=${sec%% *}; skey=${sec#* }; [ "$skey" = "$suri" ] && skey=$key
	local want
	want=$(cat <<EOS
# Written by vfiofd scripts/setup-packages.sh: source packages for DPDK and the
# kernel, and bookworm-backports (QEMU). bookworm only: never testing or sid.
Types: deb-src
URIs: $uri
Suites: bookworm bookworm-updates
Components: main
Signed-By: $key

Types: deb deb-src
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $key
EOS
)
	if [ -n "$suri" ]; then
		want+=$'\n\n'"Types: deb-src"$'\n'"URIs: $suri"$'\n'"Suites: bookworm-security"$'\n'"Components: main"$'\n'"Signed-By: $skey"
	fi
	if [ ! -f "$SRC_FILE" ] || [ "$(cat "$SRC_FILE")" != "$want" ]; then
		printf '%s\n' "$want" > "$SRC_FILE"
		return 0
	fi
	return 1
}

missing() {
	local p out=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || out+=" $p"
	done
	echo "$out"
}

need_update=0
write_sources && need_update=1
# shellcheck disable=SC2086
miss=$(missing $PKGS_BOOKWORM)
missbp=$(missing $PKGS_BACKPORTS)
if [ -n "$miss$missbp" ] || [ $need_update = 1 ]; then
	export DEBIAN_FRONTEND=noninteractive
	log "apt-get update"
	apt-get update -qq
fi
if [ -n "$miss" ]; then
	log "installing:$miss"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $miss
fi
if [ -n "$missbp" ]; then
	log "installing from bookworm-backports:$missbp"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends -t bookworm-backports $missbp
fi
log "packages ok ($(qemu-system-x86_64 --version | head -n 1))"
