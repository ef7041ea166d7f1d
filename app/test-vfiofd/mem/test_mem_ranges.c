/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/iommufd_mem on the host, against a pretend iommufd: how many IOVA ranges an IOAS
 * may have. The library reads them with IOMMU_IOAS_IOVA_RANGES; the kernel answers
 * -EMSGSIZE and the real count when the buffer is too small. This program defines
 * ioctl(): the library's calls bind to it ahead of the C library's, and it answers the
 * iommufd commands (type ';') as the kernel does, with as many ranges as a case asks
 * for; the DPDK memory lies in the last one. /dev/null stands for /dev/iommu. Every
 * other ioctl goes to the kernel.
 *
 * Cases: 40 ranges (more than any fixed table of 32), 1000, a count that grows at
 * every call, more than the library accepts, an empty range, and a private IOAS.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include <rte_eal.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "rte_iommufd_mem.h"
#include "ioctl_hook.h"
#include "host_eal.h"
#include "tap.h"

static struct {
	uint32_t nranges;       /* ranges the pretend kernel reports */
	uint32_t grow;          /* added to nranges after every IOVA_RANGES call */
	bool empty_range;       /* make range 0 empty (start > last) */
	uint32_t next_id;
	unsigned int range_calls, maps, maps_outside, unmaps;
} k;

/* Range i: 1 MiB slices low in the address space; the last one holds every VA above. */
static void
range_of(uint32_t i, uint32_t n, struct iommu_iova_range *r)
{
	if (i + 1 == n) {
		r->start = 1ull << 32;
		r->last = (1ull << 47) - 1;
		return;
	}
	r->start = (uint64_t)(i + 1) << 20;
	r->last = r->start + (1u << 19) - 1;
	if (i == 0 && k.empty_range)
		r->last = r->start - 1;
}

static bool
in_ranges(uint64_t iova, uint64_t len)
{
	for (uint32_t i = 0; i < k.nranges; i++) {
		struct iommu_iova_range r;

		range_of(i, k.nranges, &r);
		if (iova >= r.start && iova <= r.last && len - 1 <= r.last - iova)
			return true;
	}
	return false;
}

static int
fake_iommufd(unsigned long req, void *arg)
{
	switch (req) {
	case IOMMU_OPTION:
		return 0;
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = ++k.next_id;
		return 0;
	case IOMMU_DESTROY:
		return 0;
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges *c = arg;
		struct iommu_iova_range *out = (void *)(uintptr_t)c->allowed_iovas;
		uint32_t n = k.nranges, room = c->num_iovas;

		k.range_calls++;
		k.nranges += k.grow;
		for (uint32_t i = 0; i < n && i < room; i++)
			range_of(i, n, &out[i]);
		c->num_iovas = n;
		c->out_iova_alignment = 4096;
		if (n > room) {
			errno = EMSGSIZE;
			return -1;
		}
		return 0;
	}
	case IOMMU_IOAS_MAP: {
		struct iommu_ioas_map *c = arg;

		k.maps++;
		if (!(c->flags & IOMMU_IOAS_MAP_FIXED_IOVA))
			c->iova = 1ull << 40;
		if (!in_ranges(c->iova, c->length)) {
			k.maps_outside++;
			errno = EINVAL;
			return -1;
		}
		return 0;
	}
	case IOMMU_IOAS_UNMAP:
		k.unmaps++;
		return 0;
	default:
		errno = ENOTTY;   /* IOAS_MAP_FILE and the rest: a kernel without them */
		return -1;
	}
}

/* The iommufd commands are ours (only the library sends them); the rest, the kernel's. */
static int
fake_ioctl(int fd, unsigned long req, void *arg)
{
	(void)fd;
	return _IOC_TYPE(req) == IOMMUFD_TYPE ? fake_iommufd(req, arg) : IOCTL_HOOK_PASS;
}

IOCTL_HOOK(fake_ioctl)

static const struct rte_iommufd_mem_conf conf = { .iommufd_path = "/dev/null" };

static long
fd_count(void)
{
	long n = 0;

	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

int
main(int argc, char **argv)
{
	char *eal[] = { argv[0], "-l", "0", "--no-huge", "-m", "32", "--no-pci",
			"--iova-mode=va", "--file-prefix=vfiofd_mem_ranges", "--no-shconf", NULL };
	struct rte_iommufd_mem_stats st;
	struct tap t = { 0 };
	uint32_t ioas;
	long fds0;
	int ret;

	(void)argc;
	if (!host_eal_init(&t, (int)RTE_DIM(eal) - 1, eal))
		return tap_done(&t);
	rte_log_set_level_pattern("lib.iommufd_mem", RTE_LOG_DEBUG);
	fds0 = fd_count();

	/* 40 ranges, DPDK memory in the 40th: all must be read to map it at IOVA == VA */
	k.nranges = 40;
	ret = rte_iommufd_mem_init(&conf);
	tap_check(&t, ret == 0, "40 IOVA ranges: init (%d), %u IOVA_RANGES calls", ret,
		  k.range_calls);
	if (ret == 0) {
		ret = rte_iommufd_mem_attached(rte_iommufd_mem_default_ioas(), "fake0");
		rte_iommufd_mem_stats_get(&st);
		tap_check(&t, ret == 0 && k.maps > 0 && k.maps_outside == 0 &&
			  st.iova_translated == 0, "  memory mapped at IOVA == VA in range 40 "
			  "(%d; %u maps, %u outside, %" PRIu64 " bytes translated)", ret, k.maps,
			  k.maps_outside, st.iova_translated);

		/* a private IOAS with 1000 ranges */
		k.nranges = 1000;
		ret = rte_iommufd_mem_ioas_create(&ioas);
		tap_check(&t, ret == 0, "1000 IOVA ranges: private IOAS created (%d)", ret);
		if (ret == 0) {
			ret = rte_iommufd_mem_attached(ioas, "fake1");
			tap_check(&t, ret == 0 && k.maps_outside == 0, "  populated (%d)", ret);
			tap_check(&t, rte_iommufd_mem_ioas_release(ioas) == 0, "  released");
		}
		/* a count that changes at every call: a bounded number of tries */
		k.nranges = 20;
		k.grow = 20;
		k.range_calls = 0;
		ret = rte_iommufd_mem_ioas_create(&ioas);
		tap_check(&t, ret == -EMSGSIZE && k.range_calls <= 4, "a count growing at every "
			  "call: refused after %u calls (%d)", k.range_calls, ret);
		if (ret == 0)
			rte_iommufd_mem_ioas_release(ioas);
		k.grow = 0;
		/* more than the library accepts: refused, nothing allocated for it */
		k.nranges = 1u << 20;
		ret = rte_iommufd_mem_ioas_create(&ioas);
		tap_check(&t, ret == -E2BIG, "%u IOVA ranges: refused with a clear error (%d)",
			  k.nranges, ret);
		if (ret == 0)
			rte_iommufd_mem_ioas_release(ioas);
		/* an empty range */
		k.nranges = 40;
		k.empty_range = true;
		ret = rte_iommufd_mem_ioas_create(&ioas);
		tap_check(&t, ret == -EPROTO, "an empty range (start > last): refused (%d)", ret);
		if (ret == 0)
			rte_iommufd_mem_ioas_release(ioas);
		k.empty_range = false;
		rte_iommufd_mem_fini();
	}
	tap_check(&t, fd_count() == fds0, "no fd left behind (%ld, was %ld)", fd_count(), fds0);

	/* the same at init: more than the library accepts is a clean failure */
	k.nranges = 5000;
	ret = rte_iommufd_mem_init(&conf);
	tap_check(&t, ret == -E2BIG && rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NONE &&
		  fd_count() == fds0, "5000 IOVA ranges at init: refused (%d), nothing left open",
		  ret);
	if (ret == 0)
		rte_iommufd_mem_fini();
	rte_eal_cleanup();
	return tap_done(&t);
}
