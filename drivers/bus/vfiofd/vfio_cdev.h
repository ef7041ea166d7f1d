/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thin wrappers over the VFIO device cdev uAPI (/dev/vfio/devices/vfioN): the steps that
 * turn a freshly opened, "parked" device fd into a usable one bound to an iommufd and
 * attached to an I/O address space. Each returns 0 or a negative errno and never logs.
 *
 * Until VFIO_DEVICE_BIND_IOMMUFD succeeds the kernel refuses everything else on the fd
 * (region access, info queries): the fd is parked.
 */

#ifndef VFIO_CDEV_H
#define VFIO_CDEV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Open the VFIO device cdev at @path (O_RDWR | O_CLOEXEC) and check that what was
 * opened is the character device @major:@minor (what sysfs says the device's cdev is):
 * a path checked earlier by stat() may name another file by the time it is opened.
 * Returns the fd, -ESTALE if the opened file is not that device, or -errno.
 */
int vfio_cdev_open(const char *path, unsigned int major, unsigned int minor);

/** VFIO_DEVICE_BIND_IOMMUFD: bind the device to @iommufd; *devid gets its iommufd id. */
int vfio_cdev_bind_iommufd(int devfd, int iommufd, uint32_t *devid);

/**
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach the device to page table object @pt_id (an IOAS
 * or a HWPT). When given an IOAS the kernel picks or creates the hardware page table and
 * returns its id in *hwpt_id (may be NULL).
 */
int vfio_cdev_attach_pt(int devfd, uint32_t pt_id, uint32_t *hwpt_id);

/** VFIO_DEVICE_DETACH_IOMMUFD_PT: detach the device from its page table. */
int vfio_cdev_detach_pt(int devfd);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CDEV_H */
