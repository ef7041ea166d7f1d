#!/usr/bin/env bash
# Benchmarks (make bench): figures, not pass/fail. Every figure is printed as
#   BENCH <name> <value> <unit>     and every comparison as   RATIO <name> <value>
# Host benchmarks are meson benchmark()s; test-bed benchmarks boot the VM.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_BUILD
S=$VFIOFD_TOP/scripts
rc=0

echo "== host benchmarks =="
meson test -C "$B" --benchmark --verbose --num-processes 1 > "$B/bench-host.log" 2>&1 || rc=1
grep -hE '^(BENCH|RATIO) ' "$B/bench-host.log" || true
[ $rc = 0 ] || { echo "host benchmarks failed: see $B/bench-host.log"; tail -n 20 "$B/bench-host.log"; }

echo "== test-bed benchmarks (QEMU TCG: only ratios measured in the same run mean anything) =="
# Registering 1 GiB needs more hugepages than the test profiles reserve.
out=$B/bench-register.log
if VFIOFD_VM_HUGEPAGES=600 VFIOFD_VM_MEM=3G bash "$S/vm-run.sh" --timeout 900 iommu \
	"bash $S/guest/bench-register.sh $B 5" > "$out" 2>&1; then
	grep -E '^(BENCH|RATIO) ' "$out"
else
	echo "registration benchmark failed: see $out"; tail -n 20 "$out"; rc=1
fi
# net_vfiofd_virtio (vfiofd bus: VFIO cdev + iommufd) against DPDK's own net_virtio
# (bus/pci: VFIO group + type1), testpmd io forwarding between the two virtio NICs:
# both in the same boot, alternated run by run (the order flips each round), medians.
# Then the cdev-only kernel, where DPDK's own path cannot run at all.
pmd_bench=$VFIOFD_TOP/app/test-vfiofd/pmd/vm_pmd_bench.sh
# pmd_vs_pci NAME PROFILE ROUNDS [vm_pmd_bench.sh options]: both paths, one boot of
# PROFILE; prints BENCH <NAME>_vfiofd, BENCH <NAME>_dpdk_pci and RATIO <NAME>_vs_dpdk_pci.
pmd_vs_pci() {
	local name=$1 profile=$2 rounds=$3 out=$B/bench-$1.log
	shift 3
	if ! bash "$S/vm-run.sh" --timeout 1500 "$profile" \
		"bash $pmd_bench --rounds $rounds --seconds 15 $* vfiofd pci" > "$out" 2>&1; then
		echo "$name benchmark failed: see $out"; tail -n 20 "$out"; return 1
	fi
	grep -E '^(RUN|MEDIAN) ' "$out" | sed 's/^/# /'
	awk -v name="$name" '/^MEDIAN vfiofd / { v = $3 } /^MEDIAN pci / { p = $3 }
		END {
			if (v == "" || p == "" || p + 0 == 0) exit 1
			printf "BENCH %s_vfiofd %s Mpps\n", name, v
			printf "BENCH %s_dpdk_pci %s Mpps\n", name, p
			printf "RATIO %s_vs_dpdk_pci %.3f\n", name, v / p
		}' "$out" || { echo "$name benchmark: no medians, see $out"; return 1; }
}
# Every DPDK series at hand, each against DPDK's own PCI path of the same release (its
# build-<series>/ and DPDK); the default also with 2 queue pairs.
for series in $(dpdk_available); do
	VFIOFD_BUILD=$(build_dir_of "$series") pmd_vs_pci "testpmd_io_mpps@$series" iommu 5 ||
		rc=1
done
# The same with 2 queue pairs per port, on the multiqueue taps of the iommu-mq profile.
pmd_vs_pci testpmd_io_2q_mpps iommu-mq 3 --queues 2 || rc=1
# DPDK's own e1000 drivers (net_e1000_em on the e1000e, net_e1000_igb on the igb) over
# vfiofd against the same drivers on bus/pci, same boot, same wiring.
pmd_vs_pci stock_pmd_io_mpps iommu 5 --nics stock || rc=1
# net_vfiofd_virtio in the memory library's translated mode (iova=translated: every
# buffer looked up in the lock-free cache) against the same PMD taking the EAL's IOVAs,
# same boot, alternated.
out=$B/bench-translated.log
if bash "$S/vm-run.sh" --timeout 1500 iommu \
	"bash $pmd_bench --rounds 5 --seconds 15 vfiofd:iova=translated vfiofd" > "$out" 2>&1; then
	grep -E '^(RUN|MEDIAN) ' "$out" | sed 's/^/# /'
	awk '/^MEDIAN vfiofd:iova=translated / { t = $3 } /^MEDIAN vfiofd / { v = $3 }
		END {
			if (t == "" || v == "" || v + 0 == 0) exit 1
			printf "BENCH testpmd_io_mpps_translated %s Mpps\n", t
			printf "BENCH testpmd_io_mpps_iova_va %s Mpps\n", v
			printf "RATIO testpmd_io_translated_vs_va %.3f\n", t / v
		}' "$out" || { echo "translated-mode benchmark: no medians, see $out"; rc=1; }
else
	echo "translated-mode benchmark failed: see $out"; tail -n 20 "$out"; rc=1
fi
out=$B/bench-pmd-cdev-only.log
if bash "$S/vm-run.sh" --timeout 900 cdev-only \
	"bash $pmd_bench --rounds 3 --seconds 15 vfiofd" > "$out" 2>&1; then
	awk '/^MEDIAN vfiofd / { printf "BENCH testpmd_io_mpps_vfiofd_cdev_only %s Mpps\n", $3; ok = 1 }
		END { exit !ok }' "$out" || { echo "cdev-only PMD benchmark: no median, see $out"; rc=1; }
else
	echo "cdev-only PMD benchmark failed: see $out"; tail -n 20 "$out"; rc=1
fi
# Probe time, vfiofd vs bus/pci (VFIO), same boot: a virtio NIC with a driver that
# returns 0 on each bus, so that only the buses' own work (open, DMA mapping, BARs,
# interrupts) is timed; then the e1000e with DPDK's net_e1000_em on both, its device
# initialisation included (see app/test-vfiofd/bus/bench_probe.c).
probe=$VFIOFD_TOP/app/test-vfiofd/bus/bench_probe.sh
out=$B/bench-probe.log
if bash "$S/vm-run.sh" --timeout 900 iommu \
	"bash $probe $B/app/test-vfiofd/bus/bench-vfiofd-probe 3 7 && bash $probe --stock $B/app/test-vfiofd/bus/bench-vfiofd-probe 3 7" \
	> "$out" 2>&1; then
	grep -E '^(BENCH|RATIO) ' "$out"
else
	echo "probe benchmark failed: see $out"; tail -n 20 "$out"; rc=1
fi
exit $rc
