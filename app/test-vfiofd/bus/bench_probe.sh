#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Guest side of the probe benchmark (scripts/run-bench.sh): the probe time of the first
# virtio-net NIC on vfiofd and on DPDK's bus/pci (VFIO type1), in the same boot, in
# alternating rounds (so that a busy host slows both alike), then the medians:
#   BENCH probe_time_vfiofd <ms> ms
#   BENCH probe_time_dpdk_pci <ms> ms
#   RATIO probe_time_vs_dpdk_pci <vfiofd/pci>      (lower is better)
# See bench_probe.c for what is timed.
# With --stock (first argument): the e1000e through DPDK's net_e1000_em on both buses,
# its device initialisation included, as stock_pmd_probe_time_*.
# Usage: bench_probe.sh [--stock] <bench-vfiofd-probe> [rounds] [repeats per round]
set -u
stock=() name=probe_time
if [ "${1:-}" = --stock ]; then
	stock=(--stock) name=stock_pmd_probe_time
	shift
fi
P=$1 rounds=${2:-3} repeat=${3:-7}
read -r V1 V2 _ <<< "$VFIOFD_VIRTIO_BDFS"
read -r E1 _ <<< "$VFIOFD_E1000E_BDFS"
# Nothing probed at init on either bus (-a and -b cannot be mixed: block everything);
# rte_dev_probe() then replaces the device's devargs on the bus that probes it.
EAL=(-l 0 -m 128 --huge-unlink --log-level=lib.eal:notice)
for d in $V1 $V2 $E1; do EAL+=(-b "$d" -b "vfiofd:$d"); done
out=/tmp/bench-probe.log
: > "$out"
for r in $(seq "$rounds"); do
	for bus in vfiofd pci; do
		"$P" --bus "$bus" --dev "$([ ${#stock[@]} = 0 ] && echo "$V1" || echo "$E1")" \
			--repeat "$repeat" "${stock[@]}" -- "${EAL[@]}" \
			--file-prefix "probe-$bus" >> "$out" 2>&1 ||
			{ cat "$out"; echo "probe benchmark on $bus failed"; exit 1; }
	done
done
grep '^PROBE ' "$out"
awk -v name="$name" '
	/^PROBE_T / { n[$2]++; t[$2, n[$2]] = $3 }
	function median(bus,    i, j, k, a, m) {
		m = n[bus]
		for (i = 1; i <= m; i++) a[i] = t[bus, i]
		for (i = 2; i <= m; i++) { k = a[i]; for (j = i - 1; j >= 1 && a[j] > k; j--) a[j + 1] = a[j]; a[j + 1] = k }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	END {
		if (!n["vfiofd"] || !n["pci"]) exit 1
		v = median("vfiofd"); p = median("pci")
		printf "BENCH %s_vfiofd %.3f ms\n", name, v
		printf "BENCH %s_dpdk_pci %.3f ms\n", name, p
		printf "RATIO %s_vs_dpdk_pci %.3f\n", name, v / p
	}' "$out"
