#!/usr/bin/env bash
# Wire two multiqueue tap devices to each other inside a private network namespace, then
# exec a command (QEMU) in it. Run by vm-run.sh for profiles with WIRING=tap-mq:
#   unshare --net -- netns-wire.sh QUEUES TAP0 TAP1 -- COMMAND...
# QEMU's hub netdev has a single queue, so a virtio-net NIC behind it offers no
# VIRTIO_NET_F_MQ; a tap created with IFF_MULTI_QUEUE gives QEMU one fd per queue pair.
# The namespace holds only the two taps and dies with QEMU: no host network is touched.
# The wire is a tc mirred redirect in each direction (every frame, nothing learnt, no
# frame of its own); where the kernel lacks u32/mirred, a bridge with ageing time 0 (it
# never learns, so it behaves as a hub) does the same.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 5 ] && [ "$4" = -- ] || die "usage: netns-wire.sh QUEUES TAP0 TAP1 -- COMMAND..."
queues=$1 t0=$2 t1=$3
shift 4
[ -e /dev/net/tun ] || die "/dev/net/tun missing: the tap wiring needs the tun driver (modprobe tun)"
# A tap with no address still sends IPv6 router solicitations and the like: those would
# reach the guest NICs and upset the packet counts the tests reconcile.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
	die "cannot disable IPv6 in the test bed's network namespace"
for t in "$t0" "$t1"; do
	ip tuntap add dev "$t" mode tap multi_queue ||
		die "cannot create the multiqueue tap $t (needs CAP_NET_ADMIN and /dev/net/tun)"
	ip link set "$t" up
done
wire=mirred
for pair in "$t0 $t1" "$t1 $t0"; do
	read -r from to <<< "$pair"
	if ! { tc qdisc add dev "$from" clsact &&
	       tc filter add dev "$from" ingress protocol all u32 match u32 0 0 \
		       action mirred egress redirect dev "$to"; } 2> /dev/null; then
		wire=bridge
		break
	fi
done
if [ "$wire" = bridge ]; then
	for t in "$t0" "$t1"; do tc qdisc del dev "$t" clsact 2> /dev/null || true; done
	ip link add vfiofd-br type bridge stp_state 0 ageing_time 0 ||
		die "no way to wire $t0 to $t1: neither tc u32+mirred nor a bridge is available"
	ip link set "$t0" master vfiofd-br
	ip link set "$t1" master vfiofd-br
	ip link set vfiofd-br up
fi
log "taps $t0 and $t1 ($queues queues each) wired by $wire in a private network namespace"
exec "$@"
