#!/usr/bin/env bash
# Inside the test bed: run dpdk-testpmd forwarding between two NICs for a fixed time,
# print the packets each port sent and received and the rate testpmd measured, and
# check that the counts reconcile.
#   testpmd-fwd.sh [--nics virtio|stock|igbvf|igbvf-e1000e] [--path pci|vfiofd|installed]
#                  [--seconds N] [--mode io] [--queues N] [--devargs K=V[,K=V]]
#                  [--build DIR] [--min-packets N] [--tag NAME] [--eal 'ARGS']
# --nics: the port pair (port 0, port 1).
#   virtio (default): the two virtio-net NICs (VFIOFD_VIRTIO_BDFS).
#   stock: the e1000e and the igb PF (VFIOFD_E1000E_BDFS, VFIOFD_IGB_BDFS; profiles
#     iommu, cdev-only), for DPDK's stock net_e1000_em and net_e1000_igb.
#   igbvf: the two igb VFs (VFIOFD_IGBVF_BDFS; profile sriov), for net_e1000_igb_vf;
#     the igb switches their traffic internally (none reaches the hub).
#   igbvf-e1000e: the e1000e and the first igb VF (profile sriov): VF traffic over the hub.
#   virtio-e1000e: the first virtio-net NIC and the e1000e (every profile; the only pair
#     for a stock driver in noiommu, which has no igb).
#   A VF receives only what is addressed to its MAC (the igb PF refuses it unicast
#   promiscuous mode), so the first burst (tx_first) of the port facing a VF is sent to
#   the VF's MAC (--eth-peer); io forwarding sends every packet on unchanged, so each
#   keeps going to the port that received it first.
#   Except for virtio, each port's device and driver are printed ("FWD <tag> port<N>
#   dev=<BDF> driver=<name>") and checked: DPDK's drivers on bus/pci and, through
#   vfiofd, the same DPDK drivers (net_vfiofd_virtio for a virtio NIC).
# --path pci: DPDK's own drivers on bus/pci (VFIO group + type1) -- the baseline.
# --path vfiofd: the vfiofd bus (VFIO cdev + iommufd), its plugin loaded from the build
#   tree (--build, default $VFIOFD_BUILD), with net_vfiofd_virtio for the virtio NICs; the
#   stock NICs are for DPDK's own drivers, which the bus must hand them to. bus/pci is
#   disabled (--no-pci) so that DPDK's own PCI path cannot take the same NICs.
#   --devargs are appended to both devices ("-a vfiofd:<BDF>,<devargs>").
# --path installed: as --path vfiofd, with the plugins that `meson install` put in the
#   DPDK's plugin directory (the EAL loads them by itself: no -d).
# --min-packets N: fail unless every port received and sent at least N packets; stop
#   as soon as they have (--seconds is then the limit).
# --tag NAME: the name printed in the FWD lines instead of the path.
# --eal 'ARGS': more EAL arguments (a word list), e.g. --base-virtaddr=...
# --runas UID:HUGEDIR: run testpmd as user UID (and group UID) with no capabilities and
#   no new privileges, on hugetlbfs mount HUGEDIR; the caller grants what it needs (see
#   app/test-vfiofd/bus/vm_unprivileged.sh). Its EAL runtime directory is
#   /run/user/UID.
# Output lines for the host: "FWD <path> port<N> rx=<pkts> tx=<pkts> rx_missed=<n> tx_dropped=<n>"
# and "FWD <path> mpps=<both ports, per second>".
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

path=pci seconds=20 mode=io queues=1 devargs= build=$VFIOFD_BUILD min_packets=0 tag=
runas= eal_extra=
nics=virtio
while [ $# -gt 0 ]; do
	case "$1" in
	--nics) nics=$2; shift 2 ;;
	--path) path=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--queues) queues=$2; shift 2 ;;
	--devargs) devargs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--min-packets) min_packets=$2; shift 2 ;;
	--tag) tag=$2; shift 2 ;;
	--runas) runas=$2; shift 2 ;;
	--eal) eal_extra=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
# The pair: BDFs, the drivers DPDK's bus/pci takes them with (vdrivers: through vfiofd,
# where they differ), extra testpmd options.
peers=() drivers=() vdrivers=()
case "$nics" in
virtio)
	read -r bdf0 bdf1 _ <<< "${VFIOFD_VIRTIO_BDFS:-}"
	[ -n "${bdf1:-}" ] ||
		die "need two virtio-net NICs bound to vfio-pci, have '${VFIOFD_VIRTIO_BDFS:-}'"
	;;
stock)
	read -r bdf0 _ <<< "${VFIOFD_E1000E_BDFS:-}"
	read -r bdf1 _ <<< "${VFIOFD_IGB_BDFS:-}"
	[ -n "${bdf0:-}" ] && [ -n "${bdf1:-}" ] ||
		die "need an e1000e and an igb PF bound to vfio-pci, have e1000e" \
			"'${VFIOFD_E1000E_BDFS:-}' igb '${VFIOFD_IGB_BDFS:-}' (profile" \
			"${VFIOFD_VM_PROFILE:-?}; the igb is on vfio-pci in iommu and cdev-only)"
	drivers=(net_e1000_em net_e1000_igb)
	;;
igbvf)
	read -r bdf0 bdf1 _ <<< "${VFIOFD_IGBVF_BDFS:-}"
	read -r mac0 mac1 _ <<< "${VFIOFD_IGBVF_MACS:-}"
	[ -n "${bdf1:-}" ] && [ -n "${mac1:-}" ] ||
		die "need two igb VFs bound to vfio-pci, have '${VFIOFD_IGBVF_BDFS:-}'" \
			"(the sriov profile has them)"
	drivers=(net_e1000_igb_vf net_e1000_igb_vf)
	peers=(--eth-peer="0,$mac1" --eth-peer="1,$mac0")
	;;
igbvf-e1000e)
	read -r bdf0 _ <<< "${VFIOFD_E1000E_BDFS:-}"
	read -r bdf1 _ <<< "${VFIOFD_IGBVF_BDFS:-}"
	read -r mac1 _ <<< "${VFIOFD_IGBVF_MACS:-}"
	[ -n "${bdf0:-}" ] && [ -n "${bdf1:-}" ] && [ -n "${mac1:-}" ] ||
		die "need an e1000e and an igb VF bound to vfio-pci, have e1000e" \
			"'${VFIOFD_E1000E_BDFS:-}' VFs '${VFIOFD_IGBVF_BDFS:-}'" \
			"(the sriov profile has them)"
	drivers=(net_e1000_em net_e1000_igb_vf)
	# the VF's burst goes to testpmd's default peer address: no igb pool has it, so the
	# igb sends it out to the hub, and the e1000e (promiscuous) takes it
	peers=(--eth-peer="0,$mac1")
	;;
virtio-e1000e)
	# in PCI order, the order in which both buses make ports
	read -r bdf0 _ <<< "${VFIOFD_VIRTIO_BDFS:-}"
	read -r bdf1 _ <<< "${VFIOFD_E1000E_BDFS:-}"
	[ -n "${bdf0:-}" ] && [ -n "${bdf1:-}" ] ||
		die "need a virtio-net NIC and an e1000e bound to vfio-pci"
	drivers=(net_virtio net_e1000_em)
	vdrivers=(net_vfiofd_virtio net_e1000_em)
	;;
*) die "unknown --nics '$nics' (virtio, stock, igbvf, igbvf-e1000e, virtio-e1000e)" ;;
esac
[ ${#vdrivers[@]} -gt 0 ] || vdrivers=("${drivers[@]}")
libdir=$(dirname "$(find "$DPDK_PREFIX" -name librte_eal.so -print -quit)")
export LD_LIBRARY_PATH=$libdir
case "$path" in
pci) allow=(-a "$bdf0" -a "$bdf1") ;;
vfiofd)
	bus_so=$build/drivers/bus/vfiofd/librte_bus_vfiofd.so
	plugins=(-d "$bus_so")
	if [ "$nics" = virtio ] || [ "$nics" = virtio-e1000e ]; then
		pmd_so=$build/drivers/net/vfiofd_virtio/librte_net_vfiofd_virtio.so
		plugins+=(-d "$pmd_so")
	fi
	for so in "$bus_so" ${pmd_so:+"$pmd_so"}; do
		[ -f "$so" ] || die "no vfiofd plugin $so (make build)"
	done
	allow=(--no-pci "${plugins[@]}"
		-a "vfiofd:$bdf0${devargs:+,$devargs}" -a "vfiofd:$bdf1${devargs:+,$devargs}")
	;;
installed)
	# the plugins as `meson install` put them: the EAL loads them from its own plugin
	# directory, no -d
	allow=(--no-pci -a "vfiofd:$bdf0${devargs:+,$devargs}"
		-a "vfiofd:$bdf1${devargs:+,$devargs}")
	;;
*) die "unknown path '$path'" ;;
esac
tag=${tag:-$path}
# A device spreads received packets over its queues by flow (QEMU's multiqueue tap: by
# flow hash): with more than one queue, the first burst carries many flows.
multi_flow=()
[ "$queues" -gt 1 ] && multi_flow=(--txonly-multi-flow)

out=/tmp/testpmd-$tag.log
: > "$out"
wrap=() user_eal=()
if [ -n "$runas" ]; then
	uid=${runas%%:*}
	wrap=(env XDG_RUNTIME_DIR="/run/user/$uid" setpriv --reuid="$uid" --regid="$uid"
		--clear-groups --inh-caps=-all --no-new-privs)
	user_eal=(--huge-dir "${runas#*:}")
fi
# The lowest RX and TX packet counts over both ports in the newest "show port stats"
# output of the log (0 until both ports have been shown).
low_count() {
	awk '/NIC statistics for port/ { p = $6 }
		/RX-packets:/ && p != "" { rx[p] = $2 }
		/TX-packets:/ && p != "" { tx[p] = $2; p = "" }
		END {
			if (!(0 in rx) || !(1 in rx)) { print 0; exit }
			m = rx[0]; if (rx[1] < m) m = rx[1]; if (tx[0] < m) m = tx[0]; if (tx[1] < m) m = tx[1]
			print m + 0
		}' "$out"
}
# Interactive mode driven from a pipe; "stop" prints the forward statistics. Without
# --min-packets: forward for exactly --seconds between two "show port stats", whose
# second block gives testpmd's packets-per-second over that interval. With it:
# --seconds is the limit, and forwarding stops as soon as both ports have sent and
# received the minimum (checked every second; 2% over it, as the forward statistics that
# decide start a little after the ports' own counters); the rate is then the last
# interval's. stdout is line-buffered so that the log is current while it runs.
{
	# which driver took which port (not for the virtio pair: its output stays as it was)
	[ "$nics" = virtio ] || echo "show port summary all"
	echo "start tx_first"
	sleep 1
	echo "show port stats all"
	if [ "$min_packets" -gt 0 ]; then
		waited=0
		while [ "$waited" -lt "$seconds" ]; do
			sleep 1
			waited=$((waited + 1))
			echo "show port stats all"
			sleep 0.2
			[ "$(low_count)" -ge $((min_packets + min_packets / 50)) ] && break
		done
	else
		sleep "$seconds"
		echo "show port stats all"
	fi
	echo "stop"
	sleep 1
	echo "quit"
} | timeout -k 5 $((seconds + 60)) "${wrap[@]}" stdbuf -oL "$DPDK_PREFIX/bin/dpdk-testpmd" \
	-l 0-1 -n 1 --file-prefix "fwd-$tag" --log-level=lib.eal:notice "${user_eal[@]}" \
	$eal_extra "${allow[@]}" -- -i \
	--forward-mode="$mode" --rxq="$queues" --txq="$queues" --total-num-mbufs=16384 \
	"${multi_flow[@]}" "${peers[@]}" \
	> "$out" 2>&1 || { tail -n 40 "$out"; die "dpdk-testpmd ($tag) failed"; }
grep -E '^EAL|^VFIO|Port [0-9]+:|Link|vfiofd' "$out" | head -n 20 || true

# The ports of "show port summary all" ("<id> <MAC> <name> <driver> <status> <link>"):
# port N must be the N-th NIC of the pair (the peers and the reconciliation assume it),
# taken by the driver expected on that path.
if [ "$nics" != virtio ]; then
	bdfs=("$bdf0" "$bdf1") seen=0
	# (no process substitution: the guest has no /dev/fd)
	summary=$(grep -E '^[01] +([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2} ' "$out" | head -n 2) || true
	while read -r port macaddr name driver _; do
		[ -n "$port" ] || continue
		echo "FWD $tag port$port dev=$name driver=$driver mac=$macaddr"
		[[ $name == *"${bdfs[port]}"* ]] ||
			die "testpmd port $port is $name, expected ${bdfs[port]}"
		if [ "$path" = pci ]; then
			[ "$driver" = "${drivers[port]}" ] ||
				die "bus/pci took $name with $driver, expected ${drivers[port]}"
		else
			[ "$driver" = "${vdrivers[port]}" ] ||
				die "vfiofd gave $name to $driver, expected ${vdrivers[port]}"
		fi
		seen=$((seen + 1))
	done <<< "$summary"
	[ "$seen" = 2 ] ||
		{ tail -n 40 "$out"; die "no port summary of 2 ports in the testpmd output"; }
fi

# The last "show port stats" block per port holds the pps over the last interval.
# With more than one queue, testpmd also prints one block per stream (rx port/queue ->
# tx port/queue): every rx queue of every port must have carried packets.
awk -v path="$tag" -v seconds="$seconds" -v minp="$min_packets" -v queues="$queues" '
	/NIC statistics for port/ { port = $6 }
	/Forward Stats for RX Port=/ {
		s = $0; gsub(/[=\/]/, " ", s); split(s, w, " +")
		for (i = 1; i in w; i++) {
			if (w[i] == "RX" && w[i + 1] == "Port") { sport = w[i + 2]; squeue = w[i + 4] }
		}
		stream = 1
	}
	stream && /RX-packets:/ { qrx[sport, squeue] = $2; stream = 0 }
	/Rx-pps:/ { rxpps[port] = $2 }
	/Forward statistics for port/ { fport = $6; fwd = 1 }
	fwd && /RX-packets:/ { rx[fport] = $2; rxdrop[fport] = $4 }
	fwd && /TX-packets:/ { tx[fport] = $2; txdrop[fport] = $4; fwd = 0 }
	END {
		bad = 0
		for (p = 0; p < 2; p++) {
			printf "FWD %s port%d rx=%d tx=%d rx_missed=%d tx_dropped=%d rx_pps=%d\n",
				path, p, rx[p], tx[p], rxdrop[p], txdrop[p], rxpps[p]
			if (rx[p] == 0 || tx[p] == 0) bad = 1
			if (rx[p] < minp || tx[p] < minp) {
				printf "FWD %s port%d forwarded fewer than %d packets\n", path, p, minp
				bad = 1
			}
		}
		# What port 0 sent, port 1 received (or reported missing), and vice versa.
		# Packets still in a ring when forwarding stops are neither: allow one ring.
		for (p = 0; p < 2; p++) {
			q = 1 - p
			diff = tx[p] - rx[q] - rxdrop[q]
			if (diff < 0) diff = -diff
			printf "FWD %s reconcile port%d->port%d sent=%d received=%d missed=%d unaccounted=%d\n",
				path, p, q, tx[p], rx[q], rxdrop[q], diff
			if (diff > 1024) bad = 1
		}
		if (queues > 1) {
			for (p = 0; p < 2; p++) {
				for (q = 0; q < queues; q++) {
					printf "FWD %s port%d queue%d rx=%d\n", path, p, q, qrx[p, q]
					if (qrx[p, q] == 0) {
						printf "FWD %s port%d queue%d received nothing\n", path, p, q
						bad = 1
					}
				}
			}
		}
		printf "FWD %s mpps=%.4f\n", path, (rxpps[0] + rxpps[1]) / 1e6
		exit bad
	}' "$out" || { echo "---- testpmd output ----"; cat "$out"; die "forwarding over $path did not reconcile"; }
