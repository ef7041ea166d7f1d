/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "iommufd_uapi.h"

/*
 * IOMMU_IOAS_MAP_FILE arrived in Linux 6.13; build against older headers too (the
 * kernel, not the headers, decides at run time: ENOTTY where it is missing).
 */
#ifndef IOMMU_IOAS_MAP_FILE
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, 0x8f)
#endif

/* IOMMU_IOAS_NOIOMMU_GET_PA arrived in Linux 7.3 (likewise: ENOTTY before). */
#ifndef IOMMU_IOAS_NOIOMMU_GET_PA
struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_phys;
};
#define IOMMU_IOAS_NOIOMMU_GET_PA _IO(IOMMUFD_TYPE, 0x95)
#endif

/* ioctl() returning 0 or -errno: every wrapper below reports errors the same way. */
static int
xioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

int
iommufd_open(const char *path)
{
	struct stat st;
	int fd = open(path != NULL ? path : IOMMUFD_DEV_PATH, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	/* a FIFO or a regular file would take our ioctls' errors for its own */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		close(fd);
		return -ENOTTY;
	}
	return fd;
}

int
iommufd_ioas_alloc(int iommufd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int ret = xioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd);

	if (ret == 0)
		*ioas_id = cmd.out_ioas_id;
	return ret;
}

int
iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return xioctl(iommufd, IOMMU_DESTROY, &cmd);
}

int
iommufd_ioas_map(int iommufd, uint32_t ioas_id, void *va, uint64_t len,
		 uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = fixed ? *iova : 0,
	};
	int ret = xioctl(iommufd, IOMMU_IOAS_MAP, &cmd);

	if (ret == 0)
		*iova = cmd.iova;
	return ret;
}

int
iommufd_ioas_map_file(int iommufd, uint32_t ioas_id, int fd, uint64_t start,
		      uint64_t len, uint64_t *iova, bool fixed)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = fixed ? *iova : 0,
	};
	int ret = xioctl(iommufd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (ret == 0)
		*iova = cmd.iova;
	return ret;
}

int
iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		   uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};
	int ret = xioctl(iommufd, IOMMU_IOAS_UNMAP, &cmd);

	if (ret == 0 && unmapped != NULL)
		*unmapped = cmd.length;
	return ret;
}

int
iommufd_ioas_noiommu_get_pa(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t *len,
			    uint64_t *phys)
{
	struct iommu_ioas_noiommu_get_pa cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = *len,
	};
	int ret = xioctl(iommufd, IOMMU_IOAS_NOIOMMU_GET_PA, &cmd);

	if (ret == 0) {
		*len = cmd.length;
		*phys = cmd.out_phys;
	}
	return ret;
}

int
iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id,
			 struct iommu_iova_range *ranges, uint32_t *num,
			 uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int ret = xioctl(iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd);

	/* On EMSGSIZE the kernel still reports how many ranges there are. */
	if (ret == 0 || ret == -EMSGSIZE)
		*num = cmd.num_iovas;
	if (ret == 0 && alignment != NULL)
		*alignment = cmd.out_iova_alignment;
	return ret;
}

static int
rlimit_mode_option(int iommufd, uint16_t op, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = op,
		.object_id = 0, /* a global option: no object */
		.val64 = *val,
	};
	int ret = xioctl(iommufd, IOMMU_OPTION, &cmd);

	if (ret == 0)
		*val = cmd.val64;
	return ret;
}

int
iommufd_set_rlimit_mode(int iommufd, bool per_process)
{
	uint64_t val = per_process ? 1 : 0;

	return rlimit_mode_option(iommufd, IOMMU_OPTION_OP_SET, &val);
}

int
iommufd_get_rlimit_mode(int iommufd)
{
	uint64_t val = 0;
	int ret = rlimit_mode_option(iommufd, IOMMU_OPTION_OP_GET, &val);

	return ret < 0 ? ret : (int)val;
}
