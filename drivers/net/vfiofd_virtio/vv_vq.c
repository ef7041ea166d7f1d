/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue memory and programming. A queue is one IOVA-contiguous memzone:
 *
 *   [descriptors: 16 * size][avail: 4 + 2 * size + 2] ... page ... [used: 4 + 8 * size + 2]
 *   ... cache line ... [extra: driver-owned, e.g. indirect tables or command buffers]
 *
 * The used ring starts on its own page so that the device's writes and the driver's
 * (descriptors, avail) never share a cache line. The memzone is DPDK memory, so the
 * iommufd memory library has mapped it for every device; its IOVAs are asked from the
 * library rather than taken from the memzone, which only knows the EAL's view.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_memzone.h>

#include "rte_iommufd_mem.h"
#include "vv_logs.h"
#include "vv_vq.h"

#define VV_PAGE 4096

static size_t
ring_used_off(uint16_t size)
{
	size_t avail_end = (size_t)size * sizeof(struct vv_desc) +
			   sizeof(struct vv_avail) + sizeof(uint16_t) * (size + 1u);

	return RTE_ALIGN_CEIL(avail_end, VV_PAGE);
}

static size_t
ring_extra_off(uint16_t size)
{
	size_t used_end = ring_used_off(size) + sizeof(struct vv_used) +
			  sizeof(struct vv_used_elem) * size + sizeof(uint16_t);

	return RTE_ALIGN_CEIL(used_end, RTE_CACHE_LINE_SIZE);
}

int
vv_vq_alloc(struct vv_vq *vq, const char *devname, const char *name, int socket,
	    uint16_t index, uint16_t size, uint32_t extra_len)
{
	const struct rte_memzone *mz;
	size_t len = ring_extra_off(size) + extra_len;
	rte_iova_t iova, last;

	memset(vq, 0, sizeof(*vq));
	if (size == 0 || !rte_is_power_of_2(size) || size > VV_QUEUE_MAX) {
		VV_DEV_LOG(ERR, devname, "queue %u: bad size %u", index, size);
		return -EINVAL;
	}
	/* a leftover of a port that went away without freeing (should not happen) */
	mz = rte_memzone_lookup(name);
	if (mz != NULL) {
		VV_DEV_LOG(WARNING, devname, "memzone %s still exists: freeing it", name);
		rte_memzone_free(mz);
	}
	mz = rte_memzone_reserve_aligned(name, len, socket, RTE_MEMZONE_IOVA_CONTIG, VV_PAGE);
	if (mz == NULL && socket != SOCKET_ID_ANY)
		mz = rte_memzone_reserve_aligned(name, len, SOCKET_ID_ANY,
						 RTE_MEMZONE_IOVA_CONTIG, VV_PAGE);
	if (mz == NULL) {
		VV_DEV_LOG(ERR, devname, "queue %u: cannot reserve %zu bytes of ring memory: %s",
			   index, len, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	iova = rte_iommufd_mem_va2iova(mz->addr);
	last = rte_iommufd_mem_va2iova((const uint8_t *)mz->addr + len - 1);
	if (iova == RTE_BAD_IOVA || last != iova + len - 1) {
		VV_DEV_LOG(ERR, devname, "queue %u: ring memory at %p is not mapped for DMA "
			   "as one range (IOVA 0x%" PRIx64 " .. 0x%" PRIx64 ")", index,
			   mz->addr, iova, last);
		rte_memzone_free(mz);
		return -EFAULT;
	}
	memset(mz->addr, 0, len);

	vq->mz = mz;
	vq->index = index;
	vq->size = size;
	vq->mask = size - 1;
	vq->desc = mz->addr;
	vq->avail = (struct vv_avail *)((uint8_t *)mz->addr +
				       (size_t)size * sizeof(struct vv_desc));
	vq->used = (struct vv_used *)((uint8_t *)mz->addr + ring_used_off(size));
	vq->used_event = &vq->avail->ring[size];
	vq->avail_event = (uint16_t *)&vq->used->ring[size];
	vq->desc_iova = iova;
	vq->avail_iova = iova + ((uint8_t *)vq->avail - (uint8_t *)mz->addr);
	vq->used_iova = iova + ring_used_off(size);
	if (extra_len > 0) {
		vq->extra = (uint8_t *)mz->addr + ring_extra_off(size);
		vq->extra_iova = iova + ring_extra_off(size);
		vq->extra_len = extra_len;
	}
	return 0;
}

void
vv_vq_free(struct vv_vq *vq)
{
	if (vq->mz != NULL)
		rte_memzone_free(vq->mz);
	memset(vq, 0, sizeof(*vq));
}

void
vv_vq_reset(struct vv_vq *vq, bool event_idx)
{
	memset(vq->desc, 0, (size_t)vq->size * sizeof(struct vv_desc));
	memset(vq->avail, 0, sizeof(struct vv_avail) + sizeof(uint16_t) * (vq->size + 1u));
	memset(vq->used, 0, sizeof(struct vv_used) +
	       sizeof(struct vv_used_elem) * vq->size + sizeof(uint16_t));
	for (uint16_t i = 0; i < vq->size; i++)
		vq->avail->ring[i] = i;
	vq->avail_idx = 0;
	vq->published_idx = 0;
	vq->used_idx = 0;
	vq->event_idx = event_idx;
	/* polling by default; with EVENT_IDX the flags must stay 0 (spec 2.7.7.1) */
	vq->avail->flags = event_idx ? 0 : VV_AVAIL_F_NO_INTERRUPT;
	vv_vq_intr_keep_off(vq);
}

int
vv_vq_attach(struct vv_vq *vq, const struct vv_pci *p, uint16_t vector)
{
	return vv_pci_queue_setup(p, vq->index, vq->size, vector, vq->desc_iova,
				  vq->avail_iova, vq->used_iova, &vq->notify);
}

void
vv_vq_intr_enable(struct vv_vq *vq)
{
	if (vq->event_idx)
		__atomic_store_n(vq->used_event, vq->used_idx, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
	/* the device must see the request before we look at used->idx again */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
vv_vq_intr_disable(struct vv_vq *vq)
{
	if (vq->event_idx)
		vv_vq_intr_keep_off(vq);
	else
		__atomic_store_n(&vq->avail->flags, VV_AVAIL_F_NO_INTERRUPT,
				 __ATOMIC_RELAXED);
}
