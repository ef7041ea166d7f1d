/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The differences between the DPDK releases the bus builds against (22.11, 24.11,
 * 25.11) that its code meets, in one place, keyed on RTE_VERSION. The bus's code
 * calls the names below and never tests the version itself.
 */

#ifndef VFIOFD_COMPAT_H
#define VFIOFD_COMPAT_H

#include <rte_telemetry.h>
#include <rte_version.h>

/* 23.03 added rte_tel_data_add_dict_uint(); 23.11 deprecated _u64(), which 22.11 has. */
#if RTE_VERSION >= RTE_VERSION_NUM(23, 3, 0, 0)
#define vfiofd_tel_add_uint rte_tel_data_add_dict_uint
#else
#define vfiofd_tel_add_uint rte_tel_data_add_dict_u64
#endif

#endif /* VFIOFD_COMPAT_H */
