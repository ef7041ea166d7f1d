/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfiofd virtio-net PMD: a modern (virtio 1.x) virtio-net PCI function driven
 * through the vfiofd bus (VFIO device cdev + iommufd). ethdev operations, the device
 * initialisation sequence, probe/remove and the device arguments live here.
 *
 * Lifecycle. Probe resets the device, acknowledges it (ACKNOWLEDGE | DRIVER), reads
 * what it offers and its configuration (MAC, queue pairs, MTU), and creates the port.
 * Every start runs the whole initialisation again (reset, features, FEATURES_OK,
 * interrupts, queues, DRIVER_OK, control commands): the features negotiated depend on
 * the port's configuration (MTU, scatter, interrupts) and a reset is the only way to
 * renegotiate them. Stop resets the device, which stops all DMA, then takes every mbuf
 * back from the rings. Close releases everything; remove closes a port the
 * application left open.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "rte_iommufd_mem.h"
#include "vv_ethdev.h"
#include "vv_logs.h"

RTE_LOG_REGISTER(vv_logtype, pmd.net.vfiofd_virtio, NOTICE);

/* What the driver can use; the device's offer narrows it at each start. */
#define VV_FEATURES_BASE (VV_BIT(VV_F_VERSION_1) | VV_BIT(VV_F_ACCESS_PLATFORM) | \
	VV_BIT(VV_NET_F_MAC) | VV_BIT(VV_NET_F_STATUS) | VV_BIT(VV_NET_F_CTRL_VQ) | \
	VV_BIT(VV_NET_F_CTRL_RX) | VV_BIT(VV_NET_F_MQ) | VV_BIT(VV_NET_F_CTRL_MAC_ADDR) | \
	VV_BIT(VV_NET_F_MTU) | VV_BIT(VV_NET_F_SPEED_DUPLEX) | VV_BIT(VV_F_ORDER_PLATFORM))

/* Largest frame with MRG_RXBUF (a jumbo frame spread over buffers). */
#define VV_MAX_RX_PKTLEN_MRG 9728
/* Ethernet header, one VLAN tag, CRC-less: what a frame adds to the MTU. */
#define VV_ETH_OVERHEAD (RTE_ETHER_HDR_LEN + 4)

static const char *const vv_devargs_keys[] = {
	VV_ARG_MRG_RXBUF,
	VV_ARG_EVENT_IDX,
	VV_ARG_INDIRECT,
	NULL,
};

/* --- link --- */

int
vv_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	struct vv_hw *hw = VV_HW(dev);
	struct rte_eth_link link;

	RTE_SET_USED(wait_to_complete);   /* the status is read, never negotiated */
	memset(&link, 0, sizeof(link));
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_speed = RTE_ETH_SPEED_NUM_UNKNOWN;
	if (vv_offers(hw, VV_NET_F_SPEED_DUPLEX)) {
		uint32_t speed;
		uint8_t duplex;

		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_SPEED, &speed, sizeof(speed));
		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_DUPLEX, &duplex, sizeof(duplex));
		if (speed != VV_NET_SPEED_UNKNOWN && speed <= RTE_ETH_SPEED_NUM_200G)
			link.link_speed = speed;
		if (duplex != VV_NET_DUPLEX_FULL && duplex != 0xff)
			link.link_duplex = RTE_ETH_LINK_HALF_DUPLEX;
	}
	if (!hw->started) {
		link.link_status = RTE_ETH_LINK_DOWN;
	} else if (vv_offers(hw, VV_NET_F_STATUS)) {
		uint16_t status;

		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_STATUS, &status, sizeof(status));
		link.link_status = (status & VV_NET_S_LINK_UP) ? RTE_ETH_LINK_UP :
								 RTE_ETH_LINK_DOWN;
	} else {
		link.link_status = RTE_ETH_LINK_UP;   /* spec: no STATUS, link always up */
	}
	return rte_eth_linkstatus_set(dev, &link);
}

/* --- configuration --- */

static int
vv_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct vv_hw *hw = VV_HW(dev);
	bool mrg = vv_offers(hw, VV_NET_F_MRG_RXBUF) && hw->opts.mrg_rxbuf != VV_OFF;

	info->max_rx_queues = hw->max_pairs;
	info->max_tx_queues = hw->max_pairs;
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->max_rx_pktlen = mrg ? VV_MAX_RX_PKTLEN_MRG : RTE_MBUF_DEFAULT_DATAROOM;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = hw->dev_mtu != 0 ? hw->dev_mtu :
			(uint16_t)(info->max_rx_pktlen - VV_ETH_OVERHEAD);
	info->max_mac_addrs = vv_offers(hw, VV_NET_F_CTRL_RX) ? 1 + VV_MAX_UC_ADDRS : 1;
	info->rx_offload_capa = mrg ? RTE_ETH_RX_OFFLOAD_SCATTER : 0;
	info->tx_offload_capa = vv_offers(hw, VV_F_INDIRECT_DESC) &&
				hw->opts.indirect != VV_OFF ? RTE_ETH_TX_OFFLOAD_MULTI_SEGS : 0;
	info->rx_queue_offload_capa = 0;
	info->tx_queue_offload_capa = 0;
	info->flow_type_rss_offloads = 0;
	info->speed_capa = RTE_ETH_LINK_SPEED_FIXED;
	info->rx_desc_lim.nb_max = hw->rx_qsize_max;
	info->rx_desc_lim.nb_min = RTE_MIN((uint16_t)16, hw->rx_qsize_max);
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim.nb_max = hw->tx_qsize_max;
	info->tx_desc_lim.nb_min = RTE_MIN((uint16_t)16, hw->tx_qsize_max);
	info->tx_desc_lim.nb_align = 1;
	info->tx_desc_lim.nb_seg_max = VV_TX_INDIRECT_MAX - 1;
	info->tx_desc_lim.nb_mtu_seg_max = VV_TX_INDIRECT_MAX - 1;
	info->default_rxportconf.ring_size = hw->rx_qsize_max;
	info->default_txportconf.ring_size = hw->tx_qsize_max;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	return 0;
}

static int
vv_dev_configure(struct rte_eth_dev *dev)
{
	struct vv_hw *hw = VV_HW(dev);
	const struct rte_eth_conf *conf = &dev->data->dev_conf;
	uint16_t pairs = RTE_MAX(dev->data->nb_rx_queues, dev->data->nb_tx_queues);

	if (conf->rxmode.mq_mode != RTE_ETH_MQ_RX_NONE &&
	    conf->rxmode.mq_mode != RTE_ETH_MQ_RX_RSS) {
		VV_DEV_LOG(ERR, hw->name, "rx mq_mode %d not supported", conf->rxmode.mq_mode);
		return -ENOTSUP;
	}
	if (pairs > hw->max_pairs) {
		VV_DEV_LOG(ERR, hw->name, "%u queue pairs asked, the device offers %u%s", pairs,
			   hw->max_pairs, hw->max_pairs == 1 ? " (no VIRTIO_NET_F_MQ: start "
			   "QEMU with mq=on and a multiqueue netdev)" : "");
		return -EINVAL;
	}
	if (dev->data->nb_rx_queues != dev->data->nb_tx_queues)
		VV_DEV_LOG(NOTICE, hw->name, "%u rx and %u tx queues: %u pairs are enabled on "
			   "the device; packets it steers to a receive queue you did not set "
			   "up wait in the device", dev->data->nb_rx_queues,
			   dev->data->nb_tx_queues, pairs);
	return 0;
}

/* Which features to ask for at this start; < 0 if the configuration cannot work. */
static int
vv_choose_features(struct rte_eth_dev *dev, uint64_t *out)
{
	struct vv_hw *hw = VV_HW(dev);
	const struct rte_eth_conf *conf = &dev->data->dev_conf;
	uint64_t want = VV_FEATURES_BASE;
	uint32_t frame = dev->data->mtu + VV_ETH_OVERHEAD;
	bool scatter = (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
	bool need_mrg = scatter;
	uint16_t small_q = UINT16_MAX;

	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		const struct vv_rxq *rxq = dev->data->rx_queues[i];

		if (rxq != NULL && vv_rx_buf_data_room(rxq->mp) < frame) {
			need_mrg = true;
			small_q = i;
		}
	}
	switch (hw->opts.mrg_rxbuf) {
	case VV_ON:
		want |= VV_BIT(VV_NET_F_MRG_RXBUF);
		break;
	case VV_OFF:
		if (need_mrg) {
			VV_DEV_LOG(ERR, hw->name, "mrg_rxbuf=off, but %s", scatter ?
				   "the scatter rx offload needs it" :
				   "frames of the MTU do not fit one receive buffer");
			return -EINVAL;
		}
		break;
	case VV_AUTO:
		if (need_mrg)
			want |= VV_BIT(VV_NET_F_MRG_RXBUF);
		break;
	}
	if (need_mrg && !vv_offers(hw, VV_NET_F_MRG_RXBUF)) {
		if (small_q != UINT16_MAX)
			VV_DEV_LOG(ERR, hw->name, "MTU %u: frames do not fit the buffers of "
				   "rx queue %u and the device has no VIRTIO_NET_F_MRG_RXBUF to "
				   "spread them", dev->data->mtu, small_q);
		else
			VV_DEV_LOG(ERR, hw->name, "scatter rx needs VIRTIO_NET_F_MRG_RXBUF, which "
				   "the device does not offer");
		return -EINVAL;
	}
	if (hw->opts.indirect != VV_OFF)
		want |= VV_BIT(VV_F_INDIRECT_DESC);
	/* EVENT_IDX only with MSI-X: see vv_intr.c */
	if (hw->opts.event_idx == VV_ON ||
	    (hw->opts.event_idx == VV_AUTO && hw->msix)) {
		if (!hw->msix)
			VV_DEV_LOG(WARNING, hw->name, "event_idx=on without MSI-X: the device "
				   "may raise INTx once per queue after start");
		want |= VV_BIT(VV_F_EVENT_IDX);
	}
	*out = hw->dev_features & want;
	return 0;
}

static int
vv_negotiate(struct vv_hw *hw, uint64_t features)
{
	int ret = vv_pci_reset(&hw->pci);

	if (ret < 0)
		return ret;
	vv_pci_add_status(&hw->pci, VV_STATUS_ACKNOWLEDGE);
	vv_pci_add_status(&hw->pci, VV_STATUS_DRIVER);
	vv_pci_set_driver_features(&hw->pci, features);
	vv_pci_add_status(&hw->pci, VV_STATUS_FEATURES_OK);
	if (!(vv_pci_get_status(&hw->pci) & VV_STATUS_FEATURES_OK)) {
		VV_DEV_LOG(ERR, hw->name, "the device refused features 0x%" PRIx64, features);
		vv_pci_add_status(&hw->pci, VV_STATUS_FAILED);
		return -EINVAL;
	}
	hw->features = features;
	return 0;
}

static void
vv_queues_stop(struct rte_eth_dev *dev)
{
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		if (dev->data->rx_queues[i] != NULL)
			vv_rxq_stop(dev->data->rx_queues[i]);
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		if (dev->data->tx_queues[i] != NULL)
			vv_txq_stop(dev->data->tx_queues[i]);
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	}
}

/* The receive filter the device lost at its reset. */
static int
vv_restore_filters(struct vv_hw *hw)
{
	struct rte_ether_addr *mac = &hw->eth_dev->data->mac_addrs[0];
	bool table = hw->nb_mc > 0;
	int ret;

	for (unsigned int i = 0; i < VV_MAX_UC_ADDRS; i++)
		table |= !rte_is_zero_ether_addr(&hw->uc[i]);
	/* a reset brings the device back to its own address */
	hw->cur_mac = hw->dev_mac;
	if (!rte_is_same_ether_addr(mac, &hw->cur_mac)) {
		ret = vv_ctrl_set_mac(hw, mac);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot set MAC address " RTE_ETHER_ADDR_PRT_FMT
				   ": %s", RTE_ETHER_ADDR_BYTES(mac), ret == -ENOTSUP ?
				   "no VIRTIO_NET_F_CTRL_MAC_ADDR" : strerror(-ret));
			return ret;
		}
		hw->cur_mac = *mac;
	}
	if (table) {
		ret = vv_ctrl_set_mac_table(hw);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot set the MAC filter table: %s",
				   strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int
vv_dev_start(struct rte_eth_dev *dev)
{
	struct vv_hw *hw = VV_HW(dev);
	uint16_t nb_rxq = dev->data->nb_rx_queues, nb_txq = dev->data->nb_tx_queues;
	bool scatter = (dev->data->dev_conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
	uint64_t features;
	bool event_idx, mrg;
	uint8_t status;
	int ret;

	for (uint16_t i = 0; i < nb_rxq; i++)
		if (dev->data->rx_queues[i] == NULL) {
			VV_DEV_LOG(ERR, hw->name, "rx queue %u is not set up", i);
			return -EINVAL;
		}
	for (uint16_t i = 0; i < nb_txq; i++)
		if (dev->data->tx_queues[i] == NULL) {
			VV_DEV_LOG(ERR, hw->name, "tx queue %u is not set up", i);
			return -EINVAL;
		}
	ret = vv_choose_features(dev, &features);
	if (ret < 0)
		return ret;
	ret = vv_negotiate(hw, features);
	if (ret < 0)
		return ret;
	event_idx = vv_has(hw, VV_F_EVENT_IDX);
	mrg = vv_has(hw, VV_NET_F_MRG_RXBUF);
	hw->nb_pairs = RTE_MAX(nb_rxq, nb_txq);

	ret = vv_intr_start(hw);
	if (ret < 0)
		goto fail;
	for (uint16_t i = 0; i < nb_rxq; i++) {
		struct vv_rxq *rxq = dev->data->rx_queues[i];

		ret = vv_rxq_start(rxq, event_idx, mrg, scatter);
		if (ret == 0)
			ret = vv_vq_attach(&rxq->vq, &hw->pci, vv_intr_rxq_vector(hw, i));
		if (ret < 0)
			goto fail;
	}
	for (uint16_t i = 0; i < nb_txq; i++) {
		struct vv_txq *txq = dev->data->tx_queues[i];

		vv_txq_start(txq, event_idx, vv_has(hw, VV_F_INDIRECT_DESC));
		ret = vv_vq_attach(&txq->vq, &hw->pci, VV_MSI_NO_VECTOR);
		if (ret < 0)
			goto fail;
	}
	ret = vv_ctrl_attach(hw);
	if (ret < 0)
		goto fail;

	vv_pci_add_status(&hw->pci, VV_STATUS_DRIVER_OK);
	status = vv_pci_get_status(&hw->pci);
	if (status & (VV_STATUS_NEEDS_RESET | VV_STATUS_FAILED) ||
	    !(status & VV_STATUS_DRIVER_OK)) {
		VV_DEV_LOG(ERR, hw->name, "the device did not accept DRIVER_OK (status 0x%x)",
			   status);
		ret = -EIO;
		goto fail;
	}
	hw->ctrl.ready = vv_has(hw, VV_NET_F_CTRL_VQ);
	hw->started = true;
	/* buffers were posted before DRIVER_OK, when the device may not be told */
	for (uint16_t i = 0; i < nb_rxq; i++)
		vv_rxq_kick(dev->data->rx_queues[i]);
	if (hw->nb_pairs > 1) {
		ret = vv_ctrl_set_pairs(hw, hw->nb_pairs);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot enable %u queue pairs: %s",
				   hw->nb_pairs, strerror(-ret));
			goto fail;
		}
	}
	ret = vv_restore_filters(hw);
	if (ret < 0)
		goto fail;

	dev->rx_pkt_burst = mrg ? vv_recv_mrg_pkts : vv_recv_pkts;
	dev->tx_pkt_burst = vv_xmit_pkts;
	for (uint16_t i = 0; i < nb_rxq; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (uint16_t i = 0; i < nb_txq; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	vv_link_update(dev, 0);
	VV_DEV_LOG(INFO, hw->name, "port %u started: %u queue pair(s), features 0x%" PRIx64
		   " (event_idx %s, mrg_rxbuf %s, indirect %s), interrupts: %s%s",
		   dev->data->port_id, hw->nb_pairs, features, event_idx ? "on" : "off",
		   mrg ? "on" : "off", vv_has(hw, VV_F_INDIRECT_DESC) ? "on" : "off",
		   hw->intr_on ? (hw->msix ? "msix" : "intx") : "none",
		   hw->rxq_intr ? " + rx queues" : "");
	return 0;
fail:
	hw->started = false;
	vv_ctrl_detach(hw);
	vv_pci_reset(&hw->pci);
	vv_intr_stop(hw);
	vv_queues_stop(dev);
	return ret;
}

static int
vv_dev_stop(struct rte_eth_dev *dev)
{
	struct vv_hw *hw = VV_HW(dev);
	struct rte_eth_link link;

	if (!hw->started)
		return 0;
	hw->started = false;
	vv_ctrl_detach(hw);
	/* the reset stops the device's DMA: only then do the buffers come back */
	vv_pci_reset(&hw->pci);
	vv_intr_stop(hw);
	vv_queues_stop(dev);
	memset(&link, 0, sizeof(link));
	rte_eth_linkstatus_set(dev, &link);
	VV_DEV_LOG(INFO, hw->name, "port %u stopped", dev->data->port_id);
	return 0;
}

static int
vv_dev_close(struct rte_eth_dev *dev)
{
	struct vv_hw *hw = VV_HW(dev);

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	vv_dev_stop(dev);
	vv_intr_lsc_unregister(hw);
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
		vv_rxq_release(dev->data->rx_queues[i]);
		dev->data->rx_queues[i] = NULL;
	}
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++) {
		vv_txq_release(dev->data->tx_queues[i]);
		dev->data->tx_queues[i] = NULL;
	}
	vv_ctrl_free(hw);
	rte_free(hw->qsize);
	hw->qsize = NULL;
	/* leave the device as the bus found it: reset, nothing acknowledged */
	vv_pci_reset(&hw->pci);
	VV_DEV_LOG(INFO, hw->name, "port %u closed", dev->data->port_id);
	return 0;
}

/* --- queues --- */

static int
vv_rx_queue_setup(struct rte_eth_dev *dev, uint16_t queue_id, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_rxconf *conf,
		  struct rte_mempool *mp)
{
	struct vv_rxq *rxq;
	int ret;

	if (conf->rx_deferred_start) {
		VV_DEV_LOG(ERR, VV_HW(dev)->name, "deferred queue start not supported");
		return -ENOTSUP;
	}
	ret = vv_rxq_setup(VV_HW(dev), &rxq, queue_id, nb_desc, (int)socket, mp,
			   conf->rx_free_thresh);
	if (ret < 0)
		return ret;
	dev->data->rx_queues[queue_id] = rxq;
	return 0;
}

static void
vv_rx_queue_release(struct rte_eth_dev *dev, uint16_t queue_id)
{
	vv_rxq_release(dev->data->rx_queues[queue_id]);
	dev->data->rx_queues[queue_id] = NULL;
}

static int
vv_tx_queue_setup(struct rte_eth_dev *dev, uint16_t queue_id, uint16_t nb_desc,
		  unsigned int socket, const struct rte_eth_txconf *conf)
{
	struct vv_txq *txq;
	int ret;

	if (conf->tx_deferred_start) {
		VV_DEV_LOG(ERR, VV_HW(dev)->name, "deferred queue start not supported");
		return -ENOTSUP;
	}
	ret = vv_txq_setup(VV_HW(dev), &txq, queue_id, nb_desc, (int)socket,
			   conf->tx_free_thresh);
	if (ret < 0)
		return ret;
	dev->data->tx_queues[queue_id] = txq;
	return 0;
}

static void
vv_tx_queue_release(struct rte_eth_dev *dev, uint16_t queue_id)
{
	vv_txq_release(dev->data->tx_queues[queue_id]);
	dev->data->tx_queues[queue_id] = NULL;
}

static void
vv_rxq_info_get(struct rte_eth_dev *dev, uint16_t queue_id,
		struct rte_eth_rxq_info *qinfo)
{
	const struct vv_rxq *rxq = dev->data->rx_queues[queue_id];

	qinfo->mp = rxq->mp;
	qinfo->scattered_rx = rxq->mrg && rxq->scatter;
	qinfo->nb_desc = rxq->vq.size;
	qinfo->rx_buf_size = (uint16_t)(rxq->buf_len - VV_NET_HDR_LEN);
	qinfo->conf.rx_free_thresh = rxq->free_thresh;
}

static void
vv_txq_info_get(struct rte_eth_dev *dev, uint16_t queue_id,
		struct rte_eth_txq_info *qinfo)
{
	const struct vv_txq *txq = dev->data->tx_queues[queue_id];

	qinfo->nb_desc = txq->vq.size;
	qinfo->conf.tx_free_thresh = txq->free_thresh;
}

/* --- receive filter --- */

static int
vv_rx_mode(struct rte_eth_dev *dev, uint8_t cmd, bool on)
{
	struct vv_hw *hw = VV_HW(dev);
	int ret;

	if (!vv_offers(hw, VV_NET_F_CTRL_RX) || !vv_offers(hw, VV_NET_F_CTRL_VQ)) {
		VV_DEV_LOG(ERR, hw->name, "the device has no control of its receive mode");
		return -ENOTSUP;
	}
	/* stopped: ethdev replays the mode at the next start */
	if (!hw->started)
		return 0;
	ret = vv_ctrl_set_rx_mode(hw, cmd, on);
	if (ret < 0)
		VV_DEV_LOG(ERR, hw->name, "cannot turn %s %s: %s",
			   cmd == VV_CTRL_RX_PROMISC ? "promiscuous mode" : "all-multicast",
			   on ? "on" : "off", strerror(-ret));
	return ret;
}

static int
vv_promiscuous_enable(struct rte_eth_dev *dev)
{
	return vv_rx_mode(dev, VV_CTRL_RX_PROMISC, true);
}

static int
vv_promiscuous_disable(struct rte_eth_dev *dev)
{
	return vv_rx_mode(dev, VV_CTRL_RX_PROMISC, false);
}

static int
vv_allmulticast_enable(struct rte_eth_dev *dev)
{
	return vv_rx_mode(dev, VV_CTRL_RX_ALLMULTI, true);
}

static int
vv_allmulticast_disable(struct rte_eth_dev *dev)
{
	return vv_rx_mode(dev, VV_CTRL_RX_ALLMULTI, false);
}

static int
vv_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *mac)
{
	struct vv_hw *hw = VV_HW(dev);
	int ret;

	if (!vv_offers(hw, VV_NET_F_CTRL_MAC_ADDR) || !vv_offers(hw, VV_NET_F_CTRL_VQ)) {
		if (rte_is_same_ether_addr(mac, &hw->dev_mac))
			return 0;
		VV_DEV_LOG(ERR, hw->name, "the device cannot change its MAC address "
			   "(no VIRTIO_NET_F_CTRL_MAC_ADDR)");
		return -ENOTSUP;
	}
	if (!hw->started || rte_is_same_ether_addr(mac, &hw->cur_mac))
		return 0;   /* set at start (ethdev has stored it in mac_addrs[0]) */
	ret = vv_ctrl_set_mac(hw, mac);
	if (ret == 0)
		hw->cur_mac = *mac;
	return ret;
}

static int
vv_push_table(struct vv_hw *hw)
{
	int ret;

	if (!hw->started)
		return 0;
	ret = vv_ctrl_set_mac_table(hw);
	if (ret < 0)
		VV_DEV_LOG(ERR, hw->name, "cannot update the MAC filter table: %s",
			   strerror(-ret));
	return ret;
}

static int
vv_mac_addr_add(struct rte_eth_dev *dev, struct rte_ether_addr *mac, uint32_t index,
		uint32_t vmdq)
{
	struct vv_hw *hw = VV_HW(dev);
	struct rte_ether_addr old;
	int ret;

	RTE_SET_USED(vmdq);
	if (index == 0 || index > VV_MAX_UC_ADDRS || !vv_offers(hw, VV_NET_F_CTRL_RX))
		return -ENOTSUP;
	if (rte_is_multicast_ether_addr(mac)) {
		VV_DEV_LOG(ERR, hw->name, "multicast address: use rte_eth_dev_set_mc_addr_list");
		return -EINVAL;
	}
	old = hw->uc[index - 1];
	hw->uc[index - 1] = *mac;
	ret = vv_push_table(hw);
	if (ret < 0)
		hw->uc[index - 1] = old;
	return ret;
}

static void
vv_mac_addr_remove(struct rte_eth_dev *dev, uint32_t index)
{
	struct vv_hw *hw = VV_HW(dev);

	if (index == 0 || index > VV_MAX_UC_ADDRS)
		return;
	memset(&hw->uc[index - 1], 0, sizeof(hw->uc[0]));
	vv_push_table(hw);
}

static int
vv_set_mc_addr_list(struct rte_eth_dev *dev, struct rte_ether_addr *list, uint32_t n)
{
	struct vv_hw *hw = VV_HW(dev);

	if (!vv_offers(hw, VV_NET_F_CTRL_RX))
		return -ENOTSUP;
	if (n > VV_MAX_MC_ADDRS) {
		VV_DEV_LOG(ERR, hw->name, "%u multicast addresses, at most %u", n,
			   VV_MAX_MC_ADDRS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!rte_is_multicast_ether_addr(&list[i]))
			return -EINVAL;
	if (n > 0)
		memcpy(hw->mc, list, n * sizeof(list[0]));
	hw->nb_mc = n;
	return vv_push_table(hw);
}

static int
vv_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct vv_hw *hw = VV_HW(dev);

	/* the buffers are checked against it, and MRG_RXBUF chosen, at the next start */
	if (hw->dev_mtu != 0 && mtu > hw->dev_mtu) {
		VV_DEV_LOG(ERR, hw->name, "MTU %u above the device's %u", mtu, hw->dev_mtu);
		return -EINVAL;
	}
	/* running without MRG_RXBUF: larger frames would not fit a buffer */
	if (hw->started && !vv_has(hw, VV_NET_F_MRG_RXBUF)) {
		for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++) {
			const struct vv_rxq *rxq = dev->data->rx_queues[i];

			if (rxq != NULL &&
			    vv_rx_buf_data_room(rxq->mp) < (uint32_t)mtu + VV_ETH_OVERHEAD) {
				VV_DEV_LOG(ERR, hw->name, "MTU %u needs "
					   "VIRTIO_NET_F_MRG_RXBUF, which this start did not "
					   "negotiate: stop the port first", mtu);
				return -EBUSY;
			}
		}
	}
	return 0;
}

static const struct eth_dev_ops vv_ops = {
	.dev_configure = vv_dev_configure,
	.dev_start = vv_dev_start,
	.dev_stop = vv_dev_stop,
	.dev_close = vv_dev_close,
	.dev_infos_get = vv_dev_infos_get,
	.link_update = vv_link_update,
	.promiscuous_enable = vv_promiscuous_enable,
	.promiscuous_disable = vv_promiscuous_disable,
	.allmulticast_enable = vv_allmulticast_enable,
	.allmulticast_disable = vv_allmulticast_disable,
	.mac_addr_set = vv_mac_addr_set,
	.mac_addr_add = vv_mac_addr_add,
	.mac_addr_remove = vv_mac_addr_remove,
	.set_mc_addr_list = vv_set_mc_addr_list,
	.mtu_set = vv_mtu_set,
	.stats_get = vv_stats_get,
	.stats_reset = vv_stats_reset,
	.xstats_get = vv_xstats_get,
	.xstats_get_names = vv_xstats_get_names,
	.xstats_reset = vv_xstats_reset,
	.rx_queue_setup = vv_rx_queue_setup,
	.rx_queue_release = vv_rx_queue_release,
	.tx_queue_setup = vv_tx_queue_setup,
	.tx_queue_release = vv_tx_queue_release,
	.rx_queue_intr_enable = vv_rx_queue_intr_enable,
	.rx_queue_intr_disable = vv_rx_queue_intr_disable,
	.rxq_info_get = vv_rxq_info_get,
	.txq_info_get = vv_txq_info_get,
	.tx_done_cleanup = vv_tx_done_cleanup,
};

/* --- devargs --- */

static int
parse_tristate(const char *key, const char *value, void *opaque)
{
	enum vv_tristate *t = opaque;

	if (strcmp(value, "auto") == 0)
		*t = VV_AUTO;
	else if (strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
		*t = VV_ON;
	else if (strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
		*t = VV_OFF;
	else {
		VV_LOG(ERR, "%s=%s: expected auto, on or off", key, value);
		return -EINVAL;
	}
	return 0;
}

static int
vv_parse_devargs(const struct rte_vfiofd_device *dev, struct vv_opts *opts)
{
	const struct rte_devargs *da = dev->device.devargs;
	struct rte_kvargs *kv;
	int ret = 0;

	memset(opts, 0, sizeof(*opts));
	if (da == NULL || da->args == NULL || da->args[0] == '\0')
		return 0;
	/* no key list: the bus's own keys (ioas=, intr=, ...) are in the string too */
	kv = rte_kvargs_parse(da->args, NULL);
	if (kv == NULL) {
		VV_DEV_LOG(ERR, dev->name, "cannot parse device arguments '%s'", da->args);
		return -EINVAL;
	}
	if (rte_kvargs_process(kv, VV_ARG_MRG_RXBUF, parse_tristate, &opts->mrg_rxbuf) < 0 ||
	    rte_kvargs_process(kv, VV_ARG_EVENT_IDX, parse_tristate, &opts->event_idx) < 0 ||
	    rte_kvargs_process(kv, VV_ARG_INDIRECT, parse_tristate, &opts->indirect) < 0) {
		VV_DEV_LOG(ERR, dev->name, "bad device arguments '%s'", da->args);
		ret = -EINVAL;
	}
	rte_kvargs_free(kv);
	return ret;
}

/* --- probe / remove --- */

/* Read every virtqueue's size (the features that shape the layout are negotiated). */
static int
vv_probe_queues(struct vv_hw *hw)
{
	uint32_t nq = (uint32_t)hw->ctrl_index + 1;   /* control is the last one */

	hw->qsize = rte_zmalloc("vv_qsize", nq * sizeof(hw->qsize[0]), 0);
	if (hw->qsize == NULL)
		return -ENOMEM;
	hw->rx_qsize_max = UINT16_MAX;
	hw->tx_qsize_max = UINT16_MAX;
	for (uint32_t i = 0; i < 2u * hw->max_pairs; i++) {
		uint16_t s = vv_pci_queue_max(&hw->pci, (uint16_t)i);

		if (s == 0 || !rte_is_power_of_2(s) || s > VV_QUEUE_MAX) {
			VV_DEV_LOG(ERR, hw->name, "virtqueue %u has an unusable size %u", i, s);
			return -EINVAL;
		}
		hw->qsize[i] = s;
		if (i % 2 == 0)
			hw->rx_qsize_max = RTE_MIN(hw->rx_qsize_max, s);
		else
			hw->tx_qsize_max = RTE_MIN(hw->tx_qsize_max, s);
	}
	if (vv_offers(hw, VV_NET_F_CTRL_VQ))
		hw->qsize[hw->ctrl_index] = vv_pci_queue_max(&hw->pci, hw->ctrl_index);
	return 0;
}

/*
 * A secondary process: the port, its queues and rings are the primary's, in shared
 * memory; the secondary runs the data path on queues the application gives it and reads
 * what needs no control of the device. Configuration stays with the primary.
 */
static const struct eth_dev_ops vv_secondary_ops = {
	.dev_infos_get = vv_dev_infos_get,
	.link_update = vv_link_update,
	.stats_get = vv_stats_get,
	.xstats_get = vv_xstats_get,
	.xstats_get_names = vv_xstats_get_names,
	.rxq_info_get = vv_rxq_info_get,
	.txq_info_get = vv_txq_info_get,
};

/*
 * The virtio structures must be reachable at the addresses the primary recorded in
 * shared memory (the bus maps a secondary's BARs at the primary's addresses): true if
 * @w is, or absent.
 */
static bool
vv_window_shared(const struct vv_window *w, const struct rte_vfiofd_device *vdev)
{
	const uint8_t *base;

	if (!w->present)
		return true;
	base = vdev->regions[w->bar].addr;
	return w->va != NULL && base != NULL && base + w->off == w->va;
}

static int
vv_eth_init_secondary(struct rte_eth_dev *eth_dev, struct rte_vfiofd_device *vdev)
{
	struct vv_hw *hw = VV_HW(eth_dev);
	const struct vv_pci *p = &hw->pci;

	if (!vv_window_shared(&p->common, vdev) || !vv_window_shared(&p->notify, vdev) ||
	    !vv_window_shared(&p->isr, vdev) || !vv_window_shared(&p->devcfg, vdev)) {
		VV_DEV_LOG(ERR, vdev->name, "port %u: its virtio structures are not mapped at "
			   "the primary's addresses in this process (bar_mmap=off in the "
			   "primary?): a secondary process cannot drive it",
			   eth_dev->data->port_id);
		return -ENOTSUP;
	}
	eth_dev->dev_ops = &vv_secondary_ops;
	/* the receive variant the primary chose at its last start (attach after it) */
	eth_dev->rx_pkt_burst = vv_has(hw, VV_NET_F_MRG_RXBUF) ? vv_recv_mrg_pkts :
								 vv_recv_pkts;
	eth_dev->tx_pkt_burst = vv_xmit_pkts;
	VV_DEV_LOG(INFO, hw->name, "port %u attached in a secondary process (%s receive)",
		   eth_dev->data->port_id, vv_has(hw, VV_NET_F_MRG_RXBUF) ?
		   "merged-buffer" : "single-buffer");
	return 0;
}

struct vv_init_params {
	struct rte_vfiofd_device *vdev;
	struct vv_opts opts;
};

static int
vv_eth_init(struct rte_eth_dev *eth_dev, void *params)
{
	struct vv_init_params *ip = params;
	struct rte_vfiofd_device *vdev = ip->vdev;
	struct vv_hw *hw = VV_HW(eth_dev);
	struct rte_intr_handle *h = vdev->intr_handle;
	char fbuf[32];
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return vv_eth_init_secondary(eth_dev, vdev);
	hw->vdev = vdev;
	hw->eth_dev = eth_dev;
	/* the port's name (the PCI address) lives in shared memory: a secondary process
	 * reads hw->name at the same address
	 */
	hw->name = eth_dev->data->name;
	hw->opts = ip->opts;
	eth_dev->dev_ops = &vv_ops;
	eth_dev->rx_pkt_burst = vv_recv_pkts;
	eth_dev->tx_pkt_burst = vv_xmit_pkts;
	eth_dev->intr_handle = h;
	hw->msix = h != NULL && vdev->intr_vectors > 0 &&
		   rte_intr_type_get(h) == RTE_INTR_HANDLE_VFIO_MSIX;

	ret = vv_pci_init(&hw->pci, vdev);
	if (ret < 0)
		return ret;
	hw->pci.name = hw->name;
	ret = vv_pci_reset(&hw->pci);
	if (ret < 0)
		return ret;
	vv_pci_add_status(&hw->pci, VV_STATUS_ACKNOWLEDGE);
	vv_pci_add_status(&hw->pci, VV_STATUS_DRIVER);
	hw->dev_features = vv_pci_device_features(&hw->pci);
	snprintf(fbuf, sizeof(fbuf), "0x%" PRIx64, hw->dev_features);
	if (!vv_offers(hw, VV_F_VERSION_1)) {
		VV_DEV_LOG(ERR, hw->name, "the device does not offer VIRTIO_F_VERSION_1 "
			   "(features %s): only modern virtio is supported", fbuf);
		ret = -ENOTSUP;
		goto fail;
	}
	if (!vv_offers(hw, VV_F_ACCESS_PLATFORM) &&
	    rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NOIOMMU) {
		/* no IOMMU: IOVAs are physical addresses, which such a device uses as they are */
		VV_DEV_LOG(INFO, hw->name, "no VIRTIO_F_ACCESS_PLATFORM (features %s): the "
			   "device uses physical addresses, which are the IOVAs without an IOMMU",
			   fbuf);
	} else if (!vv_offers(hw, VV_F_ACCESS_PLATFORM)) {
		/* it would DMA to physical addresses, not through the IOMMU we program */
		VV_DEV_LOG(ERR, hw->name, "the device does not offer VIRTIO_F_ACCESS_PLATFORM "
			   "(features %s): it bypasses the IOMMU, so the addresses vfiofd gives "
			   "it mean nothing to it; in QEMU use iommu_platform=on", fbuf);
		ret = -ENOTSUP;
		goto fail;
	}
	if (vv_offers(hw, VV_NET_F_MAC)) {
		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_MAC, hw->dev_mac.addr_bytes,
				   RTE_ETHER_ADDR_LEN);
	} else {
		rte_eth_random_addr(hw->dev_mac.addr_bytes);
		VV_DEV_LOG(NOTICE, hw->name, "no MAC address from the device: using random "
			   RTE_ETHER_ADDR_PRT_FMT, RTE_ETHER_ADDR_BYTES(&hw->dev_mac));
	}
	/*
	 * The queue layout depends on the features: QEMU, for one, has the control
	 * queue at index 2 until VIRTIO_NET_F_MQ is accepted, and only then creates the
	 * other pairs (control last). Negotiate everything the driver may ever use, as
	 * every start does, and read the queues' sizes in that state.
	 */
	ret = vv_negotiate(hw, hw->dev_features & (VV_FEATURES_BASE |
		VV_BIT(VV_F_INDIRECT_DESC) | VV_BIT(VV_F_EVENT_IDX) | VV_BIT(VV_NET_F_MRG_RXBUF)));
	if (ret < 0)
		goto fail;
	hw->max_pairs = 1;
	if (vv_offers(hw, VV_NET_F_MQ) && vv_offers(hw, VV_NET_F_CTRL_VQ)) {
		uint16_t pairs;

		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_MAX_PAIRS, &pairs, sizeof(pairs));
		if (pairs == 0 || pairs > VV_QUEUE_MAX / 2) {
			VV_DEV_LOG(ERR, hw->name, "bad max_virtqueue_pairs %u", pairs);
			ret = -EINVAL;
			goto fail;
		}
		hw->max_pairs = pairs;
		hw->ctrl_index = 2 * pairs;
	} else {
		hw->ctrl_index = 2;
	}
	hw->max_pairs = RTE_MIN(hw->max_pairs, (uint16_t)RTE_MAX_QUEUES_PER_PORT);
	if (vv_offers(hw, VV_NET_F_MTU))
		vv_pci_read_devcfg(&hw->pci, VV_NET_CFG_MTU, &hw->dev_mtu, sizeof(hw->dev_mtu));
	ret = vv_probe_queues(hw);
	if (ret < 0)
		goto fail;

	eth_dev->data->mac_addrs = rte_zmalloc_socket("vv_mac", (1 + VV_MAX_UC_ADDRS) *
						      RTE_ETHER_ADDR_LEN, 0,
						      eth_dev->data->numa_node);
	if (eth_dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	rte_ether_addr_copy(&hw->dev_mac, &eth_dev->data->mac_addrs[0]);
	ret = vv_ctrl_alloc(hw);
	if (ret < 0)
		goto fail;
	if (vv_offers(hw, VV_NET_F_STATUS) && h != NULL && vdev->intr_vectors > 0) {
		ret = vv_intr_lsc_register(hw);
		if (ret < 0)
			goto fail;
		eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	}
	VV_DEV_LOG(NOTICE, hw->name, "port %u: virtio-net, MAC " RTE_ETHER_ADDR_PRT_FMT
		   ", %u queue pair(s) of %u/%u descriptors, features %s, interrupts %s",
		   eth_dev->data->port_id, RTE_ETHER_ADDR_BYTES(&hw->dev_mac), hw->max_pairs,
		   hw->rx_qsize_max, hw->tx_qsize_max, fbuf,
		   hw->msix ? "msix" : vdev->intr_vectors > 0 ? "intx/msi" : "none");
	return 0;
fail:
	/* rte_eth_dev_create() releases the port (and mac_addrs) after us */
	vv_intr_lsc_unregister(hw);
	vv_ctrl_free(hw);
	vv_pci_reset(&hw->pci);
	rte_free(hw->qsize);
	hw->qsize = NULL;
	return ret;
}

static int
vv_eth_uninit(struct rte_eth_dev *eth_dev)
{
	return vv_dev_close(eth_dev);
}

static int
vv_probe(struct rte_vfiofd_driver *drv, struct rte_vfiofd_device *dev)
{
	struct vv_init_params ip;
	int ret;

	RTE_SET_USED(drv);
	ret = vv_parse_devargs(dev, &ip.opts);
	if (ret < 0)
		return ret;
	ip.vdev = dev;
	ret = rte_eth_dev_create(&dev->device, dev->name, sizeof(struct vv_hw), NULL, NULL,
				 vv_eth_init, &ip);
	if (ret < 0)
		VV_DEV_LOG(ERR, dev->name, "cannot create the port: %s", strerror(-ret));
	return ret;
}

static int
vv_remove(struct rte_vfiofd_device *dev)
{
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(dev->name);

	if (eth_dev == NULL)
		return 0;   /* the application closed the port already */
	return rte_eth_dev_destroy(eth_dev, vv_eth_uninit);
}

static const struct rte_pci_id vv_ids[] = {
	{ RTE_VFIOFD_DEVICE(VV_PCI_VENDOR_ID, VV_PCI_DEVICE_ID_NET) },
	{ .vendor_id = 0 },
};

static struct rte_vfiofd_driver vv_driver = {
	.probe = vv_probe,
	.remove = vv_remove,
	.id_table = vv_ids,
	.devargs_keys = vv_devargs_keys,
	.drv_flags = RTE_VFIOFD_DRV_INTR_LSC | RTE_VFIOFD_DRV_IOVA_TRANSLATE,
};

RTE_PMD_REGISTER_VFIOFD(net_vfiofd_virtio, vv_driver);
RTE_PMD_REGISTER_VFIOFD_TABLE(net_vfiofd_virtio, vv_ids);
RTE_PMD_REGISTER_PARAM_STRING(net_vfiofd_virtio,
			      VV_ARG_MRG_RXBUF "=auto|on|off "
			      VV_ARG_EVENT_IDX "=auto|on|off "
			      VV_ARG_INDIRECT "=auto|off");
