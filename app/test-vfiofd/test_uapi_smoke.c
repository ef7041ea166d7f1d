/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * First contact with the real kernel interface, through vfiofd's own uAPI layer, for
 * every PCI device bound to vfio-pci:
 *
 *   iommufd mode (default): open /dev/iommu, IOAS_ALLOC; find the cdev through sysfs and
 *   check its major:minor against /dev; show that the freshly opened ("parked") cdev
 *   refuses region access and info queries; BIND_IOMMUFD; ATTACH_IOMMUFD_PT; read the
 *   IOVA ranges after attach; GET_INFO; REGION_INFO and mmap of a BAR (compared with a
 *   pread of the same bytes); config space; IOAS_MAP of a 2 MiB hugepage at IOVA == VA;
 *   UNMAP; DETACH; close.
 *
 *   --noiommu: the same device through vfio's no-IOMMU group path (no cdev exists for
 *   it on 6.12), GET_INFO, config space and a BAR mmap.
 *
 * Usage: test-vfiofd-uapi-smoke [--noiommu] [--expect N] [--sysfs DIR] [--dev DIR]
 * --expect N fails the run unless exactly N vfio-pci devices were found, so that an empty
 * test bed cannot pass.
 */

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "iommufd_uapi.h"
#include "vfio_noiommu.h"
#include "vfio_cdev.h"
#include "vfio_device.h"
#include "vfiofd_sysfs.h"
#include "tap.h"

#define HUGEPAGE_SZ (2u << 20)
/* vfio-pci places region N at file offset N << 40 (VFIO_PCI_OFFSET_SHIFT, a kernel-
 * internal constant). Only used to aim a pread at the config region *before* BIND, when
 * REGION_INFO is not yet available: that pread must fail whatever the offset. */
#define VFIO_PCI_REGION_OFFSET(i) ((uint64_t)(i) << 40)

static const char *sysfs_pci = VFIOFD_SYSFS_PCI_DEVICES;
static const char *dev_root = VFIOFD_DEV_ROOT;

/* The BDFs of all devices bound to vfio-pci, sorted. */
static int
vfio_pci_devices(char bdfs[][16], int max)
{
	struct dirent **list;
	int n, count = 0;

	n = scandir(sysfs_pci, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char drv[64];

		if (vfiofd_pci_addr_valid(list[i]->d_name) &&
		    vfiofd_sysfs_driver(sysfs_pci, list[i]->d_name, drv, sizeof(drv)) == 0 &&
		    strcmp(drv, "vfio-pci") == 0 && count < max)
			memcpy(bdfs[count++], list[i]->d_name, 13); /* validated: 12 chars + NUL */
		free(list[i]);
	}
	free(list);
	return count;
}

/* Config space: vendor and device id, through the config region's pread accessor. */
static void
check_config_space(struct tap *t, int devfd, const char *bdf)
{
	struct vfio_region_info *cfg = NULL;
	uint16_t ids[2] = { 0, 0 };
	int ret;

	ret = vfio_device_get_region_info(devfd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (!tap_check(t, ret == 0, "%s: REGION_INFO(config) (%s)", bdf, strerror(-ret)))
		return;
	ret = (int)vfio_device_region_read(devfd, cfg, PCI_VENDOR_ID, ids, sizeof(ids));
	tap_check(t, ret == (int)sizeof(ids) && ids[0] != 0xffff && ids[0] != 0,
		  "%s: config space read: vendor %04x device %04x", bdf, ids[0], ids[1]);
	free(cfg);
}

/*
 * BARs that hold the MSI-X table or PBA (bitmask), from the MSI-X capability in config
 * space. Those BARs differ between views: vfio-pci refuses pread/pwrite of the table
 * while an mmap (where MSIX_MAPPABLE) shows the real one, so they are no place to
 * compare the mmap and pread views.
 */
static unsigned int
msix_bars(int devfd)
{
	struct vfio_region_info *cfg = NULL;
	uint8_t space[256];
	unsigned int mask = 0, hops = 0;
	uint8_t pos;

	if (vfio_device_get_region_info(devfd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) != 0)
		return 0;
	if (vfio_device_region_read(devfd, cfg, 0, space, sizeof(space)) != sizeof(space) ||
	    !(space[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
		free(cfg);
		return 0;
	}
	for (pos = space[PCI_CAPABILITY_LIST] & ~3; pos >= 0x40 && hops < 48; hops++) {
		if (space[pos] == PCI_CAP_ID_MSIX) {
			uint32_t table, pba;

			memcpy(&table, &space[pos + PCI_MSIX_TABLE], 4);
			memcpy(&pba, &space[pos + PCI_MSIX_PBA], 4);
			mask |= 1u << (table & PCI_MSIX_TABLE_BIR);
			mask |= 1u << (pba & PCI_MSIX_PBA_BIR);
		}
		pos = space[pos + PCI_CAP_LIST_NEXT] & ~3;
	}
	free(cfg);
	return mask;
}

/*
 * Map the first mmap-able BAR that holds no MSI-X structure and read its first 32-bit
 * word both through the mapping and through pread: both views must agree.
 */
static void
check_bar_mmap(struct tap *t, int devfd, const char *bdf)
{
	unsigned int skip = msix_bars(devfd);

	for (uint32_t i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		struct vfio_region_info *bar = NULL;
		uint32_t via_mmap, via_pread = 0;
		void *map;
		int ret;

		if (skip & (1u << i))
			continue;
		if (vfio_device_get_region_info(devfd, i, &bar) != 0)
			continue;
		if (bar->size == 0 || !(bar->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			free(bar);
			continue;
		}
		map = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
			   bar->offset);
		if (!tap_check(t, map != MAP_FAILED, "%s: mmap BAR%u (%" PRIu64 " bytes): %s",
			       bdf, i, (uint64_t)bar->size,
			       map == MAP_FAILED ? strerror(errno) : "ok")) {
			free(bar);
			return;
		}
		via_mmap = *(volatile uint32_t *)map;
		ret = (int)vfio_device_region_read(devfd, bar, 0, &via_pread, 4);
		tap_check(t, ret == 4 && via_mmap == via_pread,
			  "%s: BAR%u word 0: mmap 0x%08x, pread 0x%08x (MSI-X BARs skipped: 0x%x)",
			  bdf, i, via_mmap, via_pread, skip);
		munmap(map, bar->size);
		free(bar);
		return;
	}
	tap_check(t, false, "%s: no mmap-able BAR without MSI-X structures", bdf);
}

/* The parked fd: before BIND_IOMMUFD the kernel must refuse everything but BIND. */
static void
check_parked(struct tap *t, int devfd, const char *bdf)
{
	struct vfio_device_info info;
	uint32_t word;
	void *map;
	ssize_t n;
	int ret;

	ret = vfio_device_get_info(devfd, &info);
	tap_check(t, ret < 0, "%s: GET_INFO before BIND refused (%s)", bdf, strerror(-ret));
	n = pread(devfd, &word, sizeof(word),
		  VFIO_PCI_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX));
	tap_check(t, n < 0, "%s: config-space pread before BIND refused (%s)", bdf,
		  n < 0 ? strerror(errno) : "it succeeded");
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, devfd, 0);
	tap_check(t, map == MAP_FAILED, "%s: BAR0 mmap before BIND refused (%s)", bdf,
		  map == MAP_FAILED ? strerror(errno) : "it succeeded");
	if (map != MAP_FAILED)
		munmap(map, 4096);
}

/* IOAS_MAP of one 2 MiB hugepage at IOVA == VA, then an exact UNMAP. */
static void
check_hugepage_map(struct tap *t, int iommufd, uint32_t ioas, const char *bdf,
		   const struct iommu_iova_range *ranges, uint32_t nranges)
{
	uint64_t iova, unmapped = 0;
	bool inside = false;
	void *va;
	int ret;

	va = mmap(NULL, HUGEPAGE_SZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (!tap_check(t, va != MAP_FAILED, "%s: 2 MiB hugepage allocated (%s)", bdf,
		       va == MAP_FAILED ? strerror(errno) : "ok"))
		return;
	iova = (uintptr_t)va;
	for (uint32_t i = 0; i < nranges; i++)
		if (iova >= ranges[i].start && iova + HUGEPAGE_SZ - 1 <= ranges[i].last)
			inside = true;
	tap_check(t, inside, "%s: VA %p lies inside an allowed IOVA range", bdf, va);
	ret = iommufd_ioas_map(iommufd, ioas, va, HUGEPAGE_SZ, &iova, true);
	tap_check(t, ret == 0 && iova == (uintptr_t)va,
		  "%s: IOAS_MAP 2 MiB hugepage at IOVA == VA 0x%" PRIx64 " (%s)", bdf, iova,
		  strerror(-ret));
	if (ret == 0) {
		/* The same IOVA again must be refused: the first mapping is really there. */
		uint64_t again = iova;
		int dup = iommufd_ioas_map(iommufd, ioas, va, HUGEPAGE_SZ, &again, true);

		tap_check(t, dup == -EEXIST, "%s: second FIXED_IOVA map refused with EEXIST (%s)",
			  bdf, strerror(-dup));
		ret = iommufd_ioas_unmap(iommufd, ioas, iova, HUGEPAGE_SZ, &unmapped);
		tap_check(t, ret == 0 && unmapped == HUGEPAGE_SZ,
			  "%s: IOAS_UNMAP unmapped %" PRIu64 " bytes (%s)", bdf, unmapped,
			  strerror(-ret));
	}
	munmap(va, HUGEPAGE_SZ);
}

static void
smoke_iommufd(struct tap *t, const char *bdf)
{
	struct iommu_iova_range ranges[16];
	struct vfio_device_info info;
	struct vfiofd_cdev_id cdev;
	uint32_t ioas = 0, devid = 0, hwpt = 0, nranges = 16;
	uint64_t align = 0;
	char path[64];
	int iommufd, devfd, ret;

	snprintf(path, sizeof(path), "%s/iommu", dev_root);
	iommufd = iommufd_open(path);
	if (!tap_check(t, iommufd >= 0, "%s: open %s (%s)", bdf, path,
		       iommufd >= 0 ? "ok" : strerror(-iommufd)))
		return;
	ret = iommufd_ioas_alloc(iommufd, &ioas);
	if (!tap_check(t, ret == 0, "%s: IOAS_ALLOC -> ioas %u (%s)", bdf, ioas,
		       strerror(-ret)))
		goto close_iommufd;

	ret = vfiofd_sysfs_find_cdev(sysfs_pci, dev_root, bdf, &cdev);
	if (!tap_check(t, ret == 0, "%s: cdev found via sysfs, %u:%u matches %s (%s)", bdf,
		       cdev.major, cdev.minor, ret == 0 ? cdev.path : "-", strerror(-ret)))
		goto destroy_ioas;
	tap_diag("%s: using %s", bdf, cdev.path);

	devfd = vfio_cdev_open(cdev.path, cdev.major, cdev.minor);
	if (!tap_check(t, devfd >= 0, "%s: open %s (%s)", bdf, cdev.path,
		       devfd >= 0 ? "ok" : strerror(-devfd)))
		goto destroy_ioas;
	check_parked(t, devfd, bdf);

	ret = vfio_cdev_bind_iommufd(devfd, iommufd, &devid);
	if (!tap_check(t, ret == 0, "%s: BIND_IOMMUFD -> devid %u (%s)", bdf, devid,
		       strerror(-ret)))
		goto close_dev;
	ret = vfio_cdev_attach_pt(devfd, ioas, &hwpt);
	if (!tap_check(t, ret == 0, "%s: ATTACH_IOMMUFD_PT ioas %u -> hwpt %u (%s)", bdf,
		       ioas, hwpt, strerror(-ret)))
		goto close_dev;

	ret = iommufd_ioas_iova_ranges(iommufd, ioas, ranges, &nranges, &align);
	tap_check(t, ret == 0 && nranges > 0, "%s: IOVA_RANGES after attach: %u ranges (%s)",
		  bdf, nranges, strerror(-ret));
	if (ret != 0)
		nranges = 0;
	for (uint32_t i = 0; i < nranges; i++)
		tap_diag("%s:   allowed IOVA [0x%" PRIx64 ", 0x%" PRIx64 "]", bdf,
			 (uint64_t)ranges[i].start, (uint64_t)ranges[i].last);

	ret = vfio_device_get_info(devfd, &info);
	tap_check(t, ret == 0 && (info.flags & VFIO_DEVICE_FLAGS_PCI) &&
		  info.num_regions > VFIO_PCI_CONFIG_REGION_INDEX,
		  "%s: GET_INFO: PCI device, %u regions, %u irqs, reset %s (%s)", bdf,
		  info.num_regions, info.num_irqs,
		  (info.flags & VFIO_DEVICE_FLAGS_RESET) ? "yes" : "no", strerror(-ret));
	check_config_space(t, devfd, bdf);
	check_bar_mmap(t, devfd, bdf);
	check_hugepage_map(t, iommufd, ioas, bdf, ranges, nranges);

	ret = vfio_cdev_detach_pt(devfd);
	tap_check(t, ret == 0, "%s: DETACH_IOMMUFD_PT (%s)", bdf, strerror(-ret));
close_dev:
	tap_check(t, close(devfd) == 0, "%s: close device fd", bdf);
destroy_ioas:
	ret = iommufd_destroy(iommufd, ioas);
	tap_check(t, ret == 0, "%s: DESTROY ioas %u (%s)", bdf, ioas, strerror(-ret));
close_iommufd:
	close(iommufd);
}

static void
smoke_noiommu(struct tap *t, const char *bdf)
{
	struct vfio_noiommu_dev dev;
	struct vfio_device_info info;
	struct vfiofd_cdev_id cdev;
	int group, ret;

	ret = vfio_noiommu_mode_enabled(NULL);
	tap_check(t, ret == 1, "%s: vfio unsafe no-IOMMU mode is enabled (%d)", bdf, ret);
	/* 6.12 creates no cdev for a no-IOMMU device: vfiofd must use the group path. */
	ret = vfiofd_sysfs_find_cdev(sysfs_pci, dev_root, bdf, &cdev);
	tap_check(t, ret == -EOPNOTSUPP || ret == -ENODEV,
		  "%s: no usable /dev/vfio/devices node for a no-IOMMU device (%s)", bdf,
		  strerror(-ret));
	group = vfiofd_sysfs_iommu_group(sysfs_pci, bdf);
	if (!tap_check(t, group >= 0, "%s: iommu_group %d", bdf, group))
		return;
	ret = vfio_noiommu_open(dev_root, group, bdf, &dev);
	if (!tap_check(t, ret == 0, "%s: opened through %s/vfio/noiommu-%d (%s)", bdf,
		       dev_root, group, strerror(-ret)))
		return;
	tap_diag("%s: using %s/vfio/noiommu-%d and %s/vfio/vfio (no-IOMMU container)", bdf,
		 dev_root, group, dev_root);
	ret = vfio_device_get_info(dev.device, &info);
	tap_check(t, ret == 0 && (info.flags & VFIO_DEVICE_FLAGS_PCI),
		  "%s: GET_INFO: PCI device, %u regions, %u irqs (%s)", bdf, info.num_regions,
		  info.num_irqs, strerror(-ret));
	check_config_space(t, dev.device, bdf);
	check_bar_mmap(t, dev.device, bdf);
	vfio_noiommu_close(&dev);
	tap_check(t, dev.device == -1 && dev.group == -1 && dev.container == -1,
		  "%s: device, group and container closed", bdf);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "noiommu", no_argument, NULL, 'n' },
		{ "expect", required_argument, NULL, 'e' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	char bdfs[32][16];
	struct tap t = { 0 };
	struct utsname u;
	bool noiommu = false;
	int expect = -1, n, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': noiommu = true; break;
		case 'e': expect = atoi(optarg); break;
		case 's': sysfs_pci = optarg; break;
		case 'd': dev_root = optarg; break;
		default:
			fprintf(stderr, "usage: %s [--noiommu] [--expect N] [--sysfs DIR] [--dev DIR]\n",
				argv[0]);
			return 2;
		}
	}
	uname(&u);
	tap_diag("kernel %s %s, mode %s", u.release, u.version, noiommu ? "no-IOMMU" : "iommufd");
	n = vfio_pci_devices(bdfs, 32);
	tap_check(&t, n > 0 && (expect < 0 || n == expect),
		  "%d device(s) bound to vfio-pci (expected %d)", n, expect);
	for (int i = 0; i < n; i++) {
		if (noiommu)
			smoke_noiommu(&t, bdfs[i]);
		else
			smoke_iommufd(&t, bdfs[i]);
	}
	return tap_done(&t);
}
