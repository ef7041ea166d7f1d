/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control interface of the user-space fault injector (fault_preload.c, loaded with
 * LD_PRELOAD). A program finds these functions with dlsym(RTLD_DEFAULT, ...): without
 * the preload they are not there.
 */

#ifndef VFIOFD_FAULT_PRELOAD_H
#define VFIOFD_FAULT_PRELOAD_H

#include <stdbool.h>

/* What happened while the injector was armed. */
struct vfiofd_fault_info {
	unsigned long calls;  /* calls counted (made from the watched objects) */
	bool fired;           /* the Nth was failed */
	char call[16];        /* its function: "ioctl", "malloc", ... */
	unsigned long arg;    /* the ioctl request, the size asked for, the open flags */
	char path[64];        /* what open/fopen/opendir named (its start) */
	void *caller;         /* the return address in the watched object */
	int err;              /* the errno it was failed with */
};

/*
 * Watch the executable mappings of the loaded objects whose path contains one of the
 * @n strings of @names. Returns how many objects matched.
 */
typedef int (*vfiofd_fault_watch_t)(const char *const *names, unsigned int n);
#define VFIOFD_FAULT_WATCH "vfiofd_fault_watch"

/* Count calls from the watched objects from now on, and fail the @nth (1-based). */
typedef void (*vfiofd_fault_arm_t)(unsigned long nth);
#define VFIOFD_FAULT_ARM "vfiofd_fault_arm"

/* The calls counted since vfiofd_fault_arm(), so far: where a sequence's steps begin. */
typedef unsigned long (*vfiofd_fault_calls_t)(void);
#define VFIOFD_FAULT_CALLS "vfiofd_fault_calls"

/* Stop counting; *info gets what happened since vfiofd_fault_arm(). */
typedef void (*vfiofd_fault_disarm_t)(struct vfiofd_fault_info *info);
#define VFIOFD_FAULT_DISARM "vfiofd_fault_disarm"

#endif /* VFIOFD_FAULT_PRELOAD_H */
