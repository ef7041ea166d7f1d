#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# testbed_iommu_fault_detected: the test bed fails a command during which the guest's
# kernel logged an IOMMU fault, whatever the command reported. An e1000e is told to fetch
# transmit descriptors from an IOVA nothing maps (test-vfiofd-bus dmafault, which itself
# exits 0); the run must fail, with the fault quoted in its output. This is what makes
# every traffic test of the suite fail on a DMAR fault.
# Usage: iommu_fault_detected.sh <vm-run.sh> <test-vfiofd-bus>
set -u
VM_RUN=$1 T=$2
out=$(bash "$VM_RUN" --timeout 300 iommu \
	"$T dmafault --dev \$VFIOFD_E1000E_BDFS -- -l 0 -m 64 --huge-unlink --no-pci -a vfiofd:" 2>&1)
rc=$?
echo "$out" | grep -E '^(ok|not ok|#)' | grep -v '^# (hugepages|kernel VFIO)'
fail=0
if [ $rc = 0 ]; then
	echo "not ok - the run passed although the device DMAed from an unmapped IOVA"; fail=1
else
	echo "ok - the run failed ($rc)"
fi
if echo "$out" | grep -q '^ok .* removed' && echo "$out" | grep -q '^# IOMMU FAULT'; then
	echo "ok - the program itself succeeded; the test bed failed it for the fault"
else
	echo "not ok - no IOMMU FAULT report after a successful program"; fail=1
fi
echo "$out" | grep -qE 'DMAR: \[DMA Read.*(0x5a5a|fault reason)' &&
	echo "ok - the guest kernel's DMAR line names the read" ||
	{ echo "not ok - no DMAR read fault quoted"; fail=1; }
exit $fail
