#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Inside the test bed: run test-vfiofd-pmd on the two virtio-net NICs through the
# vfiofd bus. Usage: vm_pmd.sh <build dir> <test-vfiofd-pmd> <test> [devargs]
# bus/pci is disabled (--no-pci): DPDK's own net_virtio must not take the NICs.
set -u
B=$1 T=$2 name=$3 da=${4:-}
read -r V1 V2 _ <<< "${VFIOFD_VIRTIO_BDFS:-}"
[ -n "${V2:-}" ] || { echo "need two virtio-net NICs, have '${VFIOFD_VIRTIO_BDFS:-}'"; exit 1; }
EAL=(-l 0 -n 1 --no-pci --file-prefix "pmd-$name"
	-d "$B/drivers/bus/vfiofd/librte_bus_vfiofd.so"
	-d "$B/drivers/net/vfiofd_virtio/librte_net_vfiofd_virtio.so"
	-a "vfiofd:$V1${da:+,$da}" -a "vfiofd:$V2${da:+,$da}"
	--log-level=pmd.net.vfiofd_virtio:info)
echo "# $T ${EAL[*]} -- $name"
exec "$T" "${EAL[@]}" -- "$name"
