/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/vfio.h>

#include "vfio_cdev.h"

int
vfio_cdev_open(const char *path, unsigned int major, unsigned int minor)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	/* the file we hold now, not the name: judged after the open, not before it */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != major ||
	    minor(st.st_rdev) != minor) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int
vfio_cdev_bind_iommufd(int devfd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd cmd = {
		.argsz = sizeof(cmd),
		.iommufd = iommufd,
	};

	if (ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &cmd) < 0)
		return -errno;
	if (devid != NULL)
		*devid = cmd.out_devid;
	return 0;
}

int
vfio_cdev_attach_pt(int devfd, uint32_t pt_id, uint32_t *hwpt_id)
{
	struct vfio_device_attach_iommufd_pt cmd = {
		.argsz = sizeof(cmd),
		.pt_id = pt_id,
	};

	if (ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd) < 0)
		return -errno;
	if (hwpt_id != NULL)
		*hwpt_id = cmd.pt_id;
	return 0;
}

int
vfio_cdev_detach_pt(int devfd)
{
	struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };

	return ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd) < 0 ? -errno : 0;
}
