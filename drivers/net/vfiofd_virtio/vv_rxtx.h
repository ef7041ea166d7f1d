/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive and transmit queues of the vfiofd virtio-net PMD.
 */

#ifndef VV_RXTX_H
#define VV_RXTX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vv_vq.h"

/* Descriptors of a transmit slot's indirect table: the header plus 15 segments. */
#define VV_TX_INDIRECT_MAX 16
/* At most this many buffers are allocated (and posted) per refill. */
#define VV_RX_REFILL_MAX 256
/* Default batch sizes, when the application leaves the thresholds at 0. */
#define VV_RX_FREE_THRESH 32

struct vv_rxq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;        /* malformed completions, dropped; buffers in memory
				 * the memory library does not map (translated mode) */
	uint64_t nombuf;        /* buffers we could not allocate for a refill */
	uint64_t kicks;
	uint64_t multi_buf;     /* packets spread over several buffers (MRG_RXBUF) */
	uint64_t intr_armed;    /* rx_queue_intr_enable() calls */
	uint64_t ring_faults;   /* used index moved past what the device holds: stopped */
};

struct vv_txq_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t dropped;       /* packets the device cannot take (too many segments,
				 * or memory the library does not map: translated mode) */
	uint64_t kicks;
	uint64_t indirect;      /* packets sent through an indirect table */
	uint64_t reclaimed;     /* completions processed */
	uint64_t errors;        /* completions of descriptors the device does not hold */
	uint64_t ring_faults;   /* used index moved past what the device holds: stopped */
};

struct vv_rxq {
	struct vv_vq vq;                /* first: its hot fields lead the structure */
	struct rte_mbuf **sw_ring;      /* mbuf posted in each descriptor, NULL if none */
	struct rte_mempool *mp;
	struct rte_iova_cache *xlate;   /* translated mode: buffers' IOVAs from here */
	uint64_t mbuf_initializer;      /* rearm_data of a fresh mbuf of this port */
	uint32_t buf_len;               /* bytes offered per buffer, header included */
	uint16_t nb_free;               /* descriptors without a buffer */
	uint16_t free_thresh;           /* refill in batches of at least this */
	uint16_t port_id;
	uint16_t queue_id;
	bool mrg;                       /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool scatter;                   /* the application accepts chained mbufs */
	bool intr_on;                   /* rx interrupt requested by the application */
	bool started;
	bool faulted;                   /* the used ring lied (ring_faults): stopped */
	struct vv_rxq_stats stats;

	/* configuration kept for the next start */
	uint16_t nb_desc;
	int socket;
	const char *devname;
} __rte_cache_aligned;

struct vv_txq {
	struct vv_vq vq;
	struct rte_mbuf **sw_ring;      /* packet in each descriptor, NULL once returned */
	struct vv_desc *indir;          /* VV_TX_INDIRECT_MAX descriptors per slot */
	uint64_t indir_iova;
	uint8_t *hdrs;                  /* one header per slot, for indirect packets */
	uint64_t hdrs_iova;
	struct rte_iova_cache *xlate;   /* translated mode: packets' IOVAs from here */
	uint16_t nb_free;
	uint16_t free_thresh;
	uint16_t port_id;
	uint16_t queue_id;
	bool indirect;                  /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool started;
	bool faulted;                   /* the used ring lied (ring_faults): stopped */
	struct vv_txq_stats stats;

	uint16_t nb_desc;
	int socket;
	const char *devname;
} __rte_cache_aligned;

struct vv_hw;

int vv_rxq_setup(struct vv_hw *hw, struct vv_rxq **out, uint16_t queue_id,
		 uint16_t nb_desc, int socket, struct rte_mempool *mp,
		 uint16_t free_thresh);
void vv_rxq_release(struct vv_rxq *rxq);
int vv_txq_setup(struct vv_hw *hw, struct vv_txq **out, uint16_t queue_id,
		 uint16_t nb_desc, int socket, uint16_t free_thresh);
void vv_txq_release(struct vv_txq *txq);

/* Device start: lay the rings out again, post every receive buffer. */
int vv_rxq_start(struct vv_rxq *rxq, bool event_idx, bool mrg, bool scatter);
void vv_txq_start(struct vv_txq *txq, bool event_idx, bool indirect);
/* After DRIVER_OK: tell the device the receive buffers are there. */
void vv_rxq_kick(struct vv_rxq *rxq);
/* Device stop (after the reset): give back every mbuf the rings hold. */
void vv_rxq_stop(struct vv_rxq *rxq);
void vv_txq_stop(struct vv_txq *txq);

/* Bytes of packet data one receive buffer of @mp holds. */
uint32_t vv_rx_buf_data_room(const struct rte_mempool *mp);

uint16_t vv_recv_pkts(void *rxq, struct rte_mbuf **rx_pkts, uint16_t nb_pkts);
uint16_t vv_recv_mrg_pkts(void *rxq, struct rte_mbuf **rx_pkts, uint16_t nb_pkts);
uint16_t vv_xmit_pkts(void *txq, struct rte_mbuf **tx_pkts, uint16_t nb_pkts);

/* Application-requested cleanup (rte_eth_tx_done_cleanup). */
int vv_tx_done_cleanup(void *txq, uint32_t free_cnt);

#endif /* VV_RXTX_H */
