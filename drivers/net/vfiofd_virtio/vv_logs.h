/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef VV_LOGS_H
#define VV_LOGS_H

#include <rte_log.h>

/* pmd.net.vfiofd_virtio, NOTICE by default (vv_ethdev.c) */
extern int vv_logtype;

#define VV_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vv_logtype, "vfiofd_virtio: " fmt "\n", ##__VA_ARGS__)

/* Every message about a device names it (its PCI address) first. */
#define VV_DEV_LOG(level, devname, fmt, ...) \
	VV_LOG(level, "%s: " fmt, (devname), ##__VA_ARGS__)

#endif /* VV_LOGS_H */
