#!/usr/bin/env bash
# In the test bed: examples/vfiofd-diag must tell a ready machine from a broken one.
#   test_diag.sh DIAG ready      every NIC bound to vfio-pci with a cdev: exit 0
#   test_diag.sh DIAG unbound    the e1000e handed back to its kernel driver: exit 1, and
#                                the fix (driver_override, unbind, drivers_probe) printed;
#                                run as printed, it makes the machine ready again
#   test_diag.sh DIAG noiommu    no IOMMU: exit 1, no-IOMMU devices explained
set -uo pipefail
diag=$1 mode=$2
n=0 failed=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
out=$(mktemp)

if [ "$mode" = unbound ]; then
	bdf=${VFIOFD_E1000E_BDFS%% *}
	echo > "/sys/bus/pci/devices/$bdf/driver_override"
	echo "$bdf" > "/sys/bus/pci/devices/$bdf/driver/unbind"
	echo "$bdf" > /sys/bus/pci/drivers_probe
	echo "# $bdf now bound to $(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")"
fi
"$diag" > "$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
case "$mode" in
ready)
	check $((rc != 0)) "exit 0 on a ready machine (got $rc)"
	check "$(grep -c '^ok    0000:.* vfio-pci, /dev/vfio/devices/vfio' "$out" | grep -qx 3; echo $?)" "3 devices ready, each with its cdev"
	check "$(grep -q '^FIX' "$out"; echo $((! $?)))" "nothing to fix"
	;;
unbound)
	check $((rc != 1)) "exit 1 when a device is not bound to vfio-pci (got $rc)"
	check "$(grep -q "^FIX   $bdf .* bound to e1000e, not vfio-pci" "$out"; echo $?)" "the device and its driver are named"
	check "$(grep -q "echo vfio-pci > /sys/bus/pci/devices/$bdf/driver_override" "$out" &&
		grep -q "echo $bdf > /sys/bus/pci/drivers_probe" "$out"; echo $?)" "the commands that fix it are printed"
	# the printed fix, run as printed, must leave a ready machine (and the test bed as
	# it was: the next test may run in the same boot)
	sed -n 's/^ *\(echo [^>]* > \/sys\/bus\/pci\/.*\)$/\1/p' "$out" > "$out.fix"
	sed 's/^/# fix: /' "$out.fix"
	bash -e "$out.fix"
	"$diag" > "$out" 2>&1
	rc=$?
	check "$rc" "after the printed fix: $bdf bound to $(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")"), exit $rc"
	rm -f "$out.fix"
	;;
noiommu)
	check $((rc != 1)) "exit 1 without an IOMMU (got $rc)"
	check "$(grep -q 'no-IOMMU mode is on' "$out"; echo $?)" "the unsafe no-IOMMU mode is reported"
	check "$(grep -c 'without an IOMMU: no cdev exists' "$out" | grep -qx 3; echo $?)" "each device's missing cdev is explained"
	;;
esac
rm -f "$out"
echo "1..$n"
[ "$failed" = 0 ]
