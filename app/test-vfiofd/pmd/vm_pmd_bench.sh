#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Inside the test bed: testpmd io forwarding between the two virtio-net NICs, the
# vfiofd PMD and DPDK's own net_virtio on bus/pci alternated in the same boot, a few
# rounds, medians. Prints per run "RUN <name> <round> <mpps> at <epoch>" and at the end
# "MEDIAN <name> <mpps>" for each variant.
# Usage: vm_pmd_bench.sh [--rounds N] [--seconds S] [--queues Q] [--nics stock] VARIANT...
#   VARIANT: pci | vfiofd[:devargs] (devargs with ',' between keys, e.g.
#            vfiofd:event_idx=off,mrg_rxbuf=on); the variant's name is the whole word.
#   --nics stock: the e1000e and the igb with DPDK's e1000 drivers (on bus/pci, or on
#            vfiofd) instead of the two virtio NICs (testpmd-fwd.sh --nics).
set -u
. "$(dirname "$0")/../../../scripts/lib.sh"
rounds=3 seconds=15 queues=1 nics=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--queues) queues=$2; shift 2 ;;
	--nics) nics=(--nics "$2"); shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- vfiofd pci
fwd=$VFIOFD_TOP/scripts/guest/testpmd-fwd.sh
declare -A res
for r in $(seq 1 "$rounds"); do
	# alternate the order from round to round: neither path always runs first
	if [ $((r % 2)) = 1 ]; then order=("$@"); else order=(); for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done; fi
	for v in "${order[@]}"; do
		case "$v" in
		pci) args=(--path pci) ;;
		vfiofd) args=(--path vfiofd) ;;
		vfiofd:*) args=(--path vfiofd --devargs "${v#vfiofd:}") ;;
		*) die "unknown variant $v" ;;
		esac
		tag=$(echo "$v" | tr ':,=' '___')
		out=$(bash "$fwd" "${args[@]}" "${nics[@]}" --tag "$tag" --seconds "$seconds" \
			--queues "$queues" 2>&1)
		m=$(echo "$out" | awk '/^FWD .* mpps=/ { split($3, a, "="); print a[2] }')
		if [ -z "$m" ]; then
			echo "$out" | tail -n 30
			echo "RUN $v $r failed"
			m=0
		fi
		echo "RUN $v $r $m at $(date +%s)"
		res[$v]="${res[$v]:-} $m"
	done
done
for v in "$@"; do
	med=$(echo ${res[$v]} | tr ' ' '\n' | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	echo "MEDIAN $v $med (runs:${res[$v]})"
done
