/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vfiofd_virtio in the test bed, through the ethdev API only (what an application
 * sees). The two virtio-net NICs of the test bed are wired to each other through the
 * QEMU hub: what port 0 sends, port 1 receives.
 *
 * Usage: test-vfiofd-pmd <EAL args> -- <test>
 *   basic   identity, link, traffic with content checks, stats and xstats, and the
 *           receive filter through the control queue (promiscuous, all-multicast,
 *           extra unicast and multicast addresses, MAC change)
 *   cycles  stop/start/reconfigure cycles and a hot-unplug/replug: no mbuf, memzone
 *           or port left behind
 *   jumbo   MTU 9000: multi-segment transmit (indirect descriptors), multi-buffer
 *           receive (MRG_RXBUF negotiated on demand), non-pushable packets
 *   jumbo_refused  (with mrg_rxbuf=off) MTU 9000 must not start, 1500 must
 *   rxintr  receive interrupts: epoll wakes on traffic, sleeps without
 *   lsc     link-status interrupts: the host hook turns port 0's link off and on
 *           (QMP set_link); handshake through files in /run/results
 *   mq      two queue pairs (needs the iommu-mq test bed, whose NICs offer
 *           VIRTIO_NET_F_MQ): many flows sent on both tx queues arrive, once each,
 *           spread over both rx queues; back to one pair, everything lands on queue 0
 * The EAL arguments name the ports (-a vfiofd:<BDF>) and load the plugins (-d).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_udp.h>

#include "tap.h"
#include "test_compat.h"

#define NB_MBUF 4096
#define ETHER_TYPE_TEST 0x88b5   /* IEEE 802 local experimental */
#define MAGIC 0x7646696f         /* "vFio" */

static struct tap T;
static struct rte_mempool *pool;
static uint16_t port0, port1;

struct test_payload {
	uint32_t magic;
	uint32_t seq;
	uint32_t len;
	uint8_t fill;
} __attribute__((packed)); /* on the wire: 13 bytes */

struct port_conf {
	uint16_t nb_queues;
	uint16_t nb_desc;
	uint16_t mtu;
	uint64_t rx_offloads;
	uint64_t tx_offloads;
	bool lsc;
	bool rxq_intr;
};

static const struct port_conf default_conf = { .nb_queues = 1 };

static int
port_start(uint16_t port, const struct port_conf *pc)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxc;
	struct rte_eth_txconf txc;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.offloads = pc->rx_offloads;
	conf.txmode.offloads = pc->tx_offloads;
	conf.intr_conf.lsc = pc->lsc;
	conf.intr_conf.rxq = pc->rxq_intr;
	if (pc->mtu != 0)
		conf.rxmode.mtu = pc->mtu;
	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	ret = rte_eth_dev_configure(port, pc->nb_queues, pc->nb_queues, &conf);
	if (ret != 0)
		return ret;
	rxc = info.default_rxconf;
	rxc.offloads = pc->rx_offloads;
	txc = info.default_txconf;
	txc.offloads = pc->tx_offloads;
	for (uint16_t q = 0; q < pc->nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, pc->nb_desc, rte_socket_id(), &rxc, pool);
		if (ret != 0)
			return ret;
		ret = rte_eth_tx_queue_setup(port, q, pc->nb_desc, rte_socket_id(), &txc);
		if (ret != 0)
			return ret;
	}
	return rte_eth_dev_start(port);
}

static void
port_stop(uint16_t port)
{
	rte_eth_dev_stop(port);
}

static bool
wait_link(uint16_t port, int status, unsigned int ms)
{
	struct rte_eth_link link;

	for (unsigned int i = 0; i <= ms / 10; i++) {
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == status)
			return true;
		rte_delay_ms(10);
	}
	return false;
}

/* A test packet of @len bytes (>= 60) to @dst, in one segment or @nseg segments. */
static struct rte_mbuf *
make_pkt(uint16_t src_port, const struct rte_ether_addr *dst, uint32_t seq, uint32_t len,
	 unsigned int nseg)
{
	struct rte_mbuf *head = NULL, *prev = NULL;
	struct rte_ether_hdr eh;
	struct test_payload pl;
	uint8_t buf[9216];
	uint32_t off = 0;

	if (len > sizeof(buf) || len < sizeof(eh) + sizeof(pl))
		return NULL;
	rte_eth_macaddr_get(src_port, &eh.src_addr);
	eh.dst_addr = *dst;
	eh.ether_type = rte_cpu_to_be_16(ETHER_TYPE_TEST);
	pl.magic = MAGIC;
	pl.seq = seq;
	pl.len = len;
	pl.fill = (uint8_t)seq;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &pl, sizeof(pl));
	for (uint32_t i = sizeof(eh) + sizeof(pl); i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	for (unsigned int s = 0; s < nseg; s++) {
		uint32_t chunk = s + 1 == nseg ? len - off : len / nseg;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		if (m == NULL || chunk > rte_pktmbuf_tailroom(m)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(m, chunk), buf + off, chunk);
		off += chunk;
		if (head == NULL) {
			head = m;
		} else {
			prev->next = m;
			head->nb_segs++;
			head->pkt_len += chunk;
		}
		prev = m;
	}
	return head;
}

/* Check a received packet; returns its sequence number, or -1 if it is not ours/bad. */
static int64_t
check_pkt(struct rte_mbuf *m, bool *content_ok)
{
	uint8_t buf[9216];
	const uint8_t *p;
	struct test_payload pl;
	struct rte_ether_hdr eh;

	if (m->pkt_len > sizeof(buf) || m->pkt_len < sizeof(eh) + sizeof(pl))
		return -1;
	p = rte_pktmbuf_read(m, 0, m->pkt_len, buf);
	memcpy(&eh, p, sizeof(eh));
	if (eh.ether_type != rte_cpu_to_be_16(ETHER_TYPE_TEST))
		return -1;
	memcpy(&pl, p + sizeof(eh), sizeof(pl));
	if (pl.magic != MAGIC)
		return -1;
	*content_ok = pl.len == m->pkt_len && pl.fill == (uint8_t)pl.seq;
	for (uint32_t i = sizeof(eh) + sizeof(pl); *content_ok && i < m->pkt_len; i++)
		if (p[i] != (uint8_t)(pl.seq + i))
			*content_ok = false;
	return pl.seq;
}

struct xfer {
	unsigned int sent;
	unsigned int received;
	unsigned int bad;          /* content or order errors */
	unsigned int multi_seg;    /* received packets of more than one segment */
};

static void
account(struct xfer *x, const struct rte_mbuf *m, int64_t seq, bool ok, uint32_t *expect)
{
	x->received++;
	if (!ok || (uint32_t)seq != *expect) {
		if (x->bad++ < 5)
			tap_diag("bad packet: seq %" PRId64 " (expected %u), %u bytes in %u "
				 "segment(s), content %s", seq, *expect, m->pkt_len, m->nb_segs,
				 ok ? "ok" : "corrupt");
	}
	*expect = (uint32_t)seq + 1;
	x->multi_seg += m->nb_segs > 1;
}

#define BURST 32

/*
 * Make up to @k (at most BURST) packets of @len bytes (in @nseg segments) to @dst,
 * numbered from @seq, and send them from @tx in one burst. Returns how many the device
 * took (the rest are freed); *@made says how many could be made.
 */
static unsigned int
send_burst(uint16_t tx, const struct rte_ether_addr *dst, uint32_t seq, unsigned int k,
	   uint32_t len, unsigned int nseg, unsigned int *made)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int m = 0, s;

	for (k = RTE_MIN(k, (unsigned int)BURST); m < k; m++) {
		pkts[m] = make_pkt(tx, dst, seq + m, len, nseg);
		if (pkts[m] == NULL)
			break;
	}
	s = rte_eth_tx_burst(tx, 0, pkts, (uint16_t)m);
	for (unsigned int i = s; i < m; i++)
		rte_pktmbuf_free(pkts[i]);
	*made = m;
	return s;
}

/*
 * Send @n packets of @len bytes (in @nseg segments) from @tx to @rx addressed to @dst,
 * then collect what arrives at @rx for up to @wait_ms (less if all arrived).
 */
static struct xfer
transfer(uint16_t tx, uint16_t rx, const struct rte_ether_addr *dst, unsigned int n,
	 uint32_t len, unsigned int nseg, unsigned int wait_ms)
{
	static uint32_t seq_base = 1;
	struct xfer x = { 0 };
	struct rte_mbuf *pkts[32];
	uint64_t deadline;
	uint32_t base = seq_base, expect = base;

	seq_base += n + 1000;
	while (x.sent < n) {
		unsigned int made;

		x.sent += send_burst(tx, dst, base + x.sent, n - x.sent, len, nseg, &made);
		if (made == 0)
			break;
		/*
		 * One burst in flight at a time: when a receive ring runs dry QEMU queues
		 * the packet, and its hub then delivers the sender's next packets before
		 * the queued one (a reordering inside QEMU, whatever the driver).
		 */
		for (uint64_t until = rte_get_timer_cycles() + rte_get_timer_hz() / 2;
		     x.received < x.sent &&
		     rte_get_timer_cycles() < until; ) {
			uint16_t got = rte_eth_rx_burst(rx, 0, pkts, RTE_DIM(pkts));

			for (uint16_t i = 0; i < got; i++) {
				bool ok = false;
				int64_t seq = check_pkt(pkts[i], &ok);

				if (seq >= 0)
					account(&x, pkts[i], seq, ok, &expect);
				rte_pktmbuf_free(pkts[i]);
			}
		}
	}
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * wait_ms / 1000;
	while (x.received < x.sent && rte_get_timer_cycles() < deadline) {
		uint16_t got = rte_eth_rx_burst(rx, 0, pkts, RTE_DIM(pkts));

		for (uint16_t i = 0; i < got; i++) {
			bool ok = false;
			int64_t seq = check_pkt(pkts[i], &ok);

			if (seq >= 0)
				account(&x, pkts[i], seq, ok, &expect);
			rte_pktmbuf_free(pkts[i]);
		}
		if (got == 0)
			rte_delay_us_sleep(200);
	}
	if (x.received < x.sent)
		/* late packets must not leak into the next check */
		for (int i = 0; i < 20; i++) {
			uint16_t got = rte_eth_rx_burst(rx, 0, pkts, RTE_DIM(pkts));

			rte_pktmbuf_free_bulk(pkts, got);
			rte_delay_ms(5);
		}
	return x;
}

/*
 * Send @n packets of 64 bytes from @tx to @dst, which @rx's receive filter must drop,
 * then one marker packet to @rx's own address. The hub and the receive ring keep the
 * order, so once the marker is in, any of the @n that got through has arrived before
 * it: no fixed wait for what must not come. A marker that does not arrive within
 * 2 s counts as bad.
 */
static struct xfer
transfer_filtered(uint16_t tx, uint16_t rx, const struct rte_ether_addr *dst, unsigned int n)
{
	static uint32_t seq_base = UINT32_C(1) << 30;
	struct xfer x = { 0 };
	struct rte_ether_addr own;
	struct rte_mbuf *pkts[32];
	uint32_t base = seq_base, marker = base + n;
	unsigned int made;
	bool marker_in = false;
	uint64_t deadline;

	seq_base += n + 1000;
	if (rte_eth_macaddr_get(rx, &own) != 0) {
		x.bad = 1;
		return x;
	}
	while (x.sent < n) {
		unsigned int made, s = send_burst(tx, dst, base + x.sent, n - x.sent, 64, 1, &made);

		x.sent += s;
		if (s == 0)
			break;
	}
	if (send_burst(tx, &own, marker, 1, 64, 1, &made) != 1)
		x.bad++;
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * 2;
	while (!marker_in && rte_get_timer_cycles() < deadline) {
		uint16_t got = rte_eth_rx_burst(rx, 0, pkts, RTE_DIM(pkts));

		for (uint16_t i = 0; i < got; i++) {
			bool ok = false;
			int64_t seq = check_pkt(pkts[i], &ok);

			if (seq == (int64_t)marker)
				marker_in = true;
			else if (seq >= (int64_t)base && seq < (int64_t)marker)
				x.received++;
			rte_pktmbuf_free(pkts[i]);
		}
		if (got == 0)
			rte_delay_us_sleep(200);
	}
	if (!marker_in) {
		tap_diag("the marker to port %u's own address did not arrive", rx);
		x.bad++;
	}
	return x;
}

static bool
received_all(const char *what, struct xfer x)
{
	return tap_check(&T, x.sent > 0 && x.received == x.sent && x.bad == 0,
			 "%s: sent %u, received %u, bad %u", what, x.sent, x.received, x.bad);
}

static bool
received_none(const char *what, struct xfer x)
{
	return tap_check(&T, x.sent > 0 && x.received == 0 && x.bad == 0, "%s: sent %u, "
			 "received %u (filtered; a later packet to the port's own address "
			 "arrived: %s)", what, x.sent, x.received, x.bad == 0 ? "yes" : "no");
}

static uint64_t
xstat(uint16_t port, const char *name)
{
	uint64_t id, v = UINT64_MAX;

	if (rte_eth_xstats_get_id_by_name(port, name, &id) == 0)
		rte_eth_xstats_get_by_id(port, &id, &v, 1);
	return v;
}

static void
count_driver_mz(const struct rte_memzone *mz, void *arg)
{
	/* the driver names its rings vv<port>_{rxq,txq,ctrl}<n> */
	if (strncmp(mz->name, "vv", 2) == 0)
		(*(unsigned int *)arg)++;
}

static unsigned int
driver_memzones(void)
{
	unsigned int n = 0;

	rte_memzone_walk(count_driver_mz, &n);
	return n;
}

/* --- basic --- */

static void
test_basic(void)
{
	static const struct rte_ether_addr foreign = {{ 0x02, 0, 0, 0, 0, 0x99 }};
	static const struct rte_ether_addr extra_uc = {{ 0x02, 0, 0, 0, 0, 0x42 }};
	static const struct rte_ether_addr new_mac = {{ 0x02, 0, 0, 0, 0, 0x77 }};
	static const struct rte_ether_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
	struct rte_ether_addr mc1 = {{ 0x01, 0x00, 0x5e, 0, 0, 0x01 }};
	struct rte_ether_addr mc2 = {{ 0x01, 0x00, 0x5e, 0, 0, 0x02 }};
	struct rte_ether_addr mac0, mac1, orig1;
	struct rte_eth_dev_info info;
	struct rte_eth_stats st0, st1;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct xfer x;
	int n, ret;

	if (!tap_check(&T, rte_eth_dev_info_get(port0, &info) == 0, "port %u info", port0))
		return;
	tap_check(&T, strcmp(info.driver_name, "net_vfiofd_virtio") == 0,
		  "port %u driven by %s", port0, info.driver_name);
	rte_eth_dev_get_name_by_port(port0, name);
	tap_check(&T, strcmp(name, rte_dev_name(info.device)) == 0 && strlen(name) == 12,
		  "port %u is named by its PCI address: %s", port0, name);
	tap_check(&T, info.max_rx_queues >= 1 && info.rx_desc_lim.nb_max >= 64 &&
		  rte_is_power_of_2(info.rx_desc_lim.nb_max),
		  "dev_info: %u queue pairs, %u rx descriptors max", info.max_rx_queues,
		  info.rx_desc_lim.nb_max);
	rte_eth_macaddr_get(port0, &mac0);
	rte_eth_macaddr_get(port1, &mac1);
	orig1 = mac1;
	/* the test bed gives its NICs 52:54:00:12:34:56, :57, ... */
	tap_check(&T, mac0.addr_bytes[0] == 0x52 && mac0.addr_bytes[1] == 0x54 &&
		  !rte_is_same_ether_addr(&mac0, &mac1),
		  "MAC addresses from the device: " RTE_ETHER_ADDR_PRT_FMT " and "
		  RTE_ETHER_ADDR_PRT_FMT, RTE_ETHER_ADDR_BYTES(&mac0), RTE_ETHER_ADDR_BYTES(&mac1));
	ret = rte_eth_link_get_nowait(port0, &link);
	tap_check(&T, ret == 0 && link.link_status == RTE_ETH_LINK_DOWN,
		  "link down before start (%d)", ret);

	ret = port_start(port0, &default_conf);
	tap_check(&T, ret == 0, "port %u started (%d)", port0, ret);
	ret = port_start(port1, &default_conf);
	tap_check(&T, ret == 0, "port %u started (%d)", port1, ret);
	tap_check(&T, wait_link(port0, RTE_ETH_LINK_UP, 2000) &&
		  wait_link(port1, RTE_ETH_LINK_UP, 2000), "links up after start");
	rte_eth_stats_reset(port0);
	rte_eth_stats_reset(port1);

	x = transfer(port0, port1, &mac1, 1000, 60, 1, 2000);
	received_all("1000 x 60 bytes to port 1's MAC", x);
	x = transfer(port0, port1, &mac1, 200, 1514, 1, 2000);
	received_all("200 x 1514 bytes", x);
	x = transfer(port1, port0, &mac0, 300, 128, 1, 2000);
	received_all("300 x 128 bytes, the other way", x);

	rte_eth_stats_get(port0, &st0);
	rte_eth_stats_get(port1, &st1);
	tap_check(&T, st0.opackets == 1200 && st1.ipackets == 1200 && st1.opackets == 300 &&
		  st0.ipackets == 300, "stats: port0 tx %" PRIu64 " rx %" PRIu64 ", port1 tx %"
		  PRIu64 " rx %" PRIu64, st0.opackets, st0.ipackets, st1.opackets, st1.ipackets);
	tap_check(&T, st0.obytes == 1000 * 60 + 200 * 1514 && st1.ibytes == st0.obytes,
		  "stats: bytes port0 tx %" PRIu64 ", port1 rx %" PRIu64, st0.obytes, st1.ibytes);
#if TEST_ETH_STATS_HAVE_QUEUES
	tap_check(&T, st0.q_opackets[0] == st0.opackets && st1.q_ipackets[0] == st1.ipackets,
		  "per-queue stats");
#endif
	tap_check(&T, st0.ierrors == 0 && st1.ierrors == 0 && st0.oerrors == 0 &&
		  st1.rx_nombuf == 0, "no errors");

	n = rte_eth_xstats_get_names(port1, NULL, 0);
	tap_check(&T, n > 0, "%d xstats", n);
	tap_check(&T, xstat(port1, "rx_q0_packets") == st1.ipackets &&
		  xstat(port1, "rx_q0_bytes") == st1.ibytes &&
		  xstat(port0, "tx_q0_packets") == st0.opackets,
		  "xstats rx_q0_packets %" PRIu64 ", tx_q0_packets %" PRIu64,
		  xstat(port1, "rx_q0_packets"), xstat(port0, "tx_q0_packets"));
	tap_check(&T, xstat(port0, "tx_q0_kicks") > 0 &&
		  xstat(port0, "tx_q0_kicks") <= st0.opackets,
		  "xstats tx_q0_kicks %" PRIu64 " for %" PRIu64 " packets",
		  xstat(port0, "tx_q0_kicks"), st0.opackets);
	tap_check(&T, xstat(port1, "ctrl_commands") != UINT64_MAX &&
		  xstat(port1, "lsc_interrupts") != UINT64_MAX, "port-level xstats present");
	/* an honest device: no lie seen on either ring */
	tap_check(&T, xstat(port1, "rx_q0_ring_faults") == 0 &&
		  xstat(port0, "tx_q0_ring_faults") == 0 && xstat(port0, "tx_q0_errors") == 0,
		  "xstats rx_q0_ring_faults %" PRIu64 ", tx_q0_ring_faults %" PRIu64
		  ", tx_q0_errors %" PRIu64, xstat(port1, "rx_q0_ring_faults"),
		  xstat(port0, "tx_q0_ring_faults"), xstat(port0, "tx_q0_errors"));
	rte_eth_stats_reset(port1);
	rte_eth_stats_get(port1, &st1);
	tap_check(&T, st1.ipackets == 0 && xstat(port1, "rx_q0_packets") == 0,
		  "stats reset");

	/* receive filter, through the control queue */
	tap_check(&T, rte_eth_promiscuous_disable(port1) == 0 &&
		  rte_eth_promiscuous_get(port1) == 0, "promiscuous off");
	tap_check(&T, rte_eth_allmulticast_disable(port1) == 0, "all-multicast off");
	received_none("foreign unicast, not promiscuous",
		      transfer_filtered(port0, port1, &foreign, 50));
	received_all("own unicast, not promiscuous",
		     transfer(port0, port1, &mac1, 50, 64, 1, 2000));
	received_all("broadcast", transfer(port0, port1, &bcast, 50, 64, 1, 2000));
	received_none("multicast, not all-multicast",
		      transfer_filtered(port0, port1, &mc1, 50));
	tap_check(&T, rte_eth_allmulticast_enable(port1) == 0, "all-multicast on");
	received_all("multicast, all-multicast", transfer(port0, port1, &mc1, 50, 64, 1, 2000));
	rte_eth_allmulticast_disable(port1);
	tap_check(&T, rte_eth_dev_set_mc_addr_list(port1, &mc2, 1) == 0,
		  "multicast list {" RTE_ETHER_ADDR_PRT_FMT "}", RTE_ETHER_ADDR_BYTES(&mc2));
	received_all("listed multicast", transfer(port0, port1, &mc2, 50, 64, 1, 2000));
	received_none("unlisted multicast",
		      transfer_filtered(port0, port1, &mc1, 50));
	rte_eth_dev_set_mc_addr_list(port1, NULL, 0);
	received_none("multicast list cleared",
		      transfer_filtered(port0, port1, &mc2, 50));
	tap_check(&T, rte_eth_dev_mac_addr_add(port1, (struct rte_ether_addr *)&extra_uc, 0)
		  == 0, "extra unicast address added");
	received_all("extra unicast address", transfer(port0, port1, &extra_uc, 50, 64, 1, 2000));
	rte_eth_dev_mac_addr_remove(port1, (struct rte_ether_addr *)&extra_uc);
	received_none("extra unicast address removed",
		      transfer_filtered(port0, port1, &extra_uc, 50));
	tap_check(&T, rte_eth_dev_default_mac_addr_set(port1, (struct rte_ether_addr *)&new_mac)
		  == 0, "MAC address changed");
	received_all("new MAC", transfer(port0, port1, &new_mac, 50, 64, 1, 2000));
	received_none("old MAC after the change",
		      transfer_filtered(port0, port1, &mac1, 50));
	/* a restart resets the device: the address must be set again by the driver */
	port_stop(port1);
	tap_check(&T, rte_eth_dev_start(port1) == 0, "port 1 restarted");
	wait_link(port1, RTE_ETH_LINK_UP, 2000);
	received_all("new MAC after a restart", transfer(port0, port1, &new_mac, 50, 64, 1, 2000));
	received_none("not promiscuous after a restart",
		      transfer_filtered(port0, port1, &foreign, 50));
	tap_check(&T, rte_eth_promiscuous_enable(port1) == 0, "promiscuous on");
	received_all("foreign unicast, promiscuous",
		     transfer(port0, port1, &foreign, 50, 64, 1, 2000));
	rte_eth_dev_default_mac_addr_set(port1, &orig1);
	tap_check(&T, xstat(port1, "ctrl_errors") == 0, "no control-queue errors (%" PRIu64
		  " commands)", xstat(port1, "ctrl_commands"));
	port_stop(port0);
	port_stop(port1);
	ret = rte_eth_link_get_nowait(port1, &link);
	tap_check(&T, ret == 0 && link.link_status == RTE_ETH_LINK_DOWN,
		  "link down after stop (%d)", ret);
}

/* --- cycles --- */

static void
test_cycles(void)
{
	unsigned int bad = 0, leaked = 0;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac1;
	char name1[RTE_ETH_NAME_MAX_LEN], devargs[RTE_ETH_NAME_MAX_LEN + 16];
	uint16_t p;
	int ret;

	rte_eth_macaddr_get(port1, &mac1);
	for (unsigned int i = 0; i < 20; i++) {
		struct port_conf pc = default_conf;
		struct xfer x;

		pc.nb_desc = (uint16_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? 64 : 128);
		if (port_start(port0, &pc) != 0 || port_start(port1, &pc) != 0) {
			bad++;
			break;
		}
		wait_link(port1, RTE_ETH_LINK_UP, 2000);
		x = transfer(port0, port1, &mac1, 300, 64, 1, 2000);
		if (x.received != x.sent || x.bad != 0) {
			tap_diag("cycle %u (%u descriptors): sent %u, received %u, bad %u; "
				 "rx kicks %" PRIu64 ", tx kicks %" PRIu64, i, pc.nb_desc, x.sent,
				 x.received, x.bad, xstat(port1, "rx_q0_kicks"),
				 xstat(port0, "tx_q0_kicks"));
			bad++;
		}
		port_stop(port0);
		port_stop(port1);
		/* every mbuf is back in the pool once both ports are stopped */
		leaked += rte_mempool_in_use_count(pool) != 0;
	}
	tap_check(&T, bad == 0, "20 start/traffic/stop cycles with ring sizes 256/64/128");
	tap_check(&T, leaked == 0, "no mbuf held after stop (in use now: %u)",
		  rte_mempool_in_use_count(pool));
	tap_check(&T, driver_memzones() == 6, "rings: %u memzones (2 ports x rx, tx, ctrl)",
		  driver_memzones());

	/* remove the second device (closes the port) and probe it again */
	rte_eth_dev_get_name_by_port(port1, name1);
	if (!tap_check(&T, rte_eth_dev_info_get(port1, &info) == 0, "port %u info", port1))
		return;
	ret = rte_dev_remove(info.device);
	tap_check(&T, ret == 0, "rte_dev_remove(%s): %d", name1, ret);
	tap_check(&T, !rte_eth_dev_is_valid_port(port1) && driver_memzones() == 3,
		  "port %u gone with its rings (%u memzones left)", port1, driver_memzones());
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", name1);
	ret = rte_dev_probe(devargs);
	tap_check(&T, ret == 0, "rte_dev_probe(%s): %d", devargs, ret);
	ret = rte_eth_dev_get_port_by_name(name1, &p);
	tap_check(&T, ret == 0, "port for %s again: %u", name1, p);
	if (ret == 0) {
		struct xfer x;

		port1 = p;
		tap_check(&T, port_start(port0, &default_conf) == 0 &&
			  port_start(port1, &default_conf) == 0, "both started after replug");
		wait_link(port1, RTE_ETH_LINK_UP, 2000);
		x = transfer(port0, port1, &mac1, 300, 64, 1, 2000);
		received_all("traffic after replug", x);
		port_stop(port0);
		port_stop(port1);
	}
	/* closing both ports gives back every memzone the driver reserved */
	rte_eth_dev_close(port0);
	rte_eth_dev_close(port1);
	tap_check(&T, driver_memzones() == 0, "no ring memzone after close (%u)",
		  driver_memzones());
	tap_check(&T, rte_mempool_in_use_count(pool) == 0, "no mbuf held after close");
}

/* --- jumbo / multi-segment --- */

static void
test_jumbo(void)
{
	struct port_conf pc = default_conf;
	struct rte_ether_addr mac1;
	struct rte_eth_dev_info info;
	struct xfer x;
	int ret;

	if (!tap_check(&T, rte_eth_dev_info_get(port0, &info) == 0, "port %u info", port0))
		return;
	rte_eth_macaddr_get(port1, &mac1);
	if (!tap_check(&T, (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) &&
		       (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS),
		       "scatter rx and multi-segment tx offered"))
		return;
	pc.mtu = 9000;
	pc.rx_offloads = RTE_ETH_RX_OFFLOAD_SCATTER;
	pc.tx_offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	ret = port_start(port0, &pc);
	tap_check(&T, ret == 0, "port %u started with MTU 9000 (%d)", port0, ret);
	ret = port_start(port1, &pc);
	tap_check(&T, ret == 0, "port %u started with MTU 9000 (%d)", port1, ret);
	wait_link(port1, RTE_ETH_LINK_UP, 2000);

	x = transfer(port0, port1, &mac1, 100, 60, 1, 2000);
	received_all("small packets with MRG_RXBUF", x);
	x = transfer(port0, port1, &mac1, 100, 1514, 3, 2000);
	received_all("1514 bytes in 3 segments", x);
	tap_check(&T, x.multi_seg == 0, "... received in one buffer each");
	x = transfer(port0, port1, &mac1, 100, 9014, 5, 3000);
	received_all("9014 bytes in 5 segments", x);
	tap_check(&T, x.multi_seg == x.received, "... received as chains (%u)", x.multi_seg);
	tap_check(&T, xstat(port0, "tx_q0_indirect_packets") == 200,
		  "multi-segment packets went through indirect tables (%" PRIu64 ")",
		  xstat(port0, "tx_q0_indirect_packets"));
	tap_check(&T, xstat(port1, "rx_q0_multi_buffer_packets") >= 100,
		  "multi-buffer receptions: %" PRIu64, xstat(port1, "rx_q0_multi_buffer_packets"));

	/* a shared mbuf must not have its headroom written: indirect table instead */
	{
		struct rte_mbuf *m = make_pkt(port0, &mac1, 424242, 200, 1);
		uint64_t before = xstat(port0, "tx_q0_indirect_packets");
		struct rte_mbuf *rx[8];
		unsigned int got = 0;

		rte_mbuf_refcnt_update(m, 1);
		tap_check(&T, rte_eth_tx_burst(port0, 0, &m, 1) == 1, "shared mbuf sent");
		for (int i = 0; i < 200 && got == 0; i++) {
			got = rte_eth_rx_burst(port1, 0, rx, RTE_DIM(rx));
			rte_pktmbuf_free_bulk(rx, got);
			rte_delay_ms(2);
		}
		tap_check(&T, got == 1 && xstat(port0, "tx_q0_indirect_packets") == before + 1,
			  "shared mbuf received, sent indirect");
		rte_eth_tx_done_cleanup(port0, 0, 0);
		tap_check(&T, rte_mbuf_refcnt_read(m) == 1, "our reference is all that is left");
		rte_pktmbuf_free(m);
	}
	port_stop(port0);
	port_stop(port1);
	tap_check(&T, rte_mempool_in_use_count(pool) == 0, "no mbuf held after stop");
}

/* Run with mrg_rxbuf=off: a 9000 MTU cannot fit 2 KiB buffers, start must refuse. */
static void
test_jumbo_refused(void)
{
	struct port_conf pc = default_conf;
	struct rte_ether_addr mac1;
	int ret;

	rte_eth_macaddr_get(port1, &mac1);
	pc.mtu = 9000;
	ret = port_start(port0, &pc);
	tap_check(&T, ret != 0, "MTU 9000 with mrg_rxbuf=off refused at start (%d)", ret);
	pc.mtu = 1500;
	tap_check(&T, port_start(port0, &pc) == 0 && port_start(port1, &pc) == 0,
		  "MTU 1500 starts");
	wait_link(port1, RTE_ETH_LINK_UP, 2000);
	received_all("traffic at MTU 1500", transfer(port0, port1, &mac1, 200, 1514, 1, 2000));
	port_stop(port0);
	port_stop(port1);
}

/* --- receive interrupts --- */

static void
test_rxintr(void)
{
	struct port_conf pc = default_conf;
	struct rte_epoll_event ev;
	struct rte_ether_addr mac1;
	struct rte_mbuf *rx[32];
	uint64_t t0, t1;
	int ret, n;
	unsigned int got = 0;

	rte_eth_macaddr_get(port1, &mac1);
	tap_check(&T, port_start(port0, &default_conf) == 0, "port %u started", port0);
	pc.rxq_intr = true;
	ret = port_start(port1, &pc);
	if (!tap_check(&T, ret == 0, "port %u started with rx interrupts (%d)", port1, ret))
		return;
	wait_link(port1, RTE_ETH_LINK_UP, 2000);
	ret = rte_eth_dev_rx_intr_ctl_q(port1, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD,
					NULL);
	tap_check(&T, ret == 0, "rx queue 0 added to this thread's epoll (%d)", ret);
	ret = rte_eth_dev_rx_intr_enable(port1, 0);
	tap_check(&T, ret == 0, "rx interrupt armed (%d)", ret);
	n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, 500);
	tap_check(&T, n == 0, "no traffic: epoll sleeps the full 500 ms (%d)", n);

	/* traffic: the interrupt wakes us */
	{
		struct rte_mbuf *m = make_pkt(port0, &mac1, 1, 64, 1);

		tap_check(&T, rte_eth_tx_burst(port0, 0, &m, 1) == 1, "one packet sent");
	}
	t0 = rte_get_timer_cycles();
	n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, 3000);
	t1 = rte_get_timer_cycles();
	tap_check(&T, n == 1, "epoll woke up on the packet (%d) after %.1f ms", n,
		  (double)(t1 - t0) * 1000 / rte_get_timer_hz());
	rte_eth_dev_rx_intr_disable(port1, 0);
	for (int i = 0; i < 100 && got == 0; i++) {
		got = rte_eth_rx_burst(port1, 0, rx, RTE_DIM(rx));
		rte_pktmbuf_free_bulk(rx, got);
		if (got == 0)
			rte_delay_ms(2);
	}
	tap_check(&T, got == 1, "the packet is there");

	/* a packet already waiting when the interrupt is armed must wake us too */
	{
		struct rte_mbuf *m = make_pkt(port0, &mac1, 2, 64, 1);

		rte_eth_tx_burst(port0, 0, &m, 1);
		rte_delay_ms(200);   /* delivered before we arm */
		rte_eth_dev_rx_intr_enable(port1, 0);
		n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, 1000);
		tap_check(&T, n == 1, "a packet pending at arm time wakes epoll (%d)", n);
		rte_eth_dev_rx_intr_disable(port1, 0);
		got = 0;
		for (int i = 0; i < 100 && got == 0; i++) {
			got = rte_eth_rx_burst(port1, 0, rx, RTE_DIM(rx));
			rte_pktmbuf_free_bulk(rx, got);
		}
		tap_check(&T, got == 1, "and it is received");
	}
	/* disarmed: traffic does not wake us */
	{
		struct rte_mbuf *m = make_pkt(port0, &mac1, 3, 64, 1);

		rte_eth_tx_burst(port0, 0, &m, 1);
		n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, 500);
		tap_check(&T, n == 0, "disarmed: no wake-up (%d)", n);
		rte_delay_ms(50);
		got = rte_eth_rx_burst(port1, 0, rx, RTE_DIM(rx));
		rte_pktmbuf_free_bulk(rx, got);
	}
	tap_check(&T, xstat(port1, "rx_q0_interrupts_armed") == 2, "xstats: armed twice");
	rte_eth_dev_rx_intr_ctl_q(port1, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, NULL);
	port_stop(port0);
	port_stop(port1);
	/* a port restarted without interrupts polls as before */
	tap_check(&T, port_start(port1, &default_conf) == 0, "restarted in poll mode");
	tap_check(&T, rte_eth_dev_rx_intr_enable(port1, 0) != 0,
		  "rx_intr_enable refused without intr_conf.rxq");
	port_stop(port1);
}

/* --- multiqueue --- */

#define MQ_FLOWS 64
#define MQ_PKTS 2048

/*
 * A UDP/IPv4 packet of flow @flow (its UDP source port) carrying @seq. The device
 * spreads what it receives over its rx queues by flow (QEMU's multiqueue tap: by the
 * flow hash of the kernel), so the test needs real flows, not the test ethertype.
 */
static struct rte_mbuf *
make_flow_pkt(uint16_t src_port, const struct rte_ether_addr *dst, uint16_t flow,
	      uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	struct test_payload *pl;
	uint16_t len = sizeof(*eh) + sizeof(*ip) + sizeof(*udp) + sizeof(*pl);

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	rte_eth_macaddr_get(src_port, &eh->src_addr);
	eh->dst_addr = *dst;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->total_length = rte_cpu_to_be_16(len - sizeof(*eh));
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 1));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 2));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(10000 + flow);
	udp->dst_port = rte_cpu_to_be_16(9);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + sizeof(*pl));
	udp->dgram_cksum = 0;
	pl = (struct test_payload *)(udp + 1);
	pl->magic = MAGIC;
	pl->seq = seq;
	pl->len = len;
	pl->fill = (uint8_t)flow;
	return m;
}

/* The sequence number of a received flow packet, or -1 if it is not one of ours. */
static int64_t
check_flow_pkt(struct rte_mbuf *m)
{
	size_t off = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		     sizeof(struct rte_udp_hdr);
	struct test_payload pl;
	const struct test_payload *p;

	if (m->pkt_len < off + sizeof(pl))
		return -1;
	p = rte_pktmbuf_read(m, off, sizeof(pl), &pl);
	if (p->magic != MAGIC || p->len != m->pkt_len || p->seq >= MQ_PKTS)
		return -1;
	return p->seq;
}

struct mq_result {
	unsigned int sent;
	unsigned int received;        /* distinct sequence numbers */
	unsigned int duplicates;
	unsigned int per_queue[2];
};

/* One receive burst from each of port1's @nq queues, accounted in @r. */
static void
mq_collect(struct mq_result *r, uint8_t *seen, uint16_t nq)
{
	struct rte_mbuf *pkts[32];

	for (uint16_t q = 0; q < nq; q++) {
		uint16_t got = rte_eth_rx_burst(port1, q, pkts, RTE_DIM(pkts));

		for (uint16_t i = 0; i < got; i++) {
			int64_t n = check_flow_pkt(pkts[i]);

			if (n < 0)
				continue;
			r->per_queue[q]++;
			if (seen[n]++ == 0)
				r->received++;
			else
				r->duplicates++;
		}
		rte_pktmbuf_free_bulk(pkts, got);
	}
}

/*
 * Send MQ_PKTS packets over MQ_FLOWS flows from port0, alternating its @nq tx queues
 * burst by burst, and collect them on every rx queue of port1.
 */
static struct mq_result
mq_transfer(uint16_t nq)
{
	static uint8_t seen[MQ_PKTS];
	struct mq_result r = { 0 };
	struct rte_ether_addr mac1;
	struct rte_mbuf *pkts[32];
	uint64_t deadline;

	memset(seen, 0, sizeof(seen));
	rte_eth_macaddr_get(port1, &mac1);
	for (uint32_t seq = 0; seq < MQ_PKTS; ) {
		uint16_t k = 0, s, txq = (uint16_t)((seq / RTE_DIM(pkts)) % nq);

		while (k < RTE_DIM(pkts) && seq + k < MQ_PKTS) {
			pkts[k] = make_flow_pkt(port0, &mac1, (uint16_t)((seq + k) % MQ_FLOWS),
						seq + k);
			if (pkts[k] == NULL)
				break;
			k++;
		}
		if (k == 0)
			break;
		s = rte_eth_tx_burst(port0, txq, pkts, k);
		rte_pktmbuf_free_bulk(pkts + s, k - s);
		r.sent += s;
		seq += k;
		/* drain as we go: the receive rings are smaller than the whole transfer */
		mq_collect(&r, seen, nq);
		rte_delay_us_sleep(500);   /* let QEMU keep up: no drop for want of buffers */
	}
	deadline = rte_get_timer_cycles() + 2 * rte_get_timer_hz();
	while (r.received + r.duplicates < r.sent && rte_get_timer_cycles() < deadline) {
		mq_collect(&r, seen, nq);
		rte_delay_us_sleep(200);
	}
	return r;
}

static void
test_mq(void)
{
	struct port_conf pc = default_conf;
	struct rte_eth_dev_info info;
	struct mq_result r;

	if (!tap_check(&T, rte_eth_dev_info_get(port0, &info) == 0, "port %u info", port0))
		return;
	if (!tap_check(&T, info.max_rx_queues >= 2 && info.max_tx_queues >= 2,
		       "device offers %u/%u queues (the iommu-mq test bed offers 2)",
		       info.max_rx_queues, info.max_tx_queues))
		return;
	pc.nb_queues = 2;
	if (!tap_check(&T, port_start(port0, &pc) == 0 && port_start(port1, &pc) == 0,
		       "both ports started with 2 queue pairs"))
		return;
	wait_link(port1, RTE_ETH_LINK_UP, 2000);
	r = mq_transfer(2);
	tap_check(&T, r.sent == MQ_PKTS && r.received == r.sent && r.duplicates == 0,
		  "2 pairs: sent %u over %u flows on both tx queues, received %u, duplicates %u",
		  r.sent, MQ_FLOWS, r.received, r.duplicates);
	tap_check(&T, r.per_queue[0] > 0 && r.per_queue[1] > 0,
		  "both rx queues carried traffic (%u + %u)", r.per_queue[0], r.per_queue[1]);
	tap_check(&T, xstat(port0, "tx_q1_packets") > 0 && xstat(port1, "rx_q1_packets") > 0,
		  "xstats: tx_q1_packets %" PRIu64 ", rx_q1_packets %" PRIu64,
		  xstat(port0, "tx_q1_packets"), xstat(port1, "rx_q1_packets"));
	port_stop(port0);
	port_stop(port1);

	/* back to one pair: the device must be told, or half the flows go to a queue
	 * that has no buffers */
	pc.nb_queues = 1;
	if (!tap_check(&T, port_start(port0, &pc) == 0 && port_start(port1, &pc) == 0,
		       "both ports restarted with 1 queue pair"))
		return;
	wait_link(port1, RTE_ETH_LINK_UP, 2000);
	r = mq_transfer(1);
	tap_check(&T, r.sent == MQ_PKTS && r.received == r.sent && r.duplicates == 0,
		  "1 pair: sent %u over %u flows, received %u on queue 0, duplicates %u",
		  r.sent, MQ_FLOWS, r.received, r.duplicates);
	port_stop(port0);
	port_stop(port1);
	tap_check(&T, rte_mempool_in_use_count(pool) == 0, "no mbuf held after stop");
}

/* --- link-status interrupts --- */

static int lsc_events;

static int
lsc_cb(uint16_t port, enum rte_eth_event_type type, void *arg, void *ret_param)
{
	struct rte_eth_link link;

	RTE_SET_USED(arg);
	RTE_SET_USED(ret_param);
	if (type == RTE_ETH_EVENT_INTR_LSC && port == port0) {
		if (rte_eth_link_get_nowait(port, &link) != 0)
			link.link_status = RTE_ETH_LINK_DOWN;
		printf("# LSC event: port %u link %s\n", port, link.link_status ? "up" : "down");
		__atomic_add_fetch(&lsc_events, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/*
 * The PMD updates the link status before it runs the application's callbacks, both on
 * the interrupt thread, so a link change can be visible through rte_eth_link_get()
 * a moment before its event has been delivered: wait for the event too.
 */
static bool
wait_lsc_events(int want, unsigned int timeout_ms)
{
	unsigned int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (__atomic_load_n(&lsc_events, __ATOMIC_RELAXED) >= want)
			return true;
		rte_delay_ms(10);
	}
	return __atomic_load_n(&lsc_events, __ATOMIC_RELAXED) >= want;
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f != NULL)
		fclose(f);
}

static void
test_lsc(void)
{
	struct port_conf pc = default_conf;
	struct rte_eth_dev_info info;
	const char *dir = "/run/results";
	char ready[128], down[128];
	int ret;

	if (!tap_check(&T, rte_eth_dev_info_get(port0, &info) == 0, "port %u info", port0))
		return;
	tap_check(&T, (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0, "port supports LSC");
	rte_eth_dev_callback_register(port0, RTE_ETH_EVENT_INTR_LSC, lsc_cb, NULL);
	pc.lsc = true;
	ret = port_start(port0, &pc);
	if (!tap_check(&T, ret == 0, "port %u started with LSC (%d)", port0, ret))
		return;
	tap_check(&T, wait_link(port0, RTE_ETH_LINK_UP, 2000), "link up");
	snprintf(ready, sizeof(ready), "%s/lsc-ready", dir);
	snprintf(down, sizeof(down), "%s/lsc-down-seen", dir);
	touch(ready);   /* the host hook now turns the link off */
	tap_diag("waiting for the host to turn nic0's link off (QMP set_link)");
	tap_check(&T, wait_link(port0, RTE_ETH_LINK_DOWN, 60000), "link down seen");
	tap_check(&T, wait_lsc_events(1, 5000), "LSC event for link down (%d events)",
		  __atomic_load_n(&lsc_events, __ATOMIC_RELAXED));
	touch(down);    /* ... and on again */
	tap_check(&T, wait_link(port0, RTE_ETH_LINK_UP, 60000), "link up again");
	tap_check(&T, wait_lsc_events(2, 5000), "LSC event for link up (%d events)",
		  __atomic_load_n(&lsc_events, __ATOMIC_RELAXED));
	tap_check(&T, xstat(port0, "lsc_interrupts") >= 2, "xstats lsc_interrupts %" PRIu64,
		  xstat(port0, "lsc_interrupts"));
	port_stop(port0);
	rte_eth_dev_callback_unregister(port0, RTE_ETH_EVENT_INTR_LSC, lsc_cb, NULL);
}

int
main(int argc, char **argv)
{
	const char *test;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (argc < 2) {
		fprintf(stderr, "usage: test-vfiofd-pmd <EAL args> -- "
			"basic|cycles|jumbo|jumbo_refused|rxintr|lsc|mq\n");
		rte_eal_cleanup();
		return 2;
	}
	test = argv[1];
	if (!tap_check(&T, rte_eth_dev_count_avail() == 2, "two ports (%u)",
		       rte_eth_dev_count_avail())) {
		rte_eal_cleanup();
		return tap_done(&T);
	}
	port0 = 0;
	port1 = 1;
	pool = rte_pktmbuf_pool_create("test_pool", NB_MBUF, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (!tap_check(&T, pool != NULL, "mbuf pool")) {
		rte_eal_cleanup();
		return tap_done(&T);
	}
	if (strcmp(test, "basic") == 0)
		test_basic();
	else if (strcmp(test, "cycles") == 0)
		test_cycles();
	else if (strcmp(test, "jumbo") == 0)
		test_jumbo();
	else if (strcmp(test, "jumbo_refused") == 0)
		test_jumbo_refused();
	else if (strcmp(test, "rxintr") == 0)
		test_rxintr();
	else if (strcmp(test, "lsc") == 0)
		test_lsc();
	else if (strcmp(test, "mq") == 0)
		test_mq();
	else
		tap_check(&T, false, "unknown test '%s'", test);
	/* close the ports before their mbufs' pool goes away */
	RTE_ETH_FOREACH_DEV(port0) {
		rte_eth_dev_stop(port0);
		rte_eth_dev_close(port0);
	}
	tap_check(&T, driver_memzones() == 0, "no ring memzone left after close");
	rte_mempool_free(pool);
	ret = tap_done(&T);
	rte_eal_cleanup();
	return ret;
}
