/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupts: link-status changes (the virtio configuration-change interrupt) and
 * receive interrupts, on the interrupt handle the vfiofd bus prepared.
 *
 * With MSI-X (what QEMU's virtio-net offers): vector 0 is the configuration change,
 * vector 1 + i receive queue i (eventfd i of the handle), transmit and control queues
 * have none. MSI-X is enabled at every start, even when the application wants neither
 * kind: a virtio device that has no MSI-X falls back to INTx for every notification
 * it decides to send, and with VIRTIO_F_EVENT_IDX it sends one right after start no
 * matter what the driver says; with MSI-X and no vector that costs nothing.
 *
 * Without MSI-X (intr=intx on the bus): only link-status interrupts, through INTx and
 * the ISR register; receive interrupts need MSI-X.
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_interrupts.h>

#include "vv_ethdev.h"
#include "vv_logs.h"

static void
vv_lsc_handler(void *arg)
{
	struct rte_eth_dev *dev = arg;
	struct vv_hw *hw = VV_HW(dev);
	uint8_t isr;

	/* reading the ISR acknowledges the interrupt (and drops INTx) */
	isr = vv_pci_isr(&hw->pci);
	if (!hw->msix)
		rte_vfiofd_intr_ack(hw->vdev);
	hw->stats.lsc_interrupts++;
	if (!hw->msix && !(isr & VV_ISR_CONFIG))
		return;   /* INTx for something else (a queue): not ours to handle */
	if (vv_link_update(dev, 0) == 0) {
		VV_DEV_LOG(INFO, hw->name, "port %u: link %s", dev->data->port_id,
			   dev->data->dev_link.link_status ? "up" : "down");
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
	}
}

int
vv_intr_lsc_register(struct vv_hw *hw)
{
	int ret;

	ret = rte_intr_callback_register(hw->vdev->intr_handle, vv_lsc_handler, hw->eth_dev);
	if (ret < 0) {
		VV_DEV_LOG(ERR, hw->name, "cannot register the link-status interrupt handler: "
			   "%s", strerror(-ret));
		return ret;
	}
	hw->lsc_cb = true;
	return 0;
}

void
vv_intr_lsc_unregister(struct vv_hw *hw)
{
	if (!hw->lsc_cb)
		return;
	/* waits for a running handler: the port may be freed right after */
	rte_intr_callback_unregister_sync(hw->vdev->intr_handle, vv_lsc_handler, hw->eth_dev);
	hw->lsc_cb = false;
}

uint16_t
vv_intr_rxq_vector(const struct vv_hw *hw, uint16_t queue_id)
{
	return hw->rxq_intr ? (uint16_t)(RTE_INTR_VEC_RXTX_OFFSET + queue_id) :
			      VV_MSI_NO_VECTOR;
}

int
vv_intr_start(struct vv_hw *hw)
{
	struct rte_eth_dev *dev = hw->eth_dev;
	struct rte_intr_handle *h = hw->vdev->intr_handle;
	bool lsc = dev->data->dev_conf.intr_conf.lsc != 0;
	bool rxq = dev->data->dev_conf.intr_conf.rxq != 0;
	uint16_t nb_rxq = dev->data->nb_rx_queues;
	int ret;

	hw->intr_on = false;
	hw->rxq_intr = false;
	if (hw->vdev->intr_vectors == 0 || h == NULL) {
		if (lsc || rxq) {
			VV_DEV_LOG(ERR, hw->name, "interrupts requested, but the device has none "
				   "(started with intr=none?)");
			return -ENOTSUP;
		}
		return 0;
	}
	if (rxq) {
		if (!hw->msix) {
			VV_DEV_LOG(ERR, hw->name, "receive interrupts need MSI-X; the bus set "
				   "the device up for INTx/MSI");
			return -ENOTSUP;
		}
		if (hw->vdev->intr_vectors < 1u + nb_rxq) {
			VV_DEV_LOG(ERR, hw->name, "receive interrupts for %u queues need %u MSI-X "
				   "vectors, the device has %u", nb_rxq, nb_rxq + 1,
				   hw->vdev->intr_vectors);
			return -ENOSPC;
		}
		ret = rte_intr_efd_enable(h, nb_rxq);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot create the receive-interrupt eventfds");
			return ret;
		}
		ret = rte_intr_vec_list_alloc(h, "vv_intr_vec", nb_rxq);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot allocate the interrupt vector list");
			rte_intr_efd_disable(h);
			return ret;
		}
		for (uint16_t i = 0; i < nb_rxq; i++)
			rte_intr_vec_list_index_set(h, i, RTE_INTR_VEC_RXTX_OFFSET + i);
		hw->rxq_intr = true;
	}
	if (hw->msix || lsc) {
		ret = rte_vfiofd_intr_enable(hw->vdev);
		if (ret < 0) {
			VV_DEV_LOG(ERR, hw->name, "cannot enable interrupts: %s", strerror(-ret));
			goto fail;
		}
		hw->intr_on = true;
	}
	if (hw->msix) {
		uint16_t want = lsc ? 0 : VV_MSI_NO_VECTOR;

		if (vv_pci_set_config_vector(&hw->pci, want) != want) {
			VV_DEV_LOG(ERR, hw->name, "the device refused MSI-X vector 0 for "
				   "configuration changes");
			ret = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	vv_intr_stop(hw);
	return ret;
}

void
vv_intr_stop(struct vv_hw *hw)
{
	struct rte_intr_handle *h = hw->vdev->intr_handle;

	if (hw->intr_on) {
		rte_vfiofd_intr_disable(hw->vdev);
		hw->intr_on = false;
	}
	if (hw->rxq_intr) {
		rte_intr_efd_disable(h);
		rte_intr_vec_list_free(h);
		hw->rxq_intr = false;
	}
}

int
vv_rx_queue_intr_enable(struct rte_eth_dev *dev, uint16_t queue_id)
{
	struct vv_hw *hw = VV_HW(dev);
	struct vv_rxq *rxq = dev->data->rx_queues[queue_id];

	if (!hw->rxq_intr || rxq == NULL)
		return -ENOTSUP;
	rxq->intr_on = true;
	rxq->stats.intr_armed++;
	vv_vq_intr_enable(&rxq->vq);
	/*
	 * Packets that arrived before the request was visible raise no interrupt: wake
	 * the waiter ourselves so that it does not sleep on them.
	 */
	if (vv_vq_used_pending(&rxq->vq) != 0) {
		int fd = rte_intr_efds_index_get(hw->vdev->intr_handle, queue_id);
		uint64_t one = 1;

		if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
			VV_DEV_LOG(DEBUG, hw->name, "rx queue %u: cannot signal its eventfd",
				   queue_id);
	}
	return 0;
}

int
vv_rx_queue_intr_disable(struct rte_eth_dev *dev, uint16_t queue_id)
{
	struct vv_hw *hw = VV_HW(dev);
	struct vv_rxq *rxq = dev->data->rx_queues[queue_id];

	if (!hw->rxq_intr || rxq == NULL)
		return -ENOTSUP;
	rxq->intr_on = false;
	vv_vq_intr_disable(&rxq->vq);
	return 0;
}
