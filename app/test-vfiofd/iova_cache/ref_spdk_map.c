/* SPDX-License-Identifier: BSD-3-Clause */
/* SPDK-style two-level translation map: see ref_spdk_map.h. */

#include <errno.h>
#include <stdlib.h>

#include "ref_spdk_map.h"

struct ref_spdk_map *
ref_spdk_map_create(uint64_t default_translation)
{
	struct ref_spdk_map *map = calloc(1, sizeof(*map));

	if (map != NULL)
		map->default_translation = default_translation;
	return map;
}

void
ref_spdk_map_free(struct ref_spdk_map *map)
{
	uint64_t i;

	if (map == NULL)
		return;
	for (i = 0; i < REF_SPDK_NB_1GB; i++)
		free(map->map_256tb[i]);
	free(map);
}

static struct ref_spdk_map_1gb *
get_map_1gb(struct ref_spdk_map *map, uint64_t vaddr)
{
	uint64_t idx = vaddr >> REF_SPDK_SHIFT_1GB;
	struct ref_spdk_map_1gb *m = map->map_256tb[idx];
	uint64_t i;

	if (m != NULL)
		return m;
	m = malloc(sizeof(*m));
	if (m == NULL)
		return NULL;
	for (i = 0; i < REF_SPDK_NB_2MB; i++)
		m->map[i].translation_2mb = map->default_translation;
	map->map_256tb[idx] = m;
	return m;
}

int
ref_spdk_map_set(struct ref_spdk_map *map, uint64_t vaddr, uint64_t size, uint64_t iova)
{
	if ((vaddr | size) & REF_SPDK_MASK_2MB || (vaddr + size) & ~REF_SPDK_MASK_256TB)
		return -EINVAL;
	while (size != 0) {
		struct ref_spdk_map_1gb *m = get_map_1gb(map, vaddr);

		if (m == NULL)
			return -ENOMEM;
		m->map[(vaddr >> REF_SPDK_SHIFT_2MB) & (REF_SPDK_NB_2MB - 1)].translation_2mb = iova;
		vaddr += REF_SPDK_VALUE_2MB;
		iova += REF_SPDK_VALUE_2MB;
		size -= REF_SPDK_VALUE_2MB;
	}
	return 0;
}

int
ref_spdk_map_clear(struct ref_spdk_map *map, uint64_t vaddr, uint64_t size)
{
	if ((vaddr | size) & REF_SPDK_MASK_2MB || (vaddr + size) & ~REF_SPDK_MASK_256TB)
		return -EINVAL;
	while (size != 0) {
		struct ref_spdk_map_1gb *m = map->map_256tb[vaddr >> REF_SPDK_SHIFT_1GB];

		if (m != NULL)
			m->map[(vaddr >> REF_SPDK_SHIFT_2MB) & (REF_SPDK_NB_2MB - 1)].translation_2mb =
				map->default_translation;
		vaddr += REF_SPDK_VALUE_2MB;
		size -= REF_SPDK_VALUE_2MB;
	}
	return 0;
}

/* The translate step of SPDK, with no size argument: the 2 MiB entry. */
static __rte_noinline uint64_t
ref_spdk_map_translate(const struct ref_spdk_map *map, uint64_t vaddr)
{
	const struct ref_spdk_map_1gb *map_1gb;

	if (unlikely(vaddr & ~REF_SPDK_MASK_256TB))
		return map->default_translation;
	map_1gb = map->map_256tb[vaddr >> REF_SPDK_SHIFT_1GB];
	if (unlikely(map_1gb == NULL))
		return map->default_translation;
	return map_1gb->map[(vaddr >> REF_SPDK_SHIFT_2MB) & (REF_SPDK_NB_2MB - 1)].translation_2mb;
}

uint64_t
ref_spdk_vtophys(const struct ref_spdk_map *map, const void *buf)
{
	uint64_t vaddr = (uint64_t)(uintptr_t)buf;
	uint64_t t = ref_spdk_map_translate(map, vaddr);

	if (t == REF_SPDK_ERROR)
		return REF_SPDK_ERROR;
	return t + (vaddr & REF_SPDK_MASK_2MB);
}
