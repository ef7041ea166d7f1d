#!/usr/bin/env bash
# Host test of the guest-kernel configuration check (scripts/build-kernel.sh):
#  1. the project's fragments, as they are, configure cleanly (default and cdev-only);
#  2. a fragment without CONFIG_IOMMUFD must make the setup fail, and the message must
#     name CONFIG_IOMMUFD (it is also what VFIO_DEVICE_CDEV depends on);
#  3. a fragment asking for an option whose dependency is missing must fail too.
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
bk=$top/scripts/build-kernel.sh
cfg=$top/config/kernel
work=$(mktemp -d /var/tmp/vfiofd-kcfg.XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0 failed=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

# The four configurations are independent. The first builds the kconfig tools; the
# other three reuse them (a copy that keeps the timestamps is up to date for make)
# and run at once. All are checked in order.
grep -v '^CONFIG_IOMMUFD=' "$cfg/vfiofd.config" > "$work/no-iommufd.config"
# VFIO_NOIOMMU needs VFIO_GROUP: asking for both NOIOMMU and no GROUP must be caught.
{ cat "$cfg/vfiofd.config"; echo '# CONFIG_VFIO_GROUP is not set'; } > "$work/lost.config"
bash "$bk" --check-config "$work/default" "$cfg/vfiofd.config" > "$work/1.log" 2>&1
r1=$?
for d in cdev noi lost; do
	mkdir -p "$work/$d" && cp -a "$work/default/scripts" "$work/$d/"
done
bash "$bk" --check-config "$work/cdev" "$cfg/vfiofd.config" "$cfg/cdev-only.config" \
	> "$work/2.log" 2>&1 &
p2=$!
bash "$bk" --check-config "$work/noi" "$work/no-iommufd.config" > "$work/3.log" 2>&1 &
p3=$!
bash "$bk" --check-config "$work/lost" "$work/lost.config" > "$work/4.log" 2>&1 &
p4=$!

check $r1 "the default fragment holds in the final .config"
wait $p2
check $? "the cdev-only overlay holds in the final .config"
wait $p3
rc=$?
check $((rc == 0)) "a fragment without CONFIG_IOMMUFD fails the setup (exit $rc)"
grep -q 'required option CONFIG_IOMMUFD is not set' "$work/3.log"
check $? "the failure names CONFIG_IOMMUFD and says why"
sed 's/^/#   /' "$work/3.log"
wait $p4
rc=$?
check $((rc == 0)) "an option lost to a missing dependency fails the setup (exit $rc)"
grep -q 'fragment option lost: CONFIG_VFIO_NOIOMMU=y' "$work/4.log"
check $? "the failure names the lost option"

echo "1..$n"
[ $failed = 0 ]
