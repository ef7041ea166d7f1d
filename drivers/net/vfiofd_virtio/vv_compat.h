/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The differences between the DPDK releases net_vfiofd_virtio builds against (22.11,
 * 24.11, 25.11) that its code meets, in one place, keyed on RTE_VERSION.
 */

#ifndef VV_COMPAT_H
#define VV_COMPAT_H

#include <rte_version.h>

/*
 * Per-queue basic statistics: up to 25.07 a driver's stats_get() fills the q_ipackets[]
 * ... arrays of struct rte_eth_stats; from 25.11 ethdev passes a struct eth_queue_stats
 * of its own as a third argument, NULL when the caller wants no per-queue figures.
 * VV_STATS_QSTATS_PARAM completes stats_get()'s parameter list; VV_STATS_QSTATS(st) is
 * where the per-queue arrays are (NULL: skip them).
 */
#if RTE_VERSION >= RTE_VERSION_NUM(25, 11, 0, 0)
#define VV_STATS_QSTATS_PARAM , struct eth_queue_stats *qstats
#define VV_STATS_QSTATS(st) (qstats)
#else
#define VV_STATS_QSTATS_PARAM
#define VV_STATS_QSTATS(st) (st)
#endif

#endif /* VV_COMPAT_H */
