/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmd_hostile_rings: net_vfiofd_virtio's receive and transmit paths (vv_rxtx.c,
 * vv_vq.c) on split rings in ordinary memory, against a device played by this program
 * that lies: used ids out of range and repeated, lengths of 0 and huge, num_buffers of
 * 0, more than posted and huge, a used index that jumps ahead or back, descriptors
 * chained into loops. Built with clang's AddressSanitizer and UBSan.
 *
 * The PMD's sources are compiled into this program with the DPDK allocations they make
 * (queue structures, software rings, the ring memzones) renamed to functions here that
 * take the C heap, exact sizes: a read or write a byte past any ring or table is an
 * ASan report. The mbufs come from a real DPDK mempool (EAL, --no-huge, IOVA as VA);
 * the library's VA-to-IOVA is the identity, so the "device" reads and writes the
 * addresses the driver put in its descriptors, after checking that they are the
 * buffers the driver holds for them.
 *
 * Then everything again in the memory library's translated mode: the pools' memory is
 * in a real translation cache (iova_cache.c) at IOVA = VA + XL_DELTA, and every
 * address the driver posts must be that translation, never buf_iova; a pool the cache
 * does not hold gets no descriptor at all (receive refills stop, counted in errors;
 * packets are dropped).
 *
 * What a real driver does with a device that lies, and what is checked here: a bad
 * completion (an id it does not hold, a length the buffer cannot have, a num_buffers
 * the ring cannot satisfy) is counted in the queue's errors and its buffers recycled,
 * and the queue goes on; a used index that moves by more than the buffers the device
 * holds (ahead or back) means the ring cannot be trusted at all: the queue stops
 * (bursts return 0, ring_faults counts it, one line is logged) until the port restarts,
 * which recovers it. Through all of it: no mbuf leaked or freed twice (the mempool's
 * count is back to full at the end of every case), no descriptor of the driver's
 * still chained when it is posted again.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "rte_iommufd_mem.h"
#include "rte_iova_cache.h"
#include "vv_ethdev.h"
#include "vv_rxtx.h"
#include "host_eal.h"
#include "tap.h"

#define QSIZE 256
#define POOL_SIZE 1023
/* translated mode: where the cache puts the pools' memory */
#define XL_DELTA ((uint64_t)1 << 44)

static struct tap t;
static unsigned int bad_posts;  /* rx descriptors posted with the device's garbage */

/* ---- what the PMD's sources get instead of DPDK's allocator (see the -D flags) ---- */

void *h_zmalloc_socket(const char *type, size_t size, unsigned int align, int socket);
void h_free(void *p);
const struct rte_memzone *h_mz_reserve_aligned(const char *name, size_t len, int socket,
					       unsigned int flags, unsigned int align);
int h_mz_free(const struct rte_memzone *mz);
const struct rte_memzone *h_mz_lookup(const char *name);

void *
h_zmalloc_socket(const char *type, size_t size, unsigned int align, int socket)
{
	void *p = NULL;

	(void)type;
	(void)socket;
	if (posix_memalign(&p, align > sizeof(void *) ? align : sizeof(void *), size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

void
h_free(void *p)
{
	free(p);
}

static struct rte_memzone *zones[8];

const struct rte_memzone *
h_mz_reserve_aligned(const char *name, size_t len, int socket, unsigned int flags,
		     unsigned int align)
{
	struct rte_memzone *mz;
	void *p = NULL;

	(void)flags;
	for (unsigned int i = 0; i < RTE_DIM(zones); i++) {
		if (zones[i] != NULL)
			continue;
		mz = calloc(1, sizeof(*mz));
		if (mz == NULL || posix_memalign(&p, align, len) != 0) {
			free(mz);
			return NULL;
		}
		snprintf(mz->name, sizeof(mz->name), "%s", name);
		mz->addr = p;
		mz->iova = (uintptr_t)p;
		mz->len = len;
		mz->socket_id = socket;
		zones[i] = mz;
		return mz;
	}
	return NULL;
}

int
h_mz_free(const struct rte_memzone *mz)
{
	for (unsigned int i = 0; i < RTE_DIM(zones); i++) {
		if (zones[i] == mz) {
			free(zones[i]->addr);
			free(zones[i]);
			zones[i] = NULL;
			return 0;
		}
	}
	return -EINVAL;
}

const struct rte_memzone *
h_mz_lookup(const char *name)
{
	for (unsigned int i = 0; i < RTE_DIM(zones); i++)
		if (zones[i] != NULL && strcmp(zones[i]->name, name) == 0)
			return zones[i];
	return NULL;
}

/* ---- the rest of the PMD's world ---- */

int vv_logtype;
static unsigned int kicks;

rte_iova_t
rte_iommufd_mem_va2iova(const void *va)
{
	return (uintptr_t)va;
}

/* the memory library's translated mode, as the library would run it for lcore 0 */
static struct rte_iova_cache *xl_cache; /* non-NULL: translated mode */
static bool xl_registered;

bool
rte_iommufd_mem_translated(void)
{
	return xl_cache != NULL;
}

struct rte_iova_cache *
rte_iommufd_mem_cache(void)
{
	return xl_cache;
}

int
rte_iommufd_mem_reader_enter(void)
{
	if (!xl_registered) {
		if (rte_iova_cache_reader_register(xl_cache, 0) != 0)
			abort();
		xl_registered = true;
	} else {
		rte_iova_cache_reader_online(xl_cache, 0);
	}
	return 0;
}

void
rte_iommufd_mem_reader_leave(int reader)
{
	rte_iova_cache_reader_offline(xl_cache, (unsigned int)reader);
}

/* The address the driver must give the device for @va in @m's buffer. */
static uint64_t
want_iova(const struct rte_mbuf *m, const void *va)
{
	uint64_t off = (uint64_t)((const uint8_t *)va - (const uint8_t *)m->buf_addr);

	return xl_cache != NULL ? (uintptr_t)va + XL_DELTA : m->buf_iova + off;
}

int
vv_pci_queue_setup(const struct vv_pci *p, uint16_t idx, uint16_t size, uint16_t vector,
		   uint64_t desc, uint64_t avail, uint64_t used, struct vv_notify *n)
{
	RTE_SET_USED(p);
	RTE_SET_USED(idx);
	RTE_SET_USED(size);
	RTE_SET_USED(vector);
	RTE_SET_USED(desc);
	RTE_SET_USED(avail);
	RTE_SET_USED(used);
	memset(n, 0, sizeof(*n));
	return 0;
}

ssize_t
rte_vfiofd_region_write(const struct rte_vfiofd_device *dev, unsigned int bar,
			uint64_t off, const void *buf, size_t len)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(bar);
	RTE_SET_USED(off);
	RTE_SET_USED(buf);
	kicks++;
	return (ssize_t)len;
}

/* ---- the device ---- */

struct dev {
	struct vv_vq *vq;
	uint16_t last_avail;    /* next avail entry to take */
	uint16_t used_idx;      /* next used entry to write */
};

static void
dev_reset(struct dev *d, struct vv_vq *vq)
{
	d->vq = vq;
	d->last_avail = 0;
	d->used_idx = 0;
}

static uint16_t
dev_avail(const struct dev *d)
{
	return (uint16_t)(__atomic_load_n(&d->vq->avail->idx, __ATOMIC_ACQUIRE) -
			  d->last_avail);
}

/* The descriptor the driver offers next (there must be one), left where it is. */
static uint16_t
dev_peek(const struct dev *d)
{
	return d->vq->avail->ring[d->last_avail & d->vq->mask];
}

/* The next descriptor the driver offers; -1 if none. */
static int
dev_pop(struct dev *d)
{
	uint16_t id;

	if (dev_avail(d) == 0)
		return -1;
	id = d->vq->avail->ring[d->last_avail & d->vq->mask];
	d->last_avail++;
	if (id >= d->vq->size) {
		tap_check(&t, false, "  the driver offers descriptor %u of %u", id, d->vq->size);
		abort();
	}
	return id;
}

static void
dev_push(struct dev *d, uint32_t id, uint32_t len)
{
	struct vv_used_elem *e = &d->vq->used->ring[d->used_idx & d->vq->mask];

	e->id = id;
	e->len = len;
	d->used_idx++;
	__atomic_store_n(&d->vq->used->idx, d->used_idx, __ATOMIC_RELEASE);
}

/* The device moves its used index without writing entries (ahead or back). */
static void
dev_jump(struct dev *d, int by)
{
	d->used_idx = (uint16_t)(d->used_idx + by);
	__atomic_store_n(&d->vq->used->idx, d->used_idx, __ATOMIC_RELEASE);
}

/*
 * Receive buffer @id as the device sees it, checked against what the driver holds
 * for it: the descriptor must cover exactly the mbuf's room from the header on, as a
 * single device-writable buffer.
 */
static uint8_t *
rx_buf(struct vv_rxq *rxq, uint16_t id, uint32_t *room)
{
	const struct vv_desc *dsc = &rxq->vq.desc[id];
	struct rte_mbuf *m = rxq->sw_ring[id];
	uint64_t want;

	if (m == NULL) {
		tap_check(&t, false, "  descriptor %u offered without an mbuf", id);
		abort();
	}
	want = want_iova(m, (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN);
	if (dsc->addr != want ||
	    rxq->buf_len > m->buf_len - (RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN)) {
		/* writing there would hit memory the driver does not own: stop here */
		tap_check(&t, false, "  descriptor %u as posted: addr 0x%" PRIx64 " (mbuf's "
			  "0x%" PRIx64 "), buffer %u bytes", id, dsc->addr, want, rxq->buf_len);
		abort();
	}
	if (dsc->len != rxq->buf_len || dsc->flags != VV_DESC_F_WRITE || dsc->next != 0) {
		/* a descriptor the device would follow into a chain, or past the buffer */
		bad_posts++;
		if (bad_posts == 1)
			tap_diag("  descriptor %u posted again as the device left it: len %u, "
				 "flags 0x%x, next %u", id, dsc->len, dsc->flags, dsc->next);
	}
	*room = rxq->buf_len;
	return (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN;
}

/* The device writes a packet of @plen bytes into the next buffer and completes it. */
static bool
dev_rx_one(struct dev *d, struct vv_rxq *rxq, uint32_t plen, uint16_t num_buffers)
{
	struct vv_net_hdr h = { .num_buffers = num_buffers };
	int id = dev_pop(d);
	uint32_t room;
	uint8_t *b;

	if (id < 0)
		return false;
	b = rx_buf(rxq, (uint16_t)id, &room);
	memcpy(b, &h, sizeof(h));
	memset(b + VV_NET_HDR_LEN, 0x5a, RTE_MIN(plen, room - VV_NET_HDR_LEN));
	dev_push(d, (uint32_t)id, VV_NET_HDR_LEN + plen);
	return true;
}

/* Put a pool's memory in the translation cache at VA + XL_DELTA. */
static void
xl_insert_chunk(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *memhdr,
		unsigned int idx)
{
	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	if (rte_iova_cache_insert(xl_cache, memhdr->addr, memhdr->len,
				  (uintptr_t)memhdr->addr + XL_DELTA) != 0)
		*(bool *)arg = false;
}

/* A pool of @n mbufs; in translated mode, in the cache (NULL on failure). */
static struct rte_mempool *
pool_make(const char *name, unsigned int n)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	bool ok = true;

	if (mp != NULL && xl_cache != NULL)
		rte_mempool_mem_iter(mp, xl_insert_chunk, &ok);
	if (!ok)
		abort();
	return mp;
}

/* ---- the driver's side ---- */

static struct rte_mempool *pool;
static struct rte_eth_dev_data eth_data;
static struct rte_eth_dev eth_dev = { .data = &eth_data };
static uint16_t qsizes[2] = { QSIZE, QSIZE };
static struct vv_hw hw = {
	.eth_dev = &eth_dev, .name = "0000:00:04.0", .qsize = qsizes,
};

typedef uint16_t (*burst_fn)(void *, struct rte_mbuf **, uint16_t);

/* Receive until a burst brings nothing (at most @tries bursts); frees what came. */
static unsigned int
drain(struct vv_rxq *rxq, burst_fn fn, unsigned int tries, uint32_t *bytes)
{
	struct rte_mbuf *pk[32];
	unsigned int got = 0;

	for (unsigned int i = 0; i < tries; i++) {
		uint16_t n = fn(rxq, pk, RTE_DIM(pk));

		for (uint16_t k = 0; k < n; k++) {
			if (bytes != NULL)
				*bytes += pk[k]->pkt_len;
			if (pk[k]->pkt_len != rte_pktmbuf_pkt_len(pk[k]) ||
			    pk[k]->nb_segs == 0)
				tap_check(&t, false, "  a malformed mbuf handed up");
			rte_pktmbuf_free(pk[k]);
		}
		got += n;
		if (n == 0)
			break;
	}
	return got;
}

static bool
pool_full(const char *what)
{
	unsigned int n = rte_mempool_avail_count(pool);

	return tap_check(&t, n == POOL_SIZE, "%s: every mbuf back in the pool (%u of %u: %s)",
			 what, n, POOL_SIZE, n < POOL_SIZE ? "leaked" :
			 n > POOL_SIZE ? "freed twice" : "ok");
}

static struct vv_rxq *
rx_open(struct dev *d, bool mrg, bool scatter, struct rte_mempool *mp)
{
	struct vv_rxq *rxq = NULL;
	int ret = vv_rxq_setup(&hw, &rxq, 0, QSIZE, SOCKET_ID_ANY, mp, 0);

	if (ret != 0 || rxq == NULL) {
		tap_check(&t, false, "rx queue setup (%d)", ret);
		abort();
	}
	ret = vv_rxq_start(rxq, false, mrg, scatter);
	if (ret != 0) {
		tap_check(&t, false, "rx queue start (%d)", ret);
		abort();
	}
	dev_reset(d, &rxq->vq);
	return rxq;
}

/* ---- receive, one buffer per packet ---- */

static void
rx_single(void)
{
	struct vv_rxq *rxq;
	struct dev d;
	uint64_t e0;
	unsigned int n, sent;
	uint32_t bytes = 0;

	tap_diag("---- receive, single-buffer packets ----");
	rxq = rx_open(&d, false, false, pool);
	for (sent = 0; sent < 600; sent++) {
		dev_rx_one(&d, rxq, 60 + sent % 1400, 1);
		if (sent % 50 == 49)
			drain(rxq, vv_recv_pkts, 8, &bytes);
	}
	drain(rxq, vv_recv_pkts, 8, &bytes);
	tap_check(&t, rxq->stats.packets == 600 && rxq->stats.errors == 0,
		  "honest device: 600 packets (%" PRIu64 "), 0 errors (%" PRIu64 ")",
		  rxq->stats.packets, rxq->stats.errors);

	/* ids the driver does not hold: out of range, then one already returned */
	e0 = rxq->stats.errors;
	dev_push(&d, QSIZE, 100);
	dev_push(&d, UINT32_MAX, 100);
	dev_rx_one(&d, rxq, 100, 1);
	dev_push(&d, d.vq->used->ring[(d.used_idx - 1) & d.vq->mask].id, 100);
	for (int i = 0; i < 5; i++)
		dev_rx_one(&d, rxq, 100, 1);
	n = drain(rxq, vv_recv_pkts, 8, NULL);
	tap_check(&t, n == 6 && rxq->stats.errors - e0 == 3,
		  "ids %u, 0xffffffff and a repeated one: 3 errors (%" PRIu64 "), the 6 good "
		  "packets received (%u)", QSIZE, rxq->stats.errors - e0, n);

	/* lengths the buffer cannot have */
	e0 = rxq->stats.errors;
	{
		static const uint32_t bad[] = { 0, 1, VV_NET_HDR_LEN, UINT32_MAX };

		for (unsigned int i = 0; i < RTE_DIM(bad); i++) {
			int id = dev_pop(&d);

			dev_push(&d, (uint32_t)id, bad[i]);
		}
		dev_push(&d, (uint32_t)dev_pop(&d), rxq->buf_len + 1);
	}
	n = drain(rxq, vv_recv_pkts, 8, NULL);
	for (int i = 0; i < 10; i++)
		dev_rx_one(&d, rxq, 200, 1);
	n += drain(rxq, vv_recv_pkts, 8, NULL);
	tap_check(&t, n == 10 && rxq->stats.errors - e0 == 5,
		  "lengths 0, 1, 12, 0xffffffff and buffer + 1: 5 errors (%" PRIu64 "), "
		  "buffers reposted, 10 good packets after (%u)", rxq->stats.errors - e0, n);

	/* descriptors chained into loops by the device: never followed, rewritten */
	for (uint16_t i = 0; i < QSIZE; i++) {
		rxq->vq.desc[i].flags |= VV_DESC_F_NEXT;
		rxq->vq.desc[i].next = i % 2 ? i : (uint16_t)((i + 1) & (QSIZE - 1));
		rxq->vq.desc[i].len = UINT32_MAX;
	}
	n = 0;
	for (int round = 0; round < 3; round++) {
		/* the whole ring, so that every slot is posted again by the driver */
		while (dev_avail(&d) > 0 && rxq->vq.desc[dev_peek(&d)].flags != VV_DESC_F_WRITE) {
			int id = dev_pop(&d);

			dev_push(&d, (uint32_t)id, VV_NET_HDR_LEN + 60);
		}
		n += drain(rxq, vv_recv_pkts, 16, NULL);
	}
	bad_posts = 0;
	for (int i = 0; i < QSIZE; i++)
		dev_rx_one(&d, rxq, 60, 1);   /* checks each descriptor as posted again */
	n += drain(rxq, vv_recv_pkts, 16, NULL);
	tap_check(&t, n >= QSIZE && bad_posts == 0, "descriptors chained into loops: not "
		  "followed, posted again clean (%u packets, %u posted with the loop)", n,
		  bad_posts);

	/* the used index jumps ahead of everything the device holds */
	e0 = rxq->stats.errors;
	dev_jump(&d, 3 * QSIZE);
	n = drain(rxq, vv_recv_pkts, 4, NULL);
	dev_jump(&d, -3 * QSIZE);
	dev_rx_one(&d, rxq, 60, 1);
	n += drain(rxq, vv_recv_pkts, 4, NULL);
	tap_check(&t, n == 0 && rxq->stats.ring_faults == 1 && rxq->stats.errors - e0 == 1,
		  "used index 768 ahead: queue stopped (%u packets after, %" PRIu64 " ring "
		  "fault, %" PRIu64 " error)", n, rxq->stats.ring_faults, rxq->stats.errors - e0);
	/* what a port restart does: the device is reset, the queue starts afresh */
	vv_rxq_start(rxq, false, false, false);
	dev_reset(&d, &rxq->vq);
	for (int i = 0; i < 10; i++)
		dev_rx_one(&d, rxq, 60, 1);
	n = drain(rxq, vv_recv_pkts, 4, NULL);
	tap_check(&t, n == 10, "after a restart the queue works again (%u packets)", n);

	/* ... and back: an index behind what was already consumed */
	for (int i = 0; i < 3; i++)
		dev_rx_one(&d, rxq, 60, 1);
	drain(rxq, vv_recv_pkts, 4, NULL);
	dev_jump(&d, -2);
	n = drain(rxq, vv_recv_pkts, 4, NULL);
	tap_check(&t, n == 0 && rxq->stats.ring_faults == 2,
		  "used index 2 behind: queue stopped (%u packets, %" PRIu64 " ring faults)", n,
		  rxq->stats.ring_faults);
	vv_rxq_release(rxq);
	pool_full("single-buffer receive");
}

/* ---- receive, merged buffers ---- */

/* A packet over @nb buffers (the last @last bytes), num_buffers @claim in the first. */
static bool
dev_rx_mrg(struct dev *d, struct vv_rxq *rxq, uint16_t nb, uint32_t last, uint16_t claim)
{
	for (uint16_t k = 0; k < nb; k++) {
		struct vv_net_hdr h = { .num_buffers = claim };
		int id = dev_pop(d);
		uint32_t room, len;
		uint8_t *b;

		if (id < 0)
			return false;
		b = rx_buf(rxq, (uint16_t)id, &room);
		len = k + 1 == nb ? last : room;
		if (k == 0)
			memcpy(b, &h, sizeof(h));
		dev_push(d, (uint32_t)id, len);
	}
	return true;
}

static void
rx_merged(void)
{
	struct rte_mempool *small;
	struct vv_rxq *rxq;
	struct dev d;
	uint64_t e0;
	unsigned int n;
	uint32_t bytes = 0;

	tap_diag("---- receive, merged buffers (MRG_RXBUF) ----");
	rxq = rx_open(&d, true, true, pool);
	for (int i = 0; i < 60; i++) {
		dev_rx_mrg(&d, rxq, 3, 500, 3);
		if (i % 10 == 9)
			drain(rxq, vv_recv_mrg_pkts, 8, &bytes);
	}
	drain(rxq, vv_recv_mrg_pkts, 8, &bytes);
	tap_check(&t, rxq->stats.packets == 60 && rxq->stats.multi_buf == 60 &&
		  rxq->stats.errors == 0 && bytes == 60 * (2 * rxq->buf_len - VV_NET_HDR_LEN + 500),
		  "honest device: 60 packets of 3 buffers (%" PRIu64 ", %u bytes), 0 errors",
		  rxq->stats.packets, bytes);

	e0 = rxq->stats.errors;
	dev_rx_mrg(&d, rxq, 1, 100, 0);          /* num_buffers 0 */
	dev_rx_mrg(&d, rxq, 1, 100, UINT16_MAX); /* more than the ring has */
	dev_rx_mrg(&d, rxq, 1, 0, 1);            /* no header at all */
	dev_rx_mrg(&d, rxq, 1, UINT32_MAX, 1);   /* huge */
	dev_rx_mrg(&d, rxq, 2, 100, 2);          /* and a good one */
	n = drain(rxq, vv_recv_mrg_pkts, 8, NULL);
	tap_check(&t, n == 1 && rxq->stats.errors - e0 == 4, "num_buffers 0 and 65535, "
		  "lengths 0 and 0xffffffff: 4 errors (%" PRIu64 "), the good packet received "
		  "(%u)", rxq->stats.errors - e0, n);

	/* a chain whose middle buffer is one the driver does not hold */
	e0 = rxq->stats.errors;
	{
		int a = dev_pop(&d), c;
		struct vv_net_hdr h = { .num_buffers = 3 };
		uint32_t room;

		memcpy(rx_buf(rxq, (uint16_t)a, &room), &h, sizeof(h));
		dev_push(&d, (uint32_t)a, room);
		dev_push(&d, 4000, room);
		c = dev_pop(&d);
		dev_push(&d, (uint32_t)c, 100);
	}
	dev_rx_mrg(&d, rxq, 1, 100, 1);
	n = drain(rxq, vv_recv_mrg_pkts, 8, NULL);
	tap_check(&t, n == 1 && rxq->stats.errors - e0 == 1, "a chain with a foreign id in "
		  "the middle: dropped whole, 1 error (%" PRIu64 "), the next packet received "
		  "(%u)", rxq->stats.errors - e0, n);

	dev_jump(&d, QSIZE + 1);
	n = drain(rxq, vv_recv_mrg_pkts, 4, NULL);
	tap_check(&t, n == 0 && rxq->stats.ring_faults == 1, "used index %u ahead: queue "
		  "stopped (%" PRIu64 " ring fault)", QSIZE + 1, rxq->stats.ring_faults);
	vv_rxq_release(rxq);
	pool_full("merged-buffer receive");

	/*
	 * num_buffers more than the device holds: a short mempool posts 40 buffers of
	 * 256. A packet claiming 100 can never be completed: waiting for it would stop
	 * the queue for good.
	 */
	small = pool_make("hr_small", 40);
	if (!tap_check(&t, small != NULL, "a pool of 40 mbufs"))
		return;
	rxq = rx_open(&d, true, true, small);
	tap_check(&t, dev_avail(&d) == 40, "  40 buffers posted (%u)", dev_avail(&d));
	e0 = rxq->stats.errors;
	dev_rx_mrg(&d, rxq, 1, 100, 100);
	dev_rx_mrg(&d, rxq, 1, 100, 1);
	n = drain(rxq, vv_recv_mrg_pkts, 8, NULL);
	tap_check(&t, n == 1 && rxq->stats.errors - e0 == 1, "num_buffers 100 with 40 "
		  "buffers posted: 1 error (%" PRIu64 "), not a stall: the next packet received "
		  "(%u)", rxq->stats.errors - e0, n);
	vv_rxq_release(rxq);
	tap_check(&t, rte_mempool_avail_count(small) == 40, "  every mbuf back in the small "
		  "pool (%u)", rte_mempool_avail_count(small));
	rte_mempool_free(small);
}

/* ---- transmit ---- */

static struct vv_txq *
tx_open(struct dev *d)
{
	struct vv_txq *txq = NULL;
	int ret = vv_txq_setup(&hw, &txq, 0, QSIZE, SOCKET_ID_ANY, 0);

	if (ret != 0 || txq == NULL) {
		tap_check(&t, false, "tx queue setup (%d)", ret);
		abort();
	}
	vv_txq_start(txq, false, true);
	dev_reset(d, &txq->vq);
	return txq;
}

static struct rte_mbuf *
pkt(uint16_t len, bool two_segs)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *m2;

	if (m == NULL)
		return NULL;
	memset(rte_pktmbuf_append(m, len), 0xa5, len);
	if (two_segs) {
		m2 = rte_pktmbuf_alloc(pool);
		if (m2 == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memset(rte_pktmbuf_append(m2, 100), 0xa5, 100);
		rte_pktmbuf_chain(m, m2);
	}
	return m;
}

/* Send @n packets; what the driver does not take is freed here. Returns taken. */
static unsigned int
app_send(struct vv_txq *txq, unsigned int n)
{
	struct rte_mbuf *pk[32];
	unsigned int done = 0;

	while (n > 0) {
		uint16_t want = (uint16_t)RTE_MIN(n, RTE_DIM(pk)), sent;

		for (uint16_t i = 0; i < want; i++)
			pk[i] = pkt((uint16_t)(60 + i * 7), i % 5 == 4);
		sent = vv_xmit_pkts(txq, pk, want);
		rte_pktmbuf_free_bulk(&pk[sent], want - sent);
		done += sent;
		n -= want;
		if (sent < want)
			break;
	}
	return done;
}

/* Are the addresses of slot @id's descriptor (or indirect table) the packet's? */
static bool
tx_addrs_ok(const struct vv_txq *txq, uint16_t id)
{
	const struct vv_desc *dsc = &txq->vq.desc[id];
	const struct vv_desc *tbl = &txq->indir[(uint32_t)id * VV_TX_INDIRECT_MAX];
	const struct rte_mbuf *m = txq->sw_ring[id];
	unsigned int k = 1;

	if (m == NULL)
		return false;
	if (dsc->flags == 0)
		return dsc->addr == want_iova(m, rte_pktmbuf_mtod(m, const uint8_t *) -
					      VV_NET_HDR_LEN);
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (s->data_len == 0)
			continue;
		if (tbl[k].addr != want_iova(s, rte_pktmbuf_mtod(s, const void *)))
			return false;
		k++;
	}
	return true;
}

/* The device takes every packet offered, checks its descriptor, completes it. */
static unsigned int
dev_tx_all(struct dev *d, struct vv_txq *txq)
{
	unsigned int n = 0;
	int id;

	while ((id = dev_pop(d)) >= 0) {
		const struct vv_desc *dsc = &txq->vq.desc[id];

		if (dsc->addr == 0 || (dsc->flags != 0 && dsc->flags != VV_DESC_F_INDIRECT) ||
		    (dsc->flags == VV_DESC_F_INDIRECT &&
		     (dsc->len % sizeof(struct vv_desc) != 0 ||
		      dsc->len > VV_TX_INDIRECT_MAX * sizeof(struct vv_desc)))) {
			tap_check(&t, false, "  tx descriptor %u: addr 0x%" PRIx64 " len %u flags "
				  "0x%x", id, dsc->addr, dsc->len, dsc->flags);
			abort();
		}
		if (!tx_addrs_ok(txq, (uint16_t)id)) {
			tap_check(&t, false, "  tx descriptor %u: addr 0x%" PRIx64 " is not the "
				  "packet's %s", id, dsc->addr,
				  xl_cache != NULL ? "translated IOVA" : "buf_iova");
			abort();
		}
		dev_push(d, (uint32_t)id, 0);
		n++;
	}
	return n;
}

static void
tx(void)
{
	struct vv_txq *txq;
	struct dev d;
	uint64_t e0;
	unsigned int n;

	tap_diag("---- transmit ----");
	txq = tx_open(&d);
	n = 0;
	for (int i = 0; i < 20; i++) {
		n += app_send(txq, 32);
		dev_tx_all(&d, txq);
	}
	vv_tx_done_cleanup(txq, 0);
	tap_check(&t, n == 640 && txq->stats.packets == 640 && txq->stats.errors == 0 &&
		  txq->nb_free == QSIZE, "honest device: 640 packets sent and reclaimed, "
		  "0 errors (%" PRIu64 ")", txq->stats.errors);

	/*
	 * completions of descriptors the driver does not have out, while 8 are out (so
	 * the index itself stays believable): 4 completed, 3 lies, then the other 4
	 */
	e0 = txq->stats.errors;
	app_send(txq, 8);
	for (int i = 0; i < 4; i++)
		dev_push(&d, (uint32_t)dev_pop(&d), 0);
	dev_push(&d, QSIZE, 0);
	dev_push(&d, UINT32_MAX, UINT32_MAX);
	dev_push(&d, d.vq->used->ring[(d.used_idx - 1) & d.vq->mask].id, 0);
	vv_tx_done_cleanup(txq, 0);
	dev_tx_all(&d, txq);
	vv_tx_done_cleanup(txq, 0);
	tap_check(&t, txq->stats.errors - e0 == 3 && txq->nb_free == QSIZE &&
		  txq->stats.ring_faults == 0, "ids %u, 0xffffffff and a repeated one: 3 "
		  "errors (%" PRIu64 "), nothing freed twice, the 8 good ones reclaimed (%u "
		  "free)", QSIZE, txq->stats.errors - e0, txq->nb_free);
	pool_full("transmit, bad ids");

	/* the used index jumps ahead: the queue stops, nothing is freed that is out */
	n = app_send(txq, 8);
	dev_jump(&d, 2 * QSIZE);
	vv_tx_done_cleanup(txq, 0);
	n = app_send(txq, 8);
	tap_check(&t, n == 0 && txq->stats.ring_faults == 1,
		  "used index 512 ahead: queue stopped (%u packets taken after, %" PRIu64 " "
		  "ring fault)", n, txq->stats.ring_faults);
	vv_txq_start(txq, false, true);
	dev_reset(&d, &txq->vq);
	n = app_send(txq, 8);
	dev_tx_all(&d, txq);
	vv_tx_done_cleanup(txq, 0);
	tap_check(&t, n == 8 && txq->nb_free == QSIZE, "after a restart the queue works "
		  "again (%u packets)", n);
	app_send(txq, 8);
	dev_tx_all(&d, txq);
	vv_tx_done_cleanup(txq, 0);
	dev_jump(&d, -1);
	vv_tx_done_cleanup(txq, 0);   /* completions are read lazily: ask now */
	n = app_send(txq, 8);
	tap_check(&t, n == 0 && txq->stats.ring_faults == 2, "used index 1 behind: queue "
		  "stopped (%u packets taken, %" PRIu64 " ring faults)", n,
		  txq->stats.ring_faults);
	vv_txq_release(txq);
	pool_full("transmit");
}

/*
 * Everything again in translated mode (see the file comment), then a pool the cache
 * does not hold: nothing of it may reach a descriptor.
 */
static void
translated(void)
{
	struct rte_iova_cache_params cp = { .name = "hr_xl", .max_readers = 1 };
	struct rte_mempool *plain = pool, *unmapped;
	struct vv_rxq *rxq;
	struct vv_txq *txq;
	struct rte_mbuf *pk[4];
	struct dev d;
	uint16_t n;

	tap_diag("==== translated mode: IOVA = VA + 0x%" PRIx64 " ====", XL_DELTA);
	unmapped = rte_pktmbuf_pool_create("hr_unmapped", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   SOCKET_ID_ANY);
	xl_cache = rte_iova_cache_create(&cp);
	if (!tap_check(&t, xl_cache != NULL && unmapped != NULL, "translation cache"))
		return;
	pool = pool_make("hr_xl_pool", POOL_SIZE);
	rx_single();
	rx_merged();
	tx();

	tap_diag("---- translated mode: a pool the cache does not hold ----");
	rxq = NULL;
	tap_check(&t, vv_rxq_setup(&hw, &rxq, 0, QSIZE, SOCKET_ID_ANY, unmapped, 0) == -EINVAL &&
		  rxq == NULL && rte_mempool_avail_count(unmapped) == 63,
		  "receive: a queue on it is refused at setup, no mbuf taken");
	txq = tx_open(&d);
	for (unsigned int i = 0; i < RTE_DIM(pk); i++) {
		pk[i] = rte_pktmbuf_alloc(unmapped);
		if (pk[i] == NULL)
			abort();
		memset(rte_pktmbuf_append(pk[i], 60), 0xa5, 60);
	}
	n = vv_xmit_pkts(txq, pk, RTE_DIM(pk));
	tap_check(&t, n == RTE_DIM(pk) && txq->stats.dropped == RTE_DIM(pk) &&
		  txq->stats.packets == 0 && dev_pop(&d) < 0 &&
		  rte_mempool_avail_count(unmapped) == 63, "transmit: its %u packets dropped "
		  "(%" PRIu64 "), none posted, freed", n, txq->stats.dropped);
	vv_txq_release(txq);

	rte_iova_cache_reader_unregister(xl_cache, 0);
	xl_registered = false;
	tap_check(&t, rte_iova_cache_free(xl_cache) == 0, "cache freed, no reader left");
	xl_cache = NULL;
	rte_mempool_free(pool);
	rte_mempool_free(unmapped);
	pool = plain;
}

int
main(int argc, char **argv)
{
	char *eal[] = { argv[0], "-l", "0", "--no-huge", "-m", "128", "--no-pci",
			"--iova-mode=va", "--no-shconf", "--log-level=pmd.net.vfiofd_virtio:info",
			NULL };

	(void)argc;
	if (!host_eal_init(&t, (int)RTE_DIM(eal) - 1, eal))
		return tap_done(&t);
	vv_logtype = rte_log_register_type_and_pick_level("pmd.net.vfiofd_virtio",
							  RTE_LOG_INFO);
	pool = rte_pktmbuf_pool_create("hr_pool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!tap_check(&t, pool != NULL, "mbuf pool"))
		return tap_done(&t);
	rx_single();
	rx_merged();
	tx();
	translated();
	tap_diag("%u kicks", kicks);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return tap_done(&t);
}
