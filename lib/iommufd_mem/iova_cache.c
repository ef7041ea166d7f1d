/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lock-free VA -> IOVA translation cache (see rte_iova_cache.h).
 *
 * Structure
 * ---------
 * pub.top[]: one word per 1 GiB of virtual memory below
 * 2^RTE_IOVA_CACHE_VA_BITS, at the start of the cache structure (1 MiB on
 * x86-64, written at create so that its cost does not depend on whether and
 * when the process locks its memory). Word g locates the entries of a leaf:
 * the GiB's own or, for a GiB in which no region lies, empty[], a leaf of
 * the cache whose entries all stay 0. Lookups thus never test for a missing
 * leaf: measured, a NULL test there made misses up to twice as slow, and hits
 * slower too. The word is the address of the entries minus g * LEAF_BYTES,
 * where they would be in a flat table of all the slots, so that the lookup
 * indexes it with the slot number: one mask fewer on every lookup (see
 * top_word() and top_entries()).
 * A leaf: 512 64-bit entries, one per 2 MiB slot of its GiB, allocated (4 KiB
 * and a header) when an insert first touches the GiB, retired when a remove
 * leaves all its entries empty. The table is thus proportional to the
 * address space that holds registered memory, not to the address space: an
 * earlier flat table, 512 MiB of MAP_NORESERVE address space with one entry
 * per 2 MiB, was populated whole by mlockall() (testpmd's default) on a 6.18
 * kernel, read-only pages or not. An entry is:
 *   0                          no region intersects the slot;
 *   (iova - va) + 1, odd       one region covers the whole slot and its
 *                              IOVA - VA delta is even (always true for
 *                              page-aligned regions);
 *   pointer to a node, even    all other cases: the slot is covered partially
 *                              by one or more regions, or by a region with an
 *                              odd delta.
 * far: one node with the pieces of regions above the table.
 * A node is a sorted array of pieces [start, end) with their deltas, binary
 * searched; a slot node with many pieces that are all 4 KiB aligned (memory
 * registered page by page) also carries a table of its 512 pages, with
 * entries encoded like the slots, for O(1) lookups.
 *
 * Nodes are immutable once published: an update builds a new node, publishes
 * it with a store-release, and retires the old one. A leaf is updated in
 * place, entry by entry, but is published (top-level store-release) only
 * once its entries are written, and unpublished before it is retired.
 * Retired nodes and leaves are poisoned and freed only once every reader has
 * reported a quiescent state after the retirement (rte_rcu_qsbr token taken
 * after the unpublishing store). The updater keeps a sorted array of regions,
 * used for overlap checks, exact removal and iova2va; readers never look at
 * it.
 *
 * Memory ordering
 * ---------------
 * Writer: the top-level, entry and far-pointer stores that publish something
 * are store-release, so a leaf's entries and a node's content are visible before
 * their address. After the stores of one update, a seq-cst fence, then
 * rte_rcu_qsbr_start() (an atomic increment with release), then
 * rte_rcu_qsbr_check(). Reader, two dependent loads:
 *  - the top-level word with acquire: a leaf may have been allocated and
 *    filled just before its publication, and the entry load that follows
 *    must see those writes, not the block's earlier contents (the address
 *    dependency orders it on the CPUs DPDK runs on, but C offers no usable
 *    consume ordering; on x86 the acquire load is a plain load). The empty
 *    leaf is written at create, before any reader can have the cache;
 *  - the entry, relaxed: a direct entry's value is the whole translation; a
 *    node pointer is followed only after an acquire fence (out of line),
 *    which pairs with the store-release of the entry or, for an entry
 *    written before its leaf was published, of the leaf.
 * rte_rcu_qsbr_quiescent() loads the token with acquire and stores the
 * reader's counter with release.
 *  - A reader that reports a quiescent state acknowledging token t loaded t
 *    with acquire; t was released after the unpublishing stores, so its later
 *    lookups see the new top level and entries: it can no longer reach the
 *    old leaf, the old node or the old translation.
 *  - Its loads made before that report are ordered before the counter store
 *    (release), which the writer reads with acquire before freeing a node or
 *    a leaf or returning from remove: no reader still reads them or uses the
 *    translation at that point.
 *  - A reader going online stores its counter, then runs a seq-cst fence,
 *    then reads the table; the writer stores the table, runs a seq-cst
 *    fence, then reads the counters. At least one sees the other: either the
 *    writer waits for the reader, or the reader already sees the new table.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_pause.h>
#include <rte_errno.h>
#include <rte_rcu_qsbr.h>
#include <rte_string_fns.h>

#include "rte_iova_cache.h"

#define SLOT_SIZE ((uintptr_t)1 << RTE_IOVA_CACHE_SLOT_SHIFT)
#define SLOT_MASK (SLOT_SIZE - 1)

/* Slot index (va >> RTE_IOVA_CACHE_SLOT_SHIFT) to top-level index, and to
 * the index in the leaf.
 */
#define LEAF_SLOT_BITS (RTE_IOVA_CACHE_LEAF_SHIFT - RTE_IOVA_CACHE_SLOT_SHIFT)
#define SLOT_TOP(s) ((s) >> LEAF_SLOT_BITS)
#define SLOT_IDX(s) ((s) & (RTE_IOVA_CACHE_LEAF_ENTRIES - 1))
#define LEAF_BYTES (RTE_IOVA_CACHE_LEAF_ENTRIES * sizeof(uint64_t))

#if RTE_IOVA_CACHE_VA_BITS < 64 && defined(RTE_ARCH_64)
/* First address above the table. */
#define TABLE_END ((uintptr_t)1 << RTE_IOVA_CACHE_VA_BITS)
#define HAVE_FAR 1
#else
/* The table covers all of a 32-bit address space (end wraps to 0). */
#define TABLE_END ((uintptr_t)0)
#define HAVE_FAR 0
#endif

/* Written over the deltas of a node, and the entries of a leaf, when it is
 * freed, so that a reader that (wrongly) still reads it returns an obviously
 * wrong IOVA.
 */
#define POISON_DELTA UINT64_C(0x5a5a5a5a00000000)

/* Part of one region inside a slot (or above the table), [start, end). */
struct iova_cache_piece {
	uintptr_t start;
	uintptr_t end;
	uint64_t delta; /* iova - va */
};

/* What nodes and leaves have in common for the updater: the lists of objects
 * built but not yet published, and of objects retired but not yet freed.
 * Never read by readers.
 */
struct iova_cache_obj {
	struct iova_cache_obj *next; /* build list / retire list */
	uint64_t token;              /* QSBR token of the retirement */
	bool is_leaf;
};

struct iova_cache_node {
	/* Updater-only fields first: free() may overwrite the first bytes of
	 * a freed block, and these are not read by readers. n stays readable
	 * if a broken build lets a reader see a freed node.
	 */
	struct iova_cache_obj obj;
	uint32_t n;                   /* number of pieces, >= 1 */
	uint32_t paged;               /* a page table follows p[n] */
	struct iova_cache_piece p[];  /* sorted by start, disjoint */
	/* if paged: uint64_t pages[PAGES_PER_SLOT], entries like the slots */
};

struct iova_cache_leaf {
	/* Updater-only, before the entries for the same reason as in a node,
	 * and in a cache line of their own: updates of used do not evict the
	 * entries from the readers' caches.
	 */
	struct iova_cache_obj obj;
	size_t top;                   /* index in the top level */
	uint32_t used;                /* non-zero entries */
	/* What the top level points to and readers read. */
	uint64_t e[RTE_IOVA_CACHE_LEAF_ENTRIES] __rte_cache_aligned;
};

/* A slot node with at least this many pieces, all 4 KiB aligned with even
 * deltas, also gets a table of its 512 pages: O(1) lookups for memory
 * registered page by page (e.g. DPDK --no-huge memsegs), for 4 KiB.
 */
#define PAGE_SHIFT 12
#define PAGES_PER_SLOT ((size_t)1 << (RTE_IOVA_CACHE_SLOT_SHIFT - PAGE_SHIFT))
#define PAGED_MIN_PIECES 8

struct iova_cache_region {
	uintptr_t va;
	size_t len;
	rte_iova_t iova;
};

struct iova_cache_reader {
	int tid;      /* rte_gettid() of the owner, 0 if not registered */
	bool online;  /* written by the owner only */
};

struct iova_cache {
	struct rte_iova_cache pub; /* must stay first */
	/* What the top level points to for a GiB without regions: written at
	 * create, never again.
	 */
	uint64_t empty[RTE_IOVA_CACHE_LEAF_ENTRIES] __rte_cache_aligned;
	char name[RTE_IOVA_CACHE_NAMESIZE];
	pthread_mutex_t lock;      /* serialises updaters */

	struct iova_cache_region *regions; /* sorted by va, disjoint */
	size_t nb_regions;
	size_t cap_regions;

	/* Retired nodes and leaves, oldest first (tokens increase). */
	struct iova_cache_obj *retired_head;
	struct iova_cache_obj *retired_tail;

	unsigned int max_readers;
	struct iova_cache_reader *readers;

	uint64_t nb_leaves;       /* allocated leaves, published or retired */
	uint64_t nb_nodes;        /* allocated nodes, published or retired */
	uint64_t nb_retired;      /* total retired */
	uint64_t nb_leaves_retired; /* of which leaves */
	uint64_t nb_freed;        /* total freed after a grace period */
};

static inline struct iova_cache *
priv(const struct rte_iova_cache *c)
{
	return (struct iova_cache *)(uintptr_t)c;
}

static inline bool
entry_is_node(uint64_t e)
{
	return e != 0 && (e & RTE_IOVA_CACHE_DIRECT) == 0;
}

static inline struct iova_cache_node *
entry_node(uint64_t e)
{
	return (struct iova_cache_node *)(uintptr_t)e;
}

static inline const uint64_t *
node_pages(const struct iova_cache_node *nd)
{
	return (const uint64_t *)(const void *)&nd->p[nd->n];
}

/* Binary search of the pieces of a node. */
static rte_iova_t
node_search(const struct iova_cache_node *nd, uintptr_t va)
{
	uint32_t lo = 0, n = nd->n;

	/* Invariant: pieces below lo start at or below va (except lo == 0). */
	while (n > 1) {
		uint32_t half = n / 2;

		if (va >= nd->p[lo + half].start)
			lo += half;
		n -= half;
	}
	if (va >= nd->p[lo].start && va < nd->p[lo].end)
		return (rte_iova_t)va + nd->p[lo].delta;
	return RTE_BAD_IOVA;
}

rte_iova_t
__rte_iova_cache_node_lookup(uint64_t entry, uintptr_t va)
{
	/* Pairs with the store-release that published the node: its content
	 * is visible once its address has been read (relaxed) by the caller.
	 */
	const struct iova_cache_node *nd = entry_node(entry);

	rte_atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (nd->paged) {
		uint64_t e = node_pages(nd)[(va >> PAGE_SHIFT) & (PAGES_PER_SLOT - 1)];

		return (e & RTE_IOVA_CACHE_DIRECT) ? (rte_iova_t)va + (e - RTE_IOVA_CACHE_DIRECT) :
				RTE_BAD_IOVA;
	}
	return node_search(nd, va);
}

rte_iova_t
__rte_iova_cache_far_lookup(const struct rte_iova_cache *c, uintptr_t va)
{
	const struct iova_cache_node *nd;

	/* Acquire: pairs with the store-release that published the node. */
	nd = __atomic_load_n(&c->far, __ATOMIC_ACQUIRE);
	if (nd == NULL)
		return RTE_BAD_IOVA;
	return node_search(nd, va);
}

/* ---- nodes ---- */

static struct iova_cache_node *
node_alloc(struct iova_cache *ic, uint32_t n)
{
	struct iova_cache_node *nd;

	nd = malloc(sizeof(*nd) + (size_t)n * sizeof(nd->p[0]));
	if (nd == NULL)
		return NULL;
	nd->obj = (struct iova_cache_obj){ .next = NULL, .token = 0, .is_leaf = false };
	nd->n = n;
	nd->paged = 0;
	ic->nb_nodes++;
	return nd;
}

/* Add the page table to a slot node that qualifies; returns the node, which
 * may have moved, or NULL (the node is then freed).
 */
static struct iova_cache_node *
node_finish(struct iova_cache *ic, struct iova_cache_node *nd, bool slot_node)
{
	const uintptr_t pmask = ((uintptr_t)1 << PAGE_SHIFT) - 1;
	struct iova_cache_node *big;
	uint64_t *pages;
	uint32_t i;

	if (!slot_node || nd->n < PAGED_MIN_PIECES)
		return nd;
	for (i = 0; i < nd->n; i++)
		if (((nd->p[i].start | nd->p[i].end) & pmask) != 0 || (nd->p[i].delta & 1) != 0)
			return nd;
	big = realloc(nd, sizeof(*nd) + nd->n * sizeof(nd->p[0]) +
			PAGES_PER_SLOT * sizeof(uint64_t));
	if (big == NULL) {
		ic->nb_nodes--;
		free(nd);
		return NULL;
	}
	big->paged = 1;
	pages = (uint64_t *)(uintptr_t)node_pages(big);
	memset(pages, 0, PAGES_PER_SLOT * sizeof(uint64_t));
	for (i = 0; i < big->n; i++) {
		uintptr_t va;

		for (va = big->p[i].start; va < big->p[i].end; va += pmask + 1)
			pages[(va >> PAGE_SHIFT) & (PAGES_PER_SLOT - 1)] =
				big->p[i].delta + RTE_IOVA_CACHE_DIRECT;
	}
	return big;
}

static void
node_free(struct iova_cache *ic, struct iova_cache_node *nd)
{
	uint32_t i;

	/* Poison so that a reader outliving the grace period (a bug) gets a
	 * wrong translation rather than a plausible one; n and the bounds are
	 * kept so that such a reader does not run off the block.
	 */
	for (i = 0; i < nd->n; i++)
		nd->p[i].delta = POISON_DELTA;
	if (nd->paged) {
		uint64_t *pages = (uint64_t *)(uintptr_t)node_pages(nd);
		size_t k;

		for (k = 0; k < PAGES_PER_SLOT; k++)
			if (pages[k] != 0)
				pages[k] = POISON_DELTA + RTE_IOVA_CACHE_DIRECT;
	}
	ic->nb_nodes--;
	free(nd);
}

/* Copy of old (may be NULL) with one more piece, kept sorted. */
static struct iova_cache_node *
node_with(struct iova_cache *ic, const struct iova_cache_node *old,
		uintptr_t start, uintptr_t end, uint64_t delta, bool slot_node)
{
	uint32_t n = old != NULL ? old->n : 0;
	struct iova_cache_node *nd;
	uint32_t i, j = 0;
	bool done = false;

	nd = node_alloc(ic, n + 1);
	if (nd == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (!done && start < old->p[i].start) {
			nd->p[j++] = (struct iova_cache_piece){ start, end, delta };
			done = true;
		}
		nd->p[j++] = old->p[i];
	}
	if (!done)
		nd->p[j++] = (struct iova_cache_piece){ start, end, delta };
	return node_finish(ic, nd, slot_node);
}

/* Copy of old without the piece starting at start; NULL with *empty set
 * if nothing would remain.
 */
static struct iova_cache_node *
node_without(struct iova_cache *ic, const struct iova_cache_node *old,
		uintptr_t start, bool *empty, bool slot_node)
{
	struct iova_cache_node *nd;
	uint32_t i, j = 0;

	*empty = old->n == 1;
	if (*empty)
		return NULL;
	nd = node_alloc(ic, old->n - 1);
	if (nd == NULL)
		return NULL;
	for (i = 0; i < old->n; i++)
		if (old->p[i].start != start)
			nd->p[j++] = old->p[i];
	RTE_ASSERT(j == nd->n);
	return node_finish(ic, nd, slot_node);
}

/* ---- leaves ---- */

static inline struct iova_cache_leaf *
leaf_of_entries(const uint64_t *e)
{
	return (struct iova_cache_leaf *)((uintptr_t)e - offsetof(struct iova_cache_leaf, e));
}

/* Top-level word of index g for the leaf entries e (see the file comment;
 * unsigned arithmetic, which may wrap and wraps back in the lookup).
 */
static inline uintptr_t
top_word(const uint64_t *e, size_t g)
{
	return (uintptr_t)e - g * LEAF_BYTES;
}

/* Entries of the leaf published at top-level index g. */
static inline uint64_t *
top_entries(const struct iova_cache *ic, size_t g)
{
	return (uint64_t *)(ic->pub.top[g] + g * LEAF_BYTES);
}

/* The published leaf of top-level index g, or NULL for the empty leaf. */
static inline struct iova_cache_leaf *
leaf_at(const struct iova_cache *ic, size_t g)
{
	const uint64_t *e = top_entries(ic, g);

	return e != ic->empty ? leaf_of_entries(e) : NULL;
}

/* Entry of slot s as published. */
static inline uint64_t
slot_get(const struct iova_cache *ic, size_t s)
{
	return top_entries(ic, SLOT_TOP(s))[SLOT_IDX(s)];
}

/* An empty leaf for top-level index g, not yet published. */
static struct iova_cache_leaf *
leaf_alloc(struct iova_cache *ic, size_t g)
{
	struct iova_cache_leaf *lf;

	if (posix_memalign((void **)&lf, RTE_CACHE_LINE_SIZE, sizeof(*lf)) != 0)
		return NULL;
	memset(lf, 0, sizeof(*lf));
	lf->obj.is_leaf = true;
	lf->top = g;
	ic->nb_leaves++;
	return lf;
}

static void
leaf_free(struct iova_cache *ic, struct iova_cache_leaf *lf)
{
	size_t k;

	/* Poison every entry (a retired leaf is empty): a reader outliving the
	 * grace period (a bug) then gets a wrong translation, not a miss.
	 */
	for (k = 0; k < RTE_IOVA_CACHE_LEAF_ENTRIES; k++)
		lf->e[k] = POISON_DELTA + RTE_IOVA_CACHE_DIRECT;
	ic->nb_leaves--;
	free(lf);
}

/* Store entry k of a leaf, keeping the count of non-empty entries. Release:
 * the node an entry points to is visible before the entry (and, for a leaf
 * published later, the top-level store-release orders the entries anyway).
 */
static inline void
leaf_set(struct iova_cache_leaf *lf, size_t k, uint64_t ne)
{
	lf->used += (ne != 0) - (lf->e[k] != 0);
	__atomic_store_n(&lf->e[k], ne, __ATOMIC_RELEASE);
}

/* ---- objects (nodes and leaves) ---- */

static void
obj_free(struct iova_cache *ic, struct iova_cache_obj *o)
{
	if (o->is_leaf)
		leaf_free(ic, container_of(o, struct iova_cache_leaf, obj));
	else
		node_free(ic, container_of(o, struct iova_cache_node, obj));
}

static void
list_free(struct iova_cache *ic, struct iova_cache_obj *head)
{
	while (head != NULL) {
		struct iova_cache_obj *next = head->next;

		obj_free(ic, head);
		head = next;
	}
}

/* Append an object to a list whose tail pointer is *tail. */
static inline void
list_add(struct iova_cache_obj ***tail, struct iova_cache_obj *o)
{
	o->next = NULL;
	**tail = o;
	*tail = &o->next;
}

/* First object of a build list, which the caller publishes. */
static inline struct iova_cache_obj *
list_pop(struct iova_cache_obj **head)
{
	struct iova_cache_obj *o = *head;

	RTE_ASSERT(o != NULL);
	*head = o->next;
	o->next = NULL;
	return o;
}

/* The same, typed (container_of() evaluates its argument twice). */
static inline struct iova_cache_node *
list_pop_node(struct iova_cache_obj **head)
{
	struct iova_cache_obj *o = list_pop(head);

	return container_of(o, struct iova_cache_node, obj);
}

static inline struct iova_cache_leaf *
list_pop_leaf(struct iova_cache_obj **head)
{
	struct iova_cache_obj *o = list_pop(head);

	return container_of(o, struct iova_cache_leaf, obj);
}

/* ---- reclamation ---- */

/* Called with the lock held, after the stores that unpublished the objects
 * of list. Returns the token whose acknowledgement by all readers makes them
 * (and the translations they held) unreachable.
 */
static uint64_t
retire(struct iova_cache *ic, struct iova_cache_obj *list)
{
	uint64_t token;

	/* Order the table stores before the reads of the reader counters done
	 * by rte_rcu_qsbr_check(); pairs with the seq-cst fence of
	 * rte_rcu_qsbr_thread_online() (see the file comment).
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	token = rte_rcu_qsbr_start(ic->pub.qsbr);

#ifdef IOVA_CACHE_TEST_BREAK_RECLAIM
	/* Deliberately broken build, for the stress test only: nodes and
	 * leaves are freed (poisoned) at once and remove does not wait.
	 */
	while (list != NULL) {
		struct iova_cache_obj *next = list->next;

		ic->nb_retired++;
		ic->nb_leaves_retired += list->is_leaf;
		ic->nb_freed++;
		obj_free(ic, list);
		list = next;
	}
#else
	while (list != NULL) {
		struct iova_cache_obj *next = list->next;

		list->token = token;
		list->next = NULL;
		if (ic->retired_tail != NULL)
			ic->retired_tail->next = list;
		else
			ic->retired_head = list;
		ic->retired_tail = list;
		ic->nb_retired++;
		ic->nb_leaves_retired += list->is_leaf;
		list = next;
	}
#endif
	return token;
}

/* Free the retired objects whose grace period is over; lock held. */
static void
reclaim(struct iova_cache *ic)
{
	struct iova_cache_obj *o;

	while ((o = ic->retired_head) != NULL) {
		if (rte_rcu_qsbr_check(ic->pub.qsbr, o->token, false) != 1)
			break;
		ic->retired_head = o->next;
		if (ic->retired_head == NULL)
			ic->retired_tail = NULL;
		ic->nb_freed++;
		obj_free(ic, o);
	}
}

/* Wait until every online reader has acknowledged token. Spin for a few
 * microseconds (enough for lcores that poll), then sleep with a growing
 * delay: on an oversubscribed machine the reader we wait for may need this
 * CPU to reach its quiescent state, and yielding does not guarantee that.
 */
static void __rte_unused
wait_grace_period(struct rte_rcu_qsbr *v, uint64_t token)
{
	unsigned int i;
	long ns = 10000;

	for (i = 0; rte_rcu_qsbr_check(v, token, false) != 1; i++) {
		if (i < 1024) {
			rte_pause();
		} else {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

			nanosleep(&ts, NULL);
			ns = RTE_MIN(ns * 2, 1000000L);
		}
	}
}

/* Reader id of the calling thread if it is registered and online. */
static unsigned int
self_reader(struct iova_cache *ic)
{
	int tid = rte_gettid();
	unsigned int i;

	for (i = 0; i < ic->max_readers; i++)
		if (__atomic_load_n(&ic->readers[i].tid, __ATOMIC_RELAXED) == tid)
			return ic->readers[i].online ? i : RTE_QSBR_THRID_INVALID;
	return RTE_QSBR_THRID_INVALID;
}

/* ---- regions ---- */

/* Index of the first region with va >= key. */
static size_t
region_lower_bound(const struct iova_cache *ic, uintptr_t key)
{
	size_t lo = 0, hi = ic->nb_regions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ic->regions[mid].va < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
regions_reserve(struct iova_cache *ic)
{
	struct iova_cache_region *r;
	size_t cap;

	if (ic->nb_regions < ic->cap_regions)
		return 0;
	cap = ic->cap_regions != 0 ? ic->cap_regions * 2 : 64;
	r = realloc(ic->regions, cap * sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	ic->regions = r;
	ic->cap_regions = cap;
	return 0;
}

/* ---- create / free ---- */

struct rte_iova_cache *
rte_iova_cache_create(const struct rte_iova_cache_params *params)
{
	struct iova_cache *ic = NULL;
	unsigned int max_readers;
	size_t qsz, g;

	if (params == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	max_readers = params->max_readers != 0 ? params->max_readers : RTE_MAX_LCORE;
	if (max_readers > 65536) {
		rte_errno = EINVAL;
		return NULL;
	}

	/* The top level and the empty leaf are inside: written here rather
	 * than left to lazily zeroed pages, so that the cache costs the same
	 * resident memory whether or not the process locks it later, and its
	 * cost does not depend on how the kernel backs untouched memory.
	 */
	if (posix_memalign((void **)&ic, RTE_CACHE_LINE_SIZE, sizeof(*ic)) != 0) {
		ic = NULL;
		goto nomem;
	}
	memset(ic, 0, sizeof(*ic));
	for (g = 0; g < RTE_IOVA_CACHE_TOP_ENTRIES; g++)
		ic->pub.top[g] = top_word(ic->empty, g);
	if (params->name != NULL)
		strlcpy(ic->name, params->name, sizeof(ic->name));
	ic->max_readers = max_readers;
	ic->readers = calloc(max_readers, sizeof(ic->readers[0]));
	if (ic->readers == NULL)
		goto nomem;

	qsz = rte_rcu_qsbr_get_memsize(max_readers);
	if (posix_memalign((void **)&ic->pub.qsbr, RTE_CACHE_LINE_SIZE, qsz) != 0) {
		ic->pub.qsbr = NULL;
		goto nomem;
	}
	memset(ic->pub.qsbr, 0, qsz);
	if (rte_rcu_qsbr_init(ic->pub.qsbr, max_readers) != 0)
		goto nomem;

	if (pthread_mutex_init(&ic->lock, NULL) != 0)
		goto nomem;
	return &ic->pub;

nomem:
	if (ic != NULL) {
		free(ic->pub.qsbr);
		free(ic->readers);
		free(ic);
	}
	rte_errno = ENOMEM;
	return NULL;
}

/* Slot range [*s0, *s1] of the part of [va, end) below the table end;
 * false if there is none.
 */
static bool
slot_range(uintptr_t va, uintptr_t end, size_t *s0, size_t *s1)
{
	if (HAVE_FAR && va >= TABLE_END)
		return false;
	if (HAVE_FAR && end > TABLE_END)
		end = TABLE_END;
	*s0 = va >> RTE_IOVA_CACHE_SLOT_SHIFT;
	*s1 = (end - 1) >> RTE_IOVA_CACHE_SLOT_SHIFT;
	return true;
}

unsigned int
rte_iova_cache_readers(const struct rte_iova_cache *c)
{
	const struct iova_cache *ic = (const struct iova_cache *)c;
	unsigned int i, n = 0;

	if (c == NULL)
		return 0;
	/* tid is the one field a reader publishes atomically (register/unregister) */
	for (i = 0; i < ic->max_readers; i++)
		n += __atomic_load_n(&ic->readers[i].tid, __ATOMIC_ACQUIRE) != 0;
	return n;
}

int
rte_iova_cache_free(struct rte_iova_cache *c)
{
	struct iova_cache *ic = priv(c);
	size_t g, k;

	if (c == NULL)
		return 0;
	/* A registered reader, even offline, may go online and read what we free. */
	if (rte_iova_cache_readers(c) > 0)
		return -EBUSY;
	/* Slot nodes belong to one entry each. */
	for (g = 0; g < RTE_IOVA_CACHE_TOP_ENTRIES; g++) {
		struct iova_cache_leaf *lf = leaf_at(ic, g);

		if (lf == NULL)
			continue;
		for (k = 0; k < RTE_IOVA_CACHE_LEAF_ENTRIES; k++)
			if (entry_is_node(lf->e[k]))
				node_free(ic, entry_node(lf->e[k]));
		leaf_free(ic, lf);
	}
	if (c->far != NULL)
		node_free(ic, (struct iova_cache_node *)(uintptr_t)c->far);
	list_free(ic, ic->retired_head);
	pthread_mutex_destroy(&ic->lock);
	free(ic->regions);
	free(ic->pub.qsbr);
	free(ic->readers);
	free(ic);
	return 0;
}

/* ---- insert ---- */

static bool
check_range(const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va;

	return va != NULL && len != 0 && len <= UINTPTR_MAX - a;
}

/* Piece of [va, end) in slot s. */
static inline void
slot_piece(size_t s, uintptr_t va, uintptr_t end, uintptr_t *ps, uintptr_t *pe)
{
	uintptr_t base = (uintptr_t)s << RTE_IOVA_CACHE_SLOT_SHIFT;

	*ps = RTE_MAX(va, base);
	*pe = (end - base > SLOT_SIZE) ? base + SLOT_SIZE : end;
}

/* Whether the piece [ps, pe) of a region with this delta, in a slot whose
 * entry is e, is stored as a direct entry rather than in a node. Existing
 * entries are never direct here: regions do not overlap.
 */
static inline bool
slot_direct(uint64_t e, uintptr_t ps, uintptr_t pe, uint64_t delta)
{
	RTE_ASSERT((e & RTE_IOVA_CACHE_DIRECT) == 0);
	return e == 0 && pe - ps == SLOT_SIZE && (delta & 1) == 0;
}

/* Whether slot s is the last of its leaf or of the range ending at s1. */
static inline bool
leaf_range_end(size_t s, size_t s1)
{
	return s == s1 || SLOT_IDX(s + 1) == 0;
}

int
rte_iova_cache_insert(struct rte_iova_cache *c, const void *va, size_t len,
		rte_iova_t iova)
{
	struct iova_cache *ic = priv(c);
	uintptr_t a = (uintptr_t)va, end;
	uint64_t delta;
	struct iova_cache_obj *built = NULL, **build_tail = &built;
	struct iova_cache_obj *leaves = NULL, **leaves_tail = &leaves;
	struct iova_cache_obj *old_list = NULL;
	struct iova_cache_node *far_new = NULL, *nd;
	size_t idx, s, g, s0 = 0, s1 = 0;
	bool in_table;
	int ret;

	if (c == NULL || !check_range(va, len) || iova == RTE_BAD_IOVA ||
			len > RTE_BAD_IOVA - iova)
		return -EINVAL;
	end = a + len;
	delta = (uint64_t)(iova - (rte_iova_t)a);

	pthread_mutex_lock(&ic->lock);

	idx = region_lower_bound(ic, a);
	if ((idx > 0 && ic->regions[idx - 1].va + ic->regions[idx - 1].len > a) ||
			(idx < ic->nb_regions && ic->regions[idx].va < end)) {
		ret = -EEXIST;
		goto out;
	}
	ret = regions_reserve(ic);
	if (ret != 0)
		goto out;

	/* Phase 1: allocate the missing leaves and build every new node;
	 * nothing is visible yet, so a failure leaves the cache unchanged.
	 */
	in_table = slot_range(a, end, &s0, &s1);
	if (in_table) {
		for (g = SLOT_TOP(s0); g <= SLOT_TOP(s1); g++) {
			struct iova_cache_leaf *lf;

			if (leaf_at(ic, g) != NULL)
				continue;
			lf = leaf_alloc(ic, g);
			if (lf == NULL)
				goto nomem;
			list_add(&leaves_tail, &lf->obj);
		}
		for (s = s0; s <= s1; s++) {
			uintptr_t ps, pe;
			uint64_t e = slot_get(ic, s);

			slot_piece(s, a, end, &ps, &pe);
			if (slot_direct(e, ps, pe, delta))
				continue;
			nd = node_with(ic, entry_is_node(e) ? entry_node(e) : NULL,
					ps, pe, delta, true);
			if (nd == NULL)
				goto nomem;
			list_add(&build_tail, &nd->obj);
		}
	}
	if (HAVE_FAR && end > TABLE_END) {
		far_new = node_with(ic, c->far, RTE_MAX(a, TABLE_END), end, delta, false);
		if (far_new == NULL)
			goto nomem;
	}

	/* Phase 2: publish, leaf by leaf. Entries are stored with release (a
	 * reader that sees a node pointer sees the node's content); a new leaf
	 * is published once its entries are written, with a store-release that
	 * pairs with the readers' acquire load of the top level.
	 */
	if (in_table) {
		struct iova_cache_leaf *lf = NULL;
		bool fresh = false;

		for (s = s0; s <= s1; s++) {
			uint64_t e, ne;
			uintptr_t ps, pe;

			if (lf == NULL) {
				lf = leaf_at(ic, SLOT_TOP(s));
				fresh = lf == NULL;
				if (fresh)
					lf = list_pop_leaf(&leaves);
				RTE_ASSERT(lf->top == SLOT_TOP(s));
			}
			e = lf->e[SLOT_IDX(s)];
			slot_piece(s, a, end, &ps, &pe);
			if (!slot_direct(e, ps, pe, delta)) {
				nd = list_pop_node(&built);
				ne = (uint64_t)(uintptr_t)nd;
				if (entry_is_node(e)) {
					entry_node(e)->obj.next = old_list;
					old_list = &entry_node(e)->obj;
				}
			} else {
				ne = delta + RTE_IOVA_CACHE_DIRECT;
			}
			leaf_set(lf, SLOT_IDX(s), ne);
			if (leaf_range_end(s, s1)) {
				if (fresh)
					__atomic_store_n(&ic->pub.top[lf->top],
							top_word(lf->e, lf->top), __ATOMIC_RELEASE);
				lf = NULL;
			}
		}
		RTE_ASSERT(built == NULL && leaves == NULL);
	}
	if (far_new != NULL) {
		struct iova_cache_node *old = (struct iova_cache_node *)(uintptr_t)c->far;

		__atomic_store_n(&ic->pub.far, (const void *)far_new, __ATOMIC_RELEASE);
		if (old != NULL) {
			old->obj.next = old_list;
			old_list = &old->obj;
		}
	}

	memmove(&ic->regions[idx + 1], &ic->regions[idx],
			(ic->nb_regions - idx) * sizeof(ic->regions[0]));
	ic->regions[idx] = (struct iova_cache_region){ a, len, iova };
	ic->nb_regions++;

	/* Replaced nodes are freed later, by the first update that finds
	 * their grace period over: insert never waits for readers. (Insert
	 * never empties a leaf.)
	 */
	if (old_list != NULL)
		retire(ic, old_list);
	reclaim(ic);
	ret = 0;
	goto out;

nomem:
	list_free(ic, built);
	list_free(ic, leaves);
	ret = -ENOMEM;
out:
	pthread_mutex_unlock(&ic->lock);
	return ret;
}

/* ---- remove ---- */

/* Remove a region; with @wait, return only after a grace period (see the header). */
static int
region_remove(struct rte_iova_cache *c, const void *va, size_t len, bool wait)
{
	struct iova_cache *ic = priv(c);
	uintptr_t a = (uintptr_t)va, end;
	struct iova_cache_obj *built = NULL, **build_tail = &built;
	struct iova_cache_obj *old_list = NULL;
	struct iova_cache_node *far_new = NULL, *nd;
	size_t idx, s, s0 = 0, s1 = 0;
	bool in_table, far_empty = false;
	unsigned int self;
	uint64_t token;

	if (c == NULL || !check_range(va, len))
		return -EINVAL;
	end = a + len;

	pthread_mutex_lock(&ic->lock);

	idx = region_lower_bound(ic, a);
	if (idx >= ic->nb_regions || ic->regions[idx].va != a ||
			ic->regions[idx].len != len) {
		pthread_mutex_unlock(&ic->lock);
		return -ENOENT;
	}

	/* Phase 1: build the replacement nodes of the slots the region shares
	 * with other regions; nothing is visible yet.
	 */
	in_table = slot_range(a, end, &s0, &s1);
	if (in_table) {
		for (s = s0; s <= s1; s++) {
			uint64_t e = slot_get(ic, s);
			bool empty;

			if (!entry_is_node(e))
				continue;
			nd = node_without(ic, entry_node(e),
					RTE_MAX(a, (uintptr_t)s << RTE_IOVA_CACHE_SLOT_SHIFT),
					&empty, true);
			if (nd == NULL && !empty)
				goto nomem;
			if (nd != NULL)
				list_add(&build_tail, &nd->obj);
		}
	}
	if (HAVE_FAR && end > TABLE_END) {
		far_new = node_without(ic, c->far, RTE_MAX(a, TABLE_END), &far_empty, false);
		if (far_new == NULL && !far_empty)
			goto nomem;
	}

	/* Phase 2: unpublish (store-release, see insert). A leaf left empty
	 * is replaced by the empty leaf: a relaxed store is enough, as the
	 * empty leaf was written before the cache was handed to any reader,
	 * and the fence of retire() orders the store before the grace period
	 * starts.
	 */
	if (in_table) {
		struct iova_cache_leaf *lf = NULL;

		for (s = s0; s <= s1; s++) {
			uint64_t e, ne = 0;

			if (lf == NULL)
				lf = leaf_at(ic, SLOT_TOP(s));
			/* The region's slots have entries: the leaf exists. */
			RTE_ASSERT(lf != NULL);
			e = lf->e[SLOT_IDX(s)];
			if (entry_is_node(e)) {
				struct iova_cache_node *old = entry_node(e);

				if (old->n > 1) {
					nd = list_pop_node(&built);
					ne = (uint64_t)(uintptr_t)nd;
				}
				old->obj.next = old_list;
				old_list = &old->obj;
			}
			leaf_set(lf, SLOT_IDX(s), ne);
			if (leaf_range_end(s, s1)) {
				if (lf->used == 0) {
					__atomic_store_n(&ic->pub.top[lf->top],
							top_word(ic->empty, lf->top),
							__ATOMIC_RELAXED);
					lf->obj.next = old_list;
					old_list = &lf->obj;
				}
				lf = NULL;
			}
		}
		RTE_ASSERT(built == NULL);
	}
	if (HAVE_FAR && end > TABLE_END) {
		struct iova_cache_node *old = (struct iova_cache_node *)(uintptr_t)c->far;

		__atomic_store_n(&ic->pub.far, (const void *)far_new, __ATOMIC_RELEASE);
		old->obj.next = old_list;
		old_list = &old->obj;
	}

	memmove(&ic->regions[idx], &ic->regions[idx + 1],
			(ic->nb_regions - idx - 1) * sizeof(ic->regions[0]));
	ic->nb_regions--;

	token = retire(ic, old_list);
	if (!wait) {
		/* the retired objects are freed by a later update once readers
		 * have passed a quiescent state (reclaim) */
		reclaim(ic);
		pthread_mutex_unlock(&ic->lock);
		return 0;
	}
	self = self_reader(ic);
	pthread_mutex_unlock(&ic->lock);

	/* Wait for the grace period without the lock, so that readers may
	 * call updater functions (e.g. iova2va) meanwhile.
	 */
#ifndef IOVA_CACHE_TEST_BREAK_RECLAIM
	if (self != RTE_QSBR_THRID_INVALID)
		rte_iova_cache_quiescent(c, self);
	wait_grace_period(c->qsbr, token);
#else
	RTE_SET_USED(token);
	RTE_SET_USED(self);
#endif

	pthread_mutex_lock(&ic->lock);
	reclaim(ic);
	pthread_mutex_unlock(&ic->lock);
	return 0;

nomem:
	list_free(ic, built);
	pthread_mutex_unlock(&ic->lock);
	return -ENOMEM;
}

int
rte_iova_cache_remove(struct rte_iova_cache *c, const void *va, size_t len)
{
	return region_remove(c, va, len, true);
}

int
rte_iova_cache_remove_nowait(struct rte_iova_cache *c, const void *va, size_t len)
{
	return region_remove(c, va, len, false);
}

/* ---- readers ---- */

int
rte_iova_cache_reader_register(struct rte_iova_cache *c, unsigned int thread_id)
{
	struct iova_cache *ic = priv(c);
	int ret = 0;

	if (c == NULL || thread_id >= ic->max_readers)
		return -EINVAL;
	pthread_mutex_lock(&ic->lock);
	if (ic->readers[thread_id].tid != 0) {
		ret = -EEXIST;
	} else if (rte_rcu_qsbr_thread_register(c->qsbr, thread_id) != 0) {
		ret = -EINVAL;
	} else {
		ic->readers[thread_id].online = true;
		__atomic_store_n(&ic->readers[thread_id].tid, rte_gettid(),
				__ATOMIC_RELAXED);
		rte_rcu_qsbr_thread_online(c->qsbr, thread_id);
	}
	pthread_mutex_unlock(&ic->lock);
	return ret;
}

int
rte_iova_cache_reader_unregister(struct rte_iova_cache *c, unsigned int thread_id)
{
	struct iova_cache *ic = priv(c);
	int ret = 0;

	if (c == NULL || thread_id >= ic->max_readers)
		return -EINVAL;
	pthread_mutex_lock(&ic->lock);
	if (ic->readers[thread_id].tid == 0) {
		ret = -EINVAL;
	} else {
		rte_rcu_qsbr_thread_offline(c->qsbr, thread_id);
		rte_rcu_qsbr_thread_unregister(c->qsbr, thread_id);
		ic->readers[thread_id].online = false;
		__atomic_store_n(&ic->readers[thread_id].tid, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&ic->lock);
	return ret;
}

void
rte_iova_cache_reader_offline(struct rte_iova_cache *c, unsigned int thread_id)
{
	struct iova_cache *ic = priv(c);

	if (c == NULL || thread_id >= ic->max_readers)
		return;
	/* Store-release of the counter inside: prior lookups are done. */
	rte_rcu_qsbr_thread_offline(c->qsbr, thread_id);
	ic->readers[thread_id].online = false;
}

void
rte_iova_cache_reader_online(struct rte_iova_cache *c, unsigned int thread_id)
{
	struct iova_cache *ic = priv(c);

	if (c == NULL || thread_id >= ic->max_readers)
		return;
	ic->readers[thread_id].online = true;
	/* Seq-cst fence inside, see the file comment. */
	rte_rcu_qsbr_thread_online(c->qsbr, thread_id);
}

/* ---- debugging ---- */

rte_iova_t
rte_iova_cache_va2iova_locked(struct rte_iova_cache *c, const void *va)
{
	struct iova_cache *ic = priv(c);
	rte_iova_t iova;

	if (c == NULL)
		return RTE_BAD_IOVA;
	/* Nodes are retired and freed only by updaters, under this lock: holding
	 * it makes the lock-free lookup safe for a thread QSBR does not track.
	 */
	pthread_mutex_lock(&ic->lock);
	iova = rte_iova_cache_va2iova(c, va);
	pthread_mutex_unlock(&ic->lock);
	return iova;
}

void *
rte_iova_cache_iova2va(struct rte_iova_cache *c, rte_iova_t iova)
{
	struct iova_cache *ic = priv(c);
	void *va = NULL;
	size_t i;

	if (c == NULL || iova == RTE_BAD_IOVA)
		return NULL;
	pthread_mutex_lock(&ic->lock);
	for (i = 0; i < ic->nb_regions; i++) {
		const struct iova_cache_region *r = &ic->regions[i];

		if (iova >= r->iova && iova - r->iova < r->len) {
			va = (void *)(r->va + (uintptr_t)(iova - r->iova));
			break;
		}
	}
	pthread_mutex_unlock(&ic->lock);
	return va;
}

unsigned int
rte_iova_cache_count(struct rte_iova_cache *c)
{
	struct iova_cache *ic = priv(c);
	unsigned int n;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&ic->lock);
	n = (unsigned int)ic->nb_regions;
	pthread_mutex_unlock(&ic->lock);
	return n;
}

void
rte_iova_cache_dump(FILE *f, struct rte_iova_cache *c)
{
	struct iova_cache *ic = priv(c);
	size_t i;

	if (c == NULL)
		return;
	pthread_mutex_lock(&ic->lock);
	fprintf(f, "iova_cache <%s>@%p: %zu regions, %" PRIu64 " leaves, %" PRIu64 " nodes, "
			"%" PRIu64 " retired, %" PRIu64 " leaf retirements, %" PRIu64 " freed\n",
			ic->name, (void *)c, ic->nb_regions, ic->nb_leaves, ic->nb_nodes,
			ic->nb_retired, ic->nb_leaves_retired, ic->nb_freed);
	for (i = 0; i < ic->nb_regions; i++) {
		const struct iova_cache_region *r = &ic->regions[i];

		fprintf(f, "  va 0x%" PRIxPTR "-0x%" PRIxPTR " iova 0x%" PRIx64 "\n",
				r->va, r->va + r->len - 1, r->iova);
	}
	pthread_mutex_unlock(&ic->lock);
}
