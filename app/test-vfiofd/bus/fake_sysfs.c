/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fake_sysfs.h"

static int
mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
write_file(const char *path, const char *value, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

int
fake_tree_create(struct fake_tree *t)
{
	char tmpl[] = "/tmp/vfiofd-fake-sysfs.XXXXXX";
	char path[PATH_MAX];

	if (mkdtemp(tmpl) == NULL)
		return -errno;
	snprintf(t->root, sizeof(t->root), "%s", tmpl);
	snprintf(t->sysfs, sizeof(t->sysfs), "%s/sys", tmpl);
	snprintf(t->dev, sizeof(t->dev), "%s/dev", tmpl);
	snprintf(path, sizeof(path), "%s/vfio/devices", t->dev);
	if (mkdir_p(t->sysfs) < 0 || mkdir_p(path) < 0)
		return -EIO;
	return 0;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
fake_tree_destroy(struct fake_tree *t)
{
	if (t->root[0] != '\0')
		nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	t->root[0] = '\0';
}

const char *
fake_path(struct fake_tree *t, const char *bdf, const char *rel, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s%s%s", t->sysfs, bdf, rel[0] ? "/" : "", rel);
	return buf;
}

int
fake_attr_write(struct fake_tree *t, const char *bdf, const char *attr, const char *value,
		size_t len)
{
	char path[PATH_MAX];

	return write_file(fake_path(t, bdf, attr, path), value, len);
}

static int
attr(struct fake_tree *t, const char *bdf, const char *name, const char *value)
{
	char buf[256];

	if (value == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%s\n", value);
	return fake_attr_write(t, bdf, name, buf, strlen(buf));
}

int
fake_dev_add(struct fake_tree *t, const struct fake_dev *d)
{
	char path[PATH_MAX], target[PATH_MAX];
	int ret;

	ret = mkdir_p(fake_path(t, d->bdf, "", path));
	if (ret < 0)
		return ret;
	if (attr(t, d->bdf, "vendor", d->vendor) || attr(t, d->bdf, "device", d->device) ||
	    attr(t, d->bdf, "subsystem_vendor", d->subsystem_vendor) ||
	    attr(t, d->bdf, "subsystem_device", d->subsystem_device) ||
	    attr(t, d->bdf, "class", d->klass) || attr(t, d->bdf, "numa_node", d->numa))
		return -EIO;
	if (d->driver != NULL) {
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", d->driver);
		if (symlink(target, fake_path(t, d->bdf, "driver", path)) < 0)
			return -errno;
	}
	if (d->group >= 0) {
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", d->group);
		if (symlink(target, fake_path(t, d->bdf, "iommu_group", path)) < 0)
			return -errno;
	}
	if (d->vfio_index >= 0) {
		/* Linux 7.3+ names a no-IOMMU device's cdev noiommu-vfioN */
		const char *pfx = d->noiommu_cdev ? "noiommu-" : "";
		char rel[64];

		snprintf(rel, sizeof(rel), "vfio-dev/%svfio%d", pfx, d->vfio_index);
		ret = mkdir_p(fake_path(t, d->bdf, rel, path));
		if (ret < 0)
			return ret;
		if (d->dev_attr != NULL) {
			snprintf(rel, sizeof(rel), "vfio-dev/%svfio%d/dev", pfx, d->vfio_index);
			if (attr(t, d->bdf, rel, d->dev_attr))
				return -EIO;
		}
		if (d->node_major >= 0) {
			snprintf(path, sizeof(path), "%s/vfio/devices/%svfio%d", t->dev, pfx,
				 d->vfio_index);
			unlink(path);
			if (mknod(path, S_IFCHR | 0600,
				  makedev((unsigned int)d->node_major,
					  (unsigned int)d->node_minor)) < 0)
				return -errno;
		}
	}
	return 0;
}

struct fake_dev
fake_dev_good(const char *bdf, int index, int major)
{
	static char devattr[16][32];
	struct fake_dev d = {
		.bdf = bdf,
		.vendor = "0x1af4", .device = "0x1041",
		.subsystem_vendor = "0x1af4", .subsystem_device = "0x1100",
		.klass = "0x020000", .numa = "0",
		.driver = "vfio-pci", .group = 7 + index,
		.vfio_index = index, .node_major = major, .node_minor = index,
	};

	snprintf(devattr[index & 15], sizeof(devattr[0]), "%d:%d", major, index);
	d.dev_attr = devattr[index & 15];
	return d;
}
