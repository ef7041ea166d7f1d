/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Another process that holds a VFIO device cdev open and bound to an iommufd of its
 * own, for the tests of what the kernel and the bus answer meanwhile (errno_contracts).
 *
 * Start it before the caller has threads (before rte_eal_init()): the child then only
 * opens, binds, writes the result to a pipe and waits on another until the parent
 * closes it. Its exit closes the device file, which unbinds the device before the
 * parent's waitpid() returns (the file is released by the exiting task itself).
 */

#ifndef VFIOFD_CDEV_HOLDER_H
#define VFIOFD_CDEV_HOLDER_H

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "iommufd_uapi.h"
#include "vfio_cdev.h"

struct cdev_holder {
	pid_t pid;   /* the child, -1 when there is none */
	int release; /* write end of the pipe the child waits on: closing it releases */
};

/*
 * Let the child exit and reap it. Returns its wait status, or -1 if there was no
 * child.
 */
static inline int
cdev_holder_release(struct cdev_holder *h)
{
	int status = -1;

	if (h->pid <= 0)
		return -1;
	close(h->release);
	while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR)
		;
	h->pid = -1;
	h->release = -1;
	return status;
}

/*
 * Fork the holder of cdev @path (@major:@minor, as sysfs names it), bound to an iommufd
 * it opens at @iommu_path. Returns 0 once the child holds the device bound, or the
 * negative errno of the child's failed step (the child is then reaped already).
 */
static inline int
cdev_holder_start(struct cdev_holder *h, const char *iommu_path, const char *path,
		  unsigned int major, unsigned int minor)
{
	int ready[2], release[2], ret = -EPIPE;

	h->pid = -1;
	h->release = -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(release, O_CLOEXEC) < 0) {
		ret = -errno;
		close(ready[0]);
		close(ready[1]);
		return ret;
	}
	h->pid = fork();
	if (h->pid == 0) {
		int iommufd = iommufd_open(iommu_path), devfd = -1, r = 0;
		char c;

		close(ready[0]);
		close(release[1]);
		if (iommufd < 0)
			r = iommufd;
		if (r == 0) {
			devfd = vfio_cdev_open(path, major, minor);
			r = devfd < 0 ? devfd : 0;
		}
		if (r == 0)
			r = vfio_cdev_bind_iommufd(devfd, iommufd, NULL);
		if (write(ready[1], &r, sizeof(r)) == sizeof(r) && r == 0)
			/* held until the parent closes its end (or dies) */
			while (read(release[0], &c, 1) < 0 && errno == EINTR)
				;
		_exit(r == 0 ? 0 : 1);
	}
	if (h->pid < 0)
		ret = -errno;
	/* the child's ends: a child that dies before writing gives EOF, not a hang */
	close(ready[1]);
	close(release[0]);
	if (h->pid < 0) {
		close(release[1]);
	} else {
		h->release = release[1];
		if (read(ready[0], &ret, sizeof(ret)) != sizeof(ret))
			ret = -EPIPE;
	}
	close(ready[0]);
	if (ret != 0)
		cdev_holder_release(h);
	return ret;
}

#endif /* VFIOFD_CDEV_HOLDER_H */
