/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics. The data path counts per queue (each queue has a single writer, its
 * lcore); the control thread sums. A reset races with a burst in progress the way
 * every software-counted PMD does: a burst's worth may survive it.
 *
 * xstats: per receive queue, per transmit queue, then per port, in this order:
 */

#include <stdio.h>
#include <string.h>

#include "vv_ethdev.h"

struct vv_xstat_def {
	const char *name;
	size_t off;
};

#define RXS(n, f) { n, offsetof(struct vv_rxq_stats, f) }
#define TXS(n, f) { n, offsetof(struct vv_txq_stats, f) }

static const struct vv_xstat_def rx_defs[] = {
	RXS("packets", packets),
	RXS("bytes", bytes),
	RXS("errors", errors),
	RXS("mbuf_alloc_failed", nombuf),
	RXS("kicks", kicks),
	RXS("multi_buffer_packets", multi_buf),
	RXS("interrupts_armed", intr_armed),
	RXS("ring_faults", ring_faults),
};

static const struct vv_xstat_def tx_defs[] = {
	TXS("packets", packets),
	TXS("bytes", bytes),
	TXS("dropped", dropped),
	TXS("kicks", kicks),
	TXS("indirect_packets", indirect),
	TXS("completions", reclaimed),
	TXS("errors", errors),
	TXS("ring_faults", ring_faults),
};

/* per port */
enum {
	VV_XS_LSC_INTR,
	VV_XS_CTRL_CMDS,
	VV_XS_CTRL_ERRS,
	VV_XS_PORT_COUNT,
};

static const char *const port_names[VV_XS_PORT_COUNT] = {
	[VV_XS_LSC_INTR] = "lsc_interrupts",
	[VV_XS_CTRL_CMDS] = "ctrl_commands",
	[VV_XS_CTRL_ERRS] = "ctrl_errors",
};

static unsigned int
xstats_count(const struct rte_eth_dev *dev)
{
	return dev->data->nb_rx_queues * RTE_DIM(rx_defs) +
	       dev->data->nb_tx_queues * RTE_DIM(tx_defs) + VV_XS_PORT_COUNT;
}

int
vv_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st VV_STATS_QSTATS_PARAM)
{
	__typeof__(VV_STATS_QSTATS(st)) q = VV_STATS_QSTATS(st);

	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		const struct vv_rxq *rxq = dev->data->rx_queues[i];

		if (rxq == NULL)
			continue;
		st->ipackets += rxq->stats.packets;
		st->ibytes += rxq->stats.bytes;
		st->ierrors += rxq->stats.errors;
		st->rx_nombuf += rxq->stats.nombuf;
		if (q != NULL && i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			q->q_ipackets[i] = rxq->stats.packets;
			q->q_ibytes[i] = rxq->stats.bytes;
			q->q_errors[i] = rxq->stats.errors;
		}
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		const struct vv_txq *txq = dev->data->tx_queues[i];

		if (txq == NULL)
			continue;
		st->opackets += txq->stats.packets;
		st->obytes += txq->stats.bytes;
		st->oerrors += txq->stats.dropped;
		if (q != NULL && i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			q->q_opackets[i] = txq->stats.packets;
			q->q_obytes[i] = txq->stats.bytes;
		}
	}
	return 0;
}

int
vv_stats_reset(struct rte_eth_dev *dev)
{
	struct vv_hw *hw = VV_HW(dev);

	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		struct vv_rxq *rxq = dev->data->rx_queues[i];

		if (rxq != NULL)
			memset(&rxq->stats, 0, sizeof(rxq->stats));
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		struct vv_txq *txq = dev->data->tx_queues[i];

		if (txq != NULL)
			memset(&txq->stats, 0, sizeof(txq->stats));
	}
	memset(&hw->stats, 0, sizeof(hw->stats));
	hw->ctrl.commands = 0;
	hw->ctrl.errors = 0;
	return 0;
}

int
vv_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
		    unsigned int size)
{
	unsigned int n = xstats_count(dev), k = 0;

	if (names == NULL || size < n)
		return (int)n;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++)
		for (unsigned int i = 0; i < RTE_DIM(rx_defs); i++)
			snprintf(names[k++].name, sizeof(names[0].name), "rx_q%u_%s", q,
				 rx_defs[i].name);
	for (uint16_t q = 0; q < dev->data->nb_tx_queues; q++)
		for (unsigned int i = 0; i < RTE_DIM(tx_defs); i++)
			snprintf(names[k++].name, sizeof(names[0].name), "tx_q%u_%s", q,
				 tx_defs[i].name);
	for (unsigned int i = 0; i < VV_XS_PORT_COUNT; i++)
		snprintf(names[k++].name, sizeof(names[0].name), "%s", port_names[i]);
	return (int)n;
}

int
vv_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned int size)
{
	struct vv_hw *hw = VV_HW(dev);
	unsigned int n = xstats_count(dev), k = 0;

	if (xs == NULL || size < n)
		return (int)n;
	for (uint16_t q = 0; q < dev->data->nb_rx_queues; q++) {
		const struct vv_rxq *rxq = dev->data->rx_queues[q];

		for (unsigned int i = 0; i < RTE_DIM(rx_defs); i++, k++) {
			xs[k].id = k;
			xs[k].value = rxq == NULL ? 0 :
				*(const uint64_t *)((const uint8_t *)&rxq->stats + rx_defs[i].off);
		}
	}
	for (uint16_t q = 0; q < dev->data->nb_tx_queues; q++) {
		const struct vv_txq *txq = dev->data->tx_queues[q];

		for (unsigned int i = 0; i < RTE_DIM(tx_defs); i++, k++) {
			xs[k].id = k;
			xs[k].value = txq == NULL ? 0 :
				*(const uint64_t *)((const uint8_t *)&txq->stats + tx_defs[i].off);
		}
	}
	xs[k].id = k;
	xs[k++].value = hw->stats.lsc_interrupts;
	xs[k].id = k;
	xs[k++].value = hw->ctrl.commands;
	xs[k].id = k;
	xs[k++].value = hw->ctrl.errors;
	return (int)n;
}

int
vv_xstats_reset(struct rte_eth_dev *dev)
{
	return vv_stats_reset(dev);
}
