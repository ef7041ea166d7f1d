/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef BUS_VFIOFD_DRIVER_H
#define BUS_VFIOFD_DRIVER_H

/**
 * @file
 * The vfiofd bus, as a poll-mode driver sees it.
 *
 * vfiofd drives PCI functions bound to vfio-pci through their VFIO device cdev
 * (/dev/vfio/devices/vfioN) and iommufd (/dev/iommu), without the VFIO group and
 * container. Devices are named by their PCI address ("0000:01:00.0") and selected with
 * "-a vfiofd:0000:01:00.0[,key=value...]" / "-b vfiofd:...".
 *
 * When a driver's probe() runs, the bus has already: opened the cdev, bound it to the
 * process iommufd and attached it to an I/O address space holding all DPDK memory
 * (IOVA == VA), reset the device (where supported), mapped its BARs, enabled memory
 * decoding and bus mastering, and prepared the interrupt handle (eventfds, not yet
 * enabled). remove() runs before the bus undoes all of this.
 *
 * Threading: probe/remove run in the thread that called rte_eal_init(),
 * rte_dev_probe() or rte_dev_remove(). The region and config accessors are thread-safe
 * (positional I/O, or plain loads and stores through the mapping).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <dev_driver.h>
#include <rte_common.h>
#include <rte_dev.h>
#include <rte_interrupts.h>
#include <rte_pci.h>
#include <bus_pci_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Name of the bus, and the prefix of its device strings ("vfiofd:"). */
#define RTE_BUS_VFIOFD_NAME "vfiofd"

/** Number of BAR regions (BAR0..BAR5). */
#define RTE_VFIOFD_NUM_BARS 6

/** @name Region flags (struct rte_vfiofd_region::flags)
 * @{
 */
#define RTE_VFIOFD_REGION_READ    0x0001 /**< the region can be read */
#define RTE_VFIOFD_REGION_WRITE   0x0002 /**< the region can be written */
#define RTE_VFIOFD_REGION_MMAP    0x0004 /**< the kernel allows mmap (of some part) */
#define RTE_VFIOFD_REGION_MAPPED  0x0008 /**< every byte is reachable through addr */
#define RTE_VFIOFD_REGION_PARTIAL 0x0010 /**< only some pages are mapped (sparse mmap
					      or an MSI-X hole); the others fault */
#define RTE_VFIOFD_REGION_IO      0x0020 /**< an I/O-port BAR (never mapped) */
#define RTE_VFIOFD_REGION_MSIX    0x0040 /**< holds the MSI-X table or PBA */
/** @} */

/**
 * A BAR as the bus set it up.
 *
 * When @ref addr is not NULL it is the base of a reservation of the whole region
 * (rounded up to pages) in which the mappable parts are mapped; the rest is PROT_NONE.
 * Use it directly on the fast path where RTE_VFIOFD_REGION_MAPPED is set; otherwise
 * use rte_vfiofd_region_read() / rte_vfiofd_region_write(), which pick the mapping
 * where it covers the access and pread/pwrite on the device fd elsewhere.
 */
struct rte_vfiofd_region {
	void *addr;      /**< base of the mapping, or NULL if nothing is mapped */
	uint64_t size;   /**< region size in bytes (0: the BAR does not exist) */
	uint32_t flags;  /**< RTE_VFIOFD_REGION_* */
};

/**
 * A PCI function on the vfiofd bus.
 *
 * Its generic device is also the generic device of a struct rte_pci_device
 * (@ref pci_dev): the bus hands a device that none of its own drivers takes, and that
 * the user allow-listed ("-a vfiofd:<BDF>"), to the DPDK PCI driver whose id table
 * matches it, exactly as bus/pci would, and such a driver finds its rte_pci_device
 * from the generic device (RTE_DEV_TO_PCI()). vfiofd drivers use the fields above it.
 */
struct rte_vfiofd_device {
	RTE_TAILQ_ENTRY(rte_vfiofd_device) next; /**< next device on the bus */
	struct rte_pci_addr addr;         /**< PCI address */
	struct rte_pci_id id;             /**< vendor, device, subsystem ids and class */
	char name[RTE_DEV_NAME_MAX_LEN];  /**< "dddd:bb:dd.f" */
	struct rte_vfiofd_region regions[RTE_VFIOFD_NUM_BARS]; /**< BAR0..BAR5 */
	/**
	 * Interrupt handle: type RTE_INTR_HANDLE_VFIO_MSIX, _MSI or _LEGACY (or
	 * _UNKNOWN with intr=none), fd = the eventfd of vector 0 (link status and other
	 * causes), dev_fd = the VFIO device fd. Queue interrupts: rte_intr_efd_enable()
	 * then rte_vfiofd_intr_enable() (or rte_intr_enable()), vector n >= 1 = efd n-1.
	 */
	struct rte_intr_handle *intr_handle;
	struct rte_vfiofd_driver *driver; /**< driver that probed it, or NULL */
	uint32_t intr_vectors;            /**< vectors the chosen interrupt mode offers */
	/**
	 * The device as DPDK's PCI drivers see it. Its generic device, @ref device, is
	 * the device's one generic device, whichever kind of driver takes it. The bus
	 * fills the PCI fields (address, ids, kdrv VFIO, BARs, interrupt handle, driver)
	 * while a DPDK PCI driver drives the device. It stays the last member: bus/pci's
	 * config-space accessors (DPDK 23.07 and later) read a table of VFIO region
	 * offsets that bus/pci keeps right behind an rte_pci_device, and so does vfiofd.
	 */
	union {
		struct rte_pci_device pci_dev; /**< the PCI view */
		struct {
			/** rte_pci_device's list entry (unused on vfiofd) */
			RTE_TAILQ_ENTRY(rte_pci_device) pci_next;
			struct rte_device device; /**< generic device; name = PCI address */
		};
	};
};

/** Convert a generic device to a vfiofd device. */
#define RTE_DEV_TO_VFIOFD(ptr) container_of(ptr, struct rte_vfiofd_device, device)
/** Same, const. */
#define RTE_DEV_TO_VFIOFD_CONST(ptr) \
	container_of(ptr, const struct rte_vfiofd_device, device)
/** The vfiofd device of an ethdev. */
#define RTE_ETH_DEV_TO_VFIOFD(eth_dev) RTE_DEV_TO_VFIOFD((eth_dev)->device)

/**
 * Build an id-table entry for vendor @p vend, device @p dev (any subsystem, any
 * class); the same as bus/pci's RTE_PCI_DEVICE(), which needs bus/pci's header.
 */
#define RTE_VFIOFD_DEVICE(vend, dev) \
	.class_id = RTE_CLASS_ANY_ID, \
	.vendor_id = (vend), \
	.device_id = (dev), \
	.subsystem_vendor_id = RTE_PCI_ANY_ID, \
	.subsystem_device_id = RTE_PCI_ANY_ID

struct rte_vfiofd_driver;

/**
 * Probe: the device matched the driver's id table and is set up (see the file
 * comment). Return 0 on success, > 0 if the driver does not want this device after
 * all (the bus tries the next driver), < 0 on error (the bus undoes its setup).
 */
typedef int (rte_vfiofd_probe_t)(struct rte_vfiofd_driver *drv,
				 struct rte_vfiofd_device *dev);

/**
 * Remove: release everything probe() created. 0 on success; on error the device stays
 * probed and the bus keeps its setup.
 */
typedef int (rte_vfiofd_remove_t)(struct rte_vfiofd_device *dev);

/** @name Driver flags (struct rte_vfiofd_driver::drv_flags)
 * @{
 */
/** The driver supports link-status interrupts (on vector 0). */
#define RTE_VFIOFD_DRV_INTR_LSC   0x0001
/** The driver handles device-removal requests (the VFIO request notifier). */
#define RTE_VFIOFD_DRV_INTR_RMV   0x0002
/**
 * Do not count on a reset at probe and remove. The bus issues no VFIO_DEVICE_RESET
 * itself: vfio-pci resets a function that supports it when it is opened and when it
 * is closed, which a user-space reset could only repeat; this flag (like the devarg
 * reset=off) now only shows in telemetry ("reset": 0).
 */
#define RTE_VFIOFD_DRV_NO_RESET   0x0004
/** Do not enable bus mastering at probe (the driver does it when it is ready). */
#define RTE_VFIOFD_DRV_NO_BUS_MASTER 0x0008
/**
 * The driver gives the device no IOVA from the EAL (mbuf buf_iova, memzone iova):
 * where the memory library runs in translated mode (rte_iommufd_mem_translated()) it
 * translates every DMA address through rte_iommufd_mem_cache(). Only such drivers are
 * probed in that mode.
 */
#define RTE_VFIOFD_DRV_IOVA_TRANSLATE 0x0010
/** @} */

/**
 * A vfiofd driver.
 */
struct rte_vfiofd_driver {
	RTE_TAILQ_ENTRY(rte_vfiofd_driver) next; /**< next driver on the bus */
	struct rte_driver driver;          /**< generic driver; name set at registration */
	rte_vfiofd_probe_t *probe;         /**< device probe */
	rte_vfiofd_remove_t *remove;       /**< device remove */
	/**
	 * Supported devices, terminated by an entry whose vendor_id is 0. Same layout
	 * and wildcards (RTE_PCI_ANY_ID, RTE_CLASS_ANY_ID) as bus/pci's, so that
	 * RTE_PCI_DEVICE() builds entries and DPDK's pmdinfo tools read the table.
	 */
	const struct rte_pci_id *id_table;
	/**
	 * Device-argument keys the driver understands (NULL-terminated, may be NULL).
	 * The bus refuses a device whose devargs hold a key that is neither the bus's
	 * (ioas, intr, reset, bar_mmap, noiommu, iova) nor listed here, so that a typo is an error
	 * rather than a silently ignored setting.
	 */
	const char *const *devargs_keys;
	uint32_t drv_flags;                /**< RTE_VFIOFD_DRV_* */
};

/**
 * Register a driver (use RTE_PMD_REGISTER_VFIOFD() instead).
 *
 * @param driver
 *   The driver; its id_table and probe must be set.
 */
void rte_vfiofd_register(struct rte_vfiofd_driver *driver);

/**
 * Unregister a driver. Devices it probed must have been removed first.
 *
 * @param driver
 *   The driver.
 */
void rte_vfiofd_unregister(struct rte_vfiofd_driver *driver);

/**
 * Register a vfiofd driver @p drv under name @p nm, and export the name the way
 * DPDK's pmdinfogen expects (this_pmd_name<N>), so that dpdk-pmdinfo.py lists it.
 */
#define RTE_PMD_REGISTER_VFIOFD(nm, drv) \
RTE_INIT(vfiofdinitfn_ ##nm) \
{ \
	(drv).driver.name = RTE_STR(nm); \
	rte_vfiofd_register(&(drv)); \
} \
RTE_VFIOFD_PMD_EXPORT_NAME(nm)

/*
 * DPDK's name export for pmdinfogen takes a counter argument in 22.11 and 24.11; 25.11
 * exports a symbol per driver name instead and defines RTE_PMD_EXPORT_SYMBOL for it,
 * which tells the two apart.
 */
#ifdef RTE_PMD_EXPORT_SYMBOL
#define RTE_VFIOFD_PMD_EXPORT_NAME(nm) RTE_PMD_EXPORT_NAME(nm)
#else
#define RTE_VFIOFD_PMD_EXPORT_NAME(nm) RTE_PMD_EXPORT_NAME(nm, __COUNTER__)
#endif

/**
 * Export the id table @p table of driver @p nm for DPDK's pmdinfo tooling. The table
 * is a struct rte_pci_id array like a PCI driver's, so the same export symbol
 * (__<name>_pci_tbl_export) and format apply.
 */
#define RTE_PMD_REGISTER_VFIOFD_TABLE(nm, table) \
	RTE_PMD_REGISTER_PCI_TABLE(nm, table)

/**
 * Read from a BAR: through the mapping when it covers [off, off + len), with pread on
 * the device fd otherwise (I/O-port BARs, regions without mmap, sparse holes, or a
 * device probed with bar_mmap=off). Through the mapping the copy is done with 8-, 4-,
 * 2- or 1-byte volatile loads so that a register read is one access when @p off and
 * @p len allow it.
 *
 * @param dev
 *   A probed device.
 * @param bar
 *   BAR index, 0..5.
 * @param off
 *   Offset inside the BAR.
 * @param buf
 *   Destination.
 * @param len
 *   Bytes to read.
 * @return
 *   @p len on success; -EINVAL (not probed, bad index), -ERANGE (outside the BAR),
 *   -EACCES (region not readable) or another negative errno from the kernel.
 */
ssize_t rte_vfiofd_region_read(const struct rte_vfiofd_device *dev, unsigned int bar,
			       uint64_t off, void *buf, size_t len);

/**
 * Write to a BAR; see rte_vfiofd_region_read() for the path taken.
 *
 * @return
 *   @p len on success, a negative errno otherwise.
 */
ssize_t rte_vfiofd_region_write(const struct rte_vfiofd_device *dev, unsigned int bar,
				uint64_t off, const void *buf, size_t len);

/**
 * Read from a BAR with pread on the device fd, never through the mapping. For
 * diagnostics and tests, and for the few places where the two views differ by design
 * (vfio-pci answers 0xff for the MSI-X table through pread).
 *
 * @return
 *   @p len on success, a negative errno otherwise.
 */
ssize_t rte_vfiofd_region_pread(const struct rte_vfiofd_device *dev, unsigned int bar,
				uint64_t off, void *buf, size_t len);

/**
 * Write to a BAR with pwrite on the device fd, never through the mapping.
 *
 * @return
 *   @p len on success, a negative errno otherwise.
 */
ssize_t rte_vfiofd_region_pwrite(const struct rte_vfiofd_device *dev, unsigned int bar,
				 uint64_t off, const void *buf, size_t len);

/**
 * Read PCI configuration space (vfio-pci's virtualised view).
 *
 * @return
 *   @p len on success, a negative errno otherwise.
 */
ssize_t rte_vfiofd_config_read(const struct rte_vfiofd_device *dev, uint64_t off,
			       void *buf, size_t len);

/**
 * Write PCI configuration space.
 *
 * @return
 *   @p len on success, a negative errno otherwise.
 */
ssize_t rte_vfiofd_config_write(const struct rte_vfiofd_device *dev, uint64_t off,
				const void *buf, size_t len);

/**
 * Enable or disable bus mastering (PCI_COMMAND_MASTER).
 *
 * @return
 *   0, or a negative errno.
 */
int rte_vfiofd_set_bus_master(const struct rte_vfiofd_device *dev, bool enable);

/**
 * Wire the device's interrupts to its handle's eventfds with VFIO_DEVICE_SET_IRQS:
 * vector 0 to the handle's fd, vector n (1 <= n <= nb_efd) to efd n-1, for as many
 * vectors as the device offers. Equivalent to rte_intr_enable() on the handle, which
 * PMDs may use as well. With INTx, also unmasks.
 *
 * @return
 *   0; -ENOTSUP with intr=none; another negative errno from the kernel.
 */
int rte_vfiofd_intr_enable(struct rte_vfiofd_device *dev);

/**
 * Tear down the device's interrupt triggers (VFIO_DEVICE_SET_IRQS with no data); MSI
 * and MSI-X are disabled in the device.
 *
 * @return
 *   0, or a negative errno.
 */
int rte_vfiofd_intr_disable(struct rte_vfiofd_device *dev);

/**
 * Acknowledge an interrupt: with INTx, unmask it (vfio masks INTx when it fires);
 * nothing to do with MSI and MSI-X.
 *
 * @return
 *   0, or a negative errno.
 */
int rte_vfiofd_intr_ack(struct rte_vfiofd_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* BUS_VFIOFD_DRIVER_H */
