/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pcap round trip of examples/vfiofd-capture, in three steps:
 *
 *   pcap_tool gen FILE N              write N distinct frames (broadcast, EtherType 0x88b5,
 *                                     a sequence number and a pattern, 60 to 1514 bytes)
 *   pcap_tool send [EAL] -- FILE [US] transmit FILE's frames on port 0, one every US
 *                                     microseconds (default 200: a virtio receiver on the
 *                                     test bed's hub drops frames that come in bursts)
 *   pcap_tool compare SENT CAPTURED   read both with libpcap: every frame of SENT must be
 *                                     in CAPTURED, byte for byte and in order (frames
 *                                     that are not ours, e.g. other traffic, are ignored)
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define ETHERTYPE_TEST 0x88b5
#define MAGIC "vfiofd-pcap"

static int
gen(const char *file, unsigned int n)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = p != NULL ? pcap_dump_open(p, file) : NULL;
	uint8_t frame[1514];

	if (d == NULL) {
		fprintf(stderr, "cannot write %s\n", file);
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct pcap_pkthdr h = { .ts = { i / 1000, (i % 1000) * 1000 } };
		uint32_t len = 60 + (i * 97) % (1514 - 60 + 1);

		memset(frame, 0xff, 6);                       /* broadcast */
		memcpy(frame + 6, "\x02\x00\x00\x00\x00\x01", 6); /* local MAC */
		frame[12] = ETHERTYPE_TEST >> 8;
		frame[13] = ETHERTYPE_TEST & 0xff;
		memcpy(frame + 14, MAGIC, sizeof(MAGIC) - 1);
		memcpy(frame + 14 + sizeof(MAGIC) - 1, &i, sizeof(i));
		for (uint32_t b = 14 + sizeof(MAGIC) - 1 + sizeof(i); b < len; b++)
			frame[b] = (uint8_t)(b * 7 + i);
		h.caplen = h.len = len;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	printf("generated %u frames into %s\n", n, file);
	return 0;
}

static int
send_file(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct rte_eth_conf conf = { 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	struct rte_mempool *mp;
	unsigned int sent = 0, gap_us = 200;
	uint16_t nb_rx = 512, nb_tx = 512;
	pcap_t *p;
	int ret = rte_eal_init(argc, argv);

	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot initialise the EAL\n");
	argc -= ret;
	argv += ret;
	if (argc < 2)
		rte_exit(EXIT_FAILURE, "usage: pcap_tool send [EAL] -- FILE [US]\n");
	if (argc > 2)
		gap_us = (unsigned int)strtoul(argv[2], NULL, 0);
	p = pcap_open_offline(argv[1], err);
	if (p == NULL)
		rte_exit(EXIT_FAILURE, "%s: %s\n", argv[1], err);
	mp = rte_pktmbuf_pool_create("send", 1023, 0, 0, 2048 + RTE_PKTMBUF_HEADROOM,
				     rte_socket_id());
	if (mp == NULL || !rte_eth_dev_is_valid_port(0))
		rte_exit(EXIT_FAILURE, "no mbuf pool or no port 0\n");
	ret = rte_eth_dev_configure(0, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(0, &nb_rx, &nb_tx);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(0, 0, nb_rx, rte_socket_id(), NULL, mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(0, 0, nb_tx, rte_socket_id(), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(0);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "cannot start port 0: %s\n", rte_strerror(-ret));
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
		char *dst = m != NULL ? rte_pktmbuf_append(m, h->caplen) : NULL;

		if (dst == NULL)
			rte_exit(EXIT_FAILURE, "no mbuf for frame %u\n", sent);
		memcpy(dst, data, h->caplen);
		while (rte_eth_tx_burst(0, 0, &m, 1) == 0)
			if (rte_get_timer_cycles() > deadline)
				rte_exit(EXIT_FAILURE, "port 0 does not transmit (frame %u)\n", sent);
		sent++;
		rte_delay_us_block(gap_us);
	}
	rte_delay_ms(100); /* let the last frames leave before the port stops */
	printf("SENT frames=%u\n", sent);
	pcap_close(p);
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return 0;
}

static int
is_ours(const struct pcap_pkthdr *h, const u_char *d)
{
	return h->caplen >= 14 + sizeof(MAGIC) - 1 && d[12] == (ETHERTYPE_TEST >> 8) &&
	       d[13] == (ETHERTYPE_TEST & 0xff) && memcmp(d + 14, MAGIC, sizeof(MAGIC) - 1) == 0;
}

static int
compare(const char *sent_file, const char *cap_file)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *s = pcap_open_offline(sent_file, err), *c;
	struct pcap_pkthdr *hs, *hc;
	const u_char *ds, *dc;
	unsigned int n = 0, matched = 0, others = 0, bad = 0;

	if (s == NULL) {
		fprintf(stderr, "%s: %s\n", sent_file, err);
		return 1;
	}
	c = pcap_open_offline(cap_file, err);
	if (c == NULL) {
		fprintf(stderr, "%s: %s\n", cap_file, err);
		return 1;
	}
	while (pcap_next_ex(s, &hs, &ds) == 1) {
		int r;

		n++;
		/* the next frame of ours in the capture must be this one */
		while ((r = pcap_next_ex(c, &hc, &dc)) == 1 && !is_ours(hc, dc))
			others++;
		if (r != 1) {
			printf("frame %u of %s: missing from %s\n", n - 1, sent_file, cap_file);
			bad++;
			break;
		}
		if (hc->caplen != hs->caplen || hc->len != hs->len ||
		    memcmp(dc, ds, hs->caplen) != 0) {
			printf("frame %u: differs (sent %u bytes, captured %u)\n", n - 1, hs->caplen,
			       hc->caplen);
			bad++;
			continue;
		}
		matched++;
	}
	while (pcap_next_ex(c, &hc, &dc) == 1)
		others += !is_ours(hc, dc);
	printf("COMPARE sent=%u matched=%u bad=%u other_frames=%u\n", n, matched, bad, others);
	pcap_close(s);
	pcap_close(c);
	return n > 0 && matched == n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], (unsigned int)strtoul(argv[3], NULL, 0));
	if (argc == 4 && strcmp(argv[1], "compare") == 0)
		return compare(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "send") == 0)
		return send_file(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s gen FILE N | send [EAL] -- FILE [US] | compare SENT CAPTURED\n",
		argv[0]);
	return 2;
}
