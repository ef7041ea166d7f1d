/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: what the kernel and the device tell the drivers about regions.
 *
 * The first input byte picks one of two parts:
 *
 * even: VFIO region info. vfio_device.c is built here with ioctl() renamed to
 *   fuzz_ioctl(), which answers VFIO_DEVICE_GET_REGION_INFO from the input the way the
 *   kernel would (fixed part written back, the capability chain copied only into the
 *   room the caller offered) except for what a hostile reply may plant: argsz, flags,
 *   cap_offset, size and offset. Then the bus's own walk: the capabilities by id,
 *   sparse mmap, type, MSI-X mappable, and the mmap plan built from them
 *   (vfiofd_region_plan(), as vfiofd_regions.c's map_bar() does).
 *
 * odd: virtio PCI capability windows. vv_pci.c (net/vfiofd_virtio) runs against a
 *   device made of the input: 256 bytes of config space and six BARs of input-chosen
 *   sizes, each a heap buffer of exactly that size (so AddressSanitizer sees a byte
 *   past a BAR), mapped whole or reached through pread/pwrite. The bus's accessors are
 *   stubbed with its bounds (an access outside a region aborts: the PMD validated its
 *   windows at init and must never ask for one). After vv_pci_init() succeeds, the
 *   PMD's register paths run: ISR (every interrupt), common configuration, device
 *   configuration, a queue setup and its notify.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>

#include "../fake_region_info.h"
#include "vfio_device.h"
#include "vfiofd_layout.h"
#include "vv_pci.h"
#include "vv_spec.h"

/* the bus's VFIOFD_MAX_AREAS (private.h, which needs the DPDK bus headers) */
#define PLAN_MAX_AREAS 16

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "CHECK failed: %s (line %d)\n", #c, \
				       __LINE__); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_ioctl(int fd, unsigned long req, ...);

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take(struct in *in, size_t bytes)
{
	uint64_t v = 0;
	size_t k = in->n < bytes ? in->n : bytes;

	memcpy(&v, in->p, k);
	in->p += k;
	in->n -= k;
	return v;
}

/* ---- part 1: VFIO region info ---- */

#define FAKE_FD 1000

static struct {
	uint32_t flags, cap_offset, argsz;
	uint64_t size, offset;
	uint8_t mode;            /* bit 0: argsz as planted; bit 1: cap_offset as planted */
	const uint8_t *chain;
	size_t chain_len;
} reply;

int
fuzz_ioctl(int fd, unsigned long req, ...)
{
	struct vfio_region_info *info;
	va_list ap;

	va_start(ap, req);
	info = va_arg(ap, struct vfio_region_info *);
	va_end(ap);
	if (fd != FAKE_FD || req != VFIO_DEVICE_GET_REGION_INFO) {
		errno = ENOTTY;
		return -1;
	}
	CHECK(info->argsz >= sizeof(*info));
	fake_region_info_reply(info, reply.flags, reply.size, reply.offset, reply.chain,
			       reply.chain_len);
	if (reply.mode & 1)
		info->argsz = reply.argsz;
	if (reply.mode & 2)
		info->cap_offset = reply.cap_offset;
	return 0;
}

static void
region_info(struct in *in)
{
	struct vfio_region_sparse_mmap_area sp[64];
	struct vfiofd_area sparse[64], out[PLAN_MAX_AREAS];
	struct vfio_region_info *info = NULL;
	struct vfiofd_region_desc d;
	uint32_t type, subtype;
	unsigned int n = 0;
	int ret, nsp;

	reply.mode = (uint8_t)take(in, 1);
	reply.argsz = (uint32_t)take(in, 4);
	reply.flags = (uint32_t)take(in, 4);
	reply.cap_offset = (uint32_t)take(in, 4);
	reply.size = take(in, 8);
	reply.offset = take(in, 8);
	memset(&d, 0, sizeof(d));
	d.has_msix_table = (reply.mode & 4) != 0;
	d.msix_off = take(in, 4);
	d.msix_size = take(in, 4) & 0x1ffff;
	reply.chain = in->p;
	reply.chain_len = in->n < 4096 ? in->n : 4096;

	ret = vfio_device_get_region_info(FAKE_FD, 3, &info);
	CHECK(ret == 0 || ret == -EPROTO || ret == -E2BIG || ret == -EOVERFLOW);
	if (ret != 0)
		return;
	CHECK(info->argsz >= sizeof(*info) && info->argsz <= VFIO_REGION_INFO_ARGSZ_MAX);
	for (uint16_t id = 0; id < 8; id++) {
		const struct vfio_info_cap_header *h = vfio_region_info_cap(info, id);

		if (h != NULL) {
			size_t off = (size_t)((const char *)h - (const char *)info);

			CHECK(h->id == id && off >= sizeof(*info) &&
			      off + sizeof(*h) <= info->argsz && off % 8 == 0);
		}
	}
	ret = vfio_region_info_type(info, &type, &subtype);
	CHECK(ret == 0 || ret == -ENOENT || ret == -EBADMSG);
	nsp = vfio_region_info_sparse(info, sp, 64);
	CHECK(nsp >= 0 ? nsp <= 64 : nsp == -ENOENT || nsp == -EBADMSG || nsp == -ENOSPC);

	/* the mmap plan, as map_bar() builds it */
	d.size = info->size;
	d.page_size = 4096;
	if (nsp > 0) {
		for (int i = 0; i < nsp; i++) {
			sparse[i].offset = sp[i].offset;
			sparse[i].size = sp[i].size;
		}
		d.sparse = sparse;
		d.nr_sparse = (uint32_t)nsp;
	}
	d.msix_mappable = vfio_region_info_cap(info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) != NULL;
	ret = vfiofd_region_plan(&d, out, PLAN_MAX_AREAS, &n);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOSPC);
	for (unsigned int i = 0; ret == 0 && i < n; i++) {
		uint64_t rs = (d.size + 4095) & ~4095ull;

		CHECK(out[i].size > 0 && out[i].offset < rs && out[i].size <= rs - out[i].offset);
	}
	free(info);
}

/* ---- part 2: virtio capability windows ---- */

int vv_logtype;
static uint8_t cfg[4096];
static struct rte_vfiofd_device dev;

int
rte_log(uint32_t level, uint32_t logtype, const char *format, ...)
{
	(void)logtype;
	if (getenv("FUZZ_VERBOSE") != NULL && level <= RTE_LOG_ERR) {
		va_list ap;

		va_start(ap, format);
		vfprintf(stderr, format, ap);
		va_end(ap);
	}
	return 0;
}

uint64_t
rte_get_tsc_hz(void)
{
	return 1000000000;
}

void
rte_delay_us_sleep(unsigned int us)
{
	(void)us;
}

ssize_t
rte_vfiofd_config_read(const struct rte_vfiofd_device *d, uint64_t off, void *buf,
		       size_t len)
{
	(void)d;
	if (off > sizeof(cfg) || len > sizeof(cfg) - off)
		return -ERANGE;
	memcpy(buf, cfg + off, len);
	return (ssize_t)len;
}

static uint8_t *bar_mem[RTE_VFIOFD_NUM_BARS]; /* a BAR's contents, mapped or not */

/* The bus's pread/pwrite path: in bounds or a PMD bug (its windows were checked). */
static ssize_t
region_rw(unsigned int bar, uint64_t off, void *buf, size_t len, bool write)
{
	const struct rte_vfiofd_region *r;

	CHECK(bar < RTE_VFIOFD_NUM_BARS);
	r = &dev.regions[bar];
	CHECK(r->size > 0 && off <= r->size && len <= r->size - off);
	if (write)
		memcpy(bar_mem[bar] + off, buf, len);
	else
		memcpy(buf, bar_mem[bar] + off, len);
	return (ssize_t)len;
}

ssize_t
rte_vfiofd_region_read(const struct rte_vfiofd_device *d, unsigned int bar, uint64_t off,
		       void *buf, size_t len)
{
	(void)d;
	return region_rw(bar, off, buf, len, false);
}

ssize_t
rte_vfiofd_region_write(const struct rte_vfiofd_device *d, unsigned int bar, uint64_t off,
			const void *buf, size_t len)
{
	(void)d;
	return region_rw(bar, off, (void *)(uintptr_t)buf, len, true);
}

static void
virtio_caps(struct in *in)
{
	struct vv_pci p;
	struct vv_notify nt;
	uint8_t buf[16];
	size_t k = in->n < 256 ? in->n : 256;

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg, in->p, k);
	in->p += k;
	in->n -= k;
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "0000:00:04.0");
	for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS; b++) {
		uint8_t shape = (uint8_t)take(in, 1);
		struct rte_vfiofd_region *r = &dev.regions[b];
		size_t fill;

		/* size 0 or 2^4..2^19, now and then 1..3 bytes more; I/O, mapped whole, or
		 * memory the bus did not map (both reached through its accessors) */
		r->size = (shape & 0x1f) < 4 ? 0 : (1ull << ((shape & 0x1f) % 16 + 4)) +
			  ((shape & 0x60) == 0x60 ? 1 + (shape & 1) : 0);
		if (r->size == 0)
			continue;
		bar_mem[b] = calloc(1, r->size);
		CHECK(bar_mem[b] != NULL);
		fill = in->n < r->size ? in->n : r->size;
		memcpy(bar_mem[b], in->p, fill);
		r->flags = RTE_VFIOFD_REGION_READ | RTE_VFIOFD_REGION_WRITE;
		if (shape & 0x80) {
			r->flags |= RTE_VFIOFD_REGION_IO;
		} else if (!(shape & 0x20)) {
			r->addr = bar_mem[b];
			r->flags |= RTE_VFIOFD_REGION_MMAP | RTE_VFIOFD_REGION_MAPPED;
		}
	}
	if (vv_pci_init(&p, &dev) == 0) {
		CHECK(p.common.present && p.notify.present && p.isr.present);
		(void)vv_pci_isr(&p);
		(void)vv_pci_get_status(&p);
		(void)vv_pci_num_queues(&p);
		(void)vv_pci_device_features(&p);
		vv_pci_set_driver_features(&p, 1ull << VV_F_VERSION_1);
		vv_pci_read_devcfg(&p, VV_NET_CFG_MAC, buf, 6);
		vv_pci_read_devcfg(&p, VV_NET_CFG_STATUS, buf, 2);
		vv_pci_read_devcfg(&p, VV_NET_CFG_MAX_PAIRS, buf, 2);
		vv_pci_read_devcfg(&p, VV_NET_CFG_MTU, buf, 2);
		vv_pci_read_devcfg(&p, VV_NET_CFG_SPEED, buf, 4);
		vv_pci_read_devcfg(&p, VV_NET_CFG_DUPLEX, buf, 1);
		(void)vv_pci_queue_max(&p, 0);
		(void)vv_pci_set_config_vector(&p, VV_MSI_NO_VECTOR);
		memset(&nt, 0, sizeof(nt));
		/* the vector read back is what the BAR holds: any value may come back */
		if (vv_pci_queue_setup(&p, 0, 256, VV_MSI_NO_VECTOR, 0x1000, 0x2000, 0x3000,
				       &nt) == 0)
			vv_notify(&nt);
	}
	for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS; b++) {
		free(bar_mem[b]);
		bar_mem[b] = NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	if (size == 0)
		return 0;
	if (take(&in, 1) & 1)
		virtio_caps(&in);
	else
		region_info(&in);
	return 0;
}
