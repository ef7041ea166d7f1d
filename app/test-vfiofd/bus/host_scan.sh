#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The vfiofd bus under a real EAL on the host, against a fake sysfs tree and a fake
# /dev (VFIOFD_SYSFS_PCI_DEVICES, VFIOFD_DEV_ROOT): what the scan keeps and skips, the
# allow/block lists, the errors a user sees, and a probe that fails cleanly for want
# of /dev/iommu. Usage: host_scan.sh <test-vfiofd-bus>. Needs root (mknod).
set -u
T=$1
[ "$(id -u)" = 0 ] || { echo "FAIL: this test builds fake device nodes with mknod and must run as root"; exit 1; }
R=$(mktemp -d /tmp/vfiofd-host-scan.XXXXXX)
trap 'rm -rf "$R"' EXIT
S=$R/sys D=$R/dev
mkdir -p "$S" "$D/vfio/devices"

# dev BDF VENDOR DEVICE DRIVER VFIO_INDEX DEV_ATTR NODE_MAJ:MIN
dev() {
	local p=$S/$1
	mkdir -p "$p"
	echo "$2" > "$p/vendor"; echo "$3" > "$p/device"
	echo 0x1af4 > "$p/subsystem_vendor"; echo 0x1100 > "$p/subsystem_device"
	echo 0x020000 > "$p/class"; echo -1 > "$p/numa_node"
	[ "$4" != - ] && ln -s "../../../bus/pci/drivers/$4" "$p/driver"
	if [ "$5" != - ]; then
		mkdir -p "$p/vfio-dev/vfio$5"
		[ "$6" != - ] && echo "$6" > "$p/vfio-dev/vfio$5/dev"
		if [ "$7" != - ]; then
			rm -f "$D/vfio/devices/vfio$5"
			mknod "$D/vfio/devices/vfio$5" c "${7%:*}" "${7#*:}"
		fi
	fi
	return 0
}
dev 0000:00:01.0 0x1af4 0x1041 vfio-pci 0 511:0 511:0     # good virtio-net
dev 0000:00:02.0 0x8086 0x10d3 e1000e - - -               # bound to its kernel driver
dev 0000:00:03.0 0x1af4 0x1041 vfio-pci 3 511:3 511:99    # /dev node of another device
dev 0000:00:04.0 0xzzzz 0x1041 vfio-pci 4 511:4 511:4     # garbage vendor id
dev 0000:00:05.0 0x1af4 0x1041 vfio-pci 5 511:5 511:5     # two vfioN entries
mkdir -p "$S/0000:00:05.0/vfio-dev/vfio6"
dev 0000:00:06.0 0x1af4 0x1041 vfio-pci 7 - -             # no cdev (no-IOMMU)
dev 0000:00:07.0 0x8086 0x10d3 vfio-pci 8 511:8 511:8     # good e1000e
dev 0000:00:08.0 0x8086 0x10d3 - - - -                    # not bound at all
dev 0000:00:0a.0 0x1234 0x5678 vfio-pci 10 511:10 511:10  # no vfiofd driver for it
ln -s loop-b "$S/loop-a"; ln -s loop-a "$S/loop-b"        # junk the scan must survive
ln -s loop-a "$S/0000:00:0b.0"
mkdir -p "$S/garbage" "$S/0000:00:0C.0"
head -c 100000 /dev/zero | tr '\0' '1' > "$S/0000:00:07.0/numa_node"   # huge attribute

export VFIOFD_SYSFS_PCI_DEVICES=$S VFIOFD_DEV_ROOT=$D
EAL=(-l 0 --no-huge -m 64 --no-pci --log-level=bus.vfiofd:debug)
fail=0
run() {
	echo "# \$ $*"
	"$@" || { echo "# FAILED: $*"; fail=1; }
}

# default mode: the two good devices (and the one without a driver of ours); probing
# fails for want of an iommufd, cleanly
run "$T" scan --expect-devices=0000:00:01.0,0000:00:07.0,0000:00:0a.0 --expect-probed=none \
	--expect-iova=va \
	--expect-log="0000:00:02.0: skipped: bound to e1000e, not vfio-pci" \
	--expect-log="0000:00:03.0: skipped: its /dev/vfio/devices node is not the character device" \
	--expect-log="0000:00:04.0: skipped: cannot read its PCI ids" \
	--expect-log="0000:00:05.0: skipped: its sysfs vfio-dev entry is malformed" \
	--expect-log="0000:00:06.0: skipped: its VFIO device has no cdev" \
	--expect-log="0000:00:08.0: skipped: not bound to any driver" \
	--expect-log="0000:00:01.0: cannot use $D/iommu" --expect-log="CONFIG_IOMMUFD" \
	--expect-no-log="0000:00:0a.0: cannot use" \
	-- "${EAL[@]}"
# allow-listed devices that cannot be used: errors that name the device and the fix
run "$T" scan --expect-devices=none --expect-probed=none \
	--expect-log="0000:00:02.0: allow-listed, but bound to e1000e, not vfio-pci" \
	--expect-log="echo vfio-pci > $S/0000:00:02.0/driver_override" \
	--expect-log="0000:00:08.0: allow-listed, but not bound to any driver" \
	--expect-log="0000:00:09.0: allow-listed, but there is no such PCI device" \
	--expect-log="0000:00:03.0: allow-listed, but skipped: its /dev/vfio/devices node" \
	--expect-log="0000:00:06.0: allow-listed, but skipped: its VFIO device has no cdev" \
	--expect-log="Bus (vfiofd) probe failed" \
	-- "${EAL[@]}" -a vfiofd:0000:00:02.0 -a vfiofd:0000:00:08.0 -a vfiofd:0000:00:09.0 \
	-a vfiofd:0000:00:03.0 -a vfiofd:0000:00:06.0
# allow-list only one; the new devargs syntax; upper-case hex; the empty allow-list
run "$T" scan --expect-devices=0000:00:07.0 -- "${EAL[@]}" -a vfiofd:0000:00:07.0
run "$T" scan --expect-devices=0000:00:01.0 -- "${EAL[@]}" -a bus=vfiofd,addr=0000:00:01.0
run "$T" scan --expect-devices=0000:00:0a.0 -- "${EAL[@]}" -a vfiofd:0000:00:0A.0
run "$T" scan --expect-devices=none -- "${EAL[@]}" -a vfiofd:
# block-list
run "$T" scan --expect-devices=0000:00:07.0,0000:00:0a.0 -- "${EAL[@]}" -b vfiofd:0000:00:01.0
# bad devargs are refused before anything is opened
run "$T" scan --expect-devices=0000:00:01.0 --expect-probed=none \
	--expect-log="0000:00:01.0: refused: bad devargs 'ioas=bogus': bad value 'bogus' for 'ioas'" \
	--expect-no-log="cannot use" -- "${EAL[@]}" -a vfiofd:0000:00:01.0,ioas=bogus
run "$T" scan --expect-probed=none \
	--expect-log="0000:00:01.0: refused: named more than once" \
	-- "${EAL[@]}" -a vfiofd:0000:00:01.0 -a vfiofd:0000:00:01.0,ioas=private
run "$T" scan --expect-probed=none \
	--expect-log="0000:00:07.0: refused: unknown devargs key 'speed'" \
	--expect-no-log="cannot use" -- "${EAL[@]}" -a vfiofd:0000:00:07.0,speed=1000
# the new syntax's bus layer takes the bus's keys only: a mistyped one is refused; the
# device is named by the addr= the options parser reads (a bracketed list hides none)
run "$T" scan --expect-init-fail --expect-devices=none \
	--expect-log="0000:00:01.0: refused: unknown devargs key 'iosa' in the bus layer" \
	--expect-log="did you mean 'ioas'?" \
	-- "${EAL[@]}" -a bus=vfiofd,addr=0000:00:01.0,iosa=private
run "$T" scan --expect-init-fail --expect-devices=none \
	--expect-log="forbidden character '=' at offset 20 in the value of 'x'" \
	-- "${EAL[@]}" -a "bus=vfiofd,x=[a,addr=0000:00:01.0,b],addr=0000:00:07.0"
run "$T" scan --expect-init-fail --expect-devices=none \
	--expect-log="0000:00:07.0: refused: unknown devargs key 'x' in the bus layer" \
	-- "${EAL[@]}" -a "bus=vfiofd,x=[a,addr,b],addr=0000:00:07.0"
run "$T" scan --expect-devices=0000:00:07.0 \
	-- "${EAL[@]}" -a "bus=vfiofd,addr=0000:00:07.0,ioas=private"
run "$T" scan --expect-init-fail --expect-log="is not a vfiofd device" \
	-- "${EAL[@]}" -a vfiofd:0000:00:01.8
run "$T" scan --expect-init-fail --expect-log="is not a vfiofd device" \
	-- "${EAL[@]}" -b "vfiofd:../../etc/passwd"
# a redirection that is not an absolute path
VFIOFD_SYSFS_PCI_DEVICES=relative/path run "$T" scan --expect-devices=none \
	--expect-log="VFIOFD_SYSFS_PCI_DEVICES must be an absolute path" -- "${EAL[@]}"
# the redirections are for tests: a process that gained privileges at exec (setgid
# here; setuid and file capabilities alike) ignores them and scans the real sysfs
if findmnt -no OPTIONS -T "$R" | grep -qw nosuid; then
	echo "# SKIP: $R is on a nosuid mount: no privileged copy of the test program"
else
	mkdir -p "$R/priv"
	cp "$T" "$R/priv/" && chgrp nogroup "$R/priv/${T##*/}" && chmod 2755 "$R/priv/${T##*/}"
	run "$R/priv/${T##*/}" scan --expect-devices=none --expect-probed=none \
		--expect-log="VFIOFD_SYSFS_PCI_DEVICES ignored: this process runs with privileges" \
		--expect-log="VFIOFD_DEV_ROOT ignored" --expect-no-log="bound to e1000e" \
		-- "${EAL[@]}"
fi
exit $fail
