/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef RTE_IOMMUFD_MEM_H
#define RTE_IOMMUFD_MEM_H

/**
 * @file
 * DPDK memory in an iommufd I/O address space.
 *
 * The process has one iommufd (/dev/iommu) and one default I/O address space (IOAS)
 * that every device attaches to unless it asks for a private one. The library maps all
 * DPDK memory into every IOAS it manages: the memory that exists when it starts, memory
 * the EAL allocates or frees later (through the memory event callback), and external
 * memory a driver or application registers with rte_dev_dma_map(). Device DMA
 * addresses are IOVA == VA wherever the IOAS allows it; see rte_iommufd_mem_va2iova().
 *
 * An IOAS is populated when the first device attaches to it (rte_iommufd_mem_attached()):
 * only then does a map reach an IOMMU page table, and only then are the IOVA ranges the
 * device allows known, so IOVAs are chosen inside them.
 *
 * Mapping granularity: iommufd can only unmap whole areas, so an area must never be
 * larger than what the EAL may later free at once. Memory the EAL preallocated at
 * start-up (-m/--socket-mem; never freed before rte_eal_cleanup) is mapped one
 * VA-contiguous run per call. Memory allocated at run time is mapped one allocation per
 * call when the EAL runs with --match-allocations (it then frees exactly what it
 * allocated), one hugepage per call otherwise (the EAL may free any page of it).
 *
 * Where the kernel has IOMMU_IOAS_MAP_FILE (6.13+), an area backed by one hugepage file
 * is mapped from the file; otherwise, or on older kernels, by address.
 *
 * Without an IOMMU (vfio's unsafe no-IOMMU mode) the library runs in no-IOMMU mode,
 * where IOVA = physical address. Before Linux 7.3 there is no iommufd for such a device
 * (it is opened through its VFIO group); from 7.3 a no-IOMMU cdev binds to an iommufd,
 * and the library pins memory through an IOAS and takes physical addresses from the
 * kernel (rte_iommufd_mem_conf::noiommu_cdev).
 *
 * In a secondary process the library runs on the primary's iommufd and maps nothing
 * (see rte_iommufd_mem_conf::secondary).
 *
 * The library is driven by the vfiofd bus; PMDs use only the translation functions.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How the library maps memory for devices. */
enum rte_iommufd_mem_mode {
	RTE_IOMMUFD_MEM_MODE_NONE = 0, /**< not initialised */
	RTE_IOMMUFD_MEM_MODE_IOMMUFD,  /**< iommufd IOAS, IOVA == VA where allowed */
	RTE_IOMMUFD_MEM_MODE_NOIOMMU,  /**< no IOMMU: IOVA = physical address */
};

/** Options for rte_iommufd_mem_init(). */
struct rte_iommufd_mem_conf {
	/** iommufd path; NULL means "/dev/iommu". */
	const char *iommufd_path;
	/** No-IOMMU mode instead of iommufd (the user opted in; the kernel allows it). */
	bool noiommu;
	/**
	 * With @noiommu: the devices are no-IOMMU cdevs (/dev/vfio/devices/noiommu-vfioN,
	 * Linux 7.3+), bound to an iommufd like any cdev. The library then maps DPDK memory
	 * into an IOAS as in iommufd mode, at IOVA = the EAL's physical address: the IOAS
	 * pins the pages, and IOMMU_IOAS_NOIOMMU_GET_PA confirms each area's physical
	 * address before a device may be handed it. Without it, no-IOMMU devices are opened
	 * through their VFIO group, and nothing is mapped nor pinned.
	 */
	bool noiommu_cdev;
	/**
	 * The EAL was started with --match-allocations. The library finds that flag on the
	 * process command line by itself; a program that builds the EAL's argv another way
	 * says so here. Wrongly set, memory is unmapped page by page after the first free
	 * that splits an allocation (logged as an error).
	 */
	bool match_allocations;
	/**
	 * Secondary process: run on the primary's iommufd, @iommufd, received over DPDK's
	 * IPC (the library owns it from then on, whatever the result). The primary keeps
	 * mapping all memory, which it shares with its secondaries at the same addresses,
	 * so the secondary maps nothing: it only translates, from the memsegs (their IOVA
	 * is the VA in IOVA-as-VA mode, which is where the primary mapped them; a primary
	 * that had to translate IOVAs cannot have secondaries). No IOAS, no DMA map.
	 */
	bool secondary;
	int iommufd; /**< with @secondary: the primary's iommufd */
};

/**
 * Start the library, or take one more reference on it: open the iommufd, account pinned
 * memory per process where the process may (CAP_SYS_RESOURCE), allocate the default IOAS,
 * record all DPDK memory and from then on follow the EAL's memory events. Memory is
 * mapped into an IOAS when a device first attaches to it.
 * A second call with the same mode only takes a reference.
 *
 * @return 0, or a negative errno; the reason is logged. On failure nothing stays mapped,
 *   pinned or open.
 */
int rte_iommufd_mem_init(const struct rte_iommufd_mem_conf *conf);

/**
 * Drop a reference; the last one unmaps everything, destroys the IOASes and closes the
 * iommufd. After it no page stays pinned.
 *
 * @return
 *   0; -EBUSY (logged, the reference is kept) for the last reference while readers of
 *   the translation cache are registered: they could still translate, or read the
 *   cache's memory.
 */
int rte_iommufd_mem_fini(void);

/** Current mode. */
enum rte_iommufd_mem_mode rte_iommufd_mem_mode(void);

/** The process iommufd (for VFIO_DEVICE_BIND_IOMMUFD), or -1. */
int rte_iommufd_mem_iommufd(void);

/** The default IOAS id (for VFIO_DEVICE_ATTACH_IOMMUFD_PT). */
uint32_t rte_iommufd_mem_default_ioas(void);

/**
 * Create a private IOAS holding the same memory as the default one (for a device that
 * must not share its address space). Released with rte_iommufd_mem_ioas_release().
 */
int rte_iommufd_mem_ioas_create(uint32_t *ioas_id);

/** Release an IOAS from rte_iommufd_mem_ioas_create(): unmap all, destroy. */
int rte_iommufd_mem_ioas_release(uint32_t ioas_id);

/**
 * Tell the library a device was attached to @ioas_id. The usable IOVA ranges narrow with
 * each attach: they are read again. The first attach populates the IOAS with all DPDK
 * memory (checking RLIMIT_MEMLOCK first); later ones check that every mapping still
 * fits. Returns -ERANGE if a mapping does not fit, -ENOMEM if the memory cannot be
 * pinned (the caller must then detach the device).
 */
int rte_iommufd_mem_attached(uint32_t ioas_id, const char *dev_name);

/**
 * Map external memory [va, va + len) for DMA at @iova in every IOAS (the bus's dma_map;
 * the memory must have been registered with rte_extmem_register()). In no-IOMMU mode
 * @iova must be the physical address and nothing is mapped.
 */
int rte_iommufd_mem_dma_map(void *va, uint64_t iova, size_t len);

/**
 * Undo rte_iommufd_mem_dma_map() for exactly that range: -ENOENT (nothing done) for any
 * other range. If an IOAS refuses the unmap, its -errno is returned and the mapping
 * stays recorded (and pinned, in that IOAS): call again to finish.
 */
int rte_iommufd_mem_dma_unmap(void *va, uint64_t iova, size_t len);

/**
 * IOVA of @va (any byte of memory the library mapped), RTE_BAD_IOVA if it mapped none.
 * For control paths (ring setup, one-off buffers): any thread may call it, registered
 * reader of the cache or not; it takes the cache's updater lock
 * (rte_iova_cache_va2iova_locked()). Data paths translate lock-free with
 * rte_iova_cache_va2iova() on rte_iommufd_mem_cache(), as registered readers; see
 * rte_iova_cache.h for the exact guarantee under concurrent unmap.
 */
rte_iova_t rte_iommufd_mem_va2iova(const void *va);

struct rte_iova_cache;

/**
 * The translation cache, for PMDs that translate on their data path: inline lookups
 * with rte_iova_cache_va2iova(), reader registration and quiescent-state reports as
 * rte_iova_cache.h describes. NULL before rte_iommufd_mem_init().
 */
struct rte_iova_cache *rte_iommufd_mem_cache(void);

/**
 * Choose translated mode (the bus does, before the first device is probed: where the
 * IOMMU cannot address user VAs and the process cannot read physical addresses, or on
 * the user's request, devargs iova=translated). In it DPDK memory the EAL allocated may
 * be mapped at an IOVA other than its VA (inside the IOMMU's aperture, clear of
 * reserved windows): the EAL's IOVAs (mbuf buf_iova, memzone iova) are then not what
 * the device must be given, and only PMDs that translate every DMA address through
 * the cache may run. Without it, EAL memory is mapped at the EAL's IOVA or refused.
 *
 * @return 0, or -EBUSY once the library holds memory in the other mode.
 */
int rte_iommufd_mem_translate_set(bool on);

/** True in translated mode: a PMD must translate every DMA address (see above). */
bool rte_iommufd_mem_translated(void);

/**
 * For a PMD's data path in translated mode: make the calling lcore an online reader
 * of rte_iommufd_mem_cache() (registered under its lcore id at the first call), so
 * that it may translate with the inline rte_iova_cache_va2iova() until
 * rte_iommufd_mem_reader_leave(). Call both around each burst: between them the lcore
 * is offline and never holds up an unmap, however long it stops polling.
 *
 * @return
 *   The reader id to pass to rte_iommufd_mem_reader_leave(), or -1 where the thread
 *   has no lcore id (or the application registered that id itself): translate with
 *   rte_iova_cache_va2iova_locked() then.
 */
int rte_iommufd_mem_reader_enter(void);

/** End what rte_iommufd_mem_reader_enter() began (a reader id < 0 does nothing). */
void rte_iommufd_mem_reader_leave(int reader);

/** Counters, for tests and telemetry. */
struct rte_iommufd_mem_stats {
	uint64_t map_calls;     /**< map ioctls issued (IOAS_MAP or IOAS_MAP_FILE) */
	uint64_t map_file_calls; /**< of which IOAS_MAP_FILE (Linux 6.13+) */
	uint64_t unmap_calls;   /**< IOAS_UNMAP ioctls issued */
	uint64_t pa_queries;    /**< IOAS_NOIOMMU_GET_PA ioctls issued (no-IOMMU cdev) */
	uint64_t mapped_bytes;  /**< bytes currently mapped (default IOAS) */
	uint32_t areas;         /**< areas currently mapped (default IOAS) */
	uint32_t ioas_count;    /**< IOASes managed */
	uint32_t ioas_populated; /**< IOASes a device attached to (holding the memory) */
	uint64_t iova_translated; /**< bytes mapped at an IOVA other than their VA */
	uint32_t cached_areas;  /**< areas whose translation is in the cache */
	uint64_t freed_held_bytes; /**< memory the EAL freed that is still mapped, because
				    * an unmap (or the cache removal) failed; retried */
};

/** Fill @stats. */
void rte_iommufd_mem_stats_get(struct rte_iommufd_mem_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* RTE_IOMMUFD_MEM_H */
