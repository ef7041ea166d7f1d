/* SPDX-License-Identifier: BSD-3-Clause */
/* mlx5-style MR cache: see ref_mlx5_mr.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ref_mlx5_mr.h"

static int
cmp_start(const void *a, const void *b)
{
	const struct ref_mlx5_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int
ref_mlx5_table_init(struct ref_mlx5_table *t, const struct ref_mlx5_entry *ranges,
		uint32_t n)
{
	t->e = malloc((n + 1) * sizeof(t->e[0]));
	if (t->e == NULL)
		return -ENOMEM;
	t->e[0] = (struct ref_mlx5_entry){ 0, 0, REF_MLX5_MISS };
	memcpy(&t->e[1], ranges, n * sizeof(t->e[0]));
	qsort(&t->e[1], n, sizeof(t->e[0]), cmp_start);
	t->len = n + 1;
	t->dev_gen = 0;
	return 0;
}

void
ref_mlx5_table_fini(struct ref_mlx5_table *t)
{
	free(t->e);
	t->e = NULL;
}

void
ref_mlx5_flush_local(struct ref_mlx5_ctrl *ctrl)
{
	memset(ctrl->cache, 0, sizeof(ctrl->cache));
	ctrl->mru = 0;
	ctrl->head = 0;
	ctrl->cur_gen = *ctrl->dev_gen_ptr;
}

void
ref_mlx5_ctrl_init(struct ref_mlx5_ctrl *ctrl, const struct ref_mlx5_table *t)
{
	ctrl->bh = t;
	ctrl->dev_gen_ptr = &t->dev_gen;
	ref_mlx5_flush_local(ctrl);
}

/* Binary search: index of the last entry with start <= addr (the sentinel
 * guarantees one), then the bound check.
 */
static uint64_t
table_lookup(const struct ref_mlx5_table *t, uintptr_t addr, uint32_t *idx)
{
	const struct ref_mlx5_entry *e = t->e;
	uint32_t base = 0, n = t->len;

	while (n > 1) {
		uint32_t half = n >> 1;

		if (addr < e[base + half].start) {
			n = half;
		} else {
			base += half;
			n -= half;
		}
	}
	*idx = base;
	if (addr < e[base].end)
		return e[base].iova + (addr - e[base].start);
	return REF_MLX5_MISS;
}

__rte_noinline uint64_t
ref_mlx5_addr2iova_bh(struct ref_mlx5_ctrl *ctrl, uintptr_t addr)
{
	uint32_t idx;
	uint64_t iova = table_lookup(ctrl->bh, addr, &idx);

	if (iova == REF_MLX5_MISS)
		return REF_MLX5_MISS;
	/* The new entry replaces the oldest and becomes the MRU. */
	ctrl->cache[ctrl->head] = ctrl->bh->e[idx];
	ctrl->mru = ctrl->head;
	ctrl->head = (ctrl->head + 1) % REF_MLX5_CACHE_N;
	return iova;
}
