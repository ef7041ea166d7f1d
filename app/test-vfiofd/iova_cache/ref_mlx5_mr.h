/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reference for the benchmark: a re-implementation, in our own code, of the
 * design of the address lookup of DPDK's mlx5 PMDs (memory-region cache):
 *   - per queue: a generation check against the device's MR generation
 *     (flushing the local caches when memory was freed), then the
 *     most-recently-used entry of a small linear cache, then a linear scan
 *     of that cache (8 entries); all inline in the data path;
 *   - on a miss of the linear cache, out of line ("bottom half"): a binary
 *     search of a sorted table of [start, end) ranges, whose first entry is
 *     an empty sentinel; the entry found replaces the oldest entry of the
 *     linear cache and becomes the MRU.
 * mlx5 returns an lkey; here an entry holds the IOVA of its start and the
 * lookup returns the IOVA of the address. A miss in the sorted table (where
 * mlx5 would go on to the global cache and possibly register memory)
 * returns UINT64_MAX.
 */

#ifndef REF_MLX5_MR_H
#define REF_MLX5_MR_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#define REF_MLX5_CACHE_N 8
#define REF_MLX5_MISS UINT64_MAX

struct ref_mlx5_entry {
	uintptr_t start; /* 0: empty */
	uintptr_t end;
	uint64_t iova;   /* of start; REF_MLX5_MISS in the sentinel */
};

/* Sorted table, shared by the queues (the per-queue B-tree of mlx5 ends up
 * holding the same entries once warm).
 */
struct ref_mlx5_table {
	struct ref_mlx5_entry *e; /* e[0] is the sentinel */
	uint32_t len;             /* including the sentinel */
	uint32_t dev_gen;
};

/* Per-queue control, like mlx5's struct mlx5_mr_ctrl. */
struct ref_mlx5_ctrl {
	const uint32_t *dev_gen_ptr;
	uint32_t cur_gen;
	uint16_t mru;
	uint16_t head;
	const struct ref_mlx5_table *bh;
	struct ref_mlx5_entry cache[REF_MLX5_CACHE_N];
};

/* Build a sorted table from unsorted, disjoint ranges; 0 or -ENOMEM. */
int ref_mlx5_table_init(struct ref_mlx5_table *t, const struct ref_mlx5_entry *ranges,
		uint32_t n);
void ref_mlx5_table_fini(struct ref_mlx5_table *t);
void ref_mlx5_ctrl_init(struct ref_mlx5_ctrl *ctrl, const struct ref_mlx5_table *t);
void ref_mlx5_flush_local(struct ref_mlx5_ctrl *ctrl);
/* Out of line, like mlx5_mr_addr2mr_bh(). */
uint64_t ref_mlx5_addr2iova_bh(struct ref_mlx5_ctrl *ctrl, uintptr_t addr);

static __rte_always_inline uint64_t
ref_mlx5_lookup_linear(struct ref_mlx5_ctrl *ctrl, uintptr_t addr)
{
	const struct ref_mlx5_entry *c = ctrl->cache;
	uint16_t i;

	if (likely(addr >= c[ctrl->mru].start && addr < c[ctrl->mru].end))
		return c[ctrl->mru].iova + (addr - c[ctrl->mru].start);
	for (i = 0; i < REF_MLX5_CACHE_N && c[i].start != 0; i++) {
		if (addr >= c[i].start && addr < c[i].end) {
			ctrl->mru = i;
			return c[i].iova + (addr - c[i].start);
		}
	}
	return REF_MLX5_MISS;
}

static __rte_always_inline uint64_t
ref_mlx5_addr2iova(struct ref_mlx5_ctrl *ctrl, const void *va)
{
	uintptr_t addr = (uintptr_t)va;
	uint64_t iova;

	if (unlikely(*ctrl->dev_gen_ptr != ctrl->cur_gen))
		ref_mlx5_flush_local(ctrl);
	iova = ref_mlx5_lookup_linear(ctrl, addr);
	if (likely(iova != REF_MLX5_MISS))
		return iova;
	return ref_mlx5_addr2iova_bh(ctrl, addr);
}

#endif /* REF_MLX5_MR_H */
