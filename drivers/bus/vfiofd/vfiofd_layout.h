/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where things are inside a device, computed from what the device and the kernel
 * report: the MSI-X table and PBA (from the capability list in config space) and the
 * parts of a BAR that can be mmap'ed (the whole BAR, the kernel's sparse-mmap areas,
 * minus the MSI-X table unless the kernel says it is mappable).
 *
 * Pure computations on buffers, no I/O: config space is device-controlled data and the
 * region info comes from the kernel, so both are parsed defensively, unit-tested on the
 * host and fuzzed.
 */

#ifndef VFIOFD_LAYOUT_H
#define VFIOFD_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where the MSI-X structures live. */
struct vfiofd_msix_loc {
	uint8_t cap_off;        /**< offset of the capability in config space */
	uint8_t table_bar;      /**< BAR index (BIR) of the vector table */
	uint8_t pba_bar;        /**< BAR index of the pending-bit array */
	uint16_t vectors;       /**< table size (1..2048) */
	uint32_t table_off;     /**< table offset inside its BAR */
	uint32_t table_size;    /**< bytes: vectors * 16 */
	uint32_t pba_off;
	uint32_t pba_size;      /**< bytes: ceil(vectors / 64) * 8 */
};

/**
 * Find the MSI-X capability in the first @len bytes of config space (@len >= 64;
 * only the standard 256-byte space is walked). Returns 0 and fills @out, -ENOENT if the
 * device has none, -EBADMSG if the capability list is malformed (a loop, a pointer
 * into the header, a BIR > 5).
 */
int vfiofd_msix_parse(const uint8_t *cfg, size_t len, struct vfiofd_msix_loc *out);

/** A byte range inside a region. */
struct vfiofd_area {
	uint64_t offset;
	uint64_t size;
};

/** Inputs of vfiofd_region_plan(). */
struct vfiofd_region_desc {
	uint64_t size;                 /**< region size */
	uint64_t page_size;            /**< power of two */
	const struct vfiofd_area *sparse; /**< kernel's sparse-mmap areas, or NULL */
	uint32_t nr_sparse;
	int has_msix_table;            /**< the MSI-X table lives in this region */
	int msix_mappable;             /**< the kernel allows mapping it anyway */
	uint64_t msix_off;             /**< table offset and size inside the region */
	uint64_t msix_size;
};

/**
 * Compute the page-aligned areas to mmap for a region that has the MMAP flag: the
 * sparse areas if given (each must lie inside the page-rounded region; -EBADMSG
 * otherwise), else the whole region; minus the pages holding the MSI-X table when
 * it is not mappable. Areas are sorted, non-overlapping and non-empty. Up to @max areas
 * go into @out; *@n gets their number. Returns 0, -EBADMSG (inconsistent input),
 * -ENOSPC (more than @max areas).
 */
int vfiofd_region_plan(const struct vfiofd_region_desc *d, struct vfiofd_area *out,
		       unsigned int max, unsigned int *n);

/** 1 if [off, off + len) lies entirely inside one of the @n areas. */
int vfiofd_areas_cover(const struct vfiofd_area *areas, unsigned int n, uint64_t off,
		       uint64_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFIOFD_LAYOUT_H */
