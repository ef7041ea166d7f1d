/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process: a secondary's request for a device's fds racing the primary's remove.
 *
 *   mp --dev BDF --race N   (the "mp" command's processes, test_bus_mp.c)
 *
 * The primary answers a secondary on its IPC thread and sends the fds after it dropped
 * the bus's lock (vfiofd_mp.c). If it sent the device's own fd numbers, a remove on the
 * EAL thread in between could close them and another open reuse the numbers: the
 * secondary would get a stranger's file. This test makes that window certain rather
 * than rare: the test program defines rte_mp_reply() (the bus's call binds to it, ahead
 * of the EAL's) and, for the bus's reply, holds the IPC thread there while the main
 * thread unplugs the device and opens /dev/null until the freed numbers are taken; then
 * the real rte_mp_reply() sends. The secondary defines rte_mp_request_sync() the same
 * way and checks every fd the primary sends: the first must be /dev/iommu, the second
 * the device's cdev (its major:minor from sysfs). The bus must send copies made under
 * its lock, which the remove cannot close.
 *
 * Both hooks pass everything else through to the EAL's functions untouched.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <bus_driver.h>
#include <rte_eal.h>

#include "vfiofd_sysfs.h"
#include "test_bus.h"

#define MP_NAME "bus_vfiofd_mp"   /* the bus's action (vfiofd_mp.c) */
#define FILLERS 64

/* ---- primary: the reply hook ---- */

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cond = PTHREAD_COND_INITIALIZER;
static bool hook_armed, hook_inside, hook_release;

typedef int (*mp_reply_fn)(struct rte_mp_msg *msg, const char *peer);
typedef int (*mp_request_sync_fn)(struct rte_mp_msg *req, struct rte_mp_reply *reply,
				  const struct timespec *ts);

int
rte_mp_reply(struct rte_mp_msg *msg, const char *peer)
{
	static mp_reply_fn real;

	if (real == NULL)
		real = (mp_reply_fn)(uintptr_t)dlsym(RTLD_NEXT, "rte_mp_reply");
	pthread_mutex_lock(&hook_lock);
	if (hook_armed && strcmp(msg->name, MP_NAME) == 0) {
		hook_armed = false;
		hook_inside = true;
		pthread_cond_broadcast(&hook_cond);
		while (!hook_release)
			pthread_cond_wait(&hook_cond, &hook_lock);
		hook_inside = false;
	}
	pthread_mutex_unlock(&hook_lock);
	return real(msg, peer);
}

/* Wait up to @sec seconds for @flag under hook_lock. */
static bool
hook_wait(bool *flag, int sec)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += sec;
	pthread_mutex_lock(&hook_lock);
	while (!*flag && pthread_cond_timedwait(&hook_cond, &hook_lock, &ts) == 0)
		;
	ok = *flag;
	pthread_mutex_unlock(&hook_lock);
	return ok;
}

/* ---- secondary: the request hook ---- */

static bool check_fds;          /* the secondary checks what the primary sends */
static dev_t want_iommu, want_cdev;
static unsigned int fds_seen, fds_wrong;
static char fds_what[256];

static void
check_one(int fd, dev_t want, const char *what)
{
	struct stat st;
	size_t o = strlen(fds_what);

	fds_seen++;
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == want)
		return;
	fds_wrong++;
	snprintf(fds_what + o, sizeof(fds_what) - o, "%s%s: got %s %u:%u, want %u:%u",
		 o > 0 ? "; " : "", what, S_ISCHR(st.st_mode) ? "char device" : "no device",
		 major(st.st_rdev), minor(st.st_rdev), major(want), minor(want));
}

int
rte_mp_request_sync(struct rte_mp_msg *req, struct rte_mp_reply *reply,
		    const struct timespec *ts)
{
	static mp_request_sync_fn real;
	int ret;

	if (real == NULL)
		real = (mp_request_sync_fn)(uintptr_t)dlsym(RTLD_NEXT, "rte_mp_request_sync");
	ret = real(req, reply, ts);
	if (ret == 0 && check_fds && strcmp(req->name, MP_NAME) == 0) {
		for (int i = 0; i < reply->nb_received; i++) {
			const struct rte_mp_msg *m = &reply->msgs[i];

			if (m->num_fds > 0)
				check_one(m->fds[0], want_iommu, "iommufd");
			if (m->num_fds > 1)
				check_one(m->fds[1], want_cdev, "device fd");
		}
	}
	return ret;
}

/* ---- the two processes ---- */

static int
expected_devs(const char *bdf)
{
	struct vfiofd_cdev_id cdev;
	struct stat st;

	if (stat("/dev/iommu", &st) != 0 ||
	    vfiofd_sysfs_find_cdev(VFIOFD_SYSFS_PCI_DEVICES, VFIOFD_DEV_ROOT, bdf, &cdev) != 0)
		return -1;
	want_iommu = st.st_rdev;
	want_cdev = makedev(cdev.major, cdev.minor);
	return 0;
}

bool
mp_race_arm(struct tap *tp, const char *bdf)
{
	if (!tap_check(tp, expected_devs(bdf) == 0, "secondary: /dev/iommu and the cdev of %s",
		       bdf))
		return false;
	check_fds = true;
	return true;
}

void
mp_race_report(struct tap *tp, const char *bdf, int eal_ret)
{
	tap_diag("secondary: rte_eal_init %d, device %s", eal_ret,
		 vfiofd_dev(bdf) != NULL && vfiofd_dev(bdf)->driver != NULL ? "probed" :
		 "not probed");
	tap_check(tp, fds_seen == 2 && fds_wrong == 0,
		  "secondary: %u fds received from the primary, %u of them not what was asked "
		  "for%s%s", fds_seen, fds_wrong, fds_wrong ? ": " : "", fds_what);
}

/* Fds of this process open on /dev/iommu or a VFIO cdev, into @out; their count. */
static int
vfio_fds(int *out, int max)
{
	int n = 0;

	for (int fd = 0; fd < 1024 && n < max; fd++) {
		char link[64], target[256];
		ssize_t l;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		l = readlink(link, target, sizeof(target) - 1);
		if (l <= 0)
			continue;
		target[l] = '\0';
		if (strcmp(target, "/dev/iommu") == 0 ||
		    strncmp(target, "/dev/vfio/devices/", 18) == 0)
			out[n++] = fd;
	}
	return n;
}

static bool
is_devnull(int fd)
{
	char link[64], target[64];
	ssize_t l;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	l = readlink(link, target, sizeof(target) - 1);
	if (l <= 0)
		return false;
	target[l] = '\0';
	return strcmp(target, "/dev/null") == 0;
}

/* One round: a secondary asks, the device goes away before the answer is sent. */
void
mp_race_round(struct tap *t, const char *bdf, const char *exe, const char *prefix,
	      unsigned int r)
{
	char name[64];
	int before[8], nbefore, fillers[FILLERS], nfill = 0, reused = 0, status = -1;
	struct rte_vfiofd_device *dev = vfiofd_dev(bdf);
	pid_t pid;
	int ret;

	if (dev == NULL || dev->driver == NULL) {
		snprintf(name, sizeof(name), "vfiofd:%s", bdf);
		ret = rte_dev_probe(name);
		dev = vfiofd_dev(bdf);
		if (!tap_check(t, ret == 0 && dev != NULL && dev->driver != NULL,
			       "round %u: %s probed again (%d)", r, bdf, ret))
			return;
	}
	nbefore = vfio_fds(before, (int)RTE_DIM(before));
	pthread_mutex_lock(&hook_lock);
	hook_armed = true;
	hook_inside = hook_release = false;
	pthread_mutex_unlock(&hook_lock);

	pid = mp_spawn_secondary(exe, bdf, prefix, 1);
	if (!tap_check(t, pid > 0 && hook_wait(&hook_inside, 30),
		       "round %u: the primary is about to answer the secondary", r))
		goto release;
	/* the bus's own remove path, as a hot-unplug or rte_dev_remove() reaches it
	 * (without the EAL's multi-process detach, which would ask the secondary) */
	ret = dev->device.bus->unplug(&dev->device);
	tap_check(t, ret == 0, "round %u: device unplugged meanwhile (%d)", r, ret);
	while (nfill < FILLERS) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			break;
		fillers[nfill++] = fd;
	}
	for (int i = 0; i < nbefore; i++)
		reused += is_devnull(before[i]);
	tap_diag("round %u: %d of the %d fd numbers the device held now name /dev/null", r,
		 reused, nbefore);
release:
	pthread_mutex_lock(&hook_lock);
	hook_armed = false;
	hook_release = true;
	pthread_cond_broadcast(&hook_cond);
	pthread_mutex_unlock(&hook_lock);
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_check(t, pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "round %u: the secondary got the files it asked for (status 0x%x)", r, status);
	while (nfill > 0)
		close(fillers[--nfill]);
}
