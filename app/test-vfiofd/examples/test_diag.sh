#!/usr/bin/env bash
# In the test bed: examples/vfiofd-diag must tell a ready machine from a broken one.
#   test_diag.sh DIAG MODE NICS   (NICS: how many NICs the profile binds to vfio-pci)
#   MODE ready     every NIC bound to vfio-pci with a cdev: exit 0
#   MODE unbound   the e1000e handed back to its kernel driver: exit 1, and the fix
#                  (driver_override, unbind, drivers_probe) printed; run as printed, it
#                  makes the machine ready again
#   MODE noiommu   no IOMMU: exit 1, every device's missing cdev explained
set -uo pipefail
diag=$1 mode=$2 nics=$3
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
	ready=$(grep -c '^ok    0000:.* vfio-pci, /dev/vfio/devices/vfio' "$out")
	check "$([ "$ready" = "$nics" ]; echo $?)" \
		"$nics devices ready, each with its cdev (got $ready)"
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
	explained=$(grep -c 'without an IOMMU: no cdev exists' "$out")
	check "$([ "$explained" = "$nics" ]; echo $?)" \
		"each of the $nics devices' missing cdev is explained (got $explained)"
	;;
esac
rm -f "$out"
echo "1..$n"
[ "$failed" = 0 ]
