#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Inside the test bed, profile newer-noiommu (Linux 7.3+, no vIOMMU, vfio's unsafe
# no-IOMMU mode): dpdk-testpmd over the vfiofd bus drives a virtio-net NIC
# (net_vfiofd_virtio) and the e1000e (DPDK's net_e1000_em) through their no-IOMMU cdevs,
# /dev/vfio/devices/noiommu-vfioN, bound to an iommufd: at least 100,000 packets each
# way, reconciled. The memory library must have run in its no-IOMMU cdev mode, pinned
# DPDK memory through an IOAS and confirmed its physical addresses with the kernel
# (IOMMU_IOAS_NOIOMMU_GET_PA). (The library runs in that mode only for devices the bus
# opened through their no-IOMMU cdev, never through a VFIO group.)
set -u
. "$(dirname "$0")/../../../scripts/lib.sh"
FWD=$VFIOFD_TOP/scripts/guest/testpmd-fwd.sh
tag=noiommu-cdev
log=/tmp/testpmd-$tag.log

echo "# kernel $(uname -r)"
n=(/dev/vfio/devices/noiommu-vfio*)
[ -e "${n[0]}" ] || die "no /dev/vfio/devices/noiommu-vfioN: this kernel has no no-IOMMU cdev"
echo "# no-IOMMU cdevs: ${n[*]}"

bash "$FWD" --path vfiofd --tag "$tag" --nics virtio-e1000e --devargs noiommu=1 \
	--seconds 120 --min-packets 100000 --eal '--log-level=lib.iommufd_mem:info' ||
	die "forwarding over the no-IOMMU cdevs failed"

fail=0
mode=$(grep -m1 'IOMMUFD_MEM: no-IOMMU (cdev + iommufd) mode' "$log") ||
	{ echo "FAIL: the memory library did not run in no-IOMMU cdev mode:"; grep IOMMUFD_MEM "$log" | head -5; fail=1; }
echo "${mode:-}"
pop=$(grep -m1 'populated: .*confirmed by IOMMU_IOAS_NOIOMMU_GET_PA' "$log") ||
	{ echo "FAIL: no IOAS was populated with kernel-confirmed physical addresses"; fail=1; }
echo "${pop:-}"
q=$(sed -nE 's/.*GET_PA \(([0-9]+) queries.*/\1/p' <<< "${pop:-}")
[ "${q:-0}" -gt 0 ] || { echo "FAIL: no IOMMU_IOAS_NOIOMMU_GET_PA query"; fail=1; }
[ "$fail" = 0 ] || die "no-IOMMU cdev checks failed"
echo "NOIOMMU_CDEV ok: ${q} GET_PA queries"
