/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vfio_device.h"

static int
xioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

int
vfio_device_get_info(int devfd, struct vfio_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return xioctl(devfd, VFIO_DEVICE_GET_INFO, info);
}

/*
 * What the kernel answered to REGION_INFO, checked before anything uses it: argsz
 * covers at least the fixed part (a smaller one would make every "argsz - x" below
 * wrap), and offset and size stay within what mmap and pread take (off_t).
 */
static int
region_info_check(const struct vfio_region_info *info, uint32_t index)
{
	if (info->argsz < sizeof(*info) || info->index != index)
		return -EPROTO;
	if (info->offset > INT64_MAX || info->size > INT64_MAX - info->offset)
		return -EPROTO;
	return 0;
}

int
vfio_device_get_region_info(int devfd, uint32_t index, struct vfio_region_info **out)
{
	struct vfio_region_info *info;
	uint32_t argsz = sizeof(*info);
	int ret;

	/*
	 * The kernel tells us how large the capability chain is by raising argsz; ask
	 * again with that size. Twice is enough unless the chain changes under us, which
	 * would be a kernel bug: give up rather than loop. The size asked for is bounded:
	 * a chain is a few dozen bytes, and a kernel (or a fault) answering 4 GiB must not
	 * make us allocate it.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		info = calloc(1, argsz);
		if (info == NULL)
			return -ENOMEM;
		info->argsz = argsz;
		info->index = index;
		ret = xioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, info);
		if (ret == 0 && info->argsz <= argsz) {
			ret = region_info_check(info, index);
			if (ret == 0) {
				*out = info;
				return 0;
			}
		} else if (ret == 0 && info->argsz > VFIO_REGION_INFO_ARGSZ_MAX) {
			ret = -E2BIG;
		}
		argsz = info->argsz;
		free(info);
		if (ret != 0)
			return ret;
	}
	return -EOVERFLOW;
}

const struct vfio_info_cap_header *
vfio_region_info_cap(const struct vfio_region_info *info, uint16_t id)
{
	uint32_t off;
	unsigned int hops = 0;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS) ||
	    info->argsz < sizeof(*info) + sizeof(struct vfio_info_cap_header))
		return NULL;
	for (off = info->cap_offset; off != 0; hops++) {
		const struct vfio_info_cap_header *hdr;

		/* the kernel places every capability 8-byte aligned, after the fixed part */
		if (off < sizeof(*info) || off > info->argsz - sizeof(*hdr) ||
		    (off & (sizeof(uint64_t) - 1)) != 0 || hops > 64)
			return NULL;
		hdr = (const void *)((const char *)info + off);
		if (hdr->id == id)
			return hdr;
		off = hdr->next;
	}
	return NULL;
}

bool
vfio_region_info_cap_fits(const struct vfio_region_info *info,
			  const struct vfio_info_cap_header *hdr, size_t len)
{
	size_t off = (size_t)((const char *)hdr - (const char *)info);

	return off <= info->argsz && len <= info->argsz - off;
}

int
vfio_region_info_sparse(const struct vfio_region_info *info,
			struct vfio_region_sparse_mmap_area *out, unsigned int max)
{
	const struct vfio_info_cap_header *hdr;
	const struct vfio_region_info_cap_sparse_mmap *cap;

	hdr = vfio_region_info_cap(info, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	if (hdr == NULL)
		return -ENOENT;
	cap = (const void *)hdr;
	if (!vfio_region_info_cap_fits(info, hdr, sizeof(*cap)))
		return -EBADMSG;
	if (cap->nr_areas > VFIO_SPARSE_AREAS_MAX ||
	    !vfio_region_info_cap_fits(info, hdr, sizeof(*cap) +
				       (size_t)cap->nr_areas * sizeof(cap->areas[0])))
		return -EBADMSG;
	if (cap->nr_areas > max)
		return -ENOSPC;
	memcpy(out, cap->areas, (size_t)cap->nr_areas * sizeof(cap->areas[0]));
	return (int)cap->nr_areas;
}

int
vfio_region_info_type(const struct vfio_region_info *info, uint32_t *type,
		      uint32_t *subtype)
{
	const struct vfio_info_cap_header *hdr;
	const struct vfio_region_info_cap_type *cap;

	hdr = vfio_region_info_cap(info, VFIO_REGION_INFO_CAP_TYPE);
	if (hdr == NULL)
		return -ENOENT;
	if (!vfio_region_info_cap_fits(info, hdr, sizeof(*cap)))
		return -EBADMSG;
	cap = (const void *)hdr;
	*type = cap->type;
	*subtype = cap->subtype;
	return 0;
}

int
vfio_device_get_irq_info(int devfd, uint32_t index, struct vfio_irq_info *irq)
{
	int ret;

	memset(irq, 0, sizeof(*irq));
	irq->argsz = sizeof(*irq);
	irq->index = index;
	ret = xioctl(devfd, VFIO_DEVICE_GET_IRQ_INFO, irq);
	/* a vector count no PCI function can have would size the interrupt handle */
	if (ret == 0 && (irq->index != index || irq->count > VFIO_IRQ_COUNT_MAX))
		ret = -EPROTO;
	return ret;
}

int
vfio_device_set_irqs_eventfds(int devfd, uint32_t index, uint32_t start, uint32_t count,
			      const int *fds)
{
	struct vfio_irq_set *set;
	size_t argsz;
	int ret;

	if (count == 0 || count > VFIO_IRQ_SET_MAX_FDS || fds == NULL)
		return -EINVAL;
	argsz = sizeof(*set) + (size_t)count * sizeof(int32_t);
	set = calloc(1, argsz);
	if (set == NULL)
		return -ENOMEM;
	set->argsz = (uint32_t)argsz;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	for (uint32_t i = 0; i < count; i++) {
		int32_t fd = fds[i];

		memcpy(set->data + i * sizeof(fd), &fd, sizeof(fd));
	}
	ret = xioctl(devfd, VFIO_DEVICE_SET_IRQS, set);
	free(set);
	return ret;
}

/* SET_IRQS without data: @action on [start, start + count). */
static int
set_irqs_nodata(int devfd, uint32_t index, uint32_t action, uint32_t start, uint32_t count)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return xioctl(devfd, VFIO_DEVICE_SET_IRQS, &set);
}

int
vfio_device_set_irqs_disable(int devfd, uint32_t index)
{
	return set_irqs_nodata(devfd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
}

int
vfio_device_irq_unmask(int devfd, uint32_t index, uint32_t start)
{
	return set_irqs_nodata(devfd, index, VFIO_IRQ_SET_ACTION_UNMASK, start, 1);
}

int
vfio_device_irq_mask(int devfd, uint32_t index, uint32_t start)
{
	return set_irqs_nodata(devfd, index, VFIO_IRQ_SET_ACTION_MASK, start, 1);
}

int
vfio_device_reset(int devfd)
{
	return ioctl(devfd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
}

static int
region_range_ok(const struct vfio_region_info *info, uint64_t off, size_t len)
{
	return off <= info->size && len <= info->size - off;
}

ssize_t
vfio_device_region_read(int devfd, const struct vfio_region_info *info,
			uint64_t off, void *buf, size_t len)
{
	ssize_t n;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_READ))
		return -EACCES;
	if (!region_range_ok(info, off, len))
		return -ERANGE;
	n = pread(devfd, buf, len, info->offset + off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? n : -EIO;
}

ssize_t
vfio_device_region_write(int devfd, const struct vfio_region_info *info,
			 uint64_t off, const void *buf, size_t len)
{
	ssize_t n;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -EACCES;
	if (!region_range_ok(info, off, len))
		return -ERANGE;
	n = pwrite(devfd, buf, len, info->offset + off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? n : -EIO;
}
