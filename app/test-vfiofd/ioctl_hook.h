/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * For host tests that answer some ioctls themselves (a pretend kernel): IOCTL_HOOK(fn)
 * defines ioctl() in the test program, where it comes before the C library's for the
 * code linked in and for the project's shared libraries. fn(fd, request, arg) returns
 * the ioctl's result (-1 with errno set), or IOCTL_HOOK_PASS to let the kernel answer.
 */

#ifndef VFIOFD_IOCTL_HOOK_H
#define VFIOFD_IOCTL_HOOK_H

#include <limits.h>
#include <stdarg.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#define IOCTL_HOOK_PASS INT_MIN

#define IOCTL_HOOK(fn) \
int \
ioctl(int fd, unsigned long req, ...) \
{ \
	va_list ap; \
	void *arg; \
	int r; \
 \
	va_start(ap, req); \
	arg = va_arg(ap, void *); \
	va_end(ap); \
	r = fn(fd, req, arg); \
	return r != IOCTL_HOOK_PASS ? r : (int)syscall(SYS_ioctl, fd, req, arg); \
}

#endif /* VFIOFD_IOCTL_HOOK_H */
