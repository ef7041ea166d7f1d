/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the vfiofd bus, shared by its files:
 *   vfiofd_common.c    bus operations, driver/device lists, probe and remove
 *   vfiofd_params.c    devargs: names, options, allow/block lists, dev_iterate
 *   linux/vfiofd_scan.c  the sysfs scan
 *   vfiofd_claim.c     coexistence with bus/pci
 *   vfiofd_device.c    the per-device VFIO/iommufd setup and teardown
 *   vfiofd_regions.c   BAR mapping and region/config accessors
 *   vfiofd_intr.c      interrupt handle, SET_IRQS, request notifier
 *   vfiofd_telemetry.c /vfiofd/list and /vfiofd/info
 *   vfiofd_mp.c        multi-process: the primary hands device fds to secondaries
 *   vfiofd_pci.c       DPDK's own PCI drivers on the bus (the PCI view of a device)
 */

#ifndef VFIOFD_PRIVATE_H
#define VFIOFD_PRIVATE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <bus_driver.h>
#include <rte_devargs.h>
#include <rte_log.h>

#include <linux/vfio.h>

#include "bus_vfiofd_driver.h"
#include "vfiofd_devargs.h"
#include "vfiofd_layout.h"

extern int vfiofd_logtype;

#define VFIOFD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vfiofd_logtype, "vfiofd: " fmt "\n", ##__VA_ARGS__)
/* One line naming the device: every message about a device goes through this. */
#define VFIOFD_DEV_LOG(level, d, fmt, ...) \
	VFIOFD_LOG(level, "%s: " fmt, (d)->pub.name, ##__VA_ARGS__)

/*
 * Environment variables that redirect the sysfs and /dev roots (host tests), read with
 * secure_getenv(): ignored in a process that gained privileges at exec.
 */
#define VFIOFD_ENV_SYSFS "VFIOFD_SYSFS_PCI_DEVICES"
#define VFIOFD_ENV_DEV "VFIOFD_DEV_ROOT"

/* Most mmap areas a region can have (sparse areas, split around the MSI-X table). */
#define VFIOFD_MAX_AREAS 16

/* Where a device stands with respect to bus/pci. */
enum vfiofd_claim_state {
	VFIOFD_CLAIM_NONE = 0,  /* not claimed (no driver of ours wants it, or no bus/pci) */
	VFIOFD_CLAIM_HELD,      /* bus/pci is told to leave it alone (a blocked devargs) */
	VFIOFD_CLAIM_PCI_ALLOWED, /* the user allow-listed it on bus/pci: we leave it */
	VFIOFD_CLAIM_CONFLICT,  /* allow-listed on both buses: refused */
	VFIOFD_CLAIM_PCI_PROBED, /* bus/pci already drives it: refused */
};

/*
 * Where a VFIO region lies in the device fd, as bus/pci records it for each device
 * (DPDK 23.07 and later: struct rte_pci_device_internal in its private.h, a table of
 * RTE_MAX_PCI_REGIONS entries right behind the struct rte_pci_device); its config-space
 * and I/O-port accessors read it. See struct vfiofd_device::pci_regions.
 */
struct vfiofd_pci_region {
	uint64_t size;
	uint64_t offset;
};
#define VFIOFD_PCI_NUM_REGIONS 9

/* Private per-region state. */
struct vfiofd_region_priv {
	struct vfio_region_info *info;  /* REGION_INFO (malloc'ed), NULL if none */
	struct vfiofd_area areas[VFIOFD_MAX_AREAS]; /* what is mmap'ed, region-relative */
	unsigned int n_areas;
	size_t map_len;                 /* length of the reservation at pub addr */
};

/* A device: the public part first, the bus's state after it. */
struct vfiofd_device {
	struct rte_vfiofd_device pub;
	/*
	 * Right behind pub.pci_dev, where DPDK 23.07+ bus/pci's accessors
	 * (rte_pci_read_config(), rte_pci_ioport_read(), ...) look for it when a DPDK PCI
	 * driver calls them on our device: offset and size of each VFIO region in the
	 * device fd (vfiofd_pci.c fills it; 22.11 reads fixed offsets and ignores it).
	 */
	struct vfiofd_pci_region pci_regions[VFIOFD_PCI_NUM_REGIONS];
	/* The PCI view's extras, from the scan: BAR bus addresses and the bus info. */
	uint64_t bar_phys[RTE_VFIOFD_NUM_BARS];
	char bus_info[48];
	/*
	 * While a DPDK PCI driver drives the device (pub.pci_dev.driver != NULL) and the
	 * devargs are in the legacy syntax, their args show the driver only its own keys
	 * (opts.driver_args); user_args is what the user gave, put back at remove.
	 */
	const char *user_args;

	/* From the scan. */
	char cdev_path[PATH_MAX];       /* no-IOMMU: the group node, /dev/vfio/noiommu-N */
	char cdev_name[32];
	unsigned int cdev_major, cdev_minor;
	/*
	 * No IOMMU (vfio's unsafe mode, opted into with noiommu=1): DMA uses physical
	 * addresses. Before Linux 7.3 no cdev exists, and the device is opened through its
	 * group /dev/vfio/noiommu-<iommu_group> and a container; from 7.3 it has a cdev
	 * (noiommu_cdev), opened, bound and attached like any other.
	 */
	bool noiommu;
	bool noiommu_cdev;
	int iommu_group;
	/*
	 * A secondary process: the device fd is a copy of the primary's (vfiofd_mp.c), and
	 * the BARs go at the primary's addresses (bar_va, NULL: not mapped there), so that
	 * the pointers a PMD keeps in shared memory hold in both processes.
	 */
	bool secondary;
	void *bar_va[RTE_VFIOFD_NUM_BARS];
	struct vfiofd_options opts;
	int opts_err;                   /* < 0: the devargs are refused, see opts_errmsg */
	char opts_errmsg[288];
	bool check_driver_keys;         /* legacy devargs: driver keys are validated */
	enum vfiofd_claim_state claim;

	/* From probe; each field has a "nothing" value so teardown can run at any point. */
	int devfd;                      /* -1 */
	int nio_container, nio_group;   /* no-IOMMU path: container and group fds, -1 */
	bool mem_ref;                   /* holds a reference on librte_iommufd_mem */
	uint32_t devid;                 /* iommufd device id */
	uint32_t ioas_id;
	uint32_t hwpt_id;
	bool ioas_private;              /* ioas_id was created for this device */
	bool attached;
	struct vfio_device_info info;
	struct vfio_region_info *cfg_info;
	struct vfiofd_region_priv regions[RTE_VFIOFD_NUM_BARS];
	struct vfiofd_msix_loc msix;
	bool has_msix;
	bool do_reset;                  /* reset at probe/remove */
	uint32_t intr_index;            /* VFIO_PCI_*_IRQ_INDEX, VFIO_PCI_NUM_IRQS: none */
	int intr_efd;                   /* eventfd of vector 0, -1 */
	bool intr_enabled;
	struct rte_intr_handle *req_handle; /* request notifier, NULL */
	uint64_t req_count;             /* requests received (hot-unplug) */
	/*
	 * The device was taken away under its driver (vfiofd_dev_revoke()): the BARs are
	 * anonymous memory and devfd is /dev/null. Teardown skips the device ioctls.
	 */
	bool revoked;
	unsigned int req_events;        /* request notifications handled since probe */
};

#define VFIOFD_DEV(pubdev) container_of(pubdev, struct vfiofd_device, pub)

/* The bus. */
struct vfiofd_bus {
	struct rte_bus bus;
	RTE_TAILQ_HEAD(, rte_vfiofd_device) device_list;
	RTE_TAILQ_HEAD(, rte_vfiofd_driver) driver_list;
	/* Allow-listed devices the last scan could not use (for the probe result). */
	unsigned int scan_refused;
	/* Set when the EAL's initial probe has run: later scans are hotplug rescans. */
	bool init_done;
};

extern struct vfiofd_bus vfiofd_bus;

/*
 * Serialises the device list and device state between the EAL thread (scan, probe,
 * remove) and the telemetry thread. Driver callbacks run without it held.
 */
extern pthread_mutex_t vfiofd_lock;

#define FOREACH_VFIOFD_DEVICE(d) TAILQ_FOREACH(d, &vfiofd_bus.device_list, next)
#define FOREACH_VFIOFD_DRIVER(drv) TAILQ_FOREACH(drv, &vfiofd_bus.driver_list, next)

/* vfiofd_common.c */
bool vfiofd_id_match(const struct rte_pci_id *table, const struct rte_pci_id *id);
bool vfiofd_any_driver_matches(const struct rte_vfiofd_device *dev);
/* Why the process runs with translated IOVAs ("" if it does not), for refusal lines. */
const char *vfiofd_translated_why(void);
/* Name of the driver (vfiofd's or DPDK's PCI driver) that drives @d, or NULL. */
const char *vfiofd_dev_driver_name(const struct vfiofd_device *d);
struct vfiofd_device *vfiofd_find_by_name(const char *name);
void vfiofd_insert_device(struct vfiofd_device *d);
void vfiofd_free_device(struct vfiofd_device *d);
bool vfiofd_remove_trylock(void);
void vfiofd_remove_unlock(void);

/* vfiofd_params.c */
int vfiofd_parse(const char *name, void *addr);
int vfiofd_devargs_parse(struct rte_devargs *da);
void vfiofd_devargs_normalize(void);
struct rte_devargs *vfiofd_devargs_lookup(const char *name);
bool vfiofd_ignored(const char *name, const struct rte_devargs *da);
bool vfiofd_allowed_explicitly(const struct rte_devargs *da);
void vfiofd_load_options(struct vfiofd_device *d);
bool vfiofd_devargs_noiommu(const struct rte_devargs *da);
int vfiofd_check_driver_keys(struct vfiofd_device *d, const struct rte_vfiofd_driver *drv);
void *vfiofd_dev_iterate(const void *start, const char *str,
			 const struct rte_dev_iterator *it);

/* linux/vfiofd_scan.c */
int vfiofd_scan(void);
const char *vfiofd_sysfs_root(void);
const char *vfiofd_dev_root(void);

/* vfiofd_claim.c */
void vfiofd_claim(struct vfiofd_device *d, bool explicit);
int vfiofd_claim_check(struct vfiofd_device *d);
const char *vfiofd_claim_str(enum vfiofd_claim_state s);

/* vfiofd_device.c */
void vfiofd_dev_init_state(struct vfiofd_device *d);
int vfiofd_dev_open(struct vfiofd_device *d, uint32_t drv_flags);
void vfiofd_dev_close(struct vfiofd_device *d);
/* The kernel takes the device back under a running driver: see vfiofd_device.c. */
int vfiofd_dev_revoke(struct vfiofd_device *d);

/* vfiofd_mp.c */
void vfiofd_mp_init(void);
void vfiofd_mp_fini(void);
/* Secondary: the primary's fds of @d, and its BAR addresses into d->bar_va. */
int vfiofd_mp_get_fds(struct vfiofd_device *d, int *iommufd, int *devfd, bool *translated);

/* vfiofd_pci.c */
/* The DPDK PCI driver whose id table matches @dev (the first, as bus/pci), or NULL. */
const struct rte_pci_driver *vfiofd_pci_driver_find(const struct rte_vfiofd_device *dev);
/* Probe @d with that driver: 1 none matches (or it declines), 0 probed, < 0 error. */
int vfiofd_pci_probe(struct vfiofd_device *d);
/* Undo what the PCI view holds for a driver (after its remove, before the close). */
void vfiofd_pci_view_clear(struct vfiofd_device *d);

/* vfiofd_regions.c */
int vfiofd_regions_setup(struct vfiofd_device *d);
void vfiofd_regions_teardown(struct vfiofd_device *d);
/* BARs to anonymous memory at the same addresses (async-signal-safe); 0 or -errno. */
int vfiofd_regions_revoke(struct vfiofd_device *d);
int vfiofd_config_update16(struct vfiofd_device *d, uint64_t off, uint16_t set,
			   uint16_t clear);

/* vfiofd_intr.c */
int vfiofd_intr_setup(struct vfiofd_device *d);
void vfiofd_intr_teardown(struct vfiofd_device *d);
int vfiofd_req_setup(struct vfiofd_device *d);
void vfiofd_req_teardown(struct vfiofd_device *d);
const char *vfiofd_intr_index_str(uint32_t index);

#endif /* VFIOFD_PRIVATE_H */
