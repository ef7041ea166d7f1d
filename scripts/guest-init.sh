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

# Bind every NIC of the test bed to vfio-pci: virtio-net modern (1af4:1041), e1000e and
# igb (82576) -- unless the profile keeps the igb PFs on the kernel's igb driver to create
# SR-IOV VFs (IGB_VFS > 0), whose VFs then go to vfio-pci.
bind_vfio() { # $1 = sysfs directory of the device
	echo vfio-pci > "$1/driver_override"
	[ -e "$1/driver" ] && echo "${1##*/}" > "$1/driver/unbind"
	echo "${1##*/}" > /sys/bus/pci/drivers_probe
}
virtio_bdfs= e1000e_bdfs= igb_bdfs= igb_pfs= bind_warnings=
for dev in /sys/bus/pci/devices/*; do
	# bash's read, not cat: under TCG every exec costs tens of milliseconds, and q35
	# has some twenty PCI functions
	read -r vendor < "$dev/vendor"
	read -r device < "$dev/device"
	case "$vendor:$device" in
	0x1af4:0x1041) virtio_bdfs+=" ${dev##*/}" ;;
	0x8086:0x10d3) e1000e_bdfs+=" ${dev##*/}" ;;
	0x8086:0x10c9)
		if [ "$IGB_VFS" != 0 ]; then
			igb_pfs+=" ${dev##*/}"
			continue
		fi
		igb_bdfs+=" ${dev##*/}"
		;;
	*) continue ;;
	esac
	bind_vfio "$dev"
done

# SR-IOV: each igb PF, on the kernel's igb driver, creates IGB_VFS VFs for vfio-pci.
# Each VF gets a fixed MAC from the PF (52:54:00:12:35:<PF ordinal><VF index>): tests
# that address a VF know its MAC (the VF's driver cannot change it). The PF's interface
# must be up: the igb driver answers the VFs' mailbox (reset, MAC, link) from the
# interrupt it requests when the interface opens. It goes up after SR-IOV is enabled
# (enabling it closes and reopens a running igb: one more reset) and in the background,
# while the VFs are bound (opening an igb takes most of a second under TCG); init waits
# for it before the profile check. It gets no address and no IPv6 (no router
# solicitations, no DAD): it sends nothing onto the hub by itself.
igbvf_bdfs= igbvf_macs= sriov_problem= sriov_up=()
sriov_setup() { # $1 = PF BDF, $2 = its ordinal among the igb PFs
	local d=/sys/bus/pci/devices/$1 n mac ifname net batch= vfs=()
	[ "$d/driver" -ef /sys/bus/pci/drivers/igb ] || {
		sriov_problem+=" igb PF $1 is not on the kernel's igb driver (CONFIG_IGB?);"
		return
	}
	net=("$d"/net/*)
	ifname=${net[0]##*/}
	[ -e "$d/net/$ifname" ] ||
		{ sriov_problem+=" igb PF $1 has no network interface;"; return; }
	echo 0 > "$d/sriov_drivers_autoprobe"
	echo "$IGB_VFS" > "$d/sriov_numvfs" || {
		sriov_problem+=" igb PF $1 refused sriov_numvfs=$IGB_VFS (CONFIG_PCI_IOV?);"
		return
	}
	for ((n = 0; n < IGB_VFS; n++)); do
		printf -v mac '52:54:00:12:35:%x%x' "$2" "$n"
		# the VF's BDF: where the virtfnN link leads (cd -P, a builtin)
		cd -P "$d/virtfn$n" 2> /dev/null ||
			{ sriov_problem+=" igb PF $1 has no VF $n;"; continue; }
		vfs+=("$PWD")
		igbvf_bdfs+=" ${PWD##*/}" igbvf_macs+=" $mac"
		batch+="link set dev $ifname vf $n mac $mac"$'\n'
	done
	cd /
	# one exec of ip(8) for all the MACs
	ip -batch - <<< "$batch" || sriov_problem+=" igb PF $1 refused the VF MACs;"
	[ -e "/proc/sys/net/ipv6/conf/$ifname/disable_ipv6" ] &&
		echo 1 > "/proc/sys/net/ipv6/conf/$ifname/disable_ipv6"
	# IFF_UP | IFF_BROADCAST | IFF_MULTICAST, through sysfs: no exec of ip(8)
	echo 0x1003 > "/sys/class/net/$ifname/flags" &
	sriov_up+=("$!:$1")
	for n in "${vfs[@]}"; do
		bind_vfio "$n"
	done
}
pf_ordinal=0
for pf in $igb_pfs; do
	sriov_setup "$pf" "$pf_ordinal"
	pf_ordinal=$((pf_ordinal + 1))
done
export VFIOFD_VIRTIO_BDFS=${virtio_bdfs# } VFIOFD_E1000E_BDFS=${e1000e_bdfs# }
export VFIOFD_IGB_BDFS=${igb_bdfs# } VFIOFD_IGBVF_BDFS=${igbvf_bdfs# }
export VFIOFD_IGBVF_MACS=${igbvf_macs# }
export VFIOFD_VM_PROFILE=$VM_PROFILE
# What the profile promises: how many NICs of each kind (NICS), where the igb goes.
want_virtio=0 want_e1000e=0 want_igb=0
for model in $NICS; do
	case "$model" in
	virtio-net-pci) want_virtio=$((want_virtio + 1)) ;;
	e1000e) want_e1000e=$((want_e1000e + 1)) ;;
	igb) want_igb=$((want_igb + 1)) ;;
	esac
done
kernel_id="$(uname -r) $(uname -v)"
group_api_line=$(zcat /proc/config.gz | grep -E '^(# )?CONFIG_VFIO_GROUP[= ]')

# Exactly $3 NICs of kind $1 in the list $2, or the machine is broken.
nics_count() {
	local list=($2)
	[ ${#list[@]} = "$3" ] || broken+=" $1 ${#list[@]} found, the profile has $3;"
}

# The machine must be what the profile promises, or every test run on it means nothing.
# Checked at boot and again after every job of a session: a job may not take it away.
bed_check() {
	broken=$sriov_problem
	local b pf n flags
	nics_count virtio-net "$VFIOFD_VIRTIO_BDFS" "$want_virtio"
	nics_count e1000e "$VFIOFD_E1000E_BDFS" "$want_e1000e"
	if [ "$IGB_VFS" = 0 ]; then
		nics_count igb "$VFIOFD_IGB_BDFS" "$want_igb"
	else
		nics_count "igb PF on the kernel's igb driver:" "$igb_pfs" "$want_igb"
		nics_count "igb VF" "$VFIOFD_IGBVF_BDFS" $((want_igb * IGB_VFS))
		# the PFs keep their driver and their VFs (a job may not remove them)
		for pf in $igb_pfs; do
			[ "/sys/bus/pci/devices/$pf/driver" -ef /sys/bus/pci/drivers/igb ] ||
				broken+=" igb PF $pf left the kernel's igb driver;"
			read -r n < "/sys/bus/pci/devices/$pf/sriov_numvfs"
			[ "$n" = "$IGB_VFS" ] || broken+=" igb PF $pf has $n VFs, not $IGB_VFS;"
			# up, or the VFs' drivers get no answer from it
			flags=("/sys/bus/pci/devices/$pf/net/"*/flags)
			read -r n 2> /dev/null < "${flags[0]}" || n=0
			(( n & 1 )) || broken+=" igb PF $pf: its interface is down;"
		done
	fi
	for b in $VFIOFD_VIRTIO_BDFS $VFIOFD_E1000E_BDFS $VFIOFD_IGB_BDFS $VFIOFD_IGBVF_BDFS; do
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
	if [ "$NOIOMMU" = 1 ] && [ "$GROUP_API" = 1 ]; then
		local g=(/dev/vfio/noiommu-*)
		[ -e "${g[0]}" ] || broken+=" no /dev/vfio/noiommu-N group;"
	fi
	# Linux 7.3+: no-IOMMU devices get a cdev too, named noiommu-vfioN
	if [ "${NOIOMMU_CDEV:-0}" = 1 ]; then
		[ -c /dev/iommu ] || broken+=" no /dev/iommu;"
		local n=(/dev/vfio/devices/noiommu-vfio*)
		[ -e "${n[0]}" ] || broken+=" no /dev/vfio/devices/noiommu-vfioN (a kernel without IOMMUFD_NOIOMMU?);"
	fi
	[ -z "$broken" ]
}

# What every job's output starts with: where it ran.
header() {
	local v=(/dev/vfio/*) c=(/dev/vfio/devices/*)
	echo "# guest kernel: $kernel_id"
	echo "# profile: $VM_PROFILE, vIOMMU: $VIOMMU, no-IOMMU mode: $NOIOMMU${NOIOMMU_CDEV:+ (cdev: $NOIOMMU_CDEV)}"
	echo "# vfio-pci NICs: virtio-net [$VFIOFD_VIRTIO_BDFS] e1000e [$VFIOFD_E1000E_BDFS]" \
		"igb [$VFIOFD_IGB_BDFS] igb VFs [$VFIOFD_IGBVF_BDFS]"
	[ -n "$igb_pfs" ] && echo "# igb PFs on the kernel's igb driver: [${igb_pfs# }]," \
		"VF MACs [$VFIOFD_IGBVF_MACS]"
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

# The lines of kernel log $1 that report a DMA the IOMMU refused (a device reaching
# memory that is not mapped for it, or beyond the address width) or an interrupt-
# remapping fault, into "iommu_faults". Builtins only: an exec costs tens of ms here.
iommu_faults_in() {
	local line
	iommu_faults=
	while IFS= read -r line; do
		case $line in
		*"DMAR: [DMA "*|*"DMAR: [INTR-REMAP]"*|*"DMAR: DRHD: handling fault"*|\
		*"fault reason"*|*"PTE Read access is not set"*|*"PTE Write access is not set"*|\
		*"AMD-Vi: Event logged"*|*"IO_PAGE_FAULT"*)
			iommu_faults+="#   $line"$'\n' ;;
		esac
	done < "$1"
}

# A command that outlived its timeout: the tasks blocked in the kernel (state D), which
# SIGKILL cannot end, with where they wait, and the kernel's stacks of them (sysrq w;
# raw addresses: the guest kernel has no kallsyms, System.map of its build names them).
blocked_tasks() {
	local d line st comm wchan
	echo "# STUCK: the command outlived its timeout; tasks blocked in the kernel:"
	for d in /proc/[0-9]*; do
		read -r line < "$d/stat" 2> /dev/null || continue
		st=${line##*) }
		st=${st%% *}
		[ "$st" = D ] || continue
		comm=${line#*(}
		comm=${comm%)*}
		wchan=
		read -r wchan < "$d/wchan" 2> /dev/null # no newline: read "fails" but sets it
		[ -n "$wchan" ] || wchan=?
		echo "#   pid ${d#/proc/} ($comm) state D, waiting in $wchan"
	done
	echo w > /proc/sysrq-trigger 2> /dev/null
	sleep 1
	dmesg 2> /dev/null | sed -n '/sysrq: Show Blocked State/,$p' | head -n 200 | sed 's/^/#   /'
}

# One job: j.<id>/cmd.sh with j.<id>/env.sh (CMD_TIMEOUT), output and exit code into
# j.<id>/ (output.log, dmesg.log, rc). A command during which the guest's kernel logged
# an IOMMU fault fails, whatever it reported: a device that DMAs where the IOMMU does
# not let it did not do what its counters may claim. A lost vCPU aborts the job with exit code 125
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
	local pid=$! n=0 fault= stuck= t0=$SECONDS
	ticks_check
	while kill -0 "$pid" 2> /dev/null; do
		read -r -t 0.05 -u 9
		[ $((++n % 20)) = 0 ] || continue
		if ! ticks_check; then
			fault=$(stall_fault)
			kill -9 -1 2> /dev/null
			break
		fi
		# timeout(1) waits for the child it killed: a task blocked in the kernel
		# never dies, and the job would never report
		if [ $((SECONDS - t0)) -gt $((CMD_TIMEOUT + 10)) ]; then
			stuck=1
			break
		fi
	done
	if [ -n "$stuck" ]; then
		blocked_tasks >> "$LOG"
		rc=124
	else
		wait "$pid"
		rc=$?
	fi
	[ $rc = 124 ] && echo "# TIMEOUT: the command did not finish within ${CMD_TIMEOUT}s" >> "$LOG"
	if [ -n "$fault" ]; then
		echo "# TEST BED FAULT, the command was stopped: $fault" >> "$LOG"
		echo "$fault" > "$J/fault"
		rc=125
	elif [ "$SESSION" = 1 ] && [ -z "$stuck" ]; then
		after_job
		if [ -n "$unclean" ]; then
			echo "# GUEST LEFT UNCLEAN by the command:$unclean" >> "$LOG"
			[ $rc = 0 ] && rc=1
		fi
		fresh_scratch
	fi
	dmesg -c > "$J/dmesg.log" 2> /dev/null
	iommu_faults_in "$J/dmesg.log"
	if [ -n "$iommu_faults" ]; then
		{
			echo "# IOMMU FAULT in the guest's kernel log during the command:"
			printf '%s' "$iommu_faults"
		} >> "$LOG"
		[ $rc = 0 ] && rc=1
	fi
	cp "$LOG" "$J/output.log"
	echo "$rc" > "$J/rc.tmp" && mv "$J/rc.tmp" "$J/rc"
	say "job $id: command exited with $rc"
	return $rc
}

cd /tmp
# the igb PFs' interfaces, brought up in the background (sriov_setup)
for up in "${sriov_up[@]}"; do
	wait "${up%%:*}" || sriov_problem+=" igb PF ${up#*:}: its interface did not come up;"
done
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
