/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host tests of the sysfs layer the vfiofd scanner is built on, against fake trees in
 * a temporary directory: a good device, then one defect per device (missing files,
 * garbage and huge values, FIFOs, symlink loops, two vfioN entries, wrong
 * major:minor, missing or forged /dev nodes) and the strict attribute parsers; and
 * that the cdev the bus opens is checked, once open, against the major:minor sysfs
 * gave (/dev/null and /dev/zero numbers stand for cdevs there). Needs root (mknod).
 */

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vfio_cdev.h"
#include "vfiofd_sysfs.h"
#include "fake_sysfs.h"
#include "../tap.h"

#define MAJ 511 /* no driver has it: nothing is ever opened through these nodes */

static struct fake_tree tree;

static int
find(const char *bdf, struct vfiofd_cdev_id *id)
{
	return vfiofd_sysfs_find_cdev(tree.sysfs, tree.dev, bdf, id);
}

static void
test_good(struct tap *t)
{
	struct fake_dev d = fake_dev_good("0000:01:00.0", 0, MAJ);
	struct vfiofd_cdev_id id;
	struct vfiofd_pci_ids ids;
	char drv[32], path[PATH_MAX];
	int ret;

	tap_check(t, fake_dev_add(&tree, &d) == 0, "good device created");
	ret = find("0000:01:00.0", &id);
	snprintf(path, sizeof(path), "%s/vfio/devices/vfio0", tree.dev);
	tap_check(t, ret == 0 && strcmp(id.name, "vfio0") == 0 && id.major == MAJ &&
		  id.minor == 0 && strcmp(id.path, path) == 0,
		  "cdev found: %s %u:%u (%s)", id.name, id.major, id.minor, strerror(-ret));
	ret = vfiofd_sysfs_pci_ids(tree.sysfs, "0000:01:00.0", &ids);
	tap_check(t, ret == 0 && ids.vendor == 0x1af4 && ids.device == 0x1041 &&
		  ids.subsystem_vendor == 0x1af4 && ids.subsystem_device == 0x1100 &&
		  ids.class_code == 0x020000, "ids %04x:%04x class %06x", ids.vendor, ids.device,
		  ids.class_code);
	tap_check(t, vfiofd_sysfs_numa_node(tree.sysfs, "0000:01:00.0") == 0, "numa node 0");
	ret = vfiofd_sysfs_driver(tree.sysfs, "0000:01:00.0", drv, sizeof(drv));
	tap_check(t, ret == 0 && strcmp(drv, "vfio-pci") == 0, "driver %s", drv);
	tap_check(t, vfiofd_sysfs_iommu_group(tree.sysfs, "0000:01:00.0") == 7, "iommu group 7");
	tap_check(t, vfiofd_sysfs_driver(tree.sysfs, "0000:01:00.0", drv, 4) == -ENAMETOOLONG,
		  "driver name into a short buffer refused");
}

/* Linux 7.3+: a no-IOMMU device has a cdev named noiommu-vfioN; vfioN is a normal one. */
static void
test_noiommu_cdev(struct tap *t)
{
	struct fake_dev d = fake_dev_good("0000:01:03.0", 3, MAJ);
	struct vfiofd_cdev_id id;
	char path[PATH_MAX];
	int ret;

	d.noiommu_cdev = true;
	tap_check(t, fake_dev_add(&tree, &d) == 0, "no-IOMMU cdev device created");
	ret = find("0000:01:03.0", &id);
	snprintf(path, sizeof(path), "%s/vfio/devices/noiommu-vfio3", tree.dev);
	tap_check(t, ret == 0 && strcmp(id.name, "noiommu-vfio3") == 0 && id.noiommu &&
		  id.major == MAJ && id.minor == 3 && strcmp(id.path, path) == 0,
		  "no-IOMMU cdev found and marked: %s %u:%u noiommu=%d (%s)", id.name, id.major,
		  id.minor, id.noiommu, strerror(-ret));
	ret = find("0000:01:00.0", &id);
	tap_check(t, ret == 0 && !id.noiommu, "a vfioN cdev is not marked no-IOMMU");
}

/* One device per defect in its vfio-dev/dev chain: the error tells which. */
static void
test_cdev_defects(struct tap *t)
{
	static const struct {
		const char *bdf;
		const char *dev_attr;   /* NULL: none */
		int node_major, node_minor;
		int ret;
		const char *what;
	} cases[] = {
		{ "0000:02:00.0", NULL, MAJ, 1, -EOPNOTSUPP, "no dev attribute (no-IOMMU)" },
		{ "0000:02:01.0", "511", MAJ, 1, -EBADMSG, "dev '511'" },
		{ "0000:02:02.0", "511:", MAJ, 1, -EBADMSG, "dev '511:'" },
		{ "0000:02:03.0", ":1", MAJ, 1, -EBADMSG, "dev ':1'" },
		{ "0000:02:04.0", "4096:1", MAJ, 1, -EBADMSG, "dev major too large" },
		{ "0000:02:05.0", "511:1048576", MAJ, 1, -EBADMSG, "dev minor too large" },
		{ "0000:02:06.0", "-1:2", MAJ, 1, -EBADMSG, "dev with a sign" },
		{ "0000:02:07.0", "511:1:0", MAJ, 1, -EBADMSG, "dev with junk" },
		{ "0000:03:00.0", "511:1", MAJ, 2, -ESTALE, "wrong minor in /dev" },
		{ "0000:03:01.0", "511:1", 510, 1, -ESTALE, "wrong major in /dev" },
		{ "0000:03:02.0", "511:1", -1, 0, -ENXIO, "no /dev node" },
		{ "0000:03:03.0", "99999999999999999999:1", MAJ, 1, -EBADMSG, "dev overflow" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_dev d = fake_dev_good(cases[i].bdf, 20 + (int)i, MAJ);
		struct vfiofd_cdev_id id;
		int ret;

		d.dev_attr = cases[i].dev_attr;
		d.node_major = cases[i].node_major;
		d.node_minor = cases[i].node_minor;
		d.vfio_index = 20 + (int)i;
		ret = fake_dev_add(&tree, &d);
		if (ret == 0)
			ret = find(cases[i].bdf, &id);
		else
			ret = 1000;
		tap_check(t, ret == cases[i].ret, "%s: %s -> %s", cases[i].bdf, cases[i].what,
			  ret <= 0 ? strerror(-ret) : "setup failed");
	}
}

static void
test_tree_defects(struct tap *t)
{
	struct vfiofd_cdev_id id;
	char path[PATH_MAX], p2[PATH_MAX], big[PATH_MAX];
	struct fake_dev d;
	int ret;

	/* two vfioN entries */
	d = fake_dev_good("0000:04:00.0", 40, MAJ);
	fake_dev_add(&tree, &d);
	mkdir(fake_path(&tree, "0000:04:00.0", "vfio-dev/vfio41", path), 0755);
	fake_attr_write(&tree, "0000:04:00.0", "vfio-dev/vfio41/dev", "511:41\n", 7);
	tap_check(t, find("0000:04:00.0", &id) == -EBADMSG, "two vfioN entries refused");

	/* vfio-dev with only non-cdev names */
	d = fake_dev_good("0000:04:01.0", 42, MAJ);
	d.vfio_index = -1;
	fake_dev_add(&tree, &d);
	mkdir(fake_path(&tree, "0000:04:01.0", "vfio-dev", path), 0755);
	mkdir(fake_path(&tree, "0000:04:01.0", "vfio-dev/vfiox", path), 0755);
	mkdir(fake_path(&tree, "0000:04:01.0", "vfio-dev/vfio", path), 0755);
	tap_check(t, find("0000:04:01.0", &id) == -ENODEV, "no vfioN entry: -ENODEV");
	mkdir(fake_path(&tree, "0000:04:01.0",
			"vfio-dev/vfio1234567890123456789012345678901234567890", path), 0755);
	tap_check(t, find("0000:04:01.0", &id) == -EBADMSG, "absurd vfioN name refused");

	/* no vfio-dev at all: not bound to vfio-pci, or no cdev support */
	d = fake_dev_good("0000:04:02.0", 43, MAJ);
	d.vfio_index = -1;
	d.driver = "e1000e";
	fake_dev_add(&tree, &d);
	tap_check(t, find("0000:04:02.0", &id) == -ENODEV, "no vfio-dev: -ENODEV");
	ret = vfiofd_sysfs_driver(tree.sysfs, "0000:04:02.0", path, sizeof(path));
	tap_check(t, ret == 0 && strcmp(path, "e1000e") == 0, "driver e1000e");

	/* unbound: no driver link, no group */
	d = fake_dev_good("0000:04:03.0", 44, MAJ);
	d.vfio_index = -1;
	d.driver = NULL;
	d.group = -1;
	fake_dev_add(&tree, &d);
	tap_check(t, vfiofd_sysfs_driver(tree.sysfs, "0000:04:03.0", path, sizeof(path)) == -ENOENT,
		  "no driver: -ENOENT");
	tap_check(t, vfiofd_sysfs_iommu_group(tree.sysfs, "0000:04:03.0") == -ENOENT,
		  "no iommu group: -ENOENT");

	/* symlink loops: the device itself, its vfio-dev, its vfioN, its /dev node */
	symlink("loop-b", fake_path(&tree, "loop-a", "", path));
	symlink("loop-a", fake_path(&tree, "loop-b", "", path));
	symlink("loop-a", fake_path(&tree, "0000:05:00.0", "", path));
	ret = find("0000:05:00.0", &id);
	tap_check(t, ret == -ELOOP, "device directory is a symlink loop: %s", strerror(-ret));

	d = fake_dev_good("0000:05:01.0", 50, MAJ);
	d.vfio_index = -1;
	fake_dev_add(&tree, &d);
	symlink("vfio-dev", fake_path(&tree, "0000:05:01.0", "vfio-dev", path));
	ret = find("0000:05:01.0", &id);
	tap_check(t, ret == -ELOOP, "vfio-dev is a symlink loop: %s", strerror(-ret));

	d = fake_dev_good("0000:05:02.0", 51, MAJ);
	d.vfio_index = -1;
	fake_dev_add(&tree, &d);
	mkdir(fake_path(&tree, "0000:05:02.0", "vfio-dev", path), 0755);
	symlink("vfio51", fake_path(&tree, "0000:05:02.0", "vfio-dev/vfio51", path));
	ret = find("0000:05:02.0", &id);
	tap_check(t, ret == -ELOOP, "vfioN is a symlink loop: %s", strerror(-ret));

	d = fake_dev_good("0000:05:03.0", 52, MAJ);
	d.node_major = -1;
	fake_dev_add(&tree, &d);
	snprintf(path, sizeof(path), "%s/vfio/devices/vfio52", tree.dev);
	symlink("vfio52", path);
	ret = find("0000:05:03.0", &id);
	tap_check(t, ret == -ELOOP, "/dev node is a symlink loop: %s", strerror(-ret));

	/* a /dev node that is a regular file, or a block device with the right numbers */
	d = fake_dev_good("0000:05:04.0", 53, MAJ);
	d.node_major = -1;
	fake_dev_add(&tree, &d);
	snprintf(path, sizeof(path), "%s/vfio/devices/vfio53", tree.dev);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	tap_check(t, find("0000:05:04.0", &id) == -ESTALE, "/dev node is a regular file");
	d = fake_dev_good("0000:05:05.0", 54, MAJ);
	d.node_major = -1;
	fake_dev_add(&tree, &d);
	snprintf(path, sizeof(path), "%s/vfio/devices/vfio54", tree.dev);
	mknod(path, S_IFBLK | 0600, makedev(MAJ, 54));
	tap_check(t, find("0000:05:05.0", &id) == -ESTALE, "/dev node is a block device");

	/* a FIFO as the dev attribute must not hang the scan */
	d = fake_dev_good("0000:05:06.0", 55, MAJ);
	d.dev_attr = NULL;
	fake_dev_add(&tree, &d);
	mkfifo(fake_path(&tree, "0000:05:06.0", "vfio-dev/vfio55/dev", path), 0600);
	{
		time_t t0 = time(NULL);

		ret = find("0000:05:06.0", &id);
		tap_check(t, ret == -EBADMSG && time(NULL) - t0 < 3,
			  "FIFO dev attribute refused without blocking: %s", strerror(-ret));
	}

	/* names and roots */
	tap_check(t, find("0000:01:00", &id) == -EINVAL, "not a PCI address: -EINVAL");
	tap_check(t, find("../../../..", &id) == -EINVAL, "path traversal: -EINVAL");
	tap_check(t, find("0000:0f:00.0", &id) == -ENOENT, "no such device: -ENOENT");
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[PATH_MAX - 20] = '\0';
	tap_check(t, vfiofd_sysfs_find_cdev(big, tree.dev, "0000:01:00.0", &id) == -ENAMETOOLONG,
		  "overlong sysfs root refused");
	snprintf(p2, sizeof(p2), "%s/nonexistent", tree.root);
	tap_check(t, vfiofd_sysfs_find_cdev(p2, tree.dev, "0000:01:00.0", &id) == -ENOENT,
		  "missing sysfs root: -ENOENT");
}

static void
test_ids(struct tap *t)
{
	static const struct {
		const char *attr;
		const char *value;
		size_t len; /* 0: strlen */
		int ret;
		const char *what;
	} cases[] = {
		{ "vendor", "0xzz\n", 0, -EBADMSG, "vendor not hex" },
		{ "vendor", "1af4\n", 0, -EBADMSG, "vendor without 0x" },
		{ "vendor", "0x1af4 \n", 0, -EBADMSG, "vendor with a space" },
		{ "vendor", "0x10000\n", 0, -EBADMSG, "vendor too large" },
		{ "vendor", "0x\n", 0, -EBADMSG, "vendor '0x'" },
		{ "vendor", "\n", 0, -EBADMSG, "vendor empty" },
		{ "vendor", "0x1a\0f4\n", 7, -EBADMSG, "vendor with a NUL" },
		{ "vendor", "0x000000001af4\n", 0, -EBADMSG, "vendor with too many digits" },
		{ "class", "0x1000000\n", 0, -EBADMSG, "class too large" },
		{ "device", "-0x1\n", 0, -EBADMSG, "device negative" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char bdf[16];
		struct fake_dev d;
		struct vfiofd_pci_ids ids;
		int ret;

		snprintf(bdf, sizeof(bdf), "0000:06:%02zx.0", i);
		d = fake_dev_good(bdf, 60 + (int)(i % 4), MAJ);
		d.vfio_index = -1;
		fake_dev_add(&tree, &d);
		fake_attr_write(&tree, bdf, cases[i].attr, cases[i].value,
				cases[i].len ? cases[i].len : strlen(cases[i].value));
		ret = vfiofd_sysfs_pci_ids(tree.sysfs, bdf, &ids);
		tap_check(t, ret == cases[i].ret, "%s: %s (%s)", bdf, cases[i].what,
			  strerror(-ret));
	}

	/* missing attribute, huge attribute, FIFO attribute, directory attribute */
	{
		struct fake_dev d = fake_dev_good("0000:07:00.0", 70, MAJ);
		struct vfiofd_pci_ids ids;
		char path[PATH_MAX], *huge;
		size_t hl = 1 << 20;
		int ret;

		d.subsystem_device = NULL;
		d.vfio_index = -1;
		fake_dev_add(&tree, &d);
		tap_check(t, vfiofd_sysfs_pci_ids(tree.sysfs, "0000:07:00.0", &ids) == -ENOENT,
			  "missing subsystem_device: -ENOENT");

		d = fake_dev_good("0000:07:01.0", 71, MAJ);
		d.vfio_index = -1;
		fake_dev_add(&tree, &d);
		huge = malloc(hl);
		memset(huge, '1', hl);
		memcpy(huge, "0x", 2);
		fake_attr_write(&tree, "0000:07:01.0", "vendor", huge, hl);
		free(huge);
		ret = vfiofd_sysfs_pci_ids(tree.sysfs, "0000:07:01.0", &ids);
		tap_check(t, ret == -EBADMSG, "1 MiB vendor attribute refused (%s)",
			  strerror(-ret));

		d = fake_dev_good("0000:07:02.0", 72, MAJ);
		d.vfio_index = -1;
		d.device = NULL;
		fake_dev_add(&tree, &d);
		mkfifo(fake_path(&tree, "0000:07:02.0", "device", path), 0600);
		ret = vfiofd_sysfs_pci_ids(tree.sysfs, "0000:07:02.0", &ids);
		tap_check(t, ret == -EBADMSG, "FIFO device attribute refused (%s)", strerror(-ret));

		d = fake_dev_good("0000:07:03.0", 73, MAJ);
		d.vfio_index = -1;
		d.klass = NULL;
		fake_dev_add(&tree, &d);
		mkdir(fake_path(&tree, "0000:07:03.0", "class", path), 0755);
		ret = vfiofd_sysfs_pci_ids(tree.sysfs, "0000:07:03.0", &ids);
		tap_check(t, ret == -EBADMSG, "directory class attribute refused (%s)",
			  strerror(-ret));

		d = fake_dev_good("0000:07:04.0", 74, MAJ);
		d.vfio_index = -1;
		d.vendor = NULL;
		fake_dev_add(&tree, &d);
		symlink("vendor", fake_path(&tree, "0000:07:04.0", "vendor", path));
		ret = vfiofd_sysfs_pci_ids(tree.sysfs, "0000:07:04.0", &ids);
		/* said as the open said it: more telling than "malformed" */
		tap_check(t, ret == -ELOOP, "vendor symlink loop refused (%s)", strerror(-ret));
	}
}

static void
test_numa(struct tap *t)
{
	static const struct {
		const char *value; /* NULL: no attribute */
		int ret;
	} cases[] = {
		{ "1", 1 }, { "-1", -ENOENT }, { NULL, -ENOENT }, { "garbage", -EBADMSG },
		{ "99999999999", -EBADMSG }, { "1024", -EBADMSG }, { "-2", -EBADMSG },
		{ "1 ", -EBADMSG }, { "+1", -EBADMSG }, { "", -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char bdf[16];
		struct fake_dev d;
		int ret;

		snprintf(bdf, sizeof(bdf), "0000:08:%02zx.0", i);
		d = fake_dev_good(bdf, 80, MAJ);
		d.vfio_index = -1;
		d.numa = cases[i].value;
		fake_dev_add(&tree, &d);
		ret = vfiofd_sysfs_numa_node(tree.sysfs, bdf);
		tap_check(t, ret == cases[i].ret, "numa_node '%s' -> %d",
			  cases[i].value ? cases[i].value : "(none)", ret);
	}
}

/* The IOMMU's address width, from Intel VT-d's capability register (bare hex). */
static void
test_iommu_width(struct tap *t)
{
	static const struct {
		const char *cap; /* NULL: no iommu/intel-iommu directory */
		int ret;
	} cases[] = {
		{ "d2008c22260206", 39 }, { "d2008c222f0206", 48 }, { NULL, -ENOENT },
		{ "garbage", -EBADMSG }, { "", -EBADMSG }, { "0x2f0000", -EBADMSG },
		{ "12345678901234567", -EBADMSG }, { "0", -EBADMSG }, { "d2008c22260206 ", -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char bdf[16], path[PATH_MAX];
		struct fake_dev d;
		int ret;

		snprintf(bdf, sizeof(bdf), "0000:0b:%02zx.0", i);
		d = fake_dev_good(bdf, 100, MAJ);
		d.vfio_index = -1;
		fake_dev_add(&tree, &d);
		if (cases[i].cap != NULL) {
			char v[64];

			mkdir(fake_path(&tree, bdf, "iommu", path), 0755);
			mkdir(fake_path(&tree, bdf, "iommu/intel-iommu", path), 0755);
			snprintf(v, sizeof(v), "%s\n", cases[i].cap);
			fake_attr_write(&tree, bdf, "iommu/intel-iommu/cap", v, strlen(v));
		}
		ret = vfiofd_sysfs_iommu_addr_width(tree.sysfs, bdf);
		tap_check(t, ret == cases[i].ret, "IOMMU cap '%s' -> address width %d",
			  cases[i].cap ? cases[i].cap : "(none)", ret);
	}
	tap_check(t, vfiofd_sysfs_iommu_addr_width(tree.sysfs, "0000:0b:00") == -EINVAL,
		  "a malformed address is refused");
}

static void
test_parsers(struct tap *t)
{
	static const struct {
		const char *s;
		int ok;
		unsigned int ma, mi;
	} devs[] = {
		{ "0:0", 1, 0, 0 }, { "4095:1048575", 1, 4095, 1048575 }, { "511:3", 1, 511, 3 },
		{ "4096:0", 0, 0, 0 }, { "0:1048576", 0, 0, 0 }, { "", 0, 0, 0 }, { ":", 0, 0, 0 },
		{ "1:", 0, 0, 0 }, { " 1:2", 0, 0, 0 }, { "1:2 ", 0, 0, 0 }, { "1:+2", 0, 0, 0 },
		{ "0x1:2", 0, 0, 0 }, { "18446744073709551617:1", 0, 0, 0 },
	};
	static const struct {
		const char *s;
		uint64_t max;
		int ok;
		uint64_t v;
	} hexes[] = {
		{ "0x0", 0xffff, 1, 0 }, { "0XFFFF", 0xffff, 1, 0xffff },
		{ "0xffffffff", ~0u, 1, ~0u },
		{ "0xffffffffffffffff", UINT64_MAX, 1, UINT64_MAX },
		{ "0x00000000febf1000", UINT64_MAX, 1, 0xfebf1000 },
		{ "0x1ffffffffffffffff", UINT64_MAX, 0, 0 },
		{ "0x100000000", ~0u, 0, 0 }, { "0x", 0xffff, 0, 0 }, { "x12", 0xffff, 0, 0 },
		{ "0x12g", 0xffff, 0, 0 }, { "0x10000", 0xffff, 0, 0 },
	};
	static const struct {
		const char *s;
		int ok;
		long v;
	} ints[] = {
		{ "0", 1, 0 }, { "-1", 1, -1 }, { "1023", 1, 1023 }, { "1024", 0, 0 },
		{ "-", 0, 0 },
		{ "--1", 0, 0 }, { "12345678901", 0, 0 }, { "1e3", 0, 0 }, { "", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		unsigned int ma = 9, mi = 9;
		int ret = vfiofd_sysfs_parse_dev_t(devs[i].s, &ma, &mi);

		tap_check(t, devs[i].ok ? (ret == 0 && ma == devs[i].ma && mi == devs[i].mi) :
			  ret == -EBADMSG, "dev_t '%s' %s", devs[i].s,
			  devs[i].ok ? "ok" : "refused");
	}
	for (size_t i = 0; i < sizeof(hexes) / sizeof(hexes[0]); i++) {
		uint64_t v = 7;
		int ret = vfiofd_sysfs_parse_hex(hexes[i].s, hexes[i].max, &v);

		tap_check(t, hexes[i].ok ? (ret == 0 && v == hexes[i].v) : ret == -EBADMSG,
			  "hex '%s' %s", hexes[i].s, hexes[i].ok ? "ok" : "refused");
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		long v = 7;
		int ret = vfiofd_sysfs_parse_int(ints[i].s, -1, 1023, &v);

		tap_check(t, ints[i].ok ? (ret == 0 && v == ints[i].v) : ret == -EBADMSG,
			  "int '%s' %s", ints[i].s, ints[i].ok ? "ok" : "refused");
	}
	tap_check(t, vfiofd_pci_addr_valid("0000:01:00.0") && !vfiofd_pci_addr_valid("01:00.0") &&
		  !vfiofd_pci_addr_valid("0000:01:00.8"), "vfiofd_pci_addr_valid");
}

/* The PCI view's extras: BAR addresses from "resource", VFs from "sriov_numvfs". */
static void
test_resource(struct tap *t)
{
	/* an e1000e's, as 6.12 writes it: BAR0, BAR1, I/O BAR2, BAR3, then ROM and others */
	static const char good[] =
		"0x00000000fe800000 0x00000000fe81ffff 0x0000000000040200\n"
		"0x00000000fe820000 0x00000000fe83ffff 0x0000000000040200\n"
		"0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
		"0x00000000fe840000 0x00000000fe843fff 0x0000000000040200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x00000000fe780000 0x00000000fe7fffff 0x0000000000046200\n";
	static const char *const bad[] = {
		"0x1 0x2 0x3\n",                                     /* too few lines */
		"0x1 0x2\n0x1 0x2\n0x1 0x2\n0x1 0x2\n0x1 0x2\n0x1 0x2\n", /* two fields */
		"0x1 0x2 0x3 0x4\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n"
		"0x1 0x2 0x3\n",                                     /* four fields */
		"0x2 0x1 0x0\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n"
		"0x1 0x2 0x3\n",                                     /* end below start */
		"0x1  0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n0x1 0x2 0x3\n"
		"0x1 0x2 0x3\n",                                     /* empty field */
		"",
	};
	uint64_t bars[VFIOFD_SYSFS_NUM_BARS];
	int ret;

	tap_check(t, fake_attr_write(&tree, "0000:01:00.0", "resource", good,
				     sizeof(good) - 1) == 0, "resource attribute written");
	ret = vfiofd_sysfs_bar_start(tree.sysfs, "0000:01:00.0", bars);
	tap_check(t, ret == 0 && bars[0] == 0xfe800000 && bars[2] == 0xc000 &&
		  bars[3] == 0xfe840000 && bars[4] == 0 && bars[5] == 0,
		  "BAR addresses 0x%" PRIx64 " ... 0x%" PRIx64 " (%s)", bars[0], bars[3],
		  strerror(-ret));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake_attr_write(&tree, "0000:01:00.0", "resource", bad[i], strlen(bad[i]));
		ret = vfiofd_sysfs_bar_start(tree.sysfs, "0000:01:00.0", bars);
		tap_check(t, ret == -EBADMSG, "malformed resource %zu refused (%d)", i, ret);
	}
	tap_check(t, vfiofd_sysfs_bar_start(tree.sysfs, "0000:09:00.0", bars) == -ENOENT,
		  "resource of a missing device: ENOENT");

	tap_check(t, vfiofd_sysfs_sriov_numvfs(tree.sysfs, "0000:01:00.0") == 0,
		  "no sriov_numvfs: 0 VFs");
	fake_attr_write(&tree, "0000:01:00.0", "sriov_numvfs", "2\n", 2);
	tap_check(t, vfiofd_sysfs_sriov_numvfs(tree.sysfs, "0000:01:00.0") == 2, "2 VFs");
	fake_attr_write(&tree, "0000:01:00.0", "sriov_numvfs", "-1\n", 3);
	tap_check(t, vfiofd_sysfs_sriov_numvfs(tree.sysfs, "0000:01:00.0") == -EBADMSG,
		  "negative sriov_numvfs refused");
	fake_attr_write(&tree, "0000:01:00.0", "sriov_numvfs", "0\n", 2);
}

/*
 * What vfio_cdev_open() holds once open, against what sysfs said: a node replaced after
 * the scan checked it (stat) and before the bus opened it must be refused. /dev/null
 * (1:3) and /dev/zero (1:5) stand for cdevs, as the only nodes that open anywhere.
 */
static void
test_cdev_open(struct tap *t)
{
	struct fake_dev d = fake_dev_good("0000:0a:00.0", 90, MAJ);
	struct vfiofd_cdev_id id = { .major = 0 };
	char path[PATH_MAX + 32];
	int fd, ret;

	ret = fake_dev_add(&tree, &d);
	if (ret == 0)
		ret = find("0000:0a:00.0", &id);
	tap_check(t, ret == 0, "cdev vfio90 found as %u:%u (%s)", id.major, id.minor,
		  strerror(-ret));
	/* the swap: after the check, before the open */
	unlink(id.path);
	tap_check(t, mknod(id.path, S_IFCHR | 0600, makedev(1, 3)) == 0,
		  "node replaced by /dev/null's 1:3 after the check");
	fd = vfio_cdev_open(id.path, id.major, id.minor);
	tap_check(t, fd == -ESTALE, "open of the swapped node refused (%d: %s)", fd,
		  fd < 0 ? strerror(-fd) : "an fd on /dev/null");
	if (fd >= 0)
		close(fd);

	/* the right device opens; a neighbour's number or another kind of file does not */
	fd = vfio_cdev_open(id.path, 1, 3);
	tap_check(t, fd >= 0, "the node sysfs names (1:3) opens (%d)", fd);
	if (fd >= 0) {
		tap_check(t, (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "  with FD_CLOEXEC");
		close(fd);
	}
	fd = vfio_cdev_open(id.path, 1, 5);
	tap_check(t, fd == -ESTALE, "1:3 opened where 1:5 is expected: refused (%d)", fd);
	unlink(id.path);
	tap_check(t, symlink("/dev/zero", id.path) == 0, "node replaced by a symlink");
	fd = vfio_cdev_open(id.path, 1, 3);
	tap_check(t, fd == -ESTALE, "symlink to /dev/zero (1:5) where 1:3 is expected: "
		  "refused (%d)", fd);
	unlink(id.path);
	tap_check(t, mkfifo(id.path, 0600) == 0, "node replaced by a FIFO");
	fd = vfio_cdev_open(id.path, 0, 0);
	tap_check(t, fd == -ESTALE, "FIFO refused, even as 0:0 (%d)", fd);
	unlink(id.path);
	snprintf(path, sizeof(path), "%s/nonexistent", tree.dev);
	ret = vfio_cdev_open(path, 1, 3);
	tap_check(t, ret == -ENOENT, "missing node: -ENOENT (%d)", ret);
}

int
main(void)
{
	struct tap t = { 0 };
	int ret;

	if (geteuid() != 0) {
		printf("# needs root (mknod)\n");
		return 77;
	}
	ret = fake_tree_create(&tree);
	if (!tap_check(&t, ret == 0, "fake tree in %s (%s)", tree.root, strerror(-ret)))
		return tap_done(&t);
	test_good(&t);
	test_noiommu_cdev(&t);
	test_cdev_defects(&t);
	test_tree_defects(&t);
	test_ids(&t);
	test_numa(&t);
	test_iommu_width(&t);
	test_parsers(&t);
	test_resource(&t);
	test_cdev_open(&t);
	fake_tree_destroy(&tree);
	return tap_done(&t);
}
