/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfiofd virtio-net PMD: per-port state shared by its files.
 *
 *   vv_pci.c     virtio PCI capabilities and registers (through the vfiofd bus)
 *   vv_vq.c      split virtqueue memory, layout and notification protocol
 *   vv_rxtx.c    receive/transmit queues and burst functions
 *   vv_ctrl.c    the control virtqueue (rx mode, MAC, multiqueue)
 *   vv_intr.c    link-status and receive interrupts
 *   vv_stats.c   basic statistics and xstats
 *   vv_ethdev.c  ethdev operations, device start/stop, probe/remove, devargs
 */

#ifndef VV_ETHDEV_H
#define VV_ETHDEV_H

#include <stdbool.h>
#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_ether.h>
#include <rte_spinlock.h>

#include "bus_vfiofd_driver.h"
#include "vv_pci.h"
#include "vv_rxtx.h"
#include "vv_vq.h"
#include "vv_compat.h"

#define VV_DRIVER_NAME "net_vfiofd_virtio"

/* Multicast addresses the MAC table command carries at most. */
#define VV_MAX_MC_ADDRS 64
/* Unicast addresses besides the primary one (rte_eth_dev_mac_addr_add). */
#define VV_MAX_UC_ADDRS 16

/* Devargs (besides the bus's own): see doc/guides/pmd_vfiofd_virtio.rst. */
#define VV_ARG_MRG_RXBUF "mrg_rxbuf"
#define VV_ARG_EVENT_IDX "event_idx"
#define VV_ARG_INDIRECT "indirect"

enum vv_tristate {
	VV_AUTO = 0,
	VV_ON,
	VV_OFF,
};

struct vv_opts {
	enum vv_tristate mrg_rxbuf;   /* auto: only when a packet may not fit one buffer */
	enum vv_tristate event_idx;   /* auto: with MSI-X */
	enum vv_tristate indirect;    /* auto: when offered */
};

struct vv_ctrl {
	struct vv_vq vq;
	rte_spinlock_t lock;
	bool ready;                   /* programmed into the running device */
	bool broken;                  /* a command timed out: the device holds our buffers */
	uint64_t commands;
	uint64_t errors;
};

struct vv_dev_stats {
	uint64_t lsc_interrupts;
};

struct vv_hw {
	struct vv_pci pci;
	struct rte_vfiofd_device *vdev;
	struct rte_eth_dev *eth_dev;
	const char *name;                 /* the PCI address */
	struct vv_opts opts;

	uint64_t dev_features;            /* offered by the device */
	uint64_t features;                /* negotiated at the last start */
	uint16_t max_pairs;               /* queue pairs the device offers */
	uint16_t nb_pairs;                /* queue pairs in use */
	uint16_t ctrl_index;              /* virtqueue index of the control queue */
	uint16_t dev_mtu;                 /* the device's advised MTU (0: none) */
	uint16_t rx_qsize_max;            /* the smallest receive queue's size */
	uint16_t tx_qsize_max;            /* the smallest transmit queue's size */
	uint16_t *qsize;                  /* size of every virtqueue, control last */
	struct rte_ether_addr dev_mac;    /* the device's own address */
	struct rte_ether_addr cur_mac;    /* what the running device filters on */

	struct vv_ctrl ctrl;
	bool started;
	bool msix;                        /* the bus gave us MSI-X */
	bool intr_on;                     /* interrupts wired with VFIO at start */
	bool lsc_cb;                      /* link-status callback registered */
	bool rxq_intr;                    /* receive interrupts set up at start */

	/* receive filter the control queue keeps in the device */
	struct rte_ether_addr uc[VV_MAX_UC_ADDRS];   /* [ethdev index - 1], 0: unused */
	struct rte_ether_addr mc[VV_MAX_MC_ADDRS];
	uint32_t nb_mc;

	struct vv_dev_stats stats;
};

#define VV_HW(eth_dev) ((struct vv_hw *)(eth_dev)->data->dev_private)

static inline bool
vv_has(const struct vv_hw *hw, unsigned int bit)
{
	return (hw->features & VV_BIT(bit)) != 0;
}

static inline bool
vv_offers(const struct vv_hw *hw, unsigned int bit)
{
	return (hw->dev_features & VV_BIT(bit)) != 0;
}

/* vv_ctrl.c */
int vv_ctrl_alloc(struct vv_hw *hw);
void vv_ctrl_free(struct vv_hw *hw);
int vv_ctrl_attach(struct vv_hw *hw);
void vv_ctrl_detach(struct vv_hw *hw);
int vv_ctrl_cmd(struct vv_hw *hw, uint8_t cls, uint8_t cmd, const void *data,
		uint32_t len);
int vv_ctrl_set_rx_mode(struct vv_hw *hw, uint8_t cmd, bool on);
int vv_ctrl_set_pairs(struct vv_hw *hw, uint16_t pairs);
int vv_ctrl_set_mac(struct vv_hw *hw, const struct rte_ether_addr *mac);
int vv_ctrl_set_mac_table(struct vv_hw *hw);

/* vv_intr.c */
int vv_intr_start(struct vv_hw *hw);
void vv_intr_stop(struct vv_hw *hw);
int vv_intr_lsc_register(struct vv_hw *hw);
void vv_intr_lsc_unregister(struct vv_hw *hw);
uint16_t vv_intr_rxq_vector(const struct vv_hw *hw, uint16_t queue_id);
int vv_rx_queue_intr_enable(struct rte_eth_dev *dev, uint16_t queue_id);
int vv_rx_queue_intr_disable(struct rte_eth_dev *dev, uint16_t queue_id);

/* vv_stats.c */
int vv_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats VV_STATS_QSTATS_PARAM);
int vv_stats_reset(struct rte_eth_dev *dev);
int vv_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats, unsigned int n);
int vv_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			unsigned int size);
int vv_xstats_reset(struct rte_eth_dev *dev);

/* vv_ethdev.c */
int vv_link_update(struct rte_eth_dev *dev, int wait_to_complete);

#endif /* VV_ETHDEV_H */
