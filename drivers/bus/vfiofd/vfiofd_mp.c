/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process: a secondary process drives a device the primary probed, on the
 * primary's VFIO device fd and iommufd, which it receives over DPDK's IPC (rte_mp_*
 * with SCM_RIGHTS: the two fds fit in one message, the limit is 8).
 *
 * The device stays bound to the primary's iommufd and attached to its IOAS; the
 * primary keeps mapping all DPDK memory there, and that memory is shared with the
 * secondary at the same addresses, so DMA works from the secondary at IOVA == VA. The
 * secondary maps the BARs from its copy of the device fd, at the addresses the primary
 * mapped them (as bus/pci does: a PMD keeps BAR pointers, a doorbell's say, in shared
 * memory), and reads config space; it leaves the device's state (command register,
 * reset, interrupts, the request notifier) to the primary.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "rte_iommufd_mem.h"
#include "private.h"

#define VFIOFD_MP_NAME "bus_vfiofd_mp"
#define VFIOFD_MP_TIMEOUT_S 5

struct vfiofd_mp_param {
	char name[RTE_DEV_NAME_MAX_LEN]; /* the device */
	int32_t result;                  /* reply: 0 or a negative errno */
	uint8_t translated;              /* reply: the primary maps some IOVA != VA */
	uint64_t bar_va[RTE_VFIOFD_NUM_BARS]; /* reply: where the primary mapped them, 0 */
};

static bool mp_registered;

/*
 * Primary, on the IPC thread: the fds of a device it drives.
 *
 * The reply is sent after vfiofd_lock is dropped (sendmsg may block on a slow peer,
 * and the EAL thread must not wait on it), so what it carries must not depend on the
 * device staying there: a remove on the EAL thread may close the device fd, and the
 * memory library its iommufd, and the numbers be reused by whatever opens next. So the
 * fds are duplicated under the lock and the duplicates sent and closed here: the
 * secondary gets the files that were the device's when it asked, or an error, never
 * a stranger's file. Nothing of the device is read after the unlock either (the name in
 * the log lines is the request's).
 */
static int
mp_primary(const struct rte_mp_msg *msg, const void *peer)
{
	const struct vfiofd_mp_param *req = (const void *)msg->param;
	struct vfiofd_mp_param *rep;
	struct rte_iommufd_mem_stats st;
	struct rte_mp_msg reply;
	char name[RTE_DEV_NAME_MAX_LEN] = "";
	struct vfiofd_device *d;
	int ret;

	memset(&reply, 0, sizeof(reply));
	rte_strscpy(reply.name, VFIOFD_MP_NAME, sizeof(reply.name));
	reply.len_param = sizeof(*rep);
	rep = (struct vfiofd_mp_param *)reply.param;
	if (msg->len_param != sizeof(*req)) {
		rep->result = -EINVAL;
		return rte_mp_reply(&reply, peer);
	}
	memcpy(name, req->name, sizeof(name) - 1);
	rte_strscpy(rep->name, name, sizeof(rep->name));
	pthread_mutex_lock(&vfiofd_lock);
	d = vfiofd_find_by_name(name);
	if (d == NULL || d->devfd < 0 || d->pub.driver == NULL || d->revoked) {
		rep->result = -ENODEV;
	} else if (d->noiommu) {
		/* IOVA = PA: the secondary has no way to know the primary's view */
		rep->result = -ENOTSUP;
	} else {
		rte_iommufd_mem_stats_get(&st);
		/* With IOVA as PA every page sits at an IOVA other than its VA, but at
		 * the one its memseg records, which the secondary shares; only IOVAs
		 * the library picked (VA outside the ranges) are unknown there. */
		rep->translated = rte_iommufd_mem_translated() ||
				  (st.iova_translated > 0 && rte_eal_iova_mode() != RTE_IOVA_PA);
		for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++)
			rep->bar_va[bar] = (uintptr_t)d->pub.regions[bar].addr;
		reply.fds[0] = fcntl(rte_iommufd_mem_iommufd(), F_DUPFD_CLOEXEC, 0);
		reply.fds[1] = reply.fds[0] < 0 ? -1 : fcntl(d->devfd, F_DUPFD_CLOEXEC, 0);
		if (reply.fds[1] < 0) {
			rep->result = -errno;
			if (reply.fds[0] >= 0)
				close(reply.fds[0]);
			reply.fds[0] = -1;
		} else {
			reply.num_fds = 2;
			rep->result = 0;
		}
	}
	pthread_mutex_unlock(&vfiofd_lock);
	if (rep->result == 0)
		VFIOFD_LOG(INFO, "%s: device and iommufd handed to a secondary process", name);
	else
		VFIOFD_LOG(NOTICE, "%s: a secondary process asked for it: %s", name,
			   strerror(-rep->result));
	/* rte_mp_reply() sends copies of the fds (SCM_RIGHTS): ours are closed after */
	ret = rte_mp_reply(&reply, peer);
	for (int i = 0; i < reply.num_fds; i++)
		close(reply.fds[i]);
	return ret;
}

void
vfiofd_mp_init(void)
{
	if (mp_registered || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	if (rte_mp_action_register(VFIOFD_MP_NAME, mp_primary) == 0 || rte_errno == EEXIST)
		mp_registered = true;
	else if (rte_errno != ENOTSUP) /* ENOTSUP: --in-memory, no secondaries at all */
		VFIOFD_LOG(WARNING, "cannot serve secondary processes: %s",
			   strerror(rte_errno));
}

void
vfiofd_mp_fini(void)
{
	if (!mp_registered)
		return;
	rte_mp_action_unregister(VFIOFD_MP_NAME);
	mp_registered = false;
}

int
vfiofd_mp_get_fds(struct vfiofd_device *d, int *iommufd, int *devfd, bool *translated)
{
	struct timespec ts = { .tv_sec = VFIOFD_MP_TIMEOUT_S };
	struct rte_mp_reply mp_reply = { 0 };
	const struct vfiofd_mp_param *rep;
	struct vfiofd_mp_param *p;
	struct rte_mp_msg req, *r;
	int ret;

	memset(&req, 0, sizeof(req));
	rte_strscpy(req.name, VFIOFD_MP_NAME, sizeof(req.name));
	req.len_param = sizeof(*p);
	p = (struct vfiofd_mp_param *)req.param;
	rte_strscpy(p->name, d->pub.name, sizeof(p->name));
	if (rte_mp_request_sync(&req, &mp_reply, &ts) != 0 || mp_reply.nb_received != 1) {
		VFIOFD_DEV_LOG(ERR, d, "the primary process does not answer for it (%s)",
			       rte_errno != 0 ? strerror(rte_errno) : "no reply");
		free(mp_reply.msgs);
		return -EIO;
	}
	r = &mp_reply.msgs[0];
	rep = (const struct vfiofd_mp_param *)r->param;
	if (r->len_param != sizeof(*rep)) {
		ret = -EPROTO;
	} else if (rep->result < 0) {
		ret = rep->result;
	} else if (r->num_fds != 2) {
		ret = -EPROTO;
	} else {
		/* DPDK's IPC receives without MSG_CMSG_CLOEXEC: ours never leak into a child */
		for (int i = 0; i < 2; i++)
			fcntl(r->fds[i], F_SETFD, FD_CLOEXEC);
		*iommufd = r->fds[0];
		*devfd = r->fds[1];
		*translated = rep->translated != 0;
		for (unsigned int bar = 0; bar < RTE_VFIOFD_NUM_BARS; bar++)
			d->bar_va[bar] = (void *)(uintptr_t)rep->bar_va[bar];
		free(mp_reply.msgs);
		return 0;
	}
	for (int i = 0; i < r->num_fds; i++)
		close(r->fds[i]);
	VFIOFD_DEV_LOG(ERR, d, "the primary process cannot hand it over: %s%s", strerror(-ret),
		       ret == -ENODEV ? " (the primary has not probed it: probe it there "
		       "first)" : ret == -ENOTSUP ? " (a no-IOMMU device: secondary processes "
		       "are not supported)" : "");
	free(mp_reply.msgs);
	return ret;
}
