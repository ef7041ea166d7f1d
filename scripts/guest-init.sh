#!/bin/bash
# PID 1 of the vfiofd test-bed guest (see scripts/vm-run.sh). The root file system is
# the host's /, read-only over virtio-9p; the results share is read-write.
# Mounts what user space needs, reserves hugepages, binds the NICs to vfio-pci, then
# runs jobs: a job is a directory j.<id> of the results share with cmd.sh and env.sh,
# announced by the host in the file "next". Each job runs as root and leaves its
# output, kernel log and exit code in its directory.
# SESSION=0 (env.sh of the share): one job, then power off. SESSION=1: jobs one after
# the other in this boot, each on a clean guest (see after_job), until a job fails,
# leaves the guest unclean, or none comes for IDLE_TIMEOUT seconds.
# Powering off: if that fails, exiting PID 1 panics the kernel and panic=-1 +
# -no-reboot stop QEMU.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /run/results ||
	{ echo "guest-init: cannot mount the results share" > /dev/console; exit 1; }
R=/run/results
. "$R/env.sh"
for d in /tmp /var/tmp /root; do
	mkdir -p "/run/host$d"
	mount --bind "$d" "/run/host$d"
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

# Writable scratch where programs expect it, fresh for every job: /tmp, /var/tmp and
# /root on new tmpfs instances, and empty /dev/shm and DPDK runtime directories.
# A tmpfs hides what the host has there, so the project tree (a clone may well live
# under /tmp or /root) is bound back in place. Mode 0755, not tmpfs's 1777: the EAL
# refuses plugins below a world-writable directory, and everything here runs as root.
scratch_mounted=0
fresh_scratch() {
	local d h=(/dev/hugepages/*) dirs=(/tmp /var/tmp /root /dev/shm)
	# one umount for all: under TCG every exec costs tens of milliseconds
	[ $scratch_mounted = 1 ] && umount -R "${dirs[@]}"
	for d in "${dirs[@]}"; do
		mount -t tmpfs -o mode=0755 tmpfs "$d"
		case "$VFIOFD_TOP/" in
		"$d"/*)
			mkdir -p "$VFIOFD_TOP"
			mount --bind "/run/host$VFIOFD_TOP" "$VFIOFD_TOP"
			;;
		esac
	done
	scratch_mounted=1
	[ -e /run/dpdk ] && rm -rf /run/dpdk
	[ -e "${h[0]}" ] && rm -f "${h[@]}"
}
fresh_scratch

mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages
echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages

# Bind every NIC of the test bed to vfio-pci: virtio-net modern (1af4:1041) and e1000e.
virtio_bdfs= e1000e_bdfs= bind_warnings=
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
done
export VFIOFD_VIRTIO_BDFS=${virtio_bdfs# } VFIOFD_E1000E_BDFS=${e1000e_bdfs# }
export VFIOFD_VM_PROFILE=$VM_PROFILE
kernel_id="$(uname -r) $(uname -v)"
group_api_line=$(zcat /proc/config.gz | grep -E '^(# )?CONFIG_VFIO_GROUP[= ]')

# The machine must be what the profile promises, or every test run on it means nothing.
# Checked at boot and again after every job of a session: a job may not take it away.
bed_check() {
	broken=
	[ -n "$VFIOFD_VIRTIO_BDFS" ] && [ -n "$VFIOFD_E1000E_BDFS" ] || broken+=" NICs missing;"
	local b
	for b in $VFIOFD_VIRTIO_BDFS $VFIOFD_E1000E_BDFS; do
		[ "/sys/bus/pci/devices/$b/driver" -ef /sys/bus/pci/drivers/vfio-pci ] ||
			broken+=" $b is not bound to vfio-pci;"
	done
	if [ "$VIOMMU" = 1 ]; then
		[ -e /sys/class/iommu/dmar0 ] || broken+=" no active Intel IOMMU (DMAR);"
		[ -c /dev/iommu ] || broken+=" no /dev/iommu;"
		local c=(/dev/vfio/devices/vfio*)
		[ -e "${c[0]}" ] || broken+=" no /dev/vfio/devices/vfioN;"
	fi
	if [ "$GROUP_API" = 0 ]; then
		[ -e /dev/vfio/vfio ] && broken+=" /dev/vfio/vfio exists on a cdev-only kernel;"
		[ "$group_api_line" = '# CONFIG_VFIO_GROUP is not set' ] || broken+=" kernel has CONFIG_VFIO_GROUP;"
	fi
	if [ "$NOIOMMU" = 1 ]; then
		local g=(/dev/vfio/noiommu-*)
		[ -e "${g[0]}" ] || broken+=" no /dev/vfio/noiommu-N group;"
	fi
	[ -z "$broken" ]
}

# What every job's output starts with: where it ran.
header() {
	local v=(/dev/vfio/*) c=(/dev/vfio/devices/*)
	echo "# guest kernel: $kernel_id"
	echo "# profile: $VM_PROFILE, vIOMMU: $VIOMMU, no-IOMMU mode: $NOIOMMU"
	echo "# vfio-pci NICs: virtio-net [$VFIOFD_VIRTIO_BDFS] e1000e [$VFIOFD_E1000E_BDFS]"
	echo "# /dev/vfio: ${v[*]#/dev/vfio/}"
	[ -e "${c[0]}" ] && echo "# /dev/vfio/devices: ${c[*]#/dev/vfio/devices/}" ||
		echo "# /dev/vfio/devices: "
	echo "# /dev/iommu: $([ -c /dev/iommu ] && echo present || echo absent)"
	echo "# hugepages: $(< /proc/sys/vm/nr_hugepages) x 2 MiB"
	echo "# kernel VFIO group interface: $group_api_line"
}

# The mount points, one line each (a job must leave the same set behind).
mount_points() {
	local dev mp rest out=
	while read -r dev mp rest; do out+="$mp"$'\n'; done < /proc/mounts
	printf '%s' "$out"
}

# Processes other than PID 1, kernel threads and zombies; their pids in "procs".
user_procs() {
	local p line rest
	procs=()
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = 1 ] && continue
		read -r line < "/proc/$p/stat" 2> /dev/null || continue
		rest=${line##*) }
		set -- $rest
		# state Z: gone but for the entry; parent 2 (or pid 2): a kernel thread
		[ "$1" = Z ] || [ "$2" = 2 ] || [ "$p" = 2 ] && continue
		procs+=("$p")
	done
}

# After a job: nothing it started may survive, and it must leave the guest as it found
# it. Kills what is left, waits until the processes are gone (their fds, mappings and
# pins with them), then checks hugepages, mounts and the test bed. What is wrong is in
# "unclean".
after_job() {
	unclean=
	kill -9 -1 2> /dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		user_procs
		[ ${#procs[@]} = 0 ] && break
		read -r -t 0.05 -u 9
	done
	[ ${#procs[@]} = 0 ] || unclean+=" processes ${procs[*]} did not die;"
	local now mp
	now=$(mount_points)
	if [ "$now" != "$mounts_before" ]; then
		unclean+=" the mount table changed:"
		while read -r mp; do
			[[ $'\n'$mounts_before$'\n' == *$'\n'$mp$'\n'* ]] || unclean+=" $mp mounted;"
		done <<< "$now"
		while read -r mp; do
			[[ $'\n'$now$'\n' == *$'\n'$mp$'\n'* ]] || unclean+=" $mp unmounted;"
		done <<< "$mounts_before"
	fi
	local total free k v h=(/dev/hugepages/*)
	[ -e "${h[0]}" ] && rm -f "${h[@]}"
	while read -r k v _; do
		case $k in HugePages_Total:) total=$v ;; HugePages_Free:) free=$v ;; esac
	done < /proc/meminfo
	[ "$total" = "$HUGEPAGES" ] || unclean+=" $total hugepages reserved, not $HUGEPAGES;"
	[ "$free" = "$total" ] || unclean+=" $((total - free)) hugepages still in use after every process exited;"
	bed_check || unclean+="$broken"
}

# A vCPU lost by the emulator. Under QEMU's multi-threaded TCG a vCPU has been seen
# (twice in a day of runs) to halt and never wake again: its local timer stops firing,
# RCU reports stalls from then on, and whatever needs that CPU -- a process exiting,
# which shoots down TLBs on it -- hangs until the test's timeout. Nothing in the guest
# causes that or can undo it. With a periodic tick every online CPU takes HZ timer
# interrupts a second, idle or not, so a CPU whose count stands still for STALL_S
# checks (one a second) is lost.
STALL_S=5
read -r -a hdr < /proc/interrupts
ncpu=${#hdr[@]}
tick_last=() tick_same=()
# Compare each CPU's local timer count with the last call's; 1, with the lost CPUs in
# "stalled", once one has stood still STALL_S times in a row.
ticks_check() {
	local name rest i
	stalled=
	while read -r name rest; do
		[ "$name" = LOC: ] && break
	done < /proc/interrupts
	local now=($rest)
	for ((i = 0; i < ncpu; i++)); do
		if [ "${now[i]}" = "${tick_last[i]:-}" ]; then
			tick_same[i]=$((${tick_same[i]:-0} + 1))
			[ "${tick_same[i]}" -ge $STALL_S ] && stalled+=" $i"
		else
			tick_same[i]=0
		fi
		tick_last[i]=${now[i]}
	done
	[ -z "$stalled" ]
}
stall_fault() {
	echo "CPU$stalled took no timer interrupt for ${STALL_S}s: the emulator lost the vCPU (a test-bed fault, not the command's)"
}

# One job: j.<id>/cmd.sh with j.<id>/env.sh (CMD_TIMEOUT), output and exit code into
# j.<id>/ (output.log, dmesg.log, rc). A lost vCPU aborts the job with exit code 125
# and its reason in j.<id>/fault (the host runs the command again on a new boot).
run_job() {
	local id=$1 J=$R/j.$1 LOG=/run/job.log rc
	local CMD_TIMEOUT=600
	. "$J/env.sh"
	echo > "$J/started"
	jobs_run=$((jobs_run + 1))
	{
		header
		[ "$SESSION" = 1 ] && echo "# session: job $jobs_run of this boot (a clean guest: see scripts/guest-init.sh)"
	} > "$LOG"
	mounts_before=$(mount_points)
	say "job $id: running the command (timeout ${CMD_TIMEOUT}s)"
	timeout -k 5 "$CMD_TIMEOUT" bash "$J/cmd.sh" >> "$LOG" 2>&1 < /dev/null &
	local pid=$! n=0 fault=
	ticks_check
	while kill -0 "$pid" 2> /dev/null; do
		read -r -t 0.05 -u 9
		if [ $((++n % 20)) = 0 ] && ! ticks_check; then
			fault=$(stall_fault)
			kill -9 -1 2> /dev/null
			break
		fi
	done
	wait "$pid"
	rc=$?
	[ $rc = 124 ] && echo "# TIMEOUT: the command did not finish within ${CMD_TIMEOUT}s" >> "$LOG"
	if [ -n "$fault" ]; then
		echo "# TEST BED FAULT, the command was stopped: $fault" >> "$LOG"
		echo "$fault" > "$J/fault"
		rc=125
	elif [ "$SESSION" = 1 ]; then
		after_job
		if [ -n "$unclean" ]; then
			echo "# GUEST LEFT UNCLEAN by the command:$unclean" >> "$LOG"
			[ $rc = 0 ] && rc=1
		fi
		fresh_scratch
	fi
	cp "$LOG" "$J/output.log"
	dmesg -c > "$J/dmesg.log" 2> /dev/null
	echo "$rc" > "$J/rc.tmp" && mv "$J/rc.tmp" "$J/rc"
	say "job $id: command exited with $rc"
	return $rc
}

cd /tmp
if ! bed_check; then
	{ header; echo "# TEST BED BROKEN for profile $VM_PROFILE:$broken"; } > "$R/broken"
	dmesg > "$R/dmesg.log" 2>/dev/null
	say "test bed broken:$broken"
	powerdown
fi
echo > "$R/ready"

# Wait for jobs. The timed read on a fifo nobody writes is a sleep without an exec.
mkfifo /run/tick
exec 9<> /run/tick
jobs_run=0 idle=0
ticks_check
while :; do
	if [ -f "$R/next" ]; then
		read -r id < "$R/next"
		rm -f "$R/next"
		idle=0
		run_job "$id" || break
		[ "$SESSION" = 1 ] || break
		continue
	fi
	read -r -t 0.05 -u 9
	idle=$((idle + 1))
	[ $idle -ge $((IDLE_TIMEOUT * 20)) ] && { say "no job for ${IDLE_TIMEOUT}s"; break; }
	if [ $((idle % 20)) = 0 ] && ! ticks_check; then
		stall_fault > "$R/fault"
		say "$(< "$R/fault")"
		break
	fi
done
powerdown
