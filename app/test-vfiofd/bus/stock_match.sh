#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# stock_pmd_match: which driver the vfiofd bus picks for a device, on the host, against
# a fake sysfs tree (VFIOFD_SYSFS_PCI_DEVICES, VFIOFD_DEV_ROOT) holding an e1000e, an
# igb, an 82599 (ixgbe), an X710 (i40e), an E810 (ice), a virtio-net and an unknown
# device, all allow-listed on vfiofd. DPDK's PCI drivers come from the EAL's plugin
# directory (this DPDK's build has them all); net_vfiofd_virtio is loaded with -d. The
# probe then fails for want of /dev/iommu, after the bus logged its choice.
# Usage: stock_match.sh <test-vfiofd-bus> <librte_net_vfiofd_virtio.so>. Needs root.
set -u
T=$1 PMD=$2
[ "$(id -u)" = 0 ] || { echo "FAIL: this test builds fake device nodes with mknod and must run as root"; exit 1; }
R=$(mktemp -d /tmp/vfiofd-stock-match.XXXXXX)
trap 'rm -rf "$R"' EXIT
S=$R/sys D=$R/dev
mkdir -p "$S" "$D/vfio/devices"

# dev BDF VENDOR DEVICE INDEX: a device bound to vfio-pci with a good cdev
dev() {
	local p=$S/$1
	mkdir -p "$p/vfio-dev/vfio$4"
	echo "$2" > "$p/vendor"; echo "$3" > "$p/device"
	echo "$2" > "$p/subsystem_vendor"; echo 0x0000 > "$p/subsystem_device"
	echo 0x020000 > "$p/class"; echo -1 > "$p/numa_node"
	ln -s ../../../bus/pci/drivers/vfio-pci "$p/driver"
	echo "511:$4" > "$p/vfio-dev/vfio$4/dev"
	mknod "$D/vfio/devices/vfio$4" c 511 "$4"
}
dev 0000:00:01.0 0x8086 0x10d3 1   # 82574L, QEMU's e1000e
dev 0000:00:02.0 0x8086 0x10c9 2   # 82576, QEMU's igb
dev 0000:00:03.0 0x8086 0x10fb 3   # 82599 SFP
dev 0000:00:04.0 0x8086 0x1572 4   # X710 SFP+
dev 0000:00:05.0 0x8086 0x159b 5   # E810-XXV SFP
dev 0000:00:06.0 0x1af4 0x1041 6   # virtio-net, modern
dev 0000:00:07.0 0x1234 0x5678 7   # nothing drives it

export VFIOFD_SYSFS_PCI_DEVICES=$S VFIOFD_DEV_ROOT=$D
allow=()
for b in 01 02 03 04 05 06 07; do allow+=(-a "vfiofd:0000:00:$b.0"); done
"$T" --no-test-driver scan --expect-probed=none \
	--expect-log="0000:00:01.0: no vfiofd driver matches it; DPDK's PCI driver net_e1000_em does" \
	--expect-log="0000:00:02.0: no vfiofd driver matches it; DPDK's PCI driver net_e1000_igb does" \
	--expect-log="0000:00:03.0: no vfiofd driver matches it; DPDK's PCI driver net_ixgbe does" \
	--expect-log="0000:00:04.0: no vfiofd driver matches it; DPDK's PCI driver net_i40e does" \
	--expect-log="0000:00:05.0: no vfiofd driver matches it; DPDK's PCI driver net_ice does" \
	--expect-log="0000:00:06.0: vfiofd driver net_vfiofd_virtio matches it" \
	--expect-no-log="0000:00:06.0: no vfiofd driver matches it" \
	--expect-log="0000:00:07.0: allow-listed, but neither a vfiofd driver nor a DPDK PCI driver supports 1234:5678" \
	--expect-iova=va \
	-- -l 0 --no-huge -m 64 --no-pci --log-level=bus.vfiofd:debug -d "$PMD" "${allow[@]}"
