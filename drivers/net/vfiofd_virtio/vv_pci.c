/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * virtio 1.x PCI transport: the vendor capabilities are read from config space with
 * rte_vfiofd_config_read(); the structures they locate are accessed through the BAR
 * mapping the bus made, or through its pread/pwrite accessor where a BAR is not
 * (fully) mapped. Register accesses are single, naturally sized loads and stores, as
 * the specification requires for the common configuration.
 */

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_io.h>

#include "vv_logs.h"
#include "vv_pci.h"
#include "vv_spec.h"

static const char *
cap_type_str(uint8_t t)
{
	switch (t) {
	case VV_PCI_CAP_COMMON_CFG: return "common";
	case VV_PCI_CAP_NOTIFY_CFG: return "notify";
	case VV_PCI_CAP_ISR_CFG: return "isr";
	case VV_PCI_CAP_DEVICE_CFG: return "device";
	case VV_PCI_CAP_PCI_CFG: return "pci-cfg";
	default: return "other";
	}
}

static int
cfg_read(const struct vv_pci *p, uint64_t off, void *buf, size_t len)
{
	ssize_t r = rte_vfiofd_config_read(p->dev, off, buf, len);

	if (r != (ssize_t)len) {
		VV_DEV_LOG(ERR, p->name, "config space read of %zu bytes at 0x%" PRIx64
			   " failed: %s", len, off, r < 0 ? strerror((int)-r) : "short read");
		return r < 0 ? (int)r : -EIO;
	}
	return 0;
}

/*
 * What each structure needs of its window: the bytes the driver reads or writes in it
 * unconditionally, and the alignment its registers need (spec 4.1.4: common and
 * device configuration 4 bytes, notify 2). The device configuration may be empty: its
 * fields are read only where the window holds them (vv_pci_read_devcfg()).
 */
static void
window_needs(uint8_t type, uint32_t *min_len, uint32_t *align)
{
	switch (type) {
	case VV_PCI_CAP_COMMON_CFG:
		*min_len = VV_COMMON_LEN;
		*align = 4;
		break;
	case VV_PCI_CAP_NOTIFY_CFG:
		*min_len = sizeof(uint16_t);
		*align = 2;
		break;
	case VV_PCI_CAP_ISR_CFG:
		*min_len = 1;   /* read at every INTx and link-status interrupt */
		*align = 1;
		break;
	default:
		*min_len = 0;
		*align = 4;
		break;
	}
}

/*
 * Fill @w from the capability at config offset @pos; 0, or < 0 if it is unusable
 * (logged; the caller may find another capability of the same type). The window must
 * lie inside its BAR, which the bus mapped whole or reaches through pread/pwrite, be
 * long enough for what the driver accesses in it, and be aligned for it.
 */
static int
window_init(struct vv_pci *p, struct vv_window *w, uint8_t pos, uint8_t type)
{
	const struct rte_vfiofd_region *r;
	uint32_t off, len, min_len, align;
	uint8_t bar;

	if (cfg_read(p, pos + VV_CAP_OFF_BAR, &bar, 1) < 0 ||
	    cfg_read(p, pos + VV_CAP_OFF_OFFSET, &off, 4) < 0 ||
	    cfg_read(p, pos + VV_CAP_OFF_LENGTH, &len, 4) < 0)
		return -EIO;
	if (bar >= RTE_VFIOFD_NUM_BARS) {
		VV_DEV_LOG(DEBUG, p->name, "%s capability in BAR %u: ignored",
			   cap_type_str(type), bar);
		return -ENOENT;
	}
	r = &p->dev->regions[bar];
	if (r->size == 0 || (uint64_t)off + len > r->size) {
		VV_DEV_LOG(ERR, p->name, "%s structure [0x%x, +0x%x) lies outside BAR %u "
			   "(size 0x%" PRIx64 "): ignored", cap_type_str(type), off, len, bar,
			   r->size);
		return -ERANGE;
	}
	window_needs(type, &min_len, &align);
	if (len < min_len || (off & (align - 1)) != 0) {
		VV_DEV_LOG(ERR, p->name, "%s structure at BAR %u offset 0x%x: %s (length 0x%x, "
			   "needs 0x%x bytes at a %u-byte boundary): ignored", cap_type_str(type),
			   bar, off, len < min_len ? "too short" : "misaligned", len, min_len,
			   align);
		return -ERANGE;
	}
	if (r->flags & RTE_VFIOFD_REGION_IO) {
		/* fine for the accessors (pread/pwrite), just slower */
		VV_DEV_LOG(INFO, p->name, "%s structure is in I/O BAR %u",
			   cap_type_str(type), bar);
	}
	w->bar = bar;
	w->off = off;
	w->len = len;
	/* plain loads and stores only where the bus mapped every byte of the BAR: the
	 * window is inside it (checked above); elsewhere the bus's accessors check each
	 * access against what is mapped */
	w->va = (r->addr != NULL && (r->flags & RTE_VFIOFD_REGION_MAPPED)) ?
		(uint8_t *)r->addr + off : NULL;
	w->present = true;
	VV_DEV_LOG(DEBUG, p->name, "%s structure: BAR %u offset 0x%x length 0x%x (%s)",
		   cap_type_str(type), bar, off, len, w->va != NULL ? "mapped" : "pread/pwrite");
	return 0;
}

int
vv_pci_init(struct vv_pci *p, struct rte_vfiofd_device *dev)
{
	uint16_t status;
	uint8_t pos;
	unsigned int guard = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->name = dev->name;

	ret = cfg_read(p, VV_PCI_STATUS, &status, sizeof(status));
	if (ret < 0)
		return ret;
	if (!(status & VV_PCI_STATUS_CAP_LIST)) {
		VV_DEV_LOG(ERR, p->name, "no PCI capability list: not a virtio 1.x device");
		return -ENODEV;
	}
	ret = cfg_read(p, VV_PCI_CAP_PTR, &pos, 1);
	if (ret < 0)
		return ret;
	/* 48 capabilities fit in the 192 bytes after the header: more means a loop */
	while (pos != 0 && guard++ < 48) {
		uint8_t hdr[4];   /* id, next, cap_len, cfg_type */
		struct vv_window *w = NULL;

		pos &= ~3;
		if (pos < 0x40) {
			VV_DEV_LOG(ERR, p->name, "capability pointer 0x%x inside the header", pos);
			return -EINVAL;
		}
		ret = cfg_read(p, pos, hdr, sizeof(hdr));
		if (ret < 0)
			return ret;
		if (hdr[0] == VV_PCI_CAP_ID_VNDR && hdr[2] >= VV_CAP_LEN) {
			switch (hdr[3]) {
			case VV_PCI_CAP_COMMON_CFG: w = &p->common; break;
			case VV_PCI_CAP_NOTIFY_CFG: w = &p->notify; break;
			case VV_PCI_CAP_ISR_CFG: w = &p->isr; break;
			case VV_PCI_CAP_DEVICE_CFG: w = &p->devcfg; break;
			default: break;
			}
			/* the first capability of each type that we can use wins (spec 4.1.4) */
			if (w != NULL && !w->present) {
				ret = window_init(p, w, pos, hdr[3]);
				if (ret == -EIO)
					return ret;
				if (ret == 0 && w == &p->notify) {
					if (hdr[2] < VV_NOTIFY_CAP_LEN ||
					    cfg_read(p, pos + VV_CAP_OFF_NOTIFY_MULT,
						     &p->notify_mult, 4) < 0) {
						VV_DEV_LOG(ERR, p->name, "short notify capability");
						return -EINVAL;
					}
				}
			}
		}
		pos = hdr[1];
	}
	if (!p->common.present || !p->notify.present || !p->isr.present) {
		VV_DEV_LOG(ERR, p->name, "virtio capabilities missing (common %s, notify %s, "
			   "isr %s): not a modern virtio device, or start QEMU with "
			   "disable-legacy=on", p->common.present ? "yes" : "no",
			   p->notify.present ? "yes" : "no", p->isr.present ? "yes" : "no");
		return -ENODEV;
	}
	if (p->notify.va == NULL)
		VV_DEV_LOG(NOTICE, p->name, "notify structure not mapped (BAR %u): every kick "
			   "is a pwrite system call, expect low performance", p->notify.bar);
	return 0;
}

/* The slow path of the accessors: the bus's pread/pwrite. */
static void
window_pio(const struct vv_pci *p, const struct vv_window *w, uint32_t off, void *buf,
	   size_t len, bool write)
{
	ssize_t r;

	if (write)
		r = rte_vfiofd_region_write(p->dev, w->bar, w->off + off, buf, len);
	else
		r = rte_vfiofd_region_read(p->dev, w->bar, w->off + off, buf, len);
	if (r != (ssize_t)len) {
		VV_DEV_LOG(ERR, p->name, "BAR %u %s of %zu bytes at 0x%" PRIx64 " failed: %s",
			   w->bar, write ? "write" : "read", len, w->off + off,
			   r < 0 ? strerror((int)-r) : "short");
		if (!write)
			memset(buf, 0xff, len);   /* what a vanished device reads as */
	}
}

uint8_t
vv_pci_read8(const struct vv_pci *p, const struct vv_window *w, uint32_t off)
{
	uint8_t v;

	if (w->va != NULL)
		return rte_read8(w->va + off);
	window_pio(p, w, off, &v, sizeof(v), false);
	return v;
}

uint16_t
vv_pci_read16(const struct vv_pci *p, const struct vv_window *w, uint32_t off)
{
	uint16_t v;

	if (w->va != NULL)
		return rte_read16(w->va + off);
	window_pio(p, w, off, &v, sizeof(v), false);
	return v;
}

uint32_t
vv_pci_read32(const struct vv_pci *p, const struct vv_window *w, uint32_t off)
{
	uint32_t v;

	if (w->va != NULL)
		return rte_read32(w->va + off);
	window_pio(p, w, off, &v, sizeof(v), false);
	return v;
}

void
vv_pci_write8(const struct vv_pci *p, const struct vv_window *w, uint32_t off, uint8_t v)
{
	if (w->va != NULL)
		rte_write8(v, w->va + off);
	else
		window_pio(p, w, off, &v, sizeof(v), true);
}

void
vv_pci_write16(const struct vv_pci *p, const struct vv_window *w, uint32_t off, uint16_t v)
{
	if (w->va != NULL)
		rte_write16(v, w->va + off);
	else
		window_pio(p, w, off, &v, sizeof(v), true);
}

void
vv_pci_write32(const struct vv_pci *p, const struct vv_window *w, uint32_t off, uint32_t v)
{
	if (w->va != NULL)
		rte_write32(v, w->va + off);
	else
		window_pio(p, w, off, &v, sizeof(v), true);
}

int
vv_pci_reset(const struct vv_pci *p)
{
	uint64_t deadline;

	vv_pci_write8(p, &p->common, VV_COMMON_STATUS, 0);
	/* spec 4.1.4.3.2: the reset is complete when device_status reads back 0 */
	deadline = rte_get_timer_cycles() + rte_get_timer_hz();
	while (vv_pci_read8(p, &p->common, VV_COMMON_STATUS) != 0) {
		if (rte_get_timer_cycles() > deadline) {
			VV_DEV_LOG(ERR, p->name, "device reset did not complete within 1 s");
			return -ETIMEDOUT;
		}
		rte_delay_us_sleep(100);
	}
	return 0;
}

uint8_t
vv_pci_get_status(const struct vv_pci *p)
{
	return vv_pci_read8(p, &p->common, VV_COMMON_STATUS);
}

void
vv_pci_add_status(const struct vv_pci *p, uint8_t bits)
{
	uint8_t s = vv_pci_get_status(p);

	vv_pci_write8(p, &p->common, VV_COMMON_STATUS, s | bits);
}

uint64_t
vv_pci_device_features(const struct vv_pci *p)
{
	uint32_t lo, hi;

	vv_pci_write32(p, &p->common, VV_COMMON_DFSELECT, 0);
	lo = vv_pci_read32(p, &p->common, VV_COMMON_DF);
	vv_pci_write32(p, &p->common, VV_COMMON_DFSELECT, 1);
	hi = vv_pci_read32(p, &p->common, VV_COMMON_DF);
	return ((uint64_t)hi << 32) | lo;
}

void
vv_pci_set_driver_features(const struct vv_pci *p, uint64_t features)
{
	vv_pci_write32(p, &p->common, VV_COMMON_GFSELECT, 0);
	vv_pci_write32(p, &p->common, VV_COMMON_GF, (uint32_t)features);
	vv_pci_write32(p, &p->common, VV_COMMON_GFSELECT, 1);
	vv_pci_write32(p, &p->common, VV_COMMON_GF, (uint32_t)(features >> 32));
}

void
vv_pci_read_devcfg(const struct vv_pci *p, uint32_t off, void *buf, uint32_t len)
{
	uint8_t gen, gen2, *b = buf;
	unsigned int tries = 0;

	if (!p->devcfg.present || off + len > p->devcfg.len) {
		memset(buf, 0, len);
		return;
	}
	do {
		gen = vv_pci_read8(p, &p->common, VV_COMMON_CFGGEN);
		for (uint32_t i = 0; i < len; ) {
			/* naturally aligned accesses, as wide as the field allows */
			if (len - i >= 4 && ((off + i) & 3) == 0) {
				uint32_t v = vv_pci_read32(p, &p->devcfg, off + i);

				memcpy(b + i, &v, 4);
				i += 4;
			} else if (len - i >= 2 && ((off + i) & 1) == 0) {
				uint16_t v = vv_pci_read16(p, &p->devcfg, off + i);

				memcpy(b + i, &v, 2);
				i += 2;
			} else {
				b[i] = vv_pci_read8(p, &p->devcfg, off + i);
				i++;
			}
		}
		gen2 = vv_pci_read8(p, &p->common, VV_COMMON_CFGGEN);
	} while (gen != gen2 && ++tries < 100);
}

uint16_t
vv_pci_num_queues(const struct vv_pci *p)
{
	return vv_pci_read16(p, &p->common, VV_COMMON_NUMQ);
}

uint16_t
vv_pci_queue_max(const struct vv_pci *p, uint16_t idx)
{
	vv_pci_write16(p, &p->common, VV_COMMON_Q_SELECT, idx);
	return vv_pci_read16(p, &p->common, VV_COMMON_Q_SIZE);
}

static void
write64_split(const struct vv_pci *p, uint32_t lo_off, uint32_t hi_off, uint64_t v)
{
	vv_pci_write32(p, &p->common, lo_off, (uint32_t)v);
	vv_pci_write32(p, &p->common, hi_off, (uint32_t)(v >> 32));
}

int
vv_pci_queue_setup(const struct vv_pci *p, uint16_t idx, uint16_t size, uint16_t vector,
		   uint64_t desc, uint64_t avail, uint64_t used, struct vv_notify *n)
{
	uint16_t noff, got;
	uint64_t off;

	vv_pci_write16(p, &p->common, VV_COMMON_Q_SELECT, idx);
	vv_pci_write16(p, &p->common, VV_COMMON_Q_SIZE, size);
	vv_pci_write16(p, &p->common, VV_COMMON_Q_MSIX, vector);
	got = vv_pci_read16(p, &p->common, VV_COMMON_Q_MSIX);
	if (got != vector) {
		VV_DEV_LOG(ERR, p->name, "queue %u: the device refused MSI-X vector %u",
			   idx, vector);
		return -EINVAL;
	}
	write64_split(p, VV_COMMON_Q_DESCLO, VV_COMMON_Q_DESCHI, desc);
	write64_split(p, VV_COMMON_Q_AVAILLO, VV_COMMON_Q_AVAILHI, avail);
	write64_split(p, VV_COMMON_Q_USEDLO, VV_COMMON_Q_USEDHI, used);
	noff = vv_pci_read16(p, &p->common, VV_COMMON_Q_NOFF);
	off = (uint64_t)noff * p->notify_mult;
	if (off + sizeof(uint16_t) > p->notify.len) {
		VV_DEV_LOG(ERR, p->name, "queue %u: notify offset 0x%" PRIx64 " outside the "
			   "notify structure (0x%x bytes)", idx, off, p->notify.len);
		return -ERANGE;
	}
	n->addr = p->notify.va != NULL ? (volatile uint16_t *)(p->notify.va + off) : NULL;
	n->dev = p->dev;
	n->bar = p->notify.bar;
	n->off = p->notify.off + off;
	n->value = idx;
	vv_pci_write16(p, &p->common, VV_COMMON_Q_ENABLE, 1);
	return 0;
}

uint16_t
vv_pci_set_config_vector(const struct vv_pci *p, uint16_t vector)
{
	vv_pci_write16(p, &p->common, VV_COMMON_MSIX, vector);
	return vv_pci_read16(p, &p->common, VV_COMMON_MSIX);
}

uint8_t
vv_pci_isr(const struct vv_pci *p)
{
	return vv_pci_read8(p, &p->isr, 0);
}
