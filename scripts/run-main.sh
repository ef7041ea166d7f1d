#!/usr/bin/env bash
# The main job (make run), in the "iommu" test bed: dpdk-testpmd io forwarding between
# the two virtio-net NICs over vfiofd (VFIO cdevs + iommufd, net_vfiofd_virtio), then the
# same over DPDK's own PCI path (VFIO group + type1, net_virtio) in the same boot, and the
# packets forwarded, the rates and their ratio.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S=$VFIOFD_TOP/scripts
SECONDS_EACH=${VFIOFD_RUN_SECONDS:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
bash "$S/vm-run.sh" --timeout 600 iommu \
	"set -e; bash $S/guest/testpmd-fwd.sh --path vfiofd --seconds $SECONDS_EACH; bash $S/guest/testpmd-fwd.sh --path pci --seconds $SECONDS_EACH" \
	2>&1 | tee "$out" || rc=$?
echo
echo "== main job: testpmd io forwarding, two virtio-net NICs, QEMU TCG with an Intel vIOMMU =="
grep -E '^# guest kernel' "$out" || true
grep -E '^FWD (vfiofd|pci) (port|reconcile)' "$out" || true
awk '
	/^FWD vfiofd port[0-9] / { for (i = 3; i <= NF; i++) if ($i ~ /^rx=/) { split($i, a, "="); fwd += a[2] } }
	/^FWD vfiofd mpps=/ { split($3, a, "="); ours = a[2] }
	/^FWD pci mpps=/ { split($3, a, "="); theirs = a[2] }
	END {
		if (ours == "" || theirs == "") exit 1
		printf "packets forwarded over vfiofd: %d\n", fwd
		printf "vfiofd (cdev + iommufd): %.4f Mpps   DPDK bus/pci (group + type1): %.4f Mpps\n", ours, theirs
		printf "ratio vfiofd / DPDK PCI path: %.3f\n", ours / theirs
	}' "$out" || { echo "main job: no figures (see above)"; rc=1; }
[ "$rc" = 0 ] && echo "main job: OK" || echo "main job: FAILED (exit $rc)"
exit "$rc"
