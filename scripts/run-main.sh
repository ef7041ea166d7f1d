#!/usr/bin/env bash
# The main job (make run), in the "iommu" test bed: dpdk-testpmd io forwarding between
# the two virtio-net NICs over DPDK's own PCI path (VFIO group + type1: the baseline),
# then vfiofd's cdev/iommufd smoke test on every NIC.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
B=$VFIOFD_TOP/build
S=$VFIOFD_TOP/scripts
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
bash "$S/vm-run.sh" --timeout 400 iommu \
	"set -e; bash $S/guest/testpmd-fwd.sh --path pci --seconds 20; $B/app/test-vfiofd/test-vfiofd-uapi-smoke --expect 3" \
	2>&1 | tee "$out" || rc=$?
echo
echo "== main job summary =="
grep -E '^# guest kernel|^FWD|^# [0-9]+ of [0-9]+ checks failed' "$out" || true
[ "$rc" = 0 ] && echo "main job: OK" || echo "main job: FAILED (exit $rc)"
exit "$rc"
