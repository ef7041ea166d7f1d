/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control virtqueue (VIRTIO_NET_F_CTRL_VQ): receive mode, MAC address and filter
 * table, number of queue pairs.
 *
 * One command is in flight at a time (hw->ctrl.lock): descriptors 0..2 are the
 * command's chain (class/command header, data, the device's one-byte ack), all in the
 * queue's driver-owned area, whose IOVA was computed once. The driver waits for the
 * used entry, polling: QEMU completes a command inside the notify write, a hardware
 * device within microseconds. A command that does not complete within the timeout
 * leaves the chain with the device; the queue is then marked broken rather than
 * reused under it.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "vv_ethdev.h"
#include "vv_logs.h"

#define VV_CTRL_HDR_OFF    0
#define VV_CTRL_ACK_OFF    16
#define VV_CTRL_DATA_OFF   64
#define VV_CTRL_DATA_MAX   1024
#define VV_CTRL_TIMEOUT_MS 5000

static const char *
cmd_str(uint8_t cls, uint8_t cmd)
{
	switch (cls << 8 | cmd) {
	case VV_CTRL_RX << 8 | VV_CTRL_RX_PROMISC: return "rx promisc";
	case VV_CTRL_RX << 8 | VV_CTRL_RX_ALLMULTI: return "rx allmulti";
	case VV_CTRL_MAC << 8 | VV_CTRL_MAC_TABLE_SET: return "mac table set";
	case VV_CTRL_MAC << 8 | VV_CTRL_MAC_ADDR_SET: return "mac addr set";
	case VV_CTRL_MQ << 8 | VV_CTRL_MQ_VQ_PAIRS_SET: return "mq pairs set";
	default: return "command";
	}
}

int
vv_ctrl_alloc(struct vv_hw *hw)
{
	char name[RTE_MEMZONE_NAMESIZE];
	uint16_t max;
	int ret;

	rte_spinlock_init(&hw->ctrl.lock);
	if (!vv_offers(hw, VV_NET_F_CTRL_VQ))
		return 0;
	max = hw->qsize[hw->ctrl_index];
	if (max < 4 || !rte_is_power_of_2(max)) {
		VV_DEV_LOG(ERR, hw->name, "control queue %u has an unusable size %u",
			   hw->ctrl_index, max);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "vv%u_ctrl", hw->eth_dev->data->port_id);
	ret = vv_vq_alloc(&hw->ctrl.vq, hw->name, name, hw->eth_dev->data->numa_node,
			  hw->ctrl_index, max, VV_CTRL_DATA_OFF + VV_CTRL_DATA_MAX);
	return ret;
}

void
vv_ctrl_free(struct vv_hw *hw)
{
	hw->ctrl.ready = false;
	vv_vq_free(&hw->ctrl.vq);
}

int
vv_ctrl_attach(struct vv_hw *hw)
{
	struct vv_ctrl *c = &hw->ctrl;

	c->ready = false;
	c->broken = false;
	if (!vv_has(hw, VV_NET_F_CTRL_VQ) || c->vq.mz == NULL)
		return 0;
	vv_vq_reset(&c->vq, vv_has(hw, VV_F_EVENT_IDX));
	return vv_vq_attach(&c->vq, &hw->pci, VV_MSI_NO_VECTOR);
}

void
vv_ctrl_detach(struct vv_hw *hw)
{
	rte_spinlock_lock(&hw->ctrl.lock);
	hw->ctrl.ready = false;
	rte_spinlock_unlock(&hw->ctrl.lock);
}

int
vv_ctrl_cmd(struct vv_hw *hw, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
	struct vv_ctrl *c = &hw->ctrl;
	struct vv_vq *vq = &c->vq;
	uint8_t *hdr, *ack;
	volatile uint8_t *ackp;
	uint64_t deadline;
	unsigned int spins = 0;
	uint16_t head = 0, slot;
	uint8_t status;

	if (!vv_has(hw, VV_NET_F_CTRL_VQ))
		return -ENOTSUP;
	if (len > VV_CTRL_DATA_MAX)
		return -E2BIG;
	rte_spinlock_lock(&c->lock);
	if (!c->ready || c->broken) {
		rte_spinlock_unlock(&c->lock);
		return c->broken ? -EIO : -EAGAIN;
	}
	hdr = vq->extra + VV_CTRL_HDR_OFF;
	ack = vq->extra + VV_CTRL_ACK_OFF;
	hdr[0] = cls;
	hdr[1] = cmd;
	if (len > 0)
		memcpy(vq->extra + VV_CTRL_DATA_OFF, data, len);
	*ack = 0xff;

	vq->desc[0].addr = vv_vq_extra_iova(vq, hdr);
	vq->desc[0].len = 2;
	vq->desc[0].flags = VV_DESC_F_NEXT;
	vq->desc[0].next = 1;
	if (len > 0) {
		vq->desc[1].addr = vv_vq_extra_iova(vq, vq->extra + VV_CTRL_DATA_OFF);
		vq->desc[1].len = len;
		vq->desc[1].flags = VV_DESC_F_NEXT;
		vq->desc[1].next = 2;
	} else {
		vq->desc[0].next = 2;
	}
	vq->desc[2].addr = vv_vq_extra_iova(vq, ack);
	vq->desc[2].len = 1;
	vq->desc[2].flags = VV_DESC_F_WRITE;
	vq->desc[2].next = 0;
	slot = vq->avail_idx & vq->mask;
	vq->avail->ring[slot] = head;
	vq->avail_idx++;
	/* rare: always kick, whatever the device's suppression state says */
	(void)vv_vq_publish(vq);
	vv_notify(&vq->notify);

	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * VV_CTRL_TIMEOUT_MS / 1000;
	while (vv_vq_used_pending(vq) == 0) {
		if (rte_get_timer_cycles() > deadline) {
			c->broken = true;
			c->errors++;
			rte_spinlock_unlock(&c->lock);
			VV_DEV_LOG(ERR, hw->name, "control queue: %s not completed within %u ms; "
				   "the control queue is unusable until the next start",
				   cmd_str(cls, cmd), VV_CTRL_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		if (++spins < 1000)
			rte_pause();
		else
			rte_delay_us_sleep(50);
	}
	vq->used_idx++;
	vv_vq_intr_keep_off(vq);
	/* the used index was read with acquire: the ack byte is the device's */
	ackp = ack;
	status = *ackp;
	c->commands++;
	if (status != VV_CTRL_OK)
		c->errors++;
	rte_spinlock_unlock(&c->lock);
	if (status != VV_CTRL_OK) {
		VV_DEV_LOG(ERR, hw->name, "control queue: the device rejected %s (ack %u)",
			   cmd_str(cls, cmd), status);
		return -EIO;
	}
	VV_DEV_LOG(DEBUG, hw->name, "control queue: %s done", cmd_str(cls, cmd));
	return 0;
}

int
vv_ctrl_set_rx_mode(struct vv_hw *hw, uint8_t cmd, bool on)
{
	uint8_t v = on ? 1 : 0;

	if (!vv_has(hw, VV_NET_F_CTRL_RX))
		return -ENOTSUP;
	return vv_ctrl_cmd(hw, VV_CTRL_RX, cmd, &v, sizeof(v));
}

int
vv_ctrl_set_pairs(struct vv_hw *hw, uint16_t pairs)
{
	if (!vv_has(hw, VV_NET_F_MQ))
		return pairs == 1 ? 0 : -ENOTSUP;
	return vv_ctrl_cmd(hw, VV_CTRL_MQ, VV_CTRL_MQ_VQ_PAIRS_SET, &pairs, sizeof(pairs));
}

int
vv_ctrl_set_mac(struct vv_hw *hw, const struct rte_ether_addr *mac)
{
	if (!vv_has(hw, VV_NET_F_CTRL_MAC_ADDR))
		return -ENOTSUP;
	return vv_ctrl_cmd(hw, VV_CTRL_MAC, VV_CTRL_MAC_ADDR_SET, mac->addr_bytes,
			   RTE_ETHER_ADDR_LEN);
}

/*
 * The filter table: unicast addresses besides the primary one, then multicast ones,
 * each list a le32 count followed by the addresses (spec 5.1.6.5.2).
 */
int
vv_ctrl_set_mac_table(struct vv_hw *hw)
{
	uint8_t buf[2 * sizeof(uint32_t) +
		    (VV_MAX_UC_ADDRS + VV_MAX_MC_ADDRS) * RTE_ETHER_ADDR_LEN];
	uint32_t n, off = 0;

	RTE_BUILD_BUG_ON(sizeof(buf) > VV_CTRL_DATA_MAX);
	if (!vv_has(hw, VV_NET_F_CTRL_RX))
		return -ENOTSUP;
	/* hw->uc[] is indexed by the ethdev's address index - 1; zero means unused */
	n = 0;
	for (uint32_t i = 0; i < VV_MAX_UC_ADDRS; i++)
		n += !rte_is_zero_ether_addr(&hw->uc[i]);
	memcpy(buf + off, &n, sizeof(n));
	off += sizeof(n);
	for (uint32_t i = 0; i < VV_MAX_UC_ADDRS; i++) {
		if (rte_is_zero_ether_addr(&hw->uc[i]))
			continue;
		memcpy(buf + off, hw->uc[i].addr_bytes, RTE_ETHER_ADDR_LEN);
		off += RTE_ETHER_ADDR_LEN;
	}
	n = hw->nb_mc;
	memcpy(buf + off, &n, sizeof(n));
	off += sizeof(n);
	for (uint32_t i = 0; i < hw->nb_mc; i++, off += RTE_ETHER_ADDR_LEN)
		memcpy(buf + off, hw->mc[i].addr_bytes, RTE_ETHER_ADDR_LEN);
	return vv_ctrl_cmd(hw, VV_CTRL_MAC, VV_CTRL_MAC_TABLE_SET, buf, off);
}
