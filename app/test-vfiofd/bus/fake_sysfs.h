/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fake /sys/bus/pci/devices and /dev trees for host tests, in a temporary directory:
 * enough of what the kernel writes for the vfiofd scanner to believe in (or to
 * reject, when a test plants garbage). Character nodes are made with mknod (the tests
 * run as root); nothing is ever opened through them.
 */

#ifndef VFIOFD_FAKE_SYSFS_H
#define VFIOFD_FAKE_SYSFS_H

#include <limits.h>
#include <stdbool.h>

struct fake_tree {
	char root[256];        /* the temporary directory */
	char sysfs[272];       /* <root>/sys: stands for /sys/bus/pci/devices */
	char dev[272];         /* <root>/dev: stands for /dev */
};

/* A device as the kernel shows it once bound to @driver (NULL: unbound). */
struct fake_dev {
	const char *bdf;
	const char *vendor, *device, *subsystem_vendor, *subsystem_device, *klass;
	const char *numa;      /* NULL: no numa_node attribute */
	const char *driver;    /* NULL: no driver link */
	int group;             /* iommu_group number, < 0: none */
	int vfio_index;        /* vfioN, < 0: no vfio-dev directory */
	const char *dev_attr;  /* vfio-dev/vfioN/dev, NULL: none (no-IOMMU) */
	int node_major;        /* /dev/vfio/devices/vfioN, < 0: no node */
	int node_minor;
	bool noiommu_cdev;     /* named noiommu-vfioN (Linux 7.3+ no-IOMMU cdev) */
};

/* Create the tree under /tmp; 0 or -errno. */
int fake_tree_create(struct fake_tree *t);
/* Remove it, whatever is in it. */
void fake_tree_destroy(struct fake_tree *t);
/* Add a device; 0 or -errno. */
int fake_dev_add(struct fake_tree *t, const struct fake_dev *d);
/* A virtio-net NIC bound to vfio-pci, cdev vfio@index, node @major:@index. */
struct fake_dev fake_dev_good(const char *bdf, int index, int major);
/* Write @value into <sysfs>/<bdf>/<attr> (creating it); 0 or -errno. */
int fake_attr_write(struct fake_tree *t, const char *bdf, const char *attr,
		    const char *value, size_t len);
/* Path helper: <sysfs>/<bdf>/<rel> into @buf. */
const char *fake_path(struct fake_tree *t, const char *bdf, const char *rel, char *buf);

#endif /* VFIOFD_FAKE_SYSFS_H */
