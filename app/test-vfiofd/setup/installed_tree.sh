#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# installed_tree_testpmd: what `meson install` puts where, and dpdk-testpmd running
# from the installed tree with no -d.
#   1. On the host: `meson install` of this build into a staging directory (DESTDIR, as
#      a package build does); the bus, the PMD and lib/iommufd_mem must land in the
#      DPDK's libdir, the bus and the PMD linked into the directory the DPDK's EAL loads
#      plugins from (RTE_EAL_PMD_PATH), with libvfiofd.pc and the public headers.
#   2. In the test bed, in a private mount namespace (nothing outside it changes): the
#      DPDK's libdir becomes a copy of itself with the staged files added, as after a
#      real install, and testpmd forwards between the two virtio-net NICs over vfiofd,
#      its plugins found by the EAL alone.
# Usage: installed_tree.sh <vm-run.sh>
set -euo pipefail
. "$(dirname "$0")/../../../scripts/lib.sh"
VM_RUN=$1
B=$VFIOFD_BUILD
stage=$B/install-stage
rm -rf "$stage"
meson install -C "$B" --no-rebuild --quiet --destdir "$stage" ||
	die "meson install into $stage failed"
libdir=$(dirname "$(find "$DPDK_PREFIX" -name librte_eal.so -print -quit)")
pmddir=$(sed -n 's/^#define RTE_EAL_PMD_PATH "\(.*\)"$/\1/p' "$DPDK_PREFIX/include/rte_build_config.h")
[ -n "$pmddir" ] || die "no RTE_EAL_PMD_PATH in $DPDK_PREFIX/include/rte_build_config.h"
fail=0
check() { # $1 = what, then a command
	local what=$1; shift
	if "$@"; then echo "ok - $what"; else echo "not ok - $what"; fail=1; fi
}
for lib in librte_bus_vfiofd.so librte_net_vfiofd_virtio.so librte_iommufd_mem.so; do
	check "$lib installed in $libdir" test -f "$stage$libdir/$lib"
done
for lib in librte_bus_vfiofd.so librte_net_vfiofd_virtio.so; do
	check "$lib linked into the EAL's plugin directory $pmddir" \
		test "$(readlink "$stage$pmddir/$lib")" = "$libdir/$lib"
done
check "libvfiofd.pc installed" test -f "$stage$libdir/pkgconfig/libvfiofd.pc"
check "bus_vfiofd_driver.h installed" test -f "$stage$DPDK_PREFIX/include/bus_vfiofd_driver.h"
check "the plugins find lib/iommufd_mem where they are installed" \
	bash -c "readelf -d '$stage$libdir/librte_bus_vfiofd.so' | grep -q 'path: \[.*$libdir'"
[ $fail = 0 ] || exit 1

# in the guest: the installed tree, then testpmd without -d
guest=$(cat <<EOS
set -e
inst=\$(mktemp -d /tmp/installed.XXXXXX)
mount -t tmpfs -o mode=0755 tmpfs "\$inst"
cp -a "$libdir/." "\$inst/"
cp -a "$stage$libdir/." "\$inst/"
mount --bind "\$inst" "$libdir"
echo "# $libdir is now the installed tree; its plugin directory holds:"
ls "$pmddir" | grep vfiofd | sed 's/^/#   /'
bash "$VFIOFD_TOP/scripts/guest/testpmd-fwd.sh" --path installed --seconds 60 \
	--min-packets 100000 > /tmp/fwd.out 2>&1 || { cat /tmp/fwd.out; exit 1; }
cat /tmp/fwd.out
# with --no-pci and no -d, only the plugins the EAL found itself can have made the ports
echo "ok - testpmd from the installed tree forwarded over vfiofd, plugins loaded without -d"
EOS
)
exec bash "$VM_RUN" --timeout 540 iommu "unshare -m bash -c $(printf %q "$guest")"
