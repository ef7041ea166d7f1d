/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lookup benchmark: VA -> IOVA translation with
 *   ours           rte_iova_cache_va2iova() (with rte_iova_cache_quiescent()
 *                  once per burst of 32 lookups, as a PMD would);
 *   spdk           SPDK-style two-level map, lookup inlined (its best case);
 *   spdk_call      the same, out of line as SPDK ships it (spdk_vtophys());
 *   mlx5           mlx5-style MR cache (per-lcore MRU + 8-entry linear cache,
 *                  then binary search of a sorted table);
 *   dpdk_memseg    rte_mem_virt2memseg() + the memseg's IOVA, on real EAL memory;
 *   dpdk_virt2iova rte_mem_virt2iova() on real EAL memory (see below);
 *   ours_realmem   ours, on the same real EAL memory and addresses.
 *
 * Synthetic regions look like DPDK memory: 2 MiB-aligned memsegs of mixed
 * sizes (1 to 16 pages), packed in a few 16 GiB VA windows (DPDK reserves
 * memseg lists back to back), mostly adjacent, with some holes, and random
 * 2 MiB-aligned IOVAs. The translators never dereference the addresses.
 * Every implementation translates the same address arrays (per lcore):
 * hits ("seq": increasing addresses sweeping all regions with a fixed
 * stride; "random": a uniform region, a uniform offset) and misses (the same
 * in the holes and unused tails of the windows). Before timing, every
 * implementation is checked against ours on these addresses.
 *
 * Output: one figure per line,
 *   BENCH lookup_<impl>_<hit|miss>_<seq|random>_<nregions>_<1lcore|alllcores> <v> ns/op
 * the median over REPEATS runs of the time per lookup on one lcore (for
 * alllcores: every lcore runs its own copy concurrently and the figure is
 * the mean time per lookup of an lcore), and ratios ours / theirs,
 *   RATIO lookup_<hit|miss>_<seq|random>_<nregions>[_alllcores]_vs_<impl> <v>
 * and the memory of our cache for the 1024-region layout, counted from its
 * allocations: BENCH iova_cache_resident_fixed (the empty cache) and
 * BENCH iova_cache_resident_per_gib (the rest, per GiB registered), in kB.
 *
 * EAL: with 2 MiB hugepages available (and root), the EAL runs in IOVA-as-PA
 * mode, where rte_mem_virt2iova() is a real translation (it reads
 * /proc/self/pagemap); in IOVA-as-VA mode it would return its argument.
 * Without hugepages the EAL runs with --no-huge, which forces IOVA-as-VA:
 * dpdk_virt2iova is then skipped with a message (BENCH_IOVA_NO_HUGE=1 in the
 * environment forces this mode).
 */

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_pause.h>

#include "rte_iova_cache.h"
#include "ref_mlx5_mr.h"
#include "ref_spdk_map.h"

#define MB(x) ((uint64_t)(x) << 20)
#define NADDR (1u << 15)          /* addresses per array */
#define OPS_FAST (UINT64_C(1) << 20) /* lookups per lcore per run */
#define OPS_SLOW 2048              /* for rte_mem_virt2iova (syscalls) */
#define REPEATS 9
#define BURST 32
#define MAX_LCORES 16
#define REAL_LEN MB(64)

enum impl {
	IMPL_OURS,
	IMPL_SPDK,
	IMPL_SPDK_CALL,
	IMPL_MLX5,
	IMPL_DPDK_MEMSEG,
	IMPL_DPDK_VIRT2IOVA,
	IMPL_OURS_REALMEM,
	IMPL_MAX
};

static const char * const impl_name[IMPL_MAX] = {
	"ours", "spdk", "spdk_call", "mlx5", "dpdk_memseg", "dpdk_virt2iova", "ours_realmem",
};

struct range {
	uint64_t va, len, iova;
};

/* Everything a run needs. */
struct bench {
	struct rte_iova_cache *cache;
	struct ref_spdk_map *spdk;
	struct ref_mlx5_table mlx5;
	struct ref_mlx5_ctrl mlx5_ctrl[MAX_LCORES] __rte_cache_aligned;
	struct rte_iova_cache *real_cache;
};

struct job {
	enum impl impl;
	const uintptr_t *addrs[MAX_LCORES]; /* per lcore index */
	uint64_t ops;
	unsigned int nb_lcores;
	unsigned int ready;
	double ns_per_op[MAX_LCORES];
	uint64_t sink[MAX_LCORES];
	int op; /* 0: run, 1: register readers, 2: unregister readers */
	unsigned int errors;
	struct rte_iova_cache *reg_cache;
};

static struct bench B;
static unsigned int nb_lcores;
static unsigned int lcore_index_of[RTE_MAX_LCORE];

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- timed loops: one per implementation, same shape ---- */

static __rte_noinline uint64_t
run_ours(struct rte_iova_cache *c, const uintptr_t *a, uint64_t ops, unsigned int tid)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR; i += BURST) {
			for (j = 0; j < BURST; j++)
				sum += rte_iova_cache_va2iova(c, (const void *)a[i + j]);
			rte_iova_cache_quiescent(c, tid);
		}
	return sum;
}

static __rte_noinline uint64_t
run_spdk(const struct ref_spdk_map *m, const uintptr_t *a, uint64_t ops)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR; i += BURST)
			for (j = 0; j < BURST; j++)
				sum += ref_spdk_vtophys_inline(m, (const void *)a[i + j]);
	return sum;
}

static __rte_noinline uint64_t
run_spdk_call(const struct ref_spdk_map *m, const uintptr_t *a, uint64_t ops)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR; i += BURST)
			for (j = 0; j < BURST; j++)
				sum += ref_spdk_vtophys(m, (const void *)a[i + j]);
	return sum;
}

static __rte_noinline uint64_t
run_mlx5(struct ref_mlx5_ctrl *ctrl, const uintptr_t *a, uint64_t ops)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR; i += BURST)
			for (j = 0; j < BURST; j++)
				sum += ref_mlx5_addr2iova(ctrl, (const void *)a[i + j]);
	return sum;
}

static inline rte_iova_t
memseg_va2iova(const void *va)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg(va, NULL);

	if (ms == NULL || ms->addr == NULL || ms->iova == RTE_BAD_IOVA)
		return RTE_BAD_IOVA;
	return ms->iova + RTE_PTR_DIFF(va, ms->addr);
}

static __rte_noinline uint64_t
run_dpdk_memseg(const uintptr_t *a, uint64_t ops)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR && done + i < ops; i += BURST)
			for (j = 0; j < BURST; j++)
				sum += memseg_va2iova((const void *)a[i + j]);
	return sum;
}

static __rte_noinline uint64_t
run_dpdk_virt2iova(const uintptr_t *a, uint64_t ops)
{
	uint64_t sum = 0, done;
	unsigned int i, j;

	for (done = 0; done < ops; done += NADDR)
		for (i = 0; i < NADDR && done + i < ops; i += BURST)
			for (j = 0; j < BURST; j++)
				sum += rte_mem_virt2iova((const void *)a[i + j]);
	return sum;
}

static uint64_t
run_impl(enum impl impl, const uintptr_t *a, uint64_t ops, unsigned int idx)
{
	switch (impl) {
	case IMPL_OURS: return run_ours(B.cache, a, ops, idx);
	case IMPL_SPDK: return run_spdk(B.spdk, a, ops);
	case IMPL_SPDK_CALL: return run_spdk_call(B.spdk, a, ops);
	case IMPL_MLX5: return run_mlx5(&B.mlx5_ctrl[idx], a, ops);
	case IMPL_DPDK_MEMSEG: return run_dpdk_memseg(a, ops);
	case IMPL_DPDK_VIRT2IOVA: return run_dpdk_virt2iova(a, ops);
	case IMPL_OURS_REALMEM: return run_ours(B.real_cache, a, ops, idx);
	default: return 0;
	}
}

static int
lcore_fn(void *arg)
{
	struct job *j = arg;
	unsigned int idx = lcore_index_of[rte_lcore_id()];
	uint64_t t0, t1;

	if (j->op != 0) {
		int ret = j->op == 1 ? rte_iova_cache_reader_register(j->reg_cache, idx) :
				rte_iova_cache_reader_unregister(j->reg_cache, idx);

		if (ret != 0)
			__atomic_fetch_add(&j->errors, 1, __ATOMIC_RELAXED);
		return ret;
	}

	/* Start together, so that all lcores run concurrently. */
	__atomic_fetch_add(&j->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&j->ready, __ATOMIC_ACQUIRE) < j->nb_lcores)
		rte_pause();
	t0 = now_ns();
	j->sink[idx] = run_impl(j->impl, j->addrs[idx], j->ops, idx);
	t1 = now_ns();
	j->ns_per_op[idx] = (double)(t1 - t0) / (double)j->ops;
	return 0;
}

static void
all_lcores(struct job *j)
{
	j->ready = 0;
	rte_eal_mp_remote_launch(lcore_fn, j, CALL_MAIN);
	rte_eal_mp_wait_lcore();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over REPEATS of the (mean over lcores) ns per lookup. */
static double
measure(enum impl impl, uintptr_t * const *addrs, uint64_t ops, bool all)
{
	struct job j = { .impl = impl, .ops = ops, .nb_lcores = all ? nb_lcores : 1 };
	double v[REPEATS];
	unsigned int r, k;

	for (k = 0; k < nb_lcores; k++)
		j.addrs[k] = addrs[k];
	for (r = 0; r <= REPEATS; r++) { /* r == 0: warm-up */
		double s = 0;

		if (all) {
			all_lcores(&j);
		} else {
			j.ready = 0;
			lcore_fn(&j);
		}
		for (k = 0; k < j.nb_lcores; k++)
			s += j.ns_per_op[k];
		if (r > 0)
			v[r - 1] = s / j.nb_lcores;
	}
	qsort(v, REPEATS, sizeof(v[0]), cmp_double);
	return v[REPEATS / 2];
}

static void
readers(struct rte_iova_cache *c, int op)
{
	struct job j = { .op = op, .reg_cache = c, .nb_lcores = nb_lcores };

	rte_eal_mp_remote_launch(lcore_fn, &j, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	if (j.errors != 0) {
		fprintf(stderr, "reader (un)registration failed\n");
		exit(1);
	}
}

/* ---- synthetic DPDK-like layout ---- */

static uint64_t
memseg_pages(void)
{
	uint64_t r = rnd() % 100;

	return r < 50 ? 1 : r < 70 ? 2 : r < 85 ? 4 : r < 95 ? 8 : 16;
}

/* n regions in min(n, 4) windows; holes[] gets the gaps and window tails. */
static unsigned int
make_layout(unsigned int n, struct range *reg, struct range *holes, unsigned int *nb_holes)
{
	const uint64_t base = UINT64_C(0x100000000), win_size = MB(16384);
	unsigned int nwin = n < 4 ? n : 4, w, i = 0;

	*nb_holes = 0;
	for (w = 0; w < nwin; w++) {
		uint64_t va = base + w * win_size;
		unsigned int k, per = n / nwin + (w < n % nwin);

		for (k = 0; k < per; k++, i++) {
			reg[i].va = va;
			reg[i].len = MB(2) * memseg_pages();
			reg[i].iova = MB(2) * (rnd() % (UINT64_C(1) << 19));
			va += reg[i].len;
			if (rnd() % 100 < 30 || k + 1 == per) {
				/* A hole, or the unused tail of the window. */
				uint64_t gap = k + 1 == per ? MB(64) : MB(2) * (1 + rnd() % 4);

				holes[(*nb_holes)++] = (struct range){ va, gap, 0 };
				va += gap;
			}
		}
	}
	return i;
}

/* Sequential sweep of the ranges with a fixed stride, or uniform random. */
static void
fill_addrs(uintptr_t *a, const struct range *r, unsigned int n, bool seq, unsigned int start)
{
	unsigned int i, k = 0;

	if (seq) {
		uint64_t total = 0, stride, off = 0;

		for (i = 0; i < n; i++)
			total += r[i].len;
		stride = RTE_MAX(UINT64_C(64), RTE_ALIGN_CEIL(total / NADDR, 64));
		/* Each lcore starts its sweep at a different region. */
		k = start % n;
		for (i = 0; i < NADDR; i++) {
			a[i] = r[k].va + off;
			off += stride;
			if (off >= r[k].len) {
				off = 0;
				k = (k + 1) % n;
			}
		}
	} else {
		for (i = 0; i < NADDR; i++) {
			k = rnd() % n;
			a[i] = r[k].va + (rnd() % r[k].len & ~UINT64_C(7));
		}
	}
}

/* ---- output ---- */

static double results[IMPL_MAX][2][2][3][2]; /* impl, miss, random, nidx, all */
static const unsigned int nregions_list[3] = { 1, 64, 1024 };

static void
bench_line(enum impl impl, bool miss, bool rnd_, unsigned int nreg, bool all, double v)
{
	printf("BENCH lookup_%s_%s_%s_%u_%s %.2f ns/op\n", impl_name[impl],
			miss ? "miss" : "hit", rnd_ ? "random" : "seq", nreg,
			all ? "alllcores" : "1lcore", v);
	fflush(stdout);
}

/* ---- checks ---- */

static uint64_t
check_impl(enum impl impl, const uintptr_t *a, unsigned int n, bool miss)
{
	uint64_t bad = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rte_iova_t want = rte_iova_cache_va2iova(B.cache, (const void *)a[i]), got;

		switch (impl) {
		case IMPL_SPDK: got = ref_spdk_vtophys_inline(B.spdk, (const void *)a[i]); break;
		case IMPL_SPDK_CALL: got = ref_spdk_vtophys(B.spdk, (const void *)a[i]); break;
		case IMPL_MLX5: got = ref_mlx5_addr2iova(&B.mlx5_ctrl[0], (const void *)a[i]); break;
		default: got = want; break;
		}
		if (got != want || (miss != (want == RTE_BAD_IOVA)))
			bad++;
	}
	return bad;
}

static bool
hugepages_usable(void)
{
	char line[512];
	FILE *f = fopen("/proc/mounts", "r");
	bool mounted = false;
	long nfree = 0;

	if (f != NULL && getenv("BENCH_IOVA_NO_HUGE") != NULL) {
		fclose(f);
		f = NULL;
	}

	if (f == NULL) /* or BENCH_IOVA_NO_HUGE set, to test the fallback */
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, " hugetlbfs ") != NULL)
			mounted = true;
	fclose(f);
	f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	if (f == NULL)
		return false;
	if (fscanf(f, "%ld", &nfree) != 1)
		nfree = 0;
	fclose(f);
	/* 64 MiB of test memory plus what the EAL allocates for itself. */
	return mounted && nfree >= 48 && geteuid() == 0;
}

/* ---- real EAL memory ---- */

static void
bench_real(bool pa_mode)
{
	const uint64_t pgsz = MB(2);
	uintptr_t *seq[MAX_LCORES], *rnda[MAX_LCORES];
	struct rte_iova_cache_params p = { .name = "real", .max_readers = nb_lcores };
	struct range r;
	unsigned int k, nseg = 0, bad = 0, i;
	uint8_t *mem;
	uint64_t off;

	mem = rte_malloc("bench_iova", REAL_LEN, pgsz);
	if (mem == NULL) {
		printf("# SKIP dpdk comparators: cannot allocate %" PRIu64 " MiB of EAL memory\n",
				REAL_LEN >> 20);
		return;
	}
	memset(mem, 1, REAL_LEN);
	B.real_cache = rte_iova_cache_create(&p);
	if (B.real_cache == NULL) {
		rte_free(mem);
		return;
	}
	/* Register the memsegs under the allocation, as a driver would. */
	for (off = 0; off < REAL_LEN;) {
		const struct rte_memseg *ms = rte_mem_virt2memseg(mem + off, NULL);

		if (ms == NULL)
			break;
		if (rte_iova_cache_insert(B.real_cache, ms->addr, ms->len, ms->iova) == 0)
			nseg++;
		off = RTE_PTR_DIFF(RTE_PTR_ADD(ms->addr, ms->len), mem);
	}
	readers(B.real_cache, 1);
	r = (struct range){ (uintptr_t)mem, REAL_LEN, 0 };
	for (k = 0; k < nb_lcores; k++) {
		seq[k] = malloc(NADDR * sizeof(uintptr_t));
		rnda[k] = malloc(NADDR * sizeof(uintptr_t));
		fill_addrs(seq[k], &r, 1, true, 0);
		fill_addrs(rnda[k], &r, 1, false, 0);
	}
	for (i = 0; i < 2000; i++) {
		const void *va = (const void *)rnda[0][i];
		rte_iova_t o = rte_iova_cache_va2iova(B.real_cache, va);

		if (o != memseg_va2iova(va) || (pa_mode && o != rte_mem_virt2iova(va)))
			bad++;
	}
	printf("# real EAL memory: %" PRIu64 " MiB in %u memsegs, IOVA as %s; "
			"ours == rte_mem_virt2memseg()%s on 2000 addresses: %s\n",
			REAL_LEN >> 20, nseg, pa_mode ? "PA" : "VA",
			pa_mode ? " == rte_mem_virt2iova()" : "", bad == 0 ? "ok" : "MISMATCH");

	for (k = 0; k < 2; k++) {
		static const enum impl impls[3] = {
			IMPL_OURS_REALMEM, IMPL_DPDK_MEMSEG, IMPL_DPDK_VIRT2IOVA
		};
		static const uint64_t ops[3] = { OPS_FAST, OPS_FAST / 8, OPS_SLOW };
		bool all = k == 1;
		double v[3][2];
		unsigned int x, rn;

		for (x = 0; x < 3; x++) {
			if (impls[x] == IMPL_DPDK_VIRT2IOVA && !pa_mode)
				continue;
			for (rn = 0; rn < 2; rn++) {
				v[x][rn] = measure(impls[x], rn ? rnda : seq, ops[x], all);
				bench_line(impls[x], false, rn == 1, nseg, all, v[x][rn]);
			}
		}
		for (x = 1; x < 3; x++) {
			if (impls[x] == IMPL_DPDK_VIRT2IOVA && !pa_mode)
				continue;
			for (rn = 0; rn < 2; rn++)
				printf("RATIO lookup_hit_%s_%u%s_vs_%s %.5f\n", rn ? "random" : "seq",
						nseg, all ? "_alllcores" : "", impl_name[impls[x]],
						v[0][rn] / v[x][rn]);
		}
	}
	if (!pa_mode)
		printf("# SKIP dpdk_virt2iova: no usable 2 MiB hugepages (or not root), the EAL "
				"runs with --no-huge in IOVA-as-VA mode where rte_mem_virt2iova() "
				"returns its argument\n");
	printf("# dpdk comparators: hits only (a miss is not defined for rte_mem_virt2iova()); "
			"their ratios compare ours_realmem on the same addresses\n");

	readers(B.real_cache, 2);
	rte_iova_cache_free(B.real_cache);
	for (k = 0; k < nb_lcores; k++) {
		free(seq[k]);
		free(rnda[k]);
	}
	rte_free(mem);
}

/* ---- synthetic layouts ---- */

static int
bench_synthetic(unsigned int ni)
{
	unsigned int n = nregions_list[ni], nreg, nb_holes, k, m, s;
	struct range *reg = calloc(n, sizeof(*reg)), *holes = calloc(n + 4, sizeof(*holes));
	struct ref_mlx5_entry *ent = calloc(n, sizeof(*ent));
	struct rte_iova_cache_params p = { .name = "bench", .max_readers = nb_lcores };
	uintptr_t *addrs[2][2][MAX_LCORES]; /* miss, random, lcore */
	uint64_t span = 0, bad = 0;

	if (reg == NULL || holes == NULL || ent == NULL)
		return -ENOMEM;
	nreg = make_layout(n, reg, holes, &nb_holes);
	B.cache = rte_iova_cache_create(&p);
	B.spdk = ref_spdk_map_create(REF_SPDK_ERROR);
	if (B.cache == NULL || B.spdk == NULL)
		return -ENOMEM;
	for (k = 0; k < nreg; k++) {
		if (rte_iova_cache_insert(B.cache, (const void *)(uintptr_t)reg[k].va, reg[k].len,
				reg[k].iova) != 0 ||
				ref_spdk_map_set(B.spdk, reg[k].va, reg[k].len, reg[k].iova) != 0)
			return -EINVAL;
		ent[k] = (struct ref_mlx5_entry){ reg[k].va, reg[k].va + reg[k].len, reg[k].iova };
		span += reg[k].len;
	}
	if (ref_mlx5_table_init(&B.mlx5, ent, nreg) != 0)
		return -ENOMEM;
	for (k = 0; k < nb_lcores; k++)
		ref_mlx5_ctrl_init(&B.mlx5_ctrl[k], &B.mlx5);
	readers(B.cache, 1);

	for (m = 0; m < 2; m++)
		for (s = 0; s < 2; s++)
			for (k = 0; k < nb_lcores; k++) {
				addrs[m][s][k] = malloc(NADDR * sizeof(uintptr_t));
				if (m == 0)
					fill_addrs(addrs[m][s][k], reg, nreg, s == 0, k * nreg / nb_lcores);
				else
					fill_addrs(addrs[m][s][k], holes, nb_holes, s == 0,
							k * nb_holes / nb_lcores);
			}
	for (m = 0; m < 2; m++)
		for (s = 0; s < 2; s++)
			for (k = IMPL_SPDK; k <= IMPL_MLX5; k++)
				bad += check_impl(k, addrs[m][s][0], NADDR, m == 1);
	printf("# %u regions (%" PRIu64 " MiB) in %u windows, %u holes; all implementations "
			"agree with ours on every benchmark address: %s\n",
			nreg, span >> 20, RTE_MIN(nreg, 4u), nb_holes, bad == 0 ? "ok" : "MISMATCH");
	if (bad != 0)
		return -EINVAL;

	for (m = 0; m < 2; m++)
		for (s = 0; s < 2; s++)
			for (k = 0; k < 2; k++) {
				enum impl i;

				for (i = IMPL_OURS; i <= IMPL_MLX5; i++) {
					double v;

					/* Cold mlx5 per-lcore caches for every run. */
					for (unsigned int l = 0; l < nb_lcores; l++)
						ref_mlx5_flush_local(&B.mlx5_ctrl[l]);
					v = measure(i, addrs[m][s], OPS_FAST, k == 1);
					results[i][m][s][ni][k] = v;
					bench_line(i, m == 1, s == 1, n, k == 1, v);
				}
			}

	readers(B.cache, 2);
	for (m = 0; m < 2; m++)
		for (s = 0; s < 2; s++)
			for (k = 0; k < nb_lcores; k++)
				free(addrs[m][s][k]);
	rte_iova_cache_free(B.cache);
	ref_spdk_map_free(B.spdk);
	ref_mlx5_table_fini(&B.mlx5);
	free(reg);
	free(holes);
	free(ent);
	return 0;
}

/* ---- memory ---- */

/* Bytes the C library has handed out and not taken back (heap and mmap). */
static uint64_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Memory of the cache structures for the 1024-region layout, counted as the
 * bytes it allocates: the cache writes all it allocates (the top level at
 * create, leaves and nodes when built), so they are resident, locked or not;
 * unlike a VmRSS delta, the count does not depend on what the heap already
 * held. The per-GiB figure leaves out the empty cache (the fixed part).
 */
static int
bench_memory(void)
{
	struct range *reg = calloc(1024, sizeof(*reg)), *holes = calloc(1024 + 4, sizeof(*holes));
	struct rte_iova_cache_params p = { .name = "memory", .max_readers = 1 };
	struct rte_iova_cache *c;
	uint64_t m0, m1, m2, span = 0;
	unsigned int n, nb_holes, k;
	int ret = 0;

	if (reg == NULL || holes == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	n = make_layout(1024, reg, holes, &nb_holes);
	m0 = heap_in_use();
	c = rte_iova_cache_create(&p);
	if (c == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	m1 = heap_in_use();
	for (k = 0; k < n; k++) {
		if (rte_iova_cache_insert(c, (const void *)(uintptr_t)reg[k].va, reg[k].len,
				reg[k].iova) != 0)
			ret = -EINVAL;
		span += reg[k].len;
	}
	m2 = heap_in_use();
	printf("# cache memory counted from its allocations (mallinfo2()): empty cache %.1f kB; "
			"%u regions, %.2f GiB: +%.1f kB\n", (m1 - m0) / 1024.0, n,
			span / (double)(UINT64_C(1) << 30), (m2 - m1) / 1024.0);
	printf("BENCH iova_cache_resident_fixed %.1f kB\n", (m1 - m0) / 1024.0);
	printf("BENCH iova_cache_resident_per_gib %.1f kB\n",
			(m2 - m1) / 1024.0 / (span / (double)(UINT64_C(1) << 30)));
	rte_iova_cache_free(c);
out:
	free(reg);
	free(holes);
	return ret;
}

int
main(int argc, char **argv)
{
	char lcores[32], prefix[64];
	bool huge = hugepages_usable();
	const char *eal_args[16];
	char *eal_argv[16];
	int eal_argc = 0, ret;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int lc, ni, m, s, k;
	uint64_t t0 = now_ns();

	RTE_SET_USED(argc);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > MAX_LCORES)
		ncpu = MAX_LCORES;
	snprintf(lcores, sizeof(lcores), "0-%ld", ncpu - 1);
	snprintf(prefix, sizeof(prefix), "--file-prefix=bench_iova_%d", (int)getpid());
	eal_args[eal_argc++] = argv[0];
	eal_args[eal_argc++] = "-l";
	eal_args[eal_argc++] = lcores;
	eal_args[eal_argc++] = "--no-pci";
	eal_args[eal_argc++] = prefix;
	eal_args[eal_argc++] = "--log-level=lib.eal:error";
	eal_args[eal_argc++] = "--log-level=lib.telemetry:error";
	if (huge) {
		/* Hugepage memory in IOVA-as-PA mode: rte_mem_virt2iova() then
		 * really translates (through /proc/self/pagemap).
		 */
		eal_args[eal_argc++] = "--in-memory";
		eal_args[eal_argc++] = "--iova-mode=pa";
	} else {
		eal_args[eal_argc++] = "--no-huge";
		eal_args[eal_argc++] = "-m";
		eal_args[eal_argc++] = "128";
	}
	/* rte_eal_init() may permute its argv: give it copies. */
	for (k = 0; k < (unsigned int)eal_argc; k++)
		eal_argv[k] = strdup(eal_args[k]);
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	nb_lcores = 0;
	RTE_LCORE_FOREACH(lc)
		lcore_index_of[lc] = nb_lcores++;
	printf("# bench_iova_lookup: %u lcores, %s, %d repeats (median), %u-address arrays, "
			"%" PRIu64 " lookups per run\n", nb_lcores,
			huge ? "hugepages, IOVA as PA" : "no hugepages (--no-huge)", REPEATS,
			NADDR, OPS_FAST);

	for (ni = 0; ni < 3; ni++) {
		ret = bench_synthetic(ni);
		if (ret != 0) {
			fprintf(stderr, "benchmark setup failed: %s\n", strerror(-ret));
			return 1;
		}
	}
	bench_real(huge && rte_eal_iova_mode() == RTE_IOVA_PA);
	ret = bench_memory();
	if (ret != 0) {
		fprintf(stderr, "memory figure: %s\n", strerror(-ret));
		return 1;
	}

	for (ni = 0; ni < 3; ni++)
		for (m = 0; m < 2; m++)
			for (s = 0; s < 2; s++)
				for (k = 0; k < 2; k++) {
					enum impl i;

					for (i = IMPL_SPDK; i <= IMPL_MLX5; i++)
						printf("RATIO lookup_%s_%s_%u%s_vs_%s %.3f\n",
								m ? "miss" : "hit", s ? "random" : "seq",
								nregions_list[ni], k ? "_alllcores" : "",
								impl_name[i],
								results[IMPL_OURS][m][s][ni][k] /
								results[i][m][s][ni][k]);
				}
	printf("# total %.1f s\n", (now_ns() - t0) / 1e9);
	rte_eal_cleanup();
	return 0;
}
