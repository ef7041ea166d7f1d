#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The vfiofd bus's test-bed scenarios; runs inside the guest (scripts/vm-run.sh).
# Usage: vm_bus.sh <test-vfiofd-bus> <test name>
# The guest's environment names the NICs: VFIOFD_VIRTIO_BDFS (two virtio-net),
# VFIOFD_E1000E_BDFS (one e1000e), VFIOFD_IGB_BDFS (one igb, in the iommu and cdev-only
# profiles), all bound to vfio-pci. DPDK's bus/pci with net_virtio and net_e1000 is
# loaded from the EAL's plugin directory in every run, so every scenario also exercises
# the one-bus-per-device rule. No vfiofd driver supports the igb: in the default mode
# vfiofd lists it (a vfio-pci device) without probing it, and bus/pci, where enabled,
# takes it (net_e1000_igb).
set -u
T=$1 name=$2
read -r V1 V2 _ <<< "$VFIOFD_VIRTIO_BDFS"
read -r E1 _ <<< "$VFIOFD_E1000E_BDFS"
read -r I1 _ <<< "${VFIOFD_IGB_BDFS:-}"
# --huge-unlink: every run gets a fresh --file-prefix; do not leave hugepage files
EAL=(-l 0 -m 64 --huge-unlink --log-level=bus.vfiofd:info)
# probe/remove cycles: 100 on the default DPDK; the version matrix passes fewer
# (VFIOFD_CYCLES), as it checks the API of each release, not endurance
CYCLES=${VFIOFD_CYCLES:-100}
fail=0
run() {
	echo "# \$ $*"
	"$@" || { echo "# FAILED: $*"; fail=1; }
}
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
bind_vfio() {
	local d=/sys/bus/pci/devices/$1
	echo vfio-pci > "$d/driver_override"
	[ -e "$d/driver" ] && echo "$1" > "$d/driver/unbind"
	echo "$1" > /sys/bus/pci/drivers_probe
}

# The testpmd runs of the hot-unplug scenarios. testpmd runs the commands of its pipe
# one after the other, each to its end: the feeder waits for the log where the next
# step depends on time (start-up, forwarding, the kernel's unplug), and sends the rest
# at once. TP_OUT is its log; R the results share the host hook (qmp_unplug.py) reads.
TP_OUT=/tmp/testpmd-hotunplug.log
R=/run/results
wait_log() { # $1 = text, $2 = tenths of a second
	for _ in $(seq "$2"); do grep -q -- "$1" "$TP_OUT" && return 0; sleep 0.1; done
	return 1
}
# device_del of QEMU device $1 through the host hook; waits up to $2 s for DEVICE_DELETED
qmp_unplug() {
	touch "$R/unplug.$1.req"
	for _ in $(seq $(($2 * 10))); do [ -e "$R/unplug.$1.deleted" ] && break; sleep 0.1; done
}
# testpmd -i on vfiofd ports $1 and $2, fed by the commands of stdin; $3 = extra
# testpmd options; EAL plugin arguments after. The last command of a pipeline (a
# subshell): returns testpmd's status for testpmd_done.
testpmd_pipe() {
	local p0=$1 p1=$2 opts=$3
	shift 3
	. "$(dirname "$0")/../../../scripts/lib.sh"
	export LD_LIBRARY_PATH=$(dirname "$(find "$DPDK_PREFIX" -name librte_eal.so -print -quit)")
	timeout -k 5 120 stdbuf -oL "$DPDK_PREFIX/bin/dpdk-testpmd" -l 0-1 -n 1 \
		--file-prefix hotunplug --log-level=bus.vfiofd:info --no-pci "$@" \
		-a "vfiofd:$p0" -a "vfiofd:$p1" -- -i $opts --total-num-mbufs=16384 \
		> "$TP_OUT" 2>&1
}
# $1 = testpmd's exit status: shows its log and checks it exited with 0 (or, with $2
# = killed, that the feeder's SIGKILL ended it: timeout reports 137)
testpmd_done() {
	grep -v -E "^testpmd> $|^  (RX-|TX-|Rx-|Tx-|Throughput)|^ *$" "$TP_OUT"
	if [ "${2:-}" = killed ]; then
		[ "$1" = 137 ] && [ -e /tmp/testpmd-killed ] &&
			echo "ok - testpmd ran until the test ended it (SIGKILL)" ||
			{ echo "not ok - testpmd ended before the test did (status $1)"; fail=1; }
		return
	fi
	[ "$1" = 0 ] && echo "ok - testpmd exited with 0" ||
		{ echo "not ok - testpmd exited with $1"; fail=1; }
}
check() { if grep -q -- "$2" "$TP_OUT"; then echo "ok - $1"; else echo "not ok - $1 ('$2' not in the output)"; fail=1; fi; }
# QEMU deleted device $1 ($2: its BDF, which must have left sysfs)
check_deleted() {
	if [ -e "$R/unplug.$1.deleted" ]; then
		echo "ok - QEMU reported DEVICE_DELETED for $1 ($(cat "$R/unplug.$1.deleted") s after device_del)"
	else
		echo "not ok - no DEVICE_DELETED for $1"; fail=1
	fi
	[ ! -e "/sys/bus/pci/devices/$2" ] && echo "ok - $2 left sysfs" ||
		{ echo "not ok - $2 still in sysfs"; fail=1; }
}
# port 0 still works: its TX counter grew between the last two "show port stats 0"
check_port0_tx() {
	awk '/NIC statistics for port/ { cur = $6 } /NIC statistics for port 0/ { n++ }
		cur == 0 && n && /TX-packets:/ { tx[n] = $2 }
		END { if (n >= 2 && tx[n] > tx[n - 1]) { print "ok - port 0 still transmits after the unplug (TX " tx[n - 1] " -> " tx[n] ")"; exit 0 }
		      print "not ok - port 0 does not transmit after the unplug (TX " tx[n - 1] " -> " tx[n] ")"; exit 1 }' "$TP_OUT" || fail=1
}

# testpmd --hot-plug on ports $1 and $2 (EAL plugin arguments after the third): port
# stop/detach/attach/start of $2, forwarding, then the kernel hot-unplugs $2 (QMP device
# id $3, through the host hook) while $1 forwards; testpmd must release it on its own
# (RTE_DEV_EVENT_REMOVE), QEMU must report DEVICE_DELETED, and $1 must keep working.
testpmd_hotplug() {
	local p0=$1 p1=$2 qmp=$3
	shift 3
	: > "$TP_OUT"
	{
		wait_log 'testpmd>' 600
		# testpmd detaches a stopped port (closing first would free the port id)
		echo "port stop 1"; echo "port detach 1"
		echo "show port summary all"
		echo "port attach vfiofd:$p1"
		echo "port start 1"
		echo "show port summary all"
		echo "start tx_first"
		wait_log 'forwards packets on' 300
		sleep 2
		echo "show port stats all"
		qmp_unplug "$qmp" 30
		# the removal event reaches testpmd's handler asynchronously
		sleep 2
		echo "show port summary all"
		# the remaining port still transmits: one more burst, counted by the device
		echo "stop"; echo "show port stats 0"
		echo "start tx_first"; sleep 1; echo "stop"; echo "show port stats 0"
		echo "quit"
	} | testpmd_pipe "$p0" "$p1" --hot-plug "$@"
	testpmd_done $?
	check "port detach 1" "Device is detached"
	check "port attach vfiofd:$p1" "Port 1 is attached"
	check "the bus raised RTE_DEV_EVENT_REMOVE" "$p1: the kernel asks to release the device"
	# the second "Device is detached": testpmd's RTE_DEV_EVENT_REMOVE handler
	n=$(grep -c "Device is detached" "$TP_OUT")
	[ "$n" = 2 ] && echo "ok - testpmd detached the port on its own" ||
		{ echo "not ok - testpmd detached $n time(s), expected 2"; fail=1; }
	if grep -q "the kernel asks again" "$TP_OUT"; then
		echo "not ok - the application did not release the device: the bus had to"; fail=1
	fi
	check_deleted "$qmp" "$p1"
	check "testpmd forwarded between the two ports first" "RX P=1/Q=0 (socket 0) -> TX P=0/Q=0"
	check "one port left after the unplug" "Number of available ports: 1"
	check_port0_tx
}

# testpmd without --hot-plug (it ignores RTE_DEV_EVENT_REMOVE) forwards on ports $1 and
# $2 while the kernel hot-unplugs $2 (QMP device id $3): its lcore keeps polling $2
# through the unplug. At the kernel's repeated request the bus revokes $2 (BARs to
# anonymous memory, device file released) without touching the driver: QEMU deletes
# the device, the process keeps running, $1 keeps forwarding, testpmd still answers.
# The test then ends testpmd with SIGKILL: its exit stops every port, and DPDK's igb
# driver stopping a port whose device is gone polls NVM and semaphore registers to
# their timeouts for minutes (doc/guides/bus_vfiofd.rst, Hot-unplug).
testpmd_unplug_ignored() {
	local p0=$1 p1=$2 qmp=$3
	shift 3
	: > "$TP_OUT"
	{
		wait_log 'testpmd>' 600
		echo "start tx_first"
		wait_log 'forwards packets on' 300
		sleep 2
		echo "show port stats all"
		# vfio-pci asks again 10 s after the first request
		qmp_unplug "$qmp" 40
		sleep 1
		echo "show port stats all"
		echo "stop"; echo "show port stats 0"
		echo "start tx_first"; sleep 1; echo "stop"; echo "show port stats 0"
		echo "show port summary all"
		wait_log "Number of available ports: 2" 100
		touch /tmp/testpmd-killed
		pkill -KILL -x dpdk-testpmd
	} | testpmd_pipe "$p0" "$p1" "" "$@"
	testpmd_done $? killed
	check "the bus raised RTE_DEV_EVENT_REMOVE (ignored)" "$p1: the kernel asks to release the device"
	check "the bus revoked the device at the repeated request" "$p1: released to the kernel"
	check_deleted "$qmp" "$p1"
	check "testpmd forwarded between the two ports" "RX P=1/Q=0 (socket 0) -> TX P=0/Q=0"
	# port 0 sends the burst of the last "start tx_first" (32 packets; its peer on the
	# hub was the unplugged port, so it has nothing to forward): testpmd's forward
	# statistics of the last "stop" count what port 0's driver accepted. (The NIC
	# counters of port 0, read next to those of the gone port, are not used here.)
	awk '/Forward statistics for port 0/ { f = 1 } f && /TX-packets:/ { tx = $2; f = 0 }
		END { if (tx + 0 >= 32) { print "ok - port 0 transmits after the unplug (forward statistics TX " tx ")"; exit 0 }
		      print "not ok - port 0 does not transmit after the unplug (TX " tx ")"; exit 1 }' "$TP_OUT" || fail=1
	check "testpmd still answers, both ports listed" "Number of available ports: 2"
	if grep -q -E "Segmentation fault|SIGBUS|Bus error|EAL: Error - exiting" "$TP_OUT"; then
		echo "not ok - testpmd crashed"; fail=1
	fi
}

# The scenarios that count every vfio-pci device need the igb: without it they must fail.
need_igb() {
	[ -n "$I1" ] ||
		{ echo "# FAILED: no igb bound to vfio-pci (VFIOFD_IGB_BDFS is empty)"; fail=1; }
}

echo "# virtio-net: $V1 $V2, e1000e: $E1, igb: ${I1:-none};" \
	"/dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
case $name in
bus_scan_allowlist)
	need_igb
	# allow-list mode is per bus: bus/pci keeps probing the others (net_virtio,
	# net_e1000 through the VFIO group)
	run "$T" scan --expect-devices="$V1" --expect-probed="$V1" \
		--expect-pci-probed="$V2,$E1,$I1" --expect-iova=va --telemetry \
		-- "${EAL[@]}" -a "vfiofd:$V1"
	run "$T" scan --expect-devices="$V1,$E1" --expect-probed="$V1,$E1" --telemetry \
		-- "${EAL[@]}" --no-pci -a "vfiofd:$V1" -a "vfiofd:$E1,ioas=private,test_key=1"
	run "$T" scan --expect-devices="$V2" --expect-probed="$V2" \
		-- "${EAL[@]}" --no-pci -a "bus=vfiofd,addr=$V2,intr=intx"
	run "$T" scan --expect-devices=none --expect-probed=none \
		-- "${EAL[@]}" --no-pci -a vfiofd:
	# default mode: every vfio-pci device a vfiofd driver supports; the igb, which none
	# supports, is left to bus/pci
	run "$T" scan --expect-devices="$V1,$V2,$E1,$I1" --expect-probed="$V1,$V2,$E1" \
		--expect-pci-probed="$I1" --telemetry -- "${EAL[@]}"
	run "$T" scan --expect-probed=none --expect-log="$V1: refused: named more than once" \
		-- "${EAL[@]}" --no-pci -a "vfiofd:$V1" -a "vfiofd:$V1,ioas=private"
	run "$T" scan --expect-init-fail --expect-log="is not a vfiofd device" \
		-- "${EAL[@]}" -a vfiofd:0000:01:00.9
	;;
bus_blocklist)
	need_igb
	# blocked on vfiofd: left to bus/pci, which takes it (and the igb)
	run "$T" scan --expect-devices="$V2,$E1,$I1" --expect-probed="$V2,$E1" \
		--expect-pci-probed="$V1,$I1" -- "${EAL[@]}" -b "vfiofd:$V1"
	run "$T" scan --expect-devices="$E1,$I1" --expect-probed="$E1" \
		-- "${EAL[@]}" --no-pci -b "vfiofd:$V1" -b "vfiofd:$V2"
	run "$T" scan --expect-init-fail --expect-log="is not a vfiofd device" \
		-- "${EAL[@]}" -b "vfiofd:$V1/../../x"
	;;
bus_probe_remove_cycles)
	run "$T" cycles --dev="$V1" --count="$CYCLES" -- "${EAL[@]}" --no-pci -a vfiofd:
	run "$T" cycles --dev="$E1" --count=20 -- "${EAL[@]}" --no-pci -a vfiofd:
	;;
bus_not_vfio_bound)
	need_igb
	d=/sys/bus/pci/devices/$E1
	echo > "$d/driver_override"
	echo "$E1" > "$d/driver/unbind"
	echo "$E1" > /sys/bus/pci/drivers_probe
	drv=$(driver_of "$E1")
	echo "# $E1 is now bound to '${drv:-nothing}'"
	if [ -n "$drv" ]; then
		run "$T" scan --expect-devices=none --expect-probed=none \
			--expect-log="$E1: allow-listed, but bound to $drv, not vfio-pci" \
			--expect-log="echo vfio-pci > /sys/bus/pci/devices/$E1/driver_override" \
			-- "${EAL[@]}" --no-pci -a "vfiofd:$E1"
		echo "$E1" > "$d/driver/unbind"
	fi
	run "$T" scan --expect-devices=none --expect-probed=none \
		--expect-log="$E1: allow-listed, but not bound to any driver" \
		-- "${EAL[@]}" --no-pci -a "vfiofd:$E1"
	# not asked for: skipped quietly, the others are probed
	run "$T" scan --expect-devices="$V1,$V2,$I1" --expect-probed="$V1,$V2" \
		--expect-no-log="$E1: allow-listed" -- "${EAL[@]}" --no-pci
	bind_vfio "$E1"
	echo "# $E1 is bound to '$(driver_of "$E1")' again"
	run "$T" scan --expect-probed="$E1" -- "${EAL[@]}" --no-pci -a "vfiofd:$E1"
	;;
bus_no_iommufd)
	# a /dev with the VFIO cdevs but no iommu node (a kernel without CONFIG_IOMMUFD)
	fake=/tmp/vfiofd-dev-no-iommu
	mkdir -p "$fake/vfio/devices"
	cp -a /dev/vfio/devices/. "$fake/vfio/devices/"
	VFIOFD_DEV_ROOT=$fake run "$T" scan --expect-devices="$V1" --expect-probed=none \
		--expect-log="$V1: cannot use $fake/iommu: No such file or directory" \
		--expect-log="CONFIG_IOMMUFD" -- "${EAL[@]}" --no-pci -a "vfiofd:$V1"
	# /dev/iommu that is not an iommufd
	mount --bind /dev/null /dev/iommu
	run "$T" scan --expect-devices="$V1" --expect-probed=none \
		--expect-log="$V1: cannot use /dev/iommu" \
		--expect-log="that is not an iommufd character device" \
		-- "${EAL[@]}" --no-pci -a "vfiofd:$V1"
	umount /dev/iommu
	# /dev/iommu gone altogether
	need_igb
	mv /dev/iommu /dev/iommu.hidden
	run "$T" scan --expect-devices="$V1,$V2,$E1,$I1" --expect-probed=none \
		--expect-log="$V1: cannot use /dev/iommu: No such file or directory" \
		-- "${EAL[@]}" --no-pci
	mv /dev/iommu.hidden /dev/iommu
	run "$T" scan --expect-probed="$V1" -- "${EAL[@]}" --no-pci -a "vfiofd:$V1"
	;;
bus_bar_rw_fallback)
	run "$T" bar --dev="$V1,$E1" -- "${EAL[@]}" --no-pci -a vfiofd:
	;;
bus_intr_msix)
	run "$T" intr --dev="$E1" --modes=msix,msi,intx -- "${EAL[@]}" --no-pci -a vfiofd:
	;;
bus_cdev_only)
	[ ! -e /dev/vfio/vfio ] || { echo "# /dev/vfio/vfio exists: not a cdev-only kernel"; fail=1; }
	need_igb
	# without VFIO groups bus/pci can take nothing, not even the igb no vfiofd driver
	# supports
	run "$T" scan --expect-devices="$V1,$V2,$E1,$I1" --expect-probed="$V1,$V2,$E1" \
		--expect-pci-probed=none --telemetry \
		-- "${EAL[@]}"
	run "$T" bar --dev="$V1,$E1" -- "${EAL[@]}" --no-pci -a vfiofd:
	run "$T" intr --dev="$E1" --modes=msix -- "${EAL[@]}" --no-pci -a vfiofd:
	run "$T" cycles --dev="$V2" --count=10 -- "${EAL[@]}" --no-pci -a vfiofd:
	;;
bus_pci_coexistence)
	run "$T" coexist --virtio="$V1,$V2" --e1000e="$E1" -- "${EAL[@]}"
	# allow-listed on both buses: vfiofd refuses it, bus/pci drives it
	run "$T" scan --expect-devices="$V1" --expect-probed=none --expect-pci-probed="$V1" \
		--expect-log="allow-listed on both bus pci and bus vfiofd" \
		-- "${EAL[@]}" -a "vfiofd:$V1" -a "$V1"
	# allow-listed on bus/pci only: vfiofd leaves it and takes the others
	run "$T" scan --expect-probed="$V2,$E1" --expect-pci-probed="$V1" \
		--expect-log="$V1: allow-listed on bus pci, left to it" -- "${EAL[@]}" -a "$V1"
	# (the EAL refuses -a and -b together, whatever the buses: no "-b BDF -a vfiofd:BDF")
	# the user's -b on bus/pci is kept; -b on vfiofd leaves a device to bus/pci
	need_igb
	run "$T" scan --expect-devices="$V1,$E1,$I1" --expect-probed="$V1,$E1" \
		--expect-pci-probed="$V2,$I1" -- "${EAL[@]}" -b "$V1" -b "vfiofd:$V2"
	;;
bus_noiommu|bus_noiommu_cdev_newer)
	# noiommu profile: vfio's unsafe mode, no cdevs, only /dev/vfio/noiommu-N groups;
	# newer-noiommu (Linux 7.3+): the groups and a no-IOMMU cdev per device, which the
	# bus must take instead (the refusal names the node it would use)
	ls /dev/vfio/noiommu-* > /dev/null 2>&1 || { echo "# no noiommu-N group"; fail=1; }
	node=", group /dev/vfio/noiommu-"
	if [ "$name" = bus_noiommu_cdev_newer ]; then
		ls /dev/vfio/devices/noiommu-vfio* > /dev/null 2>&1 ||
			{ echo "# no noiommu-vfioN cdev"; fail=1; }
		node=", cdev /dev/vfio/devices/noiommu-vfio"
	fi
	# without the opt-in: refused, naming the device, the cause and the fix
	run "$T" scan --expect-devices=none --expect-probed=none \
		--expect-log="$V1: allow-listed, but skipped: it has no IOMMU" \
		--expect-log="no-IOMMU mode$node" \
		--expect-log="opt in with -a vfiofd:$V1,noiommu=1" \
		-- "${EAL[@]}" --no-pci --iova-mode=pa -a "vfiofd:$V1"
	# not asked for: a notice, nothing taken
	run "$T" scan --expect-devices=none --expect-probed=none \
		--expect-log="$E1: skipped: it has no IOMMU" -- "${EAL[@]}" --no-pci
	# opted in: probed through the group path, the EAL in IOVA-as-PA mode
	run "$T" scan --expect-devices="$V1,$E1" --expect-probed="$V1,$E1" --expect-iova=pa \
		--telemetry -- "${EAL[@]}" --no-pci --iova-mode=pa \
		-a "vfiofd:$V1,noiommu=1" -a "vfiofd:$E1,noiommu=on"
	# the bus asks for PA by itself (get_iommu_class) when the user did not
	run "$T" scan --expect-devices="$V2" --expect-probed="$V2" --expect-iova=pa \
		-- "${EAL[@]}" --no-pci -a "vfiofd:$V2,noiommu=1"
	# BAR access (mapping and pread/pwrite) and a real MSI-X interrupt
	TEST_VFIOFD_EXTRA_DEVARGS=,noiommu=1 run "$T" bar --dev="$V1,$E1" \
		-- "${EAL[@]}" --no-pci --iova-mode=pa -a vfiofd:
	TEST_VFIOFD_EXTRA_DEVARGS=,noiommu=1 run "$T" intr --dev="$E1" --modes=msix,msi \
		-- "${EAL[@]}" --no-pci --iova-mode=pa -a vfiofd:
	# a no-IOMMU device needs physical addresses: IOVA as VA is refused with the fix
	run "$T" scan --expect-probed=none --expect-log="--iova-mode=pa" \
		-- "${EAL[@]}" --no-pci --iova-mode=va -a "vfiofd:$V1,noiommu=1"
	;;
bus_hotunplug)
	# needs the host hook qmp_unplug.py; the NICs are nic0, nic1 (virtio), nic2 (e1000e),
	# nic3 (igb) behind root ports 1, 2, 3, 4: $V2 is nic1, $E1 is nic2, $I1 is nic3.
	# the application handles RTE_DEV_EVENT_REMOVE (as testpmd --hot-plug does)
	run "$T" hotunplug --dev="$V2" --qmp-id=nic1 --other="$V1" --mode=event \
		-- "${EAL[@]}" --no-pci -a vfiofd:
	# no one handles it, a load from its BAR polls on: the bus revokes the device at
	# the kernel's repeated request, the program removes it afterwards
	run "$T" hotunplug --dev="$E1" --qmp-id=nic2 --other="$V1" --mode=ignored \
		-- "${EAL[@]}" --no-pci -a vfiofd:
	# the test bed's igb (nic3, root port 4) unplugs too: idle on vfio-pci, it goes at once
	need_igb
	qmp_unplug nic3 10
	if [ -e "$R/unplug.nic3.deleted" ] && [ ! -e "/sys/bus/pci/devices/$I1" ]; then
		echo "ok - igb $I1 (nic3) unplugged," \
			"DEVICE_DELETED $(< "$R/unplug.nic3.deleted") s after device_del"
	else
		echo "not ok - igb $I1 (nic3): no DEVICE_DELETED, or still in sysfs"; fail=1
	fi
	;;
bus_hotunplug_testpmd)
	# testpmd --hot-plug over vfiofd ports (net_vfiofd_virtio): port detach/attach, then
	# a kernel hot-unplug of nic1 ($V2) while forwarding; needs the host hook.
	build=$(cd "$(dirname "$T")/../../.." && pwd)
	testpmd_hotplug "$V1" "$V2" nic1 -d "$build/drivers/bus/vfiofd/librte_bus_vfiofd.so" \
		-d "$build/drivers/net/vfiofd_virtio/librte_net_vfiofd_virtio.so"
	;;
stock_pmd_probe_remove_cycles)
	# DPDK's net_e1000_em over vfiofd, its port configured, started (link-status
	# interrupt on) and stopped in every cycle
	run "$T" --no-test-driver cycles --dev="$E1" --count="$CYCLES" --driver=net_e1000_em \
		-- "${EAL[@]}" --no-pci -a vfiofd:
	;;
stock_pmd_refused)
	need_igb
	# what a DPDK PCI driver sees, a failing one, a mistyped bus key, net_virtio refused
	run "$T" --no-test-driver stock --dev="$E1" --virtio="$V1" \
		-- "${EAL[@]}" --no-pci -a vfiofd:
	# allow-listed: the e1000e to net_e1000_em through vfiofd (telemetry says so), the
	# igb to net_e1000_igb on bus/pci
	run "$T" --no-test-driver scan --expect-probed="$E1" --expect-pci-probed="$I1" \
		--expect-log="$E1: probing with DPDK's PCI driver net_e1000_em" --telemetry \
		-- "${EAL[@]}" -a "vfiofd:$E1" -a "$I1"
	# the claim rule: without -a vfiofd:, no device goes to a DPDK PCI driver through
	# vfiofd (no vfiofd driver matches these NICs here): bus/pci drives them all
	run "$T" --no-test-driver scan --expect-probed=none --expect-pci-probed="$V1,$V2,$E1" \
		-- "${EAL[@]}" -a "$V1" -a "$V2" -a "$E1"
	run "$T" --no-test-driver scan --expect-probed=none \
		--expect-pci-probed="$(echo "$VFIOFD_VIRTIO_BDFS $VFIOFD_E1000E_BDFS ${VFIOFD_IGB_BDFS:-}" | xargs | tr ' ' ',')" \
		-- "${EAL[@]}"
	;;
bus_unplug_ignored_request)
	# a BAR load that faults (SIGBUS) is taken by the bus
	run "$T" sigbus --dev="$E1" -- "${EAL[@]}" --no-pci -a vfiofd:
	# DPDK's e1000 drivers: the e1000e forwards with the igb (QMP device nic3), which
	# the kernel unplugs while testpmd, which ignores the removal event, polls it
	need_igb
	build=$(cd "$(dirname "$T")/../../.." && pwd)
	testpmd_unplug_ignored "$E1" "$I1" nic3 -d "$build/drivers/bus/vfiofd/librte_bus_vfiofd.so"
	;;
stock_pmd_hotplug)
	# the same as bus_hotunplug_testpmd with DPDK's e1000 drivers: the e1000e forwards,
	# the igb (QMP device nic3) is detached, attached, then unplugged by the kernel
	read -r I1 _ <<< "${VFIOFD_IGB_BDFS:-}"
	[ -n "${I1:-}" ] || { echo "not ok - no igb bound to vfio-pci in this profile"; exit 1; }
	build=$(cd "$(dirname "$T")/../../.." && pwd)
	testpmd_hotplug "$E1" "$I1" nic3 -d "$build/drivers/bus/vfiofd/librte_bus_vfiofd.so"
	;;
bus_multiprocess)
	# a secondary process on the primary's iommufd and device fd (fds over DPDK IPC)
	run "$T" mp --dev="$E1" --prefix=vfiofdmp
	rm -f /dev/hugepages/vfiofdmp* # no --huge-unlink with secondaries
	;;
bus_mp_remove_race)
	# the primary removes the device while it answers a secondary's request for its
	# fds: the secondary must get the files it asked for, never reused numbers
	run "$T" mp --dev="$E1" --race=8 --prefix=vfiofdmprace
	rm -f /dev/hugepages/vfiofdmprace*
	;;
errno_contracts)
	# the kernel's answers, through the thin uAPI wrappers, then the bus's lines for
	# the same situations
	run "$VFIOFD_ERRNO_CONTRACTS" --dev="$E1"
	run "$T" errno --dev="$E1" -- "${EAL[@]}" --no-pci -a vfiofd:
	;;
fault_user_probe)
	# LD_PRELOAD: the fault injector (fault_preload.c); no -m: the heap grows at run time
	LD_PRELOAD=${VFIOFD_FAULT_PRELOAD:?} \
		run "$T" faults --dev="$E1" -- -l 0 --huge-unlink --log-level=bus.vfiofd:info \
		--no-pci -a vfiofd:
	;;
mem_fault_consistency)
	# the same injector, faults in the memory steps only (each allocation and free twice),
	# the library's records, its cache and the IOAS compared after every step
	LD_PRELOAD=${VFIOFD_FAULT_PRELOAD:?} \
		run "$T" faults --memory --dev="$E1" -- -l 0 --huge-unlink \
		--log-level=bus.vfiofd:info --no-pci -a vfiofd:
	;;
bus_bad_devargs)
	run "$T" hostile --dev="$V1" -- "${EAL[@]}" --no-pci -a vfiofd:
	# on the command line: the EAL refuses bad names, the bus refuses bad options
	for a in "vfiofd:$V1,ioas=public|bad value 'public' for 'ioas'" \
		 "vfiofd:$V1,nosuchkey=1|unknown devargs key 'nosuchkey'" \
		 "vfiofd:$V1,intr=%n%n|forbidden character '%'" \
		 "vfiofd:$V1,ioas=private,ioas=private|duplicate key 'ioas'"; do
		run "$T" scan --expect-probed=none --expect-log="${a#*|}" \
			-- "${EAL[@]}" --no-pci -a "${a%%|*}"
	done
	# the new syntax's bus layer: refused at parse time, so the EAL stops
	run "$T" scan --expect-init-fail \
		--expect-log="$V1: refused: unknown devargs key 'iosa' in the bus layer" \
		-- "${EAL[@]}" --no-pci -a "bus=vfiofd,addr=$V1,iosa=private"
	for a in "vfiofd:$V1.1" "vfiofd:%s%s%s%s" "vfiofd:../../../dev/mem"; do
		run "$T" scan --expect-init-fail --expect-log="is not a vfiofd device" \
			-- "${EAL[@]}" --no-pci -a "$a"
	done
	;;
*)
	echo "unknown test $name"
	exit 2
	;;
esac
exit $fail
