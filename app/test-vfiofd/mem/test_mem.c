/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/iommufd_mem in the test bed, checked against the kernel rather than against the
 * library's own bookkeeping.
 *
 *   test-vfiofd-mem register      IOAS population from EAL memory, IOVA == VA, runtime
 *                                 alloc/free events, exact unmap on free, and no mapping,
 *                                 no pinned page and no iommufd left after cleanup
 *   test-vfiofd-mem register-match  the same with --match-allocations (one area per
 *                                 allocation instead of one per page)
 *   test-vfiofd-mem extmem        memory outside the allowed IOVA ranges (an external
 *                                 heap in the MSI window) placed elsewhere and
 *                                 translated; rte_extmem_register + dma_map/unmap
 *   test-vfiofd-mem mapfile       IOMMU_IOAS_MAP_FILE on a 6.13+ kernel (profile newer)
 *   test-vfiofd-mem memlock       RLIMIT_MEMLOCK too low: a clear error, nothing pinned
 *   test-vfiofd-mem noiommu       no-IOMMU mode: IOVA = PA (checked against pagemap)
 *   test-vfiofd-mem noiommu-refused  no-IOMMU asked for where the kernel forbids it
 *   test-vfiofd-mem noiommu-cdev  Linux 7.3+ no-IOMMU cdev on an iommufd (profile
 *                                 newer-noiommu): pinned, PAs confirmed by the kernel
 *   test-vfiofd-mem bench-register vfiofd|dpdk prealloc|runtime EAL-ARGS...
 *                                 register 1 GiB; time and count the map ioctls
 *
 * "Mapped" is asked of the kernel: IOMMU_IOAS_MAP with FIXED_IOVA of a probe buffer at an
 * area's IOVA fails with EEXIST exactly when the IOAS holds something there. Pins are
 * read from VmPin (/proc/self/status), which the kernel charges per process once the
 * library selects per-process accounting and the process lacks CAP_IPC_LOCK (the tests
 * drop it, as root would otherwise pin without being charged).
 */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "iommufd_uapi.h"
#include "ioas_probe.h"
#include "rte_iommufd_mem.h"
#include "vfio_cdev.h"
#include "vfiofd_sysfs.h"
#include "proc_status.h"
#include "tap.h"

static struct tap t;

/* ---- the process, seen from /proc ---- */

/* VmPin in kB; UINT64_MAX if unreadable */
static uint64_t
vm_pin_kb(void)
{
	return (uint64_t)proc_status_kb("VmPin:");
}

/* Number of open fds whose target is @path. */
static int
fds_open_to(const char *path)
{
	char link[300], target[256];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	while (d != NULL && (de = readdir(d)) != NULL) {
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			n += strcmp(target, path) == 0;
		}
	}
	if (d != NULL)
		closedir(d);
	return n;
}

/* Root pins without being charged: drop CAP_IPC_LOCK so VmPin and RLIMIT_MEMLOCK apply. */
static int
drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* ---- asking the kernel whether an IOVA is mapped ---- */

static void *probe_buf;

/* 1 if the default IOAS holds a mapping at @iova, 0 if not, -errno if unsure. */
static int
iova_mapped(uint64_t iova)
{
	return ioas_maps_iova(rte_iommufd_mem_iommufd(), rte_iommufd_mem_default_ioas(), iova,
			      probe_buf);
}

struct seg_check {
	unsigned int segs;
	unsigned int mapped;
	unsigned int identity;
};

static int
check_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct seg_check *c = arg;

	RTE_SET_USED(msl);
	c->segs++;
	c->mapped += iova_mapped((uintptr_t)ms->addr) == 1 &&
		     iova_mapped((uintptr_t)ms->addr + ms->len - 4096) == 1;
	c->identity += rte_iommufd_mem_va2iova(ms->addr) == (uintptr_t)ms->addr &&
		       rte_iommufd_mem_va2iova(RTE_PTR_ADD(ms->addr, ms->len - 1)) ==
		       (uintptr_t)ms->addr + ms->len - 1;
	return 0;
}

/* ---- a device to attach: the IOAS only reaches an IOMMU page table through one ---- */

struct attached_dev {
	int fd;
	char bdf[16];
};

static int
attach_first_device(struct attached_dev *d)
{
	const char *bdfs = getenv("VFIOFD_VIRTIO_BDFS");
	struct vfiofd_cdev_id cdev;
	int ret;

	d->fd = -1;
	if (bdfs == NULL || strlen(bdfs) < 12)
		return -ENODEV;
	memcpy(d->bdf, bdfs, 12);
	d->bdf[12] = '\0';
	ret = vfiofd_sysfs_find_cdev(VFIOFD_SYSFS_PCI_DEVICES, VFIOFD_DEV_ROOT, d->bdf, &cdev);
	if (ret < 0)
		return ret;
	d->fd = vfio_cdev_open(cdev.path, cdev.major, cdev.minor);
	if (d->fd < 0)
		return d->fd;
	ret = vfio_cdev_bind_iommufd(d->fd, rte_iommufd_mem_iommufd(), NULL);
	if (ret == 0)
		ret = vfio_cdev_attach_pt(d->fd, rte_iommufd_mem_default_ioas(), NULL);
	if (ret < 0) {
		close(d->fd);
		d->fd = -1;
	}
	return ret;
}

static void
detach_device(struct attached_dev *d)
{
	if (d->fd < 0)
		return;
	vfio_cdev_detach_pt(d->fd);
	close(d->fd);
	d->fd = -1;
}

static bool match_allocations; /* run the EAL with --match-allocations */

static int
eal_start(const char *mem_mb, const char *iova_mode)
{
	char *argv[] = {
		"test-vfiofd-mem", "--no-pci", "-l", "0", "-m", (char *)mem_mb,
		"--iova-mode", (char *)iova_mode, "--file-prefix", "vfiofd-mem",
		"--log-level", "lib.iommufd_mem:info", "--match-allocations", NULL,
	};
	int ret = rte_eal_init(RTE_DIM(argv) - (match_allocations ? 1 : 2), argv);

	tap_check(&t, ret >= 0, "EAL up (-m %s, IOVA as %s): %s", mem_mb, iova_mode,
		  ret >= 0 ? "ok" : rte_strerror(rte_errno));
	return ret;
}

/* ---- register ---- */

static int
cmd_register(void)
{
	struct rte_iommufd_mem_stats st0, st1, st2;
	struct attached_dev dev;
	struct seg_check c = { 0 };
	uint64_t pin_attached, big_iova;
	size_t big_len = 96u << 20;
	void *big;
	int ret;

	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	/* Charged but unlimited: VmPin shows the pins, RLIMIT_MEMLOCK does not stop them. */
	tap_check(&t, setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0, "RLIMIT_MEMLOCK unlimited");
	tap_check(&t, drop_cap_ipc_lock() == 0, "CAP_IPC_LOCK dropped: pins are charged to VmPin");
	if (eal_start("64", "va") < 0)
		return tap_done(&t);
	probe_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_POPULATE, -1, 0);

	/* This program builds the EAL's argv itself: say what it passed. */
	ret = rte_iommufd_mem_init(&(struct rte_iommufd_mem_conf){
		.match_allocations = match_allocations });
	if (!tap_check(&t, ret == 0, "rte_iommufd_mem_init (%s)", strerror(-ret)))
		return tap_done(&t);
	ret = attach_first_device(&dev);
	if (!tap_check(&t, ret == 0, "device %s bound and attached to the default IOAS (%s)",
		       dev.bdf, strerror(-ret)))
		goto fini;
	ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	tap_check(&t, ret == 0, "first attach populated the IOAS (%s)", strerror(-ret));
	rte_iommufd_mem_stats_get(&st0);
	tap_diag("after populate: %u areas, %" PRIu64 " MiB, %" PRIu64 " map ioctls",
		 st0.areas, st0.mapped_bytes >> 20, st0.map_calls);
	tap_check(&t, st0.mapped_bytes >= 64u << 20 && st0.map_calls == st0.areas,
		  "64 MiB preallocated mapped in %" PRIu64 " ioctls (one per VA-contiguous run)",
		  st0.map_calls);
	rte_memseg_walk(check_seg, &c);
	tap_check(&t, c.segs > 0 && c.mapped == c.segs,
		  "kernel holds a mapping for every memseg: %u of %u", c.mapped, c.segs);
	tap_check(&t, c.identity == c.segs, "IOVA == VA for every memseg through the cache: %u of %u",
		  c.identity, c.segs);
	pin_attached = vm_pin_kb();
	tap_check(&t, pin_attached * 1024 >= st0.mapped_bytes,
		  "VmPin %" PRIu64 " kB covers the mapped memory", pin_attached);

	/* Runtime allocation: the heap grows, the EAL reports it, the library maps it. */
	big = rte_malloc("vfiofd-test", big_len, RTE_PGSIZE_2M);
	tap_check(&t, big != NULL, "rte_malloc of 96 MiB grows the heap");
	if (big == NULL)
		goto detach;
	rte_iommufd_mem_stats_get(&st1);
	tap_diag("after alloc: %u areas, %" PRIu64 " MiB, %" PRIu64 " map ioctls", st1.areas,
		 st1.mapped_bytes >> 20, st1.map_calls);
	big_iova = rte_iommufd_mem_va2iova(big);
	tap_check(&t, st1.mapped_bytes >= st0.mapped_bytes + big_len,
		  "alloc event mapped the new pages (+%" PRIu64 " MiB)",
		  (st1.mapped_bytes - st0.mapped_bytes) >> 20);
	if (match_allocations)
		tap_check(&t, st1.map_calls - st0.map_calls == 1 && st1.areas == st0.areas + 1,
			  "--match-allocations: the allocation is one area, one ioctl (%" PRIu64 ")",
			  st1.map_calls - st0.map_calls);
	else
		tap_check(&t, st1.map_calls - st0.map_calls ==
			  (st1.mapped_bytes - st0.mapped_bytes) / RTE_PGSIZE_2M,
			  "without --match-allocations: one area per 2 MiB page (%" PRIu64 " ioctls)",
			  st1.map_calls - st0.map_calls);
	tap_check(&t, big_iova == (uintptr_t)big && iova_mapped(big_iova) == 1 &&
		  iova_mapped(big_iova + big_len - 4096) == 1,
		  "new memory: IOVA == VA and the kernel holds it");

	/* Free: every page of it must leave the IOAS, exactly. */
	rte_free(big);
	rte_iommufd_mem_stats_get(&st2);
	tap_diag("after free: %u areas, %" PRIu64 " MiB, %" PRIu64 " unmap ioctls", st2.areas,
		 st2.mapped_bytes >> 20, st2.unmap_calls);
	tap_check(&t, st2.mapped_bytes == st0.mapped_bytes && st2.areas == st0.areas,
		  "free event unmapped exactly what the alloc mapped");
	tap_check(&t, iova_mapped(big_iova) == 0 && iova_mapped(big_iova + big_len - 4096) == 0,
		  "the kernel no longer holds the freed IOVAs");
	/* by address only: the memory is freed */
	tap_check(&t, rte_iommufd_mem_va2iova((void *)(uintptr_t)big_iova) == RTE_BAD_IOVA,
		  "the cache no longer translates freed memory");
	tap_check(&t, vm_pin_kb() <= pin_attached, "VmPin back to %" PRIu64 " kB (was %" PRIu64 " kB)",
		  vm_pin_kb(), pin_attached);
detach:
	detach_device(&dev);
fini:
	rte_iommufd_mem_fini();
	tap_check(&t, fds_open_to("/dev/iommu") == 0, "no iommufd left open after fini");
	tap_check(&t, vm_pin_kb() == 0, "no page left pinned after fini (VmPin %" PRIu64 " kB)",
		  vm_pin_kb());
	tap_check(&t, rte_eal_cleanup() == 0, "rte_eal_cleanup");
	tap_check(&t, vm_pin_kb() == 0 && fds_open_to("/dev/iommu") == 0,
		  "after rte_eal_cleanup: VmPin 0, no iommufd");
	return tap_done(&t);
}

/* ---- mapfile ---- */

/*
 * IOMMU_IOAS_MAP_FILE (Linux 6.13+): with --single-file-segments and
 * --match-allocations a heap expansion is one area backed by one hugetlbfs file, which
 * the library must map from the file, in one call. Run on a 6.13+ guest ("newer").
 */
static int
cmd_mapfile(void)
{
	char *argv[] = {
		"test-vfiofd-mem", "--no-pci", "-l", "0", "--iova-mode", "va",
		"--file-prefix", "vfiofd-mapfile", "--log-level", "lib.iommufd_mem:info",
		"--single-file-segments", "--match-allocations", NULL,
	};
	struct rte_iommufd_mem_stats st0, st1, st2;
	struct attached_dev dev;
	size_t len = 64u << 20;
	uint64_t iova;
	void *p;
	int ret;

	ret = rte_eal_init(RTE_DIM(argv) - 1, argv);
	if (!tap_check(&t, ret >= 0, "EAL up with --single-file-segments --match-allocations"))
		return tap_done(&t);
	probe_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_POPULATE, -1, 0);
	ret = rte_iommufd_mem_init(&(struct rte_iommufd_mem_conf){ .match_allocations = true });
	if (ret == 0)
		ret = attach_first_device(&dev);
	if (ret == 0)
		ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	if (!tap_check(&t, ret == 0, "iommufd_mem up, device attached (%s)", strerror(-ret)))
		return tap_done(&t);
	rte_iommufd_mem_stats_get(&st0);
	p = rte_malloc("mapfile", len, RTE_PGSIZE_2M);
	rte_iommufd_mem_stats_get(&st1);
	tap_diag("map ioctls %" PRIu64 " (of which MAP_FILE %" PRIu64 ") for the allocation",
		 st1.map_calls - st0.map_calls, st1.map_file_calls - st0.map_file_calls);
	tap_check(&t, p != NULL && st1.map_calls - st0.map_calls == 1 &&
		  st1.map_file_calls - st0.map_file_calls == 1,
		  "64 MiB allocation mapped from its hugetlbfs file with one IOMMU_IOAS_MAP_FILE");
	iova = p != NULL ? rte_iommufd_mem_va2iova(p) : RTE_BAD_IOVA;
	tap_check(&t, iova == (uintptr_t)p && iova_mapped(iova) == 1 &&
		  iova_mapped(iova + len - 4096) == 1, "the kernel holds it at IOVA == VA");
	rte_free(p);
	rte_iommufd_mem_stats_get(&st2);
	tap_check(&t, iova_mapped(iova) == 0 && st2.mapped_bytes == st0.mapped_bytes,
		  "freed: unmapped exactly");
	detach_device(&dev);
	rte_iommufd_mem_fini();
	tap_check(&t, fds_open_to("/dev/iommu") == 0, "no iommufd left open");
	rte_eal_cleanup();
	return tap_done(&t);
}

/* ---- extmem ---- */

/* 2 MiB of hugepage memory at a fixed VA (NULL if the VA is taken). */
static void *
hugepage_at(uintptr_t va)
{
	void *p = mmap((void *)va, RTE_PGSIZE_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE |
		       MAP_POPULATE, -1, 0);

	return p == MAP_FAILED || (uintptr_t)p != va ? NULL : p;
}

/*
 * Memory the IOMMU cannot map at IOVA == VA (it lies in the MSI window that the Intel
 * IOMMU reserves, 0xfee00000-0xfeefffff), added to an external malloc heap: the library
 * must place it at an IOVA inside the allowed ranges and translate. Then external memory
 * registered with rte_extmem_register and mapped explicitly (the bus's dma_map path).
 */
static int
cmd_extmem(void)
{
	const uintptr_t hole_va = 0xfee00000, ext_va = 0x7e0000000000;
	struct rte_iommufd_mem_stats st;
	struct attached_dev dev;
	uint64_t iova, ext_iova;
	void *hole, *ext;
	int ret;

	if (eal_start("32", "va") < 0)
		return tap_done(&t);
	probe_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_POPULATE, -1, 0);
	ret = rte_iommufd_mem_init(NULL);
	if (ret == 0)
		ret = attach_first_device(&dev);
	if (ret == 0)
		ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	if (!tap_check(&t, ret == 0, "iommufd_mem up, device attached, IOAS populated (%s)",
		       strerror(-ret)))
		return tap_done(&t);

	hole = hugepage_at(hole_va);
	if (!tap_check(&t, hole != NULL, "2 MiB hugepage at VA 0x%" PRIxPTR " (in the MSI window)",
		       hole_va))
		goto out;
	ret = rte_malloc_heap_create("vfiofd-ext");
	if (ret == 0)
		ret = rte_malloc_heap_memory_add("vfiofd-ext", hole, RTE_PGSIZE_2M, NULL, 0,
						 RTE_PGSIZE_2M);
	tap_check(&t, ret == 0, "external heap memory added (%s)", rte_strerror(rte_errno));
	iova = rte_iommufd_mem_va2iova(hole);
	rte_iommufd_mem_stats_get(&st);
	tap_diag("VA %p mapped at IOVA 0x%" PRIx64, hole, iova);
	tap_check(&t, iova != RTE_BAD_IOVA && iova != hole_va &&
		  st.iova_translated == RTE_PGSIZE_2M,
		  "placed at an IOVA other than its VA, inside the allowed ranges, and translated");
	tap_check(&t, iova_mapped(iova) == 1 && iova_mapped(iova + RTE_PGSIZE_2M - 4096) == 1,
		  "the kernel holds it at that IOVA");
	tap_check(&t, rte_iommufd_mem_va2iova(RTE_PTR_ADD(hole, 12345)) == iova + 12345,
		  "translation keeps the offset");
	ret = rte_malloc_heap_memory_remove("vfiofd-ext", hole, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0, "external heap memory removed");
	tap_check(&t, iova_mapped(iova) == 0 && rte_iommufd_mem_va2iova(hole) == RTE_BAD_IOVA,
		  "and unmapped: the kernel and the cache forget it");
	rte_malloc_heap_destroy("vfiofd-ext");
	munmap(hole, RTE_PGSIZE_2M);

	/* rte_extmem_register + explicit DMA map at a caller-chosen IOVA */
	ext = hugepage_at(ext_va);
	if (!tap_check(&t, ext != NULL, "2 MiB hugepage at VA 0x%" PRIxPTR, ext_va))
		goto out;
	ret = rte_extmem_register(ext, RTE_PGSIZE_2M, NULL, 0, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0, "rte_extmem_register");
	tap_check(&t, rte_iommufd_mem_va2iova(ext) == RTE_BAD_IOVA,
		  "external memory is not mapped until the user maps it");
	ext_iova = 0x100000000ULL;
	ret = rte_iommufd_mem_dma_map(ext, ext_iova, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0 && iova_mapped(ext_iova) == 1 &&
		  rte_iommufd_mem_va2iova(ext) == ext_iova,
		  "dma_map at IOVA 0x%" PRIx64 ": the kernel holds it, the cache translates (%s)",
		  ext_iova, strerror(-ret));
	ret = rte_iommufd_mem_dma_map(ext, ext_iova, RTE_PGSIZE_2M);
	tap_check(&t, ret == -EEXIST, "mapping it twice is refused (%s)", strerror(-ret));
	ret = rte_iommufd_mem_dma_unmap(ext, ext_iova + 4096, RTE_PGSIZE_2M);
	tap_check(&t, ret == -ENOENT, "unmap of a range that was not mapped is refused");
	ret = rte_iommufd_mem_dma_unmap(ext, ext_iova, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0 && iova_mapped(ext_iova) == 0 &&
		  rte_iommufd_mem_va2iova(ext) == RTE_BAD_IOVA, "dma_unmap: gone everywhere");
	rte_extmem_unregister(ext, RTE_PGSIZE_2M);
	munmap(ext, RTE_PGSIZE_2M);
out:
	detach_device(&dev);
	rte_iommufd_mem_fini();
	tap_check(&t, fds_open_to("/dev/iommu") == 0, "no iommufd left open");
	rte_eal_cleanup();
	return tap_done(&t);
}

/* ---- memlock ---- */

static int
cmd_memlock(void)
{
	struct rlimit rl = { 8u << 20, 8u << 20 };
	struct rte_iommufd_mem_stats st;
	struct attached_dev dev;
	int ret;

	tap_check(&t, drop_cap_ipc_lock() == 0, "CAP_IPC_LOCK dropped");
	tap_check(&t, setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "RLIMIT_MEMLOCK set to 8 MiB");
	if (eal_start("64", "va") < 0)
		return tap_done(&t);
	ret = rte_iommufd_mem_init(NULL);
	if (!tap_check(&t, ret == 0, "rte_iommufd_mem_init (%s)", strerror(-ret)))
		return tap_done(&t);
	ret = attach_first_device(&dev);
	tap_check(&t, ret == 0, "device attached (%s)", strerror(-ret));
	ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	tap_check(&t, ret == -ENOMEM, "populating 64 MiB under an 8 MiB limit refused: %s",
		  strerror(-ret));
	rte_iommufd_mem_stats_get(&st);
	tap_check(&t, st.ioas_populated == 0 && st.map_calls == 0,
		  "refused before any map ioctl (%" PRIu64 " issued)", st.map_calls);
	tap_check(&t, vm_pin_kb() == 0, "nothing pinned (VmPin %" PRIu64 " kB)", vm_pin_kb());
	detach_device(&dev);
	rte_iommufd_mem_fini();
	tap_check(&t, fds_open_to("/dev/iommu") == 0, "no iommufd left open");
	rte_eal_cleanup();
	return tap_done(&t);
}

/* ---- noiommu ---- */

/* Physical address of @va from /proc/self/pagemap, independently of the EAL. */
static uint64_t
pagemap_pa(const void *va)
{
	uint64_t entry = 0, pg = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return RTE_BAD_IOVA;
	if (pread(fd, &entry, 8, ((uintptr_t)va / pg) * 8) != 8)
		entry = 0;
	close(fd);
	if (!(entry & (1ULL << 63)) || (entry & ((1ULL << 55) - 1)) == 0)
		return RTE_BAD_IOVA;
	return (entry & ((1ULL << 55) - 1)) * pg + ((uintptr_t)va % pg);
}

struct pa_check {
	unsigned int segs;
	unsigned int match;
};

static int
check_pa(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	struct pa_check *c = arg;
	const void *mid = RTE_PTR_ADD(ms->addr, ms->len / 2 + 123);

	RTE_SET_USED(msl);
	c->segs++;
	c->match += rte_iommufd_mem_va2iova(mid) == pagemap_pa(mid);
	return 0;
}

static int
cmd_noiommu(void)
{
	struct rte_iommufd_mem_conf conf = { .noiommu = true };
	struct pa_check c = { 0 };
	int ret;

	if (eal_start("32", "pa") < 0)
		return tap_done(&t);
	ret = rte_iommufd_mem_init(&conf);
	if (!tap_check(&t, ret == 0 && rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NOIOMMU,
		       "no-IOMMU mode started (%s)", strerror(-ret)))
		return tap_done(&t);
	tap_check(&t, rte_iommufd_mem_iommufd() < 0 && fds_open_to("/dev/iommu") == 0,
		  "no iommufd in no-IOMMU mode");
	rte_memseg_walk(check_pa, &c);
	tap_check(&t, c.segs > 0 && c.match == c.segs,
		  "IOVA = physical address (pagemap) for %u of %u memsegs", c.match, c.segs);
	rte_iommufd_mem_fini();
	rte_eal_cleanup();
	return tap_done(&t);
}

/*
 * Linux 7.3+ (profile newer-noiommu): the no-IOMMU cdev, bound to an iommufd. The IOAS
 * pins DPDK memory at IOVA = the EAL's physical address, and the library asks the kernel
 * (IOMMU_IOAS_NOIOMMU_GET_PA) before any translation is handed out; a caller's IOVA that
 * is not the physical address is refused and leaves nothing mapped.
 */
static int
cmd_noiommu_cdev(void)
{
	struct rte_iommufd_mem_conf conf = { .noiommu = true, .noiommu_cdev = true };
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct rte_iommufd_mem_stats st0, st1, st2;
	struct attached_dev dev = { .fd = -1 };
	struct pa_check c = { 0 };
	const uintptr_t ext_va = 0x7e0000000000;
	uint64_t pin, pa;
	void *big, *ext;
	int ret;

	tap_check(&t, setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0, "RLIMIT_MEMLOCK unlimited");
	tap_check(&t, drop_cap_ipc_lock() == 0, "CAP_IPC_LOCK dropped: pins are charged to VmPin");
	if (eal_start("32", "pa") < 0)
		return tap_done(&t);
	probe_buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_POPULATE, -1, 0);
	ret = rte_iommufd_mem_init(&conf);
	if (!tap_check(&t, ret == 0 && rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NOIOMMU &&
		       rte_iommufd_mem_iommufd() >= 0,
		       "no-IOMMU mode on an iommufd started (%s)", strerror(-ret)))
		return tap_done(&t);
	ret = attach_first_device(&dev);
	if (!tap_check(&t, ret == 0, "no-IOMMU cdev of %s bound and attached to the default "
		       "IOAS (%s)", dev.bdf, strerror(-ret)))
		goto fini;
	ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	tap_check(&t, ret == 0, "first attach populated the IOAS (%s)", strerror(-ret));
	rte_iommufd_mem_stats_get(&st0);
	tap_diag("after populate: %u areas, %" PRIu64 " MiB, %" PRIu64 " map ioctls, %" PRIu64
		 " GET_PA", st0.areas, st0.mapped_bytes >> 20, st0.map_calls, st0.pa_queries);
	tap_check(&t, st0.mapped_bytes >= 32u << 20 && st0.map_calls == st0.areas &&
		  st0.pa_queries >= st0.areas,
		  "32 MiB mapped in %" PRIu64 " ioctls, physical addresses confirmed by the kernel "
		  "in %" PRIu64 " queries", st0.map_calls, st0.pa_queries);
	pin = vm_pin_kb();
	tap_check(&t, pin * 1024 >= st0.mapped_bytes, "VmPin %" PRIu64 " kB: the IOAS pins it",
		  pin);
	rte_memseg_walk(check_pa, &c);
	tap_check(&t, c.segs > 0 && c.match == c.segs,
		  "IOVA = physical address (pagemap) for %u of %u memsegs", c.match, c.segs);

	/* run-time memory: mapped and confirmed as it comes */
	/* more than the 32 MiB preallocated: the heap must grow */
	big = rte_malloc("vfiofd-test", 48u << 20, RTE_PGSIZE_2M);
	rte_iommufd_mem_stats_get(&st1);
	tap_check(&t, big != NULL && st1.mapped_bytes > st0.mapped_bytes &&
		  st1.pa_queries > st0.pa_queries &&
		  rte_iommufd_mem_va2iova(big) == pagemap_pa(big),
		  "run-time allocation mapped, confirmed (%" PRIu64 " more queries) and translated "
		  "to its physical address", st1.pa_queries - st0.pa_queries);
	rte_free(big);

	/* a caller's IOVA must be the physical address */
	ext = hugepage_at(ext_va);
	if (!tap_check(&t, ext != NULL, "2 MiB hugepage at VA 0x%" PRIxPTR, ext_va))
		goto detach;
	pa = pagemap_pa(ext);
	ret = rte_extmem_register(ext, RTE_PGSIZE_2M, NULL, 0, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0 && pa != RTE_BAD_IOVA, "rte_extmem_register, PA 0x%" PRIx64, pa);
	rte_iommufd_mem_stats_get(&st1);
	ret = rte_iommufd_mem_dma_map(ext, pa + RTE_PGSIZE_2M, RTE_PGSIZE_2M);
	rte_iommufd_mem_stats_get(&st2);
	tap_check(&t, ret == -EFAULT && rte_iommufd_mem_va2iova(ext) == RTE_BAD_IOVA &&
		  iova_mapped(pa + RTE_PGSIZE_2M) == 0 && st2.mapped_bytes == st1.mapped_bytes,
		  "dma_map at an IOVA that is not its physical address refused, nothing left "
		  "mapped (%s)", strerror(-ret));
	ret = rte_iommufd_mem_dma_map(ext, pa, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0 && rte_iommufd_mem_va2iova(RTE_PTR_ADD(ext, 4097)) == pa + 4097 &&
		  iova_mapped(pa) == 1, "dma_map at its physical address: mapped and translated (%s)",
		  strerror(-ret));
	ret = rte_iommufd_mem_dma_unmap(ext, pa, RTE_PGSIZE_2M);
	tap_check(&t, ret == 0 && iova_mapped(pa) == 0 &&
		  rte_iommufd_mem_va2iova(ext) == RTE_BAD_IOVA, "dma_unmap: gone everywhere");
	rte_extmem_unregister(ext, RTE_PGSIZE_2M);
	munmap(ext, RTE_PGSIZE_2M);
detach:
	detach_device(&dev);
fini:
	rte_iommufd_mem_fini();
	tap_check(&t, fds_open_to("/dev/iommu") == 0 && vm_pin_kb() == 0,
		  "no iommufd left open, VmPin %" PRIu64 " kB", vm_pin_kb());
	rte_eal_cleanup();
	return tap_done(&t);
}

/* ---- bench-register ---- */

/*
 * Two scenarios, the same for both paths, each registering 1 GiB of 2 MiB hugepages
 * (the EAL arguments, from the command line, say which: scripts/guest/bench-register.sh):
 *   prealloc: -m 1024, the memory exists before the device is set up;
 *   runtime:  the EAL's default dynamic memory, --match-allocations, and the
 *             application allocates 1 GiB after the device is set up (mempools do).
 * Map ioctls and the time inside them are counted by libioctl-count (LD_PRELOAD) around
 * the registration only; the end-to-end wall time of the phase is printed as well.
 */
#define BENCH_ALLOC_SZ ((size_t)1022 << 20) /* + malloc overhead = 512 pages */

static void
shim_call(const char *fn)
{
	void (*f)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, fn);

	if (f != NULL)
		f();
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The EAL arguments come from the command line, as in any DPDK application. */
static int
bench_eal(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int
bench_register(bool dpdk_path, bool prealloc, int eal_argc, char **eal_argv)
{
	struct attached_dev dev = { .fd = -1 };
	double t0 = 0, t1;
	void *p = NULL;
	int ret = 0;

	/* DPDK maps preallocated memory while the EAL probes the NIC: count EAL init. */
	if (dpdk_path && prealloc) {
		shim_call("ioctl_count_reset");
		t0 = now_ms();
	}
	if (bench_eal(eal_argc, eal_argv) < 0)
		return 1;
	if (!dpdk_path) {
		ret = rte_iommufd_mem_init(NULL);
		if (ret == 0)
			ret = attach_first_device(&dev);
		/* runtime: first populate with what the EAL has so far */
		if (ret == 0 && !prealloc)
			ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
		if (ret < 0) {
			fprintf(stderr, "bench: setup failed: %s\n", strerror(-ret));
			return 1;
		}
	}
	if (!(dpdk_path && prealloc)) {
		shim_call("ioctl_count_reset");
		t0 = now_ms();
	}
	if (!dpdk_path && prealloc)
		ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), dev.bdf);
	if (!prealloc) {
		p = rte_malloc("bench", BENCH_ALLOC_SZ, 0);
		if (p == NULL)
			ret = -ENOMEM;
	}
	t1 = now_ms();
	shim_call("ioctl_count_report");
	printf("REGISTER %s %s wall_ms=%.3f rc=%d\n", dpdk_path ? "dpdk" : "vfiofd",
	       prealloc ? "prealloc" : "runtime", t1 - t0, ret);
	fflush(stdout);
	rte_free(p);
	detach_device(&dev);
	if (!dpdk_path)
		rte_iommufd_mem_fini();
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}

/* In a machine with an IOMMU the kernel's unsafe mode is off: no-IOMMU must be refused. */
static int
cmd_noiommu_refused(void)
{
	struct rte_iommufd_mem_conf conf = { .noiommu = true };
	int ret;

	if (eal_start("32", "pa") < 0)
		return tap_done(&t);
	ret = rte_iommufd_mem_init(&conf);
	tap_check(&t, ret == -EPERM, "no-IOMMU refused while the kernel's unsafe mode is off (%s)",
		  strerror(-ret));
	tap_check(&t, rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NONE &&
		  fds_open_to("/dev/iommu") == 0, "nothing left running or open");
	if (ret == 0)
		rte_iommufd_mem_fini();
	rte_eal_cleanup();
	return tap_done(&t);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "register") == 0)
		return cmd_register();
	if (argc >= 2 && strcmp(argv[1], "register-match") == 0) {
		match_allocations = true;
		return cmd_register();
	}
	if (argc >= 2 && strcmp(argv[1], "memlock") == 0)
		return cmd_memlock();
	if (argc >= 2 && strcmp(argv[1], "extmem") == 0)
		return cmd_extmem();
	if (argc >= 2 && strcmp(argv[1], "mapfile") == 0)
		return cmd_mapfile();
	if (argc >= 2 && strcmp(argv[1], "noiommu") == 0)
		return cmd_noiommu();
	if (argc >= 2 && strcmp(argv[1], "noiommu-refused") == 0)
		return cmd_noiommu_refused();
	if (argc >= 2 && strcmp(argv[1], "noiommu-cdev") == 0)
		return cmd_noiommu_cdev();
	if (argc >= 4 && strcmp(argv[1], "bench-register") == 0) {
		return bench_register(strcmp(argv[2], "dpdk") == 0, strcmp(argv[3], "prealloc") == 0,
				      argc - 3, argv + 3);
	}
	fprintf(stderr, "usage: %s register|register-match|extmem|mapfile|memlock|noiommu|noiommu-refused|noiommu-cdev|bench-register vfiofd|dpdk prealloc|runtime [EAL args]\n",
		argv[0]);
	return 2;
}
