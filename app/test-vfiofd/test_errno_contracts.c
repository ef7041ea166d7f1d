/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Errno contracts of the real kernel (the guest's 6.12), through vfiofd's own thin uAPI
 * wrappers, on one vfio-pci device: what the kernel answers when the device, an IOAS or
 * a mapping is not in the state a call needs. Each check names the exact errno and the
 * kernel code that returns it (drivers/vfio/, drivers/iommu/iommufd/), in the manner of
 * the kernel's own tools/testing/selftests/iommu/iommufd.c. The bus's messages for the
 * same situations are checked by "test-vfiofd-bus errno".
 *
 *   held    a device cdev that another process holds bound: open, the parked fd, BIND,
 *           the VFIO group, and the same after the holder exits; BIND twice
 *   ioas    ATTACH, DESTROY and MAP on a destroyed IOAS; DESTROY of an IOAS and of the
 *           hw_pagetable a device is attached to, then after DETACH
 *   unmap   a partial unmap of one area (2 MiB hugepage) leaves it whole; unmap of
 *           nothing, of zero bytes; a refused unmap that spans areas is not atomic
 *
 * Usage: test-vfiofd-errno-contracts --dev BDF [--sysfs DIR] [--dev-root DIR]
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "cdev_holder.h"
#include "iommufd_uapi.h"
#include "proc_status.h"
#include "vfio_cdev.h"
#include "vfio_device.h"
#include "vfiofd_sysfs.h"
#include "tap.h"

#define HUGEPAGE_SZ (2u << 20)
#define PAGE_SZ 4096u

static const char *sysfs_pci = VFIOFD_SYSFS_PCI_DEVICES;
static const char *dev_root = VFIOFD_DEV_ROOT;
static char iommu_path[PATH_MAX];

/* "-EINVAL (Invalid argument)": what a check prints for a result. */
static const char *
res_str(int ret)
{
	static char buf[8][64];
	static unsigned int n;
	char *b = buf[n++ % 8];

	if (ret >= 0)
		snprintf(b, 64, "%d", ret);
	else
		snprintf(b, 64, "-%s (%s)", strerrorname_np(-ret) ? strerrorname_np(-ret) : "?",
			 strerror(-ret));
	return b;
}

/* 1 if an area covers part of [iova, iova + len): a FIXED_IOVA map there is refused
 * with EEXIST (iopt_check_iova()); 0 if the range is free (the probe map is undone). */
static int
iova_taken(int iommufd, uint32_t ioas, void *buf, uint64_t iova, uint64_t len)
{
	uint64_t at = iova;
	int ret = iommufd_ioas_map(iommufd, ioas, buf, len, &at, true);

	if (ret == 0) {
		iommufd_ioas_unmap(iommufd, ioas, at, len, NULL);
		return 0;
	}
	return ret == -EEXIST ? 1 : ret;
}

/*
 * A device cdev that another process holds bound. Returns this process's device fd,
 * bound to @iommufd at the end, or -1.
 */
static int
contract_held(struct tap *t, const char *bdf, const struct vfiofd_cdev_id *cdev,
	      int iommufd, int group)
{
	struct vfio_device_info info;
	struct cdev_holder h;
	char gpath[PATH_MAX];
	int devfd, fd2, gfd, ret, status;

	ret = cdev_holder_start(&h, iommu_path, cdev->path, cdev->major, cdev->minor);
	if (!tap_check(t, ret == 0, "%s: another process (pid %d) opened %s and bound it to "
		       "an iommufd of its own: %s", bdf, (int)h.pid, cdev->path, res_str(ret)))
		return -1;

	devfd = vfio_cdev_open(cdev->path, cdev->major, cdev->minor);
	tap_check(t, devfd >= 0, "%s: held: open of the cdev succeeds: %s "
		  "[vfio_device_fops_cdev_open() only allocates a device file; a device is "
		  "taken at BIND]", bdf, res_str(devfd < 0 ? devfd : 0));
	if (devfd < 0) {
		cdev_holder_release(&h);
		return -1;
	}
	ret = vfio_device_get_info(devfd, &info);
	tap_check(t, ret == -EINVAL, "%s: held: GET_INFO on the unbound file: %s, want -EINVAL "
		  "[vfio_device_fops_unl_ioctl(): !df->access_granted]", bdf, res_str(ret));
	ret = vfio_cdev_bind_iommufd(devfd, iommufd, NULL);
	tap_check(t, ret == -EINVAL, "%s: held: BIND_IOMMUFD: %s, want -EINVAL "
		  "[vfio_df_open(): device->open_count != 0 on a cdev file; only the group "
		  "path opens a device twice]", bdf, res_str(ret));

	/* the VFIO group (this profile's kernel has VFIO_GROUP): blocked by the cdev user */
	snprintf(gpath, sizeof(gpath), "%s/vfio/%d", dev_root, group);
	gfd = open(gpath, O_RDWR | O_CLOEXEC);
	ret = gfd < 0 ? -errno : 0;
	tap_check(t, ret == -EBUSY, "%s: held: open of its group %s: %s, want -EBUSY "
		  "[vfio_group_fops_open(): group->cdev_device_open_cnt != 0]", bdf, gpath,
		  res_str(ret));
	if (gfd >= 0)
		close(gfd);

	status = cdev_holder_release(&h);
	tap_check(t, WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "%s: the holder exited (status 0x%x): its exit released the device", bdf,
		  status);
	/* our failed BIND must not have left the group blocked (vfio_device_unblock_group) */
	gfd = open(gpath, O_RDWR | O_CLOEXEC);
	ret = gfd < 0 ? -errno : 0;
	tap_check(t, ret == 0, "%s: released: the group opens again: %s "
		  "[the refused BIND undid vfio_device_block_group()]", bdf, res_str(ret));
	if (gfd >= 0)
		close(gfd);

	ret = vfio_cdev_bind_iommufd(devfd, iommufd, NULL);
	tap_check(t, ret == 0, "%s: released: BIND_IOMMUFD on the same file now: %s "
		  "[open_count is 0 again]", bdf, res_str(ret));
	if (ret != 0) {
		close(devfd);
		return -1;
	}
	ret = vfio_cdev_bind_iommufd(devfd, iommufd, NULL);
	tap_check(t, ret == -EINVAL, "%s: BIND_IOMMUFD again on the bound file: %s, want "
		  "-EINVAL [vfio_df_ioctl_bind_iommufd(): df->access_granted, \"one device "
		  "cannot be bound twice\"]", bdf, res_str(ret));
	/* a second file in this very process: the kernel does not tell processes apart */
	fd2 = vfio_cdev_open(cdev->path, cdev->major, cdev->minor);
	ret = fd2 < 0 ? fd2 : vfio_cdev_bind_iommufd(fd2, iommufd, NULL);
	tap_check(t, ret == -EINVAL, "%s: BIND_IOMMUFD of a second file of this process: %s, "
		  "want -EINVAL [vfio_df_open(): open_count != 0, whoever holds it]", bdf,
		  res_str(ret));
	if (fd2 >= 0)
		close(fd2);
	gfd = open(gpath, O_RDWR | O_CLOEXEC);
	ret = gfd < 0 ? -errno : 0;
	tap_check(t, ret == -EBUSY, "%s: bound here: its group: %s, want -EBUSY", bdf,
		  res_str(ret));
	if (gfd >= 0)
		close(gfd);
	return devfd;
}

/*
 * A partial unmap of one area: a 2 MiB hugepage mapped as one area, unmapped in part.
 * The device is attached, so the pages are pinned and VmPin shows them.
 */
static void
contract_partial_unmap(struct tap *t, const char *bdf, int iommufd, uint32_t ioas)
{
	uint64_t iova = 0, done = 0;
	long pin0, pin;
	void *hp, *probe;
	int ret;

	hp = mmap(NULL, HUGEPAGE_SZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	probe = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		     MAP_POPULATE, -1, 0);
	if (!tap_check(t, hp != MAP_FAILED && probe != MAP_FAILED,
		       "%s: a 2 MiB hugepage and a probe page", bdf))
		goto out;
	pin0 = proc_status_kb("VmPin:");
	ret = iommufd_ioas_map(iommufd, ioas, hp, HUGEPAGE_SZ, &iova, false);
	pin = proc_status_kb("VmPin:");
	if (!tap_check(t, ret == 0 && pin == pin0 + 2048, "%s: IOAS_MAP of the hugepage at "
		       "IOVA 0x%" PRIx64 ": %s, VmPin %ld -> %ld kB", bdf, iova, res_str(ret),
		       pin0, pin))
		goto out;

	ret = iommufd_ioas_unmap(iommufd, ioas, iova, PAGE_SZ, &done);
	tap_check(t, ret == -ENOENT, "%s: UNMAP of its first 4 KiB: %s, want -ENOENT "
		  "[iopt_unmap_iova_range(): area_first < start || area_last > last: an unmap "
		  "covers whole areas]", bdf, res_str(ret));
	ret = iommufd_ioas_unmap(iommufd, ioas, iova + HUGEPAGE_SZ / 2, HUGEPAGE_SZ / 2, &done);
	tap_check(t, ret == -ENOENT, "%s: UNMAP of its second half: %s, want -ENOENT", bdf,
		  res_str(ret));
	ret = iommufd_ioas_unmap(iommufd, ioas, iova + PAGE_SZ, HUGEPAGE_SZ, &done);
	tap_check(t, ret == -ENOENT, "%s: UNMAP from inside it to past its end: %s, want "
		  "-ENOENT", bdf, res_str(ret));
	ret = iova_taken(iommufd, ioas, probe, iova, PAGE_SZ);
	tap_check(t, ret == 1 && iova_taken(iommufd, ioas, probe,
					    iova + HUGEPAGE_SZ - PAGE_SZ, PAGE_SZ) == 1 &&
		  proc_status_kb("VmPin:") == pin, "%s: the area is still whole: its first and last pages "
		  "are taken (a FIXED_IOVA map there: -EEXIST), VmPin %ld kB", bdf, proc_status_kb("VmPin:"));

	ret = iommufd_ioas_unmap(iommufd, ioas, iova, HUGEPAGE_SZ, &done);
	tap_check(t, ret == 0 && done == HUGEPAGE_SZ && proc_status_kb("VmPin:") == pin0,
		  "%s: UNMAP of the whole area: %s, %" PRIu64 " bytes unmapped, VmPin back to "
		  "%ld kB", bdf, res_str(ret), done, proc_status_kb("VmPin:"));
	ret = iommufd_ioas_unmap(iommufd, ioas, iova, HUGEPAGE_SZ, &done);
	tap_check(t, ret == -ENOENT, "%s: UNMAP of it again (nothing mapped there): %s, want "
		  "-ENOENT [iommufd_ioas_unmap(): nothing unmapped]", bdf, res_str(ret));
	ret = iommufd_ioas_unmap(iommufd, ioas, iova, 0, &done);
	tap_check(t, ret == -EINVAL, "%s: UNMAP of 0 bytes: %s, want -EINVAL "
		  "[iopt_unmap_iova(): !length]", bdf, res_str(ret));
out:
	if (hp != MAP_FAILED)
		munmap(hp, HUGEPAGE_SZ);
	if (probe != MAP_FAILED)
		munmap(probe, PAGE_SZ);
}

/*
 * A refused unmap is not atomic: iopt_unmap_iova_range() unmaps area by area, in IOVA
 * order, and returns -ENOENT at the first area it would split, after unmapping the
 * whole areas before it. Area A (4 KiB) then B (8 KiB), back to back; an unmap of
 * A and half of B.
 */
static void
contract_unmap_not_atomic(struct tap *t, const char *bdf, int iommufd, uint32_t ioas)
{
	const uint64_t len = 3 * PAGE_SZ;
	uint64_t base = 0, at, done = 0;
	char *mem;
	int ret;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_POPULATE, -1, 0);
	if (!tap_check(t, mem != MAP_FAILED, "%s: 12 KiB of memory", bdf))
		return;
	/* an IOVA range the IOAS allows: the kernel's choice for all 12 KiB, given back */
	ret = iommufd_ioas_map(iommufd, ioas, mem, len, &base, false);
	if (ret == 0)
		ret = iommufd_ioas_unmap(iommufd, ioas, base, len, NULL);
	at = base;
	if (ret == 0)
		ret = iommufd_ioas_map(iommufd, ioas, mem, PAGE_SZ, &at, true);
	at = base + PAGE_SZ;
	if (ret == 0)
		ret = iommufd_ioas_map(iommufd, ioas, mem + PAGE_SZ, 2 * PAGE_SZ, &at, true);
	if (!tap_check(t, ret == 0, "%s: area A (4 KiB) at IOVA 0x%" PRIx64 ", area B (8 KiB) "
		       "right after it: %s", bdf, base, res_str(ret)))
		goto out;
	ret = iommufd_ioas_unmap(iommufd, ioas, base, 2 * PAGE_SZ, &done);
	tap_check(t, ret == -ENOENT, "%s: UNMAP of A and half of B: %s, want -ENOENT", bdf,
		  res_str(ret));
	tap_check(t, iova_taken(iommufd, ioas, mem, base, PAGE_SZ) == 0 &&
		  iova_taken(iommufd, ioas, mem, base + PAGE_SZ, PAGE_SZ) == 1,
		  "%s: and yet A is gone, B is still there: a refused unmap is not atomic "
		  "[iopt_unmap_iova_range() unmapped A before it met B]", bdf);
	ret = iommufd_ioas_unmap(iommufd, ioas, 0, UINT64_MAX, &done);
	tap_check(t, ret == 0 && done == 2 * PAGE_SZ, "%s: UNMAP of everything: %s, %" PRIu64
		  " bytes (B alone)", bdf, res_str(ret), done);
out:
	munmap(mem, len);
}

/*
 * IOAS lifetime: a destroyed IOAS, and one with the device attached. @devfd is bound to
 * @iommufd and attached to nothing.
 */
static void
contract_ioas(struct tap *t, const char *bdf, int iommufd, int devfd)
{
	struct iommu_iova_range r[16];
	uint32_t gone = 0, ioas = 0, hwpt = 0, n = 16;
	uint64_t iova = 0;
	int ret;

	ret = iommufd_ioas_alloc(iommufd, &gone);
	if (ret == 0)
		ret = iommufd_destroy(iommufd, gone);
	if (!tap_check(t, ret == 0, "%s: IOAS %u allocated and destroyed: %s", bdf, gone,
		       res_str(ret)))
		return;
	ret = vfio_cdev_attach_pt(devfd, gone, NULL);
	tap_check(t, ret == -ENOENT, "%s: ATTACH_IOMMUFD_PT to destroyed IOAS %u: %s, want "
		  "-ENOENT [iommufd_device_change_pt(): iommufd_get_object() finds no object]",
		  bdf, gone, res_str(ret));
	ret = iommufd_destroy(iommufd, gone);
	tap_check(t, ret == -ENOENT, "%s: DESTROY of it again: %s, want -ENOENT "
		  "[iommufd_object_remove(): no object at that id]", bdf, res_str(ret));
	ret = iommufd_ioas_map(iommufd, gone, &r, sizeof(r), &iova, false);
	tap_check(t, ret == -ENOENT, "%s: IOAS_MAP into it: %s, want -ENOENT "
		  "[iommufd_get_ioas()]", bdf, res_str(ret));

	ret = iommufd_ioas_alloc(iommufd, &ioas);
	if (ret == 0)
		ret = vfio_cdev_attach_pt(devfd, ioas, &hwpt);
	if (!tap_check(t, ret == 0, "%s: attached to IOAS %u (hw_pagetable %u): %s", bdf,
		       ioas, hwpt, res_str(ret)))
		return;
	ret = iommufd_destroy(iommufd, ioas);
	tap_check(t, ret == -EBUSY, "%s: DESTROY of IOAS %u with the device attached: %s, "
		  "want -EBUSY [iommufd_object_remove(): refcount_dec_if_one() fails, the "
		  "hw_pagetable holds the IOAS]", bdf, ioas, res_str(ret));
	ret = iommufd_destroy(iommufd, hwpt);
	tap_check(t, ret == -EBUSY, "%s: DESTROY of the hw_pagetable %u the device is "
		  "attached to: %s, want -EBUSY [the attached device holds it]", bdf, hwpt,
		  res_str(ret));
	ret = iommufd_ioas_iova_ranges(iommufd, ioas, r, &n, NULL);
	tap_check(t, ret == 0 && n > 0, "%s: IOAS %u still answers after the refusals "
		  "(IOVA_RANGES: %s, %u ranges)", bdf, ioas, res_str(ret), n);

	contract_partial_unmap(t, bdf, iommufd, ioas);
	contract_unmap_not_atomic(t, bdf, iommufd, ioas);

	ret = vfio_cdev_detach_pt(devfd);
	tap_check(t, ret == 0, "%s: DETACH_IOMMUFD_PT: %s", bdf, res_str(ret));
	ret = iommufd_destroy(iommufd, hwpt);
	tap_check(t, ret == -ENOENT, "%s: the hw_pagetable %u left with the device: DESTROY "
		  "gives %s, want -ENOENT [an automatic domain dies with its last device]",
		  bdf, hwpt, res_str(ret));
	ret = iommufd_destroy(iommufd, ioas);
	tap_check(t, ret == 0, "%s: DESTROY of IOAS %u once detached: %s", bdf, ioas,
		  res_str(ret));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'D' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "dev-root", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct vfiofd_cdev_id cdev;
	struct tap t = { 0 };
	struct utsname u;
	const char *bdf = NULL;
	int iommufd, devfd, group, ret, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D': bdf = optarg; break;
		case 's': sysfs_pci = optarg; break;
		case 'd': dev_root = optarg; break;
		default: bdf = NULL; optind = argc + 1; break;
		}
	}
	if (bdf == NULL || optind > argc) {
		fprintf(stderr, "usage: %s --dev BDF [--sysfs DIR] [--dev-root DIR]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	tap_diag("kernel %s %s; device %s", u.release, u.version, bdf);
	snprintf(iommu_path, sizeof(iommu_path), "%s/iommu", dev_root);
	ret = vfiofd_sysfs_find_cdev(sysfs_pci, dev_root, bdf, &cdev);
	group = vfiofd_sysfs_iommu_group(sysfs_pci, bdf);
	if (!tap_check(&t, ret == 0 && group >= 0, "%s: cdev %s (%u:%u), IOMMU group %d: %s",
		       bdf, ret == 0 ? cdev.path : "-", cdev.major, cdev.minor, group,
		       res_str(ret)))
		return tap_done(&t);
	iommufd = iommufd_open(iommu_path);
	if (!tap_check(&t, iommufd >= 0, "open %s: %s", iommu_path,
		       res_str(iommufd < 0 ? iommufd : 0)))
		return tap_done(&t);

	devfd = contract_held(&t, bdf, &cdev, iommufd, group);
	if (devfd >= 0) {
		contract_ioas(&t, bdf, iommufd, devfd);
		tap_check(&t, close(devfd) == 0, "%s: device file closed", bdf);
	}
	close(iommufd);
	return tap_done(&t);
}
