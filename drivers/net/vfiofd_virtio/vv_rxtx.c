/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive and transmit.
 *
 * Every data-queue buffer is a single descriptor and descriptor i always sits in
 * avail slot i (see vv_vq.h), so posting a buffer is one descriptor write, and the
 * mbuf of a completion is found from the used entry's id.
 *
 * Receive: the buffer offered to the device starts VV_NET_HDR_LEN bytes before the
 * mbuf's data, so the device writes the virtio-net header into the headroom and the
 * packet lands at the usual data offset. Unless VIRTIO_NET_F_MRG_RXBUF is negotiated
 * (it is not by default: a packet fits one buffer at the default MTU, and without it
 * the device does less work per packet), a packet is exactly one buffer.
 *
 * Transmit: the header is written into the mbuf's headroom and the packet goes out as
 * one descriptor covering header and data. Packets whose headroom we may not touch
 * (shared or indirect mbufs) or that have several segments use the slot's indirect
 * table instead (VIRTIO_F_INDIRECT_DESC). Completed slots are reclaimed lazily, in
 * batches, when the ring runs low.
 *
 * Kicks and interrupts: a kick is an exit into the device model, the most expensive
 * thing the data path does; vv_vq_publish() kicks only when the device asked for it.
 * Interrupts stay suppressed unless the application arms one (rx interrupt mode).
 *
 * A device that lies. Every used entry is checked before it is believed: an id the
 * driver does not hold, a length the buffer cannot have, a num_buffers the ring cannot
 * satisfy are counted in the queue's errors and the buffers recycled, and the queue
 * goes on. A used index that moves by more than the buffers the device holds (ahead,
 * or back, which reads as far ahead) leaves nothing to trust: the entries it covers
 * are stale, and believing them would hand the application (or free) buffers the
 * device still owns. The queue then stops (bursts return 0, ring_faults counts it,
 * one line is logged) until the port restarts, which resets the device and the rings.
 * Descriptors are written whole whenever a buffer is posted, so nothing the device
 * scribbled on them survives a repost. The driver never follows descriptor chains.
 *
 * DMA addresses: the rings and the transmit header/indirect area had theirs computed
 * once, at setup, from the iommufd memory library. Buffers normally carry theirs
 * (buf_iova, the EAL's IOVA: VA, or PA where the bus selected IOVA as PA for a narrow
 * IOMMU; the memory library maps either), and nothing is translated per packet. In
 * the library's translated mode (rte_iommufd_mem_translated(): an IOMMU that cannot
 * address user VAs in a process that cannot read physical addresses, or iova=translated)
 * buf_iova is the VA, which the device must never be given: every buffer's IOVA is
 * looked up in the library's lock-free cache, one inline lookup of its first byte per
 * buffer (the library keeps VA-contiguous memory IOVA-contiguous), inside a window in
 * which the lcore is an online reader of the cache (xlate_begin()/xlate_end(), per
 * refill and per transmit burst; offline in between, so an lcore that stops polling
 * never holds up an unmap). A buffer the cache does not know is never posted.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "rte_iommufd_mem.h"
#include "rte_iova_cache.h"
#include "vv_ethdev.h"
#include "vv_logs.h"
#include "vv_rxtx.h"

/* Headers of indirect packets: one 16-byte cell per slot (12 used). */
#define VV_TX_HDR_CELL 16

/* Translated mode only (see the file comment): a burst's reader of the cache. */
struct xlate {
	struct rte_iova_cache *cache; /* NULL: buffers carry their IOVA (buf_iova) */
	int reader;                   /* < 0: a thread without lcore id, lookups locked */
};

static __rte_always_inline struct xlate
xlate_begin(struct rte_iova_cache *cache)
{
	return (struct xlate){
		.cache = cache,
		.reader = likely(cache == NULL) ? -1 : rte_iommufd_mem_reader_enter(),
	};
}

static __rte_always_inline void
xlate_end(const struct xlate *x)
{
	if (unlikely(x->cache != NULL))
		rte_iommufd_mem_reader_leave(x->reader);
}

/* IOVA of @va, inside @m's buffer; RTE_BAD_IOVA if translated and not mapped. */
static __rte_always_inline rte_iova_t
xlate_iova(const struct xlate *x, const struct rte_mbuf *m, const void *va)
{
	if (likely(x->cache == NULL))
		return m->buf_iova + (uint64_t)((const uint8_t *)va - (const uint8_t *)m->buf_addr);
	return likely(x->reader >= 0) ? rte_iova_cache_va2iova(x->cache, va) :
	       rte_iova_cache_va2iova_locked(x->cache, va);
}

uint32_t
vv_rx_buf_data_room(const struct rte_mempool *mp)
{
	uint16_t room = rte_pktmbuf_data_room_size((struct rte_mempool *)(uintptr_t)mp);

	return room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
}

/* Size of a queue: the application's wish rounded to a power of two, within limits. */
static uint16_t
queue_size(uint16_t want, uint16_t max)
{
	if (want == 0 || want >= max)
		return max;
	want = (uint16_t)rte_align32prevpow2(want);
	return want < 16 ? RTE_MIN((uint16_t)16, max) : want;
}

static uint64_t
rx_mbuf_initializer(uint16_t port_id)
{
	struct rte_mbuf mb;
	uint64_t v;

	memset(&mb, 0, sizeof(mb));
	mb.nb_segs = 1;
	mb.data_off = RTE_PKTMBUF_HEADROOM;
	mb.port = port_id;
	rte_mbuf_refcnt_set(&mb, 1);
	/* rearm_data covers data_off, refcnt, nb_segs and port: one 8-byte store */
	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, data_off) !=
			 offsetof(struct rte_mbuf, rearm_data));
	RTE_BUILD_BUG_ON(offsetof(struct rte_mbuf, port) + sizeof(mb.port) -
			 offsetof(struct rte_mbuf, rearm_data) > sizeof(v));
	memcpy(&v, &mb.rearm_data, sizeof(v));
	return v;
}

/* rte_mempool_mem_iter() callback: clears *arg if a chunk is not mapped as one range */
static void
chunk_translates(struct rte_mempool *mp, void *arg, struct rte_mempool_memhdr *memhdr,
		 unsigned int idx)
{
	struct rte_iova_cache *c = rte_iommufd_mem_cache();
	rte_iova_t first = rte_iova_cache_va2iova_locked(c, memhdr->addr);
	rte_iova_t last = rte_iova_cache_va2iova_locked(c, (uint8_t *)memhdr->addr +
							memhdr->len - 1);

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	if (first == RTE_BAD_IOVA || last != first + memhdr->len - 1)
		*(bool *)arg = false;
}

int
vv_rxq_setup(struct vv_hw *hw, struct vv_rxq **out, uint16_t queue_id, uint16_t nb_desc,
	     int socket, struct rte_mempool *mp, uint16_t free_thresh)
{
	uint16_t port = hw->eth_dev->data->port_id;
	uint16_t vqi = 2 * queue_id;
	uint16_t max = hw->qsize[vqi];
	char name[RTE_MEMZONE_NAMESIZE];
	struct vv_rxq *rxq;
	uint32_t room = vv_rx_buf_data_room(mp);
	int ret;

	if (max == 0) {
		VV_DEV_LOG(ERR, hw->name, "rx queue %u: the device has no virtqueue %u",
			   queue_id, vqi);
		return -EINVAL;
	}
	if (room < RTE_ETHER_MIN_LEN) {
		VV_DEV_LOG(ERR, hw->name, "rx queue %u: mempool %s has %u bytes of data room "
			   "after the %u-byte headroom: too small", queue_id, mp->name, room,
			   RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	RTE_BUILD_BUG_ON(RTE_PKTMBUF_HEADROOM < VV_NET_HDR_LEN);
	if (rte_iommufd_mem_translated()) {
		bool ok = true;

		rte_mempool_mem_iter(mp, chunk_translates, &ok);
		if (!ok) {
			VV_DEV_LOG(ERR, hw->name, "rx queue %u: mempool %s lies in memory the "
				   "iommufd memory library does not map as one range, and this "
				   "process runs with translated IOVAs: the device could be given "
				   "none of its buffers (external memory: rte_dev_dma_map() it)",
				   queue_id, mp->name);
			return -EINVAL;
		}
	}
	rxq = rte_zmalloc_socket("vv_rxq", sizeof(*rxq), RTE_CACHE_LINE_SIZE, socket);
	if (rxq == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "vv%u_rxq%u", port, queue_id);
	ret = vv_vq_alloc(&rxq->vq, hw->name, name, socket, vqi, queue_size(nb_desc, max), 0);
	if (ret < 0) {
		rte_free(rxq);
		return ret;
	}
	rxq->sw_ring = rte_zmalloc_socket("vv_rxq_sw", sizeof(rxq->sw_ring[0]) * rxq->vq.size,
					  RTE_CACHE_LINE_SIZE, socket);
	if (rxq->sw_ring == NULL) {
		vv_vq_free(&rxq->vq);
		rte_free(rxq);
		return -ENOMEM;
	}
	rxq->mp = mp;
	rxq->xlate = rte_iommufd_mem_translated() ? rte_iommufd_mem_cache() : NULL;
	rxq->buf_len = room + VV_NET_HDR_LEN;
	rxq->mbuf_initializer = rx_mbuf_initializer(port);
	rxq->nb_free = rxq->vq.size;
	rxq->free_thresh = free_thresh != 0 ? free_thresh :
			   RTE_MIN((uint16_t)VV_RX_FREE_THRESH, (uint16_t)(rxq->vq.size / 4));
	if (rxq->free_thresh > rxq->vq.size)
		rxq->free_thresh = rxq->vq.size;
	rxq->port_id = port;
	rxq->queue_id = queue_id;
	rxq->nb_desc = nb_desc;
	rxq->socket = socket;
	rxq->devname = hw->name;
	VV_DEV_LOG(INFO, hw->name, "rx queue %u: virtqueue %u, %u descriptors (device max "
		   "%u), buffers of %u bytes from %s", queue_id, vqi, rxq->vq.size, max,
		   room, mp->name);
	*out = rxq;
	return 0;
}

void
vv_rxq_release(struct vv_rxq *rxq)
{
	if (rxq == NULL)
		return;
	vv_rxq_stop(rxq);
	rte_free(rxq->sw_ring);
	vv_vq_free(&rxq->vq);
	rte_free(rxq);
}

int
vv_txq_setup(struct vv_hw *hw, struct vv_txq **out, uint16_t queue_id, uint16_t nb_desc,
	     int socket, uint16_t free_thresh)
{
	uint16_t port = hw->eth_dev->data->port_id;
	uint16_t vqi = 2 * queue_id + 1;
	uint16_t max = hw->qsize[vqi], size;
	char name[RTE_MEMZONE_NAMESIZE];
	struct vv_txq *txq;
	uint32_t indir_len, extra;
	int ret;

	if (max == 0) {
		VV_DEV_LOG(ERR, hw->name, "tx queue %u: the device has no virtqueue %u",
			   queue_id, vqi);
		return -EINVAL;
	}
	size = queue_size(nb_desc, max);
	indir_len = (uint32_t)size * VV_TX_INDIRECT_MAX * sizeof(struct vv_desc);
	extra = indir_len + (uint32_t)size * VV_TX_HDR_CELL;
	txq = rte_zmalloc_socket("vv_txq", sizeof(*txq), RTE_CACHE_LINE_SIZE, socket);
	if (txq == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "vv%u_txq%u", port, queue_id);
	ret = vv_vq_alloc(&txq->vq, hw->name, name, socket, vqi, size, extra);
	if (ret < 0) {
		rte_free(txq);
		return ret;
	}
	txq->sw_ring = rte_zmalloc_socket("vv_txq_sw", sizeof(txq->sw_ring[0]) * size,
					  RTE_CACHE_LINE_SIZE, socket);
	if (txq->sw_ring == NULL) {
		vv_vq_free(&txq->vq);
		rte_free(txq);
		return -ENOMEM;
	}
	txq->indir = (struct vv_desc *)txq->vq.extra;
	txq->indir_iova = txq->vq.extra_iova;
	txq->hdrs = txq->vq.extra + indir_len;
	txq->hdrs_iova = txq->vq.extra_iova + indir_len;
	txq->xlate = rte_iommufd_mem_translated() ? rte_iommufd_mem_cache() : NULL;
	txq->nb_free = size;
	/* default: reclaim once half the ring waits for it (batches, but a small
	 * working set of mbufs) */
	txq->free_thresh = free_thresh != 0 ? free_thresh : size / 2;
	if (txq->free_thresh > size)
		txq->free_thresh = size;
	txq->port_id = port;
	txq->queue_id = queue_id;
	txq->nb_desc = nb_desc;
	txq->socket = socket;
	txq->devname = hw->name;
	VV_DEV_LOG(INFO, hw->name, "tx queue %u: virtqueue %u, %u descriptors (device max %u)",
		   queue_id, vqi, size, max);
	*out = txq;
	return 0;
}

void
vv_txq_release(struct vv_txq *txq)
{
	if (txq == NULL)
		return;
	vv_txq_stop(txq);
	rte_free(txq->sw_ring);
	vv_vq_free(&txq->vq);
	rte_free(txq);
}

/*
 * Post up to @n fresh buffers in the free slots that follow the last posted one. A
 * slot whose descriptor the device still holds (only with out-of-order completion)
 * ends the batch. Returns how many were posted; the caller publishes them.
 */
static uint16_t
rx_post(struct vv_rxq *rxq, uint16_t n)
{
	struct vv_vq *vq = &rxq->vq;
	struct rte_mbuf *bufs[VV_RX_REFILL_MAX];
	uint16_t idx = vq->avail_idx, i;
	/* the device writes the header just before the packet data */
	const uint64_t off = RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN;
	struct xlate x;

	n = RTE_MIN(n, (uint16_t)VV_RX_REFILL_MAX);
	if (unlikely(rte_mempool_get_bulk(rxq->mp, (void **)bufs, n) != 0)) {
		rxq->stats.nombuf += n;
		return 0;
	}
	x = xlate_begin(rxq->xlate);
	for (i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)(idx + i) & vq->mask;
		rte_iova_t iova;

		if (unlikely(rxq->sw_ring[slot] != NULL))
			break;
		iova = xlate_iova(&x, bufs[i], (const uint8_t *)bufs[i]->buf_addr + off);
		if (unlikely(iova == RTE_BAD_IOVA)) {
			rxq->stats.errors++;  /* a pool in memory the library does not map */
			break;
		}
		rxq->sw_ring[slot] = bufs[i];
		/* whole: a len, flags or next the device wrote over must not survive */
		vq->desc[slot] = (struct vv_desc){
			.addr = iova,
			.len = rxq->buf_len,
			.flags = VV_DESC_F_WRITE,
		};
	}
	xlate_end(&x);
	if (unlikely(i < n))
		rte_mempool_put_bulk(rxq->mp, (void **)&bufs[i], n - i);
	vq->avail_idx = idx + i;
	rxq->nb_free -= i;
	return i;
}

/*
 * The device moved its used index by @pending with only @held buffers out: stop the
 * queue (see the file comment). Cold: once per fault, the queue returns nothing after.
 */
static void __rte_noinline __rte_cold
ring_fault(const char *devname, const char *dir, uint16_t port, uint16_t queue,
	   uint16_t pending, uint16_t held, bool *faulted, uint64_t *faults, uint64_t *errors)
{
	*faulted = true;
	(*faults)++;
	(*errors)++;
	VV_DEV_LOG(ERR, devname, "port %u %s queue %u: the device moved its used index %u "
		   "entries ahead (or %u back) with %u buffers out: its ring cannot be "
		   "trusted; queue stopped until the port restarts", port, dir, queue, pending,
		   (uint16_t)(0u - pending), held);
}

static __rte_always_inline bool
rx_ring_ok(struct vv_rxq *rxq, uint16_t pending)
{
	uint16_t held = rxq->vq.size - rxq->nb_free;

	if (likely(pending <= held))
		return true;
	ring_fault(rxq->devname, "rx", rxq->port_id, rxq->queue_id, pending, held,
		   &rxq->faulted, &rxq->stats.ring_faults, &rxq->stats.errors);
	return false;
}

/* Refill the free slots, publish, and kick if the device ran dry and asked for it. */
static void
rx_refill(struct vv_rxq *rxq)
{
	if (rx_post(rxq, rxq->nb_free) == 0)
		return;
	if (vv_vq_publish(&rxq->vq)) {
		vv_notify(&rxq->vq.notify);
		rxq->stats.kicks++;
	}
}

static __rte_always_inline void
rx_recycle(struct vv_rxq *rxq, struct rte_mbuf *m)
{
	/* never handed to the application: still a fresh mbuf of this pool */
	rte_mempool_put(rxq->mp, m);
}

/* @consumed used entries processed, @freed descriptors given back by them */
static __rte_always_inline void
rx_finish(struct vv_rxq *rxq, uint16_t consumed, uint16_t freed)
{
	struct vv_vq *vq = &rxq->vq;

	vq->used_idx += consumed;
	rxq->nb_free += freed;
	if (!rxq->intr_on)
		vv_vq_intr_keep_off(vq);
	if (rxq->nb_free >= rxq->free_thresh)
		rx_refill(rxq);
}

uint16_t
vv_recv_pkts(void *q, struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	struct vv_rxq *rxq = q;
	struct vv_vq *vq = &rxq->vq;
	uint16_t n, used = vq->used_idx, i, nb_rx = 0, bogus = 0;
	const uint64_t init = rxq->mbuf_initializer;
	uint64_t bytes = 0;

	if (unlikely(rxq->faulted))
		return 0;
	n = vv_vq_used_pending(vq);
	if (n == 0) {
		if (unlikely(rxq->nb_free >= rxq->free_thresh))
			rx_refill(rxq);
		return 0;
	}
	if (unlikely(!rx_ring_ok(rxq, n)))
		return 0;
	if (n > nb_pkts)
		n = nb_pkts;
	for (i = 0; i < n; i++) {
		const struct vv_used_elem *e = &vq->used->ring[(uint16_t)(used + i) & vq->mask];
		uint32_t id = e->id, len = e->len;
		struct rte_mbuf *m;

		if (unlikely(id >= vq->size || rxq->sw_ring[id] == NULL)) {
			/* the device returned a descriptor it does not hold: skip it */
			rxq->stats.errors++;
			bogus++;
			continue;
		}
		m = rxq->sw_ring[id];
		rxq->sw_ring[id] = NULL;
		if (unlikely(len <= VV_NET_HDR_LEN || len > rxq->buf_len)) {
			rxq->stats.errors++;
			rx_recycle(rxq, m);
			continue;
		}
		len -= VV_NET_HDR_LEN;
		memcpy(&m->rearm_data, &init, sizeof(init));
		m->ol_flags = 0;
		m->packet_type = RTE_PTYPE_UNKNOWN;
		m->pkt_len = len;
		m->data_len = (uint16_t)len;
		bytes += len;
		rx_pkts[nb_rx++] = m;
	}
	rxq->stats.packets += nb_rx;
	rxq->stats.bytes += bytes;
	rx_finish(rxq, n, n - bogus);
	return nb_rx;
}

/*
 * With MRG_RXBUF a packet may span several buffers; the first one's header says how
 * many. A packet is taken only once all its buffers are in the used ring.
 */
uint16_t
vv_recv_mrg_pkts(void *q, struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	struct vv_rxq *rxq = q;
	struct vv_vq *vq = &rxq->vq;
	uint16_t pending, used = vq->used_idx, c = 0, nb_rx = 0, held;
	uint16_t freed = 0;
	const uint64_t init = rxq->mbuf_initializer;
	uint64_t bytes = 0;

	if (unlikely(rxq->faulted))
		return 0;
	pending = vv_vq_used_pending(vq);
	if (unlikely(!rx_ring_ok(rxq, pending)))
		return 0;
	/* the buffers the device holds: no packet can span more than these */
	held = vq->size - rxq->nb_free;
	while (nb_rx < nb_pkts && c < pending) {
		const struct vv_used_elem *e = &vq->used->ring[(uint16_t)(used + c) & vq->mask];
		uint32_t id = e->id, len = e->len;
		const struct vv_net_hdr *hdr;
		struct rte_mbuf *head, *prev;
		uint16_t nbufs, k;
		bool bad = false;

		if (unlikely(id >= vq->size || rxq->sw_ring[id] == NULL)) {
			rxq->stats.errors++;
			c++;
			continue;
		}
		head = rxq->sw_ring[id];
		hdr = (const struct vv_net_hdr *)((uint8_t *)head->buf_addr +
						  RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN);
		nbufs = len > VV_NET_HDR_LEN ? hdr->num_buffers : 0;
		/*
		 * More buffers than the device holds can never all arrive: waiting for
		 * them would stop the queue for good. (held - freed: what is still out,
		 * this head included.)
		 */
		if (unlikely(nbufs == 0 || nbufs > held - freed || len > rxq->buf_len)) {
			rxq->sw_ring[id] = NULL;
			rxq->stats.errors++;
			rx_recycle(rxq, head);
			c++;
			freed++;
			continue;
		}
		if (unlikely(nbufs > pending - c))
			break;  /* the rest of this packet is not there yet */
		rxq->sw_ring[id] = NULL;
		freed++;
		len -= VV_NET_HDR_LEN;
		memcpy(&head->rearm_data, &init, sizeof(init));
		head->ol_flags = 0;
		head->packet_type = RTE_PTYPE_UNKNOWN;
		head->data_len = (uint16_t)len;
		head->pkt_len = len;
		prev = head;
		for (k = 1; k < nbufs; k++) {
			const struct vv_used_elem *e2 =
				&vq->used->ring[(uint16_t)(used + c + k) & vq->mask];
			uint32_t id2 = e2->id, len2 = e2->len;
			struct rte_mbuf *m;

			if (unlikely(id2 >= vq->size || rxq->sw_ring[id2] == NULL)) {
				bad = true;
				continue;
			}
			m = rxq->sw_ring[id2];
			rxq->sw_ring[id2] = NULL;
			freed++;
			if (unlikely(len2 > rxq->buf_len || bad)) {
				bad = true;
				rx_recycle(rxq, m);
				continue;
			}
			memcpy(&m->rearm_data, &init, sizeof(init));
			/* follow-on buffers carry data from their first byte on */
			m->data_off = RTE_PKTMBUF_HEADROOM - VV_NET_HDR_LEN;
			m->data_len = (uint16_t)len2;
			prev->next = m;
			prev = m;
			head->nb_segs++;
			head->pkt_len += len2;
		}
		c += nbufs;
		if (nbufs > 1)
			rxq->stats.multi_buf++;
		if (unlikely(bad || (nbufs > 1 && !rxq->scatter))) {
			rxq->stats.errors++;
			rte_pktmbuf_free(head);
			continue;
		}
		bytes += head->pkt_len;
		rx_pkts[nb_rx++] = head;
	}
	rxq->stats.packets += nb_rx;
	rxq->stats.bytes += bytes;
	if (c > 0)
		rx_finish(rxq, c, freed);
	else if (unlikely(rxq->nb_free >= rxq->free_thresh))
		rx_refill(rxq);
	return nb_rx;
}

int
vv_rxq_start(struct vv_rxq *rxq, bool event_idx, bool mrg, bool scatter)
{
	struct vv_vq *vq = &rxq->vq;
	uint64_t nombuf;

	vv_rxq_stop(rxq);   /* no mbuf may survive a previous run */
	vv_vq_reset(vq, event_idx);
	for (uint16_t i = 0; i < vq->size; i++) {
		vq->desc[i].len = rxq->buf_len;
		vq->desc[i].flags = VV_DESC_F_WRITE;
	}
	rxq->mrg = mrg;
	rxq->scatter = scatter;
	rxq->intr_on = false;
	rxq->faulted = false;
	rxq->nb_free = vq->size;
	/*
	 * Post every buffer, in smaller batches if the mempool runs short. Only the
	 * index is published: the device must not be notified before DRIVER_OK
	 * (vv_rxq_kick() does it after).
	 */
	nombuf = rxq->stats.nombuf;   /* a short pool at start is reported below */
	for (uint16_t n = VV_RX_REFILL_MAX; rxq->nb_free > 0 && n > 0; ) {
		if (rx_post(rxq, RTE_MIN(n, rxq->nb_free)) == 0)
			n /= 2;
	}
	rxq->stats.nombuf = nombuf;
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	vq->published_idx = vq->avail_idx;
	if (rxq->nb_free == vq->size) {
		VV_DEV_LOG(ERR, rxq->devname, "rx queue %u: mempool %s has no free mbuf",
			   rxq->queue_id, rxq->mp->name);
		return -ENOMEM;
	}
	if (rxq->nb_free > 0)
		VV_DEV_LOG(WARNING, rxq->devname, "rx queue %u: only %u of %u buffers posted "
			   "(mempool %s is short)", rxq->queue_id, vq->size - rxq->nb_free,
			   vq->size, rxq->mp->name);
	rxq->started = true;
	return 0;
}

void
vv_rxq_kick(struct vv_rxq *rxq)
{
	vv_notify(&rxq->vq.notify);
}

void
vv_rxq_stop(struct vv_rxq *rxq)
{
	if (rxq->sw_ring != NULL) {
		for (uint16_t i = 0; i < rxq->vq.size; i++) {
			if (rxq->sw_ring[i] != NULL) {
				rx_recycle(rxq, rxq->sw_ring[i]);
				rxq->sw_ring[i] = NULL;
			}
		}
	}
	rxq->nb_free = rxq->vq.size;
	rxq->started = false;
}

/* Process completions: free the packets the device is done with. */
static uint16_t
tx_reclaim(struct vv_txq *txq, uint16_t max)
{
	struct vv_vq *vq = &txq->vq;
	struct rte_mbuf *done[64];
	uint16_t n, used = vq->used_idx, nd = 0, i, held = vq->size - txq->nb_free;
	uint16_t freed = 0;

	if (unlikely(txq->faulted))
		return 0;
	n = vv_vq_used_pending(vq);
	if (unlikely(n > held)) {
		/* stale entries: their ids name packets the device may still read */
		ring_fault(txq->devname, "tx", txq->port_id, txq->queue_id, n, held,
			   &txq->faulted, &txq->stats.ring_faults, &txq->stats.errors);
		return 0;
	}
	if (n > max)
		n = max;
	for (i = 0; i < n; i++) {
		uint32_t id = vq->used->ring[(uint16_t)(used + i) & vq->mask].id;
		struct rte_mbuf *m;

		if (unlikely(id >= vq->size || txq->sw_ring[id] == NULL)) {
			txq->stats.errors++;  /* not out: nothing to free */
			continue;
		}
		m = txq->sw_ring[id];
		txq->sw_ring[id] = NULL;
		freed++;
		done[nd++] = m;
		if (nd == RTE_DIM(done)) {
			rte_pktmbuf_free_bulk(done, nd);
			nd = 0;
		}
	}
	if (nd > 0)
		rte_pktmbuf_free_bulk(done, nd);
	vq->used_idx = used + n;
	txq->nb_free += freed;
	txq->stats.reclaimed += freed;
	vv_vq_intr_keep_off(vq);
	return n;
}

/* The header of an outgoing packet: no offload, no GSO, num_buffers 0. */
static __rte_always_inline void
tx_hdr_clear(void *hdr)
{
	memset(hdr, 0, VV_NET_HDR_LEN);
}

/* Lay a packet out in slot @slot's indirect table; false if it has too many segments. */
static bool
tx_indirect(struct vv_txq *txq, const struct xlate *x, uint16_t slot, struct rte_mbuf *m)
{
	struct vv_desc *t = &txq->indir[(uint32_t)slot * VV_TX_INDIRECT_MAX];
	struct vv_desc *d = &txq->vq.desc[slot];
	uint8_t *hdr = txq->hdrs + (uint32_t)slot * VV_TX_HDR_CELL;
	uint16_t k = 1;

	if (m->nb_segs >= VV_TX_INDIRECT_MAX)
		return false;
	tx_hdr_clear(hdr);
	t[0].addr = txq->hdrs_iova + (uint32_t)slot * VV_TX_HDR_CELL;
	t[0].len = VV_NET_HDR_LEN;
	t[0].flags = VV_DESC_F_NEXT;
	t[0].next = 1;
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		if (s->data_len == 0)
			continue;
		t[k].addr = xlate_iova(x, s, rte_pktmbuf_mtod(s, void *));
		if (unlikely(t[k].addr == RTE_BAD_IOVA))
			return false;
		t[k].len = s->data_len;
		t[k].flags = VV_DESC_F_NEXT;
		t[k].next = k + 1;
		k++;
	}
	t[k - 1].flags = 0;
	t[k - 1].next = 0;
	d->addr = txq->indir_iova + (uint64_t)slot * VV_TX_INDIRECT_MAX * sizeof(struct vv_desc);
	d->len = (uint32_t)k * sizeof(struct vv_desc);
	d->flags = VV_DESC_F_INDIRECT;
	return true;
}

uint16_t
vv_xmit_pkts(void *q, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	struct vv_txq *txq = q;
	struct vv_vq *vq = &txq->vq;
	uint16_t idx = vq->avail_idx, i, posted = 0;
	uint64_t bytes = 0;
	struct xlate x;

	/* normally reclaimed after the previous kick; only a full ring waits here */
	if (unlikely(txq->nb_free < nb_pkts))
		tx_reclaim(txq, vq->size);
	if (unlikely(txq->faulted))
		return 0;   /* nothing taken: the application keeps its packets */

	x = xlate_begin(txq->xlate);
	for (i = 0; i < nb_pkts; i++) {
		struct rte_mbuf *m = tx_pkts[i];
		uint16_t slot = (uint16_t)(idx + posted) & vq->mask;
		struct vv_desc *d = &vq->desc[slot];

		if (unlikely(txq->sw_ring[slot] != NULL))
			break;  /* ring full (or its oldest slot still out) */
		if (likely(m->nb_segs == 1 && RTE_MBUF_DIRECT(m) &&
			   rte_mbuf_refcnt_read(m) == 1 &&
			   rte_pktmbuf_headroom(m) >= VV_NET_HDR_LEN)) {
			/* header in the headroom: one descriptor for all */
			uint8_t *hdr = rte_pktmbuf_mtod_offset(m, uint8_t *, -VV_NET_HDR_LEN);
			rte_iova_t iova = xlate_iova(&x, m, hdr);

			if (unlikely(iova == RTE_BAD_IOVA)) {
				txq->stats.dropped++;
				rte_pktmbuf_free(m);
				continue;
			}
			tx_hdr_clear(hdr);
			d->addr = iova;
			d->len = m->data_len + VV_NET_HDR_LEN;
			d->flags = 0;
		} else if (!txq->indirect || !tx_indirect(txq, &x, slot, m)) {
			txq->stats.dropped++;
			rte_pktmbuf_free(m);
			continue;   /* consumed: the application must not send it again */
		} else {
			txq->stats.indirect++;
		}
		txq->sw_ring[slot] = m;
		bytes += m->pkt_len;
		posted++;
	}
	xlate_end(&x);
	if (likely(posted > 0)) {
		vq->avail_idx = idx + posted;
		txq->nb_free -= posted;
		txq->stats.packets += posted;
		txq->stats.bytes += bytes;
		if (vv_vq_publish(vq)) {
			vv_notify(&vq->notify);
			txq->stats.kicks++;
		}
	}
	/*
	 * Free what the device is done with after the kick, not before: the packets
	 * just posted are already on their way while we do it.
	 */
	if (txq->nb_free < txq->free_thresh)
		tx_reclaim(txq, vq->size);
	return i;
}

int
vv_tx_done_cleanup(void *q, uint32_t free_cnt)
{
	struct vv_txq *txq = q;

	if (!txq->started)
		return 0;
	return tx_reclaim(txq, free_cnt == 0 || free_cnt > txq->vq.size ?
			  txq->vq.size : (uint16_t)free_cnt);
}

void
vv_txq_start(struct vv_txq *txq, bool event_idx, bool indirect)
{
	vv_txq_stop(txq);
	vv_vq_reset(&txq->vq, event_idx);
	txq->indirect = indirect;
	txq->nb_free = txq->vq.size;
	txq->faulted = false;
	txq->started = true;
}

void
vv_txq_stop(struct vv_txq *txq)
{
	if (txq->sw_ring != NULL) {
		for (uint16_t i = 0; i < txq->vq.size; i++) {
			if (txq->sw_ring[i] != NULL) {
				rte_pktmbuf_free(txq->sw_ring[i]);
				txq->sw_ring[i] = NULL;
			}
		}
	}
	txq->nb_free = txq->vq.size;
	txq->started = false;
}
