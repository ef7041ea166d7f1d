/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sub-commands that attach and detach devices at run time (rte_dev_probe and
 * rte_dev_remove, i.e. the bus's scan + plug and unplug):
 *
 *   cycles --dev BDF [--count N] [--driver NAME]
 *                                  probe/remove N times; fds, mappings, pinned memory
 *                                  and devargs must not grow. With --driver, the device
 *                                  goes to that DPDK PCI driver (test-vfiofd-bus
 *                                  --no-test-driver), whose port is configured, started
 *                                  (link-status interrupt on) and stopped every cycle
 *   hostile --dev BDF              malformed and hostile devargs, each refused with a
 *                                  clear message and no partial state
 *
 * Start the EAL with "-a vfiofd:" (allow-list mode, nothing probed at init).
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memory.h>

#include "test_bus.h"
#include "vfiofd_devargs.h"

static bool
res_equal(const struct res *a, const struct res *b)
{
	return a->fds == b->fds && a->maps == b->maps && a->vmpin_kb == b->vmpin_kb &&
	       a->vfio_fds == b->vfio_fds && a->devargs == b->devargs;
}

/*
 * A DPDK PCI driver's port on the vfiofd bus, reached the ways an application reaches
 * one: device iteration on the bus and through ethdev's class filter, and
 * rte_dev_dma_map() of external memory on its device.
 */
static bool
check_port_reach(struct tap *t, const char *bdf, uint16_t port)
{
	struct rte_vfiofd_device *dev = vfiofd_dev(bdf);
	struct rte_dev_iterator it;
	struct rte_ether_addr mac;
	char macs[RTE_ETHER_ADDR_FMT_SIZE];
	char filter[96];
	uint16_t found = RTE_MAX_ETHPORTS;
	size_t len = 2u << 20;
	void *mem;
	int ret;

	/* rte_dev_iterator_init() returns -rte_errno, whatever set it before */
	rte_errno = 0;
	snprintf(filter, sizeof(filter), "bus=vfiofd,addr=%s", bdf);
	ret = rte_dev_iterator_init(&it, filter);
	tap_check(t, ret == 0 && rte_dev_iterator_next(&it) == &dev->device,
		  "'%s' iterates to the device (%d)", filter, ret);
	/* the EAL's iterator over both layers: the bus's, then ethdev's class */
	rte_errno = 0;
	snprintf(filter, sizeof(filter), "bus=vfiofd,addr=%s/class=eth", bdf);
	ret = rte_dev_iterator_init(&it, filter);
	tap_check(t, ret == 0 && rte_dev_iterator_next(&it) == &dev->device,
		  "'%s' iterates to the device (%d)", filter, ret);
	/* ethdev's class filter (ethdev converts only pci/vdev bus layers of the legacy
	 * syntax, whatever the bus: a class filter is what works for every bus) */
	ret = rte_eth_macaddr_get(port, &mac);
	rte_ether_format_addr(macs, sizeof(macs), &mac);
	snprintf(filter, sizeof(filter), "class=eth,mac=%s", macs);
	RTE_ETH_FOREACH_MATCHING_DEV(found, filter, &it)
		break;
	rte_eth_iterator_cleanup(&it);
	tap_check(t, ret == 0 && found == port, "'%s' finds port %u (%u)", filter, port, found);

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!tap_check(t, mem != MAP_FAILED, "2 MiB of external memory"))
		return false;
	ret = rte_extmem_register(mem, len, NULL, 0, 4096);
	if (ret == 0)
		ret = rte_dev_dma_map(&dev->device, mem, (uintptr_t)mem, len);
	tap_check(t, ret == 0, "rte_dev_dma_map() of external memory on the device (%d)",
		  ret == 0 ? 0 : -rte_errno);
	if (ret == 0)
		tap_check(t, rte_dev_dma_unmap(&dev->device, mem, (uintptr_t)mem, len) == 0,
			  "and rte_dev_dma_unmap()");
	rte_extmem_unregister(mem, len);
	munmap(mem, len);
	return true;
}

/* A port of DPDK's PCI driver on @bdf: configured, started, stopped; false on failure. */
static bool
run_port(struct tap *t, const char *bdf, const char *driver, unsigned int i,
	 struct rte_mempool *mp)
{
	struct rte_eth_conf conf = { .intr_conf = { .lsc = 1 } };
	struct rte_eth_dev_info info;
	uint16_t port;
	int ret;

	ret = rte_eth_dev_get_port_by_name(bdf, &port);
	if (!tap_check(t, ret == 0, "cycle %u: %s created port %s (%d)", i, driver, bdf, ret))
		return false;
	ret = rte_eth_dev_info_get(port, &info);
	if (!tap_check(t, ret == 0 && strcmp(info.driver_name, driver) == 0 &&
		       info.device == &vfiofd_dev(bdf)->device,
		       "cycle %u: port %u is %s's, on the vfiofd device", i, port,
		       ret == 0 ? info.driver_name : "?"))
		return false;
	if (i == 0 && !check_port_reach(t, bdf, port))
		return false;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL, mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 256, SOCKET_ID_ANY, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		ret = rte_eth_dev_stop(port);
	return tap_check(t, ret == 0, "cycle %u: port configured, started, stopped (%d)", i,
			 ret);
}

/*
 * One probe/remove cycle; false on the first failure (already reported). @driver:
 * NULL for the test driver, else the DPDK PCI driver expected to take the device.
 */
static bool
one_cycle(struct tap *t, const char *bdf, const char *driver, struct rte_mempool *mp,
	  unsigned int i, bool verbose, long *pinned)
{
	char devargs[96];
	struct rte_vfiofd_device *dev;
	uint16_t vendor = 0;
	int ret;

	snprintf(devargs, sizeof(devargs), "vfiofd:%s%s", bdf, i % 2 ? ",ioas=private" : "");
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	if (!tap_check(t, ret == 0 && dev != NULL && rte_dev_is_probed(&dev->device),
		       "cycle %u: rte_dev_probe(%s) (%d)", i, devargs, ret) && !verbose)
		return false;
	if (dev == NULL)
		return false;
	ret = (int)rte_vfiofd_config_read(dev, 0, &vendor, sizeof(vendor));
	if (!tap_check(t, ret == 2 && vendor == dev->id.vendor_id,
		       "cycle %u: config space reads vendor %04x", i, vendor))
		return false;
	if (driver != NULL) {
		if (!tap_check(t, dev->device.driver != NULL &&
			       strcmp(dev->device.driver->name, driver) == 0,
			       "cycle %u: driven by %s", i, driver) ||
		    !run_port(t, bdf, driver, i, mp))
			return false;
	} else if (rte_intr_type_get(dev->intr_handle) == RTE_INTR_HANDLE_VFIO_MSIX &&
		   dev->intr_vectors > 1) {
		/* interrupts left enabled on purpose, queue eventfds too: remove must
		 * clean up */
		rte_intr_efd_enable(dev->intr_handle, 1);
	}
	if (driver == NULL && dev->intr_vectors > 0) {
		ret = rte_vfiofd_intr_enable(dev);
		if (!tap_check(t, ret == 0, "cycle %u: interrupts enabled (%d)", i, ret))
			return false;
	}
	if (pinned != NULL) {
		struct res r;

		res_get(&r);
		*pinned = r.vmpin_kb;
		if (verbose)
			res_diag("while probed", &r);
	}
	ret = rte_dev_remove(&dev->device);
	if (!tap_check(t, ret == 0 && vfiofd_dev(bdf) == NULL && test_drv.ndevs == 0 &&
		       rte_eth_dev_count_avail() == 0,
		       "cycle %u: rte_dev_remove (%d)", i, ret) && !verbose)
		return false;
	return ret == 0;
}

int
cmd_cycles(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "driver", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL, *driver = NULL;
	struct rte_mempool *mp = NULL;
	unsigned int count = 100, i;
	int opt_argc, eal_argc, c, ret;
	struct res before, base, after;
	struct tap t = { 0 };
	long pinned = 0, pin_min = -1, pin_max = -1;
	char **eal_argv;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bdf = optarg; break;
		case 'c': count = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': driver = optarg; break;
		default: return 2;
		}
	}
	if (bdf == NULL || count < 3)
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	if (driver != NULL) {
		mp = rte_pktmbuf_pool_create("cycles", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
		if (!tap_check(&t, mp != NULL, "mbuf pool"))
			return tap_done(&t);
	}
	res_get(&before);
	res_diag("before the first probe", &before);

	for (i = 0; i < count; i++) {
		bool verbose = i < 2 || i == count - 1;

		if (!verbose && i % 10 == 0)
			tap_diag("cycle %u", i);
		if (!one_cycle(&t, bdf, driver, mp, i, verbose, &pinned))
			break;
		/* every probe maps DPDK memory for the device, in the default IOAS (even
		 * cycles) as in a private one (odd): the same pinned amount each time */
		pin_min = pin_min < 0 || pinned < pin_min ? pinned : pin_min;
		pin_max = pinned > pin_max ? pinned : pin_max;
		if (i == 1) {
			res_get(&base);
			res_diag("after 2 cycles (baseline)", &base);
		} else if (i > 1) {
			/* back to the baseline after every cycle, not only the last */
			struct res r;

			res_get(&r);
			if (!tap_check(&t, res_equal(&r, &base), "cycle %u: fds, mappings, pinned "
				       "memory and devargs back to the baseline", i)) {
				res_diag("after this cycle", &r);
				break;
			}
		}
	}
	tap_check(&t, i == count, "%u probe/remove cycles of %s", i, bdf);
	res_get(&after);
	res_diag("after the last cycle", &after);
	tap_check(&t, pin_min > 0 && pin_min == pin_max,
		  "DPDK memory pinned for the device in every cycle while probed (%ld to %ld kB)",
		  pin_min, pin_max);
	tap_check(&t, after.fds == base.fds, "no fd growth (%ld -> %ld)", base.fds, after.fds);
	tap_check(&t, after.maps == base.maps, "no mapping growth (%ld -> %ld)", base.maps,
		  after.maps);
	tap_check(&t, after.vmpin_kb == base.vmpin_kb && after.vmpin_kb == before.vmpin_kb,
		  "no pinned memory left (%ld kB before, %ld after)", before.vmpin_kb,
		  after.vmpin_kb);
	tap_check(&t, after.vfio_fds == 0 && after.devargs == before.devargs,
		  "no vfio/iommufd fd (%ld), no devargs left (%ld)", after.vfio_fds,
		  after.devargs);
	if (driver == NULL)
		tap_check(&t, test_drv.probes == i && test_drv.removes == i, "driver: %u probes, "
			  "%u removes", test_drv.probes, test_drv.removes);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return tap_done(&t);
}

/* A hostile devargs string and what the refusal must say. */
struct hostile {
	const char *devargs;  /* "%s" is replaced by the device's PCI address */
	const char *msg;      /* substring of the log */
};

static const struct hostile hostile_cases[] = {
	{ "vfiofd:0000:01:00.8", "is not a vfiofd device" },
	{ "vfiofd:0000:01:20.0", "is not a vfiofd device" },
	{ "vfiofd:zzzz:01:00.0", "is not a vfiofd device" },
	{ "vfiofd:0000:01:00", "is not a vfiofd device" },
	{ "vfiofd:0000:01:00.0.1", "is not a vfiofd device" },
	{ "vfiofd:../../../../etc/passwd", "is not a vfiofd device" },
	{ "vfiofd:%%s%%s%%n%%x", "is not a vfiofd device" },
	{ "vfiofd:0000:01:00.0;reboot", "is not a vfiofd device" },
	{ "vfiofd:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	  "should be shorter than" },
	{ "vfiofd:0000:ff:1f.7", "no such PCI device" },
	{ "vfiofd:%s,ioas=public", "bad value 'public' for 'ioas'" },
	{ "vfiofd:%s,ioas=private,ioas=default", "duplicate key 'ioas'" },
	{ "vfiofd:%s,nosuchkey=1", "unknown devargs key 'nosuchkey'" },
	{ "vfiofd:%s,IOAS=private", "unknown devargs key 'IOAS'" },
	{ "vfiofd:%s,intr=msix%%n", "forbidden character '%'" },
	{ "vfiofd:%s,ioas", "'ioas' has no value" },
	{ "vfiofd:%s,,ioas=private", "empty element" },
	{ "vfiofd:%s,ioas=private,", "trailing ','" },
	{ "vfiofd:%s,=private", "empty key" },
	{ "vfiofd:%s,test_key=../../etc/shadow", "forbidden character '/'" },
	{ "vfiofd:%s,test_key=[a,b", "unterminated '['" },
	{ "vfiofd:%s,reset=maybe", "bad value 'maybe' for 'reset'" },
	{ "vfiofd:%s,intr=msi-x", "bad value 'msi-x' for 'intr'" },
	{ "vfiofd:%s,bar_mmap=on\nEAL: forged log line", "forbidden character '\\x0a'" },
	{ "vfiofd:%s,test_key=\xff\xfe", "forbidden character '\\xff'" },
	{ "vfiofd:%s,test_key=$(reboot)", "forbidden character '$'" },
	{ "vfiofd:%s,k0=1,k1=1,k2=1,k3=1,k4=1,k5=1,k6=1,k7=1,k8=1,k9=1,k10=1,k11=1,k12=1,"
	  "k13=1,k14=1,k15=1,k16=1", "more than 16 options" },
	{ "bus=vfiofd,addr=0000:01:00.9", "addr is not a PCI address" },
	{ "bus=vfiofd,addr=%s,ioas=bogus", "bad value 'bogus' for 'ioas'" },
	{ "bus=vfiofd,addr=%s,iosa=private", "unknown devargs key 'iosa' in the bus layer" },
	{ "bus=vfiofd,addr=%s,speed=10", "unknown devargs key 'speed' in the bus layer" },
	{ "vfiofd:%s,test_key=LONG", "longer than" },
};

int
cmd_hostile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL;
	int opt_argc, eal_argc, c, ret;
	struct tap t = { 0 };
	struct res base, r;
	char **eal_argv;
	unsigned int n = 0;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bdf = optarg; break;
		default: return 2;
		}
	}
	if (bdf == NULL)
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);

	/* one good cycle first, so that lazily created EAL state is in the baseline */
	{
		char good[64];
		struct rte_vfiofd_device *dev;

		snprintf(good, sizeof(good), "vfiofd:%s", bdf);
		ret = rte_dev_probe(good);
		dev = vfiofd_dev(bdf);
		tap_check(&t, ret == 0 && dev != NULL, "warm-up probe of %s (%d)", bdf, ret);
		if (dev != NULL)
			tap_check(&t, rte_dev_remove(&dev->device) == 0, "warm-up remove");
	}
	res_get(&base);
	res_diag("baseline", &base);

	for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++) {
		const struct hostile *h = &hostile_cases[i];
		char devargs[2048], shown[128];
		struct rte_vfiofd_device *dev;
		size_t mark;

		if (strstr(h->devargs, "LONG") != NULL) {
			int k = snprintf(devargs, sizeof(devargs), "vfiofd:%s,test_key=", bdf);

			memset(devargs + k, 'x', 600);
			devargs[k + 600] = '\0';
		} else {
			snprintf(devargs, sizeof(devargs), h->devargs, bdf);
		}
		vfiofd_str_sanitize(devargs, 96, shown, sizeof(shown));
		mark = log_mark();
		ret = rte_dev_probe(devargs);
		dev = vfiofd_dev(bdf);
		res_get(&r);
		n++;
		tap_check(&t, ret < 0 && log_seen(mark, h->msg) &&
			  (dev == NULL || !rte_dev_is_probed(&dev->device)) && test_drv.ndevs == 0,
			  "refused (%d) with '%s': %s", ret, h->msg, shown);
		if (!tap_check(&t, res_equal(&r, &base) || (r.devargs == base.devargs + 1 &&
			       r.fds == base.fds && r.maps == base.maps &&
			       r.vmpin_kb == base.vmpin_kb && r.vfio_fds == 0),
			       "  no partial state: %ld fds, %ld maps, VmPin %ld kB, %ld devargs",
			       r.fds, r.maps, r.vmpin_kb, r.devargs))
			res_diag("  baseline was", &base);
		tap_check(&t, !log_seen(mark, "\nEAL: forged log line"),
			  "  no forged line in the log");
	}
	tap_check(&t, n >= 20, "%u hostile devargs tried", n);

	/* a driver that fails its probe: the bus undoes everything it had set up */
	for (int priv = 0; priv < 2; priv++) {
		char da[96];
		struct rte_vfiofd_device *dev;
		size_t mark = log_mark();

		snprintf(da, sizeof(da), "vfiofd:%s%s", bdf, priv ? ",ioas=private" : "");
		test_drv.fail_probe = -EIO;
		ret = rte_dev_probe(da);
		test_drv.fail_probe = 0;
		dev = vfiofd_dev(bdf);
		res_get(&r);
		tap_check(&t, ret < 0 && (dev == NULL || !rte_dev_is_probed(&dev->device)) &&
			  log_seen(mark, "driver vfiofd_test failed to probe it"),
			  "driver probe failure with %s refused (%d)", da, ret);
		tap_check(&t, r.fds == base.fds && r.maps == base.maps &&
			  r.vmpin_kb == base.vmpin_kb && r.vfio_fds == 0,
			  "  everything undone: %ld fds, %ld maps, VmPin %ld kB", r.fds, r.maps,
			  r.vmpin_kb);
	}

	/* and the device still works after all that */
	{
		char good[64];
		struct rte_vfiofd_device *dev;

		snprintf(good, sizeof(good), "vfiofd:%s,ioas=private,test_key=1", bdf);
		ret = rte_dev_probe(good);
		dev = vfiofd_dev(bdf);
		tap_check(&t, ret == 0 && dev != NULL && rte_dev_is_probed(&dev->device),
			  "a good probe afterwards: %s (%d)", good, ret);
		if (dev != NULL)
			tap_check(&t, rte_dev_remove(&dev->device) == 0, "and its remove");
		res_get(&r);
		tap_check(&t, r.fds == base.fds && r.maps == base.maps &&
			  r.vmpin_kb == base.vmpin_kb,
			  "final state equals the baseline");
	}
	rte_eal_cleanup();
	return tap_done(&t);
}
