#!/usr/bin/env bash
# Benchmarks (make bench): figures, not pass/fail. Every figure is printed as
#   BENCH <name> <value> <unit>     and every comparison as   RATIO <name> <value>
# Host benchmarks are meson benchmark()s; test-bed benchmarks boot the VM.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_TOP/build
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
out=$B/bench-testpmd.log
if bash "$S/vm-run.sh" --timeout 400 iommu "bash $S/guest/testpmd-fwd.sh --path pci --seconds 20" > "$out" 2>&1; then
	awk '/^FWD pci mpps=/ { split($3, a, "="); printf "BENCH testpmd_io_mpps_dpdk_pci %s Mpps\n", a[2] }' "$out"
else
	echo "testpmd benchmark failed: see $out"; tail -n 20 "$out"; rc=1
fi
exit $rc
