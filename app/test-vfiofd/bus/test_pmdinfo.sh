#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# DPDK's pmdinfo tooling understands vfiofd drivers: RTE_PMD_REGISTER_VFIOFD and
# RTE_PMD_REGISTER_VFIOFD_TABLE export what pmdinfogen.py looks for (this_pmd_name<N>,
# __<name>_pci_tbl_export), so dpdk-pmdinfo.py lists the test driver and its ids.
# Usage: test_pmdinfo.sh <python3> <dpdk-pmdinfo.py> <binary>
set -u
py=$1 tool=$2 bin=$3
out=$("$py" "$tool" "$bin") || { echo "dpdk-pmdinfo.py failed"; exit 1; }
echo "$out"
"$py" - "$out" <<'PY'
import json, sys
info = json.loads(sys.argv[1])
drv = [d for d in info if d.get("name") == "vfiofd_test"]
assert drv, "vfiofd_test not listed"
ids = {(p["vendor"], p["device"]) for p in drv[0].get("pci_ids", [])}
want = {("1af4", "1041"), ("8086", "10d3")}
assert want <= ids, "pci_ids %s lack %s" % (sorted(ids), sorted(want - ids))
print("ok: vfiofd_test with", sorted(ids))
PY
