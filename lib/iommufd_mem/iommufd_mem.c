/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK memory in iommufd I/O address spaces: the process's iommufd, its IOASes, the
 * record of every memory area that must be mapped for DMA, and the translation cache.
 *
 * The record (mem.areas, sorted by VA, non-overlapping) is the single truth: an IOAS
 * that a device has attached to ("populated") holds a mapping of every area at the
 * area's IOVA, and the cache translates every area. Everything below keeps the three in
 * step under mem.lock.
 *
 * Lock order: the EAL's memory hotplug lock, then mem.lock. The EAL calls our memory
 * event callback with the hotplug lock held, and rte_iommufd_mem_init() takes the
 * hotplug lock (read) before mem.lock. Nothing under mem.lock calls into the DPDK
 * allocator (it would take the hotplug lock in the wrong order): records use libc.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "iommufd_uapi.h"
#include "rte_iommufd_mem.h"
#include "rte_iova_cache.h"
#include "vfio_noiommu.h"

RTE_LOG_REGISTER(iommufd_mem_logtype, lib.iommufd_mem, NOTICE);
#define MEM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, iommufd_mem_logtype, "IOMMUFD_MEM: " fmt "\n", \
		## __VA_ARGS__)

#define MAX_IOAS 64
/*
 * IOVA ranges of an IOAS: every reserved region of every attached device's IOMMU cuts
 * one more hole, so there is no fixed number; real systems show a handful. Beyond this
 * many the kernel's answer is taken for a fault rather than allocated.
 */
#define IOVA_RANGES_MAX 4096
#define IOVA_RANGES_FIRST 16
#define MEM_EVENT_CB_NAME "vfiofd_iommufd_mem"
#define CAP_IPC_LOCK_BIT 14

enum area_kind {
	AREA_RUN,      /* EAL memory preallocated at start-up: freed only at cleanup */
	AREA_PAGE,     /* one page of EAL memory allocated at run time */
	AREA_CHUNK,    /* one heap expansion, under --match-allocations (freed whole) */
	AREA_EXTERNAL, /* rte_dev_dma_map() of external memory */
};

struct mem_area {
	uintptr_t va;
	uint64_t len;
	uint64_t iova;
	bool iova_set;      /* chosen when the area is first mapped (or given, external) */
	bool cached;        /* its translation is in the cache: only while an IOAS maps it
			     * (or, translate-only, while it is recorded) */
	bool freed;         /* the EAL freed it but forgetting it failed part way: recorded
			     * with what is still held, retried before the range is mapped
			     * again and at teardown */
	enum area_kind kind;
};

struct ioas {
	uint32_t id;
	bool populated;     /* a device attached: holds a mapping of every area */
	uint32_t nranges;
	struct iommu_iova_range *ranges; /* malloc'ed, nranges entries (NULL: none) */
};

/* Translated mode: where a memseg list's pages are mapped (see window_iova()). */
struct iova_window {
	uintptr_t va;
	uint64_t len;
	uint64_t iova;
};

static struct {
	pthread_mutex_t lock;
	unsigned int refcnt;
	enum rte_iommufd_mem_mode mode;
	int iommufd;
	bool per_process;   /* IOMMU_OPTION_RLIMIT_MODE = per process */
	struct ioas ioas[MAX_IOAS]; /* [0] is the default IOAS */
	unsigned int n_ioas;
	struct mem_area *areas;
	unsigned int n_areas;
	unsigned int cap_areas;
	struct rte_iova_cache *cache;
	bool event_cb;
	bool validator;     /* the RLIMIT_MEMLOCK allocation validator is registered */
	bool match_allocations; /* the EAL frees memory exactly as it allocated it */
	int map_file;       /* IOMMU_IOAS_MAP_FILE: 1 works, 0 unknown, -1 not supported */
	uint64_t map_file_calls;
	uint64_t map_calls;
	uint64_t unmap_calls;
	bool warned_translated;
	bool secondary;      /* a secondary process: the primary maps, we only translate */
	bool noiommu_cdev;   /* no-IOMMU through an iommufd (Linux 7.3+): the IOAS pins the
			      * pages and the kernel tells their physical addresses */
	uint64_t pa_queries; /* IOMMU_IOAS_NOIOMMU_GET_PA calls */
	uint64_t next_iova;  /* where translated areas are placed next (bump pointer) */
	bool translated;     /* translated mode: EAL memory may sit at any IOVA, PMDs
			      * translate every buffer (set by the bus before init, kept
			      * for the life of the process) */
	bool pmd_reader[RTE_MAX_LCORE]; /* lcores registered with the cache through
					 * rte_iommufd_mem_reader_enter() */
	struct iova_window windows[RTE_MAX_MEMSEG_LISTS]; /* translated mode, window_iova() */
	unsigned int n_windows;
} mem = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.iommufd = -1,
};

/*
 * No mapping ioctl in this mode: without an IOMMU through the group interface (IOVA =
 * PA), or in a secondary process (the primary maps; IOVA = the memseg's). Areas then
 * take their IOVA from the memsegs and only feed the translation cache. (A no-IOMMU
 * cdev maps: its IOAS is how the kernel pins the pages and tells their addresses.)
 */
static bool
translate_only(void)
{
	return (mem.mode == RTE_IOMMUFD_MEM_MODE_NOIOMMU && !mem.noiommu_cdev) || mem.secondary;
}

static const char *
mode_name(enum rte_iommufd_mem_mode mode, bool noiommu_cdev)
{
	if (mode != RTE_IOMMUFD_MEM_MODE_NOIOMMU)
		return "iommufd";
	return noiommu_cdev ? "no-IOMMU (cdev + iommufd)" : "no-IOMMU (VFIO group)";
}

/*
 * EAL memory takes its IOVA from the memsegs, the IOVA the EAL hands PMDs: without an
 * IOMMU and in a secondary (as above), and in IOVA-as-PA mode with an IOMMU, which the
 * bus asks for where the IOMMU cannot address user VAs: each page is then mapped at
 * its physical address, inside the aperture. Otherwise IOVA == VA.
 */
static bool
iova_from_memsegs(void)
{
	return translate_only() || rte_eal_iova_mode() == RTE_IOVA_PA;
}

/*
 * Memory of the EAL's own heaps, whose IOVA every PMD takes from the EAL (mbuf
 * buf_iova, memzone iova) rather than from the translation cache: it must be mapped
 * at that IOVA or not at all. (External memory is the user's: its IOVA is theirs.)
 */
static bool
eal_internal(const struct mem_area *a)
{
	const struct rte_memseg_list *msl;

	if (a->kind == AREA_EXTERNAL)
		return false;
	msl = rte_mem_virt2memseg_list((void *)a->va);
	return msl != NULL && !msl->external;
}

/* ---- the area record ---- */

/* Index of the first area that ends after @va (n_areas if none). */
static unsigned int
area_search(uintptr_t va)
{
	unsigned int lo = 0, hi = mem.n_areas;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (mem.areas[mid].va + mem.areas[mid].len <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Insert keeping the order; -EEXIST if it overlaps an area. Returns the index. */
static int
area_insert(const struct mem_area *a)
{
	unsigned int i = area_search(a->va);

	if (i < mem.n_areas && mem.areas[i].va < a->va + a->len)
		return -EEXIST;
	if (mem.n_areas == mem.cap_areas) {
		unsigned int cap = mem.cap_areas ? mem.cap_areas * 2 : 256;
		struct mem_area *n = realloc(mem.areas, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		mem.areas = n;
		mem.cap_areas = cap;
	}
	memmove(&mem.areas[i + 1], &mem.areas[i], (mem.n_areas - i) * sizeof(*a));
	mem.areas[i] = *a;
	mem.n_areas++;
	return (int)i;
}

static void
area_delete(unsigned int i)
{
	memmove(&mem.areas[i], &mem.areas[i + 1], (mem.n_areas - i - 1) * sizeof(mem.areas[0]));
	mem.n_areas--;
}

/* ---- IOVA ranges ---- */

static bool
range_fits(const struct ioas *io, uint64_t iova, uint64_t len)
{
	for (uint32_t i = 0; i < io->nranges; i++)
		if (iova >= io->ranges[i].start && len - 1 <= io->ranges[i].last - iova &&
		    iova <= io->ranges[i].last)
			return true;
	return false;
}

/*
 * The IOAS's allowed IOVA ranges, as many as the kernel reports: asked with room for a
 * few, then again with the count the kernel gave back (-EMSGSIZE), into a new buffer
 * that replaces the old one only once read whole. The count can change between the
 * two calls (a device attached meanwhile): a few more tries, then give up.
 */
static int
ranges_read(struct ioas *io)
{
	uint32_t want = RTE_MAX(io->nranges, (uint32_t)IOVA_RANGES_FIRST);
	struct iommu_iova_range *r = NULL;
	int ret = -EMSGSIZE;

	for (unsigned int attempt = 0; attempt < 4 && ret == -EMSGSIZE; attempt++) {
		uint32_t n = want;
		struct iommu_iova_range *nr = realloc(r, (size_t)want * sizeof(*r));

		if (nr == NULL) {
			free(r);
			MEM_LOG(ERR, "IOAS %u: no memory for %u IOVA ranges", io->id, want);
			return -ENOMEM;
		}
		r = nr;
		ret = iommufd_ioas_iova_ranges(mem.iommufd, io->id, r, &n, NULL);
		if (ret == -EMSGSIZE && n > IOVA_RANGES_MAX) {
			free(r);
			MEM_LOG(ERR, "IOAS %u: the kernel reports %u IOVA ranges, more than the %u "
				"this library accepts", io->id, n, IOVA_RANGES_MAX);
			return -E2BIG;
		}
		if (ret == -EMSGSIZE && n <= want)
			n = want * 2;   /* no count we can use: grow anyway, bounded above */
		if (ret == -EMSGSIZE)
			want = RTE_MIN(n, (uint32_t)IOVA_RANGES_MAX);
		else if (ret == 0)
			want = n;
	}
	if (ret < 0) {
		free(r);
		MEM_LOG(ERR, "IOAS %u: IOMMU_IOAS_IOVA_RANGES failed: %s%s", io->id,
			strerror(-ret), ret == -EMSGSIZE ?
			" (the number of ranges kept changing between calls)" : "");
		return ret;
	}
	for (uint32_t i = 0; i < want; i++) {
		if (r[i].start > r[i].last) {
			MEM_LOG(ERR, "IOAS %u: IOVA range %u of %u is empty (0x%" PRIx64 " .. 0x%"
				PRIx64 "): a malformed kernel reply", io->id, i, want,
				(uint64_t)r[i].start, (uint64_t)r[i].last);
			free(r);
			return -EPROTO;
		}
	}
	free(io->ranges);
	io->ranges = r;
	io->nranges = want;
	MEM_LOG(DEBUG, "IOAS %u: %u IOVA ranges", io->id, want);
	return 0;
}

/* Forget an IOAS slot's ranges. */
static void
ranges_free(struct ioas *io)
{
	free(io->ranges);
	io->ranges = NULL;
	io->nranges = 0;
}

/* ---- mapping one area into one IOAS ---- */

/*
 * The file and offset backing all of @a, if one file backs it contiguously (a page; a
 * whole allocation with --single-file-segments). The caller holds the EAL memory
 * hotplug lock, as the _thread_unsafe lookups require.
 */
static bool
area_file(const struct mem_area *a, int *fd, uint64_t *off)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list((void *)a->va);
	const struct rte_memseg *first, *last;
	size_t off_first, off_last;
	int fd_last;

	if (a->kind == AREA_EXTERNAL || msl == NULL || msl->external)
		return false;
	first = rte_mem_virt2memseg((void *)a->va, msl);
	last = rte_mem_virt2memseg((void *)(a->va + a->len - msl->page_sz), msl);
	if (first == NULL || last == NULL)
		return false;
	*fd = rte_memseg_get_fd_thread_unsafe(first);
	fd_last = rte_memseg_get_fd_thread_unsafe(last);
	if (*fd < 0 || fd_last != *fd ||
	    rte_memseg_get_fd_offset_thread_unsafe(first, &off_first) < 0 ||
	    rte_memseg_get_fd_offset_thread_unsafe(last, &off_last) < 0 ||
	    off_last - off_first != a->len - msl->page_sz)
		return false;
	*off = off_first + (a->va - (uintptr_t)first->addr);
	return true;
}

/*
 * Map @a's memory at *iova: from its hugetlbfs file where the kernel has
 * IOMMU_IOAS_MAP_FILE (6.13+: the kernel pins the file's folios without walking our page
 * tables), else by virtual address. Detected once, at the first try.
 */
static int
ioas_map(const struct ioas *io, const struct mem_area *a, uint64_t *iova, bool fixed)
{
	uint64_t off;
	int fd, ret;

	if (mem.map_file >= 0 && area_file(a, &fd, &off)) {
		ret = iommufd_ioas_map_file(mem.iommufd, io->id, fd, off, a->len, iova, fixed);
		if (ret != -ENOTTY && ret != -EOPNOTSUPP) {
			mem.map_file_calls++;
			if (mem.map_file == 0 && ret == 0) {
				mem.map_file = 1;
				MEM_LOG(INFO, "mapping hugepage files with IOMMU_IOAS_MAP_FILE");
			}
			return ret;
		}
		mem.map_file = -1;
		MEM_LOG(INFO, "IOMMU_IOAS_MAP_FILE not supported by this kernel: mapping by address");
	}
	return iommufd_ioas_map(mem.iommufd, io->id, (void *)a->va, a->len, iova, fixed);
}

/*
 * An IOVA for an area that cannot have IOVA == VA: inside the allowed ranges, aligned
 * like its VA (up to 1 GiB) so the IOMMU can use large pages, above 4 GiB and after the
 * previous translated area so that it stays clear of low IOVAs and of earlier choices.
 * Returns false if no range has room; the kernel then chooses.
 */
static bool
iova_pick(const struct ioas *io, const struct mem_area *a, uint64_t *iova)
{
	uint64_t align = RTE_MIN((uint64_t)RTE_PGSIZE_1G, (uint64_t)1 << __builtin_ctzll(a->va | RTE_PGSIZE_1G));
	uint64_t floor = RTE_MAX(mem.next_iova, (uint64_t)1 << 32);

	for (uint32_t i = 0; i < io->nranges; i++) {
		uint64_t c = RTE_ALIGN_CEIL(RTE_MAX(floor, (uint64_t)io->ranges[i].start), align);

		if (c >= io->ranges[i].start && c <= io->ranges[i].last &&
		    a->len - 1 <= io->ranges[i].last - c) {
			*iova = c;
			return true;
		}
	}
	return false;
}

/*
 * Translated mode: EAL memory keeps its layout in IOVA space. Each memseg list (one VA
 * reservation: no allocation, hence no mempool object or ring, spans two) gets a window
 * of IOVAs as large as the list, chosen the first time a page of it is mapped, and
 * every page of the list is mapped at its own offset into the window. Memory contiguous
 * in VA is thus contiguous for the device too, which PMDs count on when they translate
 * a buffer's first byte only, whatever order pages are allocated, freed and allocated
 * again in. 0, or -ENOSPC (logged) when no IOVA range holds the window.
 */
static int
window_iova(const struct ioas *io, const struct mem_area *a, uint64_t *iova)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list((void *)a->va);
	struct mem_area whole;
	unsigned int i;

	if (msl == NULL)
		return -EINVAL;
	for (i = 0; i < mem.n_windows; i++)
		if (mem.windows[i].va == (uintptr_t)msl->base_va)
			break;
	if (i == mem.n_windows) {
		if (i == RTE_DIM(mem.windows))
			return -ENOSPC;
		whole = (struct mem_area){ .va = (uintptr_t)msl->base_va, .len = msl->len };
		if (!iova_pick(io, &whole, &whole.iova)) {
			MEM_LOG(ERR, "IOAS %u: translated mode: no IOVA range holds a window of 0x%" PRIx64 " bytes for the DPDK memory at VA 0x%" PRIxPTR " (a memseg list): the IOMMU's aperture is too small for the EAL's memory reservation (lower it with -m or --socket-limit)",
				io->id, whole.len, whole.va);
			return -ENOSPC;
		}
		mem.next_iova = whole.iova + whole.len;
		mem.windows[i] = (struct iova_window){
			.va = whole.va, .len = whole.len, .iova = whole.iova,
		};
		mem.n_windows++;
		MEM_LOG(INFO, "translated mode: DPDK memory at VA 0x%" PRIxPTR " + 0x%" PRIx64 " is mapped at IOVA 0x%" PRIx64 " + the same offsets",
			whole.va, whole.len, whole.iova);
	}
	*iova = mem.windows[i].iova + (a->va - mem.windows[i].va);
	return 0;
}

static int
map_one(struct ioas *io, struct mem_area *a)
{
	uint64_t iova;
	bool fixed;
	int ret;

	if (a->iova_set) {
		if (!range_fits(io, a->iova, a->len))
			return -ERANGE;
		iova = a->iova;
		fixed = true;
	} else if (mem.translated && eal_internal(a)) {
		ret = window_iova(io, a, &iova);
		if (ret < 0)
			return ret;
		fixed = true;
	} else {
		/* IOVA == VA where the IOAS allows it, so that the EAL's IOVA-as-VA
		 * addresses (mbuf buf_iova) are right; else, for memory whose users
		 * translate, one of ours, else the kernel's choice. EAL memory has no
		 * such users: a device given its VA would DMA where nothing (or other
		 * memory) is mapped. */
		iova = a->va;
		fixed = range_fits(io, a->va, a->len);
		if (!fixed && eal_internal(a) && !mem.translated) {
			MEM_LOG(ERR, "IOAS %u: DPDK memory at VA 0x%" PRIxPTR " + 0x%" PRIx64 " lies outside the IOVA ranges the IOMMU allows, and PMDs use VAs as IOVAs (IOVA as VA): no device could reach it; run with physical-address access (root: IOVA as PA) or keep DPDK memory inside the IOMMU's aperture (--base-virtaddr)",
				io->id, a->va, a->len);
			return -ERANGE;
		}
		if (!fixed)
			fixed = iova_pick(io, a, &iova);
	}
	ret = ioas_map(io, a, &iova, fixed);
	mem.map_calls++;
	if (ret == -EEXIST && !a->iova_set && !eal_internal(a)) {
		/* IOVA == VA, or our pick, is taken (by a translated area or one the
		 * user placed): let the kernel choose a free IOVA */
		iova = 0;
		ret = ioas_map(io, a, &iova, false);
		mem.map_calls++;
	}
	if (ret < 0)
		return ret;
	MEM_LOG(DEBUG, "IOAS %u: mapped VA 0x%" PRIxPTR " + 0x%" PRIx64 " at IOVA 0x%" PRIx64,
		io->id, a->va, a->len, iova);
	if (!a->iova_set) {
		a->iova = iova;
		a->iova_set = true;
		if (iova != a->va)
			mem.next_iova = RTE_MAX(mem.next_iova, iova + a->len);
		if (iova != a->va && !mem.warned_translated && !mem.translated) {
			mem.warned_translated = true;
			MEM_LOG(WARNING, "VA 0x%" PRIxPTR " lies outside the IOVA ranges the IOMMU allows: mapped at IOVA 0x%" PRIx64 "; PMDs must translate through the cache (mbuf buf_iova is the VA)",
				a->va, iova);
		}
	}
	return 0;
}

/* 0 or -errno (logged). @missing_ok: nothing mapped there (ENOENT) is done, too. */
static int
unmap_one(const struct ioas *io, const struct mem_area *a, bool missing_ok)
{
	uint64_t done = 0;
	int ret = iommufd_ioas_unmap(mem.iommufd, io->id, a->iova, a->len, &done);

	mem.unmap_calls++;
	if (ret == -ENOENT && missing_ok)
		return 0;
	if (ret < 0 || done != a->len)
		MEM_LOG(ERR, "IOAS %u: unmap of IOVA 0x%" PRIx64 " + 0x%" PRIx64 " failed: %s (unmapped 0x%" PRIx64 ")",
			io->id, a->iova, a->len, ret < 0 ? strerror(-ret) : "short", done);
	return ret < 0 ? ret : done != a->len ? -EIO : 0;
}

/* 0 or -errno (logged): PMDs translate through the cache, so memory it cannot hold
 * is no use to a device, mapped or not */
static int
cache_insert(struct mem_area *a)
{
	int ret = rte_iova_cache_insert(mem.cache, (const void *)a->va, a->len, a->iova);

	if (ret < 0)
		MEM_LOG(ERR, "cache insert of VA 0x%" PRIxPTR " + 0x%" PRIx64 " failed: %s",
			a->va, a->len, strerror(-ret));
	else
		a->cached = true;
	return ret;
}

/*
 * No-IOMMU cdev: the device DMAs to physical addresses, and @a is mapped in @io at the
 * IOVA the EAL gave its pages (in IOVA-as-PA mode, what the EAL read from pagemap) or
 * the user gave with rte_dev_dma_map(). Ask the kernel, which holds the pages pinned,
 * where they are: every byte's physical address must be its IOVA, or a device would be
 * handed an address that is not this memory. 0, or -EFAULT / the ioctl's errno (logged).
 */
static int
pa_verify(const struct ioas *io, const struct mem_area *a)
{
	uint64_t off = 0;

	while (off < a->len) {
		uint64_t len = a->len - off, pa = 0;
		int ret = iommufd_ioas_noiommu_get_pa(mem.iommufd, io->id, a->iova + off, &len,
						      &pa);

		mem.pa_queries++;
		if (ret < 0) {
			MEM_LOG(ERR, "IOAS %u: IOMMU_IOAS_NOIOMMU_GET_PA of IOVA 0x%" PRIx64 " failed: %s%s",
				io->id, a->iova + off, strerror(-ret),
				ret == -EPERM ? " (it needs CAP_SYS_RAWIO)" : "");
			return ret;
		}
		if (pa != a->iova + off || len == 0) {
			MEM_LOG(ERR, "VA 0x%" PRIxPTR " has IOVA 0x%" PRIx64 ", but the kernel says its physical address is 0x%" PRIx64 ": without an IOMMU a device given that IOVA would DMA to other memory; refused",
				a->va + off, a->iova + off, pa);
			return -EFAULT;
		}
		off += len;
	}
	return 0;
}

/*
 * Drop @a's translation from the cache. @wait: return only once no reader can hold it
 * (rte_iova_cache_remove()); never from DPDK's memory events, which run under the EAL's
 * memory lock, for which a reader lcore in rte_malloc() may be waiting: there the
 * memory is being freed, and no reader may translate freed memory anyway.
 */
static int
cache_drop(struct mem_area *a, bool wait)
{
	int ret;

	if (!a->cached)
		return 0;
	ret = wait ? rte_iova_cache_remove(mem.cache, (const void *)a->va, a->len) :
		     rte_iova_cache_remove_nowait(mem.cache, (const void *)a->va, a->len);
	if (ret < 0) {
		MEM_LOG(ERR, "cache removal of VA 0x%" PRIxPTR " + 0x%" PRIx64 " failed: %s; the memory stays mapped for DMA, as the cache says",
			a->va, a->len, strerror(-ret));
		return ret;
	}
	a->cached = false;
	return 0;
}

/* Is any IOAS populated (holding DPDK memory for an attached device)? */
static bool
any_populated(void)
{
	for (unsigned int i = 0; i < mem.n_ioas; i++)
		if (mem.ioas[i].populated)
			return true;
	return false;
}

/*
 * Map @a into every populated IOAS, at one IOVA. All or nothing. The cache learns the
 * translation once the IOMMU holds it.
 */
static int
area_map_all(struct mem_area *a)
{
	bool had_iova = a->iova_set;
	unsigned int i;
	int ret = 0;

	if (translate_only())
		return cache_insert(a);
	/* no IOAS holds memory yet: the first attachment maps it (ioas_populate) */
	if (!any_populated())
		return 0;
	for (i = 0; i < mem.n_ioas; i++) {
		if (!mem.ioas[i].populated)
			continue;
		ret = map_one(&mem.ioas[i], a);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		MEM_LOG(ERR, "IOAS %u: cannot map VA 0x%" PRIxPTR " + 0x%" PRIx64 ": %s",
			mem.ioas[i].id, a->va, a->len, strerror(-ret));
		while (i-- > 0)
			if (mem.ioas[i].populated)
				unmap_one(&mem.ioas[i], a, false);
		if (!had_iova)
			a->iova_set = false;
		return ret;
	}
	if (a->iova_set) {
		ret = 0;
		for (i = 0; mem.noiommu_cdev && i < mem.n_ioas; i++)
			if (mem.ioas[i].populated) {
				ret = pa_verify(&mem.ioas[i], a);
				break;
			}
		if (ret == 0)
			ret = cache_insert(a);
		if (ret < 0) {
			for (i = 0; i < mem.n_ioas; i++)
				if (mem.ioas[i].populated)
					unmap_one(&mem.ioas[i], a, false);
			if (!had_iova)
				a->iova_set = false;
			return ret;
		}
	}
	return 0;
}

/*
 * Forget @a everywhere: the cache first, then the IOMMU; the caller deletes the record
 * once this returns 0. On failure whatever still holds @a keeps holding it, and so
 * does the record: a cache that cannot drop the translation (-ENOMEM) leaves the
 * mapping in place (a device may be handed that translation), and an IOAS that refuses
 * the unmap keeps the pages pinned. The cache never holds a translation no IOAS maps;
 * a record goes only once its mappings are gone. Returns the first error of an IOAS
 * (each is tried); @missing_ok as for unmap_one(); @wait as for cache_drop().
 */
static int
area_unmap_all(struct mem_area *a, bool missing_ok, bool wait)
{
	int ret;

	if (!a->iova_set)
		return 0;
	ret = cache_drop(a, wait);
	if (ret < 0 || translate_only())
		return ret;
	for (unsigned int i = 0; i < mem.n_ioas; i++) {
		int r = mem.ioas[i].populated ? unmap_one(&mem.ioas[i], a, missing_ok) : 0;

		if (ret == 0)
			ret = r;
	}
	return ret;
}

/* ---- pinned-memory accounting ---- */

/* A /proc/self/status field in kB, or 0. */
static uint64_t
status_kb(const char *field)
{
	char line[256];
	uint64_t v = 0;
	size_t flen = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			v = strtoull(line + flen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static bool
has_cap_ipc_lock(void)
{
	char line[256];
	bool cap = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapEff:", 7) == 0) {
			cap = (strtoull(line + 7, NULL, 16) >> CAP_IPC_LOCK_BIT) & 1;
			break;
		}
	fclose(f);
	return cap;
}

/*
 * Before pinning @bytes more: say clearly if RLIMIT_MEMLOCK cannot hold them, instead
 * of letting an ioctl fail with a bare ENOMEM halfway through.
 */
static int
memlock_check(uint64_t bytes, uint32_t ioas_id)
{
	struct rlimit rl;
	uint64_t pinned;

	if (has_cap_ipc_lock())
		return 0; /* iommufd does not account a CAP_IPC_LOCK process's pins */
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	/* Per process, the kernel charges pinned_vm (VmPin); per user it also counts the
	 * user's other processes, which we cannot see: our own figure is a lower bound. */
	pinned = (status_kb("VmPin") + (mem.per_process ? 0 : status_kb("VmLck"))) * 1024;
	if (pinned + bytes <= rl.rlim_cur)
		return 0;
	MEM_LOG(ERR, "IOAS %u: RLIMIT_MEMLOCK is %" PRIu64 " KiB but DMA needs %" PRIu64 " KiB of DPDK memory pinned (%" PRIu64 " KiB already pinned); raise it (ulimit -l, systemd LimitMEMLOCK=) or grant CAP_IPC_LOCK",
		ioas_id, (uint64_t)rl.rlim_cur / 1024, bytes / 1024, pinned / 1024);
	return -ENOMEM;
}

/*
 * Run-time allocations: every byte of DPDK memory gets pinned for DMA, so an allocation
 * that RLIMIT_MEMLOCK cannot hold is refused before it happens (an EAL allocation
 * validator, called when a socket's memory would grow past the limit), with the
 * figures, rather than made and left unusable for devices (a map that fails in the
 * memory event callback cannot undo the allocation). Per socket, the limit is the
 * process's: a lower bound of what the kernel checks.
 */
static int
memlock_validator(int socket_id, size_t cur_limit, size_t new_len)
{
	RTE_SET_USED(socket_id);
	MEM_LOG(ERR, "RLIMIT_MEMLOCK is %zu KiB but DMA needs %zu KiB of DPDK memory pinned: "
		"allocation refused; raise it (ulimit -l, systemd LimitMEMLOCK=) or grant "
		"CAP_IPC_LOCK", cur_limit / 1024, new_len / 1024);
	return -1;
}

/* Registered when RLIMIT_MEMLOCK binds this process; false otherwise. */
static bool
memlock_validator_register(void)
{
	struct rlimit rl;
	bool any = false;

	if (has_cap_ipc_lock() || getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return false;
	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_mem_alloc_validator_register(MEM_EVENT_CB_NAME, memlock_validator,
						     rte_socket_id_by_idx(i),
						     (size_t)rl.rlim_cur) == 0)
			any = true;
	return any;
}

static void
memlock_validator_unregister(void)
{
	for (unsigned int i = 0; i < rte_socket_count(); i++)
		rte_mem_alloc_validator_unregister(MEM_EVENT_CB_NAME, rte_socket_id_by_idx(i));
}

/* ---- populating an IOAS ---- */

static struct ioas *
ioas_find(uint32_t id)
{
	for (unsigned int i = 0; i < mem.n_ioas; i++)
		if (mem.ioas[i].id == id)
			return &mem.ioas[i];
	return NULL;
}

static int
ioas_populate(struct ioas *io)
{
	uint64_t bytes = 0;
	bool first = !any_populated();
	unsigned int i;
	int ret;

	for (i = 0; i < mem.n_areas; i++)
		bytes += mem.areas[i].len;
	ret = memlock_check(bytes, io->id);
	if (ret < 0)
		return ret;
	for (i = 0; i < mem.n_areas; i++) {
		struct mem_area *a = &mem.areas[i];
		bool new_iova = !a->iova_set;

		ret = map_one(io, a);
		if (ret < 0) {
			MEM_LOG(ERR, "IOAS %u: cannot map VA 0x%" PRIxPTR " + 0x%" PRIx64 ": %s%s",
				io->id, a->va, a->len, strerror(-ret),
				ret == -ENOMEM ? " (RLIMIT_MEMLOCK?)" :
				ret == -ERANGE ? " (outside the IOVA ranges this IOAS allows)" : "");
			break;
		}
		/* the first IOAS to map an area makes its translation valid */
		if (!a->cached) {
			ret = mem.noiommu_cdev ? pa_verify(io, a) : 0;
			if (ret == 0)
				ret = cache_insert(a);
			if (ret < 0) {
				unmap_one(io, a, false);
				if (new_iova)
					a->iova_set = false;
				break;
			}
		}
	}
	if (ret < 0) {
		/* Undo this IOAS only; areas already known to other IOASes keep their IOVA
		 * and translation. The probe fails: no device was handed these. */
		while (i-- > 0) {
			unmap_one(io, &mem.areas[i], false);
			if (first)
				cache_drop(&mem.areas[i], false);
		}
		return ret;
	}
	io->populated = true;
	if (mem.noiommu_cdev)
		MEM_LOG(INFO, "IOAS %u populated: %u areas, %" PRIu64 " MiB pinned; their physical addresses confirmed by IOMMU_IOAS_NOIOMMU_GET_PA (%" PRIu64 " queries so far)",
			io->id, mem.n_areas, bytes >> 20, mem.pa_queries);
	else
		MEM_LOG(INFO, "IOAS %u populated: %u areas, %" PRIu64 " MiB", io->id, mem.n_areas,
			bytes >> 20);
	return 0;
}

/* ---- EAL memory ---- */

/*
 * Whether the EAL runs with --match-allocations, under which it frees heap memory only
 * in the exact chunks it allocated: then a run-time allocation can be one IOAS area and
 * its free is still an exact unmap. The EAL keeps the flag private, so read the EAL
 * arguments of the process command line (up to "--", where application arguments
 * start). If the EAL got its arguments some other way we fall back to pages: more
 * ioctls, never an inexact unmap. A wrong "yes" is caught in event_free().
 */
static bool
eal_matches_allocations(void)
{
	char buf[8192];
	bool found = false;
	ssize_t n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
		if (strcmp(arg, "--") == 0)
			break;
		if (strcmp(arg, "--match-allocations") == 0)
			found = true;
	}
	return found;
}

/* Collect the EAL's memory at start-up: preallocated pages as VA-contiguous runs. */
static int
init_walk(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct mem_area a = {
		.va = (uintptr_t)ms->addr,
		.len = ms->len,
		.kind = (ms->flags & RTE_MEMSEG_FLAG_DO_NOT_FREE) ? AREA_RUN : AREA_PAGE,
	};
	struct mem_area *prev = mem.n_areas ? &mem.areas[mem.n_areas - 1] : NULL;
	int ret;

	RTE_SET_USED(arg);
	/* External memory outside a malloc heap is the user's to map (rte_dev_dma_map). */
	if (msl->external && !msl->heap)
		return 0;
	if (iova_from_memsegs() && !msl->external) {
		/* IOVA = PA (what the EAL found in pagemap), or the primary's IOVA
		 * (secondary): a device given the EAL's IOVA must find this page there */
		if (ms->iova == RTE_BAD_IOVA) {
			MEM_LOG(ERR, "page 0x%" PRIxPTR " has no IOVA from the EAL (IOVA as %s): devices cannot use it",
				a.va, rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" : "VA");
			return -EFAULT;
		}
		a.iova = ms->iova;
		a.iova_set = true;
		/* mapped with an IOMMU: pages contiguous in both VA and IOVA are one run,
		 * one mapping; in translate-only modes, page by page as before */
		if (translate_only() || a.kind != AREA_RUN)
			a.kind = AREA_PAGE;
		else if (prev != NULL && prev->kind == AREA_RUN && prev->iova_set &&
			 prev->va + prev->len == a.va && prev->iova + prev->len == a.iova) {
			prev->len += a.len;
			return 0;
		}
	} else if (msl->external) {
		/* page by page: the IOVA the user gave for external heap memory, if any */
		if (ms->iova != RTE_BAD_IOVA) {
			a.iova = ms->iova;
			a.iova_set = true;
		}
		a.kind = AREA_PAGE;
	} else if (a.kind == AREA_RUN && prev != NULL && prev->kind == AREA_RUN &&
		   prev->va + prev->len == a.va &&
		   (!mem.translated || prev->va >= (uintptr_t)msl->base_va)) {
		/* (translated: a run stays inside its memseg list's IOVA window) */
		prev->len += a.len;
		return 0;
	}
	ret = area_insert(&a);
	return ret < 0 ? ret : 0;
}

/*
 * Finish forgetting the freed areas in [va, va + len) (see struct mem_area), before
 * the range is recorded again: where one still holds on, area_insert() refuses the new
 * memory (-EEXIST) and says so, rather than let two records of one VA disagree.
 */
static void
freed_retry(uintptr_t va, uint64_t len)
{
	unsigned int i = area_search(va);

	while (i < mem.n_areas && mem.areas[i].va < va + len) {
		struct mem_area *a = &mem.areas[i];

		if (a->freed && area_unmap_all(a, true, false) == 0) {
			MEM_LOG(NOTICE, "freed memory 0x%" PRIxPTR " + 0x%" PRIx64 " is forgotten at last",
				a->va, a->len);
			area_delete(i);
			continue;
		}
		i++;
	}
}

/*
 * New EAL memory [va, va + len), recorded in the unit a later free can take away: the
 * whole chunk under --match-allocations, else each page (as DPDK's own VFIO code does).
 * @whole_chunk false forces pages (the remainder of a split chunk).
 */
static void
event_alloc(uintptr_t va, size_t len, bool whole_chunk)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list((void *)va);
	uint64_t pgsz = msl != NULL ? msl->page_sz : 0;
	/* External heap pages may carry IOVAs of the user's choosing: page by page. */
	bool chunk = whole_chunk && mem.match_allocations && msl != NULL && !msl->external &&
		     !iova_from_memsegs();
	uint64_t unit = chunk ? len : pgsz;

	/*
	 * Every memory event is about heap memory, internal or external: do not test
	 * msl->heap here, rte_malloc_heap_memory_add() sets it only after the event.
	 */
	if (msl == NULL || pgsz == 0) {
		MEM_LOG(ERR, "alloc event at 0x%" PRIxPTR ": no memseg list", va);
		return;
	}
	for (uintptr_t p = va; p < va + len; p += unit) {
		struct mem_area a = { .va = p, .len = unit, .kind = chunk ? AREA_CHUNK : AREA_PAGE };
		const struct rte_memseg *ms = rte_mem_virt2memseg((void *)p, msl);
		int i;

		/* the EAL's IOVA (PA, or the primary's); the user's for external memory */
		if (ms != NULL && ms->iova != RTE_BAD_IOVA && (iova_from_memsegs() || msl->external)) {
			a.iova = ms->iova;
			a.iova_set = true;
		} else if (iova_from_memsegs() && !msl->external) {
			MEM_LOG(ERR, "page 0x%" PRIxPTR " has no IOVA from the EAL (IOVA as %s): devices cannot use it",
				p, rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" : "VA");
			continue;
		}
		freed_retry(p, unit);
		i = area_insert(&a);
		if (i < 0) {
			MEM_LOG(ERR, "alloc event: cannot record 0x%" PRIxPTR ": %s%s", p, strerror(-i),
				i == -EEXIST ? " (memory freed there earlier is still mapped: its unmap failed)" : "");
			continue;
		}
		if (area_map_all(&mem.areas[i]) < 0) {
			MEM_LOG(ERR, "0x%" PRIxPTR " + 0x%" PRIx64 " is NOT mapped for DMA: devices cannot use it",
				p, unit);
			area_delete(i);
		}
	}
}

/*
 * Free [va, va + len): unmap exactly the areas inside it. An area only partly inside
 * should not exist (runs are never freed before cleanup; chunks are freed whole under
 * --match-allocations). If one does, iommufd cannot split it: it is unmapped whole and
 * the remainder mapped again page by page, leaving live memory briefly unmapped for the
 * device. That is an error worth a loud line.
 */
static void
event_free(uintptr_t va, size_t len)
{
	uintptr_t end = va + len;
	unsigned int i = area_search(va);

	while (i < mem.n_areas && mem.areas[i].va < end) {
		struct mem_area a = mem.areas[i];
		bool split = a.va < va || a.va + a.len > end;

		if (a.kind == AREA_EXTERNAL || a.freed) {
			i++;
			continue;
		}
		if (area_unmap_all(&mem.areas[i], false, false) < 0) {
			struct mem_area *kept = &mem.areas[i];

			/* A split area holds live memory too: it must stay translatable. */
			if (split && !kept->cached)
				cache_insert(kept);
			else if (!split)
				kept->freed = true;
			MEM_LOG(ERR, "freed memory 0x%" PRIxPTR " + 0x%" PRIx64 " stays %s: %s",
				a.va, a.len, kept->cached ? "mapped and in the cache" : "mapped",
				split ? "it shares an area with live memory" :
				"recorded until a retry succeeds (when the range is allocated again, or at the end)");
			i++;
			continue;
		}
		area_delete(i);
		if (split) {
			MEM_LOG(ERR, "free of 0x%" PRIxPTR " + 0x%zx splits %s 0x%" PRIxPTR " + 0x%" PRIx64 ": remapping the rest page by page; devices must not DMA there meanwhile",
				va, len, a.kind == AREA_CHUNK ? "allocation" : "area", a.va, a.len);
			if (a.kind == AREA_CHUNK && mem.match_allocations) {
				MEM_LOG(ERR, "the EAL does not match allocations after all: mapping page by page from now on");
				mem.match_allocations = false;
			}
			if (a.va < va)
				event_alloc(a.va, va - a.va, false);
			if (a.va + a.len > end)
				event_alloc(end, a.va + a.len - end, false);
			i = area_search(end);
		}
	}
}

static void
mem_event_cb(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	RTE_SET_USED(arg);
	pthread_mutex_lock(&mem.lock);
	if (mem.refcnt > 0) {
		if (type == RTE_MEM_EVENT_ALLOC)
			event_alloc((uintptr_t)addr, len, true);
		else
			event_free((uintptr_t)addr, len);
	}
	pthread_mutex_unlock(&mem.lock);
}

/* ---- life cycle ---- */

/* Readers the library registered for PMDs (rte_iommufd_mem_reader_enter()). */
static unsigned int
pmd_readers_count(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		n += __atomic_load_n(&mem.pmd_reader[i], __ATOMIC_RELAXED);
	return n;
}

/*
 * Unregister them, from this thread: only their devices' data paths used them, and
 * those are gone. (The cache's unregister only clears the reader's slot; a reader
 * that is offline holds nothing.)
 */
static void
pmd_readers_unregister(void)
{
	for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
		if (__atomic_load_n(&mem.pmd_reader[i], __ATOMIC_RELAXED)) {
			rte_iova_cache_reader_unregister(mem.cache, i);
			__atomic_store_n(&mem.pmd_reader[i], false, __ATOMIC_RELAXED);
		}
}

static void
teardown(void)
{
	for (unsigned int i = 0; i < mem.n_areas; i++)
		area_unmap_all(&mem.areas[i], mem.areas[i].freed, true);
	free(mem.areas);
	mem.areas = NULL;
	mem.n_areas = mem.cap_areas = 0;
	for (unsigned int i = 0; i < mem.n_ioas; i++) {
		int ret = iommufd_destroy(mem.iommufd, mem.ioas[i].id);

		if (ret < 0)
			MEM_LOG(ERR, "IOAS %u: destroy failed: %s", mem.ioas[i].id, strerror(-ret));
	}
	for (unsigned int i = 0; i < mem.n_ioas; i++)
		ranges_free(&mem.ioas[i]);
	memset(mem.ioas, 0, sizeof(mem.ioas));
	mem.n_ioas = 0;
	if (mem.iommufd >= 0)
		close(mem.iommufd);
	mem.iommufd = -1;
	/* rte_iommufd_mem_fini() refuses while readers are registered; an init that
	 * fails has handed the cache to none */
	pmd_readers_unregister();
	if (mem.cache != NULL && rte_iova_cache_free(mem.cache) < 0)
		MEM_LOG(ERR, "the translation cache has readers: left allocated");
	mem.cache = NULL;
	mem.mode = RTE_IOMMUFD_MEM_MODE_NONE;
	mem.map_calls = mem.unmap_calls = mem.map_file_calls = 0;
	mem.map_file = 0;
	mem.next_iova = 0;
	mem.n_windows = 0;
	mem.warned_translated = false;
	mem.secondary = false;
	mem.noiommu_cdev = false;
	mem.pa_queries = 0;
}

static int
start_iommufd(const struct rte_iommufd_mem_conf *conf)
{
	const char *path = conf->iommufd_path != NULL ? conf->iommufd_path : IOMMUFD_DEV_PATH;
	int ret;

	ret = iommufd_open(path);
	if (ret < 0) {
		MEM_LOG(ERR, "cannot open %s: %s%s", path, strerror(-ret),
			ret == -ENOENT ? " (kernel without CONFIG_IOMMUFD, or no IOMMU enabled)" :
			ret == -EACCES ? " (permission: vfiofd needs read-write access)" : "");
		return ret;
	}
	mem.iommufd = ret;
	/* Must precede every object in this iommufd, or the kernel refuses it. */
	ret = iommufd_set_rlimit_mode(mem.iommufd, true);
	mem.per_process = ret == 0;
	if (ret < 0)
		MEM_LOG(INFO, "pinned memory is charged per user (per-process accounting needs CAP_SYS_RESOURCE: %s)",
			strerror(-ret));
	/* A fresh slot: after a teardown (the last device gone) the old one still says
	 * "populated", and a device attached later would get no DPDK memory mapped. */
	memset(&mem.ioas[0], 0, sizeof(mem.ioas[0]));
	mem.n_ioas = 1;
	ret = iommufd_ioas_alloc(mem.iommufd, &mem.ioas[0].id);
	if (ret < 0) {
		MEM_LOG(ERR, "IOMMU_IOAS_ALLOC failed: %s", strerror(-ret));
		mem.n_ioas = 0;
		return ret;
	}
	return ranges_read(&mem.ioas[0]);
}

int
rte_iommufd_mem_init(const struct rte_iommufd_mem_conf *conf)
{
	static const struct rte_iommufd_mem_conf defaults;
	struct rte_iova_cache_params cp = { .name = "iommufd_mem" };
	enum rte_iommufd_mem_mode want;
	int ret;

	if (conf == NULL)
		conf = &defaults;
	want = conf->noiommu ? RTE_IOMMUFD_MEM_MODE_NOIOMMU : RTE_IOMMUFD_MEM_MODE_IOMMUFD;

	/* Hotplug lock first (the order of the event path): no page can come or go
	 * between the walk and the callback registration. */
	rte_mcfg_mem_read_lock();
	pthread_mutex_lock(&mem.lock);
	if (conf->secondary && mem.refcnt > 0 && conf->iommufd >= 0)
		close(conf->iommufd); /* ours to close: the running library has its own */
	if (mem.refcnt > 0) {
		ret = mem.mode == want && mem.noiommu_cdev == (conf->noiommu && conf->noiommu_cdev) ?
		      0 : -EBUSY;
		if (ret == 0)
			mem.refcnt++;
		else
			MEM_LOG(ERR, "already running in %s mode; cannot also run in %s mode",
				mode_name(mem.mode, mem.noiommu_cdev),
				mode_name(want, conf->noiommu && conf->noiommu_cdev));
		goto out;
	}
	if ((rte_eal_process_type() != RTE_PROC_PRIMARY) != conf->secondary) {
		ret = -ENOTSUP;
		if (conf->secondary) {
			if (conf->iommufd >= 0)
				close(conf->iommufd);
			MEM_LOG(ERR, "secondary mode asked for in the primary process");
		} else {
			MEM_LOG(ERR, "a secondary process runs on the primary's iommufd: give it in rte_iommufd_mem_conf (secondary, iommufd)");
		}
		goto out;
	}
	if (conf->secondary && (want != RTE_IOMMUFD_MEM_MODE_IOMMUFD || conf->iommufd < 0)) {
		ret = -EINVAL;
		if (conf->iommufd >= 0)
			close(conf->iommufd);
		MEM_LOG(ERR, "secondary mode needs the primary's iommufd (no-IOMMU mode has no secondaries)");
		goto out;
	}
	if (want == RTE_IOMMUFD_MEM_MODE_NOIOMMU && vfio_noiommu_mode_enabled(NULL) != 1) {
		ret = -EPERM;
		MEM_LOG(ERR, "no-IOMMU mode refused: vfio's unsafe no-IOMMU mode is not enabled in the kernel (vfio.enable_unsafe_noiommu_mode=1; it lets devices DMA anywhere)");
		goto out;
	}
	if (want == RTE_IOMMUFD_MEM_MODE_NOIOMMU && rte_eal_iova_mode() != RTE_IOVA_PA) {
		ret = -EINVAL;
		MEM_LOG(ERR, "no-IOMMU mode needs physical addresses: start the EAL with --iova-mode=pa");
		goto out;
	}
	mem.mode = want;
	mem.noiommu_cdev = conf->noiommu && conf->noiommu_cdev;
	if (conf->secondary) {
		/* owned from here: teardown() closes it on failure */
		mem.iommufd = conf->iommufd;
		mem.secondary = true;
	}
	cp.max_readers = RTE_MAX_LCORE;
	mem.cache = rte_iova_cache_create(&cp);
	if (mem.cache == NULL) {
		ret = -ENOMEM;
		MEM_LOG(ERR, "cannot create the translation cache: %s", strerror(-ret));
		goto fail;
	}
	if (conf->secondary) {
		/* nothing to open nor allocate: the primary's IOASes hold our memory */
	} else if (want == RTE_IOMMUFD_MEM_MODE_IOMMUFD || mem.noiommu_cdev) {
		ret = start_iommufd(conf);
		if (ret < 0)
			goto fail;
	}
	if (want == RTE_IOMMUFD_MEM_MODE_NOIOMMU)
		MEM_LOG(WARNING, "NO-IOMMU MODE: devices can DMA anywhere in physical memory; IOVA = physical address%s",
			mem.noiommu_cdev ? " (no-IOMMU cdev: pages pinned by an IOAS, their addresses checked with the kernel)" : "");
	ret = rte_memseg_walk_thread_unsafe(init_walk, NULL);
	if (ret < 0) {
		MEM_LOG(ERR, "cannot record DPDK memory: %s", strerror(-ret));
		goto fail;
	}
	if (translate_only())
		for (unsigned int i = 0; i < mem.n_areas && ret >= 0; i++)
			if (mem.areas[i].iova_set)
				ret = cache_insert(&mem.areas[i]);
	if (ret < 0)
		goto fail;
	ret = rte_mem_event_callback_register(MEM_EVENT_CB_NAME, mem_event_cb, NULL);
	if (ret < 0 && rte_errno != ENOTSUP) {
		ret = -rte_errno;
		MEM_LOG(ERR, "cannot follow DPDK memory events: %s", strerror(-ret));
		goto fail;
	}
	/* ENOTSUP: --legacy-mem, where memory never changes after start-up. */
	mem.event_cb = ret == 0;
	mem.validator = mem.event_cb && !mem.secondary && memlock_validator_register();
	mem.match_allocations = conf->match_allocations || eal_matches_allocations();
	mem.refcnt = 1;
	ret = 0;
	MEM_LOG(INFO, "%s mode%s%s, %u memory areas recorded; run-time memory mapped %s",
		mode_name(want, mem.noiommu_cdev),
		mem.secondary ? " (secondary: the primary maps)" : "",
		!translate_only() && iova_from_memsegs() ?
		" (IOVA as PA: each page mapped at its physical address)" : "", mem.n_areas,
		mem.match_allocations ? "per allocation (--match-allocations)" : "per page");
	goto out;
fail:
	teardown();
out:
	pthread_mutex_unlock(&mem.lock);
	rte_mcfg_mem_read_unlock();
	return ret;
}

int
rte_iommufd_mem_fini(void)
{
	bool unregister = false, validator = false;
	unsigned int readers;
	int ret = 0;

	pthread_mutex_lock(&mem.lock);
	/* the lcores PMDs registered through rte_iommufd_mem_reader_enter() are offline
	 * between bursts, and their devices are gone by now: not the user's readers */
	readers = rte_iova_cache_readers(mem.cache) - pmd_readers_count();
	if (mem.refcnt == 1 && readers > 0) {
		/* Unmapping memory a reader may still translate would hand devices dead
		 * IOVAs, and freeing the cache under it a use-after-free. */
		MEM_LOG(ERR, "not torn down: %u reader(s) of the translation cache still registered (a PMD's lcores must call rte_iova_cache_reader_unregister() first); memory stays mapped",
			readers);
		ret = -EBUSY;
	} else if (mem.refcnt > 0 && --mem.refcnt == 0) {
		unregister = mem.event_cb;
		mem.event_cb = false;
		validator = mem.validator;
		mem.validator = false;
		teardown();
	}
	pthread_mutex_unlock(&mem.lock);
	/* Outside mem.lock: unregistering waits for running callbacks, which take it. */
	if (unregister)
		rte_mem_event_callback_unregister(MEM_EVENT_CB_NAME, NULL);
	if (validator)
		memlock_validator_unregister();
	return ret;
}

enum rte_iommufd_mem_mode
rte_iommufd_mem_mode(void)
{
	return mem.mode;
}

int
rte_iommufd_mem_iommufd(void)
{
	return mem.iommufd;
}

uint32_t
rte_iommufd_mem_default_ioas(void)
{
	return mem.n_ioas > 0 ? mem.ioas[0].id : 0;
}

struct rte_iova_cache *
rte_iommufd_mem_cache(void)
{
	return mem.cache;
}

int
rte_iommufd_mem_translate_set(bool on)
{
	int ret = 0;

	pthread_mutex_lock(&mem.lock);
	if (mem.refcnt > 0 && on != mem.translated)
		ret = -EBUSY;
	else
		mem.translated = on;
	pthread_mutex_unlock(&mem.lock);
	return ret;
}

bool
rte_iommufd_mem_translated(void)
{
	return mem.translated;
}

int
rte_iommufd_mem_reader_enter(void)
{
	unsigned int lcore = rte_lcore_id();

	if (lcore >= RTE_MAX_LCORE || mem.cache == NULL)
		return -1;
	/* only this lcore writes its flag while it runs; teardown clears it after the
	 * devices (and their data paths) are gone */
	if (likely(mem.pmd_reader[lcore])) {
		rte_iova_cache_reader_online(mem.cache, lcore);
		return (int)lcore;
	}
	if (rte_iova_cache_reader_register(mem.cache, lcore) != 0)
		return -1; /* the id is the application's own reader: translate locked */
	__atomic_store_n(&mem.pmd_reader[lcore], true, __ATOMIC_RELAXED);
	return (int)lcore;
}

void
rte_iommufd_mem_reader_leave(int reader)
{
	if (reader >= 0)
		rte_iova_cache_reader_offline(mem.cache, (unsigned int)reader);
}

int
rte_iommufd_mem_ioas_create(uint32_t *ioas_id)
{
	int ret;

	pthread_mutex_lock(&mem.lock);
	if (mem.refcnt == 0 || translate_only()) {
		ret = -ENODEV;
	} else if (mem.n_ioas == MAX_IOAS) {
		ret = -ENOSPC;
		MEM_LOG(ERR, "too many IOASes (%d)", MAX_IOAS);
	} else {
		struct ioas *io = &mem.ioas[mem.n_ioas];

		memset(io, 0, sizeof(*io));
		ret = iommufd_ioas_alloc(mem.iommufd, &io->id);
		if (ret < 0) {
			MEM_LOG(ERR, "IOMMU_IOAS_ALLOC failed: %s", strerror(-ret));
		} else {
			ret = ranges_read(io);
			if (ret < 0) {
				iommufd_destroy(mem.iommufd, io->id);
			} else {
				mem.n_ioas++;
				*ioas_id = io->id;
			}
		}
	}
	pthread_mutex_unlock(&mem.lock);
	return ret;
}

int
rte_iommufd_mem_ioas_release(uint32_t ioas_id)
{
	struct ioas *io;
	int ret = 0;

	pthread_mutex_lock(&mem.lock);
	io = ioas_find(ioas_id);
	if (io == NULL || io == &mem.ioas[0]) {
		ret = -EINVAL;
		goto out;
	}
	if (io->populated) {
		bool last;

		io->populated = false;
		/* the last IOAS holding the memory: its translations go first */
		last = !any_populated();
		for (unsigned int i = 0; i < mem.n_areas; i++) {
			if (last)
				cache_drop(&mem.areas[i], true);
			unmap_one(io, &mem.areas[i], false);
		}
	}
	ret = iommufd_destroy(mem.iommufd, io->id);
	if (ret < 0)
		MEM_LOG(ERR, "IOAS %u: destroy failed: %s%s", io->id, strerror(-ret),
			ret == -EBUSY ? " (a device is still attached to it: the kernel "
			"destroys an IOAS only once every device has detached)" : "");
	ranges_free(io);
	*io = mem.ioas[--mem.n_ioas];
	memset(&mem.ioas[mem.n_ioas], 0, sizeof(mem.ioas[0]));
out:
	pthread_mutex_unlock(&mem.lock);
	return ret;
}

int
rte_iommufd_mem_attached(uint32_t ioas_id, const char *dev_name)
{
	struct ioas *io;
	int ret;

	/* The hotplug lock first, as on the event path: populating looks memsegs up. */
	rte_mcfg_mem_read_lock();
	pthread_mutex_lock(&mem.lock);
	io = ioas_find(ioas_id);
	if (io == NULL || translate_only()) {
		ret = -EINVAL;
		goto out;
	}
	ret = ranges_read(io);
	if (ret < 0)
		goto out;
	if (!io->populated) {
		ret = ioas_populate(io);
		if (ret < 0)
			MEM_LOG(ERR, "%s: DPDK memory cannot be mapped for the device: %s", dev_name,
				strerror(-ret));
		goto out;
	}
	for (unsigned int i = 0; i < mem.n_areas; i++) {
		const struct mem_area *a = &mem.areas[i];

		if (a->iova_set && !range_fits(io, a->iova, a->len)) {
			MEM_LOG(ERR, "%s: attaching it narrowed IOAS %u's IOVA ranges so that IOVA 0x%" PRIx64 " + 0x%" PRIx64 " no longer fits; give the device a private IOAS",
				dev_name, io->id, a->iova, a->len);
			ret = -ERANGE;
			break;
		}
	}
out:
	pthread_mutex_unlock(&mem.lock);
	rte_mcfg_mem_read_unlock();
	return ret;
}

int
rte_iommufd_mem_dma_map(void *va, uint64_t iova, size_t len)
{
	struct mem_area a = {
		.va = (uintptr_t)va,
		.len = len,
		.iova = iova,
		.iova_set = true,
		.kind = AREA_EXTERNAL,
	};
	int i, ret;

	if (len == 0 || (uintptr_t)va + len < (uintptr_t)va)
		return -EINVAL;
	pthread_mutex_lock(&mem.lock);
	if (mem.refcnt == 0 || mem.secondary) {
		/* a secondary cannot map: the primary owns the address spaces */
		ret = mem.refcnt == 0 ? -ENODEV : -ENOTSUP;
		goto out;
	}
	i = area_insert(&a);
	if (i < 0) {
		ret = i;
		MEM_LOG(ERR, "DMA map of VA %p + 0x%zx: %s", va, len,
			i == -EEXIST ? "overlaps memory already mapped" : strerror(-i));
		goto out;
	}
	ret = area_map_all(&mem.areas[i]);
	if (ret < 0)
		area_delete(i);
out:
	pthread_mutex_unlock(&mem.lock);
	return ret;
}

/*
 * Why a DMA unmap matches no mapping made with rte_dev_dma_map(), for the user who
 * asked; @a is the area holding @va, if any. Mappings are undone whole, as made: the
 * kernel refuses to split one (IOMMU_IOAS_UNMAP: ENOENT), and so does the library,
 * before any ioctl, so that a refused unmap changes nothing.
 */
static void
dma_unmap_refused(const void *va, uint64_t iova, size_t len, const struct mem_area *a)
{
	char why[192];

	if (a == NULL)
		snprintf(why, sizeof(why), "no such mapping");
	else if (a->kind != AREA_EXTERNAL)
		snprintf(why, sizeof(why), "that is DPDK memory, which the library maps "
			 "itself, not a mapping made with rte_dev_dma_map()");
	else if (a->va != (uintptr_t)va || a->len != len)
		snprintf(why, sizeof(why), "it does not match the mapping VA 0x%" PRIxPTR
			 " + 0x%" PRIx64 " at IOVA 0x%" PRIx64 "; unmap whole mappings, exactly "
			 "as mapped (the kernel cannot split one)", a->va, a->len, a->iova);
	else
		snprintf(why, sizeof(why), "that memory is mapped at IOVA 0x%" PRIx64, a->iova);
	MEM_LOG(ERR, "DMA unmap of VA %p + 0x%zx at IOVA 0x%" PRIx64 " refused: %s", va, len,
		iova, why);
}

int
rte_iommufd_mem_dma_unmap(void *va, uint64_t iova, size_t len)
{
	const struct mem_area *a = NULL;
	unsigned int i;
	int ret = -ENOENT;

	pthread_mutex_lock(&mem.lock);
	i = area_search((uintptr_t)va);
	if (i < mem.n_areas && mem.areas[i].va <= (uintptr_t)va)
		a = &mem.areas[i];
	if (a != NULL && a->va == (uintptr_t)va && a->len == len && a->iova == iova &&
	    a->kind == AREA_EXTERNAL) {
		/*
		 * An IOAS that refuses keeps the mapping, pinned: so does the record, and
		 * the caller hears of it and may unmap again (where it is gone already,
		 * the kernel's ENOENT then counts as done).
		 */
		ret = area_unmap_all(&mem.areas[i], true, true);
		if (ret == 0)
			area_delete(i);
	} else {
		dma_unmap_refused(va, iova, len, a);
	}
	pthread_mutex_unlock(&mem.lock);
	return ret;
}

rte_iova_t
rte_iommufd_mem_va2iova(const void *va)
{
	struct rte_iova_cache *c = mem.cache;

	/* callers are control paths, not registered readers of the cache */
	return c != NULL ? rte_iova_cache_va2iova_locked(c, va) : RTE_BAD_IOVA;
}

void
rte_iommufd_mem_stats_get(struct rte_iommufd_mem_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&mem.lock);
	st->map_calls = mem.map_calls;
	st->unmap_calls = mem.unmap_calls;
	st->map_file_calls = mem.map_file_calls;
	st->pa_queries = mem.pa_queries;
	st->ioas_count = mem.n_ioas;
	for (unsigned int i = 0; i < mem.n_ioas; i++)
		st->ioas_populated += mem.ioas[i].populated;
	if (mem.n_ioas > 0 && mem.ioas[0].populated) {
		st->areas = mem.n_areas;
		for (unsigned int i = 0; i < mem.n_areas; i++)
			st->mapped_bytes += mem.areas[i].len;
	}
	for (unsigned int i = 0; i < mem.n_areas; i++) {
		if (mem.areas[i].iova_set && mem.areas[i].iova != mem.areas[i].va)
			st->iova_translated += mem.areas[i].len;
		st->cached_areas += mem.areas[i].cached;
		if (mem.areas[i].freed)
			st->freed_held_bytes += mem.areas[i].len;
	}
	pthread_mutex_unlock(&mem.lock);
}
