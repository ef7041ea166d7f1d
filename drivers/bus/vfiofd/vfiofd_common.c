/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfiofd bus: registration, driver and device lists, and the operations the EAL
 * calls (scan is in linux/vfiofd_scan.c, name and devargs parsing in
 * vfiofd_params.c). Probe and remove only orchestrate; the per-device work is in
 * vfiofd_device.c.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bus_driver.h>
#include <dev_driver.h>
#include <rte_common.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <rte_per_lcore.h>

#include "rte_iommufd_mem.h"
#include "private.h"
#include "vfiofd_sysfs.h"

RTE_LOG_REGISTER(vfiofd_logtype, bus.vfiofd, NOTICE);

/* The generic device is the PCI view's (bus_vfiofd_driver.h): one device, two views. */
static_assert(offsetof(struct rte_vfiofd_device, device) ==
	      offsetof(struct rte_vfiofd_device, pci_dev.device),
	      "rte_vfiofd_device::device must alias pci_dev.device");
/* bus/pci (23.07+) reads its region table right behind the rte_pci_device. */
static_assert(offsetof(struct vfiofd_device, pci_regions) ==
	      offsetof(struct vfiofd_device, pub.pci_dev) + sizeof(struct rte_pci_device),
	      "the PCI region table must follow the rte_pci_device");

pthread_mutex_t vfiofd_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Serialises device removal (unplug, cleanup) with the revocation the bus does itself
 * on a repeated hot-unplug request (vfiofd_intr.c), which runs on the interrupt
 * thread: a device is never revoked while it is being freed. The request handler only
 * ever try-locks it (the other path may be waiting for the handler to return, in
 * rte_intr_callback_unregister_sync()); a removal an application starts from inside
 * its event callback re-enters vfiofd_unplug() on that thread: hence the per-thread
 * flag.
 */
static pthread_mutex_t vfiofd_remove_lock = PTHREAD_MUTEX_INITIALIZER;
static RTE_DEFINE_PER_LCORE(bool, remove_lock_held);

bool
vfiofd_remove_trylock(void)
{
	if (pthread_mutex_trylock(&vfiofd_remove_lock) != 0)
		return false;
	RTE_PER_LCORE(remove_lock_held) = true;
	return true;
}

void
vfiofd_remove_unlock(void)
{
	RTE_PER_LCORE(remove_lock_held) = false;
	pthread_mutex_unlock(&vfiofd_remove_lock);
}

/* Take the removal lock unless this thread holds it; true if taken here. */
static bool
remove_lock(void)
{
	if (RTE_PER_LCORE(remove_lock_held))
		return false;
	pthread_mutex_lock(&vfiofd_remove_lock);
	RTE_PER_LCORE(remove_lock_held) = true;
	return true;
}

/* @d is still on the bus (another path may have removed and freed it meanwhile). */
static bool
device_listed(const struct vfiofd_device *d)
{
	struct rte_vfiofd_device *dev;
	bool found = false;

	pthread_mutex_lock(&vfiofd_lock);
	FOREACH_VFIOFD_DEVICE(dev)
		if (dev == &d->pub)
			found = true;
	pthread_mutex_unlock(&vfiofd_lock);
	return found;
}

void
rte_vfiofd_register(struct rte_vfiofd_driver *driver)
{
	TAILQ_INSERT_TAIL(&vfiofd_bus.driver_list, driver, next);
}

void
rte_vfiofd_unregister(struct rte_vfiofd_driver *driver)
{
	TAILQ_REMOVE(&vfiofd_bus.driver_list, driver, next);
}

/* Same rules as bus/pci's id tables: exact value or the field's wildcard. */
bool
vfiofd_id_match(const struct rte_pci_id *table, const struct rte_pci_id *dev)
{
	const struct rte_pci_id *id;

	if (table == NULL)
		return false;
	for (id = table; id->vendor_id != 0; id++) {
		if (id->vendor_id != dev->vendor_id && id->vendor_id != RTE_PCI_ANY_ID)
			continue;
		if (id->device_id != dev->device_id && id->device_id != RTE_PCI_ANY_ID)
			continue;
		if (id->subsystem_vendor_id != dev->subsystem_vendor_id &&
		    id->subsystem_vendor_id != RTE_PCI_ANY_ID)
			continue;
		if (id->subsystem_device_id != dev->subsystem_device_id &&
		    id->subsystem_device_id != RTE_PCI_ANY_ID)
			continue;
		if (id->class_id != dev->class_id && id->class_id != RTE_CLASS_ANY_ID)
			continue;
		return true;
	}
	return false;
}

/* The vfiofd driver that would probe @dev (the first that matches), or NULL. */
static const struct rte_vfiofd_driver *
vfiofd_driver_find(const struct rte_vfiofd_device *dev)
{
	struct rte_vfiofd_driver *drv;

	FOREACH_VFIOFD_DRIVER(drv)
		if (vfiofd_id_match(drv->id_table, &dev->id))
			return drv;
	return NULL;
}

bool
vfiofd_any_driver_matches(const struct rte_vfiofd_device *dev)
{
	return vfiofd_driver_find(dev) != NULL;
}

const char *
vfiofd_dev_driver_name(const struct vfiofd_device *d)
{
	if (d->pub.driver != NULL)
		return d->pub.driver->driver.name;
	if (d->pub.pci_dev.driver != NULL)
		return d->pub.pci_dev.driver->driver.name;
	return NULL;
}

struct vfiofd_device *
vfiofd_find_by_name(const char *name)
{
	struct rte_vfiofd_device *dev;

	FOREACH_VFIOFD_DEVICE(dev)
		if (strcmp(dev->name, name) == 0)
			return VFIOFD_DEV(dev);
	return NULL;
}

/* Keep the list sorted by PCI address, as bus/pci does: probe order is predictable. */
void
vfiofd_insert_device(struct vfiofd_device *d)
{
	struct rte_vfiofd_device *dev;

	pthread_mutex_lock(&vfiofd_lock);
	FOREACH_VFIOFD_DEVICE(dev) {
		if (strcmp(dev->name, d->pub.name) > 0) {
			TAILQ_INSERT_BEFORE(dev, &d->pub, next);
			pthread_mutex_unlock(&vfiofd_lock);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&vfiofd_bus.device_list, &d->pub, next);
	pthread_mutex_unlock(&vfiofd_lock);
}

static void
vfiofd_unlink_device(struct vfiofd_device *d)
{
	pthread_mutex_lock(&vfiofd_lock);
	TAILQ_REMOVE(&vfiofd_bus.device_list, &d->pub, next);
	pthread_mutex_unlock(&vfiofd_lock);
}

void
vfiofd_free_device(struct vfiofd_device *d)
{
	free(d);
}

/*
 * Probe @d with @drv: 1 if the driver does not take it, 0 when probed, < 0 on error
 * (logged here or below, always naming the device).
 */
static int
vfiofd_probe_one(struct rte_vfiofd_driver *drv, struct vfiofd_device *d)
{
	int ret;

	if (!vfiofd_id_match(drv->id_table, &d->pub.id))
		return 1;
	if (rte_dev_is_probed(&d->pub.device))
		return -EEXIST;
	ret = vfiofd_check_driver_keys(d, drv);
	if (ret != 0)
		return ret;
	ret = vfiofd_claim_check(d);
	if (ret != 0)
		return ret;
	if (rte_iommufd_mem_translated() && !(drv->drv_flags & RTE_VFIOFD_DRV_IOVA_TRANSLATE)) {
		VFIOFD_DEV_LOG(ERR, d, "refused: driver %s gives devices the EAL's IOVAs, and "
			       "this process runs with translated IOVAs (%s), where those are not "
			       "the device's; only drivers that translate run here",
			       drv->driver.name, vfiofd_translated_why());
		return -ENOTSUP;
	}

	VFIOFD_DEV_LOG(DEBUG, d, "vfiofd driver %s matches it", drv->driver.name);
	pthread_mutex_lock(&vfiofd_lock);
	ret = vfiofd_dev_open(d, drv->drv_flags);
	if (ret == 0)
		d->pub.driver = drv;
	pthread_mutex_unlock(&vfiofd_lock);
	if (ret != 0)
		return ret;

	VFIOFD_DEV_LOG(INFO, d, "probing with driver %s", drv->driver.name);
	ret = drv->probe(drv, &d->pub);
	pthread_mutex_lock(&vfiofd_lock);
	if (ret == 0) {
		d->pub.device.driver = &drv->driver;
	} else {
		d->pub.driver = NULL;
		vfiofd_dev_close(d);
	}
	pthread_mutex_unlock(&vfiofd_lock);
	if (ret < 0)
		VFIOFD_DEV_LOG(ERR, d, "driver %s failed to probe it (%s)", drv->driver.name,
			       strerror(-ret));
	return ret;
}

/* 0 probed, 1 no driver for it, < 0 error. */
static int
vfiofd_probe_all_drivers(struct vfiofd_device *d)
{
	struct rte_vfiofd_driver *drv;
	int ret;

	if (d->opts_err != 0) {
		VFIOFD_DEV_LOG(ERR, d, "refused: %s", d->opts_errmsg);
		return d->opts_err;
	}
	FOREACH_VFIOFD_DRIVER(drv) {
		ret = vfiofd_probe_one(drv, d);
		if (ret <= 0)
			return ret;
	}
	/*
	 * DPDK's own PCI drivers get only what the user allow-listed on this bus: loading
	 * the plugin must never take a device away from bus/pci (the claim rule,
	 * vfiofd_claim.c).
	 */
	if (!vfiofd_allowed_explicitly(d->pub.device.devargs))
		return 1;
	ret = vfiofd_pci_probe(d);
	if (ret <= 0)
		return ret;
	VFIOFD_DEV_LOG(WARNING, d, "allow-listed, but neither a vfiofd driver nor a DPDK PCI "
		       "driver supports %04x:%04x", d->pub.id.vendor_id, d->pub.id.device_id);
	return 1;
}

/* The EAL's probe at init: every device the scan kept. */
static int
vfiofd_probe(void)
{
	struct rte_vfiofd_device *dev;
	unsigned int tried = 0, failed = 0, refused_explicit = 0;

	FOREACH_VFIOFD_DEVICE(dev) {
		struct vfiofd_device *d = VFIOFD_DEV(dev);
		int ret;

		if (rte_dev_is_probed(&dev->device))
			continue;
		tried++;
		ret = vfiofd_probe_all_drivers(d);
		if (ret < 0 && ret != -EEXIST) {
			failed++;
			if (vfiofd_allowed_explicitly(dev->device.devargs))
				refused_explicit++;
			rte_errno = -ret;
		}
	}
	vfiofd_bus.init_done = true;
	/*
	 * Fail (the EAL logs it and goes on) when the user named a device that could not
	 * be used, or when every device failed; a device no driver wants is no failure.
	 */
	if (refused_explicit + vfiofd_bus.scan_refused > 0 || (tried > 0 && failed == tried))
		return -1;
	return 0;
}

/* Take @d from its driver and close it; under vfiofd_lock. */
static void
vfiofd_dev_release(struct vfiofd_device *d)
{
	d->pub.driver = NULL;
	d->pub.device.driver = NULL;
	vfiofd_pci_view_clear(d);
	vfiofd_dev_close(d);
}

/* Undo a successful probe; the device stays on the bus. */
static int
vfiofd_remove_dev(struct vfiofd_device *d)
{
	struct rte_vfiofd_driver *drv = d->pub.driver;
	struct rte_pci_driver *pdrv = d->pub.pci_dev.driver;
	const char *name = vfiofd_dev_driver_name(d);
	int ret = 0;

	if (name == NULL)
		return 0;
	if (drv != NULL && drv->remove != NULL)
		ret = drv->remove(&d->pub);
	else if (drv == NULL && pdrv->remove != NULL)
		ret = pdrv->remove(&d->pub.pci_dev);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "%sdriver %s failed to remove it (%s)",
			       drv == NULL ? "DPDK's PCI " : "", name, strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&vfiofd_lock);
	vfiofd_dev_release(d);
	pthread_mutex_unlock(&vfiofd_lock);
	VFIOFD_DEV_LOG(INFO, d, "removed from driver %s", name);
	return 0;
}

static struct rte_device *
vfiofd_find_device(const struct rte_device *start, rte_dev_cmp_t cmp, const void *data)
{
	const struct rte_vfiofd_device *dev;

	if (start != NULL)
		dev = TAILQ_NEXT(RTE_DEV_TO_VFIOFD_CONST(start), next);
	else
		dev = TAILQ_FIRST(&vfiofd_bus.device_list);
	for (; dev != NULL; dev = TAILQ_NEXT(dev, next))
		if (cmp(&dev->device, data) == 0)
			return (struct rte_device *)(uintptr_t)&dev->device;
	return NULL;
}

/*
 * Hotplug attach (rte_dev_probe): the EAL has just rescanned. A device that is probed
 * already stays as it is, with the options it was probed with: -EEXIST, which
 * rte_dev_probe() takes for "already attached" and reports as success (it still syncs
 * secondary processes).
 */
static int
vfiofd_plug(struct rte_device *dev)
{
	struct vfiofd_device *d = VFIOFD_DEV(RTE_DEV_TO_VFIOFD(dev));
	struct rte_devargs *da = dev->devargs;
	int ret;

	if (rte_dev_is_probed(dev)) {
		/*
		 * rte_devargs_insert() has overwritten the device's devargs in place with
		 * the new ones, freeing the string that the PCI view saved as the user's
		 * (pci_view_set() in vfiofd_pci.c): keep the new string as the user's, to
		 * be put back at remove, and show the driver its own view again.
		 */
		pthread_mutex_lock(&vfiofd_lock);
		if (d->user_args != NULL && da != NULL && da->args != d->opts.driver_args) {
			d->user_args = da->args;
			da->args = d->opts.driver_args;
		}
		pthread_mutex_unlock(&vfiofd_lock);
		VFIOFD_DEV_LOG(WARNING, d, "already probed by driver %s: not probed again, it "
			       "keeps the options it was probed with (remove it first to probe "
			       "it anew)", vfiofd_dev_driver_name(d));
		rte_errno = EEXIST;
		return -EEXIST;
	}
	ret = vfiofd_probe_all_drivers(d);

	if (ret < 0)
		rte_errno = -ret;
	return ret;
}

/* Hotplug detach (rte_dev_remove): remove, then forget the device and its devargs. */
static int
vfiofd_unplug(struct rte_device *dev)
{
	struct vfiofd_device *d = VFIOFD_DEV(RTE_DEV_TO_VFIOFD(dev));
	bool own = remove_lock();
	int ret;

	if (!device_listed(d)) {
		/* the bus removed it at a hot-unplug request while we waited */
		ret = -ENODEV;
		goto out;
	}
	ret = vfiofd_remove_dev(d);
	if (ret != 0)
		goto out;
	vfiofd_unlink_device(d);
	if (dev->devargs != NULL)
		rte_devargs_remove(dev->devargs);
	vfiofd_free_device(d);
out:
	if (own)
		vfiofd_remove_unlock();
	if (ret != 0)
		rte_errno = -ret;
	return ret;
}

/*
 * The EAL's hot-unplug hook (reached through vfiofd_sigbus_handler()): as bus/pci
 * does for VFIO, tell the application, which detaches the port.
 */
static int
vfiofd_hot_unplug_handler(struct rte_device *dev)
{
	rte_dev_event_callback_process(dev->name, RTE_DEV_EVENT_REMOVE);
	return 0;
}

/*
 * The EAL's SIGBUS handler (installed by rte_dev_hotplug_handle_enable()) asks each
 * bus whether the faulting address is one of its devices. vfio-pci raises SIGBUS on a
 * BAR access while the device's memory is disabled or the device is going away: the
 * BARs of that device become anonymous memory filled with ones (the faulting load reads
 * all ones when it restarts) and the application is told, as bus/pci does. 1: not
 * ours.
 */
static int
vfiofd_sigbus_handler(const void *failure_addr)
{
	struct rte_vfiofd_device *dev;

	TAILQ_FOREACH(dev, &vfiofd_bus.device_list, next) {
		struct vfiofd_device *d = VFIOFD_DEV(dev);

		for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++) {
			const char *a = dev->regions[bar].addr;

			if (a == NULL || (const char *)failure_addr < a ||
			    (const char *)failure_addr >= a + d->regions[bar].map_len)
				continue;
			if (vfiofd_regions_revoke(d) < 0)
				return -1;
			return vfiofd_hot_unplug_handler(&dev->device);
		}
	}
	return 1;
}

/* rte_dev_dma_map(): the memory library maps for every IOAS, i.e. every device. */
static int
vfiofd_dma_map(struct rte_device *dev, void *addr, uint64_t iova, size_t len)
{
	struct vfiofd_device *d = VFIOFD_DEV(RTE_DEV_TO_VFIOFD(dev));
	int ret;

	if (!d->mem_ref) {
		VFIOFD_DEV_LOG(ERR, d, "DMA map refused: the device is not probed");
		rte_errno = EINVAL;
		return -1;
	}
	ret = rte_iommufd_mem_dma_map(addr, iova, len);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "DMA map of %zu bytes at %p (IOVA 0x%" PRIx64 ") failed: %s",
			       len, addr, iova, strerror(-ret));
		rte_errno = -ret;
		return -1;
	}
	return 0;
}

static int
vfiofd_dma_unmap(struct rte_device *dev, void *addr, uint64_t iova, size_t len)
{
	struct vfiofd_device *d = VFIOFD_DEV(RTE_DEV_TO_VFIOFD(dev));
	int ret;

	if (!d->mem_ref) {
		VFIOFD_DEV_LOG(ERR, d, "DMA unmap refused: the device is not probed");
		rte_errno = EINVAL;
		return -1;
	}
	ret = rte_iommufd_mem_dma_unmap(addr, iova, len);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "DMA unmap of %zu bytes at %p (IOVA 0x%" PRIx64
			       ") failed: %s%s", len, addr, iova, strerror(-ret), ret == -ENOENT ?
			       " (not exactly one mapping made with rte_dev_dma_map(): unmap "
			       "whole mappings as mapped; nothing was unmapped)" :
			       " (the kernel kept the mapping: unmap it again)");
		rte_errno = -ret;
		return -1;
	}
	return 0;
}

/* Bits of a user-space virtual address on x86-64 (4-level paging, and the default
 * of 5-level), where the EAL's memory may be placed. */
#define VFIOFD_USER_VA_BITS 47

/* Can this process read physical addresses (pagemap PFNs: CAP_SYS_ADMIN)? */
static bool
phys_addrs_readable(void)
{
	volatile uint64_t probe = 1;

	return rte_mem_virt2phy((const void *)&probe) != RTE_BAD_IOVA;
}

/* Why the memory library runs in translated mode, for refusal lines. */
static char translated_why[192];

const char *
vfiofd_translated_why(void)
{
	return translated_why;
}

/* Translated mode (rte_iommufd_mem_translated()): the EAL stays in IOVA as VA, with no
 * DMA mask, and its IOVAs reach no device. */
static enum rte_iova_mode
translated_mode(const char *why)
{
	int ret = rte_iommufd_mem_translate_set(true);

	if (ret < 0) {
		VFIOFD_LOG(ERR, "cannot switch the memory library to translated IOVAs: %s",
			   strerror(-ret));
		return RTE_IOVA_VA;
	}
	snprintf(translated_why, sizeof(translated_why), "%s", why);
	return RTE_IOVA_VA;
}

/*
 * The IOVA mode of the devices the bus will drive: one a driver of ours takes, or one
 * allow-listed here for a DPDK PCI driver. Say nothing otherwise, so that merely loading
 * the plugin does not force the IOVA mode of a process that drives nothing through
 * vfiofd.
 *
 * iommufd maps DPDK memory at IOVA == VA, the EAL's IOVA-as-VA mode, where the IOMMU can
 * address every user VA. Where it cannot (a narrower address width, common in real
 * VT-d units: 39 bits), an mbuf's buf_iova would be a VA the device cannot reach: the
 * bus asks for IOVA as PA instead when the process can read physical addresses, and the
 * memory library then maps IOVA = each page's physical address, which lies inside the
 * aperture. Otherwise, where every device's driver translates IOVAs
 * (RTE_VFIOFD_DRV_IOVA_TRANSLATE), the memory library's translated mode: memory is
 * mapped inside the aperture wherever its VA lies, and those drivers look every
 * buffer up in the library's cache; where a driver cannot translate (DPDK's PCI
 * drivers), the EAL is told the width (DMA mask) and refuses memory above it, as for
 * DPDK's bus/pci. The user may ask for translated mode anywhere (iova=translated). A
 * no-IOMMU device (the user opted in) has no translation at all: it needs physical
 * addresses, and that wins.
 */
static enum rte_iova_mode
vfiofd_get_iommu_class(void)
{
	enum rte_iova_mode mode = RTE_IOVA_DC;
	struct rte_vfiofd_device *dev, *narrowest = NULL, *asked = NULL, *plain = NULL;
	int width = VFIOFD_USER_VA_BITS;
	char why[192];

	FOREACH_VFIOFD_DEVICE(dev) {
		const struct rte_vfiofd_driver *drv = vfiofd_driver_find(dev);
		int w;

		if (drv == NULL && !(vfiofd_allowed_explicitly(dev->device.devargs) &&
				     vfiofd_pci_driver_find(dev) != NULL))
			continue;
		if (VFIOFD_DEV(dev)->noiommu)
			return RTE_IOVA_PA;
		mode = RTE_IOVA_VA;
		/* a DPDK PCI driver (drv NULL) always takes the EAL's IOVAs */
		if (plain == NULL && (drv == NULL || !(drv->drv_flags & RTE_VFIOFD_DRV_IOVA_TRANSLATE)))
			plain = dev;
		if (asked == NULL && VFIOFD_DEV(dev)->opts.iova_translated)
			asked = dev;
		w = vfiofd_sysfs_iommu_addr_width(vfiofd_sysfs_root(), dev->name);
		if (w > 0 && w < width) {
			width = w;
			narrowest = dev;
		}
	}
	if (asked != NULL) {
		snprintf(why, sizeof(why), "iova=translated on %s", asked->name);
		VFIOFD_LOG(NOTICE, "%s: iova=translated: translated IOVAs (DPDK memory is mapped "
			   "where the memory library chooses; drivers translate every DMA address "
			   "through its cache)", asked->name);
		return translated_mode(why);
	}
	if (narrowest == NULL)
		return mode;
	if (plain == NULL && !phys_addrs_readable()) {
		snprintf(why, sizeof(why), "the IOMMU of %s has a %d-bit aperture and this "
			 "process cannot read physical addresses", narrowest->name, width);
		VFIOFD_LOG(NOTICE, "%s: the IOMMU's address width is %d bits, below the %d bits "
			   "of user addresses, and this process cannot read physical addresses (no "
			   "CAP_SYS_ADMIN): translated IOVAs (DPDK memory is mapped inside the "
			   "aperture; drivers translate every DMA address through the memory "
			   "library's cache)", narrowest->name, width, VFIOFD_USER_VA_BITS);
		return translated_mode(why);
	}
	rte_mem_set_dma_mask((uint8_t)width);
	if (phys_addrs_readable()) {
		VFIOFD_LOG(NOTICE, "%s: the IOMMU's address width is %d bits, below the %d bits of "
			   "user addresses: IOVA as PA (the IOAS maps each page at its physical "
			   "address)", narrowest->name, width, VFIOFD_USER_VA_BITS);
		return RTE_IOVA_PA;
	}
	VFIOFD_LOG(NOTICE, "%s: the IOMMU's address width is %d bits, below the %d bits of "
		   "user addresses, and this process cannot read physical addresses (no "
		   "CAP_SYS_ADMIN): IOVA as VA with a %d-bit DMA mask; DPDK memory must lie "
		   "below it (the EAL refuses memory above), as %s's driver cannot translate "
		   "IOVAs", narrowest->name, width, VFIOFD_USER_VA_BITS, width, plain->name);
	return mode;
}

/* rte_eal_cleanup(): remove every probed device, forget every device. */
static int
vfiofd_cleanup(void)
{
	struct rte_vfiofd_device *dev, *tmp;
	bool own = remove_lock();
	int err = 0;

	RTE_TAILQ_FOREACH_SAFE(dev, &vfiofd_bus.device_list, next, tmp) {
		struct vfiofd_device *d = VFIOFD_DEV(dev);

		if (vfiofd_remove_dev(d) != 0) {
			/* the driver refused: still release what the bus holds */
			pthread_mutex_lock(&vfiofd_lock);
			vfiofd_dev_release(d);
			pthread_mutex_unlock(&vfiofd_lock);
			err = -1;
		}
		vfiofd_unlink_device(d);
		vfiofd_free_device(d);
	}
	if (own)
		vfiofd_remove_unlock();
	vfiofd_mp_fini();
	return err;
}

struct vfiofd_bus vfiofd_bus = {
	.bus = {
		.scan = vfiofd_scan,
		.probe = vfiofd_probe,
		.find_device = vfiofd_find_device,
		.plug = vfiofd_plug,
		.unplug = vfiofd_unplug,
		.parse = vfiofd_parse,
		.devargs_parse = vfiofd_devargs_parse,
		.dma_map = vfiofd_dma_map,
		.dma_unmap = vfiofd_dma_unmap,
		.get_iommu_class = vfiofd_get_iommu_class,
		.hot_unplug_handler = vfiofd_hot_unplug_handler,
		.sigbus_handler = vfiofd_sigbus_handler,
		.dev_iterate = vfiofd_dev_iterate,
		.cleanup = vfiofd_cleanup,
	},
	.device_list = TAILQ_HEAD_INITIALIZER(vfiofd_bus.device_list),
	.driver_list = TAILQ_HEAD_INITIALIZER(vfiofd_bus.driver_list),
};

RTE_REGISTER_BUS(vfiofd, vfiofd_bus.bus);
