/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueues: ring memory, indices, and the notification protocol.
 *
 * Layout. Descriptor i is only ever offered through avail slot i (avail->ring[i] == i
 * is written once): the driver writes a descriptor and bumps avail->idx, nothing else.
 * A slot is reused only once the device has returned its descriptor; a device that
 * completes in order (QEMU's virtio-net does) never makes the driver wait, one that
 * does not only delays reuse of the slots it still holds. Every data-queue buffer is
 * therefore one descriptor (a packet that needs more goes through an indirect table
 * owned by its slot, see vv_rxtx.c).
 *
 * Memory ordering (the device is another agent sharing memory with us):
 *  - publishing: descriptor and buffer stores, then avail->idx with release semantics,
 *    so the device never sees an index ahead of the descriptors it covers;
 *  - notification check: a full fence between that index store and the load of the
 *    device's suppression state (used->flags or avail_event), since the device does the
 *    mirror image (enable notifications, full fence, read avail->idx). Without it both
 *    could read stale values: the device sleeps and the driver does not kick;
 *  - consuming: used->idx with acquire semantics, then the used entries and the
 *    buffers' contents, which the device wrote before it moved used->idx.
 * On x86 release/acquire cost nothing (compiler barriers) and the fence is one locked
 * instruction per burst.
 */

#ifndef VV_VQ_H
#define VV_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_atomic.h>
#include <rte_common.h>
#include <rte_memzone.h>

#include "vv_pci.h"
#include "vv_spec.h"

struct vv_vq {
	/* hot: touched on every burst */
	struct vv_desc *desc;
	struct vv_avail *avail;
	struct vv_used *used;
	uint16_t *used_event;          /* &avail->ring[size], with EVENT_IDX */
	uint16_t *avail_event;         /* &used->ring[size], with EVENT_IDX */
	uint16_t size;
	uint16_t mask;
	uint16_t avail_idx;            /* next avail index to publish (free running) */
	uint16_t published_idx;        /* avail index at the last notification check */
	uint16_t used_idx;             /* next used entry to consume (free running) */
	bool event_idx;                /* VIRTIO_F_EVENT_IDX negotiated */
	struct vv_notify notify;

	/* cold */
	const struct rte_memzone *mz;
	uint64_t desc_iova;
	uint64_t avail_iova;
	uint64_t used_iova;
	uint8_t *extra;                /* driver-owned area after the rings, or NULL */
	uint64_t extra_iova;
	uint32_t extra_len;
	uint16_t index;                /* virtqueue index on the device */
};

/*
 * Allocate the rings of a queue of @size entries (a power of two) plus @extra_len
 * bytes of DMA-able driver memory, named @name, on @socket. The IOVAs come from the
 * iommufd memory library. 0 or a negative errno (logged with @devname).
 */
int vv_vq_alloc(struct vv_vq *vq, const char *devname, const char *name, int socket,
		uint16_t index, uint16_t size, uint32_t extra_len);
void vv_vq_free(struct vv_vq *vq);

/*
 * Zero the rings and indices (the device was reset, its indices are 0 again) and
 * lay out the avail ring (slot i offers descriptor i). Interrupts start suppressed.
 */
void vv_vq_reset(struct vv_vq *vq, bool event_idx);

/* Program the queue into the device (between FEATURES_OK and DRIVER_OK). */
int vv_vq_attach(struct vv_vq *vq, const struct vv_pci *p, uint16_t vector);

/* IOVA of a byte of the extra area. */
static inline uint64_t
vv_vq_extra_iova(const struct vv_vq *vq, const void *p)
{
	return vq->extra_iova + (uint64_t)((const uint8_t *)p - vq->extra);
}

/*
 * Make avail entries up to vq->avail_idx visible to the device and tell whether it
 * asked to be notified of them.
 */
static __rte_always_inline bool
vv_vq_publish(struct vv_vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->published_idx;

	/* release: the descriptors (and the buffers' headers) before the index */
	__atomic_store_n(&vq->avail->idx, new_idx, __ATOMIC_RELEASE);
	/* store->load: see the file comment */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->published_idx = new_idx;
	if (vq->event_idx)
		return vv_need_event(__atomic_load_n(vq->avail_event, __ATOMIC_RELAXED),
				     new_idx, old);
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VV_USED_F_NO_NOTIFY);
}

/* Number of used entries the device has returned and we have not consumed yet. */
static __rte_always_inline uint16_t
vv_vq_used_pending(const struct vv_vq *vq)
{
	/* acquire: the entries and buffers the index covers are read after it */
	return (uint16_t)(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) - vq->used_idx);
}

/*
 * Interrupt suppression while polling. Without EVENT_IDX the NO_INTERRUPT flag is
 * enough. With EVENT_IDX the device ignores the flag and interrupts when its used
 * index passes used_event: keep used_event just behind what we consumed, which the
 * device's index can never reach again (it is at most a ring ahead of us).
 */
static __rte_always_inline void
vv_vq_intr_keep_off(struct vv_vq *vq)
{
	if (vq->event_idx)
		__atomic_store_n(vq->used_event, (uint16_t)(vq->used_idx - 1),
				 __ATOMIC_RELAXED);
}

/* Ask for an interrupt at the next used entry; see vv_vq_intr_keep_off(). */
void vv_vq_intr_enable(struct vv_vq *vq);
void vv_vq_intr_disable(struct vv_vq *vq);

#endif /* VV_VQ_H */
