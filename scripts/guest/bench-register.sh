#!/usr/bin/env bash
# Inside the test bed (needs >= 560 free 2 MiB hugepages): register 1 GiB of DPDK memory
# (-m 1024, 512 x 2 MiB, preallocated) for DMA through vfiofd (iommufd) and through
# DPDK's own VFIO type1 path (bus/pci + net_virtio), REPEATS times each, alternating.
# Both are measured by the same LD_PRELOAD shim: map ioctls issued and time inside them.
# Prints BENCH/RATIO lines (medians).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
B=${1:?usage: bench-register.sh BUILDDIR [REPEATS]}
REPEATS=${2:-5}
prog=$B/app/test-vfiofd/mem/test-vfiofd-mem
shim=$B/app/test-vfiofd/bench/libioctl-count.so
free_pages=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
[ "$free_pages" -ge 560 ] || die "need 560 free 2 MiB hugepages, have $free_pages"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > /tmp/reg-ours.txt; : > /tmp/reg-dpdk.txt
for i in $(seq "$REPEATS"); do
	LD_PRELOAD=$shim "$prog" bench-register vfiofd > /tmp/reg.log 2>&1 || { cat /tmp/reg.log; die "vfiofd registration run $i failed"; }
	awk '/^IOCTLS IOMMU_IOAS_MAP / { split($3, c, "="); split($4, m, "="); print c[2], m[2] }' /tmp/reg.log >> /tmp/reg-ours.txt
	grep '^REGISTER' /tmp/reg.log
	LD_PRELOAD=$shim "$prog" bench-register dpdk > /tmp/reg.log 2>&1 || { cat /tmp/reg.log; die "DPDK type1 run $i failed"; }
	awk '/^IOCTLS VFIO_IOMMU_MAP_DMA / { split($3, c, "="); split($4, m, "="); print c[2], m[2] }' /tmp/reg.log >> /tmp/reg-dpdk.txt
done
[ "$(wc -l < /tmp/reg-ours.txt)" = "$REPEATS" ] && [ "$(wc -l < /tmp/reg-dpdk.txt)" = "$REPEATS" ] ||
	die "a run did not report its map ioctls"
oc=$(cut -d' ' -f1 /tmp/reg-ours.txt | median); om=$(cut -d' ' -f2 /tmp/reg-ours.txt | median)
dc=$(cut -d' ' -f1 /tmp/reg-dpdk.txt | median); dm=$(cut -d' ' -f2 /tmp/reg-dpdk.txt | median)
echo "BENCH register_1g_vfiofd_ioctls $oc ioctls"
echo "BENCH register_1g_vfiofd_time $om ms"
echo "BENCH register_1g_dpdk_type1_ioctls $dc ioctls"
echo "BENCH register_1g_dpdk_type1_time $dm ms"
awk -v a="$om" -v b="$dm" 'BEGIN { printf "RATIO register_1g_time_vs_dpdk_type1 %.4f\n", a / b }'
awk -v a="$oc" -v b="$dc" 'BEGIN { printf "RATIO register_1g_ioctls_vs_dpdk_type1 %.4f\n", a / b }'
