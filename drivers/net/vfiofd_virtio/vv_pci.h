/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio 1.x PCI transport over the vfiofd bus: the vendor capabilities found in
 * config space, and the common, notify, ISR and device-configuration structures they
 * point at inside the BARs.
 */

#ifndef VV_PCI_H
#define VV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_io.h>

#include "bus_vfiofd_driver.h"

/*
 * One structure inside a BAR. @va is set when the bus mapped every byte of that BAR
 * (RTE_VFIOFD_REGION_MAPPED): accesses are then plain loads and stores; otherwise
 * they go through rte_vfiofd_region_read()/write() (pread/pwrite on the device fd).
 */
struct vv_window {
	uint8_t *va;
	uint64_t off;    /* offset of the structure inside its BAR */
	uint32_t len;
	uint8_t bar;
	bool present;
};

struct vv_pci {
	struct rte_vfiofd_device *dev;
	const char *name;              /* the PCI address, for messages */
	struct vv_window common;
	struct vv_window notify;
	struct vv_window isr;
	struct vv_window devcfg;
	uint32_t notify_mult;          /* notify_off_multiplier */
};

/* Where to write to kick one virtqueue. */
struct vv_notify {
	volatile uint16_t *addr;       /* NULL: not mapped, use the bus accessor */
	struct rte_vfiofd_device *dev;
	uint64_t off;                  /* offset inside @bar */
	uint8_t bar;
	uint16_t value;                /* the queue index */
};

/* Find and check the capabilities; 0 or a negative errno (logged). */
int vv_pci_init(struct vv_pci *p, struct rte_vfiofd_device *dev);

uint8_t vv_pci_read8(const struct vv_pci *p, const struct vv_window *w, uint32_t off);
uint16_t vv_pci_read16(const struct vv_pci *p, const struct vv_window *w, uint32_t off);
uint32_t vv_pci_read32(const struct vv_pci *p, const struct vv_window *w, uint32_t off);
void vv_pci_write8(const struct vv_pci *p, const struct vv_window *w, uint32_t off,
		   uint8_t v);
void vv_pci_write16(const struct vv_pci *p, const struct vv_window *w, uint32_t off,
		    uint16_t v);
void vv_pci_write32(const struct vv_pci *p, const struct vv_window *w, uint32_t off,
		    uint32_t v);

/* Reset the device and wait until it reports the reset done; 0 or -ETIMEDOUT. */
int vv_pci_reset(const struct vv_pci *p);
uint8_t vv_pci_get_status(const struct vv_pci *p);
/* OR @bits into device_status. */
void vv_pci_add_status(const struct vv_pci *p, uint8_t bits);

uint64_t vv_pci_device_features(const struct vv_pci *p);
void vv_pci_set_driver_features(const struct vv_pci *p, uint64_t features);

/*
 * Read @len bytes of the device configuration at @off, consistently (retried while
 * config_generation changes under it).
 */
void vv_pci_read_devcfg(const struct vv_pci *p, uint32_t off, void *buf, uint32_t len);

uint16_t vv_pci_num_queues(const struct vv_pci *p);
/* Maximum size of queue @idx; 0 if the queue does not exist. */
uint16_t vv_pci_queue_max(const struct vv_pci *p, uint16_t idx);

/*
 * Program queue @idx (the device must be past FEATURES_OK and before DRIVER_OK):
 * size, MSI-X vector, ring addresses; then enable it and fill @n with its notify
 * address. Returns 0, -EINVAL if the device refused the vector, -ERANGE if the notify
 * offset lies outside the notify structure.
 */
int vv_pci_queue_setup(const struct vv_pci *p, uint16_t idx, uint16_t size,
		       uint16_t vector, uint64_t desc, uint64_t avail, uint64_t used,
		       struct vv_notify *n);

/* Set msix_config; returns what the device kept (VV_MSI_NO_VECTOR if refused). */
uint16_t vv_pci_set_config_vector(const struct vv_pci *p, uint16_t vector);

/* Read (and so clear) the ISR status. */
uint8_t vv_pci_isr(const struct vv_pci *p);

/* Kick a queue. The caller ordered its ring stores before (see vv_vq.h). */
static inline void
vv_notify(const struct vv_notify *n)
{
	if (likely(n->addr != NULL)) {
		/* rte_write16 has the I/O write barrier: ring stores are visible first */
		rte_write16(n->value, n->addr);
		return;
	}
	rte_vfiofd_region_write(n->dev, n->bar, n->off, &n->value, sizeof(n->value));
}

#endif /* VV_PCI_H */
