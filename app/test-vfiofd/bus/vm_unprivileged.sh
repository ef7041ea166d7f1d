#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# unprivileged_testpmd (inside the test bed): testpmd over vfiofd as a user that is not
# root and has no capabilities, given exactly what the bus guide lists
# (doc/guides/bus_vfiofd.rst, "Running without root"):
#   - its two NICs' VFIO device cdevs and /dev/iommu (owner, mode 0600),
#   - a hugetlbfs mount of its own,
#   - an RLIMIT_MEMLOCK that covers what it pins,
#   - a runtime directory (XDG_RUNTIME_DIR) of its own.
# It must forward (testpmd-fwd.sh's reconciliation, at least 100,000 packets per port);
# a user without the grants must be refused with the bus's line naming the device and
# the cause; the granted user with too low an RLIMIT_MEMLOCK must be told how much
# is needed. Runs as root (it grants); testpmd itself never does.
#
# "vm_unprivileged.sh aw39" (unprivileged_aw39, profile iommu-39: a 39-bit IOMMU): the
# same user cannot read physical addresses (no IOVA as PA). With the two virtio NICs,
# whose driver translates, the bus picks translated IOVAs: with DPDK's memory placed
# above the aperture (--base-virtaddr=1 TiB) the memory library maps it inside, and the
# user forwards. With the e1000e in the allow-list (DPDK's net_e1000_em gives devices
# the EAL's IOVAs) the bus keeps IOVA as VA and gives the EAL the 39-bit DMA mask: the
# same placement is refused with the EAL's DMA-mask line instead of handing a device
# addresses the IOMMU cannot reach. And a DPDK PCI driver in translated mode
# (iova=translated) is refused with its line.
set -u
mode=${1:-grants}
top=$(cd "$(dirname "$0")/../../.." && pwd)
. "$top/scripts/lib.sh"
export LD_LIBRARY_PATH=$(dirname "$(find "$DPDK_PREFIX" -name librte_eal.so -print -quit)")
read -r V1 V2 _ <<< "$VFIOFD_VIRTIO_BDFS"
read -r E1 _ <<< "$VFIOFD_E1000E_BDFS"
GRANTED=4242 OTHER=4343
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

cdev_of() { ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null | head -n 1; }
C1=/dev/vfio/devices/$(cdev_of "$V1") C2=/dev/vfio/devices/$(cdev_of "$V2")
C3=/dev/vfio/devices/$(cdev_of "$E1")
[ -c "$C1" ] && [ -c "$C2" ] && [ -c "$C3" ] ||
	{ echo "not ok - no VFIO cdevs for $V1 $V2 $E1"; exit 1; }

# the grants, undone at exit (later commands of this boot expect the nodes as they were)
declare -A was
for n in "$C1" "$C2" "$C3" /dev/iommu; do was[$n]=$(stat -c '%u:%g %a' "$n"); done
restore() {
	for n in "$C1" "$C2" "$C3" /dev/iommu; do
		chown "${was[$n]% *}" "$n"
		chmod "${was[$n]#* }" "$n"
	done
	for u in $GRANTED $OTHER; do
		umount "/run/huge-$u" 2>/dev/null
		rm -rf "/run/huge-$u" "/run/user/$u"
	done
}
trap restore EXIT
for u in $GRANTED $OTHER; do
	mkdir -p "/run/huge-$u" "/run/user/$u"
	mount -t hugetlbfs -o "uid=$u,gid=$u,mode=0700,pagesize=2M" nodev "/run/huge-$u"
	chown "$u:$u" "/run/user/$u"
	chmod 0700 "/run/user/$u"
done
chown "$GRANTED:$GRANTED" "$C1" "$C2" "$C3" /dev/iommu
chmod 0600 "$C1" "$C2" "$C3" /dev/iommu
echo "# granted to uid $GRANTED: $C1 ($V1), $C2 ($V2), $C3 ($E1), /dev/iommu," \
	"/run/huge-$GRANTED"

as_user() { # uid, command...
	local u=$1
	shift
	env XDG_RUNTIME_DIR="/run/user/$u" setpriv --reuid="$u" --regid="$u" --clear-groups \
		--inh-caps=-all --no-new-privs "$@"
}
# the user can reach the programs: the tree and DPDK must be world-readable
if as_user $GRANTED test -x "$DPDK_PREFIX/bin/dpdk-testpmd" -a \
	-r "$VFIOFD_BUILD/drivers/bus/vfiofd/librte_bus_vfiofd.so"; then
	ok "uid $GRANTED can run testpmd and read the plugins"
else
	echo "not ok - uid $GRANTED cannot reach $DPDK_PREFIX/bin/dpdk-testpmd or the build" \
		"tree $VFIOFD_BUILD (this test needs them world-readable: umask 022)"
	exit 1
fi
caps=$(as_user $GRANTED grep -E '^Cap(Eff|Prm):' /proc/self/status | awk '{print $2}' | sort -u)
[ "$caps" = 0000000000000000 ] && ok "as uid $GRANTED the process has no capabilities" ||
	notok "as uid $GRANTED the process has capabilities: $caps"

# testpmd as uid $1 with RLIMIT_MEMLOCK $2 bytes on the NICs of ALLOW (default: the
# two virtio NICs), until it quits; more EAL arguments after those
ALLOW="vfiofd:$V1 vfiofd:$V2"
testpmd_as() {
	local a allow=()
	for a in $ALLOW; do allow+=(-a "$a"); done
	local u=$1 lim=$2
	shift 2
	echo quit | prlimit --memlock="$lim" timeout -k 5 60 env \
		XDG_RUNTIME_DIR="/run/user/$u" setpriv --reuid="$u" --regid="$u" --clear-groups \
		--inh-caps=-all --no-new-privs "$DPDK_PREFIX/bin/dpdk-testpmd" -l 0-1 -n 1 \
		--file-prefix "unpriv$u" --huge-dir "/run/huge-$u" --no-pci \
		-d "$VFIOFD_BUILD/drivers/bus/vfiofd/librte_bus_vfiofd.so" \
		-d "$VFIOFD_BUILD/drivers/net/vfiofd_virtio/librte_net_vfiofd_virtio.so" \
		--log-level=lib.iommufd_mem:debug --log-level=bus.vfiofd:info "$@" \
		"${allow[@]}" -- -i --total-num-mbufs=16384 2>&1
}
# testpmd output $1 shows a port of net_vfiofd_virtio
got_port() { grep -qE "Configuring Port 0|vfiofd_virtio: .*port 0:" <<< "$1"; }
expect_line() { # what, output, line
	if grep -qF -- "$3" <<< "$2"; then
		ok "$1: '$3'"
	else
		echo "$2" | grep -v "^ *$" | tail -n 60
		notok "$1: '$3' not in the output"
	fi
}

if [ "$mode" = aw39 ]; then
	[ "${VFIOFD_VM_PROFILE:-}" = iommu-39 ] ||
		die "mode aw39 needs the 39-bit IOMMU of profile iommu-39, not '${VFIOFD_VM_PROFILE:-}'"
	# 1. translated IOVAs: memory at 1 TiB, above the 512 GiB of the aperture
	prlimit --memlock=$((512 << 20)) bash "$top/scripts/guest/testpmd-fwd.sh" \
		--path vfiofd --runas "$GRANTED:/run/huge-$GRANTED" --seconds 30 \
		--min-packets 100000 --tag unpriv-aw39 \
		--eal "--base-virtaddr=0x10000000000 --log-level=lib.iommufd_mem:info" &&
		ok "uid $GRANTED forwarded over vfiofd behind a 39-bit IOMMU, memory above it" ||
		notok "uid $GRANTED did not forward behind a 39-bit IOMMU (see above)"
	log=$(cat /tmp/testpmd-unpriv-aw39.log 2>/dev/null)
	expect_line "the bus picks translated IOVAs" "$log" \
		"cannot read physical addresses (no CAP_SYS_ADMIN): translated IOVAs"
	expect_line "memory above the aperture is mapped inside it" "$log" \
		"translated mode: DPDK memory at VA 0x1"
	# 2. a driver that cannot translate in the allow-list: the DMA mask, and the same
	#    placement refused
	out=$(ALLOW="vfiofd:$V1 vfiofd:$E1" testpmd_as $GRANTED $((512 << 20)) \
		--base-virtaddr=0x10000000000)
	expect_line "with net_e1000_em the bus keeps IOVA as VA with the IOMMU's mask" "$out" \
		"IOVA as VA with a 39-bit DMA mask"
	expect_line "memory placed above the aperture is refused" "$out" \
		"IOVA exceeding limits of current DMA mask"
	got_port "$out" && notok "uid $GRANTED got a port with memory above the aperture" ||
		ok "uid $GRANTED got no port with memory above the aperture"
	# 3. a DPDK PCI driver in translated mode: refused, the virtio port still probed
	out=$(ALLOW="vfiofd:$V1,iova=translated vfiofd:$E1" testpmd_as $GRANTED $((512 << 20)))
	expect_line "net_e1000_em refused in translated mode" "$out" \
		"DPDK's PCI driver net_e1000_em gives devices the EAL's IOVAs"
	got_port "$out" && ok "the virtio port was probed beside it" ||
		notok "the virtio port was not probed (translated mode)"
	exit $fail
fi

# 1. the granted user forwards; RLIMIT_MEMLOCK 512 MiB covers DPDK's memory and
#    testpmd's mlockall() of it
prlimit --memlock=$((512 << 20)) bash "$top/scripts/guest/testpmd-fwd.sh" --path vfiofd \
	--runas "$GRANTED:/run/huge-$GRANTED" --seconds 30 --min-packets 100000 \
	--tag unprivileged && ok "uid $GRANTED forwarded over vfiofd without root" ||
	notok "uid $GRANTED did not forward (see above)"

# 2. a user without the grants: the bus names the device and the cause
out=$(testpmd_as $OTHER $((512 << 20)))
expect_line "uid $OTHER (no grants) is refused" "$out" \
	"$V1: cannot use /dev/iommu: Permission denied: no permission"
got_port "$out" && notok "uid $OTHER got a port" ||
	ok "uid $OTHER got no port"

# 3. the granted user with RLIMIT_MEMLOCK at 4 MiB: how much is needed
out=$(testpmd_as $GRANTED $((4 << 20)))
expect_line "RLIMIT_MEMLOCK too low for uid $GRANTED" "$out" \
	"RLIMIT_MEMLOCK is 4096 KiB but DMA needs"
# the ports probe (the memory DPDK holds at start fits); testpmd's next allocation
# past the limit is refused (seen: its port array, rte_zmalloc(), or the mbuf pool)
grep -E "RLIMIT_MEMLOCK|failed" <<< "$out" | head -n 5 | sed 's/^/# /'
grep -qE "(rte_zmalloc|mbuf pool|Start ports).*failed" <<< "$out" &&
	ok "uid $GRANTED with 4 MiB of RLIMIT_MEMLOCK: testpmd could not set up its ports" ||
	{ grep -v "^ *$" <<< "$out" | tail -n 40
	  notok "uid $GRANTED with 4 MiB of RLIMIT_MEMLOCK: testpmd did not fail"; }
exit $fail
