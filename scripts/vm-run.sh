#!/usr/bin/env bash
# Run one command as root inside a test-bed guest and bring back its output and exit
# code.  Usage:
#   vm-run.sh [--timeout SECS] [--keep] [--host-hook CMD] [--tcg-thread single|multi]
#             PROFILE 'COMMAND'
# PROFILE is a file config/vm/PROFILE.conf (iommu, iommu-mq, noiommu, cdev-only).
# The guest runs under QEMU TCG with the host's / shared read-only, so COMMAND can use
# any host path (build trees, the DPDK in the cache). In the guest the environment has
# VFIOFD_VIRTIO_BDFS, VFIOFD_E1000E_BDFS (NICs bound to vfio-pci) and VFIOFD_VM_PROFILE.
# --host-hook CMD runs CMD on the host while the guest runs, with VFIOFD_QMP (the QMP
# socket) and VFIOFD_VM_RESULTS (the shared results directory) in its environment.
# VFIOFD_VM_HUGEPAGES and VFIOFD_VM_MEM override the profile's 2 MiB hugepage count and
# guest memory size.
# Exit status: the command's; 1 with a clear message if the guest did not boot or the
# command did not report back (a test bed that did not run is a failure, never a skip).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

timeout_s=600 keep=0 hook= tcg_thread=${VFIOFD_VM_TCG_THREAD:-multi}
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) timeout_s=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--host-hook) hook=$2; shift 2 ;;
	--tcg-thread) tcg_thread=$2; shift 2 ;;
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
kernel=$VFIOFD_CACHE/kernel/build-$KERNEL/arch/x86/boot/bzImage
# The stamp is written only after a build whose .config held the fragments: a bzImage
# without it may be a leftover of another flavour.
[ -f "$kernel" ] && [ -f "$VFIOFD_CACHE/kernel/build-$KERNEL/.stamp" ] ||
	die "no complete $KERNEL guest kernel in $VFIOFD_CACHE/kernel/build-$KERNEL: run 'make setup' first"
command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing: run 'make setup' first"

runs=${VFIOFD_VM_RUNS:-$VFIOFD_TOP/build/vm-runs}
mkdir -p "$runs"
R=$(mktemp -d "$runs/$profile.XXXXXX")
# A unix socket path must stay under 108 bytes: keep QMP's in a short private dir.
S=$(mktemp -d /tmp/vfiofd-qmp.XXXXXX)
qemu_pid=
cleanup() {
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
	rm -rf "$S"
	[ "$keep" = 1 ] || [ "${failed:-1}" = 1 ] || rm -rf "$R"
}
trap cleanup EXIT

printf '%s\n' "$cmd" > "$R/cmd.sh"
# The guest command gets most of the time; the rest is for boot and power-off.
cmd_timeout=$(( timeout_s > 60 ? timeout_s - 30 : timeout_s / 2 ))
cat > "$R/env.sh" <<EOS
VFIOFD_TOP=$VFIOFD_TOP
VM_PROFILE=$profile
VIOMMU=$VIOMMU
NOIOMMU=$NOIOMMU
GROUP_API=$GROUP_API
HUGEPAGES=$HUGEPAGES
CMD_TIMEOUT=$cmd_timeout
EOS

# no_timer_check: under TCG on a loaded host the early IO-APIC timer check can miss its
# ticks and panic ("timer doesn't work through Interrupt-remapped IO-APIC").
# i8042.noaux/nokbd, 8250.nr_uarts=1: no PS/2 probing and one serial port (the console):
# about 0.4 s less per boot under TCG, and the test bed has no use for either.
append="console=ttyS0 loglevel=4 panic=-1 no_timer_check i8042.noaux i8042.nokbd 8250.nr_uarts=1"
append+=" root=hostroot rootfstype=9p"
append+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
append+=" init=$VFIOFD_TOP/scripts/guest-init.sh"
case "$tcg_thread" in single|multi) ;; *) die "--tcg-thread single|multi, not '$tcg_thread'" ;; esac
qemu=(qemu-system-x86_64 -accel "tcg,thread=$tcg_thread" -machine q35,kernel-irqchip=split -cpu max
	-smp "$SMP" -m "$MEM" -nodefaults -nographic -no-reboot -serial stdio
	-kernel "$kernel"
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev local,id=results,path="$R",security_model=none
	-device virtio-9p-pci,fsdev=results,mount_tag=results
	-qmp unix:"$S/qmp.sock",server=on,wait=off)
if [ "$VIOMMU" = 1 ]; then
	qemu+=(-device intel-iommu,intremap=on,aw-bits=48)
	append+=" intel_iommu=on"
fi
[ "$NOIOMMU" = 1 ] && append+=" vfio.enable_unsafe_noiommu_mode=1"
# The NICs sit behind PCIe root ports so that they can be hot-unplugged (device_del).
# WIRING=hub: all on one QEMU hub, wired to each other with no host network (a hub port
# has one queue). WIRING=tap-mq: the two virtio NICs on multiqueue taps (QUEUES pairs,
# mq=on) wired to each other in a private network namespace (scripts/netns-wire.sh);
# the e1000e stays alone on the hub.
WIRING=${WIRING:-hub} QUEUES=${QUEUES:-1}
case "$WIRING" in hub|tap-mq) ;; *) die "profile $profile: WIRING=hub|tap-mq, not '$WIRING'" ;; esac
nic_opts="romfile="
[ "$VIOMMU" = 1 ] && virtio_opts=",disable-legacy=on,iommu_platform=on" || virtio_opts=",disable-legacy=on"
i=0
for model in virtio-net-pci virtio-net-pci e1000e; do
	opts=$nic_opts
	netdev="hubport,id=hp$i,hubid=0"
	if [ "$model" = virtio-net-pci ]; then
		opts+=$virtio_opts
		if [ "$WIRING" = tap-mq ]; then
			netdev="tap,id=hp$i,ifname=vfiofd$i,script=no,downscript=no,queues=$QUEUES"
			opts+=",mq=on"
		fi
	fi
	qemu+=(-device pcie-root-port,id=rp$i,chassis=$((i + 1)),slot=$((i + 1))
		-netdev "$netdev"
		-device "$model,netdev=hp$i,bus=rp$i,id=nic$i,mac=52:54:00:12:34:$((56 + i)),$opts")
	i=$((i + 1))
done
qemu+=(-append "$append")
if [ "$WIRING" = tap-mq ]; then
	command -v unshare > /dev/null || die "unshare missing (util-linux): needed for WIRING=tap-mq"
	# root may create a network namespace; where a container withholds that, a user
	# namespace of our own grants it (and CAP_NET_ADMIN over the taps inside)
	ns=(unshare --net)
	if ! unshare --net true 2> /dev/null; then
		unshare --user --map-root-user --net true 2> /dev/null ||
			die "profile $profile: cannot create a network namespace for the tap wiring (unshare --net failed, also with a user namespace)"
		ns=(unshare --user --map-root-user --net)
	fi
	qemu=("${ns[@]}" -- bash "$VFIOFD_TOP/scripts/netns-wire.sh" "$QUEUES" vfiofd0 vfiofd1
		-- "${qemu[@]}")
fi

# One boot: QEMU in the background (so that a host hook can run alongside), its exit
# status in qrc, the hook's in hrc.
boot() {
	timeout -k 10 "$timeout_s" "${qemu[@]}" > "$R/console.log" 2>&1 &
	qemu_pid=$!
	hook_pid=
	if [ -n "$hook" ]; then
		# the hook may talk QMP at once: wait until QEMU listens (or has died)
		for _ in $(seq 100); do
			[ -S "$S/qmp.sock" ] || ! kill -0 "$qemu_pid" 2> /dev/null && break
			sleep 0.1
		done
		VFIOFD_QMP=$S/qmp.sock VFIOFD_VM_RESULTS=$R bash -c "$hook" &
		hook_pid=$!
	fi
	qrc=0
	wait "$qemu_pid" || qrc=$?
	qemu_pid=
	hrc=0
	[ -n "$hook_pid" ] && { wait "$hook_pid" || hrc=$?; }
	return 0
}

log "profile $profile: booting $KERNEL kernel (timeout ${timeout_s}s, results in $R)"
t0=$(date +%s.%N)
boot
# QEMU 10.0's multi-threaded TCG aborts now and then (an iotlb_to_section assertion,
# ~1 boot in 20, more when the guest changes its memory topology often), and a loaded
# host can still upset an early boot. When QEMU aborted, or the guest panicked before it
# ran the command, the command never reported: boot once more, and say so. A second
# failure is a failure.
if [ ! -f "$R/rc" ] && { [ "$qrc" = 134 ] ||
	{ ! grep -q 'guest-init: running the command' "$R/console.log" &&
	  grep -q 'Kernel panic' "$R/console.log"; }; }; then
	log "profile $profile: no result: QEMU exited with $qrc$(grep -m1 -o 'Kernel panic.*\|Assertion.*' "$R/console.log" | sed 's/^/, /'); booting once more"
	mv "$R/console.log" "$R/console-first-boot.log"
	boot
fi
t1=$(date +%s.%N)
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

if [ ! -f "$R/rc" ]; then
	failed=1
	echo "---- guest console (last 40 lines of $R/console.log) ----"
	tail -n 40 "$R/console.log" || true
	[ -f "$R/output.log" ] && cat "$R/output.log"
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] &&
		die "profile $profile: no result after ${timeout_s}s: the guest hung or the command never reported back"
	die "profile $profile: the guest did not report back (QEMU exited with $qrc after ${wall}s): it did not boot, or init failed"
fi
rc=$(cat "$R/rc")
cat "$R/output.log"
if [ -n "$hook" ] && [ "$hrc" != 0 ]; then
	log "host hook failed with $hrc"
	[ "$rc" = 0 ] && rc=1
fi
# 77 means "skipped" to meson: a test-bed run is never a skip.
if [ "$rc" = 77 ]; then
	log "the command exited with 77 (skip); in the test bed that is a failure"
	rc=1
fi
failed=$([ "$rc" = 0 ] && echo 0 || echo 1)
log "profile $profile: command exited with $rc (${wall}s wall)"
exit "$rc"
