/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "faults --dev BDF [--max N]": every failure the C library can hand the bus and the
 * memory library during a probe and run-time memory registration, one at a time. Run
 * with LD_PRELOAD=libvfiofd_fault_preload.so (fault_preload.c), which fails the Nth
 * open/fopen/opendir/ioctl/mmap/eventfd/malloc made by the bus or the library.
 *
 * The sequence: rte_dev_probe("vfiofd:BDF") (open the cdev, bind, attach, populate the
 * IOAS, region and IRQ info, BAR mmap, interrupts), rte_dev_dma_map() and
 * rte_dev_dma_unmap() of 2 MiB of external memory, an rte_malloc() that grows the heap
 * (the memory library maps the new pages) and its rte_free() (it unmaps them).
 *
 * For N = 1, 2, ... until the sequence runs without reaching an Nth call: arm, run the
 * sequence, disarm; then
 *   - the step that met the fault failed with a line that names the device (or, for
 *     DPDK's own memory, which no one device owns, the IOAS) and the injected errno's
 *     text, or the fault was absorbed and the sequence went on (a fallback);
 *   - after a refused probe nothing is held: fds, mappings, VmPin, no cdev or iommufd;
 *   - the device is removed, then probed again untouched (the retry must succeed) and
 *     removed: fds, mappings, VmPin, devargs and the bus's device list are back to the
 *     baseline.
 * Start the EAL without -m (memory grows at run time) and with "-a vfiofd:".
 *
 * "faults --dev BDF --memory" (test mem_fault_consistency): the probe runs untouched
 * and only the memory steps meet faults, with the allocation and its free done twice
 * (the second lands where the first was, where memory whose unmap failed may still be
 * held). After every step of every run the memory library, its cache and the kernel
 * must agree (memory_consistent()): the cache holds exactly the library's cached
 * records; every page it translates is mapped in the IOAS at that IOVA; every page the
 * EAL freed that the IOAS still maps is one the library still records as held.
 */

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <bus_driver.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "rte_iommufd_mem.h"
#include "rte_iova_cache.h"
#include "fault_preload.h"
#include "test_bus.h"
#include "../ioas_probe.h"

#define EXT_LEN (2u << 20)

enum step {
	STEP_PROBE, STEP_DMA_MAP, STEP_DMA_UNMAP, STEP_ALLOC, STEP_FREE, STEP_ALLOC2,
	STEP_FREE2, STEP_DONE
};

static const char *const step_name[] = {
	[STEP_PROBE] = "probe", [STEP_DMA_MAP] = "rte_dev_dma_map",
	[STEP_DMA_UNMAP] = "rte_dev_dma_unmap", [STEP_ALLOC] = "rte_malloc (heap grows)",
	[STEP_FREE] = "rte_free (heap shrinks)",
	[STEP_ALLOC2] = "rte_malloc again (heap grows where it was)",
	[STEP_FREE2] = "rte_free again", [STEP_DONE] = "-",
};

/* DPDK's memory events cannot fail: a fault there is absorbed, with a line */
static bool
step_is_event(enum step s)
{
	return s == STEP_ALLOC || s == STEP_FREE || s == STEP_ALLOC2 || s == STEP_FREE2;
}

static struct {
	vfiofd_fault_watch_t watch;
	vfiofd_fault_arm_t arm;
	vfiofd_fault_calls_t calls;
	vfiofd_fault_disarm_t disarm;
} inj;

struct run {
	const char *bdf;
	char *ext;                    /* external memory, registered with the EAL */
	enum step failed;             /* the step that reported a failure, or STEP_DONE */
	unsigned long start[STEP_DONE + 1]; /* calls counted when each step began */
	bool probed, mapped;
	bool memory;                  /* --memory: probe untouched, the steps twice, checked */
	void *probe_page;             /* for ioas_maps_iova() */
	uintptr_t grown_lo, grown_hi; /* the pages the allocations spanned */
	char inconsistent[512];       /* the first disagreement seen, or "" */
};

static int
untranslated(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	/* external memory (ours) is the user's to map */
	*(unsigned int *)arg += !msl->external &&
				rte_iommufd_mem_va2iova(ms->addr) == RTE_BAD_IOVA;
	return 0;
}

/* Is page @va of DPDK memory allocated now (the EAL's memseg in use)? */
static bool
page_in_use(uintptr_t va)
{
	struct rte_memseg_list *msl = rte_mem_virt2memseg_list((void *)va);

	return msl != NULL && rte_fbarray_is_used(&msl->memseg_arr,
		(unsigned int)((va - (uintptr_t)msl->base_va) / msl->page_sz)) == 1;
}

/*
 * After step @s: do the library's records, its cache and the IOAS agree (see the file
 * comment)? The first disagreement is kept in r->inconsistent. The probe page is
 * mapped by the test binary, whose calls the injector never counts.
 */
static void
memory_consistent(struct run *r, enum step s)
{
	struct rte_iova_cache *c = rte_iommufd_mem_cache();
	int fd = rte_iommufd_mem_iommufd();
	uint32_t ioas = rte_iommufd_mem_default_ioas();
	struct rte_iommufd_mem_stats st;
	uint64_t held = 0;
	unsigned int cached;
	char *why = r->inconsistent;

	if (!r->memory || why[0] != '\0' || !r->probed || c == NULL || fd < 0)
		return;
	rte_iommufd_mem_stats_get(&st);
	cached = rte_iova_cache_count(c);
	if (cached != st.cached_areas) {
		snprintf(why, sizeof(r->inconsistent), "after %s the cache holds %u regions, the "
			 "library records %u as cached", step_name[s], cached, st.cached_areas);
		return;
	}
	for (uintptr_t va = r->grown_lo; va < r->grown_hi; va += RTE_PGSIZE_2M) {
		rte_iova_t iova = rte_iommufd_mem_va2iova((void *)va);
		int m = ioas_maps_iova(fd, ioas, iova != RTE_BAD_IOVA ? iova : va,
				       r->probe_page);

		if (m < 0) {
			snprintf(why, sizeof(r->inconsistent), "after %s: probing IOVA 0x%" PRIx64
				 ": %s", step_name[s], iova, strerror(-m));
			return;
		}
		if (iova != RTE_BAD_IOVA && m == 0) {
			snprintf(why, sizeof(r->inconsistent), "after %s the cache translates VA "
				 "0x%" PRIxPTR " to IOVA 0x%" PRIx64 ", which the IOAS does not map",
				 step_name[s], va, iova);
			return;
		}
		if (iova == RTE_BAD_IOVA && m == 1 && !page_in_use(va))
			held += RTE_PGSIZE_2M;
	}
	if (held != st.freed_held_bytes)
		snprintf(why, sizeof(r->inconsistent), "after %s the IOAS still maps %" PRIu64
			 " KiB of freed memory, the library records %" PRIu64 " KiB held",
			 step_name[s], held >> 10, st.freed_held_bytes >> 10);
}

/* rte_malloc more than the heap holds (the EAL allocates pages, the library maps
 * them), noting the pages it spans; NULL on failure. */
static void *
grow_heap(struct run *r)
{
	struct rte_malloc_socket_stats st;
	size_t len;
	void *p;

	rte_malloc_get_socket_stats(rte_socket_id(), &st);
	len = st.greatest_free_size + 4096;
	p = rte_malloc("vfiofd_faults", len, 0);
	if (p != NULL) {
		uintptr_t lo = RTE_ALIGN_FLOOR((uintptr_t)p, RTE_PGSIZE_2M);
		uintptr_t hi = RTE_ALIGN_CEIL((uintptr_t)p + len, RTE_PGSIZE_2M);

		r->grown_lo = r->grown_lo != 0 ? RTE_MIN(r->grown_lo, lo) : lo;
		r->grown_hi = RTE_MAX(r->grown_hi, hi);
	}
	return p;
}

/* One allocation and its free, as steps @alloc and @alloc + 1; false if it failed. */
static bool
alloc_free(struct run *r, enum step alloc)
{
	void *p;

	r->start[alloc] = inj.calls();
	p = grow_heap(r);
	if (p == NULL) {
		r->failed = alloc;
		return false;
	}
	memory_consistent(r, alloc);
	r->start[alloc + 1] = inj.calls();
	rte_free(p);
	memory_consistent(r, alloc + 1);
	return true;
}

/* The sequence, armed; stops at the first step that reports a failure. */
static void
sequence(struct run *r)
{
	struct rte_vfiofd_device *dev;
	char devargs[64];

	r->failed = STEP_DONE;
	/* a step not reached this run (ALLOC2 without --memory) holds no call */
	for (enum step i = STEP_PROBE; i <= STEP_DONE; i++)
		r->start[i] = ULONG_MAX;
	r->mapped = false;
	r->grown_lo = r->grown_hi = 0;
	r->inconsistent[0] = '\0';
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", r->bdf);
	r->start[STEP_PROBE] = inj.calls();
	/* --memory: probed untouched before the injector was armed */
	if (!r->probed && rte_dev_probe(devargs) != 0) {
		r->failed = STEP_PROBE;
		return;
	}
	r->probed = true;
	/* a probe that says it succeeded must have made all DPDK memory usable for DMA:
	 * PMDs translate through the library's cache */
	{
		unsigned int n = 0;

		rte_memseg_walk(untranslated, &n);
		if (n > 0) {
			tap_diag("probed, but %u memory segment(s) do not translate", n);
			r->failed = STEP_PROBE;
			return;
		}
	}
	dev = vfiofd_dev(r->bdf);
	r->start[STEP_DMA_MAP] = inj.calls();
	if (rte_dev_dma_map(&dev->device, r->ext, (uintptr_t)r->ext, EXT_LEN) != 0) {
		r->failed = STEP_DMA_MAP;
		return;
	}
	r->mapped = true;
	r->start[STEP_DMA_UNMAP] = inj.calls();
	if (rte_dev_dma_unmap(&dev->device, r->ext, (uintptr_t)r->ext, EXT_LEN) != 0) {
		r->failed = STEP_DMA_UNMAP;
		return;
	}
	r->mapped = false;
	memory_consistent(r, STEP_DMA_UNMAP);
	if (!alloc_free(r, STEP_ALLOC))
		return;
	if (r->memory && !alloc_free(r, STEP_ALLOC2))
		return;
	r->start[STEP_DONE] = inj.calls();
}

/* The step during which call @n was made. */
static enum step
step_of(const struct run *r, unsigned long n)
{
	enum step s = STEP_PROBE;

	for (enum step i = STEP_PROBE; i <= r->failed && i < STEP_DONE; i++)
		if (r->start[i] < n)
			s = i;
	return s;
}

/* "librte_bus_vfiofd.so+0x1234 (symbol)" for a return address */
static void
where(const void *addr, char *buf, size_t len)
{
	Dl_info di;

	if (dladdr(addr, &di) == 0 || di.dli_fname == NULL) {
		snprintf(buf, len, "%p", addr);
		return;
	}
	snprintf(buf, len, "%s+0x%lx%s%s%s", strrchr(di.dli_fname, '/') != NULL ?
		 strrchr(di.dli_fname, '/') + 1 : di.dli_fname,
		 (unsigned long)((uintptr_t)addr - (uintptr_t)di.dli_fbase),
		 di.dli_sname != NULL ? " (after " : "",
		 di.dli_sname != NULL ? di.dli_sname : "", di.dli_sname != NULL ? ")" : "");
}

/* The names of the devices on bus vfiofd, with a '*' for a probed one. */
static void
bus_list(char *buf, size_t len)
{
	struct rte_bus *bus = rte_bus_find_by_name(RTE_BUS_VFIOFD_NAME);
	struct rte_device *dev = NULL;
	size_t n = 0;

	buf[0] = '\0';
	while ((dev = bus->find_device(dev, any_device, NULL)) != NULL) {
		int w = snprintf(buf + n, len - n, "%s%s%s", n ? "," : "", rte_dev_name(dev),
				 rte_dev_is_probed(dev) ? "*" : "");

		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
	}
}

/* Append "; " and a reason to @why (of @len bytes). */
static void __attribute__((format(printf, 3, 4)))
add_why(char *why, size_t len, const char *fmt, ...)
{
	size_t n = strlen(why);
	va_list ap;

	if (n + 2 >= len)
		return;
	memcpy(why + n, "; ", 3);
	va_start(ap, fmt);
	vsnprintf(why + n + 2, len - n - 2, fmt, ap);
	va_end(ap);
}

static bool
same_res(const struct res *a, const struct res *b, bool devargs)
{
	return a->fds == b->fds && a->maps == b->maps && a->vmpin_kb == b->vmpin_kb &&
	       a->vfio_fds == b->vfio_fds && (!devargs || a->devargs == b->devargs);
}

/*
 * One fault point: the sequence with the @nth call failed. Returns false once the
 * sequence made fewer than @nth calls (it ran untouched), after checking that it
 * succeeded.
 */
static unsigned int n_absorbed;

static bool
fault_point(struct tap *t, struct run *r, unsigned long nth, const struct res *base,
	    const char *base_list)
{
	struct vfiofd_fault_info fi;
	struct res now;
	char at[160], list[256], why[1024] = "";
	size_t mark = log_mark();
	enum step s;
	bool ok = true, absorbed = false;
	const char *what;

	r->probed = false;
	if (r->memory) {
		char devargs[64];

		snprintf(devargs, sizeof(devargs), "vfiofd:%s", r->bdf);
		if (rte_dev_probe(devargs) != 0) {
			tap_check(t, false, "fault %lu: the untouched probe failed", nth);
			return false;
		}
		r->probed = true;
	}
	inj.arm(nth);
	sequence(r);
	inj.disarm(&fi);
	if (!fi.fired) {
		tap_check(t, r->failed == STEP_DONE && r->inconsistent[0] == '\0',
			  "%lu calls from the bus and the memory library: the sequence runs "
			  "untouched (%s)%s%s", fi.calls,
			  r->failed == STEP_DONE ? "all steps done" : step_name[r->failed],
			  r->inconsistent[0] != '\0' ? "; " : "", r->inconsistent);
		if (r->mapped)
			rte_dev_dma_unmap(&vfiofd_dev(r->bdf)->device, r->ext, (uintptr_t)r->ext,
					  EXT_LEN);
		if (r->probed)
			rte_dev_remove(&vfiofd_dev(r->bdf)->device);
		return false;
	}
	s = step_of(r, nth);
	where(fi.caller, at, sizeof(at));
	what = strerror(fi.err);
	if (r->failed == STEP_DONE) {
		/* the fault was absorbed: nothing failed, the sequence went on (a fallback);
		 * DPDK's memory events cannot refuse, so there the line is a must */
		absorbed = true;
		if (step_is_event(s) && !log_line_seen(mark, "IOMMUFD_MEM: ", what)) {
			ok = false;
			add_why(why, sizeof(why), "%s cannot fail, yet no line of the memory "
				"library says '%s'", step_name[s], what);
		}
	} else if (r->failed != s) {
		ok = false;
		add_why(why, sizeof(why), "the fault was in %s but %s failed", step_name[s],
			step_name[r->failed]);
	} else {
		char dev[64];
		bool line;

		snprintf(dev, sizeof(dev), "vfiofd: %s: ", r->bdf);
		/* DPDK's own memory belongs to no one device: its lines name the IOAS */
		line = step_is_event(s) ? log_line_seen(mark, "IOMMUFD_MEM: IOAS ", what) :
		       log_line_seen(mark, dev, what);
		if (!line) {
			ok = false;
			add_why(why, sizeof(why), "no line names %s and '%s'",
				step_is_event(s) ? "the IOAS" : "the device", what);
		}
	}
	if (r->inconsistent[0] != '\0') {
		ok = false;
		add_why(why, sizeof(why), "%s", r->inconsistent);
	}
	if (r->failed == STEP_PROBE) {
		res_get(&now);
		if (!same_res(base, &now, false) || now.vfio_fds != 0) {
			ok = false;
			res_diag("after the refused probe", &now);
			add_why(why, sizeof(why), "the refused probe left something");
		}
	}
	/* clean up as an application would, untouched */
	if (r->mapped &&
	    rte_dev_dma_unmap(&vfiofd_dev(r->bdf)->device, r->ext, (uintptr_t)r->ext,
			      EXT_LEN) != 0) {
		ok = false;
		add_why(why, sizeof(why), "the mapping would not unmap afterwards");
	}
	if (r->probed && rte_dev_remove(&vfiofd_dev(r->bdf)->device) != 0) {
		ok = false;
		add_why(why, sizeof(why), "remove failed");
	}
	/* a retry, untouched, then its remove: everything back to the baseline */
	{
		char devargs[64];

		snprintf(devargs, sizeof(devargs), "vfiofd:%s", r->bdf);
		if (rte_dev_probe(devargs) != 0 || vfiofd_dev(r->bdf) == NULL ||
		    rte_dev_remove(&vfiofd_dev(r->bdf)->device) != 0) {
			ok = false;
			add_why(why, sizeof(why), "the retry failed");
		}
	}
	res_get(&now);
	bus_list(list, sizeof(list));
	if (!same_res(base, &now, true) || strcmp(list, base_list) != 0 ||
	    test_drv.ndevs != 0) {
		ok = false;
		res_diag("after the retry", &now);
		add_why(why, sizeof(why), "not back to the baseline (bus: '%s', was '%s')", list,
			base_list);
	}
	n_absorbed += absorbed;
	tap_check(t, ok, "fault %lu: %s(0x%lx%s%.40s) -> %s, in %s from %s: %s%s", nth,
		  fi.call, fi.arg, fi.path[0] ? ", " : "", fi.path, what, step_name[s], at,
		  absorbed ? "absorbed, the sequence went on" :
		  r->failed == s ? "refused with its line" : "mismatch", why);
	return true;
}

int
cmd_faults(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "max", required_argument, NULL, 'm' },
		{ "memory", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const watched[] = { "librte_bus_vfiofd", "librte_iommufd_mem" };
	struct run r = { .bdf = NULL };
	unsigned long max = 1000, n;
	char base_list[256];
	int opt_argc, eal_argc, c, ret;
	struct tap t = { 0 };
	char **eal_argv;
	struct res base;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': r.bdf = optarg; break;
		case 'm': max = strtoul(optarg, NULL, 10); break;
		case 'M': r.memory = true; break;
		default: return 2;
		}
	}
	if (r.bdf == NULL)
		return 2;
	inj.watch = (vfiofd_fault_watch_t)dlsym(RTLD_DEFAULT, VFIOFD_FAULT_WATCH);
	inj.arm = (vfiofd_fault_arm_t)dlsym(RTLD_DEFAULT, VFIOFD_FAULT_ARM);
	inj.calls = (vfiofd_fault_calls_t)dlsym(RTLD_DEFAULT, VFIOFD_FAULT_CALLS);
	inj.disarm = (vfiofd_fault_disarm_t)dlsym(RTLD_DEFAULT, VFIOFD_FAULT_DISARM);
	if (!tap_check(&t, inj.watch != NULL && inj.arm != NULL && inj.calls != NULL &&
		       inj.disarm != NULL, "the fault injector is loaded (LD_PRELOAD=...%s)",
		       "libvfiofd_fault_preload.so"))
		return tap_done(&t);
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	ret = inj.watch(watched, RTE_DIM(watched));
	if (!tap_check(&t, ret == (int)RTE_DIM(watched), "watching the calls of %s and %s "
		       "(%d found)", watched[0], watched[1], ret))
		goto out;
	r.probe_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!tap_check(&t, r.probe_page != MAP_FAILED, "a page to probe the IOAS with"))
		goto out;
	r.ext = mmap(NULL, EXT_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		     0);
	if (!tap_check(&t, r.ext != MAP_FAILED &&
		       rte_extmem_register(r.ext, EXT_LEN, NULL, 0, 4096) == 0,
		       "2 MiB of external memory, registered"))
		goto out;
	res_get(&base);
	bus_list(base_list, sizeof(base_list));
	res_diag("baseline", &base);
	tap_diag("baseline: bus vfiofd lists '%s'", base_list);
	for (n = 1; n <= max && fault_point(&t, &r, n, &base, base_list); n++)
		;
	tap_check(&t, n > 1 && n <= max, "%lu fault points tried (%u of them absorbed by a "
		  "fallback), each one failed once; the sequence then ran untouched", n - 1,
		  n_absorbed);
	rte_extmem_unregister(r.ext, EXT_LEN);
	munmap(r.ext, EXT_LEN);
out:
	rte_eal_cleanup();
	return tap_done(&t);
}
