/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The differences between the DPDK releases (22.11, 24.11, 25.11) that the test
 * programs meet, in one place, keyed on RTE_VERSION.
 */

#ifndef TEST_VFIOFD_COMPAT_H
#define TEST_VFIOFD_COMPAT_H

#include <rte_version.h>

/*
 * struct rte_eth_stats carries per-queue arrays (q_ipackets[] ...) up to 25.07; from
 * 25.11 an application reads per-queue figures from xstats only.
 */
#define TEST_ETH_STATS_HAVE_QUEUES (RTE_VERSION < RTE_VERSION_NUM(25, 11, 0, 0))

#endif /* TEST_VFIOFD_COMPAT_H */
