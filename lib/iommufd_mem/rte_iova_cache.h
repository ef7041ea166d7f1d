/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef _RTE_IOVA_CACHE_H_
#define _RTE_IOVA_CACHE_H_

/**
 * @file
 * RTE IOVA cache: lock-free VA to IOVA translation for poll-mode drivers.
 *
 * The cache holds the regions of process virtual memory that are mapped in an
 * I/O address space (an iommufd IOAS), each with the IOVA of its first byte.
 * Data-path threads ("readers", typically PMD lcores) translate buffer
 * addresses with rte_iova_cache_va2iova() without taking any lock and
 * without any atomic read-modify-write. Control threads ("updaters") insert
 * and remove regions; updaters are serialised by an internal mutex.
 *
 * Reclamation uses the quiescent-state based RCU of DPDK (rte_rcu_qsbr).
 * Each reader registers a thread id with rte_iova_cache_reader_register() and
 * reports a quiescent state with rte_iova_cache_quiescent() at a point where
 * it holds no translation (e.g. between two bursts, after the descriptors
 * of the previous burst have been written). rte_iova_cache_remove() returns
 * only after every registered, online reader has reported a quiescent state
 * (a grace period); after that the caller may unmap the region from the
 * IOMMU and free or reuse the memory.
 *
 * Guarantee. Let R be a registered and online reader, and let a call
 * rte_iova_cache_va2iova(c, va) made by R return X != RTE_BAD_IOVA. Then:
 *  - X == iova + (va - start) for a region [start, start + len) containing
 *    va, inserted with that iova, whose insertion had taken effect and whose
 *    removal had not returned at some instant during the call;
 *  - the rte_iova_cache_remove() call that removes that region does not
 *    return before R's next quiescent state (rte_iova_cache_quiescent(),
 *    rte_iova_cache_reader_offline() or rte_iova_cache_reader_unregister()).
 *    R may therefore use X (e.g. post it to a DMA descriptor) until it
 *    reports that quiescent state; a caller that unmaps only after remove
 *    has returned never has a translation in use for memory that is
 *    unmapped or reused. (Buffers already handed to the device stay the
 *    owner's business, as with any DMA: memory is not removed while
 *    buffers in it are in flight.)
 * Conversely, a call that starts after remove() has returned never returns a
 * translation of the removed region, and a call for an address covered by a
 * region that stays inserted during the whole call never misses. A lookup
 * racing with an insertion returns either RTE_BAD_IOVA or the new
 * translation.
 *
 * Threads that are not registered readers, or are offline, must not call
 * rte_iova_cache_va2iova(): they could read internal memory that is being
 * freed. They translate with rte_iova_cache_va2iova_locked(), which takes the
 * updater lock (nodes are freed only under it) and suits control paths such
 * as a PMD setting up its rings. rte_iova_cache_iova2va() also takes the
 * updater lock and may be called from any thread.
 *
 * Layout. The fast path is a two-level radix table. The top level, at the
 * start of struct rte_iova_cache, has one pointer per 1 GiB of the user
 * virtual address space below 2^RTE_IOVA_CACHE_VA_BITS (2^17 pointers,
 * 1 MiB, on x86-64). Each points to a leaf of 512 64-bit entries, one per
 * 2 MiB: a leaf of its own, allocated when a region first touches the GiB and
 * retired when its last region goes, or, for a GiB without regions, the
 * cache's single empty leaf, so that every lookup takes the same two
 * dependent loads and no test for a missing leaf. (The pointer is stored
 * minus the GiB's offset in a flat table of entries, so that the slot number
 * indexes it directly.) An entry is either empty, a
 * "direct" entry holding the IOVA - VA delta of a region covering the whole
 * 2 MiB slot, or a pointer to an immutable node listing the pieces of the
 * regions that cover the slot partially. A hit on a direct entry or a miss
 * costs the two loads; nodes (sub-2 MiB or unaligned regions) are searched
 * out of line (binary search, or a per-4 KiB page table for slots registered
 * page by page). Addresses beyond the table (above RTE_IOVA_CACHE_VA_BITS)
 * use one more node searched out of line. Memory: the top level and the empty
 * leaf, plus 4 KiB per GiB of address space that holds registered memory,
 * plus nodes in proportion to the regions that do not fill their 2 MiB
 * slots; all of it ordinary heap memory, written when allocated, so that
 * locking the process's memory (mlockall()) adds nothing to it.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#ifdef __cplusplus
extern "C" {
#endif

/** log2 of the span of virtual memory described by one leaf entry (2 MiB). */
#define RTE_IOVA_CACHE_SLOT_SHIFT 21

/** log2 of the span of virtual memory described by one leaf (1 GiB). */
#define RTE_IOVA_CACHE_LEAF_SHIFT 30

/** Number of entries of a leaf. */
#define RTE_IOVA_CACHE_LEAF_ENTRIES \
	((size_t)1 << (RTE_IOVA_CACHE_LEAF_SHIFT - RTE_IOVA_CACHE_SLOT_SHIFT))

/**
 * Number of low virtual address bits covered by the table; addresses at or
 * above 2^RTE_IOVA_CACHE_VA_BITS are translated out of line.
 */
#if defined(RTE_ARCH_64)
#if defined(RTE_ARCH_ARM64)
#define RTE_IOVA_CACHE_VA_BITS 48
#else
#define RTE_IOVA_CACHE_VA_BITS 47
#endif
#else
#define RTE_IOVA_CACHE_VA_BITS 32
#endif

/** Number of entries of the top level of the table, one per leaf. */
#define RTE_IOVA_CACHE_TOP_ENTRIES \
	((size_t)1 << (RTE_IOVA_CACHE_VA_BITS - RTE_IOVA_CACHE_LEAF_SHIFT))

/** Maximum length of a cache name, including the terminating NUL. */
#define RTE_IOVA_CACHE_NAMESIZE 32

/** Parameters of rte_iova_cache_create(). */
struct rte_iova_cache_params {
	const char *name;
	/**< Name, for dumps; may be NULL. Truncated to RTE_IOVA_CACHE_NAMESIZE. */
	unsigned int max_readers;
	/**< Reader thread ids are 0 .. max_readers - 1; 0 means RTE_MAX_LCORE. */
};

/** @internal Bit set in a table entry holding (IOVA - VA) + 1. */
#define RTE_IOVA_CACHE_DIRECT 1

/**
 * IOVA cache. The members are internal: they are visible only so that the
 * fast path can be inlined. Use the functions of this file.
 */
struct rte_iova_cache {
	uintptr_t top[RTE_IOVA_CACHE_TOP_ENTRIES];
	/**< @internal Top level: for GiB g, the address of the entries of an
	 * RCU-protected leaf (the empty leaf where no region lies) minus
	 * g * 4 KiB, so that the whole slot number va >> 21 indexes the leaf
	 * and no mask is needed. First, so that a lookup indexes the
	 * structure's address directly.
	 */
	struct rte_rcu_qsbr *qsbr;
	/**< @internal QSBR variable of the readers; constant after create. */
	const void *far;
	/**< @internal RCU-protected node for addresses beyond the table. */
};

/**
 * @internal Branch hint for a condition that is as often true as false: a
 * lookup may be a hit or a miss, and neither should leave the inline path.
 */
#if defined(__has_builtin)
#if __has_builtin(__builtin_expect_with_probability)
#define __RTE_IOVA_CACHE_EITHER(x) __builtin_expect_with_probability(!!(x), 1, 0.5)
#endif
#endif
#ifndef __RTE_IOVA_CACHE_EITHER
#define __RTE_IOVA_CACHE_EITHER(x) (x)
#endif

/**
 * @internal Out-of-line part of rte_iova_cache_va2iova(), for a leaf entry
 * that points to a node. Not for direct use.
 */
rte_iova_t
__rte_iova_cache_node_lookup(uint64_t entry, uintptr_t va);

/**
 * @internal Out-of-line part of rte_iova_cache_va2iova(), for addresses
 * beyond the table. Not for direct use.
 */
rte_iova_t
__rte_iova_cache_far_lookup(const struct rte_iova_cache *c, uintptr_t va);

/**
 * Create an empty IOVA cache.
 *
 * Does not require the EAL to be initialised: memory comes from the C
 * library. The cache takes RTE_IOVA_CACHE_TOP_ENTRIES pointers (1 MiB on
 * x86-64, 2 MiB on arm64) and an empty leaf (4 KiB) at once, written so
 * that they are resident whether or not the process locks its memory, then
 * 4 KiB (a leaf) per GiB of address space in which regions lie, and nodes
 * for the 2 MiB slots that regions cover partially.
 *
 * @param params
 *   Parameters; see struct rte_iova_cache_params.
 * @return
 *   The cache, or NULL with rte_errno set (EINVAL, ENOMEM).
 */
struct rte_iova_cache *
rte_iova_cache_create(const struct rte_iova_cache_params *params);

/**
 * Free a cache and all its internal memory.
 *
 * No other thread may use the cache any more: the call is refused while a
 * reader is registered (online or not), since it could read freed memory.
 *
 * @param c
 *   Cache to free; NULL is ignored.
 * @return
 *   0 (freed, or NULL); -EBUSY if readers are registered (nothing freed).
 */
int
rte_iova_cache_free(struct rte_iova_cache *c);

/**
 * Number of registered readers (rte_iova_cache_reader_register() not yet
 * undone by rte_iova_cache_reader_unregister()).
 *
 * @param c
 *   Cache; NULL counts none.
 * @return
 *   The number of registered readers.
 */
unsigned int
rte_iova_cache_readers(const struct rte_iova_cache *c);

/**
 * Insert a region.
 *
 * The translation becomes visible to readers before the call returns;
 * readers see it slot by slot (each lookup sees it or not). Does not wait
 * for readers; may be called from a registered reader thread.
 *
 * @param c
 *   Cache.
 * @param va
 *   First byte of the region; not NULL.
 * @param len
 *   Length in bytes, > 0; va + len must not wrap around.
 * @param iova
 *   IOVA of the first byte; iova + len - 1 must be below RTE_BAD_IOVA.
 * @return
 *   0 on success; -EINVAL on bad arguments; -EEXIST if the region overlaps
 *   a region of the cache; -ENOMEM (the cache is unchanged).
 */
int
rte_iova_cache_insert(struct rte_iova_cache *c, const void *va, size_t len,
		rte_iova_t iova);

/**
 * Remove the region inserted with exactly this va and len, then wait for a
 * grace period.
 *
 * When the call returns, no registered reader uses a translation of the
 * region any more and none can obtain one: the caller may unmap the region
 * from the IOMMU and free or reuse the memory. If the calling thread is a
 * registered, online reader, the call counts as a quiescent state of that
 * thread (it must hold no translation). Blocks while an online reader does
 * not report quiescent states.
 *
 * @param c
 *   Cache.
 * @param va
 *   First byte of the region, as inserted.
 * @param len
 *   Length of the region, as inserted.
 * @return
 *   0 on success; -EINVAL on bad arguments; -ENOENT if no region was
 *   inserted with this exact va and len; -ENOMEM (the cache is unchanged).
 */
int
rte_iova_cache_remove(struct rte_iova_cache *c, const void *va, size_t len);

/**
 * Remove the region inserted with exactly this va and len, without waiting
 * for readers.
 *
 * For memory no reader may translate any longer, such as memory the EAL has
 * just freed, and for callers that must not block on readers: DPDK's memory
 * event callbacks run under the EAL's memory lock, which a reader lcore may
 * wait for in rte_malloc(), so a grace-period wait there could deadlock.
 * Readers looking up other addresses are unaffected: what they may still
 * read is freed only after a later grace period (by a later insert, remove
 * or this call, whichever finds it over). Unlike rte_iova_cache_remove(), a
 * reader that looked the region up just before may still hold its
 * translation: the caller's own rules must exclude that.
 *
 * @param c
 *   Cache.
 * @param va
 *   First byte of the region, as inserted.
 * @param len
 *   Length of the region, as inserted.
 * @return
 *   As for rte_iova_cache_remove().
 */
int
rte_iova_cache_remove_nowait(struct rte_iova_cache *c, const void *va, size_t len);

/**
 * Register the calling thread as a reader with id thread_id, and put it
 * online: from now on, rte_iova_cache_remove() waits for its quiescent
 * states. Must be called by the reader thread itself.
 *
 * @param c
 *   Cache.
 * @param thread_id
 *   Reader id, below the max_readers of the cache, unique among readers.
 * @return
 *   0 on success; -EINVAL if thread_id is out of range; -EEXIST if the id
 *   is already registered.
 */
int
rte_iova_cache_reader_register(struct rte_iova_cache *c, unsigned int thread_id);

/**
 * Put a reader offline and unregister it. Counts as a quiescent state. Must
 * be called by the reader thread itself.
 *
 * @param c
 *   Cache.
 * @param thread_id
 *   Reader id given to rte_iova_cache_reader_register().
 * @return
 *   0 on success; -EINVAL if the id is out of range or not registered.
 */
int
rte_iova_cache_reader_unregister(struct rte_iova_cache *c, unsigned int thread_id);

/**
 * Put a registered reader offline, e.g. before it blocks: updaters stop
 * waiting for it. Counts as a quiescent state; the reader must not call
 * rte_iova_cache_va2iova() until rte_iova_cache_reader_online(). Must be
 * called by the reader thread itself.
 *
 * @param c
 *   Cache.
 * @param thread_id
 *   Reader id.
 */
void
rte_iova_cache_reader_offline(struct rte_iova_cache *c, unsigned int thread_id);

/**
 * Put a registered reader back online. Must be called by the reader thread
 * itself.
 *
 * @param c
 *   Cache.
 * @param thread_id
 *   Reader id.
 */
void
rte_iova_cache_reader_online(struct rte_iova_cache *c, unsigned int thread_id);

/**
 * Report a quiescent state of a reader: the reader holds no translation
 * obtained before this call. Call it regularly (e.g. once per burst);
 * rte_iova_cache_remove() waits for it.
 *
 * @param c
 *   Cache.
 * @param thread_id
 *   Reader id of the calling thread.
 */
static __rte_always_inline void
rte_iova_cache_quiescent(struct rte_iova_cache *c, unsigned int thread_id)
{
	/* Store-release of the reader's counter: every load of the table (top
	 * level or leaf) or of a node made before this call is ordered before
	 * the updater sees the counter, hence before it frees nodes or leaves
	 * or returns from remove.
	 */
	rte_rcu_qsbr_quiescent(c->qsbr, thread_id);
}

/**
 * Translate a virtual address. Lock-free and wait-free; to be called by a
 * registered, online reader only (see the guarantee in the file comment).
 *
 * @param c
 *   Cache.
 * @param va
 *   Virtual address.
 * @return
 *   The IOVA of va, or RTE_BAD_IOVA if no region of the cache contains it.
 */
static __rte_always_inline rte_iova_t
rte_iova_cache_va2iova(const struct rte_iova_cache *c, const void *va)
{
	uintptr_t a = (uintptr_t)va;
	uintptr_t slot = a >> RTE_IOVA_CACHE_SLOT_SHIFT, base;
	uint64_t e;

#if RTE_IOVA_CACHE_VA_BITS < 64 && defined(RTE_ARCH_64)
	/* A comparison rather than a test of the high bits: one instruction
	 * with the bound kept in a register.
	 */
	if (unlikely(a >= (uintptr_t)1 << RTE_IOVA_CACHE_VA_BITS))
		return __rte_iova_cache_far_lookup(c, a);
#endif
	/* Acquire: a new leaf's entries were written before the store-release
	 * that published it (an address dependency would do, but C has no
	 * usable consume; on x86 this is a plain load).
	 */
	base = __atomic_load_n(&c->top[a >> RTE_IOVA_CACHE_LEAF_SHIFT], __ATOMIC_ACQUIRE);
	/* A relaxed load is enough for a direct entry: its value is the whole
	 * translation, and QSBR orders the load against the updater (see
	 * rte_iova_cache_quiescent()). A node entry is dereferenced only
	 * after an acquire fence, out of line.
	 */
	e = __atomic_load_n((const uint64_t *)(base + slot * sizeof(uint64_t)),
			__ATOMIC_RELAXED);
	if (__RTE_IOVA_CACHE_EITHER(e & RTE_IOVA_CACHE_DIRECT))
		return (rte_iova_t)a + (e - RTE_IOVA_CACHE_DIRECT);
	if (likely(e == 0))
		return RTE_BAD_IOVA;
	return __rte_iova_cache_node_lookup(e, a);
}

/**
 * Translate a virtual address from any thread, registered reader or not
 * (meant for control paths). Takes the updater lock, so no internal node can
 * be freed during the lookup; the answer is the translation in effect at some
 * instant during the call. Safe from a reader too: updaters wait for grace
 * periods without holding the lock.
 *
 * @param c
 *   Cache.
 * @param va
 *   Virtual address.
 * @return
 *   The IOVA of va, or RTE_BAD_IOVA if no region of the cache contains it.
 */
rte_iova_t
rte_iova_cache_va2iova_locked(struct rte_iova_cache *c, const void *va);

/**
 * Translate an IOVA back to a virtual address, for debugging. Takes the
 * updater lock and scans all regions: slow. May be called from any thread.
 *
 * @param c
 *   Cache.
 * @param iova
 *   IOVA.
 * @return
 *   The virtual address of iova in the region of lowest VA that maps it,
 *   or NULL if no region maps it.
 */
void *
rte_iova_cache_iova2va(struct rte_iova_cache *c, rte_iova_t iova);

/**
 * Number of regions in the cache. Takes the updater lock.
 *
 * @param c
 *   Cache.
 * @return
 *   Number of regions.
 */
unsigned int
rte_iova_cache_count(struct rte_iova_cache *c);

/**
 * Dump the regions and internal statistics of a cache, for debugging.
 * Takes the updater lock.
 *
 * @param f
 *   Output stream.
 * @param c
 *   Cache.
 */
void
rte_iova_cache_dump(FILE *f, struct rte_iova_cache *c);

#ifdef __cplusplus
}
#endif

#endif /* _RTE_IOVA_CACHE_H_ */
