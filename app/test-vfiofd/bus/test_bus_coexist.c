/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * coexist --virtio BDF1,BDF2 [--e1000e BDF3]: the one-bus-per-device rule against
 * DPDK's bus/pci (loaded from the EAL's plugin directory, with net_virtio and
 * net_e1000), in the order a running application can produce:
 *
 *   A. at init, in the default mode of both buses: vfiofd claims every device its
 *      drivers support and bus/pci probes none of them;
 *   B. vfiofd releases BDF1 (rte_dev_remove), bus/pci takes it (rte_dev_probe("BDF1"),
 *      net_virtio through the VFIO group); then vfiofd is asked for it again and
 *      refuses it, naming bus/pci and its driver, with no partial state;
 *   C. BDF2 stays on vfiofd; bus/pci is asked for it explicitly: the kernel refuses
 *      the VFIO group while the cdev is bound (EBUSY), BDF2 keeps working on vfiofd;
 *   D. cleanup releases everything on both buses.
 *
 * Start the EAL without -a/-b (defaults) and with the test bed's hugepages.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_bus.h>
#include <rte_devargs.h>
#include <rte_eal.h>

#include "test_bus.h"

static bool
bar_reads(const struct rte_vfiofd_device *d)
{
	uint32_t w;

	for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS; b++)
		if ((d->regions[b].flags & RTE_VFIOFD_REGION_MAPPED) &&
		    rte_vfiofd_region_read(d, b, 0, &w, 4) == 4)
			return true;
	return false;
}

int
cmd_coexist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "virtio", required_argument, NULL, 'v' },
		{ "e1000e", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *virtio = NULL, *e1000e = "";
	char all[128], v1[32], v2[32], bdf[32], da[64];
	int opt_argc, eal_argc, c, ret;
	struct rte_vfiofd_device *d;
	struct rte_device *p;
	struct tap t = { 0 };
	struct res before, after;
	char **eal_argv;
	size_t mark;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'v': virtio = optarg; break;
		case 'e': e1000e = optarg; break;
		default: return 2;
		}
	}
	if (virtio == NULL || !list_item(virtio, 0, v1, sizeof(v1)) ||
	    !list_item(virtio, 1, v2, sizeof(v2)))
		return 2;
	snprintf(all, sizeof(all), "%s%s%s", virtio, e1000e[0] ? "," : "", e1000e);

	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	if (!tap_check(&t, rte_bus_find_by_name("pci") != NULL, "bus pci is loaded too"))
		return tap_done(&t);

	/* A */
	for (int i = 0; list_item(all, i, bdf, sizeof(bdf)); i++) {
		d = vfiofd_dev(bdf);
		p = pci_dev(bdf);
		tap_check(&t, d != NULL && rte_dev_is_probed(&d->device),
			  "A: %s probed by vfiofd", bdf);
		tap_check(&t, p == NULL || !rte_dev_is_probed(p),
			  "A: %s not probed by bus pci (%s)", bdf,
			  p == NULL ? "not even scanned: blocked" : "scanned, blocked");
	}

	/* B */
	d = vfiofd_dev(v1);
	ret = d != NULL ? rte_dev_remove(&d->device) : -ENODEV;
	tap_check(&t, ret == 0 && vfiofd_dev(v1) == NULL, "B: vfiofd released %s (%d)", v1, ret);
	ret = rte_dev_probe(v1);
	p = pci_dev(v1);
	tap_check(&t, ret == 0 && p != NULL && rte_dev_is_probed(p),
		  "B: bus pci took %s (%d, driver %s)", v1, ret,
		  p != NULL && rte_dev_is_probed(p) ? rte_driver_name(rte_dev_driver(p)) : "-");
	res_get(&before);
	mark = log_mark();
	snprintf(da, sizeof(da), "vfiofd:%s", v1);
	ret = rte_dev_probe(da);
	res_get(&after);
	d = vfiofd_dev(v1);
	tap_check(&t, ret < 0 && (d == NULL || !rte_dev_is_probed(&d->device)) &&
		  log_seen(mark, "already driven by bus pci"),
		  "B: vfiofd refuses %s, naming bus pci (%d)", v1, ret);
	tap_check(&t, after.vfio_fds == before.vfio_fds && after.vmpin_kb == before.vmpin_kb &&
		  after.fds == before.fds, "B: no partial state (%ld/%ld vfio fds, %ld/%ld fds)",
		  before.vfio_fds, after.vfio_fds, before.fds, after.fds);

	/* C */
	d = vfiofd_dev(v2);
	mark = log_mark();
	ret = rte_dev_probe(v2);
	p = pci_dev(v2);
	tap_check(&t, ret < 0 && (p == NULL || !rte_dev_is_probed(p)),
		  "C: bus pci cannot take %s while vfiofd drives it (%d)", v2, ret);
	tap_diag("C: the kernel's answer %s in the log",
		 log_seen(mark, "busy") ? "(\"busy\") is" : "is not");
	d = vfiofd_dev(v2);
	tap_check(&t, d != NULL && rte_dev_is_probed(&d->device) && bar_reads(d),
		  "C: %s still works on vfiofd", v2);

	/* D */
	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0, "D: rte_eal_cleanup (%d)", ret);
	res_get(&after);
	tap_check(&t, after.vfio_fds == 0 && after.vmpin_kb == 0,
		  "D: no vfio/iommufd fd (%ld), nothing pinned (%ld kB)", after.vfio_fds,
		  after.vmpin_kb);
	return tap_done(&t);
}
