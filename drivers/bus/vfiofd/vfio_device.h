/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thin wrappers over the VFIO *device* fd uAPI (<linux/vfio.h>): what a device fd
 * offers once it is usable, however it was obtained (a cdev bound to iommufd, or a
 * no-IOMMU group). Each returns 0 or a negative errno and never logs.
 *
 * The cdev-specific steps (open, bind, attach) are in vfio_cdev.h.
 */

#ifndef VFIO_DEVICE_H
#define VFIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** VFIO_DEVICE_GET_INFO. */
int vfio_device_get_info(int devfd, struct vfio_device_info *info);

/** Largest REGION_INFO reply (fixed part and capability chain) we accept. */
#define VFIO_REGION_INFO_ARGSZ_MAX (64 * 1024)
/** Most sparse-mmap areas in one region's capability (real ones have a handful). */
#define VFIO_SPARSE_AREAS_MAX 4096
/** Most vectors an IRQ index can have (MSI-X: 2048, PCI spec). */
#define VFIO_IRQ_COUNT_MAX 2048

/**
 * VFIO_DEVICE_GET_REGION_INFO, capability chain included. On success *info points to a
 * malloc'ed structure of info->argsz bytes that the caller frees. The reply is checked:
 * -EPROTO if argsz is below the fixed part, the index is not the one asked for, or
 * offset + size overflow an off_t; -E2BIG if the kernel asks for more than
 * VFIO_REGION_INFO_ARGSZ_MAX bytes; -EOVERFLOW if it keeps asking for more.
 */
int vfio_device_get_region_info(int devfd, uint32_t index,
				struct vfio_region_info **info);

/**
 * Find capability @id in a region info's capability chain; NULL if absent (or if the
 * chain is malformed: offsets are checked against argsz and alignment, and the walk is
 * bounded, the kernel is not trusted to be bug-free here). Only the header is known to
 * lie inside the info: check a capability's own size with vfio_region_info_cap_fits().
 */
const struct vfio_info_cap_header *
vfio_region_info_cap(const struct vfio_region_info *info, uint16_t id);

/** True if @len bytes from @hdr (a capability of @info) lie inside info->argsz. */
bool vfio_region_info_cap_fits(const struct vfio_region_info *info,
			       const struct vfio_info_cap_header *hdr, size_t len);

/**
 * The sparse-mmap areas of @info into @out (at most @max): returns their number,
 * -ENOENT if the region has no such capability, -EBADMSG if it does not fit inside
 * the info (or claims more than VFIO_SPARSE_AREAS_MAX areas), -ENOSPC if more than
 * @max.
 */
int vfio_region_info_sparse(const struct vfio_region_info *info,
			    struct vfio_region_sparse_mmap_area *out, unsigned int max);

/** The region's type capability: 0, -ENOENT (none), -EBADMSG (does not fit). */
int vfio_region_info_type(const struct vfio_region_info *info, uint32_t *type,
			  uint32_t *subtype);

/**
 * VFIO_DEVICE_GET_IRQ_INFO for @index; -EPROTO if the reply names another index or
 * more than VFIO_IRQ_COUNT_MAX vectors.
 */
int vfio_device_get_irq_info(int devfd, uint32_t index, struct vfio_irq_info *irq);

/**
 * VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER with eventfds: vectors [@start, @start + @count)
 * of IRQ index @index signal @fds[0..count-1] (an fd of -1 leaves that vector without
 * a trigger). For MSI and MSI-X this also enables the capability in the device.
 * @count is at most VFIO_IRQ_SET_MAX_FDS.
 */
int vfio_device_set_irqs_eventfds(int devfd, uint32_t index, uint32_t start,
				  uint32_t count, const int *fds);

/**
 * VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER with no data and count 0: tear down every
 * trigger of IRQ index @index (and disable MSI/MSI-X in the device).
 */
int vfio_device_set_irqs_disable(int devfd, uint32_t index);

/** VFIO_DEVICE_SET_IRQS, ACTION_UNMASK with no data: unmask (INTx) vector @start. */
int vfio_device_irq_unmask(int devfd, uint32_t index, uint32_t start);

/** VFIO_DEVICE_SET_IRQS, ACTION_MASK with no data: mask (INTx) vector @start. */
int vfio_device_irq_mask(int devfd, uint32_t index, uint32_t start);

/** Upper bound on @count in vfio_device_set_irqs_eventfds(). */
#define VFIO_IRQ_SET_MAX_FDS 2048

/** VFIO_DEVICE_RESET (-ENOTTY/-EINVAL where the device has no reset). */
int vfio_device_reset(int devfd);

/** pread/pwrite at @off inside a region; returns bytes done or -errno (short = -EIO). */
ssize_t vfio_device_region_read(int devfd, const struct vfio_region_info *info,
				uint64_t off, void *buf, size_t len);
ssize_t vfio_device_region_write(int devfd, const struct vfio_region_info *info,
				 uint64_t off, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_DEVICE_H */
