/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thin wrappers over the legacy VFIO group/container uAPI, used for one purpose only:
 * opening a device that has no IOMMU. Linux 6.12 creates no device cdev for such a
 * device and refuses to bind one to iommufd, so vfio's unsafe no-IOMMU mode is reachable
 * only through /dev/vfio/noiommu-N and a /dev/vfio/vfio container set to
 * VFIO_NOIOMMU_IOMMU. DMA then uses physical addresses (IOVA = PA).
 *
 * Functions return 0 or a negative errno and never log.
 */

#ifndef VFIO_NOIOMMU_H
#define VFIO_NOIOMMU_H

#ifdef __cplusplus
extern "C" {
#endif

/** A device opened through a no-IOMMU group: three fds, all owned. */
struct vfio_noiommu_dev {
	int container;  /**< /dev/vfio/vfio, set to VFIO_NOIOMMU_IOMMU */
	int group;      /**< /dev/vfio/noiommu-N */
	int device;     /**< the device fd (VFIO_GROUP_GET_DEVICE_FD) */
};

/**
 * 1 if vfio's unsafe no-IOMMU mode is enabled (module parameter
 * enable_unsafe_noiommu_mode), 0 if not, -ENOENT if the kernel has no such mode
 * (CONFIG_VFIO_NOIOMMU=n or no group interface at all).
 */
int vfio_noiommu_mode_enabled(const char *sysfs_module_root);

/**
 * Open device @bdf of no-IOMMU group @group_nr under @dev_root (e.g. "/dev").
 * Errors: -ENOENT no /dev/vfio/vfio or no noiommu-N group node (a cdev-only kernel, or
 * the device has an IOMMU); -EPROTO unexpected VFIO API version; -EOPNOTSUPP the
 * container has no no-IOMMU backend; -EBUSY the group is not viable (another device of
 * the group is bound to a host driver); other errors are those of the failing ioctl.
 * On failure nothing stays open.
 */
int vfio_noiommu_open(const char *dev_root, int group_nr, const char *bdf,
		      struct vfio_noiommu_dev *out);

/** Close the three fds; safe on a zeroed/-1 structure. */
void vfio_noiommu_close(struct vfio_noiommu_dev *dev);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_NOIOMMU_H */
