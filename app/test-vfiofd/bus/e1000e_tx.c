/* SPDX-License-Identifier: BSD-3-Clause */

#include <string.h>

#include <rte_atomic.h>
#include <rte_cycles.h>

#include "e1000e_tx.h"

#define TXD_CMD_EOP  0x01u
#define TXD_CMD_IFCS 0x02u
#define TXD_CMD_RS   0x08u
#define TXD_STAT_DD  0x01u
#define RING_LEN     8

/* a legacy transmit descriptor */
struct txd {
	uint64_t addr;
	uint32_t lower;   /* length, cso, cmd */
	uint32_t upper;   /* status, css, special */
};

uint32_t
e1000e_rd32(struct rte_vfiofd_device *dev, uint64_t off)
{
	uint32_t v = 0;

	rte_vfiofd_region_read(dev, 0, off, &v, 4);
	return v;
}

void
e1000e_wr32(struct rte_vfiofd_device *dev, uint64_t off, uint32_t v)
{
	rte_vfiofd_region_write(dev, 0, off, &v, 4);
}

void
e1000e_tx_one(struct rte_vfiofd_device *dev, void *ring, uint64_t ring_iova,
	      uint64_t buf_iova, struct e1000e_tx_result *res)
{
	volatile struct txd *d = ring;
	uint64_t t0;

	memset(ring, 0, RING_LEN * sizeof(struct txd));
	d[0].addr = buf_iova;
	d[0].lower = 60u | ((TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS) << 24);
	e1000e_wr32(dev, E1000_TCTL, 0);
	e1000e_wr32(dev, E1000_TDBAL, (uint32_t)ring_iova);
	e1000e_wr32(dev, E1000_TDBAH, (uint32_t)(ring_iova >> 32));
	e1000e_wr32(dev, E1000_TDLEN, RING_LEN * sizeof(struct txd));
	e1000e_wr32(dev, E1000_TDH, 0);
	e1000e_wr32(dev, E1000_TDT, 0);
	e1000e_wr32(dev, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP);
	rte_wmb();
	e1000e_wr32(dev, E1000_TDT, 1);
	res->tdh = 0;
	res->dd = false;
	t0 = rte_get_timer_cycles();
	while (rte_get_timer_cycles() - t0 < 3 * rte_get_timer_hz()) {
		res->dd = (__atomic_load_n(&d[0].upper, __ATOMIC_ACQUIRE) & TXD_STAT_DD) != 0;
		res->tdh = e1000e_rd32(dev, E1000_TDH);
		if (res->dd && res->tdh == 1)
			break;
		rte_delay_ms(10);
	}
	e1000e_wr32(dev, E1000_TCTL, 0);
}
