/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny driver on the vfiofd bus, for the bus's own tests: it takes virtio-net
 * modern NICs and e1000e NICs, checks that config space answers, and records the
 * devices so the tests can reach them. It creates no ethdev: the tests drive the
 * device through the bus API.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "test_bus.h"

struct test_drv_state test_drv;

static const struct rte_pci_id test_ids[] = {
	{ RTE_VFIOFD_DEVICE(0x1af4, 0x1041) },  /* virtio-net, modern */
	{ RTE_VFIOFD_DEVICE(0x8086, 0x10d3) },  /* 82574L (QEMU e1000e) */
	{ .vendor_id = 0 },
};

static const char *const test_keys[] = { "test_key", NULL };

static int
test_probe(struct rte_vfiofd_driver *drv, struct rte_vfiofd_device *dev)
{
	uint16_t vendor = 0;

	RTE_SET_USED(drv);
	if (test_drv.fail_probe != 0)
		return test_drv.fail_probe;
	if (rte_vfiofd_config_read(dev, 0, &vendor, sizeof(vendor)) != sizeof(vendor) ||
	    vendor != dev->id.vendor_id)
		return -EIO;
	if (test_drv.ndevs < RTE_DIM(test_drv.devs))
		test_drv.devs[test_drv.ndevs++] = dev;
	test_drv.probes++;
	return 0;
}

static int
test_remove(struct rte_vfiofd_device *dev)
{
	for (unsigned int i = 0; i < test_drv.ndevs; i++) {
		if (test_drv.devs[i] != dev)
			continue;
		memmove(&test_drv.devs[i], &test_drv.devs[i + 1],
			(test_drv.ndevs - i - 1) * sizeof(test_drv.devs[0]));
		test_drv.ndevs--;
		break;
	}
	test_drv.removes++;
	return 0;
}

struct rte_vfiofd_driver test_vfiofd_driver = {
	.probe = test_probe,
	.remove = test_remove,
	.id_table = test_ids,
	.devargs_keys = test_keys,
	.drv_flags = RTE_VFIOFD_DRV_INTR_LSC,
};

RTE_PMD_REGISTER_VFIOFD(vfiofd_test, test_vfiofd_driver);
RTE_PMD_REGISTER_VFIOFD_TABLE(vfiofd_test, test_ids);
