#!/usr/bin/env bash
# Build DPDK 22.11 LTS from Debian's source package, with the driver SDK headers that
# Debian's libdpdk-dev lacks and with dpdk-testpmd, into $VFIOFD_CACHE/dpdk/install.
# The DPDK PCI/VFIO-group path built here is the baseline vfiofd is compared against.
# Cached: rebuilt only when the source version or the options below change.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DRIVERS=bus/pci,bus/vdev,mempool/ring,net/null,net/ring,net/pcap,net/virtio,net/e1000
# Optional libraries testpmd does not need; the mandatory ones cannot be disabled.
DISABLE_LIBS=flow_classify,gpudev,kni,jobstats,node,pipeline,port,power,table,vhost,cfgfile
OPTS=(-Dbuildtype=release -Ddefault_library=shared -Dplatform=generic
	-Denable_driver_sdk=true -Dtests=false -Denable_docs=false -Dexamples=
	-Denable_kmods=false -Denable_apps=test-pmd
	-Denable_drivers=$DRIVERS -Ddisable_libs=$DISABLE_LIBS)

D=$VFIOFD_CACHE/dpdk
check_cache_dir "$VFIOFD_CACHE"
mkdir -p "$D"
cd "$D"

dsc=$(ls dpdk_22.11.*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
	log "fetching Debian's dpdk source package (bookworm)"
	apt-get source --download-only -qq dpdk/bookworm 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
	dsc=$(ls dpdk_22.11.*.dsc | sort -V | tail -n 1)
fi
[ -n "$dsc" ] || die "could not fetch the dpdk 22.11 source package (is the deb-src line in place? run scripts/setup-packages.sh)"

key=$( { echo "$dsc"; printf '%s\n' "${OPTS[@]}"; } | sha256sum | cut -c1-16)
if [ -f install/.stamp ] && [ "$(cat install/.stamp)" = "$key" ]; then
	log "DPDK cached ($(PKG_CONFIG_LIBDIR=$(dirname "$(find install -name libdpdk.pc | head -n 1)") pkg-config --modversion libdpdk))"
	exit 0
fi

rm -rf src build install
log "extracting $dsc (with Debian's patches)"
dpkg-source --no-check -x "$dsc" src > /dev/null
log "configuring DPDK: ${OPTS[*]}"
meson setup build src --prefix="$D/install" "${OPTS[@]}" > build.log 2>&1 ||
	{ tail -n 40 build.log; die "DPDK meson setup failed (full log: $D/build.log)"; }
log "building DPDK (ninja -j$(nproc))"
ninja -C build -j"$(nproc)" >> build.log 2>&1 ||
	{ tail -n 40 build.log; die "DPDK build failed (full log: $D/build.log)"; }
ninja -C build install >> build.log 2>&1 || die "DPDK install failed (full log: $D/build.log)"
# The driver SDK headers are the reason we build DPDK at all: prove they are there.
for h in bus_driver.h dev_driver.h ethdev_driver.h bus_pci_driver.h rte_rcu_qsbr.h; do
	[ -f install/include/$h ] || die "DPDK install lacks $h: the driver SDK was not installed"
done
[ -x install/bin/dpdk-testpmd ] || die "DPDK install lacks dpdk-testpmd"
echo "$key" > install/.stamp
log "DPDK built and installed in $D/install"
