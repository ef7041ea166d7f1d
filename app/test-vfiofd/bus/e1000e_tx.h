/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA through an e1000e (82574) on the vfiofd bus, for the tests that must show memory
 * is really mapped for the device: one frame through its transmit ring, which is a DMA
 * read of the descriptor and the frame and a DMA write of the descriptor's status.
 */

#ifndef TEST_VFIOFD_E1000E_TX_H
#define TEST_VFIOFD_E1000E_TX_H

#include <stdbool.h>
#include <stdint.h>

#include <bus_vfiofd_driver.h>

/* transmit registers (82574 datasheet, 10.2.6) */
#define E1000_TCTL      0x00400
#define E1000_TCTL_EN   (1u << 1)
#define E1000_TCTL_PSP  (1u << 3)
#define E1000_TDBAL     0x03800
#define E1000_TDBAH     0x03804
#define E1000_TDLEN     0x03808
#define E1000_TDH       0x03810
#define E1000_TDT       0x03818

/* a 32-bit register of BAR0, through the bus's accessors */
uint32_t e1000e_rd32(struct rte_vfiofd_device *dev, uint64_t off);
void e1000e_wr32(struct rte_vfiofd_device *dev, uint64_t off, uint32_t v);

struct e1000e_tx_result {
	uint32_t tdh; /* 1: the device read the descriptor (DMA read) */
	bool dd;      /* it wrote the descriptor's status back (DMA write) */
};

/*
 * Send one 60-byte frame of zeros at @buf_iova through a ring of 8 legacy descriptors
 * at @ring_iova, which the CPU sees at @ring (128 bytes, zeroed here), and wait up to
 * 3 s for the device to take it. The transmitter is off again on return.
 */
void e1000e_tx_one(struct rte_vfiofd_device *dev, void *ring, uint64_t ring_iova,
		   uint64_t buf_iova, struct e1000e_tx_result *res);

#endif /* TEST_VFIOFD_E1000E_TX_H */
