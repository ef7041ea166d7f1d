#!/usr/bin/env bash
# Build DPDK LTS releases with the driver SDK headers (which Debian's libdpdk-dev lacks)
# and dpdk-testpmd, each into $VFIOFD_CACHE/dpdk-<series>/install.
# Usage: build-dpdk.sh [series ...]   (no argument: every series whose source is at hand,
#                                      see "DPDK releases" in scripts/lib.sh)
# The DPDK PCI/VFIO-group path built here is the baseline vfiofd is compared against, and
# its PCI drivers are what vfiofd hands devices to. Each build holds what the tests of
# that series use: the default series also builds the big Intel NIC drivers (matched in
# the stock_pmd_match test; minutes of compiling on two cores), the others only the
# drivers the test bed's NICs need.
# Cached: a series is rebuilt only when its source or the options below change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# What every series builds: the buses, the test bed's NIC drivers (virtio; e1000 for the
# e1000e, the igb PF and the igb VF), and the pieces testpmd and the tests use.
DRIVERS_COMMON=bus/pci,bus/vdev,mempool/ring,net/null,net/ring,net/pcap,net/virtio,net/e1000
# The default series adds the NIC drivers users run on vfiofd. Before 25.11 igc is a
# driver of its own and ice and iavf need common/iavf; 25.11 folds igc into net/e1000
# and has no common/iavf any more.
drivers_of() { # $1 = series
	local d=$DRIVERS_COMMON
	if [ "$1" = "$(dpdk_default)" ]; then
		d+=,net/ixgbe,net/i40e,net/ice,net/iavf
		[ "$(printf '%s\n' "$1" 25.11 | sort -V | head -n 1)" = 25.11 ] ||
			d+=,net/igc,common/iavf
	fi
	echo "$d"
}
# Every optional library but those the drivers above need (security and cryptodev for
# ixgbe and iavf) and timer: testpmd, vfiofd and its tests use only the mandatory ones
# (eal, ethdev, mbuf, mempool, kvargs, pci, rcu, telemetry, ...). Less to compile: the
# cold setup builds three DPDKs. Names a series does not have are ignored by DPDK's
# glob; the build check below catches a driver dropped for a missing dependency.
DISABLE_LIBS=acl,bbdev,bitratestats,bpf,cfgfile,compressdev,dispatcher,distributor,dmadev
DISABLE_LIBS+=,efd,eventdev,fib,flow_classify,gpudev,graph,gro,gso,ip_frag,ipsec,jobstats
DISABLE_LIBS+=,kni,latencystats,lpm,member,metrics,mldev,node,pcapng,pdcp,pdump,pipeline
DISABLE_LIBS+=,pmu,port,power,ptr_compress,rawdev,regexdev,reorder,rib,sched,table,vhost
opts_of() { # $1 = series
	OPTS=(-Dbuildtype=release -Ddefault_library=shared -Dplatform=generic
		-Denable_driver_sdk=true -Dtests=false -Denable_docs=false -Dexamples=
		-Denable_apps=test-pmd
		-Denable_drivers="$(drivers_of "$1")" -Ddisable_libs=$DISABLE_LIBS)
	# 25.11 dropped the option (meson refuses an unknown one)
	[ "$(printf '%s\n' "$1" 25.11 | sort -V | head -n 1)" = 25.11 ] ||
		OPTS+=(-Denable_kmods=false)
}

# Bring the source of series $1 into directory $2/src (the name of what was used in
# "src_id", for the cache key).
fetch_source() {
	local series=$1 D=$2 kind what
	read -r kind what <<< "$(dpdk_source "$series")"
	case "$kind" in
	debian)
		local dsc
		dsc=$(ls "$D"/dpdk_"$series".*.dsc 2> /dev/null | sort -V | tail -n 1 || true)
		if [ -z "$dsc" ]; then
			log "fetching Debian's dpdk source package (bookworm)"
			(cd "$D" && apt-get source --download-only -qq dpdk/bookworm 2>&1 |
				grep -v '^W: Download is performed unsandboxed' || true)
			dsc=$(ls "$D"/dpdk_"$series".*.dsc 2> /dev/null | sort -V | tail -n 1 || true)
		fi
		[ -n "$dsc" ] || die "could not fetch the dpdk $series source package (is the deb-src line in place? run scripts/setup-packages.sh)"
		src_id=$(basename "$dsc")
		[ "${extract:-0}" = 1 ] || return 0
		log "extracting $src_id (with Debian's patches)"
		dpkg-source --no-check -x "$dsc" "$D/src" > /dev/null
		;;
	tarball)
		local sums sum
		sums=$(dirname "$what")/SHA256SUMS
		[ -f "$sums" ] || die "$what: no SHA256SUMS next to it to check it against"
		sum=$(awk -v f="$(basename "$what")" '$2 == f || $2 == "*" f { print $1 }' "$sums")
		[ -n "$sum" ] || die "$what: not listed in $sums"
		src_id="$(basename "$what") $sum"
		[ "${extract:-0}" = 1 ] || return 0
		echo "$sum  $what" | sha256sum -c --quiet - ||
			die "$what does not match its checksum in $sums: refusing to build it"
		log "extracting $(basename "$what") (checksum verified)"
		mkdir -p "$D/src"
		tar -C "$D/src" --strip-components=1 -xf "$what"
		;;
	user)
		if [ -d "$what" ]; then
			src_id="dir $what $(cat "$what/VERSION")"
			[ "${extract:-0}" = 1 ] || return 0
			log "copying the DPDK source $what"
			mkdir -p "$D/src"
			cp -a "$what/." "$D/src/"
		else
			src_id="tarball $what $(sha256sum < "$what" | cut -c1-64)"
			[ "${extract:-0}" = 1 ] || return 0
			log "extracting $what"
			mkdir -p "$D/src"
			tar -C "$D/src" --strip-components=1 -xf "$what"
		fi
		;;
	*) die "no source for DPDK $series (have: $(dpdk_available))" ;;
	esac
}

build_one() {
	local series=$1 D key pcdir
	D=$(dpdk_dir "$series")
	mkdir -p "$D"
	opts_of "$series"
	extract=0 fetch_source "$series" "$D"
	key=$( { echo "$src_id"; printf '%s\n' "${OPTS[@]}"; } | sha256sum | cut -c1-16)
	if [ -f "$D/install/.stamp" ] && [ "$(cat "$D/install/.stamp")" = "$key" ]; then
		pcdir=$(dirname "$(find "$D/install" -name libdpdk.pc -print -quit)")
		log "DPDK $series cached ($(PKG_CONFIG_LIBDIR=$pcdir pkg-config --modversion libdpdk))"
		return 0
	fi
	rm -rf "$D/src" "$D/build" "$D/install"
	extract=1 fetch_source "$series" "$D"
	log "configuring DPDK $series: ${OPTS[*]}"
	meson setup "$D/build" "$D/src" --prefix="$D/install" "${OPTS[@]}" > "$D/build.log" 2>&1 ||
		{ tail -n 40 "$D/build.log"; die "DPDK $series meson setup failed (full log: $D/build.log)"; }
	log "building DPDK $series (ninja -j$(nproc))"
	ninja -C "$D/build" -j"$(nproc)" >> "$D/build.log" 2>&1 ||
		{ tail -n 40 "$D/build.log"; die "DPDK $series build failed (full log: $D/build.log)"; }
	ninja -C "$D/build" install >> "$D/build.log" 2>&1 ||
		die "DPDK $series install failed (full log: $D/build.log)"
	# The driver SDK headers are the reason we build DPDK at all: prove they are there.
	local h
	for h in bus_driver.h dev_driver.h ethdev_driver.h bus_pci_driver.h rte_rcu_qsbr.h; do
		[ -f "$D/install/include/$h" ] || die "DPDK $series install lacks $h: the driver SDK was not installed"
	done
	[ -x "$D/install/bin/dpdk-testpmd" ] || die "DPDK $series install lacks dpdk-testpmd"
	# DPDK drops a driver whose dependencies are missing with a note, not an error:
	# every driver asked for must have been built
	local drv libdir missing=
	libdir=$(dirname "$(find "$D/install" -name librte_eal.so -print -quit)")
	for drv in $(drivers_of "$series" | tr ',' ' '); do
		[ -e "$libdir/librte_${drv/\//_}.so" ] || missing+=" $drv"
	done
	[ -z "$missing" ] || die "DPDK $series was built without:$missing (see the 'Content Skipped' part of $D/build.log)"
	# the sources are kept: the tests use DPDK's pmdinfo tools from them
	rm -rf "$D/build"
	echo "$key" > "$D/install/.stamp"
	log "DPDK $series built and installed in $D/install"
}

check_cache_dir "$VFIOFD_CACHE"
series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || read -r -a series_list <<< "$(dpdk_available)"
for s in "${series_list[@]}"; do
	[ -n "$(dpdk_source "$s")" ] || die "DPDK $s: no source at hand (have: $(dpdk_available); tarballs are looked for in $VFIOFD_DPDK_TARBALLS)"
done
log "DPDK series at hand: $(dpdk_available); default: $(dpdk_default)"
for s in "${series_list[@]}"; do
	build_one "$s"
done
