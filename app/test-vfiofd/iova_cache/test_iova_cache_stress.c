/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrent stress test of the IOVA cache.
 *
 * Updater threads remove regions and re-insert them at the same VA with a
 * different IOVA (a new "version"), as a driver does when memory is unmapped
 * from the IOMMU and the VA is reused. Reader threads, registered with the
 * cache, translate random addresses and check every answer against an
 * oracle, while holding the translation for a random time before their next
 * quiescent state, as a PMD holds an IOVA until its descriptors are written.
 *
 * Oracle: per region i, gen[i] is even (2k) while version k is inserted and
 * odd (2k + 1) from the start of the removal of version k until version k + 1
 * is inserted. The updater stores 2k + 1 and a release fence before calling
 * remove, and stores 2k + 2 with release after insert returns. A reader reads
 * g1 = gen[i] (acquire), translates, waits, then reads g2 = gen[i] after an
 * acquire fence, all before its next quiescent state. Since remove() returns
 * only after the reader's next quiescent state, any version it got must
 * still be current or being removed at g2:
 *   - a translation must be iova(i, v) + offset with v == g2 / 2, or
 *     v == g2 / 2 + 1 if g2 is odd (insertion racing);
 *   - a miss is wrong if g1 == g2 is even (the region was inserted before g1
 *     and its removal had not started at g2);
 *   - an address outside every region must miss.
 * A control thread, not registered with the cache, translates with
 * rte_iova_cache_va2iova_locked() meanwhile (as a PMD's queue setup does) and is
 * checked against the same oracle: its answer is the translation at one instant
 * between g1 and g2, so its version lies in g1 / 2 .. (g2 + 1) / 2, and it never
 * reads a freed node.
 * A build that skips the grace period (IOVA_CACHE_TEST_BREAK_RECLAIM, see
 * meson.build: test_iova_cache_stress_broken) lets the updater reuse a VA
 * while a reader still holds its old translation, and frees (poisons)
 * internal nodes that readers still read: this test must fail on it.
 *
 * Usage: test_iova_cache_stress [seconds] [seed]   (default 4 s)
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_pause.h>

#include "rte_iova_cache.h"
#include "../tap.h"
#include "iova_cache_dump.h"

#define MB(x) ((uintptr_t)(x) << 20)
#define KB(x) ((uintptr_t)(x) << 10)

#define NB_READERS 2
#define NB_UPDATERS 2
#define MAX_REGIONS 64
#define MAX_HOLES 256
#define MAX_REPORTS 8

struct region {
	uintptr_t va;
	size_t len;
	uint64_t iova_off; /* low bits of every version's iova */
};

static struct region regions[MAX_REGIONS];
static unsigned int nb_regions;
static uintptr_t holes[MAX_HOLES];
static unsigned int nb_holes;

/* gen[i]: see the file comment. One cache line each. */
static struct {
	uint64_t v;
} __rte_cache_aligned gen[MAX_REGIONS];

static struct rte_iova_cache *cache;
static bool stop;
static uint64_t seed = 1;
static uint64_t delay_max_tsc;

struct reader_stats {
	uint64_t lookups, hits, misses, hole_lookups, raced, failures;
	uint64_t stale, poisoned; /* kinds of failures */
} __rte_cache_aligned;

/* iova_cache.c poisons the deltas of the nodes it frees with
 * 0x5a5a5a5a00000000: a translation read from a freed node looks like this.
 */
static inline bool
looks_poisoned(rte_iova_t x)
{
	return (x >> 40) == UINT64_C(0x5a5a5a);
}
static struct reader_stats rstats[NB_READERS];
static uint64_t updates[NB_UPDATERS];
static uint64_t updater_errors;
static unsigned int reports;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uint64_t
xs(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static inline rte_iova_t
iova_of(unsigned int i, uint64_t version)
{
	return ((version & 0xffff) << 36) + ((uint64_t)i << 28) + regions[i].iova_off;
}

static void
add_region(uintptr_t va, size_t len, uint64_t iova_off)
{
	regions[nb_regions++] = (struct region){ va, len, iova_off };
}

/* A DPDK-like mix: runs of 2 MiB memsegs (direct entries), a slot split in
 * 256 KiB regions, 4 KiB-aligned regions straddling slots, unaligned byte
 * ranges and odd IOVA - VA deltas (nodes), regions alone in their 1 GiB of
 * address space (their leaves are published and retired at every update),
 * one of them across a 1 GiB boundary, and regions above the table (far
 * node).
 */
static void
build_layout(void)
{
	const uintptr_t B = UINT64_C(0x100000000), GIB = (uintptr_t)1 << 30;
	uintptr_t va = B;
	unsigned int i, j;

	for (i = 0; i < 16; i++) {
		size_t len = MB(2) * (1 + i % 4);

		add_region(va, len, 0);
		va += len + ((i % 3 == 0) ? MB(2) * (1 + i % 2) : 0);
	}
	va = B + MB(256);
	for (i = 0; i < 8; i++)
		add_region(va + KB(256) * i, KB(256), KB(4) * i);
	va = B + MB(300) + MB(1);
	for (i = 0; i < 4; i++)
		add_region(va + MB(4) * i, MB(1) + KB(512), KB(8));
	va = B + MB(400);
	for (i = 0; i < 4; i++)
		add_region(va + MB(2) * i + 0x123 + i, 0x5000 + 777 * i, 0x455 + i);
	add_region(B + MB(450), MB(2), 1);
	add_region(B + MB(454), MB(4), 3);
	add_region(B + 2 * GIB + MB(6), MB(2), 0);
	add_region(B + 4 * GIB - MB(1), MB(2), KB(4));
	add_region(B + 5 * GIB + KB(4), KB(12), 0x100);
#if RTE_IOVA_CACHE_VA_BITS < 64 && defined(RTE_ARCH_64)
	{
		const uintptr_t END = (uintptr_t)1 << RTE_IOVA_CACHE_VA_BITS;

		add_region(END - MB(1), MB(2), 0);
		add_region(END + MB(64), MB(2), 0);
		add_region(END + MB(70) + 9, KB(100), 0x11);
	}
#endif
	/* Holes: the bytes around every region that no region covers, plus
	 * the middle of the gaps.
	 */
	for (i = 0; i < nb_regions; i++) {
		uintptr_t cand[3] = { regions[i].va - 1, regions[i].va + regions[i].len,
				regions[i].va + regions[i].len + KB(100) };

		/* one place left for the hole below */
		for (j = 0; j < 3 && nb_holes < MAX_HOLES - 1; j++) {
			unsigned int k;
			bool covered = false;

			for (k = 0; k < nb_regions; k++)
				if (cand[j] - regions[k].va < regions[k].len)
					covered = true;
			if (!covered)
				holes[nb_holes++] = cand[j];
		}
	}
	/* and a GiB in which no region ever lies: no leaf */
	holes[nb_holes++] = B + 7 * GIB + 12345;
}

static void
report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
report(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&report_lock);
	if (reports++ < MAX_REPORTS) {
		printf("# FAIL: ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
		fflush(stdout);
	}
	pthread_mutex_unlock(&report_lock);
}

/* Hold the translation for 0 .. delay_max_tsc cycles. */
static inline void
hold(uint64_t *rs)
{
	uint64_t end = rte_rdtsc() + xs(rs) % (delay_max_tsc + 1);

	while (rte_rdtsc() < end)
		rte_pause();
}

static void *
reader(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	struct reader_stats *st = &rstats[id];
	uint64_t rs = (seed * 0x1234567) ^ ((id + 1) * 0x9e3779b97f4a7c15ULL);

	if (rte_iova_cache_reader_register(cache, id) != 0) {
		report("reader %u: register failed", id);
		st->failures++;
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t r = xs(&rs);
		uint64_t g1, g2, v;
		uintptr_t va;
		rte_iova_t x;
		unsigned int i;

		/* The translation of the previous iteration is dead here. */
		rte_iova_cache_quiescent(cache, id);
		st->lookups++;

		if (r % 10 == 0) {
			va = holes[(r >> 8) % nb_holes];
			x = rte_iova_cache_va2iova(cache, (const void *)va);
			st->hole_lookups++;
			if (x != RTE_BAD_IOVA) {
				st->failures++;
				report("reader %u: hole 0x%" PRIxPTR " translated to 0x%" PRIx64,
						id, va, x);
			}
			continue;
		}

		i = (r >> 8) % nb_regions;
		switch ((r >> 20) % 4) {
		case 0: va = regions[i].va; break;
		case 1: va = regions[i].va + regions[i].len - 1; break;
		default: va = regions[i].va + (r >> 24) % regions[i].len; break;
		}

		g1 = __atomic_load_n(&gen[i].v, __ATOMIC_ACQUIRE);
		x = rte_iova_cache_va2iova(cache, (const void *)va);
		hold(&rs);
		/* Orders the lookup's loads before the load of g2: if the
		 * lookup saw the updater's stores, g2 sees the generation the
		 * updater stored before them.
		 */
		rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
		g2 = __atomic_load_n(&gen[i].v, __ATOMIC_RELAXED);
		if (g1 != g2)
			st->raced++;

		if (x == RTE_BAD_IOVA) {
			st->misses++;
			if (g1 == g2 && (g1 & 1) == 0) {
				st->failures++;
				report("reader %u: region %u va 0x%" PRIxPTR " missed while "
						"inserted (gen %" PRIu64 ")", id, i, va, g1);
			}
			continue;
		}
		st->hits++;
		x -= va - regions[i].va; /* iova of the region's first byte */
		v = g2 / 2;
		if (x == iova_of(i, v) || ((g2 & 1) != 0 && x == iova_of(i, v + 1)))
			continue;
		st->failures++;
		if (looks_poisoned(x + (va - regions[i].va)))
			st->poisoned++;
		else
			st->stale++;
		report("reader %u: region %u va 0x%" PRIxPTR ": region iova 0x%" PRIx64
				" but gen %" PRIu64 "..%" PRIu64 " allows only 0x%" PRIx64 "%s",
				id, i, va, x, g1, g2, iova_of(i, v),
				(g2 & 1) != 0 ? " or the next version" : "");
	}
	rte_iova_cache_reader_unregister(cache, id);
	return NULL;
}

static struct reader_stats cstats;

static void *
control(void *arg)
{
	struct reader_stats *st = &cstats;
	uint64_t rs = seed * 0x7f4a7c15;

	RTE_SET_USED(arg);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t r = xs(&rs), g1, g2, v;
		unsigned int i = (r >> 8) % nb_regions;
		uintptr_t va = regions[i].va + (r >> 24) % regions[i].len;
		rte_iova_t x;

		/* a control path translates now and then: do not starve the updaters of
		 * the lock, the readers' stress is the point of this test
		 */
		if (st->lookups++ % 16 == 0)
			usleep(50);
		g1 = __atomic_load_n(&gen[i].v, __ATOMIC_ACQUIRE);
		x = rte_iova_cache_va2iova_locked(cache, (const void *)va);
		g2 = __atomic_load_n(&gen[i].v, __ATOMIC_ACQUIRE);
		if (x == RTE_BAD_IOVA) {
			st->misses++;
			if (g1 == g2 && (g1 & 1) == 0) {
				st->failures++;
				report("control: region %u va 0x%" PRIxPTR " missed while inserted",
						i, va);
			}
			continue;
		}
		st->hits++;
		x -= va - regions[i].va;
		for (v = g1 / 2; v <= (g2 + 1) / 2; v++)
			if (x == iova_of(i, v))
				break;
		if (v <= (g2 + 1) / 2)
			continue;
		st->failures++;
		if (looks_poisoned(x + (va - regions[i].va)))
			st->poisoned++;
		else
			st->stale++;
		report("control: region %u va 0x%" PRIxPTR ": region iova 0x%" PRIx64
				" outside versions %" PRIu64 "..%" PRIu64, i, va, x, g1 / 2,
				(g2 + 1) / 2);
	}
	return NULL;
}

static void *
updater(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	uint64_t rs = (seed * 0xabcdef) ^ ((id + 11) * 0x9e3779b97f4a7c15ULL);

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		/* Updater id owns the regions i with i % NB_UPDATERS == id. */
		unsigned int i = (unsigned int)(xs(&rs) % ((nb_regions + NB_UPDATERS - 1 - id) /
				NB_UPDATERS)) * NB_UPDATERS + id;
		uint64_t g = __atomic_load_n(&gen[i].v, __ATOMIC_RELAXED);
		int ret;

		/* Announce the removal before any store of remove(). */
		__atomic_store_n(&gen[i].v, g + 1, __ATOMIC_RELAXED);
		rte_atomic_thread_fence(__ATOMIC_RELEASE);
		ret = rte_iova_cache_remove(cache, (const void *)regions[i].va, regions[i].len);
		if (ret != 0) {
			__atomic_fetch_add(&updater_errors, 1, __ATOMIC_RELAXED);
			report("updater %u: remove region %u: %d", id, i, ret);
			break;
		}
		/* The memory is "unmapped" here; sometimes leave it so. */
		if (xs(&rs) % 4 == 0)
			sched_yield();
		ret = rte_iova_cache_insert(cache, (const void *)regions[i].va, regions[i].len,
				iova_of(i, g / 2 + 1));
		if (ret != 0) {
			__atomic_fetch_add(&updater_errors, 1, __ATOMIC_RELAXED);
			report("updater %u: insert region %u: %d", id, i, ret);
			break;
		}
		__atomic_store_n(&gen[i].v, g + 2, __ATOMIC_RELEASE);
		updates[id]++;
	}
	return NULL;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct rte_iova_cache_params p = { .name = "stress", .max_readers = NB_READERS };
	double seconds = argc > 1 ? atof(argv[1]) : 4.0;
	pthread_t rt[NB_READERS], ut[NB_UPDATERS], ct;
	struct reader_stats tot = { 0 };
	uint64_t t0, c0, total_updates = 0;
	struct tap t = { 0 };
	unsigned int i;
	int ret = 0;

#ifdef IOVA_CACHE_TEST_BREAK_RECLAIM
	tap_diag("BROKEN RECLAMATION BUILD: remove() does not wait for readers and "
			"nodes are freed at once; this run is expected to FAIL");
#endif
	if (argc > 2)
		seed = strtoull(argv[2], NULL, 0);
	tap_diag("seed 0x%" PRIx64, seed);
	build_layout();

	/* Calibrate the hold time: up to ~2 us. */
	t0 = now_ns();
	c0 = rte_rdtsc();
	while (now_ns() - t0 < 20000000)
		;
	delay_max_tsc = (rte_rdtsc() - c0) / 10000; /* cycles per 2 us */

	cache = rte_iova_cache_create(&p);
	if (!tap_check(&t, cache != NULL, "create cache"))
		return tap_done(&t);
	for (i = 0; i < nb_regions; i++)
		if (rte_iova_cache_insert(cache, (const void *)regions[i].va, regions[i].len,
				iova_of(i, 0)) != 0)
			break;
	if (!tap_check(&t, i == nb_regions, "insert %u regions (%u holes probed)",
			nb_regions, nb_holes))
		return tap_done(&t);

	tap_diag("%d readers, %d updaters on %ld CPUs, %.1f s, hold up to %" PRIu64 " cycles",
			NB_READERS, NB_UPDATERS, sysconf(_SC_NPROCESSORS_ONLN), seconds,
			delay_max_tsc);
	for (i = 0; i < NB_READERS; i++)
		ret |= pthread_create(&rt[i], NULL, reader, (void *)(uintptr_t)i);
	for (i = 0; i < NB_UPDATERS; i++)
		ret |= pthread_create(&ut[i], NULL, updater, (void *)(uintptr_t)i);
	ret |= pthread_create(&ct, NULL, control, NULL);
	if (!tap_check(&t, ret == 0, "start threads"))
		return tap_done(&t);

	t0 = now_ns();
	while (now_ns() - t0 < (uint64_t)(seconds * 1e9)) {
		usleep(10000);
		/* Stop early once broken behaviour has been shown well enough. */
		if (__atomic_load_n(&reports, __ATOMIC_RELAXED) >= 1000)
			break;
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < NB_UPDATERS; i++) {
		pthread_join(ut[i], NULL);
		total_updates += updates[i];
	}
	pthread_join(ct, NULL);
	for (i = 0; i < NB_READERS; i++) {
		pthread_join(rt[i], NULL);
		tot.lookups += rstats[i].lookups;
		tot.hits += rstats[i].hits;
		tot.misses += rstats[i].misses;
		tot.hole_lookups += rstats[i].hole_lookups;
		tot.raced += rstats[i].raced;
		tot.failures += rstats[i].failures;
		tot.stale += rstats[i].stale;
		tot.poisoned += rstats[i].poisoned;
	}
	tap_diag("%" PRIu64 " lookups (%" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
			" holes), %" PRIu64 " raced with an update, %" PRIu64
			" remove+insert cycles in %.2f s",
			tot.lookups, tot.hits, tot.misses, tot.hole_lookups, tot.raced,
			total_updates, (now_ns() - t0) / 1e9);

	tap_check(&t, updater_errors == 0, "updaters: every remove and insert succeeded");
	tap_check(&t, tot.failures == 0,
			"readers: every translation belonged to a live mapping "
			"(%" PRIu64 " violations: %" PRIu64 " stale versions, %" PRIu64
			" read from freed nodes, %" PRIu64 " other)", tot.failures, tot.stale,
			tot.poisoned, tot.failures - tot.stale - tot.poisoned);
	tap_check(&t, cstats.failures == 0 && cstats.hits > 100,
			"control thread (va2iova_locked, not a reader): %" PRIu64 " lookups, %"
			PRIu64 " hits, %" PRIu64 " violations", cstats.lookups, cstats.hits,
			cstats.failures);
	tap_check(&t, tot.hits > 1000 && total_updates > 100 && tot.raced > 100,
			"enough concurrency to mean something");
	for (i = 0; i < nb_regions; i++)
		if (rte_iova_cache_va2iova(cache, (const void *)regions[i].va) !=
				iova_of(i, gen[i].v / 2))
			break;
	tap_check(&t, i == nb_regions, "final state: every region at its last version");
	/* the regions alone in their GiB took their leaves with them, and
	 * readers kept looking them up
	 */
	tap_check(&t, iova_cache_dump_figure(cache, "leaf") > 100,
			"empty leaves retired during the run: %ld",
			iova_cache_dump_figure(cache, "leaf"));
	rte_iova_cache_dump(stderr, cache);
	rte_iova_cache_free(cache);
	return tap_done(&t);
}
