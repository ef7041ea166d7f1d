/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfiofd-capture: receive on one port and write every packet to a pcap file.
 *
 *   vfiofd-capture [EAL options] -- -w FILE [--count N] [--duration SEC] [--port P]
 *
 * For example, on a NIC opened through its VFIO cdev:
 *   vfiofd-capture -d librte_bus_vfiofd.so -d librte_net_vfiofd_virtio.so \
 *       -a vfiofd:0000:01:00.0 --no-pci -- -w /tmp/rx.pcap --count 1000
 *
 * The port is put in promiscuous mode. Capture stops after N packets, after SEC
 * seconds, or on SIGINT/SIGTERM, whichever comes first; packets are timestamped with the
 * host clock when they are read from the port.
 */

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define BURST 32
#define RX_DESC 1024
#define SNAPLEN 65535

static volatile bool quit;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	quit = true;
}

static int
port_start(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t nb_rx = RX_DESC, nb_tx = RX_DESC;
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

/* Write one packet, its segments gathered in order. */
static void
dump(pcap_dumper_t *d, const struct rte_mbuf *m, uint8_t *buf)
{
	struct pcap_pkthdr h;
	const struct rte_mbuf *s;
	uint32_t len = 0;

	gettimeofday(&h.ts, NULL);
	for (s = m; s != NULL && len < SNAPLEN; s = s->next) {
		uint32_t n = RTE_MIN((uint32_t)s->data_len, SNAPLEN - len);

		memcpy(buf + len, rte_pktmbuf_mtod(s, const void *), n);
		len += n;
	}
	h.caplen = len;
	h.len = m->pkt_len;
	pcap_dump((u_char *)d, &h, buf);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t buf[SNAPLEN];
	uint64_t count = 0, limit = UINT64_MAX, deadline = UINT64_MAX, seconds = 0;
	const char *file = NULL;
	struct rte_mbuf *pkts[BURST];
	struct rte_mempool *mp;
	pcap_dumper_t *dumper;
	uint16_t port = 0;
	pcap_t *pcap;
	int ret, c;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot initialise the EAL\n");
	argc -= ret;
	argv += ret;
	while ((c = getopt_long(argc, argv, "w:c:t:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'w': file = optarg; break;
		case 'c': limit = strtoull(optarg, NULL, 0); break;
		case 't': seconds = strtoull(optarg, NULL, 0); break;
		case 'p': port = (uint16_t)strtoul(optarg, NULL, 0); break;
		default:
			rte_exit(EXIT_FAILURE, "usage: vfiofd-capture [EAL options] -- -w FILE [--count N] [--duration SEC] [--port P]\n");
		}
	}
	if (file == NULL)
		rte_exit(EXIT_FAILURE, "no output file: -w FILE\n");
	if (!rte_eth_dev_is_valid_port(port))
		rte_exit(EXIT_FAILURE, "no port %u: allow-list a device (-a vfiofd:<BDF>)\n", port);
	mp = rte_pktmbuf_pool_create("capture", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_eth_dev_socket_id(port));
	if (mp == NULL)
		rte_exit(EXIT_FAILURE, "cannot create the mbuf pool\n");
	ret = port_start(port, mp);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot start port %u: %s\n", port, rte_strerror(-ret));
	pcap = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	dumper = pcap != NULL ? pcap_dump_open(pcap, file) : NULL;
	if (dumper == NULL)
		rte_exit(EXIT_FAILURE, "cannot write %s: %s\n", file,
			 pcap != NULL ? pcap_geterr(pcap) : "pcap_open_dead failed");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (seconds > 0)
		deadline = rte_get_timer_cycles() + seconds * rte_get_timer_hz();
	printf("capturing on port %u into %s\n", port, file);
	fflush(stdout);

	while (!quit && count < limit && rte_get_timer_cycles() < deadline) {
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, BURST);

		for (uint16_t i = 0; i < n; i++) {
			if (count < limit) {
				dump(dumper, pkts[i], buf);
				count++;
			}
			rte_pktmbuf_free(pkts[i]);
		}
	}
	pcap_dump_close(dumper);
	pcap_close(pcap);
	printf("CAPTURE port=%u packets=%" PRIu64 " file=%s\n", port, count, file);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return 0;
}
