/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Whether an IOAS maps an IOVA, asked of the kernel: iommufd has no query, but a fixed
 * map of one page there fails with EEXIST where something is mapped (and is undone at
 * once where nothing was). For tests that check the memory library's records and
 * cache against what the IOMMU really holds.
 *
 * The ioctls are made here, in the test binary, not through the library's wrappers:
 * the user-space fault injector fails the Nth call made by the library's code, and a
 * probe must never be what it fails.
 */

#ifndef VFIOFD_TEST_IOAS_PROBE_H
#define VFIOFD_TEST_IOAS_PROBE_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>

/*
 * 1 if IOAS @ioas of iommufd @fd maps @iova, 0 if not, else -errno (the probe map
 * failed otherwise). @page: a page of the caller's (4 KiB, page aligned), mapped
 * briefly.
 */
static inline int
ioas_maps_iova(int fd, uint32_t ioas, uint64_t iova, void *page)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas,
		.user_va = (uintptr_t)page,
		.length = 4096,
		.iova = iova,
	};
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas, .iova = iova, .length = 4096,
	};

	if (ioctl(fd, IOMMU_IOAS_MAP, &map) != 0)
		return errno == EEXIST ? 1 : -errno;
	if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) != 0)
		return -errno;
	return 0;
}

#endif /* VFIOFD_TEST_IOAS_PROBE_H */
