/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "vfio_noiommu.h"

int
vfio_noiommu_mode_enabled(const char *sysfs_module_root)
{
	char path[PATH_MAX], c = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/vfio/parameters/enable_unsafe_noiommu_mode",
		 sysfs_module_root != NULL ? sysfs_module_root : "/sys/module");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == '1';
}

static int
open_node(const char *dev_root, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/vfio/%s", dev_root, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int
vfio_noiommu_open(const char *dev_root, int group_nr, const char *bdf,
		  struct vfio_noiommu_dev *out)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char name[32];
	int ret;

	out->container = out->group = out->device = -1;

	ret = open_node(dev_root, "vfio");
	if (ret < 0)
		goto fail;
	out->container = ret;
	if (ioctl(out->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ret = -EPROTO;
		goto fail;
	}
	if (ioctl(out->container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) <= 0) {
		ret = -EOPNOTSUPP;
		goto fail;
	}

	snprintf(name, sizeof(name), "noiommu-%d", group_nr);
	ret = open_node(dev_root, name);
	if (ret < 0)
		goto fail;
	out->group = ret;
	if (ioctl(out->group, VFIO_GROUP_GET_STATUS, &status) < 0) {
		ret = -errno;
		goto fail;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EBUSY;
		goto fail;
	}
	if (ioctl(out->group, VFIO_GROUP_SET_CONTAINER, &out->container) < 0 ||
	    ioctl(out->container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = ioctl(out->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (ret < 0) {
		ret = -errno;
		goto fail;
	}
	out->device = ret;
	return 0;
fail:
	vfio_noiommu_close(out);
	return ret;
}

void
vfio_noiommu_close(struct vfio_noiommu_dev *dev)
{
	/* Device first: the group cannot leave its container while a device is open. */
	if (dev->device >= 0)
		close(dev->device);
	if (dev->group >= 0)
		close(dev->group);
	if (dev->container >= 0)
		close(dev->container);
	dev->container = dev->group = dev->device = -1;
}
