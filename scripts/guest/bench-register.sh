#!/usr/bin/env bash
# Inside the test bed (needs >= 560 free 2 MiB hugepages): register 1 GiB of DPDK memory
# for DMA through vfiofd (iommufd) and through DPDK's own VFIO type1 path (bus/pci +
# net_virtio), REPEATS times each, alternating, in two scenarios (see test_mem.c):
#   runtime   1 GiB allocated after the device is set up (DPDK's default dynamic memory,
#             --match-allocations for both) -- the RATIO lines
#   prealloc  -m 1024, allocated before the device is set up -- BENCH lines only
# Both paths are measured by the same LD_PRELOAD shim: map ioctls issued and the time
# inside them. Prints BENCH/RATIO lines (medians).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
B=${1:?usage: bench-register.sh BUILDDIR [REPEATS]}
REPEATS=${2:-5}
prog=$B/app/test-vfiofd/mem/test-vfiofd-mem
shim=$B/app/test-vfiofd/bench/libioctl-count.so
T=${TMPDIR:-/tmp}/bench-register
mkdir -p "$T"
free_pages=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages)
[ "$free_pages" -ge 560 ] || die "need 560 free 2 MiB hugepages, have $free_pages"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# one run: path scenario -> appends "calls ms wall" to $T/<path>-<scenario>
run() {
	local path=$1 scen=$2 ioctl=IOMMU_IOAS_MAP bdf
	local -a eal=(-l 0 --iova-mode va --log-level lib.eal:error --file-prefix "bench-$path")
	read -r bdf _ <<< "$VFIOFD_VIRTIO_BDFS"
	[ "$path" = dpdk ] && ioctl=VFIO_IOMMU_MAP_DMA
	# the same EAL memory options for both paths; DPDK's path probes the NIC on bus/pci
	[ "$scen" = prealloc ] && eal+=(-m 1024) || eal+=(--match-allocations)
	[ "$path" = dpdk ] && eal+=(-a "$bdf") || eal+=(--no-pci)
	LD_PRELOAD=$shim "$prog" bench-register "$path" "$scen" "${eal[@]}" > "$T/run.log" 2>&1 ||
		{ cat "$T/run.log"; die "$path $scen registration failed"; }
	awk -v want="$ioctl" '
		$1 == "IOCTLS" && $2 == want { split($3, c, "="); split($4, m, "="); calls = c[2]; ms = m[2] }
		$1 == "REGISTER" { split($4, w, "="); wall = w[2] }
		END { if (calls == "") exit 1; print calls, ms, wall }' "$T/run.log" >> "$T/$path-$scen" ||
		{ cat "$T/run.log"; die "$path $scen: no $ioctl counted"; }
}

for scen in runtime prealloc; do
	: > "$T/vfiofd-$scen"; : > "$T/dpdk-$scen"
	for i in $(seq "$REPEATS"); do
		run vfiofd "$scen"
		run dpdk "$scen"
	done
	for path in vfiofd dpdk; do
		name=$path; [ "$path" = dpdk ] && name=dpdk_type1
		echo "BENCH register_1g_${scen}_${name}_ioctls $(cut -d' ' -f1 "$T/$path-$scen" | median) ioctls"
		echo "BENCH register_1g_${scen}_${name}_map_time $(cut -d' ' -f2 "$T/$path-$scen" | median) ms"
		[ "$path-$scen" = dpdk-prealloc ] ||
			echo "BENCH register_1g_${scen}_${name}_wall $(cut -d' ' -f3 "$T/$path-$scen" | median) ms"
	done
done
ratio() { awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN { printf "RATIO %s %.4f\n", n, a / b }'; }
ratio register_1g_time_vs_dpdk_type1 "$(cut -d' ' -f2 "$T/vfiofd-runtime" | median)" "$(cut -d' ' -f2 "$T/dpdk-runtime" | median)"
ratio register_1g_ioctls_vs_dpdk_type1 "$(cut -d' ' -f1 "$T/vfiofd-runtime" | median)" "$(cut -d' ' -f1 "$T/dpdk-runtime" | median)"
ratio register_1g_wall_vs_dpdk_type1 "$(cut -d' ' -f3 "$T/vfiofd-runtime" | median)" "$(cut -d' ' -f3 "$T/dpdk-runtime" | median)"
ratio register_1g_prealloc_time_vs_dpdk_type1 "$(cut -d' ' -f2 "$T/vfiofd-prealloc" | median)" "$(cut -d' ' -f2 "$T/dpdk-prealloc" | median)"
