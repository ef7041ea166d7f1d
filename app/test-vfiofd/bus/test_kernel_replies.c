/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host unit tests of what the bus accepts from the kernel: the VFIO device wrappers
 * (vfio_device.c) against replies a buggy kernel, a fault or a hostile ioctl layer
 * could give. This program defines ioctl() (ioctl_hook.h): the wrappers, linked in
 * statically, call it instead of the C library's, and it answers
 * VFIO_DEVICE_GET_REGION_INFO and VFIO_DEVICE_GET_IRQ_INFO on a pretend device fd the
 * way the kernel does (fake_region_info.h), with whatever values a case plants. Every
 * other ioctl goes to the kernel.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio_device.h"
#include "fake_region_info.h"
#include "../ioctl_hook.h"
#include "../tap.h"

#define FAKE_FD 1000

static struct {
	uint8_t chain[512];       /* capability chain, as placed after the fixed part */
	uint32_t chain_len;
	uint32_t flags;
	uint64_t size, offset;
	int64_t argsz_reply;      /* >= 0: argsz written back whatever the chain */
	uint32_t grow;            /* > 0: ask for this much more at every call */
	uint32_t irq_count;
	unsigned int calls;
	size_t largest_argsz;     /* the biggest buffer the caller offered */
} k;

static int
fake_vfio(int fd, unsigned long req, void *arg)
{
	if (fd != FAKE_FD)
		return IOCTL_HOOK_PASS;
	k.calls++;
	if (req == VFIO_DEVICE_GET_REGION_INFO) {
		struct vfio_region_info *info = arg;

		if (info->argsz < sizeof(*info)) {
			errno = EINVAL;
			return -1;
		}
		if (info->argsz > k.largest_argsz)
			k.largest_argsz = info->argsz;
		fake_region_info_reply(info, k.flags, k.size, k.offset, k.chain, k.chain_len);
		if (k.grow > 0)
			info->argsz += k.grow;
		if (k.argsz_reply >= 0)
			info->argsz = (uint32_t)k.argsz_reply;
		return 0;
	}
	if (req == VFIO_DEVICE_GET_IRQ_INFO) {
		struct vfio_irq_info *irq = arg;

		irq->flags = VFIO_IRQ_INFO_EVENTFD;
		irq->count = k.irq_count;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

IOCTL_HOOK(fake_vfio)

static void
k_reset(void)
{
	memset(&k, 0, sizeof(k));
	k.argsz_reply = -1;
	k.size = 0x4000;
	k.offset = 0x10000000000ull;
	k.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_MMAP;
}

/* Append a capability header (and @extra bytes after it) to the chain at 8-byte steps. */
static void *
k_cap(uint16_t id, uint16_t version, size_t len)
{
	struct vfio_info_cap_header *h = (void *)(k.chain + k.chain_len);
	uint32_t at = sizeof(struct vfio_region_info) + k.chain_len;

	/* link the previous capability to this one */
	if (k.chain_len > 0) {
		uint32_t prev = 0;

		for (uint32_t o = 0; o < k.chain_len; ) {
			struct vfio_info_cap_header *p = (void *)(k.chain + o);

			prev = o;
			if (p->next == 0)
				break;
			o = p->next - (uint32_t)sizeof(struct vfio_region_info);
		}
		((struct vfio_info_cap_header *)(k.chain + prev))->next = at;
	}
	memset(h, 0, len);
	h->id = id;
	h->version = version;
	h->next = 0;
	k.chain_len += (uint32_t)((len + 7) & ~(size_t)7);
	return h;
}

/* REGION_INFO against the planted reply: the result, the info freed if it came. */
static int
k_get(void)
{
	struct vfio_region_info *info = NULL;
	int ret = vfio_device_get_region_info(FAKE_FD, 0, &info);

	free(info);
	return ret;
}

static void
test_region_info(struct tap *t)
{
	struct vfio_region_sparse_mmap_area areas[8];
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_region_info_cap_type *ty;
	struct vfio_region_info *info = NULL;
	uint32_t type = 0, subtype = 0;
	int ret, n;

	/* a good chain: sparse mmap (2 areas), MSI-X mappable, type */
	k_reset();
	sp = k_cap(VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, sizeof(*sp) + 2 * sizeof(areas[0]));
	sp->nr_areas = 2;
	sp->areas[0].offset = 0;
	sp->areas[0].size = 0x1000;
	sp->areas[1].offset = 0x3000;
	sp->areas[1].size = 0x1000;
	k_cap(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, sizeof(struct vfio_info_cap_header));
	ty = k_cap(VFIO_REGION_INFO_CAP_TYPE, 1, sizeof(*ty));
	ty->type = 3;
	ty->subtype = 7;
	ret = vfio_device_get_region_info(FAKE_FD, 0, &info);
	tap_check(t, ret == 0 && k.calls == 2 && info->argsz == sizeof(*info) + k.chain_len,
		  "chain of 3 capabilities read in two calls (%d, %u calls)", ret, k.calls);
	if (ret == 0) {
		n = vfio_region_info_sparse(info, areas, 8);
		tap_check(t, n == 2 && areas[1].offset == 0x3000 && areas[1].size == 0x1000,
			  "sparse mmap: %d areas", n);
		tap_check(t, vfio_region_info_sparse(info, areas, 1) == -ENOSPC,
			  "sparse mmap into a 1-area buffer: -ENOSPC");
		tap_check(t, vfio_region_info_cap(info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) != NULL,
			  "MSI-X mappable found");
		ret = vfio_region_info_type(info, &type, &subtype);
		tap_check(t, ret == 0 && type == 3 && subtype == 7, "type %u:%u", type, subtype);
		free(info);
		info = NULL;
	}

	/* argsz below the fixed part, with a chain the caps walk would follow */
	k_reset();
	k_cap(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, sizeof(struct vfio_info_cap_header));
	k.argsz_reply = 4;
	ret = k_get();
	tap_check(t, ret == -EPROTO, "reply with argsz 4: refused (%d)", ret);

	/* the kernel asks for 4 GiB: no such allocation, no second call */
	k_reset();
	k_cap(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, sizeof(struct vfio_info_cap_header));
	k.argsz_reply = UINT32_MAX;
	ret = k_get();
	tap_check(t, ret == -E2BIG && k.largest_argsz < VFIO_REGION_INFO_ARGSZ_MAX,
		  "reply asking for argsz 0xffffffff: refused (%d), largest buffer %zu bytes",
		  ret, k.largest_argsz);

	/* a chain that grows at every call: give up after two */
	k_reset();
	k.grow = 64;
	ret = k_get();
	tap_check(t, ret == -EOVERFLOW && k.calls == 2, "ever-growing argsz: -EOVERFLOW after "
		  "%u calls (%d)", k.calls, ret);

	/* offset + size beyond what mmap and pread take */
	k_reset();
	k.offset = INT64_MAX;
	k.size = 0x1000;
	ret = k_get();
	tap_check(t, ret == -EPROTO, "offset 0x7fff...ffff + size 0x1000: refused (%d)", ret);

	/* a sparse capability whose area count runs past the reply */
	k_reset();
	sp = k_cap(VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, sizeof(*sp) + sizeof(areas[0]));
	sp->nr_areas = 3;
	ret = vfio_device_get_region_info(FAKE_FD, 0, &info);
	n = ret == 0 ? vfio_region_info_sparse(info, areas, 8) : ret;
	tap_check(t, n == -EBADMSG, "sparse mmap with 3 areas in room for 1: -EBADMSG (%d)", n);
	free(info);
	info = NULL;
}

/* The walk over a region info built by hand, as a buggy kernel could leave it. */
static void
test_cap_walk(struct tap *t)
{
	union {
		struct vfio_region_info info;
		uint8_t raw[128];
	} u;
	struct vfio_info_cap_header *h = (void *)(u.raw + sizeof(u.info));
	struct vfio_info_cap_header *h2 = (void *)(u.raw + sizeof(u.info) + 8);

	memset(&u, 0, sizeof(u));
	u.info.flags = VFIO_REGION_INFO_FLAG_CAPS;
	u.info.cap_offset = sizeof(u.info);
	h->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;

	/* argsz claims the info is 4 bytes: nothing after the fixed part is ours to read */
	u.info.argsz = 4;
	tap_check(t, vfio_region_info_cap(&u.info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) == NULL,
		  "argsz 4: no capability is read");
	u.info.argsz = sizeof(u.info) + 4;
	tap_check(t, vfio_region_info_cap(&u.info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) == NULL,
		  "argsz cuts the header: not found");
	u.info.argsz = sizeof(u.raw);
	tap_check(t, vfio_region_info_cap(&u.info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) == h,
		  "argsz covers it: found");

	/* a chain that loops: the walk ends */
	h->id = 99;
	h->next = (uint32_t)sizeof(u.info) + 8;
	h2->id = 98;
	h2->next = (uint32_t)sizeof(u.info);
	tap_check(t, vfio_region_info_cap(&u.info, VFIO_REGION_INFO_CAP_TYPE) == NULL,
		  "a two-capability loop: not found, walk bounded");
	/* misaligned: a capability header the kernel never places there */
	h->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	u.info.cap_offset = sizeof(u.info) + 4;
	tap_check(t, vfio_region_info_cap(&u.info, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) == NULL,
		  "misaligned capability offset: not followed");
	/* pointing back into the fixed part */
	u.info.cap_offset = 8;
	tap_check(t, vfio_region_info_cap(&u.info, 0) == NULL,
		  "capability offset inside the fixed part: not followed");
}

static void
test_irq_info(struct tap *t)
{
	struct vfio_irq_info irq;
	int ret;

	k_reset();
	k.irq_count = 2048;
	ret = vfio_device_get_irq_info(FAKE_FD, VFIO_PCI_MSIX_IRQ_INDEX, &irq);
	tap_check(t, ret == 0 && irq.count == 2048, "2048 MSI-X vectors accepted (%d)", ret);
	k.irq_count = UINT32_MAX;
	ret = vfio_device_get_irq_info(FAKE_FD, VFIO_PCI_MSIX_IRQ_INDEX, &irq);
	tap_check(t, ret == -EPROTO, "0xffffffff vectors refused (%d)", ret);
}

int
main(void)
{
	struct tap t = { 0 };

	test_region_info(&t);
	test_cap_walk(&t);
	test_irq_info(&t);
	return tap_done(&t);
}
