/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfiofd-l2fwd: the smallest useful forwarder on vfiofd ports. Ports are paired in the
 * order they appear (0<->1, 2<->3, ...); whatever arrives on one leaves on the other,
 * unchanged. One lcore polls every pair.
 *
 *   vfiofd-l2fwd [EAL options] -- [--duration SEC] [--vfiofd-only] [--tx-first N]
 *
 *   vfiofd-l2fwd -d librte_bus_vfiofd.so -d librte_net_vfiofd_virtio.so --no-pci \
 *       -a vfiofd:0000:01:00.0 -a vfiofd:0000:02:00.0 -- --duration 10
 *
 * To an application a vfiofd port is an ordinary ethdev port: the only vfiofd-specific
 * things are the EAL options above (load the bus and the PMD, allow-list the devices on
 * the vfiofd bus). --vfiofd-only shows how to tell the ports apart if other buses also
 * provide some: the port's rte_device sits on the bus named "vfiofd". --tx-first N sends
 * N broadcast frames out of every port at start (like testpmd's "start tx_first"), for
 * wirings where nothing else sends.
 */

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define BURST 32
#define DESC 1024
#define MAX_PORTS 16

static volatile bool quit;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	quit = true;
}

static bool
on_vfiofd_bus(uint16_t port)
{
	struct rte_eth_dev_info info;
	const struct rte_bus *bus;

	if (rte_eth_dev_info_get(port, &info) != 0 || info.device == NULL)
		return false;
	bus = rte_bus_find_by_device(info.device);
	return bus != NULL && strcmp(rte_bus_name(bus), "vfiofd") == 0;
}

/* N 64-byte broadcast frames of a local experimental EtherType out of @port. */
static void
send_first(uint16_t port, struct rte_mempool *mp, unsigned int n)
{
	struct rte_mbuf *m;

	while (n-- > 0) {
		struct rte_ether_hdr *eh;

		m = rte_pktmbuf_alloc(mp);
		if (m == NULL)
			return;
		eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 64);
		if (eh == NULL) {
			rte_pktmbuf_free(m);
			return;
		}
		memset(eh, 0, 64);
		memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
		rte_eth_macaddr_get(port, &eh->src_addr);
		eh->ether_type = rte_cpu_to_be_16(0x88b5);
		if (rte_eth_tx_burst(port, 0, &m, 1) != 1)
			rte_pktmbuf_free(m);
	}
}

static int
port_start(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t nb_rx = DESC, nb_tx = DESC;
	int ret;

	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	/* the device says how long its rings can be (virtio-net: 256 by default) */
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rx, &nb_tx);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, nb_rx, rte_eth_dev_socket_id(port), NULL, mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, nb_tx, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		ret = rte_eth_promiscuous_enable(port);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 't' },
		{ "vfiofd-only", no_argument, NULL, 'v' },
		{ "tx-first", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t fwd[MAX_PORTS] = { 0 }, drop[MAX_PORTS] = { 0 };
	uint64_t deadline = UINT64_MAX, seconds = 0;
	uint16_t ports[MAX_PORTS], nb_ports = 0, pid;
	struct rte_mbuf *pkts[BURST];
	struct rte_mempool *mp;
	bool vfiofd_only = false;
	unsigned int tx_first = 0;
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot initialise the EAL\n");
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "t:vf:", opts, NULL)) != -1) {
		switch (c) {
		case 't': seconds = strtoull(optarg, NULL, 0); break;
		case 'v': vfiofd_only = true; break;
		case 'f': tx_first = (unsigned int)strtoul(optarg, NULL, 0); break;
		default:
			rte_exit(EXIT_FAILURE, "usage: vfiofd-l2fwd [EAL options] -- [--duration SEC] [--vfiofd-only] [--tx-first N]\n");
		}
	}
	RTE_ETH_FOREACH_DEV(pid) {
		if (vfiofd_only && !on_vfiofd_bus(pid))
			continue;
		if (nb_ports < MAX_PORTS)
			ports[nb_ports++] = pid;
	}
	if (nb_ports < 2 || nb_ports % 2 != 0)
		rte_exit(EXIT_FAILURE, "need an even number of ports, have %u: allow-list devices with -a vfiofd:<BDF>\n",
			 nb_ports);
	mp = rte_pktmbuf_pool_create("l2fwd", 8191 * nb_ports, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the mbuf pool\n");
	for (uint16_t i = 0; i < nb_ports; i++) {
		ret = port_start(ports[i], mp);
		if (ret < 0)
			rte_exit(EXIT_FAILURE, "cannot start port %u: %s\n", ports[i], rte_strerror(-ret));
		char name[RTE_ETH_NAME_MAX_LEN] = "";

		rte_eth_dev_get_name_by_port(ports[i], name);
		printf("port %u: %s%s\n", ports[i], name, on_vfiofd_bus(ports[i]) ? " (vfiofd)" : "");
	}
	for (uint16_t i = 0; i < nb_ports && tx_first > 0; i++)
		send_first(ports[i], mp, tx_first);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (seconds > 0)
		deadline = rte_get_timer_cycles() + seconds * rte_get_timer_hz();
	fflush(stdout);

	while (!quit && rte_get_timer_cycles() < deadline) {
		for (uint16_t i = 0; i < nb_ports; i++) {
			uint16_t in = ports[i], out = ports[i ^ 1];
			uint16_t n = rte_eth_rx_burst(in, 0, pkts, BURST);
			uint16_t sent = n > 0 ? rte_eth_tx_burst(out, 0, pkts, n) : 0;

			fwd[i] += sent;
			drop[i] += n - sent;
			rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
		}
	}
	for (uint16_t i = 0; i < nb_ports; i++) {
		struct rte_eth_stats st;

		rte_eth_stats_get(ports[i], &st);
		printf("L2FWD port=%u forwarded=%" PRIu64 " dropped=%" PRIu64 " rx=%" PRIu64 " tx=%" PRIu64 "\n",
		       ports[i], fwd[i], drop[i], st.ipackets, st.opackets);
		rte_eth_dev_stop(ports[i]);
		rte_eth_dev_close(ports[i]);
	}
	rte_eal_cleanup();
	return 0;
}
