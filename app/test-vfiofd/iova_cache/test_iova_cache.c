/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-threaded correctness test of the IOVA cache (rte_iova_cache.h):
 * boundaries, overlaps, adjacency, exact-range removal, re-insertion,
 * sub-2 MiB, unaligned and odd-delta regions, addresses above the table,
 * leaves coming and going, reader registration, iova2va, thousands of random
 * regions checked against a simple oracle, and the memory cost of a cache in
 * a process that calls mlockall() (as testpmd does). One helper thread plays
 * a reader that stays online without reporting quiescent states, for
 * rte_iova_cache_remove_nowait() and the refused free. The cache never
 * dereferences the addresses it translates, so the test uses synthetic
 * addresses and needs no EAL.
 *
 * Usage: test_iova_cache [seed]
 */

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "rte_iova_cache.h"
#include "../tap.h"
#include "iova_cache_dump.h"

#define MB(x) ((uintptr_t)(x) << 20)
#define KB(x) ((uintptr_t)(x) << 10)
#define P(x) ((const void *)(uintptr_t)(x))

static struct tap t;

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t
rnd_below(uint64_t n)
{
	return rnd() % n;
}

static rte_iova_t
tr(struct rte_iova_cache *c, uintptr_t va)
{
	return rte_iova_cache_va2iova(c, P(va));
}

static struct rte_iova_cache *
mk(const char *name)
{
	struct rte_iova_cache_params p = { .name = name, .max_readers = 4 };
	struct rte_iova_cache *c = rte_iova_cache_create(&p);

	if (c == NULL) {
		tap_diag("rte_iova_cache_create(%s): %s", name, rte_strerror(rte_errno));
		exit(tap_done(&t) | 1);
	}
	return c;
}

/* Check translations of the first/last byte and the neighbours of a region
 * whose neighbours are known to be unmapped (before/after may be false
 * when a neighbour region is adjacent).
 */
static void
check_region(struct rte_iova_cache *c, const char *what, uintptr_t va,
		size_t len, rte_iova_t iova, bool before_unmapped, bool after_unmapped)
{
	tap_check(&t, tr(c, va) == iova, "%s: first byte", what);
	tap_check(&t, tr(c, va + len - 1) == iova + len - 1, "%s: last byte", what);
	tap_check(&t, tr(c, va + len / 2) == iova + len / 2, "%s: middle", what);
	if (before_unmapped)
		tap_check(&t, tr(c, va - 1) == RTE_BAD_IOVA, "%s: byte before is a miss", what);
	if (after_unmapped)
		tap_check(&t, tr(c, va + len) == RTE_BAD_IOVA, "%s: byte after is a miss", what);
}

static void
test_args(void)
{
	struct rte_iova_cache_params p = { .name = "args", .max_readers = 0 };
	struct rte_iova_cache *c;

	tap_check(&t, rte_iova_cache_create(NULL) == NULL && rte_errno == EINVAL,
			"create(NULL) fails with EINVAL");
	c = rte_iova_cache_create(&p);
	tap_check(&t, c != NULL, "create with max_readers 0 (default)");
	if (c == NULL)
		return;
	tap_check(&t, rte_iova_cache_insert(c, NULL, MB(2), 0) == -EINVAL, "insert NULL va");
	tap_check(&t, rte_iova_cache_insert(c, P(MB(2)), 0, 0) == -EINVAL, "insert len 0");
	tap_check(&t, rte_iova_cache_insert(c, P(UINTPTR_MAX - 10), 11, 0) == -EINVAL,
			"insert wrapping va range");
	tap_check(&t, rte_iova_cache_insert(c, P(MB(2)), MB(2), RTE_BAD_IOVA) == -EINVAL,
			"insert iova RTE_BAD_IOVA");
	tap_check(&t, rte_iova_cache_insert(c, P(MB(2)), MB(2), RTE_BAD_IOVA - MB(1)) == -EINVAL,
			"insert wrapping iova range");
	tap_check(&t, rte_iova_cache_insert(c, P(MB(2)), MB(2), RTE_BAD_IOVA - MB(2)) == 0,
			"insert iova range ending just below RTE_BAD_IOVA");
	tap_check(&t, tr(c, MB(4) - 1) == RTE_BAD_IOVA - 1, "its last byte translates");
	tap_check(&t, rte_iova_cache_remove(c, NULL, 1) == -EINVAL, "remove NULL va");
	tap_check(&t, rte_iova_cache_remove(c, P(MB(2)), 0) == -EINVAL, "remove len 0");
	tap_check(&t, tr(c, 0) == RTE_BAD_IOVA, "address 0 misses");
	tap_check(&t, tr(c, UINTPTR_MAX) == RTE_BAD_IOVA, "address UINTPTR_MAX misses");
	rte_iova_cache_free(c);
	rte_iova_cache_free(NULL);
}

static void
test_basic(void)
{
	struct rte_iova_cache *c = mk("basic");
	const uintptr_t A = UINT64_C(0x100000000);
	const rte_iova_t IA = UINT64_C(0x80000000);
	const rte_iova_t IB = UINT64_C(0x3c0000000);

	tap_check(&t, tr(c, A) == RTE_BAD_IOVA, "empty cache misses");
	tap_check(&t, rte_iova_cache_insert(c, P(A), MB(4), IA) == 0, "insert 4 MiB at 4 GiB");
	check_region(c, "4 MiB region", A, MB(4), IA, true, true);
	tap_check(&t, rte_iova_cache_count(c) == 1, "count is 1");

	/* Overlaps are refused and leave the cache unchanged. */
	tap_check(&t, rte_iova_cache_insert(c, P(A), MB(4), IB) == -EEXIST, "same range refused");
	tap_check(&t, rte_iova_cache_insert(c, P(A - MB(2)), MB(2) + 1, IB) == -EEXIST,
			"overlap by one byte at the start refused");
	tap_check(&t, rte_iova_cache_insert(c, P(A + MB(4) - 1), MB(2), IB) == -EEXIST,
			"overlap by one byte at the end refused");
	tap_check(&t, rte_iova_cache_insert(c, P(A - MB(2)), MB(8), IB) == -EEXIST,
			"containing range refused");
	tap_check(&t, rte_iova_cache_insert(c, P(A + KB(4)), KB(4), IB) == -EEXIST,
			"contained range refused");
	check_region(c, "after refused overlaps", A, MB(4), IA, true, true);
	tap_check(&t, rte_iova_cache_count(c) == 1, "count still 1");

	/* Adjacent regions on both sides. */
	tap_check(&t, rte_iova_cache_insert(c, P(A + MB(4)), MB(2), IB) == 0,
			"insert adjacent region after");
	tap_check(&t, rte_iova_cache_insert(c, P(A - MB(6)), MB(6), IB + MB(2)) == 0,
			"insert adjacent region before");
	check_region(c, "middle of three", A, MB(4), IA, false, false);
	check_region(c, "after", A + MB(4), MB(2), IB, false, true);
	check_region(c, "before", A - MB(6), MB(6), IB + MB(2), true, false);
	tap_check(&t, tr(c, A - 1) == IB + MB(8) - 1 && tr(c, A + MB(4)) == IB,
			"boundary bytes belong to the right neighbour");

	/* iova2va */
	tap_check(&t, rte_iova_cache_iova2va(c, IA) == P(A), "iova2va first byte");
	tap_check(&t, rte_iova_cache_iova2va(c, IA + MB(4) - 1) == P(A + MB(4) - 1),
			"iova2va last byte");
	tap_check(&t, rte_iova_cache_iova2va(c, IB + MB(1)) == P(A + MB(4) + MB(1)),
			"iova2va other region");
	tap_check(&t, rte_iova_cache_iova2va(c, IA + MB(4)) == NULL, "iova2va unmapped iova");
	tap_check(&t, rte_iova_cache_iova2va(c, RTE_BAD_IOVA) == NULL, "iova2va RTE_BAD_IOVA");

	/* Exact-range removal. */
	tap_check(&t, rte_iova_cache_remove(c, P(A), MB(2)) == -ENOENT, "remove sub-range: ENOENT");
	tap_check(&t, rte_iova_cache_remove(c, P(A), MB(6)) == -ENOENT, "remove longer: ENOENT");
	tap_check(&t, rte_iova_cache_remove(c, P(A + MB(2)), MB(2)) == -ENOENT,
			"remove tail: ENOENT");
	tap_check(&t, rte_iova_cache_remove(c, P(A - MB(6)), MB(10)) == -ENOENT,
			"remove union of two: ENOENT");
	check_region(c, "after refused removals", A, MB(4), IA, false, false);
	tap_check(&t, rte_iova_cache_remove(c, P(A), MB(4)) == 0, "remove exact range");
	tap_check(&t, tr(c, A) == RTE_BAD_IOVA && tr(c, A + MB(4) - 1) == RTE_BAD_IOVA &&
			tr(c, A + MB(2)) == RTE_BAD_IOVA, "removed region misses");
	tap_check(&t, tr(c, A - 1) == IB + MB(8) - 1 && tr(c, A + MB(4)) == IB,
			"neighbours still translate");
	tap_check(&t, rte_iova_cache_remove(c, P(A), MB(4)) == -ENOENT, "remove twice: ENOENT");
	tap_check(&t, rte_iova_cache_iova2va(c, IA) == NULL, "iova2va of removed region");

	/* Re-insert with a different IOVA. */
	tap_check(&t, rte_iova_cache_insert(c, P(A), MB(4), IA + MB(512)) == 0,
			"re-insert with another iova");
	check_region(c, "re-inserted", A, MB(4), IA + MB(512), false, false);
	tap_check(&t, rte_iova_cache_count(c) == 3, "count is 3");
	rte_iova_cache_free(c);
}

static void
test_small(void)
{
	struct rte_iova_cache *c = mk("small");
	const uintptr_t S = UINT64_C(0x7f0000000000); /* 2 MiB aligned */
	int i;

	/* 4 KiB pages in one slot, every other page, identity-like iovas. */
	for (i = 0; i < 512; i += 2)
		if (rte_iova_cache_insert(c, P(S + KB(4) * i), KB(4),
				0x10000000 + KB(8) * i) != 0)
			break;
	tap_check(&t, i == 512, "insert 256 4 KiB regions in one 2 MiB slot");
	for (i = 0; i < 512; i++) {
		rte_iova_t want = (i & 1) ? RTE_BAD_IOVA : 0x10000000 + KB(8) * i;
		rte_iova_t want_end = (i & 1) ? RTE_BAD_IOVA : want + KB(4) - 1;

		if (tr(c, S + KB(4) * i) != want || tr(c, S + KB(4) * i + KB(4) - 1) != want_end)
			break;
	}
	tap_check(&t, i == 512, "4 KiB regions and holes translate at both ends");
	tap_check(&t, rte_iova_cache_insert(c, P(S + KB(4)), KB(4), 0x1234000) == 0,
			"fill a hole between two 4 KiB regions");
	check_region(c, "filled hole", S + KB(4), KB(4), 0x1234000, false, false);
	for (i = 0; i < 512; i += 2)
		if (rte_iova_cache_remove(c, P(S + KB(4) * i), KB(4)) != 0)
			break;
	tap_check(&t, i == 512, "remove the 256 4 KiB regions");
	check_region(c, "last 4 KiB region left", S + KB(4), KB(4), 0x1234000, true, true);
	tap_check(&t, rte_iova_cache_remove(c, P(S + KB(4)), KB(4)) == 0, "remove it");
	tap_check(&t, tr(c, S + KB(4)) == RTE_BAD_IOVA, "slot empty again");

	/* Many 4 KiB pieces in a slot (page-table node) mixed with pieces
	 * that must keep it off: an unaligned end, an odd delta.
	 */
	{
		const uintptr_t T = S + MB(90);
		bool ok = true;

		for (i = 0; i < 10; i++)
			ok &= rte_iova_cache_insert(c, P(T + KB(8) * i), KB(4),
					0x20000000 + KB(4) * i) == 0;
		tap_check(&t, ok, "insert 10 4 KiB regions in one slot");
		for (i = 0; i < 10; i++)
			ok &= tr(c, T + KB(8) * i + 5) == 0x20000000 + KB(4) * i + 5 &&
				tr(c, T + KB(8) * i + KB(4)) == RTE_BAD_IOVA;
		tap_check(&t, ok, "10 4 KiB regions and the holes between them");
		tap_check(&t, rte_iova_cache_insert(c, P(T + KB(80)), 100, 0x30000000) == 0,
				"add a 100-byte piece");
		check_region(c, "100 bytes among pages", T + KB(80), 100, 0x30000000, true, true);
		tap_check(&t, tr(c, T + KB(84) - 1) == RTE_BAD_IOVA, "rest of its page misses");
		tap_check(&t, rte_iova_cache_remove(c, P(T + KB(80)), 100) == 0,
				"remove the 100-byte piece");
		tap_check(&t, rte_iova_cache_insert(c, P(T + KB(88)), KB(4), 0x30000001) == 0,
				"add an odd-delta 4 KiB piece");
		check_region(c, "odd delta among pages", T + KB(88), KB(4), 0x30000001, true, true);
		tap_check(&t, tr(c, T + KB(72) + 7) == 0x20000000 + KB(36) + 7,
				"4 KiB pieces still translate");
		tap_check(&t, rte_iova_cache_remove(c, P(T + KB(88)), KB(4)) == 0,
				"remove the odd-delta piece");
		for (i = 0; i < 10; i++)
			ok &= tr(c, T + KB(8) * i + KB(4) - 1) == 0x20000000 + KB(4) * i + KB(4) - 1 &&
				tr(c, T + KB(8) * i - 1) == RTE_BAD_IOVA;
		tap_check(&t, ok && tr(c, T + KB(80)) == RTE_BAD_IOVA && tr(c, T + KB(88)) == RTE_BAD_IOVA,
				"page-table node after removals");
		for (i = 0; i < 10; i++)
			ok &= rte_iova_cache_remove(c, P(T + KB(8) * i), KB(4)) == 0;
		tap_check(&t, ok && tr(c, T) == RTE_BAD_IOVA, "remove the 10 4 KiB regions");
	}

	/* Unaligned byte ranges, sharing a slot and straddling slots. */
	tap_check(&t, rte_iova_cache_insert(c, P(S + 0x123), 77, 0xabc001) == 0,
			"insert 77 bytes at an odd offset, odd iova");
	check_region(c, "77-byte region", S + 0x123, 77, 0xabc001, true, true);
	tap_check(&t, rte_iova_cache_insert(c, P(S + 0x123 + 77), 1, 0x555) == 0,
			"insert 1 adjacent byte");
	tap_check(&t, tr(c, S + 0x123 + 77) == 0x555 && tr(c, S + 0x123 + 78) == RTE_BAD_IOVA &&
			tr(c, S + 0x123 + 76) == 0xabc001 + 76, "1-byte region and neighbours");
	tap_check(&t, rte_iova_cache_insert(c, P(S + MB(1) + 3), MB(5), 0x40000000) == 0,
			"insert 5 MiB at 1 MiB + 3 (four slots, partial ends)");
	check_region(c, "5 MiB unaligned", S + MB(1) + 3, MB(5), 0x40000000, true, true);
	for (i = 0; i < 5; i++)
		if (tr(c, S + MB(1) + 3 + MB(i)) != 0x40000000 + MB(i))
			break;
	tap_check(&t, i == 5, "5 MiB unaligned: every MiB");
	tap_check(&t, tr(c, S + 0x123) == 0xabc001, "first small region unaffected");

	/* Odd IOVA - VA delta over whole slots (stored in nodes). */
	tap_check(&t, rte_iova_cache_insert(c, P(S + MB(64)), MB(6), 0x7777777) == 0,
			"insert 6 MiB aligned region with odd iova");
	check_region(c, "odd delta", S + MB(64), MB(6), 0x7777777, true, true);
	tap_check(&t, tr(c, S + MB(66)) == 0x7777777 + MB(2), "odd delta: slot boundary");

	/* Aligned region next to a partial one in its first slot. */
	tap_check(&t, rte_iova_cache_insert(c, P(S + MB(70)), MB(1), 0x90000000) == 0 &&
			rte_iova_cache_insert(c, P(S + MB(71)), MB(3), 0xa0000000) == 0,
			"insert 1 MiB + adjacent 3 MiB");
	check_region(c, "1 MiB", S + MB(70), MB(1), 0x90000000, false, false);
	check_region(c, "3 MiB after 1 MiB", S + MB(71), MB(3), 0xa0000000, false, true);

	/* Last byte is the first byte of a slot; a 1-byte region at a slot start. */
	tap_check(&t, rte_iova_cache_insert(c, P(S + MB(80) - 10), 11, 0xc0000) == 0 &&
			rte_iova_cache_insert(c, P(S + MB(82)), 1, 0xd0000) == 0,
			"insert regions ending on the first byte of a slot");
	check_region(c, "ends on a slot start", S + MB(80) - 10, 11, 0xc0000, true, true);
	check_region(c, "1 byte at a slot start", S + MB(82), 1, 0xd0000, true, true);

	tap_check(&t, rte_iova_cache_remove(c, P(S + MB(1) + 3), MB(5)) == 0,
			"remove 5 MiB unaligned");
	tap_check(&t, tr(c, S + MB(1) + 3) == RTE_BAD_IOVA && tr(c, S + MB(3)) == RTE_BAD_IOVA &&
			tr(c, S + MB(6) + 2) == RTE_BAD_IOVA, "removed unaligned region misses");
	tap_check(&t, tr(c, S + 0x123 + 10) == 0xabc001 + 10 && tr(c, S + 0x123 + 77) == 0x555,
			"regions sharing its first slot survive");
	tap_check(&t, rte_iova_cache_iova2va(c, 0x555) == P(S + 0x123 + 77), "iova2va 1-byte region");
	tap_check(&t, rte_iova_cache_remove(c, P(S + MB(64)), MB(6)) == 0 &&
			tr(c, S + MB(64)) == RTE_BAD_IOVA, "remove odd-delta region");
	rte_iova_cache_free(c); /* with live nodes: must not leak or crash */
}

static void
test_far(void)
{
#if RTE_IOVA_CACHE_VA_BITS < 64 && defined(RTE_ARCH_64)
	struct rte_iova_cache *c = mk("far");
	const uintptr_t END = (uintptr_t)1 << RTE_IOVA_CACHE_VA_BITS;

	tap_check(&t, rte_iova_cache_insert(c, P(END - MB(2)), MB(4), 0x200000) == 0,
			"insert 4 MiB straddling the end of the table");
	check_region(c, "straddling", END - MB(2), MB(4), 0x200000, true, true);
	tap_check(&t, tr(c, END - 1) == 0x200000 + MB(2) - 1 && tr(c, END) == 0x200000 + MB(2),
			"straddling: both sides of the table end");
	tap_check(&t, rte_iova_cache_insert(c, P(END + MB(64)), MB(2), 0x800000) == 0 &&
			rte_iova_cache_insert(c, P(END + MB(70) + 5), 100, 0x900005) == 0,
			"insert two regions above the table");
	check_region(c, "far aligned", END + MB(64), MB(2), 0x800000, true, true);
	check_region(c, "far unaligned", END + MB(70) + 5, 100, 0x900005, true, true);
	tap_check(&t, rte_iova_cache_insert(c, P(END + MB(65)), MB(2), 0) == -EEXIST,
			"far overlap refused");
	tap_check(&t, rte_iova_cache_remove(c, P(END - MB(2)), MB(4)) == 0,
			"remove straddling region");
	tap_check(&t, tr(c, END - 1) == RTE_BAD_IOVA && tr(c, END) == RTE_BAD_IOVA,
			"straddling region gone on both sides");
	check_region(c, "far aligned after removal", END + MB(64), MB(2), 0x800000, true, true);
	tap_check(&t, rte_iova_cache_remove(c, P(END + MB(64)), MB(2)) == 0 &&
			rte_iova_cache_remove(c, P(END + MB(70) + 5), 100) == 0 &&
			tr(c, END + MB(70) + 5) == RTE_BAD_IOVA, "remove far regions");
	{
		/* Many 4 KiB pieces above the table, one per 2 MiB: the far node
		 * spans many slots and must not use a per-slot page table.
		 */
		bool ok = true;
		int i;

		for (i = 0; i < 12; i++)
			ok &= rte_iova_cache_insert(c, P(END + MB(2) * i), KB(4),
					0x40000000 + KB(4) * i) == 0;
		for (i = 0; i < 12; i++)
			ok &= tr(c, END + MB(2) * i + 9) == 0x40000000 + KB(4) * i + 9 &&
				tr(c, END + MB(2) * i + KB(4)) == RTE_BAD_IOVA;
		tap_check(&t, ok, "12 far 4 KiB regions in different slots");
		for (i = 0; i < 12; i++)
			ok &= rte_iova_cache_remove(c, P(END + MB(2) * i), KB(4)) == 0;
		tap_check(&t, ok && tr(c, END) == RTE_BAD_IOVA, "remove them");
	}
	rte_iova_cache_free(c);
#else
	tap_diag("no addresses above the table on this architecture");
#endif
}

/* Leaves: one per GiB of address space holding regions, shared by the
 * regions of that GiB, freed with the last of them (at once: no reader).
 */
static void
test_leaves(void)
{
	struct rte_iova_cache *c = mk("leaves");
	const uintptr_t G = (uintptr_t)1 << 30;

	tap_check(&t, iova_cache_dump_figure(c, "leaves") == 0, "empty cache: no leaf");
	tap_check(&t, rte_iova_cache_insert(c, P(5 * G - MB(2)), MB(4), 0x40000000) == 0,
			"insert 4 MiB across a GiB boundary");
	tap_check(&t, iova_cache_dump_figure(c, "leaves") == 2, "two leaves");
	check_region(c, "across a GiB", 5 * G - MB(2), MB(4), 0x40000000, true, true);
	tap_check(&t, tr(c, 5 * G - 1) == 0x40000000 + MB(2) - 1 &&
			tr(c, 5 * G) == 0x40000000 + MB(2), "both sides of the GiB boundary");
	tap_check(&t, rte_iova_cache_insert(c, P(16 * G), 3 * G, 0x100000000) == 0,
			"insert 3 GiB at 16 GiB");
	tap_check(&t, iova_cache_dump_figure(c, "leaves") == 5, "five leaves");
	check_region(c, "3 GiB", 16 * G, 3 * G, 0x100000000, true, true);
	tap_check(&t, tr(c, 17 * G) == 0x100000000 + G &&
			tr(c, 18 * G - 1) == 0x100000000 + 2 * G - 1, "3 GiB: its inner GiB boundaries");
	tap_check(&t, rte_iova_cache_insert(c, P(40 * G + MB(3)), KB(4), 0x5000) == 0 &&
			rte_iova_cache_insert(c, P(40 * G + G - MB(2)), MB(2), 0x600000) == 0,
			"insert 4 KiB and 2 MiB in another GiB");
	tap_check(&t, iova_cache_dump_figure(c, "leaves") == 6, "they share one leaf");
	tap_check(&t, tr(c, 41 * G) == RTE_BAD_IOVA && tr(c, 39 * G) == RTE_BAD_IOVA &&
			tr(c, 40 * G) == RTE_BAD_IOVA && tr(c, 100 * G + 5) == RTE_BAD_IOVA,
			"misses in empty GiBs and in empty slots of a leaf");
	tap_check(&t, rte_iova_cache_remove(c, P(40 * G + MB(3)), KB(4)) == 0 &&
			iova_cache_dump_figure(c, "leaves") == 6 &&
			tr(c, 40 * G + G - 1) == 0x600000 + MB(2) - 1,
			"removing one of them keeps the leaf");
	tap_check(&t, rte_iova_cache_remove(c, P(40 * G + G - MB(2)), MB(2)) == 0 &&
			iova_cache_dump_figure(c, "leaves") == 5 &&
			tr(c, 41 * G - 1) == RTE_BAD_IOVA, "removing the other frees it");
	tap_check(&t, rte_iova_cache_remove(c, P(5 * G - MB(2)), MB(4)) == 0 &&
			iova_cache_dump_figure(c, "leaves") == 3 && tr(c, 5 * G) == RTE_BAD_IOVA &&
			tr(c, 5 * G - 1) == RTE_BAD_IOVA, "remove the 4 MiB: its two leaves freed");
	tap_check(&t, rte_iova_cache_insert(c, P(5 * G - MB(2)), MB(4), 0x80000000) == 0 &&
			tr(c, 5 * G) == 0x80000000 + MB(2) &&
			iova_cache_dump_figure(c, "leaves") == 5, "insert it again: new leaves");
	tap_check(&t, rte_iova_cache_remove(c, P(16 * G), 3 * G) == 0 &&
			rte_iova_cache_remove(c, P(5 * G - MB(2)), MB(4)) == 0 &&
			iova_cache_dump_figure(c, "leaves") == 0 &&
			iova_cache_dump_figure(c, "nodes") == 0 &&
			iova_cache_dump_figure(c, "leaf") == 8,
			"remove all: no leaf, no node left, eight leaf retirements");
	rte_iova_cache_free(c);
}

/* A reader that registers, stays online holding no quiescent state, and
 * unregisters when told (a byte on the pipe). */
struct stuck_reader {
	struct rte_iova_cache *c;
	int go[2], done[2];
};

static void *
stuck_reader_main(void *arg)
{
	struct stuck_reader *r = arg;
	char b = 0;
	int ret = rte_iova_cache_reader_register(r->c, 2);

	if (write(r->done[1], &ret, sizeof(ret)) != sizeof(ret) ||
	    read(r->go[0], &b, 1) != 1)
		return NULL;
	rte_iova_cache_reader_unregister(r->c, 2);
	return NULL;
}

/*
 * remove_nowait() returns while an online reader reports nothing (remove()
 * would wait for it), the translation is gone at once and a neighbour in the
 * same slot still translates; free() is refused while a reader is registered.
 */
static void
test_nowait(void)
{
	struct stuck_reader r = { .c = mk("nowait") };
	pthread_t th;
	int reg = -1;

	if (pipe(r.go) != 0 || pipe(r.done) != 0 ||
	    pthread_create(&th, NULL, stuck_reader_main, &r) != 0) {
		tap_check(&t, false, "nowait: helper thread");
		return;
	}
	tap_check(&t, read(r.done[0], &reg, sizeof(reg)) == sizeof(reg) && reg == 0,
			"nowait: a second thread registers as reader 2");
	tap_check(&t, rte_iova_cache_readers(r.c) == 1, "nowait: one reader registered");
	/* two regions sharing one 2 MiB slot: the slot's node is replaced and retired */
	tap_check(&t, rte_iova_cache_insert(r.c, P(MB(8)), KB(64), MB(100)) == 0 &&
			rte_iova_cache_insert(r.c, P(MB(8) + KB(64)), KB(64), MB(200)) == 0,
			"nowait: two regions in one slot");
	tap_check(&t, rte_iova_cache_remove_nowait(r.c, P(MB(8)), KB(64)) == 0,
			"nowait: remove_nowait returns while reader 2 reports no quiescent state");
	tap_check(&t, tr(r.c, MB(8)) == RTE_BAD_IOVA && tr(r.c, MB(8) + KB(64)) == MB(200),
			"nowait: the removed region misses, its neighbour translates");
	tap_check(&t, rte_iova_cache_remove_nowait(r.c, P(MB(8)), KB(64)) == -ENOENT,
			"nowait: removing it again: -ENOENT");
	tap_check(&t, rte_iova_cache_free(r.c) == -EBUSY,
			"nowait: free refused (-EBUSY) while a reader is registered");
	tap_check(&t, tr(r.c, MB(8) + KB(64)) == MB(200), "nowait: the refused free freed nothing");
	if (write(r.go[1], "x", 1) != 1)
		tap_diag("nowait: cannot release the helper thread");
	pthread_join(th, NULL);
	tap_check(&t, rte_iova_cache_readers(r.c) == 0, "nowait: no reader after unregister");
	tap_check(&t, rte_iova_cache_free(r.c) == 0, "nowait: free once the reader is gone");
	close(r.go[0]);
	close(r.go[1]);
	close(r.done[0]);
	close(r.done[1]);
}

static void
test_readers(void)
{
	struct rte_iova_cache *c = mk("readers");

	tap_check(&t, rte_iova_cache_reader_register(c, 4) == -EINVAL, "register id >= max");
	tap_check(&t, rte_iova_cache_reader_register(c, 1) == 0, "register id 1");
	tap_check(&t, rte_iova_cache_reader_register(c, 1) == -EEXIST, "register id 1 again");
	tap_check(&t, rte_iova_cache_insert(c, P(MB(64)), MB(2), MB(2)) == 0,
			"insert from a registered reader");
	rte_iova_cache_quiescent(c, 1);
	tap_check(&t, tr(c, MB(65)) == MB(3), "registered reader translates");
	/* Would deadlock if remove waited for the calling reader itself. */
	tap_check(&t, rte_iova_cache_remove(c, P(MB(64)), MB(2)) == 0,
			"remove from an online registered reader returns");
	rte_iova_cache_reader_offline(c, 1);
	tap_check(&t, rte_iova_cache_insert(c, P(MB(64)), MB(2), MB(2)) == 0 &&
			rte_iova_cache_remove(c, P(MB(64)), MB(2)) == 0,
			"remove from an offline registered reader returns");
	rte_iova_cache_reader_online(c, 1);
	tap_check(&t, rte_iova_cache_reader_unregister(c, 1) == 0, "unregister id 1");
	tap_check(&t, rte_iova_cache_reader_unregister(c, 1) == -EINVAL, "unregister id 1 again");
	tap_check(&t, rte_iova_cache_reader_register(c, 1) == 0 &&
			rte_iova_cache_reader_unregister(c, 1) == 0, "register again after unregister");
	rte_iova_cache_free(c);
}

/* ---- random regions against an oracle ---- */

struct oregion {
	uintptr_t va;
	size_t len;
	rte_iova_t iova;
};

#define NB_MAX 8192
static struct oregion oracle[NB_MAX];
static size_t nb_oracle;

static size_t
oracle_find(uintptr_t va) /* index of the region containing va, or SIZE_MAX */
{
	size_t lo = 0, hi = nb_oracle;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (oracle[mid].va <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || va - oracle[lo - 1].va >= oracle[lo - 1].len)
		return SIZE_MAX;
	return lo - 1;
}

static bool
oracle_overlaps(uintptr_t va, size_t len)
{
	size_t i;

	for (i = 0; i < nb_oracle; i++)
		if (va < oracle[i].va + oracle[i].len && oracle[i].va < va + len)
			return true;
	return false;
}

static void
oracle_add(uintptr_t va, size_t len, rte_iova_t iova)
{
	size_t i = nb_oracle;

	while (i > 0 && oracle[i - 1].va > va) {
		oracle[i] = oracle[i - 1];
		i--;
	}
	oracle[i] = (struct oregion){ va, len, iova };
	nb_oracle++;
}

static void
oracle_del(size_t i)
{
	memmove(&oracle[i], &oracle[i + 1], (nb_oracle - i - 1) * sizeof(oracle[0]));
	nb_oracle--;
}

static rte_iova_t
oracle_tr(uintptr_t va)
{
	size_t i = oracle_find(va);

	return i == SIZE_MAX ? RTE_BAD_IOVA : oracle[i].iova + (va - oracle[i].va);
}

/* Random region in an arena of 64 GiB at 8 GiB, DPDK-like most of the time. */
static void
random_region(uintptr_t *va, size_t *len, rte_iova_t *iova)
{
	const uintptr_t base = UINT64_C(0x200000000);
	uint64_t kind = rnd_below(100);

	if (kind < 60) { /* 2 MiB memsegs, 1..8 of them */
		*va = base + MB(2) * rnd_below(32768);
		*len = MB(2) * (1 + rnd_below(8));
		*iova = MB(2) * rnd_below(1 << 20);
	} else if (kind < 85) { /* 4 KiB pages, 1..1024 */
		*va = base + KB(4) * rnd_below(1 << 24);
		*len = KB(4) * (1 + rnd_below(1024));
		*iova = KB(4) * rnd_below(1 << 28);
	} else { /* arbitrary bytes */
		*va = base + rnd_below(UINT64_C(1) << 36);
		*len = 1 + rnd_below(MB(5));
		*iova = 1 + rnd_below(UINT64_C(1) << 40);
	}
}

static uintptr_t
probe_addr(void)
{
	/* Mostly near region boundaries, where mistakes show. */
	if (nb_oracle > 0 && rnd_below(2) == 0) {
		const struct oregion *r = &oracle[rnd_below(nb_oracle)];

		switch (rnd_below(6)) {
		case 0: return r->va;
		case 1: return r->va - 1;
		case 2: return r->va + r->len - 1;
		case 3: return r->va + r->len;
		case 4: return (r->va + r->len) & ~(MB(2) - 1); /* slot start */
		default: return r->va + rnd_below(r->len);
		}
	}
	return UINT64_C(0x200000000) - MB(4) + rnd_below((UINT64_C(1) << 36) + MB(8));
}

static unsigned long
verify_all(struct rte_iova_cache *c, unsigned long nprobes)
{
	unsigned long bad = 0, i;
	size_t k;

	for (k = 0; k < nb_oracle; k++) {
		const struct oregion *r = &oracle[k];
		uintptr_t edges[4] = { r->va, r->va + r->len - 1, r->va - 1, r->va + r->len };
		int e;

		for (e = 0; e < 4; e++) {
			if (tr(c, edges[e]) != oracle_tr(edges[e])) {
				if (bad++ < 5)
					tap_diag("va 0x%" PRIxPTR ": got 0x%" PRIx64 " want 0x%" PRIx64,
							edges[e], tr(c, edges[e]), oracle_tr(edges[e]));
			}
		}
	}
	for (i = 0; i < nprobes; i++) {
		uintptr_t va = probe_addr();

		if (tr(c, va) != oracle_tr(va)) {
			if (bad++ < 5)
				tap_diag("va 0x%" PRIxPTR ": got 0x%" PRIx64 " want 0x%" PRIx64,
						va, tr(c, va), oracle_tr(va));
		}
	}
	return bad;
}

static void
test_random(void)
{
	struct rte_iova_cache *c = mk("random");
	unsigned long ins_bad = 0, rm_bad = 0, i2v_bad = 0, locked_bad = 0;
	unsigned int round;
	size_t k;

	nb_oracle = 0;
	for (round = 0; round < 3; round++) {
		unsigned long tries = 0;

		/* Fill up to ~4000 regions; every insert must agree with the
		 * oracle about overlaps.
		 */
		while (nb_oracle < 4000 && tries++ < 100000) {
			uintptr_t va;
			size_t len;
			rte_iova_t iova;
			bool ov;
			int ret;

			random_region(&va, &len, &iova);
			ov = oracle_overlaps(va, len);
			ret = rte_iova_cache_insert(c, P(va), len, iova);
			if (ret != (ov ? -EEXIST : 0)) {
				if (ins_bad++ < 5)
					tap_diag("insert 0x%" PRIxPTR "+%zu: %d, oracle overlap %d",
							va, len, ret, ov);
				continue;
			}
			if (ret == 0)
				oracle_add(va, len, iova);
		}
		tap_check(&t, ins_bad == 0 && nb_oracle >= 4000,
				"round %u: %zu regions inserted, overlaps refused as the oracle says",
				round, nb_oracle);
		tap_check(&t, rte_iova_cache_count(c) == nb_oracle, "round %u: count matches",
				round);
		tap_check(&t, verify_all(c, 300000) == 0,
				"round %u: edges of every region and 300000 probes match the oracle",
				round);

		/* iova2va on a sample (iovas may collide between regions:
		 * check that the result maps back to the same iova).
		 */
		for (k = 0; k < nb_oracle; k += 7) {
			rte_iova_t io = oracle[k].iova + oracle[k].len / 3;
			void *va = rte_iova_cache_iova2va(c, io);

			if (va == NULL || oracle_tr((uintptr_t)va) != io)
				i2v_bad++;
		}
		tap_check(&t, i2v_bad == 0, "round %u: iova2va round-trips", round);

		/* The locked lookup (control paths) answers as the oracle does: first,
		 * middle and last byte of each region, and the byte after it.
		 */
		for (k = 0; k < nb_oracle; k++) {
			const uintptr_t probe[] = { oracle[k].va, oracle[k].va + oracle[k].len / 2,
				oracle[k].va + oracle[k].len - 1, oracle[k].va + oracle[k].len };

			for (size_t j = 0; j < RTE_DIM(probe); j++)
				if (rte_iova_cache_va2iova_locked(c, P(probe[j])) !=
						oracle_tr(probe[j]))
					locked_bad++;
		}
		tap_check(&t, locked_bad == 0, "round %u: va2iova_locked matches the oracle on "
				"%zu regions (%lu mismatches)", round, nb_oracle, locked_bad);

		/* Remove about half, with wrong-length attempts first. */
		for (k = 0; k < nb_oracle;) {
			struct oregion r = oracle[k];

			if (rnd_below(2) == 0) {
				k++;
				continue;
			}
			if (rte_iova_cache_remove(c, P(r.va), r.len + 1) != -ENOENT ||
					(r.len > 1 &&
					 (rte_iova_cache_remove(c, P(r.va), r.len - 1) != -ENOENT ||
					  rte_iova_cache_remove(c, P(r.va + 1), r.len - 1) != -ENOENT)) ||
					rte_iova_cache_remove(c, P(r.va), r.len) != 0) {
				if (rm_bad++ < 5)
					tap_diag("remove 0x%" PRIxPTR "+%zu misbehaved", r.va, r.len);
				k++;
				continue;
			}
			oracle_del(k);
		}
		tap_check(&t, rm_bad == 0, "round %u: exact-range removal of half the regions",
				round);
		tap_check(&t, verify_all(c, 300000) == 0,
				"round %u: after removals, edges and probes match the oracle", round);
	}
	for (k = 0; k < nb_oracle; k++)
		if (rte_iova_cache_remove(c, P(oracle[k].va), oracle[k].len) != 0)
			rm_bad++;
	nb_oracle = 0;
	tap_check(&t, rm_bad == 0 && rte_iova_cache_count(c) == 0, "remove all");
	tap_check(&t, verify_all(c, 100000) == 0, "empty cache misses everywhere");
	rte_iova_cache_free(c);
}

/* ---- memory cost in a locked process ---- */

/* VmRSS and VmLck of this process, in KiB; false if /proc cannot tell. */
static bool
mem_kb(long *rss, long *lck)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	*rss = -1;
	*lck = -1;
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", rss) == 1)
			continue;
		(void)sscanf(line, "VmLck: %ld kB", lck);
	}
	fclose(f);
	return *rss >= 0 && *lck >= 0;
}

/* Fixed part of the bound on the cache's memory, and the part per GiB
 * registered, in KiB (see rte_iova_cache_create()).
 */
#define CACHE_FIXED_KB 4096
#define CACHE_PER_GIB_KB 1024
/* What the test itself adds to the figures, on top of the cache: under
 * MCL_FUTURE every byte of heap that glibc adds is locked and populated at
 * once, and glibc extends its heap by the request plus 128 KiB of top pad
 * (M_TOP_PAD); the stack, fopen()'s FILE and its 4 KiB buffer and
 * open_memstream()'s buffer take a few more pages. Measured: 132 kB with a
 * cache that allocated 5 kB of heap.
 */
#define TEST_ALLOWANCE_KB 256

struct spread_region {
	uintptr_t va;
	size_t len;
	rte_iova_t iova;
};

/* About 1 GiB in regions far apart (8 TiB: one top-level entry each), half
 * of them across a 1 GiB boundary (two leaves), one with unaligned ends,
 * one with an odd IOVA - VA delta (a node per 2 MiB), and 256 4 KiB pages
 * in one 2 MiB slot (a node with a page table). Returns the count.
 */
static unsigned int
spread_layout(struct spread_region *r)
{
	const uintptr_t GIB = (uintptr_t)1 << 30;
	unsigned int k, n = 0;

	for (k = 0; k < 8; k++) {
		uintptr_t va = ((uintptr_t)1 << 40) + (uintptr_t)k * ((uintptr_t)1 << 43);

		if (k % 2 == 1)
			va += GIB - MB(64);
		r[n++] = (struct spread_region){
			.va = va + (k == 3 ? KB(4) : 0),
			.len = MB(128) - (k == 3 ? KB(8) : 0),
			.iova = GIB * k + (k == 5 ? 1 : 0),
		};
	}
	for (k = 0; k < 256; k++)
		r[n++] = (struct spread_region){ ((uintptr_t)1 << 46) + KB(8) * k, KB(4),
			GIB * 9 + KB(4) * k };
	return n;
}

/* Child of test_mlockall(): exit status 0, or the number of the failed step. */
static int
mlockall_child(void)
{
	static struct spread_region r[8 + 256];
	struct rte_iova_cache_params p = { .max_readers = 1 };
	struct rte_iova_cache *c;
	long rss0, lck0, rss1, lck1, rss2, lck2, limit, leaves, nodes;
	struct timespec t0, t1;
	uint64_t bytes = 0;
	unsigned int n, i;
	int step = 0;

	n = spread_layout(r);
	/* Give back the free heap pages, so that the cache's allocations are
	 * counted rather than served from memory that is already resident;
	 * then lock (and so populate) what the process has before the cache,
	 * so that the figures below are the cache's.
	 */
	malloc_trim(0);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0 || !mem_kb(&rss0, &lck0))
		return 2;
	c = rte_iova_cache_create(&p);
	if (c == NULL)
		return 3;
	/* What testpmd does: lock all memory once the EAL (and so the cache) is
	 * set up; MCL_CURRENT populates every mapping of the cache.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		return 3;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!mem_kb(&rss1, &lck1))
		return 2;
	printf("# empty cache, mlockall(): VmRSS %ld -> %ld kB, VmLck %ld -> %ld kB, %.3f s\n",
		rss0, rss1, lck0, lck1,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (rss1 - rss0 > CACHE_FIXED_KB + TEST_ALLOWANCE_KB ||
			lck1 - lck0 > CACHE_FIXED_KB + TEST_ALLOWANCE_KB)
		step = 4;

	for (i = 0; i < n; i++) {
		if (rte_iova_cache_insert(c, P(r[i].va), r[i].len, r[i].iova) != 0)
			return 5;
		bytes += r[i].len;
	}
	/* it works in a locked process: updates fault in what they write */
	for (i = 0; i < n; i++)
		if (tr(c, r[i].va) != r[i].iova ||
				tr(c, r[i].va + r[i].len - 1) != r[i].iova + r[i].len - 1 ||
				tr(c, r[i].va + r[i].len) != RTE_BAD_IOVA)
			return 6;
	if (!mem_kb(&rss2, &lck2))
		return 2;
	leaves = iova_cache_dump_figure(c, "leaves");
	nodes = iova_cache_dump_figure(c, "nodes");
	/* CACHE_PER_GIB_KB per GiB is one KiB per MiB */
	limit = CACHE_FIXED_KB + (long)(bytes >> 20) * CACHE_PER_GIB_KB / 1024 +
		TEST_ALLOWANCE_KB;
	printf("# %u regions, %" PRIu64 " MiB inserted (%ld leaves, %ld nodes): VmRSS %ld -> "
		"%ld kB (+%ld), VmLck %ld -> %ld kB (+%ld), limit +%ld kB\n", n, bytes >> 20,
		leaves, nodes, rss0, rss2, rss2 - rss0, lck0, lck2, lck2 - lck0, limit);
	if (step == 0 && (rss2 - rss0 > limit || lck2 - lck0 > limit))
		step = 7;
	/* several top-level entries in use, as the layout wants */
	if (step == 0 && leaves < 9)
		step = 8;

	for (i = 0; i < n; i++)
		if (rte_iova_cache_remove(c, P(r[i].va), r[i].len) != 0)
			return 9;
	/* no reader: every remove ended its grace period and freed what it
	 * retired, leaves included
	 */
	leaves = iova_cache_dump_figure(c, "leaves");
	nodes = iova_cache_dump_figure(c, "nodes");
	printf("# all removed: %u regions, %ld leaves, %ld nodes left\n",
		rte_iova_cache_count(c), leaves, nodes);
	if (step == 0 && (rte_iova_cache_count(c) != 0 || leaves != 0 || nodes != 0 ||
			tr(c, r[0].va) != RTE_BAD_IOVA))
		step = 10;
	rte_iova_cache_free(c);
	return step;
}

/* DPDK applications lock their memory (testpmd calls mlockall() unless told
 * not to): the cache must not turn into hundreds of MiB of locked memory
 * then, whatever the kernel's transparent hugepage setting. The bound is
 * measured, in a child so that the lock does not outlive the test.
 */
static void
test_mlockall(void)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = mlockall_child();

		fflush(stdout);
		_exit(r);
	}
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	tap_check(&t, pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"mlockall() in a process with a cache: at most %d kB + %d kB per GiB "
		"inserted, cache works, leaves freed when empty (child status 0x%x)",
		CACHE_FIXED_KB, CACHE_PER_GIB_KB, status);
}

int
main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : UINT64_C(0x9e3779b97f4a7c15);

	rng_state = seed != 0 ? seed : 1;
	tap_diag("test_iova_cache seed 0x%" PRIx64, seed);
	/* first, while the heap holds little that the cache could reuse */
	test_mlockall();
	test_args();
	test_basic();
	test_small();
	test_far();
	test_leaves();
	test_readers();
	test_nowait();
	test_random();
	return tap_done(&t);
}
