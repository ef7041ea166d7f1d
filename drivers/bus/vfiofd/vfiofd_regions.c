/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BARs and config space: region info, mmap of what may be mapped, and the accessors.
 *
 * Each BAR with the MMAP flag gets a PROT_NONE reservation of its whole (page-rounded)
 * size, in which the mappable areas are mapped MAP_FIXED from the device fd: the BAR
 * keeps one contiguous VA even when the kernel allows only parts of it (sparse-mmap
 * capability) or when the MSI-X table must stay unmapped (no MSIX_MAPPABLE
 * capability). The areas are computed by vfiofd_region_plan() (vfiofd_layout.c).
 *
 * Accesses the mapping does not cover go through pread/pwrite on the device fd, which
 * vfio-pci offers for every region (and is the only way for I/O-port BARs).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include <rte_byteorder.h>

#include "private.h"
#include "vfio_device.h"

#define CFG_HEADER_LEN 256

static uint32_t
region_flags(const struct vfio_region_info *info)
{
	uint32_t f = 0;

	if (info->flags & VFIO_REGION_INFO_FLAG_READ)
		f |= RTE_VFIOFD_REGION_READ;
	if (info->flags & VFIO_REGION_INFO_FLAG_WRITE)
		f |= RTE_VFIOFD_REGION_WRITE;
	if (info->flags & VFIO_REGION_INFO_FLAG_MMAP)
		f |= RTE_VFIOFD_REGION_MMAP;
	return f;
}

/* The kernel's sparse-mmap areas of @info into @out (at most @max): see vfio_device.h. */
static int
sparse_areas(const struct vfio_region_info *info, struct vfiofd_area *out, unsigned int max)
{
	struct vfio_region_sparse_mmap_area a[64];
	int n = vfio_region_info_sparse(info, a, RTE_MIN(max, (unsigned int)RTE_DIM(a)));

	for (int i = 0; i < n; i++) {
		out[i].offset = a[i].offset;
		out[i].size = a[i].size;
	}
	return n;
}

/* Why REGION_INFO failed, past strerror() (vfio_device_get_region_info()). */
static const char *
region_info_hint(int err)
{
	switch (err) {
	case -EPROTO:
		return " (a malformed kernel reply: argsz below the fixed part, another index, "
		       "or offset + size out of range)";
	case -E2BIG:
		return " (the kernel asks for more than 64 KiB of capabilities)";
	case -EOVERFLOW:
		return " (the capability chain kept growing between two calls)";
	default:
		return "";
	}
}

/* Map BAR @bar following its plan. */
static int
map_bar(struct vfiofd_device *d, unsigned int bar)
{
	struct vfiofd_region_priv *r = &d->regions[bar];
	struct rte_vfiofd_region *pub = &d->pub.regions[bar];
	struct vfiofd_area sparse[64];
	struct vfiofd_region_desc desc;
	long pg = sysconf(_SC_PAGESIZE);
	int prot = PROT_READ, nsparse, ret;
	void *base;

	memset(&desc, 0, sizeof(desc));
	desc.size = r->info->size;
	desc.page_size = (uint64_t)pg;
	nsparse = sparse_areas(r->info, sparse, RTE_DIM(sparse));
	if (nsparse >= 0) {
		desc.sparse = sparse;
		desc.nr_sparse = (uint32_t)nsparse;
	} else if (nsparse != -ENOENT) {
		VFIOFD_DEV_LOG(ERR, d, "BAR%u: %s sparse-mmap capability", bar,
			       nsparse == -ENOSPC ? "too many areas in its" : "malformed");
		return -EBADMSG;
	}
	if (d->has_msix && d->msix.table_bar == bar) {
		desc.has_msix_table = 1;
		desc.msix_mappable = vfio_region_info_cap(r->info,
					VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) != NULL;
		desc.msix_off = d->msix.table_off;
		desc.msix_size = d->msix.table_size;
	}
	ret = vfiofd_region_plan(&desc, r->areas, VFIOFD_MAX_AREAS, &r->n_areas);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "BAR%u: inconsistent layout (size 0x%" PRIx64
			       ", %d sparse areas, MSI-X table at 0x%" PRIx64 "+0x%" PRIx64 "): %s",
			       bar, desc.size, nsparse > 0 ? nsparse : 0, desc.msix_off,
			       desc.msix_size, strerror(-ret));
		return ret;
	}
	if (r->n_areas == 0)
		return 0; /* nothing mappable (e.g. a BAR that is all MSI-X table) */

	if (pub->flags & RTE_VFIOFD_REGION_WRITE)
		prot |= PROT_WRITE;
	if (d->secondary && d->bar_va[bar] == NULL)
		return 0; /* the primary did not map it either: both use the accessors */
	r->map_len = (size_t)((desc.size + (uint64_t)pg - 1) & ~((uint64_t)pg - 1));
	/* a secondary takes the primary's address or nothing (see private.h) */
	base = mmap(d->secondary ? d->bar_va[bar] : NULL, r->map_len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		    (d->secondary ? MAP_FIXED_NOREPLACE : 0), -1, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		if (d->secondary && ret == -EEXIST)
			VFIOFD_DEV_LOG(ERR, d, "BAR%u: the primary maps it at %p, which this "
				       "secondary process already uses: a PMD's pointers into the "
				       "BAR would not hold here (start the secondary with fewer "
				       "libraries or the primary with --base-virtaddr)", bar,
				       d->bar_va[bar]);
		else
			VFIOFD_DEV_LOG(ERR, d, "BAR%u: cannot reserve %zu bytes of address "
				       "space: %s", bar, r->map_len, strerror(-ret));
		r->map_len = 0;
		return ret;
	}
	if (d->secondary && base != d->bar_va[bar]) {
		/* a kernel without MAP_FIXED_NOREPLACE (before 4.17) takes it as a hint */
		VFIOFD_DEV_LOG(ERR, d, "BAR%u: mapped at %p in this secondary process, at %p in "
			       "the primary: refusing a mapping whose pointers differ", bar, base,
			       d->bar_va[bar]);
		munmap(base, r->map_len);
		r->map_len = 0;
		return -EADDRNOTAVAIL;
	}
	for (unsigned int i = 0; i < r->n_areas; i++) {
		void *want = (char *)base + r->areas[i].offset;
		void *got = mmap(want, r->areas[i].size, prot, MAP_SHARED | MAP_FIXED, d->devfd,
				 (off_t)(r->info->offset + r->areas[i].offset));

		if (got == MAP_FAILED) {
			ret = -errno;
			VFIOFD_DEV_LOG(ERR, d, "BAR%u: mmap of [0x%" PRIx64 ", +0x%" PRIx64 ") "
				       "failed: %s", bar, r->areas[i].offset, r->areas[i].size,
				       strerror(-ret));
			munmap(base, r->map_len);
			r->map_len = 0;
			r->n_areas = 0;
			return ret;
		}
	}
	pub->addr = base;
	if (r->n_areas == 1 && r->areas[0].offset == 0 && r->areas[0].size >= desc.size)
		pub->flags |= RTE_VFIOFD_REGION_MAPPED;
	else
		pub->flags |= RTE_VFIOFD_REGION_PARTIAL;
	return 0;
}

int
vfiofd_regions_setup(struct vfiofd_device *d)
{
	uint8_t cfg[CFG_HEADER_LEN];
	size_t cfg_len;
	ssize_t n;
	int ret;

	ret = vfio_device_get_region_info(d->devfd, VFIO_PCI_CONFIG_REGION_INDEX, &d->cfg_info);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "REGION_INFO(config) failed: %s%s", strerror(-ret),
			       region_info_hint(ret));
		d->cfg_info = NULL;
		return ret;
	}
	cfg_len = d->cfg_info->size < CFG_HEADER_LEN ? d->cfg_info->size : CFG_HEADER_LEN;
	n = cfg_len >= 64 ? vfio_device_region_read(d->devfd, d->cfg_info, 0, cfg, cfg_len) :
			    -EIO;
	if (n < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot read its config space header: %s",
			       strerror((int)-n));
		return (int)n;
	}
	ret = vfiofd_msix_parse(cfg, cfg_len, &d->msix);
	d->has_msix = ret == 0;
	if (ret == -EBADMSG)
		VFIOFD_DEV_LOG(WARNING, d, "malformed PCI capability list: assuming no MSI-X");

	for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++) {
		struct vfiofd_region_priv *r = &d->regions[bar];
		struct rte_vfiofd_region *pub = &d->pub.regions[bar];
		uint32_t bar_reg;

		if (VFIO_PCI_BAR0_REGION_INDEX + bar >= d->info.num_regions)
			break;
		ret = vfio_device_get_region_info(d->devfd, VFIO_PCI_BAR0_REGION_INDEX + bar,
						  &r->info);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "REGION_INFO(BAR%u) failed: %s%s", bar,
				       strerror(-ret), region_info_hint(ret));
			r->info = NULL;
			return ret;
		}
		pub->size = r->info->size;
		if (pub->size == 0)
			continue;
		pub->flags = region_flags(r->info);
		memcpy(&bar_reg, &cfg[PCI_BASE_ADDRESS_0 + 4 * bar], sizeof(bar_reg));
		bar_reg = rte_le_to_cpu_32(bar_reg);
		if (bar_reg & PCI_BASE_ADDRESS_SPACE_IO)
			pub->flags |= RTE_VFIOFD_REGION_IO;
		if (d->has_msix && (d->msix.table_bar == bar || d->msix.pba_bar == bar))
			pub->flags |= RTE_VFIOFD_REGION_MSIX;
		if (!(pub->flags & RTE_VFIOFD_REGION_MMAP) || (pub->flags & RTE_VFIOFD_REGION_IO) ||
		    !d->opts.bar_mmap)
			continue;
		ret = map_bar(d, bar);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Put anonymous memory where the BARs are mapped, at the same addresses and sizes
 * (MAP_FIXED swaps each mapping in one step: an lcore polling a register sees either
 * the device or the replacement, never a hole), and fill it with ones: a PCIe read of
 * a device that is gone returns all ones, which is what drivers that check for a
 * removed device look for. A PMD's stores land in that memory. The mappings no
 * longer hold the device file, so the kernel can complete its removal once the fd
 * closes. The cost is memory the size of the mapped BARs, from then on. Only system
 * calls and memset(): it runs in the SIGBUS handler too.
 */
int
vfiofd_regions_revoke(struct vfiofd_device *d)
{
	int ret = 0;

	for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++) {
		void *addr = d->pub.regions[bar].addr;

		if (addr == NULL || d->regions[bar].map_len == 0)
			continue;
		if (mmap(addr, d->regions[bar].map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			ret = -errno;
		else
			memset(addr, 0xff, d->regions[bar].map_len);
	}
	return ret;
}

void
vfiofd_regions_teardown(struct vfiofd_device *d)
{
	for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++) {
		struct vfiofd_region_priv *r = &d->regions[bar];

		if (d->pub.regions[bar].addr != NULL)
			munmap(d->pub.regions[bar].addr, r->map_len);
		free(r->info);
		memset(r, 0, sizeof(*r));
		memset(&d->pub.regions[bar], 0, sizeof(d->pub.regions[bar]));
	}
	free(d->cfg_info);
	d->cfg_info = NULL;
	d->has_msix = false;
}

/*
 * Copy between MMIO and memory with the widest aligned accesses: a 4-byte register
 * read at a 4-byte aligned offset is one 32-bit load, as a driver would do it.
 */
static void
mmio_read(void *dst, const volatile uint8_t *src, size_t len)
{
	uint8_t *out = dst;

	while (len > 0) {
		uintptr_t a = (uintptr_t)src;

		if (len >= 8 && (a & 7) == 0) {
			uint64_t v = *(const volatile uint64_t *)src;

			memcpy(out, &v, 8);
			src += 8, out += 8, len -= 8;
		} else if (len >= 4 && (a & 3) == 0) {
			uint32_t v = *(const volatile uint32_t *)src;

			memcpy(out, &v, 4);
			src += 4, out += 4, len -= 4;
		} else if (len >= 2 && (a & 1) == 0) {
			uint16_t v = *(const volatile uint16_t *)src;

			memcpy(out, &v, 2);
			src += 2, out += 2, len -= 2;
		} else {
			*out++ = *src++;
			len--;
		}
	}
}

static void
mmio_write(volatile uint8_t *dst, const void *src, size_t len)
{
	const uint8_t *in = src;

	while (len > 0) {
		uintptr_t a = (uintptr_t)dst;

		if (len >= 8 && (a & 7) == 0) {
			uint64_t v;

			memcpy(&v, in, 8);
			*(volatile uint64_t *)dst = v;
			dst += 8, in += 8, len -= 8;
		} else if (len >= 4 && (a & 3) == 0) {
			uint32_t v;

			memcpy(&v, in, 4);
			*(volatile uint32_t *)dst = v;
			dst += 4, in += 4, len -= 4;
		} else if (len >= 2 && (a & 1) == 0) {
			uint16_t v;

			memcpy(&v, in, 2);
			*(volatile uint16_t *)dst = v;
			dst += 2, in += 2, len -= 2;
		} else {
			*dst++ = *in++;
			len--;
		}
	}
}

/* The device's private state and region @bar, checked for an access; NULL + *err. */
static const struct vfiofd_device *
access_check(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off, size_t len,
	     uint32_t need, int *err)
{
	const struct vfiofd_device *d;
	const struct rte_vfiofd_region *pub;

	if (dev == NULL || bar >= RTE_VFIOFD_NUM_BARS) {
		*err = -EINVAL;
		return NULL;
	}
	d = container_of(dev, const struct vfiofd_device, pub);
	pub = &dev->regions[bar];
	if (d->devfd < 0 || d->regions[bar].info == NULL || pub->size == 0) {
		*err = -EINVAL;
		return NULL;
	}
	if (off > pub->size || len > pub->size - off) {
		*err = -ERANGE;
		return NULL;
	}
	if ((pub->flags & need) != need) {
		*err = -EACCES;
		return NULL;
	}
	return d;
}

static bool
via_mapping(const struct vfiofd_device *d, unsigned int bar, uint64_t off, size_t len)
{
	const struct vfiofd_region_priv *r = &d->regions[bar];

	return d->pub.regions[bar].addr != NULL &&
	       vfiofd_areas_cover(r->areas, r->n_areas, off, len);
}

ssize_t
rte_vfiofd_region_read(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off,
		       void *buf, size_t len)
{
	int err;
	const struct vfiofd_device *d = access_check(dev, bar, off, len, RTE_VFIOFD_REGION_READ,
						     &err);

	if (d == NULL)
		return err;
	if (via_mapping(d, bar, off, len)) {
		mmio_read(buf, (const volatile uint8_t *)dev->regions[bar].addr + off, len);
		return (ssize_t)len;
	}
	return vfio_device_region_read(d->devfd, d->regions[bar].info, off, buf, len);
}

ssize_t
rte_vfiofd_region_write(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off,
			const void *buf, size_t len)
{
	int err;
	const struct vfiofd_device *d = access_check(dev, bar, off, len, RTE_VFIOFD_REGION_WRITE,
						     &err);

	if (d == NULL)
		return err;
	if (via_mapping(d, bar, off, len)) {
		mmio_write((volatile uint8_t *)dev->regions[bar].addr + off, buf, len);
		return (ssize_t)len;
	}
	return vfio_device_region_write(d->devfd, d->regions[bar].info, off, buf, len);
}

ssize_t
rte_vfiofd_region_pread(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off,
			void *buf, size_t len)
{
	int err;
	const struct vfiofd_device *d = access_check(dev, bar, off, len, RTE_VFIOFD_REGION_READ,
						     &err);

	if (d == NULL)
		return err;
	return vfio_device_region_read(d->devfd, d->regions[bar].info, off, buf, len);
}

ssize_t
rte_vfiofd_region_pwrite(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off,
			 const void *buf, size_t len)
{
	int err;
	const struct vfiofd_device *d = access_check(dev, bar, off, len, RTE_VFIOFD_REGION_WRITE,
						     &err);

	if (d == NULL)
		return err;
	return vfio_device_region_write(d->devfd, d->regions[bar].info, off, buf, len);
}

ssize_t
rte_vfiofd_config_read(const struct rte_vfiofd_device *dev, uint64_t off, void *buf,
		       size_t len)
{
	const struct vfiofd_device *d;

	if (dev == NULL)
		return -EINVAL;
	d = container_of(dev, const struct vfiofd_device, pub);
	if (d->devfd < 0 || d->cfg_info == NULL)
		return -EINVAL;
	return vfio_device_region_read(d->devfd, d->cfg_info, off, buf, len);
}

ssize_t
rte_vfiofd_config_write(const struct rte_vfiofd_device *dev, uint64_t off, const void *buf,
			size_t len)
{
	const struct vfiofd_device *d;

	if (dev == NULL)
		return -EINVAL;
	d = container_of(dev, const struct vfiofd_device, pub);
	if (d->devfd < 0 || d->cfg_info == NULL)
		return -EINVAL;
	return vfio_device_region_write(d->devfd, d->cfg_info, off, buf, len);
}

int
vfiofd_config_update16(struct vfiofd_device *d, uint64_t off, uint16_t set, uint16_t clear)
{
	uint16_t v, nv;
	ssize_t n;

	n = rte_vfiofd_config_read(&d->pub, off, &v, sizeof(v));
	if (n < 0)
		return (int)n;
	nv = (uint16_t)((v | set) & ~clear);
	if (nv == v)
		return 0;
	n = rte_vfiofd_config_write(&d->pub, off, &nv, sizeof(nv));
	return n < 0 ? (int)n : 0;
}

int
rte_vfiofd_set_bus_master(const struct rte_vfiofd_device *dev, bool enable)
{
	struct vfiofd_device *d;

	if (dev == NULL)
		return -EINVAL;
	d = VFIOFD_DEV((struct rte_vfiofd_device *)(uintptr_t)dev);
	return vfiofd_config_update16(d, PCI_COMMAND, enable ? PCI_COMMAND_MASTER : 0,
				      enable ? 0 : PCI_COMMAND_MASTER);
}
