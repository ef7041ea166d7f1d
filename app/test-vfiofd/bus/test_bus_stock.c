/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "stock": DPDK's PCI drivers on the vfiofd bus, seen from a PCI driver of the test's
 * own, registered on bus/pci like any DPDK PCI driver (RTE_PMD_REGISTER_PCI). Its id
 * table is empty until a check points it at a device, so it takes nothing otherwise.
 *
 *   stock --dev BDF [--virtio BDF]    (start the EAL with --no-pci -a vfiofd:)
 *
 * On @dev (an e1000e, with test-vfiofd-bus --no-test-driver):
 *   view     the rte_pci_device the driver gets: generic device on bus vfiofd, PCI
 *            address and ids, kdrv VFIO, BAR mappings with the sysfs bus addresses,
 *            config space through rte_pci_read_config(), the interrupt handle on the
 *            device fd, and devargs without the bus's keys (driver keys pass through),
 *            also after a second probe of the probed device (refused, with a line)
 *   failing  the driver's probe fails: the error names device, driver and errno, and
 *            fds, mappings, pinned memory and devargs are as before; a retry succeeds
 *   typo     a mistyped bus key is refused with what was meant, before the device is
 *            touched
 * On @virtio (a virtio-net NIC, no net_vfiofd_virtio loaded): DPDK's net_virtio maps
 * the device itself and is refused with one line that says so and names the
 * alternative; nothing is probed or left behind.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bus_pci_driver.h>
#include <rte_bus.h>
#include <rte_bus_pci.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_interrupts.h>

#include "test_bus.h"

static struct rte_pci_id stock_ids[] = {
	{ .vendor_id = 0 }, /* set by a check */
	{ .vendor_id = 0 },
};

/* What the driver saw at its last probe. */
static struct {
	int fail;                 /* != 0: probe returns it */
	unsigned int probes, removes;
	struct rte_pci_device *dev;
	char args[256];
	char bus[32];
	struct rte_mem_resource bar0;
	enum rte_pci_kernel_driver kdrv;
	bool driver_is_us;
	int cfg_ret;
	uint16_t cfg_vendor;
	int intr_dev_fd;
	enum rte_intr_handle_type intr_type;
} seen;

static struct rte_pci_driver stock_test_drv;

static int
stock_probe(struct rte_pci_driver *drv, struct rte_pci_device *dev)
{
	const struct rte_devargs *da = dev->device.devargs;

	seen.probes++;
	seen.dev = dev;
	snprintf(seen.args, sizeof(seen.args), "%s", da != NULL && da->args != NULL ?
		 da->args : "(none)");
	snprintf(seen.bus, sizeof(seen.bus), "%s", dev->device.bus != NULL ?
		 rte_bus_name(dev->device.bus) : "(none)");
	seen.bar0 = dev->mem_resource[0];
	seen.kdrv = dev->kdrv;
	seen.driver_is_us = dev->driver == drv && drv == &stock_test_drv;
	seen.cfg_vendor = 0;
	seen.cfg_ret = rte_pci_read_config(dev, &seen.cfg_vendor, sizeof(seen.cfg_vendor), 0);
	seen.intr_dev_fd = rte_intr_dev_fd_get(dev->intr_handle);
	seen.intr_type = rte_intr_type_get(dev->intr_handle);
	return seen.fail;
}

static int
stock_remove(struct rte_pci_device *dev)
{
	RTE_SET_USED(dev);
	seen.removes++;
	return 0;
}

static struct rte_pci_driver stock_test_drv = {
	.probe = stock_probe,
	.remove = stock_remove,
	.id_table = stock_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
};

RTE_PMD_REGISTER_PCI(net_vfiofd_stock_test, stock_test_drv);

static bool
same_res(const struct res *a, const struct res *b)
{
	return a->fds == b->fds && a->maps == b->maps && a->vmpin_kb == b->vmpin_kb &&
	       a->vfio_fds == b->vfio_fds && a->devargs == b->devargs;
}

/* BAR0's bus address from sysfs, for comparing with what the driver saw. */
static uint64_t
sysfs_bar0(const char *bdf)
{
	char path[128];
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llx", &start) != 1)
		start = 0;
	fclose(f);
	return start;
}

static void
check_view(struct tap *t, const char *bdf)
{
	struct rte_vfiofd_device *dev;
	char devargs[128];
	struct res before, after;
	size_t mark;
	int ret;

	res_get(&before);
	snprintf(devargs, sizeof(devargs), "vfiofd:%s,intr=msix,drvkey=7,ioas=private,other=x",
		 bdf);
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	if (!tap_check(t, ret == 0 && dev != NULL && seen.probes == 1 &&
		       rte_dev_is_probed(&dev->device), "probed by the test PCI driver (%d)", ret))
		return;
	tap_check(t, seen.dev == &dev->pci_dev && &seen.dev->device == &dev->device,
		  "its rte_pci_device is the vfiofd device's PCI view, same generic device");
	tap_check(t, strcmp(seen.bus, RTE_BUS_VFIOFD_NAME) == 0, "on bus %s", seen.bus);
	tap_check(t, strcmp(seen.args, "drvkey=7,other=x") == 0,
		  "the driver's devargs hold only its keys: '%s'", seen.args);
	tap_check(t, seen.driver_is_us && seen.kdrv == RTE_PCI_KDRV_VFIO,
		  "driver set, kdrv VFIO (%d)", seen.kdrv);
	tap_check(t, rte_pci_addr_cmp(&dev->pci_dev.addr, &dev->addr) == 0 &&
		  dev->pci_dev.id.device_id == dev->id.device_id &&
		  strcmp(dev->pci_dev.name, bdf) == 0, "PCI address, ids and name");
	tap_check(t, seen.bar0.addr != NULL && seen.bar0.addr == dev->regions[0].addr &&
		  seen.bar0.len == dev->regions[0].size && seen.bar0.len > 0,
		  "BAR0 is the bus's mapping: %p, %" PRIu64 " bytes", seen.bar0.addr,
		  seen.bar0.len);
	tap_check(t, seen.bar0.phys_addr != 0 && seen.bar0.phys_addr == sysfs_bar0(bdf),
		  "BAR0 bus address 0x%" PRIx64 " as sysfs says", seen.bar0.phys_addr);
	tap_check(t, seen.cfg_ret == 2 && seen.cfg_vendor == dev->id.vendor_id,
		  "rte_pci_read_config() reads vendor %04x (%d)", seen.cfg_vendor, seen.cfg_ret);
	tap_check(t, seen.intr_type == RTE_INTR_HANDLE_VFIO_MSIX && seen.intr_dev_fd >= 0,
		  "interrupt handle: VFIO MSI-X on the device fd %d", seen.intr_dev_fd);
	tap_check(t, strcmp(dev->device.devargs->args, "intr=msix,drvkey=7,ioas=private,"
			    "other=x") != 0, "the devargs show the driver its view while probed");
	/* probed already: the bus refuses (the EAL then answers 0), the EAL has given the
	 * device a second devargs, which the bus takes over with the driver's view */
	mark = log_mark();
	ret = rte_dev_probe(devargs);
	tap_check(t, ret == 0 && seen.probes == 1 && vfiofd_dev(bdf) == dev &&
		  log_seen(mark, "already probed by driver net_vfiofd_stock_test"),
		  "probing it again: %d, not probed twice, the line says so", ret);
	tap_check(t, strcmp(dev->device.devargs->args, "drvkey=7,other=x") == 0,
		  "the driver still sees its view of the devargs: '%s'",
		  dev->device.devargs->args);
	ret = rte_dev_remove(&dev->device);
	tap_check(t, ret == 0 && seen.removes == 1 && vfiofd_dev(bdf) == NULL,
		  "removed through the driver's remove (%d)", ret);
	res_get(&after);
	tap_check(t, same_res(&before, &after), "nothing left behind");
	res_diag("after the view check", &after);

	/* no interrupts: config space still answers (the handle keeps the device fd) */
	snprintf(devargs, sizeof(devargs), "vfiofd:%s,intr=none", bdf);
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	tap_check(t, ret == 0 && dev != NULL && seen.cfg_ret == 2 &&
		  seen.cfg_vendor == dev->id.vendor_id && seen.intr_dev_fd >= 0,
		  "intr=none: rte_pci_read_config() still reads vendor %04x (%d)",
		  seen.cfg_vendor, seen.cfg_ret);
	if (dev != NULL)
		rte_dev_remove(&dev->device);
	seen.probes = seen.removes = 0;
}

static void
check_failing(struct tap *t, const char *bdf)
{
	struct rte_vfiofd_device *dev;
	char devargs[64];
	struct res before, after;
	size_t mark;
	int ret;

	snprintf(devargs, sizeof(devargs), "vfiofd:%s", bdf);
	res_get(&before);
	for (int n = 0; n < 3; n++) {
		seen.fail = -EIO;
		mark = log_mark();
		ret = rte_dev_probe(devargs);
		dev = vfiofd_dev(bdf);
		tap_check(t, ret < 0 && (dev == NULL || !rte_dev_is_probed(&dev->device)),
			  "failing probe %d refused (%d)", n, ret);
		tap_check(t, log_seen(mark, bdf) && log_seen(mark, "DPDK's PCI driver "
			  "net_vfiofd_stock_test failed to probe it (Input/output error)"),
			  "the error names the device, the driver and the errno");
		/* the EAL keeps the devargs of a failed hotplug probe: drop them as an
		 * application would, before comparing */
		if (dev != NULL)
			rte_devargs_remove(dev->device.devargs);
		res_get(&after);
		tap_check(t, same_res(&before, &after), "nothing left behind after failure %d",
			  n);
		res_diag("after the failed probe", &after);
	}
	seen.fail = 0;
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	tap_check(t, ret == 0 && dev != NULL, "then a probe succeeds (%d)", ret);
	if (dev != NULL)
		tap_check(t, rte_dev_remove(&dev->device) == 0, "and its remove");
}

static void
check_typo(struct tap *t, const char *bdf)
{
	char devargs[96];
	size_t mark = log_mark();
	unsigned int probes = seen.probes;
	struct res before, after;
	int ret;

	res_get(&before);
	snprintf(devargs, sizeof(devargs), "vfiofd:%s,iosa=private", bdf);
	ret = rte_dev_probe(devargs);
	tap_check(t, ret < 0 && seen.probes == probes, "'iosa=private' refused (%d)", ret);
	tap_check(t, log_seen(mark, "devargs key 'iosa' is not a bus key; did you mean 'ioas'"),
		  "the refusal says what was meant");
	if (vfiofd_dev(bdf) != NULL)
		rte_devargs_remove(vfiofd_dev(bdf)->device.devargs);
	res_get(&after);
	tap_check(t, same_res(&before, &after), "nothing left behind");
}

static void
check_self_mapping(struct tap *t, const char *bdf)
{
	struct rte_vfiofd_device *dev;
	char devargs[64];
	size_t mark = log_mark();
	struct res before, after;
	int ret;

	res_get(&before);
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", bdf);
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	tap_check(t, ret < 0 && (dev == NULL || !rte_dev_is_probed(&dev->device)),
		  "virtio-net refused (%d)", ret);
	tap_check(t, log_seen(mark, "DPDK's PCI driver net_virtio maps the device itself") &&
		  log_seen(mark, "net_vfiofd_virtio"),
		  "one line: the driver, why, and the alternative");
	if (dev != NULL)
		rte_devargs_remove(dev->device.devargs);
	res_get(&after);
	tap_check(t, same_res(&before, &after) && after.vfio_fds == 0,
		  "nothing opened or left behind");
}

int
cmd_stock(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "virtio", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL, *virtio = NULL;
	int opt_argc, eal_argc, c, ret;
	struct tap t = { 0 };
	char **eal_argv;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bdf = optarg; break;
		case 'v': virtio = optarg; break;
		default: return 2;
		}
	}
	if (bdf == NULL)
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	/* the test driver takes the e1000e from here on (first on bus/pci's list) */
	stock_ids[0] = (struct rte_pci_id){ RTE_PCI_DEVICE(0x8086, 0x10d3) };
	check_view(&t, bdf);
	check_failing(&t, bdf);
	check_typo(&t, bdf);
	stock_ids[0].vendor_id = 0;
	if (virtio != NULL)
		check_self_mapping(&t, virtio);
	rte_eal_cleanup();
	return tap_done(&t);
}
