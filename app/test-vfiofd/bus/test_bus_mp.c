/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process: a secondary process drives a device on the primary's fds.
 *
 *   mp --dev BDF (an e1000e) [--role primary|secondary]
 *
 * The primary (default role) starts its EAL with "-a vfiofd:BDF", checks the device is
 * probed, then runs this program again as a secondary process (same file prefix) and
 * waits for it. The secondary gets the device from the primary over DPDK's IPC (the
 * iommufd and the device fd, SCM_RIGHTS), then:
 *   - reads config space and BAR0 through its own mapping and through pread;
 *   - DMA through the primary's IOAS: a memzone (shared memory the primary mapped at
 *     IOVA == VA) becomes an e1000e transmit ring; one descriptor with RS set is
 *     queued, and the device reading it (TDH advances) and writing its status back
 *     (DD) are DMA in both directions;
 *   - writes a marker into RAL1, which the primary reads back after the secondary
 *     exited (one device, two processes);
 *   - removes the device at rte_eal_cleanup(): the primary's device keeps working.
 * The EAL arguments are built here (no --huge-unlink: secondaries need the files).
 *
 *   mp --dev BDF --race N
 *
 * The same two processes, but the secondary's request for the fds races the primary's
 * remove of the device, N rounds (test_bus_mp_race.c).
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memzone.h>

#include "rte_iommufd_mem.h"
#include "e1000e_tx.h"
#include "test_bus.h"

#define E1000_STATUS 0x0008
#define E1000_RAL1   0x5408
#define MARKER 0x5ec0dda7u

static void
secondary_dma(struct tap *t, struct rte_vfiofd_device *dev)
{
	const struct rte_memzone *mz;
	struct e1000e_tx_result res;
	rte_iova_t iova;

	mz = rte_memzone_reserve_aligned("vfiofd_mp_txring", 8192, SOCKET_ID_ANY, 0, 4096);
	if (!tap_check(t, mz != NULL, "secondary: memzone for a TX ring"))
		return;
	iova = rte_iommufd_mem_va2iova(mz->addr);
	tap_check(t, iova == (rte_iova_t)(uintptr_t)mz->addr && iova == mz->iova,
		  "secondary: IOVA of the ring 0x%" PRIx64 " == VA %p (memseg IOVA 0x%" PRIx64 ")",
		  iova, mz->addr, mz->iova);
	memset(mz->addr, 0, 8192);
	/* the frame in the memzone's second page */
	e1000e_tx_one(dev, mz->addr, iova, iova + 4096, &res);
	tap_check(t, res.tdh == 1, "secondary: the e1000e read the descriptor at IOVA 0x%"
		  PRIx64 " (DMA read, TDH %u)", iova, res.tdh);
	tap_check(t, res.dd, "secondary: ... and wrote its status back (DMA write: DD)");
	rte_memzone_free(mz);
}

/*
 * Start this program again as the secondary process of "mp" (with --race=@race when
 * @race > 0); its pid, or -1.
 */
pid_t
mp_spawn_secondary(const char *exe, const char *bdf, const char *prefix, unsigned int race)
{
	char d_opt[64], p_opt[96], r_opt[32];
	pid_t pid;

	snprintf(d_opt, sizeof(d_opt), "--dev=%s", bdf);
	snprintf(p_opt, sizeof(p_opt), "--prefix=%s", prefix);
	snprintf(r_opt, sizeof(r_opt), "--race=%u", race);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *sv[] = { (char *)(uintptr_t)exe, "mp", d_opt, "--role=secondary", p_opt,
			       race > 0 ? r_opt : NULL, NULL };

		execv(exe, sv);
		_exit(127);
	}
	return pid;
}

static int
run_secondary(const char *bdf, const char *prefix, bool race)
{
	char fp[80], allow[64];
	char *av[] = { "test-vfiofd-bus", "-l", "1", "--proc-type=secondary", fp,
		       "--log-level=bus.vfiofd:info", "--log-level=lib.iommufd_mem:info", "--no-pci",
		       "-a", allow, NULL };
	struct rte_vfiofd_device *dev;
	struct rte_iommufd_mem_stats st;
	struct tap t = { 0 };
	uint32_t a, b;
	int ret;

	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	snprintf(allow, sizeof(allow), "vfiofd:%s", bdf);
	tap_diag("---- secondary process ----");
	if (race && !mp_race_arm(&t, bdf))
		return tap_done(&t);
	ret = test_eal_init((int)RTE_DIM(av) - 1, av);
	if (race) {
		/* the device may or may not come up (the primary removed it meanwhile):
		 * only the files it was handed are judged */
		mp_race_report(&t, bdf, ret);
		if (ret >= 0)
			rte_eal_cleanup();
		return tap_done(&t);
	}
	if (!tap_check(&t, ret >= 0, "secondary: rte_eal_init (%d)", ret))
		return tap_done(&t);
	tap_check(&t, rte_eal_process_type() == RTE_PROC_SECONDARY, "secondary: process type");
	dev = vfiofd_dev(bdf);
	if (!tap_check(&t, dev != NULL && dev->driver != NULL && test_drv.ndevs == 1,
		       "secondary: %s probed on the primary's fds (config space read by the "
		       "test driver)", bdf))
		goto out;
	tap_check(&t, rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_IOMMUFD &&
		  rte_iommufd_mem_iommufd() >= 0 && rte_iommufd_mem_default_ioas() == 0,
		  "secondary: memory library on the primary's iommufd (fd %d), no IOAS of its own",
		  rte_iommufd_mem_iommufd());
	a = e1000e_rd32(dev, E1000_STATUS);
	rte_vfiofd_region_pread(dev, 0, E1000_STATUS, &b, 4);
	tap_check(&t, (dev->regions[0].flags & RTE_VFIOFD_REGION_MAPPED) && a == b && a != 0 &&
		  a != ~0u, "secondary: BAR0 mapped, STATUS 0x%08x through the mapping and "
		  "pread", a);
	secondary_dma(&t, dev);
	e1000e_wr32(dev, E1000_RAL1, MARKER);
	rte_iommufd_mem_stats_get(&st);
	tap_check(&t, st.map_calls == 0 && st.ioas_count == 0,
		  "secondary: no map ioctl of its own (%" PRIu64 "), no IOAS (%u)", st.map_calls,
		  st.ioas_count);
out:
	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0 && test_drv.ndevs == 0, "secondary: rte_eal_cleanup (%d), "
		  "device removed here", ret);
	return tap_done(&t);
}

int
cmd_mp(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "role", required_argument, NULL, 'r' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "race", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bdf = NULL, *role = "primary", *prefix = "vfiofdmp";
	char fp[80], allow[64], exe[4096];
	unsigned int race = 0;
	char *av[] = { "test-vfiofd-bus", "-l", "0", "-m", "64", fp,
		       "--log-level=bus.vfiofd:info", "--no-pci", "-a", allow, NULL };
	struct rte_vfiofd_device *dev;
	struct tap t = { 0 };
	int c, ret, status = -1;
	ssize_t n;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bdf = optarg; break;
		case 'r': role = optarg; break;
		case 'p': prefix = optarg; break;
		case 'n': race = (unsigned int)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (bdf == NULL)
		return 2;
	log_capture_start();
	if (strcmp(role, "secondary") == 0)
		return run_secondary(bdf, prefix, race > 0);

	snprintf(fp, sizeof(fp), "--file-prefix=%s", prefix);
	snprintf(allow, sizeof(allow), "vfiofd:%s", bdf);
	ret = test_eal_init((int)RTE_DIM(av) - 1, av);
	if (!tap_check(&t, ret >= 0, "primary: rte_eal_init (%d)", ret))
		return tap_done(&t);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (!tap_check(&t, n > 0, "primary: own executable"))
		goto out;
	exe[n] = '\0';
	if (race > 0) {
		for (unsigned int r = 1; r <= race; r++)
			mp_race_round(&t, bdf, exe, prefix, r);
		goto out;
	}
	dev = vfiofd_dev(bdf);
	if (!tap_check(&t, dev != NULL && dev->driver != NULL, "primary: %s probed", bdf))
		goto out;
	e1000e_wr32(dev, E1000_RAL1, 0);
	pid = mp_spawn_secondary(exe, bdf, prefix, 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_diag("---- primary process ----");
	tap_check(&t, pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "primary: the secondary process passed (status 0x%x)", status);
	tap_check(&t, e1000e_rd32(dev, E1000_RAL1) == MARKER, "primary: reads the "
		  "secondary's marker in RAL1 (0x%08x)", e1000e_rd32(dev, E1000_RAL1));
	{
		uint16_t vendor = 0;

		tap_check(&t, rte_vfiofd_config_read(dev, 0, &vendor, 2) == 2 &&
			  vendor == dev->id.vendor_id &&
			  e1000e_rd32(dev, E1000_STATUS) != ~0u,
			  "primary: the device still works after the secondary removed it there");
	}
out:
	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0, "primary: rte_eal_cleanup (%d)", ret);
	return tap_done(&t);
}
