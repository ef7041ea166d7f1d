#!/usr/bin/env bash
# Run one command as root inside a test-bed guest and bring back its output and exit
# code.  Usage:
#   vm-run.sh [--timeout SECS] [--keep] [--host-hook CMD] [--tcg-thread single|multi]
#             PROFILE 'COMMAND'
#   vm-run.sh --stop-sessions
# PROFILE is a file config/vm/PROFILE.conf (iommu, iommu-mq, noiommu, cdev-only, sriov,
# newer). The guest runs under QEMU TCG with the host's / shared read-only, so COMMAND
# can use any host path (build trees, the DPDK in the cache). In the guest the
# environment has VFIOFD_VIRTIO_BDFS, VFIOFD_E1000E_BDFS, VFIOFD_IGB_BDFS (igb PFs),
# VFIOFD_IGBVF_BDFS (igb VFs, with their MACs in VFIOFD_IGBVF_MACS): the NICs bound to
# vfio-pci; and VFIOFD_VM_PROFILE.
# --host-hook CMD runs CMD on the host while the guest runs, with VFIOFD_QMP (the QMP
# socket) and VFIOFD_VM_RESULTS (the shared results directory) in its environment.
# The command sees VFIOFD_BUILD as the caller had it (scripts/lib.sh): the build, and
# through it the DPDK series, it belongs to.
# VFIOFD_VM_HUGEPAGES and VFIOFD_VM_MEM override the profile's 2 MiB hugepage count and
# guest memory size.
#
# Sessions. With VFIOFD_VM_SESSIONS=<dir> (scripts/run-tests.sh sets it), commands for
# the same machine (profile, kernel, memory, TCG threading) run one after the other in
# one boot of it instead of a boot each. The guest gives every command a clean machine
# and fails a command that does not leave it so (scripts/guest-init.sh, after_job): no
# process survives, the mount table, hugepages and vfio-pci bindings are as before, and
# scratch directories are new. A failed command ends its session: the next one boots
# afresh. A command with a host hook always gets a boot of its own (the hook acts on
# the machine), and one session runs at a time. --stop-sessions powers off every
# session under VFIOFD_VM_SESSIONS and removes the directory.
#
# Exit status: the command's; 1 with a clear message if the guest did not boot or the
# command did not report back (a test bed that did not run is a failure, never a skip).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Power off one session (its QEMU's process group) and forget it.
stop_session() { # $1 = session directory
	local pid
	pid=$(cat "$1/pid" 2> /dev/null) || pid=
	[ -n "$pid" ] && kill -9 -- "-$pid" 2> /dev/null || true
	rm -f "$1/pid"
}

timeout_s=600 keep=0 hook= tcg_thread=${VFIOFD_VM_TCG_THREAD:-multi}
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--host-hook) hook=$2; shift 2 ;;
	--tcg-thread) tcg_thread=$2; shift 2 ;;
	--stop-sessions)
		[ -n "${VFIOFD_VM_SESSIONS:-}" ] || exit 0
		for d in "$VFIOFD_VM_SESSIONS"/*/; do
			[ -d "$d" ] && stop_session "$d"
		done
		if [ -f "$VFIOFD_VM_SESSIONS/boots" ]; then
			log "test-bed sessions: $(cat "$VFIOFD_VM_SESSIONS/jobs" 2> /dev/null | wc -l) commands in $(wc -l < "$VFIOFD_VM_SESSIONS/boots") boots"
		fi
		rm -rf "$VFIOFD_VM_SESSIONS"
		exit 0
		;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "usage: vm-run.sh [--timeout SECS] [--keep] [--host-hook CMD] PROFILE 'COMMAND'"
profile=$1 cmd=$2
conf=$VFIOFD_TOP/config/vm/$profile.conf
[ -f "$conf" ] || die "unknown profile '$profile' (have: $(cd "$VFIOFD_TOP/config/vm" && ls *.conf | sed 's/\.conf//' | tr '\n' ' '))"
# shellcheck source=/dev/null
. "$conf"
# Benchmarks that need more memory than the tests override the profile's.
HUGEPAGES=${VFIOFD_VM_HUGEPAGES:-$HUGEPAGES}
MEM=${VFIOFD_VM_MEM:-$MEM}
# The NICs of the machine, in PCI order, and what becomes of an igb (see iommu.conf).
NICS=${NICS:-virtio-net-pci virtio-net-pci e1000e}
IGB_VFS=${IGB_VFS:-0}
# The emulated IOMMU's address width: 48 bits covers every user VA (IOVA == VA); real
# VT-d units often have 39 (profile iommu-39).
VIOMMU_AW=${VIOMMU_AW:-48}
case "$VIOMMU_AW" in
39|48) ;;
*) die "profile $profile: VIOMMU_AW=39 or 48 (what QEMU's intel-iommu offers), not '$VIOMMU_AW'" ;;
esac
for model in $NICS; do
	case "$model" in virtio-net-pci|e1000e|igb) ;;
	*) die "profile $profile: NICS may name virtio-net-pci, e1000e and igb, not '$model'" ;;
	esac
done
case "$IGB_VFS" in
0|[1-7]) ;;
*) die "profile $profile: IGB_VFS=0..7 (82576 VFs per PF), not '$IGB_VFS'" ;;
esac
kernel=$VFIOFD_CACHE/kernel/build-$KERNEL/arch/x86/boot/bzImage
# The stamp is written only after a build whose .config held the fragments: a bzImage
# without it may be a leftover of another flavour.
[ -f "$kernel" ] && [ -f "$VFIOFD_CACHE/kernel/build-$KERNEL/.stamp" ] ||
	die "no complete $KERNEL guest kernel in $VFIOFD_CACHE/kernel/build-$KERNEL: run 'make setup' first"
command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing: run 'make setup' first"
case "$tcg_thread" in single|multi) ;; *) die "--tcg-thread single|multi, not '$tcg_thread'" ;; esac

sessions=${VFIOFD_VM_SESSIONS:-}
[ -n "$hook" ] && sessions=
runs=${VFIOFD_VM_RUNS:-$VFIOFD_BUILD/vm-runs}
mkdir -p "$runs"
# The guest command gets most of the time; the rest is for boot and power-off. The
# guest's clock starts when it takes the job, ours now: a boot on one TCG thread of a
# slow host takes up to a minute, and a command the guest stops must still be reported
# (its output says where it hung) before our deadline.
cmd_timeout=$(( timeout_s > 180 ? timeout_s - 90 : timeout_s > 60 ? timeout_s - 30 : timeout_s / 2 ))

# ---- the machine ----

# The QEMU command line for a guest whose results share is $1 (QMP socket in $2 if
# given), in the array "qemu".
qemu_cmdline() {
	local share=$1 qmp=${2:-}
	# no_timer_check: under TCG on a loaded host the early IO-APIC timer check can miss
	# its ticks and panic ("timer doesn't work through Interrupt-remapped IO-APIC").
	# i8042.noaux/nokbd, 8250.nr_uarts=1: no PS/2 probing and one serial port (the
	# console): about 0.4 s less per boot under TCG, and the test bed needs neither.
	local append="console=ttyS0 loglevel=4 panic=-1 no_timer_check i8042.noaux i8042.nokbd 8250.nr_uarts=1"
	append+=" root=hostroot rootfstype=9p"
	append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
	append+=" init=$VFIOFD_TOP/scripts/guest-init.sh"
	qemu=(qemu-system-x86_64 -accel "tcg,thread=$tcg_thread" -machine q35,kernel-irqchip=split -cpu max
		-smp "$SMP" -m "$MEM" -nodefaults -nographic -no-reboot -serial stdio
		-kernel "$kernel"
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
		-fsdev local,id=results,path="$share",security_model=none
		-device virtio-9p-pci,fsdev=results,mount_tag=results)
	[ -n "$qmp" ] && qemu+=(-qmp unix:"$qmp",server=on,wait=off)
	if [ "$VIOMMU" = 1 ]; then
		qemu+=(-device intel-iommu,intremap=on,aw-bits=$VIOMMU_AW)
		append+=" intel_iommu=on"
	fi
	[ "$NOIOMMU" = 1 ] && append+=" vfio.enable_unsafe_noiommu_mode=1"
	# The NICs (NICS, in this order: nicN is the N-th, behind root port rpN, so the
	# first ones keep their bus numbers when a profile adds one at the end) sit behind
	# PCIe root ports so that they can be hot-unplugged (device_del).
	# WIRING=hub: all on one QEMU hub, wired to each other with no host network (a hub
	# port has one queue). WIRING=tap-mq: the two virtio NICs on multiqueue taps (QUEUES
	# pairs, mq=on) wired to each other in a private network namespace
	# (scripts/netns-wire.sh); the other NICs stay on the hub.
	local wiring=${WIRING:-hub} queues=${QUEUES:-1} i=0 model opts netdev virtio_opts
	case "$wiring" in hub|tap-mq) ;; *) die "profile $profile: WIRING=hub|tap-mq, not '$wiring'" ;; esac
	[ "$VIOMMU" = 1 ] && virtio_opts=",disable-legacy=on,iommu_platform=on" || virtio_opts=",disable-legacy=on"
	for model in $NICS; do
		opts="romfile="
		netdev="hubport,id=hp$i,hubid=0"
		if [ "$model" = virtio-net-pci ]; then
			opts+=$virtio_opts
			if [ "$wiring" = tap-mq ]; then
				netdev="tap,id=hp$i,ifname=vfiofd$i,script=no,downscript=no,queues=$queues"
				opts+=",mq=on"
			fi
		fi
		qemu+=(-device pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1))
			-netdev "$netdev"
			-device "$model,netdev=hp$i,bus=rp$i,id=nic$i,mac=52:54:00:12:34:$((56 + i)),$opts")
		i=$((i + 1))
	done
	qemu+=(-append "$append")
	if [ "$wiring" = tap-mq ]; then
		command -v unshare > /dev/null || die "unshare missing (util-linux): needed for WIRING=tap-mq"
		# root may create a network namespace; where a container withholds that, a user
		# namespace of our own grants it (and CAP_NET_ADMIN over the taps inside)
		local ns=(unshare --net)
		if ! unshare --net true 2> /dev/null; then
			unshare --user --map-root-user --net true 2> /dev/null ||
				die "profile $profile: cannot create a network namespace for the tap wiring (unshare --net failed, also with a user namespace)"
			ns=(unshare --user --map-root-user --net)
		fi
		qemu=("${ns[@]}" -- bash "$VFIOFD_TOP/scripts/netns-wire.sh" "$queues" vfiofd0 vfiofd1
			-- "${qemu[@]}")
	fi
}

# Boot a guest on share $1 (QMP socket $2 or ""), session mode $3 (0: one job, 1: a
# session), for at most $4 seconds. QEMU runs in a process group of its own, console in
# $1/console.log; its pid (the group's) in vm_pid.
boot() {
	local share=$1 qmp=$2 session=$3 limit=$4
	cat > "$share/env.sh" <<EOS
VFIOFD_TOP=$VFIOFD_TOP
VM_PROFILE=$profile
VIOMMU=$VIOMMU
NOIOMMU=$NOIOMMU
NOIOMMU_CDEV=${NOIOMMU_CDEV:-0}
GROUP_API=$GROUP_API
HUGEPAGES=$HUGEPAGES
NICS="$NICS"
IGB_VFS=$IGB_VFS
SESSION=$session
IDLE_TIMEOUT=300
EOS
	rm -f "$share/ready" "$share/broken"
	qemu_cmdline "$share" "$qmp"
	# setsid: a session outlives this script; the lock fd must not go with it
	setsid timeout -k 10 "$limit" "${qemu[@]}" > "$share/console.log" 2>&1 < /dev/null 8>&- &
	vm_pid=$!
	boot_t0=$(date +%s)
}

# Hand job $2 (this command) to the guest on share $1.
submit() {
	local J=$1/j.$2
	mkdir -p "$J"
	printf '%s\n' "$cmd" > "$J/cmd.sh"
	# the command runs against the build and the cache (so the DPDK) it came from
	printf 'CMD_TIMEOUT=%s\nexport VFIOFD_BUILD=%q VFIOFD_CACHE=%q\n' "$cmd_timeout" \
		"$VFIOFD_BUILD" "$VFIOFD_CACHE" > "$J/env.sh"
	echo "$2" > "$1/next.tmp" && mv "$1/next.tmp" "$1/next"
}

# A guest is ready (its init wrote "ready") a few seconds after QEMU starts; one that
# is not after this long hangs in its boot (seen once: a TCG vCPU whose timer stopped,
# RCU stalls from then on), and is given up for another boot.
BOOT_LIMIT=${VFIOFD_VM_BOOT_LIMIT:-90}

# Wait until job $2 on share $1 finished, the machine reported itself broken, QEMU
# (pid $3, started at epoch second $5) exited or did not become ready within
# BOOT_LIMIT seconds, or the clock passed $4 (epoch seconds). Sets "state" to done,
# broken, died (QEMU exited, or was killed here because it hung in its boot) or
# timeout.
wait_job() {
	local J=$1/j.$2 now n=0 off stalls
	# console output from here on is this job's (a session's console holds every job's)
	off=$(stat -c %s "$1/console.log" 2> /dev/null || echo 0)
	while :; do
		[ -f "$J/rc" ] && { state=done; return; }
		[ -f "$1/broken" ] && { state=broken; return; }
		if ! running "$3"; then
			[ -f "$J/rc" ] && state=done || state=died
			return
		fi
		# A guest whose kernel reports an RCU stall a second time during one job hangs
		# for good (seen under TCG: a vCPU that no longer runs, "(0 ticks this GP)";
		# its own watchdog, ticks_check in guest-init.sh, cannot run either). One report
		# can be a loaded host's hiccup the guest recovers from. Checked once a second.
		if [ $((++n % 20)) = 0 ]; then
			stalls=$(tail -c +$((off + 1)) "$1/console.log" 2> /dev/null |
				grep -c 'rcu: INFO: .*detected stall' || true)
			if [ "${stalls:-0}" -ge 2 ]; then
				log "profile $profile: the guest's kernel reported RCU stalls $stalls times during the command: it hangs"
				echo "$stalls" > "$J.stalled"
				kill -9 -- "-$3" 2> /dev/null || true
				state=died
				return
			fi
		fi
		now=$(date +%s)
		if [ ! -f "$1/ready" ] && [ $((now - $5)) -ge "$BOOT_LIMIT" ]; then
			log "profile $profile: the guest is not up ${BOOT_LIMIT}s after QEMU started: it hangs in its boot"
			kill -9 -- "-$3" 2> /dev/null || true
			state=died
			return
		fi
		[ "$now" -lt "$4" ] || { state=timeout; return; }
		sleep 0.05
	done
}

# Is process $1 still running (a zombie, that is an exited child not yet waited for,
# is not)?
running() {
	local pid comm st
	read -r pid comm st _ 2> /dev/null < "/proc/$1/stat" && [ "$st" != Z ]
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# QEMU 10.0's multi-threaded TCG aborts now and then (an iotlb_to_section assertion,
# ~1 boot in 20, more when the guest changes its memory topology often), and a loaded
# host can still upset an early boot (a panic, or a hang: BOOT_LIMIT). If the guest
# died before it took the job, the command never ran: boot once more, and say so. A
# second failure is a failure.
lost_before_start() { # $1 = share, $2 = job id
	[ ! -f "$1/j.$2/started" ] && [ ! -f "$1/broken" ]
}
# Did job $2 on share $1 fail for the test bed's sake, not the command's: the guest
# died before it took the job, QEMU aborted on its assertion while the job ran, or the
# guest stopped the job because the emulator lost a vCPU (j.<id>/fault, see
# ticks_check in guest-init.sh), or hung in RCU stalls (j.<id>.stalled, wait_job)? Then
# it deserves another boot.
bed_failed() {
	[ -f "$1/j.$2/fault" ] && return 0
	[ -f "$1/j.$2.stalled" ] && return 0
	[ "$state" = died ] || return 1
	lost_before_start "$1" "$2" && return 0
	# QEMU itself failed under the running command (the assertion above)
	grep -q 'Assertion .* failed' "$1/console.log"
}
why_lost() { # $1 = share, $2 = job id: the reason, for the log
	if [ -f "$1/j.$2/fault" ]; then
		echo "the guest stopped the command: $(cat "$1/j.$2/fault")"
	elif [ -f "$1/j.$2.stalled" ]; then
		echo "the guest hung in RCU stalls ($(cat "$1/j.$2.stalled") reports) while the command ran"
	elif [ -f "$1/j.$2/started" ]; then
		echo "QEMU aborted while the command ran ($(grep -m1 -o 'Assertion .* failed' "$1/console.log"))"
	else
		echo "the guest ended before it took the command$(grep -m1 -o 'Kernel panic.*\|Assertion.*' "$1/console.log" | sed 's/^/ (/;s/$/)/')"
	fi
}

# Report a job's outcome and exit with it. $1 = share, $2 = job id, $3 = where a
# failure's files are kept.
finish() {
	local share=$1 J=$1/j.$2 keep_dir=$3 rc
	if [ "$state" = broken ]; then
		cat "$share/broken"
		rc=1
		log "profile $profile: the test bed is broken (see above)"
	elif [ "$state" != done ]; then
		echo "---- guest console (last 40 lines of $keep_dir/console.log) ----"
		tail -n 40 "$share/console.log" || true
		[ "$state" = timeout ] &&
			log "profile $profile: no result after ${timeout_s}s: the guest hung or the command never reported back" ||
			log "profile $profile: the guest did not report back (QEMU exited): it did not boot, or init failed"
		rc=1
	else
		rc=$(cat "$J/rc")
		cat "$J/output.log"
	fi
	if [ -n "$hook" ] && [ "${hrc:-0}" != 0 ]; then
		log "host hook failed with $hrc"
		[ "$rc" = 0 ] && rc=1
	fi
	# 77 means "skipped" to meson: a test-bed run is never a skip.
	if [ "$rc" = 77 ]; then
		log "the command exited with 77 (skip); in the test bed that is a failure"
		rc=1
	fi
	failed=$([ "$rc" = 0 ] && echo 0 || echo 1)
	if [ "$keep_dir" != "$share" ] && { [ "$failed" = 1 ] || [ "$keep" = 1 ]; }; then
		mkdir -p "$keep_dir"
		cp -r "$J" "$share/console.log" "$keep_dir/" 2> /dev/null || true
	fi
	[ "$failed" = 1 ] && log "profile $profile: files of this run in $keep_dir"
	log "profile $profile: command exited with $rc (${wall}s wall)"
	exit "$rc"
}

# Power off every session but $1 (one at a time: an idle guest still costs the host
# CPU time under TCG).
stop_other_sessions() {
	local d
	for d in "$VFIOFD_VM_SESSIONS"/*/; do
		[ -d "$d" ] && [ "${d%/}" != "${1:-}" ] && stop_session "$d"
	done
	return 0
}

t0=$(date +%s.%N)
deadline=$(( $(date +%s) + timeout_s ))

if [ -z "$sessions" ]; then
	# ---- one boot for this command ----
	R=$(mktemp -d "$runs/$profile.XXXXXX")
	# A unix socket path must stay under 108 bytes: keep QMP's in a short private dir.
	S=$(mktemp -d /tmp/vfiofd-qmp.XXXXXX)
	vm_pid= hook_pid=
	cleanup() {
		[ -n "$vm_pid" ] && kill -9 -- "-$vm_pid" 2> /dev/null || true
		[ -n "$hook_pid" ] && kill "$hook_pid" 2> /dev/null || true
		rm -rf "$S"
		[ "$keep" = 1 ] || [ "${failed:-1}" = 1 ] || rm -rf "$R"
	}
	trap cleanup EXIT
	log "profile $profile: booting $KERNEL kernel (timeout ${timeout_s}s, results in $R)"
	for attempt in 1 2; do
		rm -f "$R/next"
		submit "$R" 1
		boot "$R" "$S/qmp.sock" 0 "$timeout_s"
		if [ -n "$hook" ]; then
			# the hook may talk QMP at once: wait until QEMU listens (or has died)
			for _ in $(seq 100); do
				[ -S "$S/qmp.sock" ] || ! kill -0 "$vm_pid" 2> /dev/null && break
				sleep 0.1
			done
			VFIOFD_QMP=$S/qmp.sock VFIOFD_VM_RESULTS=$R bash -c "$hook" &
			hook_pid=$!
		fi
		wait_job "$R" 1 "$vm_pid" "$deadline" "$boot_t0"
		# the guest powers off after its job: give it a moment, then make sure
		if [ "$state" = done ] || [ "$state" = broken ]; then
			for _ in $(seq 100); do running "$vm_pid" || break; sleep 0.1; done
		fi
		kill -9 -- "-$vm_pid" 2> /dev/null || true
		qrc=0
		wait "$vm_pid" || qrc=$?
		vm_pid=
		hrc=0
		if [ -n "$hook_pid" ]; then
			wait "$hook_pid" || hrc=$?
			hook_pid=
		fi
		[ "$attempt" = 1 ] && bed_failed "$R" 1 || break
		log "profile $profile: no result: $(why_lost "$R" 1), QEMU exited with $qrc; booting once more"
		mv "$R/console.log" "$R/console-first-boot.log"
		[ -d "$R/j.1" ] && mv "$R/j.1" "$R/j.1-first-boot"
		[ -f "$R/j.1.stalled" ] && mv "$R/j.1.stalled" "$R/j.1-first-boot.stalled"
	done
	wall=$(elapsed "$t0")
	finish "$R" 1 "$R"
fi

# ---- a job in a session ----
key=$profile.$KERNEL.$HUGEPAGES.$MEM.$tcg_thread
D=$sessions/$key
mkdir -p "$sessions"
exec 8> "$sessions/lock"
flock 8
stop_other_sessions "$D"
alive() {
	[ -f "$D/pid" ] && [ -f "$D/booted" ] && running "$(cat "$D/pid")" &&
		[ ! -f "$D/share/broken" ]
}
start_session() {
	stop_session "$D"
	rm -rf "$D"
	mkdir -p "$D/share"
	# a session lives until run-tests.sh stops it, or its guest sees no job for a while
	boot "$D/share" "" 1 7200
	disown "$vm_pid"
	echo "$vm_pid" > "$D/pid"
	echo "$boot_t0" > "$D/booted"
	echo 0 > "$D/count"
	echo "$profile $(date +%s)" >> "$sessions/boots"
	log "profile $profile: booting $KERNEL kernel for a session of commands (results in $D)"
}
# killed while it waits (meson's timeout), the command's fate is unknown: the session
# goes with it, or the next command would inherit a hung guest
trap 'stop_session "$D"; exit 143' TERM INT
for attempt in 1 2; do
	alive || start_session
	pid=$(cat "$D/pid")
	id=$(( $(cat "$D/count") + 1 ))
	echo "$id" > "$D/count"
	submit "$D/share" "$id"
	wait_job "$D/share" "$id" "$pid" "$deadline" "$(cat "$D/booted")"
	[ "$attempt" = 1 ] && bed_failed "$D/share" "$id" || break
	log "profile $profile: $(why_lost "$D/share" "$id"); booting once more"
	stop_session "$D"
done
echo "$profile $id" >> "$sessions/jobs"
wall=$(elapsed "$t0")
log "profile $profile: command $id of this boot"
# a failed command ends the session (the guest powers off by itself after it)
if [ "$state" != done ] || [ "$(cat "$D/share/j.$id/rc")" != 0 ]; then
	stop_session "$D"
	finish "$D/share" "$id" "$(mktemp -d "$runs/$profile.XXXXXX")"
fi
finish "$D/share" "$id" "$D/share"
