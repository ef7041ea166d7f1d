#!/bin/bash
# PID 1 of the vfiofd test-bed guest (see scripts/vm-run.sh). The root file system is
# the host's /, read-only over virtio-9p; the results share is read-write.
# Mounts what user space needs, reserves hugepages, binds the NICs to vfio-pci, runs the
# command as root, and leaves its output and exit code in the results share. Then powers
# off; if that fails, exiting PID 1 panics the kernel and panic=-1 + -no-reboot stop QEMU.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mkdir -p /run/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /run/results ||
	{ echo "guest-init: cannot mount the results share" > /dev/console; exit 1; }
R=/run/results
. "$R/env.sh"
# Writable scratch where programs expect it. A tmpfs hides what the host has there, so
# the project tree (a clone may well live under /tmp or /root) is bound back in place.
# Mode 0755, not tmpfs's 1777: the EAL refuses plugins below a world-writable directory,
# and everything in the guest runs as root anyway.
for d in /tmp /var/tmp /root; do
	mkdir -p "/run/host$d"
	mount --bind "$d" "/run/host$d"
	mount -t tmpfs -o mode=0755 tmpfs "$d"
	case "$VFIOFD_TOP/" in
	"$d"/*)
		mkdir -p "$VFIOFD_TOP"
		mount --bind "/run/host$VFIOFD_TOP" "$VFIOFD_TOP"
		;;
	esac
done

say() { echo "guest-init: $*" > /dev/console; }
powerdown() {
	sync
	echo o > /proc/sysrq-trigger
	# Builtins only from here: the root file system goes away under us.
	SECONDS=0
	while [ $SECONDS -lt 10 ]; do :; done
	exit 1
}

# The log lives on the guest's tmpfs and is copied to the share at the end: two writers
# on one 9p file have lost lines before.
LOG=/run/vfiofd-command.log
{
	echo "# guest kernel: $(uname -r) $(uname -v)"
	echo "# profile: $VM_PROFILE, vIOMMU: $VIOMMU, no-IOMMU mode: $NOIOMMU"
} > "$LOG"

mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages
echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages

# Bind every NIC of the test bed to vfio-pci: virtio-net modern (1af4:1041) and e1000e.
virtio_bdfs= e1000e_bdfs=
for dev in /sys/bus/pci/devices/*; do
	# bash's read, not cat: under TCG every exec costs tens of milliseconds, and q35
	# has some twenty PCI functions
	read -r vendor < "$dev/vendor"
	read -r device < "$dev/device"
	case "$vendor:$device" in
	0x1af4:0x1041) virtio_bdfs+=" ${dev##*/}" ;;
	0x8086:0x10d3) e1000e_bdfs+=" ${dev##*/}" ;;
	*) continue ;;
	esac
	echo vfio-pci > "$dev/driver_override"
	[ -e "$dev/driver" ] && echo "${dev##*/}" > "$dev/driver/unbind"
	echo "${dev##*/}" > /sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
	[ "$drv" = vfio-pci ] || echo "# WARNING: ${dev##*/} is bound to '${drv:-nothing}', not vfio-pci" >> "$LOG"
done
export VFIOFD_VIRTIO_BDFS=${virtio_bdfs# } VFIOFD_E1000E_BDFS=${e1000e_bdfs# }
export VFIOFD_VM_PROFILE=$VM_PROFILE
{
	echo "# vfio-pci NICs: virtio-net [$VFIOFD_VIRTIO_BDFS] e1000e [$VFIOFD_E1000E_BDFS]"
	echo "# /dev/vfio: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
	echo "# /dev/vfio/devices: $(ls /dev/vfio/devices 2>/dev/null | tr '\n' ' ')"
	echo "# /dev/iommu: $([ -c /dev/iommu ] && echo present || echo absent)"
	echo "# hugepages: $(cat /proc/sys/vm/nr_hugepages) x 2 MiB"
} >> "$LOG"

# The machine must be what the profile promises, or every test run on it means nothing.
broken=
[ -n "$VFIOFD_VIRTIO_BDFS" ] && [ -n "$VFIOFD_E1000E_BDFS" ] || broken+=" NICs missing;"
if [ "$VIOMMU" = 1 ]; then
	ls /sys/class/iommu/ 2>/dev/null | grep -q dmar || broken+=" no active Intel IOMMU (DMAR);"
	[ -c /dev/iommu ] || broken+=" no /dev/iommu;"
	ls /dev/vfio/devices/vfio* > /dev/null 2>&1 || broken+=" no /dev/vfio/devices/vfioN;"
fi
if [ "$GROUP_API" = 0 ]; then
	[ -e /dev/vfio/vfio ] && broken+=" /dev/vfio/vfio exists on a cdev-only kernel;"
	zcat /proc/config.gz | grep -qx '# CONFIG_VFIO_GROUP is not set' || broken+=" kernel has CONFIG_VFIO_GROUP;"
fi
if [ "$NOIOMMU" = 1 ]; then
	ls /dev/vfio/noiommu-* > /dev/null 2>&1 || broken+=" no /dev/vfio/noiommu-N group;"
fi
echo "# kernel VFIO group interface: $(zcat /proc/config.gz | grep -E '^(# )?CONFIG_VFIO_GROUP[= ]')" >> "$LOG"

cd /tmp
if [ -n "$broken" ]; then
	echo "# TEST BED BROKEN for profile $VM_PROFILE:$broken" >> "$LOG"
	cp "$LOG" "$R/output.log"
	dmesg > "$R/dmesg.log" 2>/dev/null
	echo 1 > "$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
	say "test bed broken:$broken"
	powerdown
fi
say "running the command (timeout ${CMD_TIMEOUT}s)"
timeout -k 5 "$CMD_TIMEOUT" bash "$R/cmd.sh" >> "$LOG" 2>&1 < /dev/null
rc=$?
[ $rc = 124 ] && echo "# TIMEOUT: the command did not finish within ${CMD_TIMEOUT}s" >> "$LOG"
cp "$LOG" "$R/output.log"
dmesg > "$R/dmesg.log" 2>/dev/null
echo "$rc" > "$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
say "command exited with $rc"
powerdown
