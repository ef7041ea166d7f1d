/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK's own PCI drivers on the vfiofd bus.
 *
 * A device that the user allow-listed on vfiofd ("-a vfiofd:<BDF>") and that none of
 * vfiofd's own drivers takes goes to the DPDK PCI driver (net_e1000_em, net_ixgbe, ...)
 * whose id table matches it, unmodified: the bus sets the device up as for its own
 * drivers (cdev, iommufd, IOAS, BARs, command register, interrupt handle, request
 * notifier), then fills the device's PCI view, pub.pci_dev, the way bus/pci fills an
 * rte_pci_device for a VFIO device after rte_pci_map_device(), and calls the driver's
 * probe. Its generic device is the vfiofd device's own (see bus_vfiofd_driver.h): the
 * device stays on the vfiofd bus for removal, hotplug, DMA mapping, iteration and
 * telemetry.
 *
 * What a PCI driver reaches through its rte_pci_device:
 *   - mem_resource[]: the BAR mappings the bus made (bus addresses from sysfs);
 *   - rte_pci_read_config()/write_config() and rte_pci_ioport_read()/write(): bus/pci's
 *     VFIO accessors, which pread/pwrite the device fd of the interrupt handle at the
 *     region's offset (22.11: fixed VFIO offsets; 23.07 and later: the region table
 *     behind the rte_pci_device, struct vfiofd_device::pci_regions);
 *   - intr_handle: the bus's handle (VFIO MSI-X/MSI/INTx, dev_fd = the cdev fd), on
 *     which the EAL's rte_intr_enable() issues VFIO_DEVICE_SET_IRQS;
 *   - kdrv = RTE_PCI_KDRV_VFIO, max_vfs, the NUMA node, the ids, the driver.
 * DMA addresses are DPDK's IOVAs, which lib/iommufd_mem maps in the device's IOAS.
 *
 * What it cannot reach: rte_pci_map_device() and rte_pci_ioport_map() go through the
 * VFIO group and container, which a device opened through its cdev does not have. A
 * driver without RTE_PCI_DRV_NEED_MAPPING maps the device itself that way (net_virtio,
 * vdpa drivers); a few others open VFIO containers of their own. Those are refused at
 * probe, with the reason and the alternative, before the device is touched.
 *
 * bus/pci keeps its drivers in a private list (struct rte_pci_bus in its private.h);
 * vfiofd reads it behind the struct rte_bus that rte_bus_find_by_name("pci") returns,
 * with the layout of DPDK 22.11 to 25.11, and checks the list's links before it
 * trusts them.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bus_pci_driver.h>
#include <rte_bus.h>
#include <rte_eal.h>

#include "private.h"
#include "rte_iommufd_mem.h"

/* bus/pci's private struct rte_pci_bus, the same in DPDK 22.11, 24.11 and 25.11. */
struct pci_bus_layout {
	struct rte_bus bus;
	RTE_TAILQ_HEAD(, rte_pci_device) device_list;
	RTE_TAILQ_HEAD(, rte_pci_driver) driver_list;
};

/*
 * PCI drivers that set RTE_PCI_DRV_NEED_MAPPING but also open VFIO containers and
 * groups of their own (rte_vfio_container_create(), rte_vfio_container_group_bind()),
 * which a device bound through its cdev cannot join.
 */
static const char *const own_vfio_drivers[] = { "net_ntnic", "nfp_vdpa", NULL };

/* bus/pci's driver list head, or NULL (no bus/pci, or a list that does not hold). */
static struct pci_bus_layout *
pci_bus_drivers(void)
{
	static bool warned;
	struct rte_bus *bus = rte_bus_find_by_name("pci");
	struct pci_bus_layout *pb;
	struct rte_pci_driver *drv, **prev_next;
	unsigned int n = 0;

	if (bus == NULL)
		return NULL;
	pb = container_of(bus, struct pci_bus_layout, bus);
	/* every link must point back where it came from, and the tail at the last one */
	prev_next = &pb->driver_list.tqh_first;
	for (drv = pb->driver_list.tqh_first; drv != NULL; drv = drv->next.tqe_next) {
		if (drv->next.tqe_prev != prev_next || ++n > 4096 ||
		    drv->driver.name == NULL || drv->probe == NULL)
			goto broken;
		prev_next = &drv->next.tqe_next;
	}
	if (pb->driver_list.tqh_last != prev_next)
		goto broken;
	return pb;
broken:
	if (!warned)
		VFIOFD_LOG(ERR, "bus pci's driver list is not laid out as in DPDK 22.11 to 25.11: "
			   "DPDK's PCI drivers cannot be used on vfiofd with this DPDK");
	warned = true;
	return NULL;
}

const struct rte_pci_driver *
vfiofd_pci_driver_find(const struct rte_vfiofd_device *dev)
{
	struct pci_bus_layout *pb = pci_bus_drivers();
	const struct rte_pci_driver *drv;

	if (pb == NULL)
		return NULL;
	TAILQ_FOREACH(drv, &pb->driver_list, next)
		if (vfiofd_id_match(drv->id_table, &dev->id))
			return drv;
	return NULL;
}

/* Why vfiofd cannot give @d to @drv (one line, logged by the caller), or NULL. */
static const char *
refusal(const struct vfiofd_device *d, const struct rte_pci_driver *drv, char *buf,
	size_t len)
{
	const char *name = drv->driver.name;

	if (!(drv->drv_flags & RTE_PCI_DRV_NEED_MAPPING)) {
		snprintf(buf, len, "DPDK's PCI driver %s maps the device itself through a VFIO "
			 "group (rte_pci_map_device()), which a device opened through its cdev "
			 "does not have; %s", name,
			 d->pub.id.vendor_id == 0x1af4 ?
			 "use vfiofd's net_vfiofd_virtio (load librte_net_vfiofd_virtio.so)" :
			 "drive it on bus pci instead (-a <BDF>, VFIO group)");
		return buf;
	}
	for (unsigned int i = 0; own_vfio_drivers[i] != NULL; i++) {
		if (strcmp(name, own_vfio_drivers[i]) == 0) {
			snprintf(buf, len, "DPDK's PCI driver %s opens VFIO containers of its own "
				 "(rte_vfio_container_*()), which a device opened through its cdev "
				 "cannot join; drive it on bus pci instead (-a <BDF>)", name);
			return buf;
		}
	}
	if (rte_iommufd_mem_translated()) {
		snprintf(buf, len, "DPDK's PCI driver %s gives devices the EAL's IOVAs, and this "
			 "process runs with translated IOVAs (%s), where those are not the "
			 "device's; run with CAP_SYS_ADMIN (IOVA as PA), or without iova=translated",
			 name, vfiofd_translated_why());
		return buf;
	}
	if ((drv->drv_flags & RTE_PCI_DRV_NEED_IOVA_AS_VA) &&
	    rte_eal_iova_mode() != RTE_IOVA_VA) {
		snprintf(buf, len, "DPDK's PCI driver %s needs IOVA as VA, and the EAL runs with "
			 "IOVA as PA%s", name, d->noiommu ? " (a no-IOMMU device needs PA)" : "");
		return buf;
	}
	if (!d->opts.bar_mmap) {
		snprintf(buf, len, "bar_mmap=off: DPDK's PCI driver %s reaches its registers "
			 "through BAR mappings only", name);
		return buf;
	}
	return NULL;
}

/*
 * The user's devargs keys for a driver whose keys the bus does not know: all go to the
 * driver, except one that looks like a mistyped bus key ("iosa=private"), which would
 * otherwise be ignored (e1000 reads no devargs) or refused by the driver with a message
 * that does not say what was meant.
 */
static int
check_keys(struct vfiofd_device *d, const struct rte_pci_driver *drv)
{
	for (unsigned int i = 0; i < d->opts.n_driver_keys; i++) {
		const char *like = vfiofd_bus_key_like(d->opts.driver_keys[i]);

		if (like == NULL)
			continue;
		VFIOFD_DEV_LOG(ERR, d, "refused: devargs key '%s' is not a bus key; did you mean "
			       "'%s'? (bus keys: %s; any other key goes to driver %s)",
			       d->opts.driver_keys[i], like, vfiofd_bus_keys_str,
			       drv->driver.name);
		return -EINVAL;
	}
	return 0;
}

/* Fill the PCI view of an open device for @drv, as bus/pci does after mapping it. */
static void
pci_view_set(struct vfiofd_device *d, const struct rte_pci_driver *drv)
{
	struct rte_pci_device *p = &d->pub.pci_dev;
	struct rte_devargs *da = d->pub.device.devargs;

	for (unsigned int i = 0; i < RTE_VFIOFD_NUM_BARS; i++) {
		const struct vfio_region_info *ri = d->regions[i].info;

		p->mem_resource[i].phys_addr = d->bar_phys[i];
		p->mem_resource[i].len = d->pub.regions[i].size;
		p->mem_resource[i].addr = d->pub.regions[i].addr;
		if (ri != NULL) {
			d->pci_regions[i].size = ri->size;
			d->pci_regions[i].offset = ri->offset;
		}
	}
	if (d->cfg_info != NULL) {
		d->pci_regions[VFIO_PCI_CONFIG_REGION_INDEX].size = d->cfg_info->size;
		d->pci_regions[VFIO_PCI_CONFIG_REGION_INDEX].offset = d->cfg_info->offset;
	}
	p->intr_handle = d->pub.intr_handle;
	p->vfio_req_intr_handle = d->req_handle;
	/* the legacy syntax's args without the bus's keys (the new syntax has them apart) */
	if (da != NULL && da->bus_str == NULL) {
		d->user_args = da->args;
		da->args = d->opts.driver_args;
	}
	p->driver = (struct rte_pci_driver *)(uintptr_t)drv;
}

void
vfiofd_pci_view_clear(struct vfiofd_device *d)
{
	struct rte_pci_device *p = &d->pub.pci_dev;
	struct rte_devargs *da = d->pub.device.devargs;

	if (da != NULL && d->user_args != NULL)
		da->args = d->user_args;
	d->user_args = NULL;
	p->driver = NULL;
	p->intr_handle = NULL;
	p->vfio_req_intr_handle = NULL;
	memset(p->mem_resource, 0, sizeof(p->mem_resource));
	memset(d->pci_regions, 0, sizeof(d->pci_regions));
}

int
vfiofd_pci_probe(struct vfiofd_device *d)
{
	const struct rte_pci_driver *drv = vfiofd_pci_driver_find(&d->pub);
	struct rte_pci_driver *pdrv;
	char why[320];
	int ret;

	if (drv == NULL)
		return 1;
	if (rte_dev_is_probed(&d->pub.device))
		return -EEXIST;
	VFIOFD_DEV_LOG(DEBUG, d, "no vfiofd driver matches it; DPDK's PCI driver %s does",
		       drv->driver.name);
	if (refusal(d, drv, why, sizeof(why)) != NULL) {
		VFIOFD_DEV_LOG(ERR, d, "refused: %s", why);
		return -ENOTSUP;
	}
	ret = check_keys(d, drv);
	if (ret != 0)
		return ret;
	ret = vfiofd_claim_check(d);
	if (ret != 0)
		return ret;

	pthread_mutex_lock(&vfiofd_lock);
	ret = vfiofd_dev_open(d, 0);
	if (ret == 0)
		pci_view_set(d, drv);
	pthread_mutex_unlock(&vfiofd_lock);
	if (ret != 0)
		return ret;

	VFIOFD_DEV_LOG(INFO, d, "probing with DPDK's PCI driver %s", drv->driver.name);
	pdrv = d->pub.pci_dev.driver;
	ret = pdrv->probe(pdrv, &d->pub.pci_dev);
	pthread_mutex_lock(&vfiofd_lock);
	if (ret == 0) {
		d->pub.device.driver = &drv->driver;
	} else {
		vfiofd_pci_view_clear(d);
		vfiofd_dev_close(d);
	}
	pthread_mutex_unlock(&vfiofd_lock);
	if (ret < 0)
		VFIOFD_DEV_LOG(ERR, d, "DPDK's PCI driver %s failed to probe it (%s)",
			       drv->driver.name, strerror(-ret));
	else if (ret > 0)
		VFIOFD_DEV_LOG(NOTICE, d, "DPDK's PCI driver %s does not take it", drv->driver.name);
	return ret;
}
