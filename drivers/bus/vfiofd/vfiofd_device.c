/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setting a device up for a driver, and taking it down again:
 *
 *   memory library reference (iommufd + default IOAS) -> cdev open -> BIND_IOMMUFD ->
 *   [private IOAS] -> ATTACH_IOMMUFD_PT -> rte_iommufd_mem_attached() -> GET_INFO ->
 *   RESET -> regions (config, BARs, mmap) -> command register (memory, I/O, master)
 *   -> interrupt handle -> request notifier
 *
 * vfiofd_dev_close() undoes whatever part of that is done, in reverse, so it is both
 * the error path of vfiofd_dev_open() and the remove path: every resource has a
 * "nothing" value in struct vfiofd_device, set by vfiofd_dev_init_state().
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "rte_iommufd_mem.h"
#include "private.h"
#include "vfio_cdev.h"
#include "vfio_device.h"
#include "vfiofd_sysfs.h"

void
vfiofd_dev_init_state(struct vfiofd_device *d)
{
	d->devfd = -1;
	d->mem_ref = false;
	d->devid = 0;
	d->ioas_id = 0;
	d->hwpt_id = 0;
	d->ioas_private = false;
	d->attached = false;
	memset(&d->info, 0, sizeof(d->info));
	d->cfg_info = NULL;
	memset(d->regions, 0, sizeof(d->regions));
	memset(d->pub.regions, 0, sizeof(d->pub.regions));
	d->has_msix = false;
	d->do_reset = false;
	d->intr_index = VFIO_PCI_NUM_IRQS;
	d->intr_efd = -1;
	d->intr_enabled = false;
	d->pub.intr_handle = NULL;
	d->pub.intr_vectors = 0;
	d->req_handle = NULL;
}

static const char *
iommufd_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return ": the kernel has no iommufd (CONFIG_IOMMUFD) or it is not loaded "
		       "(modprobe iommufd)";
	case -EACCES:
	case -EPERM:
		return ": no permission (run as root, or give the user access to it)";
	case -ENOTTY:
	case -EINVAL:
		return ": that is not an iommufd character device";
	default:
		return "";
	}
}

static const char *
bind_hint(int err)
{
	switch (err) {
	case -EBUSY:
		return ": the device is in use through the VFIO group interface (DPDK's "
		       "bus/pci, QEMU or another process has its /dev/vfio/<group> open)";
	case -EPERM:
		return ": the IOMMU does not remap interrupts, so iommufd refuses the device "
		       "(enable interrupt remapping; iommufd.allow_unsafe_interrupts=1 only "
		       "if you accept the risk)";
	case -EINVAL:
		return ": the device is already bound through another file descriptor";
	default:
		return "";
	}
}

int
vfiofd_dev_open(struct vfiofd_device *d, uint32_t drv_flags)
{
	const char *sysfs = vfiofd_sysfs_root(), *devroot = vfiofd_dev_root();
	struct rte_iommufd_mem_conf conf;
	struct vfiofd_cdev_id cdev;
	char iommu_path[PATH_MAX];
	int ret;

	if (sysfs == NULL || devroot == NULL)
		return -EINVAL;
	snprintf(iommu_path, sizeof(iommu_path), "%s/iommu", devroot);
	memset(&conf, 0, sizeof(conf));
	conf.iommufd_path = iommu_path;
	ret = rte_iommufd_mem_init(&conf);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot use %s: %s%s", iommu_path, strerror(-ret),
			       iommufd_hint(ret));
		goto fail;
	}
	d->mem_ref = true;
	if (rte_iommufd_mem_mode() != RTE_IOMMUFD_MEM_MODE_IOMMUFD) {
		VFIOFD_DEV_LOG(ERR, d, "the memory library runs in no-IOMMU mode; vfiofd "
			       "devices need an iommufd");
		ret = -ENOTSUP;
		goto fail;
	}

	/* sysfs again: the device may have been unbound or rebound since the scan */
	ret = vfiofd_sysfs_find_cdev(sysfs, devroot, d->pub.name, &cdev);
	if (ret != 0) {
		VFIOFD_DEV_LOG(ERR, d, "its VFIO device cdev is gone since the scan (%s)",
			       strerror(-ret));
		goto fail;
	}
	ret = vfio_cdev_open(cdev.path);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot open %s: %s", cdev.path, strerror(-ret));
		goto fail;
	}
	d->devfd = ret;

	ret = vfio_cdev_bind_iommufd(d->devfd, rte_iommufd_mem_iommufd(), &d->devid);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_BIND_IOMMUFD failed: %s%s", strerror(-ret),
			       bind_hint(ret));
		goto fail;
	}

	if (d->opts.ioas == VFIOFD_OPT_IOAS_PRIVATE) {
		ret = rte_iommufd_mem_ioas_create(&d->ioas_id);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "cannot create a private IOAS: %s", strerror(-ret));
			goto fail;
		}
		d->ioas_private = true;
	} else {
		d->ioas_id = rte_iommufd_mem_default_ioas();
	}
	ret = vfio_cdev_attach_pt(d->devfd, d->ioas_id, &d->hwpt_id);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot attach to IOAS %u: %s", d->ioas_id, strerror(-ret));
		goto fail;
	}
	d->attached = true;
	ret = rte_iommufd_mem_attached(d->ioas_id, d->pub.name);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "IOAS %u cannot hold DPDK memory for it: %s%s",
			       d->ioas_id, strerror(-ret), ret == -ERANGE ?
			       " (its IOMMU's address range excludes memory already mapped at "
			       "IOVA == VA)" : "");
		goto fail;
	}

	ret = vfio_device_get_info(d->devfd, &d->info);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_GET_INFO failed: %s", strerror(-ret));
		goto fail;
	}
	if (!(d->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    d->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO does not present it as a PCI device (flags 0x%x, "
			       "%u regions)", d->info.flags, d->info.num_regions);
		ret = -ENODEV;
		goto fail;
	}

	d->do_reset = d->opts.reset && !(drv_flags & RTE_VFIOFD_DRV_NO_RESET) &&
		      (d->info.flags & VFIO_DEVICE_FLAGS_RESET);
	if (d->do_reset) {
		ret = vfio_device_reset(d->devfd);
		/* a device that cannot reset now still works: go on, but say so */
		if (ret < 0)
			VFIOFD_DEV_LOG(WARNING, d, "VFIO_DEVICE_RESET failed: %s", strerror(-ret));
	}

	ret = vfiofd_regions_setup(d);
	if (ret < 0)
		goto fail;

	{
		uint16_t set = PCI_COMMAND_MEMORY;

		for (unsigned int i = 0; i < RTE_VFIOFD_NUM_BARS; i++)
			if (d->pub.regions[i].flags & RTE_VFIOFD_REGION_IO)
				set |= PCI_COMMAND_IO;
		if (!(drv_flags & RTE_VFIOFD_DRV_NO_BUS_MASTER))
			set |= PCI_COMMAND_MASTER;
		ret = vfiofd_config_update16(d, PCI_COMMAND, set, 0);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "cannot enable decoding and bus mastering in the "
				       "command register: %s", strerror(-ret));
			goto fail;
		}
	}

	ret = vfiofd_intr_setup(d);
	if (ret < 0)
		goto fail;
	ret = vfiofd_req_setup(d);
	if (ret < 0)
		goto fail;
	VFIOFD_DEV_LOG(DEBUG, d, "set up: %s devid %u, IOAS %u (%s), hwpt %u, %u regions, "
		       "%u irqs", cdev.path, d->devid, d->ioas_id,
		       d->ioas_private ? "private" : "default", d->hwpt_id, d->info.num_regions,
		       d->info.num_irqs);
	return 0;
fail:
	vfiofd_dev_close(d);
	return ret;
}

void
vfiofd_dev_close(struct vfiofd_device *d)
{
	int ret;

	vfiofd_req_teardown(d);
	vfiofd_intr_teardown(d);
	if (d->devfd >= 0 && d->cfg_info != NULL)
		/* stop DMA before the device leaves its address space */
		vfiofd_config_update16(d, PCI_COMMAND, 0, PCI_COMMAND_MASTER);
	vfiofd_regions_teardown(d);
	if (d->devfd >= 0 && d->do_reset) {
		ret = vfio_device_reset(d->devfd);
		if (ret < 0)
			VFIOFD_DEV_LOG(DEBUG, d, "VFIO_DEVICE_RESET at remove failed: %s",
				       strerror(-ret));
	}
	d->do_reset = false;
	if (d->attached) {
		ret = vfio_cdev_detach_pt(d->devfd);
		if (ret < 0)
			VFIOFD_DEV_LOG(WARNING, d, "VFIO_DEVICE_DETACH_IOMMUFD_PT failed: %s",
				       strerror(-ret));
		d->attached = false;
	}
	if (d->ioas_private) {
		ret = rte_iommufd_mem_ioas_release(d->ioas_id);
		if (ret < 0)
			VFIOFD_DEV_LOG(WARNING, d, "cannot release private IOAS %u: %s",
				       d->ioas_id, strerror(-ret));
		d->ioas_private = false;
	}
	d->ioas_id = 0;
	d->hwpt_id = 0;
	if (d->devfd >= 0) {
		close(d->devfd);
		d->devfd = -1;
	}
	d->devid = 0;
	memset(&d->info, 0, sizeof(d->info));
	if (d->mem_ref) {
		rte_iommufd_mem_fini();
		d->mem_ref = false;
	}
}
