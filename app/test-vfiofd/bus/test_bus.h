/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test-vfiofd-bus: the vfiofd bus under a real EAL, with a tiny test driver.
 * Shared helpers of its sub-commands (test_bus*.c).
 */

#ifndef TEST_VFIOFD_BUS_H
#define TEST_VFIOFD_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <bus_vfiofd_driver.h>

#include "../tap.h"

/* The test driver (test_driver.c): matches virtio-net modern and e1000e. */
struct test_drv_state {
	unsigned int probes;      /* successful probes */
	unsigned int removes;
	int fail_probe;           /* != 0: probe returns this (negative) */
	struct rte_vfiofd_device *devs[16];
	unsigned int ndevs;
};
extern struct test_drv_state test_drv;
extern struct rte_vfiofd_driver test_vfiofd_driver;

/* Log capture: everything DPDK logs also goes to stdout. */
void log_capture_start(void);
size_t log_mark(void);
/* Non-zero if @needle was logged since @mark. */
bool log_seen(size_t mark, const char *needle);
/* True if one line logged since @mark holds both @a and @b. */
bool log_line_seen(size_t mark, const char *a, const char *b);

/* Process resources, for "nothing left behind". */
struct res {
	long fds;        /* entries in /proc/self/fd */
	long maps;       /* lines in /proc/self/maps */
	long vmpin_kb;   /* VmPin */
	long vfio_fds;   /* fds on cdevs (/dev/vfio/devices) or /dev/iommu */
	long noiommu_fds; /* no-IOMMU path: /dev/vfio/noiommu-N groups, group device fds */
	long devargs;    /* devargs of bus vfiofd */
};
void res_get(struct res *r);
void res_diag(const char *what, const struct res *r);

/*
 * rte_eal_init() with a unique --file-prefix (several EALs may run on a host at once)
 * and @argv (argv[0] included). Returns rte_eal_init()'s result.
 */
int test_eal_init(int argc, char **argv);

/* A find_device() comparison that matches every device. */
int any_device(const struct rte_device *dev, const void *arg);
/* The device @bdf on bus vfiofd, or NULL. */
struct rte_vfiofd_device *vfiofd_dev(const char *bdf);
/* The device @bdf on bus pci, or NULL. */
struct rte_device *pci_dev(const char *bdf);
/* Comma-separated list helpers: number of items, and item i into @out. */
int list_count(const char *list);
bool list_item(const char *list, int i, char *out, size_t len);
bool list_has(const char *list, const char *item);

/* Sub-commands: argc/argv are the sub-command's options, then "--" and the EAL's. */
int cmd_scan(int argc, char **argv);
int cmd_cycles(int argc, char **argv);
int cmd_hostile(int argc, char **argv);
int cmd_bar(int argc, char **argv);
int cmd_intr(int argc, char **argv);
int cmd_coexist(int argc, char **argv);
int cmd_hotunplug(int argc, char **argv);
int cmd_sigbus(int argc, char **argv);
int cmd_mp(int argc, char **argv);
int cmd_stock(int argc, char **argv);
int cmd_dmafault(int argc, char **argv);
int cmd_errno(int argc, char **argv);
int cmd_faults(int argc, char **argv);

/* "mp": the secondary process (test_bus_mp.c), and the race against remove of
 * "mp --race" (test_bus_mp_race.c). */
pid_t mp_spawn_secondary(const char *exe, const char *bdf, const char *prefix,
			 unsigned int race);
bool mp_race_arm(struct tap *t, const char *bdf);
void mp_race_report(struct tap *t, const char *bdf, int eal_ret);
void mp_race_round(struct tap *t, const char *bdf, const char *exe, const char *prefix,
		   unsigned int round);

/* Split argv at "--": the EAL gets argv[0] and what follows "--". */
void split_args(int argc, char **argv, int *opt_argc, char ***eal_argv, int *eal_argc);
/*
 * The arguments of a sub-command whose only option is --dev: *dev gets its value, the
 * EAL's arguments the rest (split_args()). false if --dev is missing or another option
 * is given.
 */
bool dev_only_args(int argc, char **argv, const char **dev, int *eal_argc, char ***eal_argv);

#endif /* TEST_VFIOFD_BUS_H */
