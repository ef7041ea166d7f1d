/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Thin wrappers over the iommufd uAPI (/dev/iommu, <linux/iommufd.h>).
 *
 * One function per ioctl, nothing hidden: each fills the argument structure, issues the
 * ioctl and returns 0 (or a non-negative result) on success and a negative errno on
 * failure. They never log: the caller knows which device and which memory the call was
 * about, and is the one that can write a useful message.
 *
 * This is the only file in vfiofd that issues iommufd ioctls.
 */

#ifndef IOMMUFD_UAPI_H
#define IOMMUFD_UAPI_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/iommufd.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default path of the iommufd character device. */
#define IOMMUFD_DEV_PATH "/dev/iommu"

/**
 * Open an iommufd (O_RDWR | O_CLOEXEC). Returns the fd, -ENOTTY if @path is not a
 * character device, or -errno.
 */
int iommufd_open(const char *path);

/** IOMMU_IOAS_ALLOC: create an empty I/O address space. */
int iommufd_ioas_alloc(int iommufd, uint32_t *ioas_id);

/** IOMMU_DESTROY: destroy any iommufd object (IOAS, HWPT, ...) by id. */
int iommufd_destroy(int iommufd, uint32_t id);

/**
 * IOMMU_IOAS_MAP: map [va, va + len) of the caller's memory for DMA, readable and
 * writeable by the device. With @fixed, *iova is the IOVA to use (-EEXIST if any of it
 * is taken); otherwise the kernel chooses and returns it in *iova. The pages are pinned
 * (and charged to RLIMIT_MEMLOCK) until the area is unmapped.
 */
int iommufd_ioas_map(int iommufd, uint32_t ioas_id, void *va, uint64_t len,
		     uint64_t *iova, bool fixed);

/**
 * IOMMU_IOAS_MAP_FILE (Linux 6.13+): like iommufd_ioas_map(), but map @len bytes of the
 * memfd or hugetlbfs file @fd from offset @start; the kernel pins the file's folios
 * directly instead of walking the caller's page tables. -ENOTTY on older kernels.
 */
int iommufd_ioas_map_file(int iommufd, uint32_t ioas_id, int fd, uint64_t start,
			  uint64_t len, uint64_t *iova, bool fixed);

/**
 * IOMMU_IOAS_UNMAP: unmap [iova, iova + len). The range must cover whole mapped areas
 * (-ENOENT if it would split one); *unmapped (may be NULL) receives the bytes unmapped.
 * iova = 0 and len = UINT64_MAX unmap everything.
 */
int iommufd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		       uint64_t *unmapped);

/**
 * IOMMU_IOAS_NOIOMMU_GET_PA (Linux 7.3+, no-IOMMU devices only): the physical address
 * @iova of @ioas_id maps to. On entry *len is the most bytes to look at (non-zero); on
 * success it holds how many bytes from *phys on are physically contiguous. -ENOENT if
 * nothing is mapped at @iova, -EOPNOTSUPP if the IOAS holds it for a real IOMMU (no
 * no-IOMMU device attached), -EPERM without CAP_SYS_RAWIO, -ENOTTY on older kernels.
 */
int iommufd_ioas_noiommu_get_pa(int iommufd, uint32_t ioas_id, uint64_t iova,
				uint64_t *len, uint64_t *phys);

/**
 * IOMMU_IOAS_IOVA_RANGES: the IOVA ranges usable for mapping in this IOAS, which narrow
 * with every device attached to it. On entry *num is the capacity of @ranges; on
 * success it holds the number of ranges. -EMSGSIZE (with *num set to the number needed)
 * if @ranges was too small. @alignment (may be NULL) receives the minimum IOVA alignment.
 */
int iommufd_ioas_iova_ranges(int iommufd, uint32_t ioas_id,
			     struct iommu_iova_range *ranges, uint32_t *num,
			     uint64_t *alignment);

/**
 * IOMMU_OPTION(IOMMU_OPTION_RLIMIT_MODE, SET): account pinned pages per process (1) or
 * per user (0). Needs CAP_SYS_RESOURCE, and only works while the iommufd holds no
 * object: call it right after iommufd_open().
 */
int iommufd_set_rlimit_mode(int iommufd, bool per_process);

/** IOMMU_OPTION(IOMMU_OPTION_RLIMIT_MODE, GET). Returns 0 or 1, or -errno. */
int iommufd_get_rlimit_mode(int iommufd);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUFD_UAPI_H */
