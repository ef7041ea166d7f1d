/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sub-commands that drive real devices through the bus API:
 *
 *   bar --dev BDF[,BDF...]   BAR access through the mapping and through pread/pwrite
 *                            (rte_vfiofd_region_pread/pwrite, an I/O-port BAR, and a
 *                            second probe with bar_mmap=off), compared register by
 *                            register on virtio-net (modern) and e1000e
 *   intr --dev BDF           e1000e: real interrupts through the eventfds for MSI-X
 *                            (vector 0 via an rte_intr callback, vector 1 via a queue
 *                            efd, and through the EAL's rte_intr_enable()), MSI and INTx
 *
 * Start the EAL with "-a vfiofd:": the commands attach the devices themselves.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_interrupts.h>

#include "e1000e_tx.h"
#include "test_bus.h"

#define VIRTIO_VENDOR 0x1af4
#define E1000E_VENDOR 0x8086

/* e1000e (82574) registers */
#define E1000_CTRL   0x00000
#define E1000_STATUS 0x00008
#define E1000_ICR    0x000C0
#define E1000_ICS    0x000C8
#define E1000_IMS    0x000D0
#define E1000_IMC    0x000D8
#define E1000_IVAR   0x000E4
#define E1000_RAL0   0x05400
#define E1000_RAH0   0x05404
#define E1000_RAL1   0x05408
#define E1000_IOADDR 0x0
#define E1000_IODATA 0x4
#define E1000_ICR_LSC   (1u << 2)
#define E1000_ICR_RXQ0  (1u << 20)
#define E1000_ICR_OTHER (1u << 24)

/*
 * rte_dev_probe(@devargs), plus the options in TEST_VFIOFD_EXTRA_DEVARGS if set (the
 * no-IOMMU scenario runs the same checks with ",noiommu=1").
 */
static int
attach(const char *devargs)
{
	const char *extra = getenv("TEST_VFIOFD_EXTRA_DEVARGS");
	char buf[256];

	if (extra == NULL || extra[0] == '\0')
		return rte_dev_probe(devargs);
	snprintf(buf, sizeof(buf), "%s%s", devargs, extra);
	return rte_dev_probe(buf);
}

static int
detach(const char *bdf)
{
	struct rte_vfiofd_device *dev = vfiofd_dev(bdf);

	return dev != NULL ? rte_dev_remove(&dev->device) : -ENODEV;
}

static uint32_t
va_read32(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off)
{
	return *(const volatile uint32_t *)((const char *)dev->regions[bar].addr + off);
}

static void
va_write32(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off, uint32_t v)
{
	*(volatile uint32_t *)((char *)dev->regions[bar].addr + off) = v;
}

static uint32_t
pread32(const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off, ssize_t *n)
{
	uint32_t v = 0xdeadbeef;

	*n = rte_vfiofd_region_pread(dev, bar, off, &v, sizeof(v));
	return v;
}

/* The same 32-bit register through the mapping and through pread. */
static uint32_t
cmp32(struct tap *t, const struct rte_vfiofd_device *dev, unsigned int bar, uint64_t off,
      const char *name)
{
	ssize_t n;
	uint32_t a = va_read32(dev, bar, off), b = pread32(dev, bar, off, &n);

	tap_check(t, n == 4 && a == b, "%s: BAR%u %s (+0x%" PRIx64 "): mmap 0x%08x, pread 0x%08x",
		  dev->name, bar, name, off, a, b);
	return a;
}

/* Generic checks on every BAR: flags, bounds, index. */
static void
check_regions(struct tap *t, const struct rte_vfiofd_device *dev)
{
	uint32_t v;

	for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS; b++) {
		const struct rte_vfiofd_region *r = &dev->regions[b];

		if (r->size == 0)
			continue;
		tap_diag("%s: BAR%u size 0x%" PRIx64 " flags 0x%x addr %p", dev->name, b, r->size,
			 r->flags, r->addr);
		tap_check(t, rte_vfiofd_region_read(dev, b, r->size - 2, &v, 4) == -ERANGE &&
			  rte_vfiofd_region_read(dev, b, UINT64_MAX - 1, &v, 4) == -ERANGE,
			  "%s: BAR%u: reads past the end refused", dev->name, b);
		if (r->flags & RTE_VFIOFD_REGION_IO)
			tap_check(t, r->addr == NULL && !(r->flags & RTE_VFIOFD_REGION_MAPPED),
				  "%s: BAR%u is an I/O-port BAR, not mapped", dev->name, b);
	}
	tap_check(t, rte_vfiofd_region_read(dev, RTE_VFIOFD_NUM_BARS, 0, &v, 4) == -EINVAL &&
		  rte_vfiofd_region_read(NULL, 0, 0, &v, 4) == -EINVAL,
		  "%s: bad BAR index and NULL device refused", dev->name);
}

/* virtio: find a vendor capability of @type in config space: BAR and offset. */
static bool
virtio_cap(const struct rte_vfiofd_device *dev, uint8_t type, uint8_t *bar, uint32_t *off)
{
	uint8_t pos = 0, cap[16];
	unsigned int hops = 0;

	if (rte_vfiofd_config_read(dev, 0x34, &pos, 1) != 1)
		return false;
	while (pos >= 0x40 && hops++ < 48) {
		if (rte_vfiofd_config_read(dev, pos, cap, sizeof(cap)) != sizeof(cap))
			return false;
		if (cap[0] == 0x09 && cap[3] == type) {
			*bar = cap[4];
			memcpy(off, &cap[8], 4);
			return true;
		}
		pos = cap[1] & ~3;
	}
	return false;
}

struct stable {
	uint32_t v[4];
	uint8_t mac[6];
};

static void
bar_virtio(struct tap *t, const struct rte_vfiofd_device *dev, bool mapped, struct stable *s)
{
	uint8_t cb = 0, db = 0, mac_va[6], mac_pr[6];
	uint32_t coff = 0, doff = 0, v;
	uint16_t q;
	ssize_t n;

	bool found = virtio_cap(dev, 1, &cb, &coff) && virtio_cap(dev, 4, &db, &doff);

	if (!tap_check(t, found, "%s: virtio common cfg in BAR%u +0x%x, device cfg in BAR%u +0x%x",
		       dev->name, cb, coff, db, doff))
		return;
	if (mapped) {
		tap_check(t, dev->regions[cb].flags & RTE_VFIOFD_REGION_MAPPED,
			  "%s: BAR%u is mapped", dev->name, cb);
		v = 0;
		tap_check(t, rte_vfiofd_region_pwrite(dev, cb, coff + 0x00, &v, 4) == 4,
			  "%s: device_feature_select = 0 through pwrite", dev->name);
		s->v[0] = cmp32(t, dev, cb, coff + 0x04, "device_feature[31:0]");
		va_write32(dev, cb, coff + 0x00, 1);
		tap_check(t, pread32(dev, cb, coff + 0x00, &n) == 1 && n == 4,
			  "%s: device_feature_select = 1 through the mapping, seen by pread",
			  dev->name);
		s->v[1] = cmp32(t, dev, cb, coff + 0x04, "device_feature[63:32]");
		q = 1;
		tap_check(t, rte_vfiofd_region_pwrite(dev, cb, coff + 0x16, &q, 2) == 2,
			  "%s: queue_select = 1 through pwrite", dev->name);
		q = *(volatile uint16_t *)((char *)dev->regions[cb].addr + coff + 0x16);
		tap_check(t, q == 1,
			  "%s: queue_select reads 1 through the mapping", dev->name);
		s->v[2] = cmp32(t, dev, cb, coff + 0x10, "msix_config/num_queues");
		cmp32(t, dev, cb, coff + 0x18, "queue_size/queue_msix_vector");
		/* the MAC, byte-wise through the accessor (mapping) and pread */
		n = rte_vfiofd_region_read(dev, db, doff, mac_va, 6);
		tap_check(t, n == 6 && rte_vfiofd_region_pread(dev, db, doff, mac_pr, 6) == 6 &&
			  memcmp(mac_va, mac_pr, 6) == 0,
			  "%s: MAC %02x:%02x:%02x:%02x:%02x:%02x the same both ways", dev->name,
			  mac_va[0], mac_va[1], mac_va[2], mac_va[3], mac_va[4], mac_va[5]);
		memcpy(s->mac, mac_va, 6);
	} else {
		v = 0;
		rte_vfiofd_region_write(dev, cb, coff + 0x00, &v, 4);
		n = rte_vfiofd_region_read(dev, cb, coff + 0x04, &v, 4);
		tap_check(t, n == 4 && v == s->v[0], "%s: fallback: device_feature[31:0] 0x%08x "
			  "as through the mapping", dev->name, v);
		v = 1;
		rte_vfiofd_region_write(dev, cb, coff + 0x00, &v, 4);
		n = rte_vfiofd_region_read(dev, cb, coff + 0x04, &v, 4);
		tap_check(t, n == 4 && v == s->v[1], "%s: fallback: device_feature[63:32] 0x%08x "
			  "as through the mapping", dev->name, v);
		q = 1;
		rte_vfiofd_region_write(dev, cb, coff + 0x16, &q, 2);
		n = rte_vfiofd_region_read(dev, cb, coff + 0x10, &v, 4);
		tap_check(t, n == 4 && v == s->v[2], "%s: fallback: msix_config/num_queues 0x%08x "
			  "as through the mapping", dev->name, v);
		tap_check(t, rte_vfiofd_region_read(dev, db, doff, mac_pr, 6) == 6 &&
			  memcmp(mac_pr, s->mac, 6) == 0, "%s: fallback: the same MAC", dev->name);
	}
}

static void
bar_e1000e(struct tap *t, const struct rte_vfiofd_device *dev, bool mapped, struct stable *s)
{
	uint32_t v, io;
	ssize_t n;

	if (mapped) {
		if (!tap_check(t, dev->regions[0].flags & RTE_VFIOFD_REGION_MAPPED,
			       "%s: BAR0 is mapped", dev->name))
			return;
		s->v[0] = cmp32(t, dev, 0, E1000_STATUS, "STATUS");
		s->v[1] = cmp32(t, dev, 0, E1000_RAL0, "RAL0");
		s->v[2] = cmp32(t, dev, 0, E1000_RAH0, "RAH0");
		cmp32(t, dev, 0, E1000_CTRL, "CTRL");
		v = 0x12345678;
		rte_vfiofd_region_pwrite(dev, 0, E1000_RAL1, &v, 4);
		tap_check(t, va_read32(dev, 0, E1000_RAL1) == 0x12345678,
			  "%s: RAL1 written through pwrite, read through the mapping", dev->name);
		va_write32(dev, 0, E1000_RAL1, 0x9abcdef0);
		tap_check(t, pread32(dev, 0, E1000_RAL1, &n) == 0x9abcdef0 && n == 4,
			  "%s: RAL1 written through the mapping, read through pread", dev->name);
	}
	/* BAR2 is an I/O-port BAR: IOADDR selects a register, IODATA accesses it */
	if (!tap_check(t, dev->regions[2].size > 0 &&
		       (dev->regions[2].flags & RTE_VFIOFD_REGION_IO),
		       "%s: BAR2 is an I/O-port BAR (flags 0x%x)", dev->name,
		       dev->regions[2].flags))
		return;
	io = E1000_STATUS;
	n = rte_vfiofd_region_write(dev, 2, E1000_IOADDR, &io, 4);
	if (n == 4)
		n = rte_vfiofd_region_read(dev, 2, E1000_IODATA, &v, 4);
	tap_check(t, n == 4 && v == s->v[0], "%s: STATUS through the I/O BAR "
		  "(pread/pwrite): 0x%08x, mmap "
		  "view 0x%08x", dev->name, v, s->v[0]);
	io = E1000_RAL1;
	v = 0x0badcafe;
	rte_vfiofd_region_write(dev, 2, E1000_IOADDR, &io, 4);
	rte_vfiofd_region_write(dev, 2, E1000_IODATA, &v, 4);
	if (mapped)
		tap_check(t, va_read32(dev, 0, E1000_RAL1) == 0x0badcafe,
			  "%s: RAL1 written through the I/O BAR, read through the mapping",
			  dev->name);
	if (!mapped) {
		tap_check(t, dev->regions[0].addr == NULL &&
			  !(dev->regions[0].flags &
			    (RTE_VFIOFD_REGION_MAPPED | RTE_VFIOFD_REGION_PARTIAL)),
			  "%s: bar_mmap=off: BAR0 not mapped", dev->name);
		tap_check(t, rte_vfiofd_region_read(dev, 0, E1000_RAL0, &v, 4) == 4 &&
			  v == s->v[1] &&
			  rte_vfiofd_region_read(dev, 0, E1000_RAH0, &v, 4) == 4 && v == s->v[2],
			  "%s: fallback: RAL0/RAH0 as through the mapping", dev->name);
		n = rte_vfiofd_region_read(dev, 0, E1000_RAL1, &v, 4);
		tap_check(t, n == 4 && v == 0x0badcafe, "%s: fallback: RAL1 written through "
			  "the I/O BAR reads "
			  "back through BAR0 pread (0x%08x)", dev->name, v);
	}
	if (mapped && (dev->regions[3].flags & RTE_VFIOFD_REGION_MSIX)) {
		uint32_t a = va_read32(dev, 3, 0x8), b = pread32(dev, 3, 0x8, &n);

		tap_diag("%s: MSI-X table entry 0 data: mmap 0x%08x, pread 0x%08x (vfio-pci "
			 "answers pread of the table with 0xff)", dev->name, a, b);
		tap_check(t, dev->regions[3].flags & RTE_VFIOFD_REGION_MAPPED,
			  "%s: MSI-X BAR3 mapped whole (MSIX_MAPPABLE)", dev->name);
	}
}

int
cmd_bar(int argc, char **argv)
{
	const char *devs;
	int eal_argc, ret;
	struct tap t = { 0 };
	char **eal_argv, bdf[32];

	if (!dev_only_args(argc, argv, &devs, &eal_argc, &eal_argv))
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	for (int i = 0; list_item(devs, i, bdf, sizeof(bdf)); i++) {
		struct rte_vfiofd_device *dev;
		struct stable s;
		char devargs[96];
		uint16_t ids[2];

		memset(&s, 0, sizeof(s));
		for (int pass = 0; pass < 2; pass++) {
			snprintf(devargs, sizeof(devargs), "vfiofd:%s%s", bdf,
				 pass ? ",bar_mmap=off" : "");
			ret = attach(devargs);
			dev = vfiofd_dev(bdf);
			if (!tap_check(&t, ret == 0 && dev != NULL, "%s probed (%d)", devargs, ret))
				break;
			ret = (int)rte_vfiofd_config_read(dev, 0, ids, 4);
			tap_check(&t, ret == 4 && ids[0] == dev->id.vendor_id &&
				  ids[1] == dev->id.device_id, "%s: config space: %04x:%04x", bdf,
				  ids[0], ids[1]);
			check_regions(&t, dev);
			if (dev->id.vendor_id == VIRTIO_VENDOR)
				bar_virtio(&t, dev, pass == 0, &s);
			else if (dev->id.vendor_id == E1000E_VENDOR)
				bar_e1000e(&t, dev, pass == 0, &s);
			tap_check(&t, detach(bdf) == 0, "%s removed", devargs);
		}
	}
	rte_eal_cleanup();
	return tap_done(&t);
}

/* ---- interrupts ---- */

struct irq_ctx {
	struct rte_vfiofd_device *dev;
	volatile unsigned int count;
	bool intx;
};

/* Runs on the EAL interrupt thread; the EAL has read the eventfd. */
static void
irq_cb(void *arg)
{
	struct irq_ctx *c = arg;
	uint32_t icr;

	/* reading ICR clears the causes (drops the INTx line); then unmask INTx */
	rte_vfiofd_region_read(c->dev, 0, E1000_ICR, &icr, 4);
	if (c->intx)
		rte_vfiofd_intr_ack(c->dev);
	c->count++;
}

static bool
wait_count(struct irq_ctx *c, unsigned int want, unsigned int ms)
{
	for (unsigned int i = 0; i < ms && c->count < want; i++)
		rte_delay_ms(1);
	return c->count >= want;
}

static void
reg_write(struct rte_vfiofd_device *dev, uint64_t off, uint32_t v)
{
	rte_vfiofd_region_write(dev, 0, off, &v, 4);
}

static uint32_t
reg_read(struct rte_vfiofd_device *dev, uint64_t off)
{
	uint32_t v = 0;

	rte_vfiofd_region_read(dev, 0, off, &v, 4);
	return v;
}

static void
intr_mode(struct tap *t, const char *bdf, const char *mode)
{
	static const struct {
		const char *mode;
		enum rte_intr_handle_type type;
	} types[] = {
		{ "msix", RTE_INTR_HANDLE_VFIO_MSIX }, { "msi", RTE_INTR_HANDLE_VFIO_MSI },
		{ "intx", RTE_INTR_HANDLE_VFIO_LEGACY },
	};
	struct irq_ctx ctx = { .count = 0 };
	struct rte_vfiofd_device *dev;
	enum rte_intr_handle_type want = RTE_INTR_HANDLE_UNKNOWN;
	char devargs[96];
	bool msix = strcmp(mode, "msix") == 0;
	int ret;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].mode, mode) == 0)
			want = types[i].type;
	snprintf(devargs, sizeof(devargs), "vfiofd:%s,intr=%s", bdf, mode);
	ret = attach(devargs);
	dev = vfiofd_dev(bdf);
	if (!tap_check(t, ret == 0 && dev != NULL, "%s probed (%d)", devargs, ret))
		return;
	ctx.dev = dev;
	ctx.intx = want == RTE_INTR_HANDLE_VFIO_LEGACY;
	tap_check(t, rte_intr_type_get(dev->intr_handle) == want &&
		  rte_intr_fd_get(dev->intr_handle) >= 0 &&
		  rte_intr_dev_fd_get(dev->intr_handle) >= 0 && dev->intr_vectors >= 1,
		  "%s: handle type %d, fd %d, dev_fd %d, %u vector(s)", mode,
		  rte_intr_type_get(dev->intr_handle), rte_intr_fd_get(dev->intr_handle),
		  rte_intr_dev_fd_get(dev->intr_handle), dev->intr_vectors);
	ret = rte_intr_callback_register(dev->intr_handle, irq_cb, &ctx);
	tap_check(t, ret == 0, "%s: rte_intr callback registered (%d)", mode, ret);
	if (msix) {
		ret = rte_intr_efd_enable(dev->intr_handle, 1);
		tap_check(t, ret == 0 && rte_intr_nb_efd_get(dev->intr_handle) == 1,
			  "msix: one queue eventfd (%d)", ret);
		/* RxQ0 -> vector 1, other causes (LSC) -> vector 0 */
		reg_write(dev, E1000_IVAR, (0x8u | 1u) | ((0x8u | 0u) << 16));
	}
	ret = rte_vfiofd_intr_enable(dev);
	tap_check(t, ret == 0, "%s: rte_vfiofd_intr_enable (%d)", mode, ret);
	reg_read(dev, E1000_ICR);
	reg_write(dev, E1000_IMS, E1000_ICR_LSC | E1000_ICR_RXQ0 | E1000_ICR_OTHER);

	for (unsigned int k = 1; k <= 2; k++) {
		bool got;

		reg_write(dev, E1000_ICS, E1000_ICR_LSC);
		got = wait_count(&ctx, k, 3000);
		tap_check(t, got, "%s: link-status cause -> interrupt %u delivered through the "
			  "eventfd to the rte_intr callback (count %u)", mode, k, ctx.count);
	}
	if (msix) {
		int efd = rte_intr_efds_index_get(dev->intr_handle, 0);
		struct pollfd p = { .fd = efd, .events = POLLIN };
		uint64_t v = 0;

		reg_write(dev, E1000_ICS, E1000_ICR_RXQ0);
		ret = poll(&p, 1, 3000);
		tap_check(t, ret == 1 && read(efd, &v, sizeof(v)) == sizeof(v) && v >= 1,
			  "msix: RxQ0 cause -> vector 1 -> queue eventfd (count %" PRIu64 ")", v);
		reg_read(dev, E1000_ICR);

		/* the EAL's own path on the same handle */
		rte_vfiofd_intr_disable(dev);
		ret = rte_intr_enable(dev->intr_handle);
		reg_write(dev, E1000_ICS, E1000_ICR_LSC);
		ret = ret == 0 && wait_count(&ctx, 3, 3000) ? 0 : -1;
		tap_check(t, ret == 0, "msix: after rte_intr_enable() (EAL SET_IRQS) too "
			  "(count %u)", ctx.count);
		rte_intr_disable(dev->intr_handle);
	}
	reg_write(dev, E1000_IMC, ~0u);
	tap_check(t, rte_vfiofd_intr_disable(dev) == 0, "%s: rte_vfiofd_intr_disable", mode);
	{
		unsigned int before;

		rte_delay_ms(300); /* let anything already signalled arrive */
		before = ctx.count;

		reg_write(dev, E1000_IMS, E1000_ICR_LSC | E1000_ICR_OTHER);
		reg_write(dev, E1000_ICS, E1000_ICR_LSC);
		rte_delay_ms(300);
		reg_write(dev, E1000_IMC, ~0u);
		tap_check(t, ctx.count == before, "%s: nothing delivered once disabled (%u -> %u)",
			  mode, before, ctx.count);
	}
	ret = rte_intr_callback_unregister_sync(dev->intr_handle, irq_cb, &ctx);
	tap_check(t, ret >= 0, "%s: callback unregistered (%d)", mode, ret);
	tap_check(t, detach(bdf) == 0, "%s: removed (queue eventfds left to the bus)", mode);
}

int
cmd_intr(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "modes", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL, *modes = "msix,msi,intx";
	int opt_argc, eal_argc, c, ret;
	struct tap t = { 0 };
	struct res base, r;
	char **eal_argv, mode[16];

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bdf = optarg; break;
		case 'm': modes = optarg; break;
		default: return 2;
		}
	}
	if (bdf == NULL)
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	res_get(&base);
	for (int i = 0; list_item(modes, i, mode, sizeof(mode)); i++)
		intr_mode(&t, bdf, mode);
	res_get(&r);
	res_diag("before", &base);
	res_diag("after", &r);
	tap_check(&t, r.vfio_fds == 0 && r.noiommu_fds == 0 && r.vmpin_kb == base.vmpin_kb,
		  "nothing left behind (%ld vfio fds, %ld no-IOMMU fds, VmPin %ld kB)",
		  r.vfio_fds, r.noiommu_fds, r.vmpin_kb);
	rte_eal_cleanup();
	return tap_done(&t);
}

/* An IOVA far from anything DPDK or the bus maps (DPDK's memory starts at 4 GiB). */
#define UNMAPPED_IOVA   UINT64_C(0x5a5a00000000)

/*
 * "dmafault --dev E1000E": make the e1000e fetch a transmit descriptor from an IOVA
 * that nothing maps, so that the IOMMU refuses the DMA and the guest's kernel logs the
 * fault. The test bed must then fail the command although the program itself reports
 * success: the proof, in every run of the suite, that a DMA fault cannot go unnoticed
 * (testbed_iommu_fault_detected).
 */
int
cmd_dmafault(int argc, char **argv)
{
	const char *bdf;
	int eal_argc, ret;
	struct rte_vfiofd_device *dev;
	struct tap t = { 0 };
	char **eal_argv, devargs[64];

	if (!dev_only_args(argc, argv, &bdf, &eal_argc, &eal_argv))
		return 2;
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", bdf);
	ret = attach(devargs);
	dev = vfiofd_dev(bdf);
	if (!tap_check(&t, ret == 0 && dev != NULL && dev->id.device_id == 0x10d3,
		       "%s probed, an e1000e (%d)", bdf, ret))
		return tap_done(&t);
	va_write32(dev, 0, E1000_TDBAL, (uint32_t)UNMAPPED_IOVA);
	va_write32(dev, 0, E1000_TDBAH, (uint32_t)(UNMAPPED_IOVA >> 32));
	va_write32(dev, 0, E1000_TDLEN, 4096);
	va_write32(dev, 0, E1000_TDH, 0);
	va_write32(dev, 0, E1000_TDT, 0);
	va_write32(dev, 0, E1000_TCTL, E1000_TCTL_EN);
	va_write32(dev, 0, E1000_TDT, 8);
	rte_delay_ms(500);
	tap_diag("%s: told to fetch 8 transmit descriptors at unmapped IOVA 0x%" PRIx64, bdf,
		 UNMAPPED_IOVA);
	tap_check(&t, detach(bdf) == 0, "%s removed", bdf);
	rte_eal_cleanup();
	return tap_done(&t);
}
