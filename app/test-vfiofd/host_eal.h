/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL of a host test program that runs without devices: its output line-buffered
 * (TAP lines and DPDK's log interleave in order), rte_eal_init() with @argv (argv[0]
 * first, @argc entries) as the first check.
 */

#ifndef VFIOFD_HOST_EAL_H
#define VFIOFD_HOST_EAL_H

#include <stdbool.h>
#include <stdio.h>

#include <rte_eal.h>

#include "tap.h"

static inline bool
host_eal_init(struct tap *t, int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = rte_eal_init(argc, argv);
	return tap_check(t, ret >= 0, "rte_eal_init (%d)", ret);
}

#endif /* VFIOFD_HOST_EAL_H */
