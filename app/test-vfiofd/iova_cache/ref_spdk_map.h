/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reference for the benchmark: a re-implementation, in our own code, of the
 * design of SPDK's spdk_mem_map as used by spdk_vtophys():
 *   - a top-level array with one pointer per 1 GiB of the 256 TiB (48-bit)
 *     user address space, allocated with the map (2 MiB of pointers);
 *   - second-level arrays, allocated on first use, with one 64-bit
 *     translation per 2 MiB page (the IOVA of the page), initialised to the
 *     map's default translation;
 *   - lookup: reject addresses above 48 bits, index the top level with
 *     va >> 30, return the default if there is no second level, read the
 *     2 MiB entry, return the default as is, otherwise add va's offset in the
 *     2 MiB page.
 * Like SPDK, registrations are 2 MiB aligned. The translate path is the one
 * taken by spdk_vtophys(buf, NULL) (no contiguity query). SPDK compiles it
 * out of line in its env library; the inline variant gives the reference its
 * best case and is the one our ratios use.
 */

#ifndef REF_SPDK_MAP_H
#define REF_SPDK_MAP_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#define REF_SPDK_SHIFT_256TB 48
#define REF_SPDK_SHIFT_1GB 30
#define REF_SPDK_SHIFT_2MB 21
#define REF_SPDK_MASK_256TB ((UINT64_C(1) << REF_SPDK_SHIFT_256TB) - 1)
#define REF_SPDK_MASK_2MB ((UINT64_C(1) << REF_SPDK_SHIFT_2MB) - 1)
#define REF_SPDK_VALUE_2MB (UINT64_C(1) << REF_SPDK_SHIFT_2MB)
#define REF_SPDK_NB_1GB (UINT64_C(1) << (REF_SPDK_SHIFT_256TB - REF_SPDK_SHIFT_1GB))
#define REF_SPDK_NB_2MB (UINT64_C(1) << (REF_SPDK_SHIFT_1GB - REF_SPDK_SHIFT_2MB))

/* Like SPDK_VTOPHYS_ERROR. */
#define REF_SPDK_ERROR UINT64_MAX

struct ref_spdk_map_2mb {
	uint64_t translation_2mb;
};

struct ref_spdk_map_1gb {
	struct ref_spdk_map_2mb map[REF_SPDK_NB_2MB];
};

struct ref_spdk_map {
	struct ref_spdk_map_1gb *map_256tb[REF_SPDK_NB_1GB];
	uint64_t default_translation;
};

struct ref_spdk_map *ref_spdk_map_create(uint64_t default_translation);
void ref_spdk_map_free(struct ref_spdk_map *map);
/* vaddr and size 2 MiB aligned; every 2 MiB page gets iova + its offset. */
int ref_spdk_map_set(struct ref_spdk_map *map, uint64_t vaddr, uint64_t size, uint64_t iova);
int ref_spdk_map_clear(struct ref_spdk_map *map, uint64_t vaddr, uint64_t size);

/* Out of line, as spdk_vtophys() -> spdk_mem_map_translate() in SPDK. */
uint64_t ref_spdk_vtophys(const struct ref_spdk_map *map, const void *buf);

static __rte_always_inline uint64_t
ref_spdk_vtophys_inline(const struct ref_spdk_map *map, const void *buf)
{
	uint64_t vaddr = (uint64_t)(uintptr_t)buf;
	const struct ref_spdk_map_1gb *map_1gb;
	uint64_t t;

	if (unlikely(vaddr & ~REF_SPDK_MASK_256TB))
		return map->default_translation;
	map_1gb = map->map_256tb[vaddr >> REF_SPDK_SHIFT_1GB];
	if (unlikely(map_1gb == NULL))
		return map->default_translation;
	t = map_1gb->map[(vaddr >> REF_SPDK_SHIFT_2MB) & (REF_SPDK_NB_2MB - 1)].translation_2mb;
	if (t == REF_SPDK_ERROR)
		return REF_SPDK_ERROR;
	return t + (vaddr & REF_SPDK_MASK_2MB);
}

#endif /* REF_SPDK_MAP_H */
