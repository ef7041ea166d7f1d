/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe time of one PCI function on the vfiofd bus and on DPDK's bus/pci (VFIO), for
 * "make bench":
 *
 *   bench-vfiofd-probe --bus vfiofd|pci --dev BDF [--repeat N] [--stock] -- EAL arguments
 *
 * What is timed: rte_dev_probe() of the device, i.e. the bus's rescan plus its probe,
 * from opening the device to BARs mapped, interrupts ready (eventfd, handle, request
 * notifier), bus mastering on, all DPDK memory mapped for its DMA, and a driver that
 * returns 0 at once. Each bus gets such a minimal driver (registered before the EAL
 * loads its plugins, so it is first in line), so that only the buses' own work is
 * measured and not two PMDs' different device initialisations; bus/pci's driver asks
 * for RTE_PCI_DRV_NEED_MAPPING, which is what makes bus/pci open the VFIO group and
 * container, map DPDK memory (type1), map the BARs and set up interrupts. Every
 * iteration then removes the device (not timed): the last device of a VFIO container
 * or of the iommufd memory library releases its DMA mappings, so every probe does the
 * same, full work on both buses. The first iteration is a warm-up (page cache, lazy
 * binding) and is not counted.
 *
 * --stock: no minimal drivers; the device goes to the same DPDK PCI driver on both buses
 * (net_e1000_em for the e1000e), whose device initialisation is then timed too: the
 * probe time a user of DPDK's PCI drivers sees on vfiofd and on bus/pci.
 *
 * Prints "PROBE_T <bus> <ms>" per timed probe, then
 * "PROBE <bus> median_ms=<m> min_ms=<min> max_ms=<max> n=<N>".
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bus_driver.h>
#include <bus_pci_driver.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_eal.h>

#include <bus_vfiofd_driver.h>

static const struct rte_pci_id bench_ids[] = {
	{ RTE_PCI_DEVICE(0x1af4, 0x1041) },  /* virtio-net, modern */
	{ RTE_PCI_DEVICE(0x8086, 0x10d3) },  /* 82574L (QEMU e1000e) */
	{ .vendor_id = 0 },
};

static int
nop_vfiofd_probe(struct rte_vfiofd_driver *drv, struct rte_vfiofd_device *dev)
{
	RTE_SET_USED(drv);
	RTE_SET_USED(dev);
	return 0;
}

static int
nop_vfiofd_remove(struct rte_vfiofd_device *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static struct rte_vfiofd_driver nop_vfiofd = {
	.probe = nop_vfiofd_probe,
	.remove = nop_vfiofd_remove,
	.id_table = bench_ids,
};
RTE_PMD_REGISTER_VFIOFD(bench_nop_vfiofd, nop_vfiofd);

static int
nop_pci_probe(struct rte_pci_driver *drv, struct rte_pci_device *dev)
{
	RTE_SET_USED(drv);
	RTE_SET_USED(dev);
	return 0;
}

static int
nop_pci_remove(struct rte_pci_device *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static struct rte_pci_driver nop_pci = {
	.probe = nop_pci_probe,
	.remove = nop_pci_remove,
	.id_table = bench_ids,
	/* bus/pci maps BARs and sets up VFIO (group, container, DMA, interrupts) only then */
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
};
RTE_PMD_REGISTER_PCI(bench_nop_pci, nop_pci);

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_name(const struct rte_device *dev, const void *name)
{
	return strcmp(dev->name, name);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bus", required_argument, NULL, 'b' },
		{ "dev", required_argument, NULL, 'd' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "stock", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *busname = NULL, *bdf = NULL;
	int c, repeat = 21, opt_argc = argc, ret;
	char devargs[64];
	double *t;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			opt_argc = i;
			break;
		}
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': busname = optarg; break;
		case 'd': bdf = optarg; break;
		case 'r': repeat = atoi(optarg); break;
		case 's':
			rte_vfiofd_unregister(&nop_vfiofd);
			rte_pci_unregister(&nop_pci);
			break;
		default: return 2;
		}
	}
	if (busname == NULL || bdf == NULL || repeat < 1 ||
	    (strcmp(busname, "vfiofd") != 0 && strcmp(busname, "pci") != 0)) {
		fprintf(stderr, "usage: %s --bus vfiofd|pci --dev BDF [--repeat N] [--stock] -- "
			"EAL args\n", argv[0]);
		return 2;
	}
	/* the EAL gets argv[0] and what follows "--" */
	argv[opt_argc] = argv[0];
	ret = rte_eal_init(argc - opt_argc, argv + opt_argc);
	if (ret < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	snprintf(devargs, sizeof(devargs), "%s%s", strcmp(busname, "vfiofd") == 0 ?
		 "vfiofd:" : "", bdf);
	t = calloc((size_t)repeat, sizeof(*t));
	if (t == NULL)
		return 1;
	for (int i = -1; i < repeat; i++) {
		struct rte_bus *bus = rte_bus_find_by_name(busname);
		struct rte_device *dev;
		double t0 = now_ms(), t1;

		ret = rte_dev_probe(devargs);
		t1 = now_ms();
		dev = bus != NULL ? bus->find_device(NULL, cmp_name, bdf) : NULL;
		if (ret != 0 || dev == NULL || !rte_dev_is_probed(dev)) {
			fprintf(stderr, "rte_dev_probe(%s) failed: %d\n", devargs, ret);
			ret = 1;
			goto out;
		}
		if (i >= 0) {
			t[i] = t1 - t0;
			printf("PROBE_T %s %.3f\n", busname, t[i]);
		}
		ret = rte_dev_remove(dev);
		if (ret != 0) {
			fprintf(stderr, "rte_dev_remove(%s) failed: %d\n", devargs, ret);
			ret = 1;
			goto out;
		}
	}
	qsort(t, (size_t)repeat, sizeof(*t), cmp_double);
	printf("PROBE %s median_ms=%.3f min_ms=%.3f max_ms=%.3f n=%d\n", busname,
	       repeat % 2 ? t[repeat / 2] : (t[repeat / 2 - 1] + t[repeat / 2]) / 2, t[0],
	       t[repeat - 1], repeat);
	ret = 0;
out:
	free(t);
	rte_eal_cleanup();
	return ret;
}
