/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test-vfiofd-bus: the vfiofd bus under a real EAL.
 *
 *   test-vfiofd-bus <command> [options] [-- EAL arguments]
 *
 * Commands:
 *   scan     start the EAL and check what the bus (and bus/pci) scanned and probed,
 *            what was logged, telemetry, and that nothing is left after cleanup
 *   cycles   probe/remove one device many times; no fd, mapping or pin may leak
 *   hostile  refuse malformed devargs with a clear message and no partial state
 *   bar      BAR access through the mapping and through pread/pwrite, compared
 *   intr     real interrupts (e1000e): MSI-X (+ a queue vector), MSI, INTx
 *   coexist  the one-bus-per-device rule against DPDK's bus/pci
 *   hotunplug  kernel-initiated hot-unplug (QMP device_del from a host hook)
 *   sigbus     a faulting BAR load taken by the bus's SIGBUS handler
 *   mp       a secondary process drives a device on the primary's fds; with --race,
 *            its request for the fds races the primary's remove (test_bus_mp_race.c)
 *   stock    DPDK's PCI drivers on the bus: the PCI view a driver gets, a failing
 *            driver, refusals (test_bus_stock.c)
 *   dmafault an e1000e told to DMA from an unmapped IOVA (the test bed must notice)
 *   errno    the kernel's errno contracts met through the bus: a cdev another process
 *            holds, a device probed twice, a partial DMA unmap (test_bus_errno.c)
 *   faults   every call of the bus and the memory library failed in turn, in a probe
 *            and run-time memory registration (test_bus_faults.c, with LD_PRELOAD of
 *            libvfiofd_fault_preload.so)
 *
 * --no-test-driver (before the command) unregisters the test driver, so that the
 * e1000e and the virtio NICs go to DPDK's own PCI drivers ("cycles --driver").
 * Output is TAP-like ("ok"/"not ok" lines); the exit status is 0 only if every check
 * passed. This file holds main(), the shared helpers and "scan".
 */

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <bus_driver.h>
#include <rte_bus.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_log.h>

#include "rte_iommufd_mem.h"
#include "../proc_status.h"
#include "test_bus.h"

/* ---- log capture ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_len, log_cap;

static ssize_t
log_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	pthread_mutex_lock(&log_lock);
	if (log_len + size + 1 > log_cap) {
		size_t cap = (log_cap ? log_cap * 2 : 1 << 16) + size;
		char *nb = realloc(log_buf, cap);

		if (nb != NULL) {
			log_buf = nb;
			log_cap = cap;
		}
	}
	if (log_len + size + 1 <= log_cap) {
		memcpy(log_buf + log_len, buf, size);
		log_len += size;
		log_buf[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_lock);
	fwrite(buf, 1, size, stdout);
	fflush(stdout);
	return (ssize_t)size;
}

void
log_capture_start(void)
{
	static cookie_io_functions_t io = { .write = log_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (f != NULL) {
		setvbuf(f, NULL, _IOLBF, 0);
		rte_openlog_stream(f);
	}
}

size_t
log_mark(void)
{
	size_t m;

	pthread_mutex_lock(&log_lock);
	m = log_len;
	pthread_mutex_unlock(&log_lock);
	return m;
}

bool
log_seen(size_t mark, const char *needle)
{
	bool seen;

	fflush(rte_log_get_stream());
	pthread_mutex_lock(&log_lock);
	seen = log_buf != NULL && mark <= log_len && strstr(log_buf + mark, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return seen;
}

bool
log_line_seen(size_t mark, const char *a, const char *b)
{
	bool seen = false;

	fflush(rte_log_get_stream());
	pthread_mutex_lock(&log_lock);
	for (const char *l = log_buf != NULL && mark <= log_len ? log_buf + mark : NULL;
	     l != NULL && *l != '\0' && !seen; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl != NULL ? (size_t)(nl - l) : strlen(l);
		const char *pa = memmem(l, len, a, strlen(a));

		seen = pa != NULL && memmem(l, len, b, strlen(b)) != NULL;
		l = nl != NULL ? nl + 1 : NULL;
	}
	pthread_mutex_unlock(&log_lock);
	return seen;
}

/* ---- resources ---- */

void
res_get(struct res *r)
{
	struct rte_devargs *da;
	struct dirent *de;
	char line[512];
	DIR *d;
	FILE *f;

	memset(r, 0, sizeof(*r));
	d = opendir("/proc/self/fd");
	while (d != NULL && (de = readdir(d)) != NULL) {
		char path[300], target[256];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		r->fds++;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "/dev/vfio/devices/", 18) == 0 ||
		    strcmp(target, "/dev/iommu") == 0 || strstr(target, "iommufd") != NULL)
			r->vfio_fds++;
		/* the EAL's own /dev/vfio/vfio container is not counted: it opens it anyway */
		if (strncmp(target, "/dev/vfio/noiommu-", 18) == 0 ||
		    strcmp(target, "anon_inode:[vfio-device]") == 0)
			r->noiommu_fds++;
	}
	if (d != NULL) {
		closedir(d);
		r->fds--; /* the directory's own fd */
	}
	f = fopen("/proc/self/maps", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strchr(line, '\n') != NULL)
			r->maps++;
	if (f != NULL)
		fclose(f);
	r->vmpin_kb = proc_status_kb("VmPin:");
	RTE_EAL_DEVARGS_FOREACH("vfiofd", da)
		r->devargs++;
}

void
res_diag(const char *what, const struct res *r)
{
	tap_diag("%s: %ld fds (%ld vfio/iommufd, %ld no-IOMMU group/device), %ld mappings, "
		 "VmPin %ld kB, %ld vfiofd devargs", what, r->fds, r->vfio_fds, r->noiommu_fds,
		 r->maps, r->vmpin_kb, r->devargs);
}

/* ---- EAL and devices ---- */

int
test_eal_init(int argc, char **argv)
{
	char **av = calloc((size_t)argc + 4, sizeof(*av));
	char prefix[64];
	bool has_prefix = false;
	int n = 0, ret;

	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--file-prefix", 13) == 0)
			has_prefix = true;
	snprintf(prefix, sizeof(prefix), "--file-prefix=vfiofdbus%d", (int)getpid());
	av[n++] = argv[0];
	if (!has_prefix)
		av[n++] = prefix;
	for (int i = 1; i < argc; i++)
		av[n++] = argv[i];
	tap_diag("EAL arguments:%s%s", has_prefix ? "" : " ", has_prefix ? "" : prefix);
	for (int i = 1; i < argc; i++)
		tap_diag("  %s", argv[i]);
	ret = rte_eal_init(n, av);
	/* the EAL keeps pointers into av */
	return ret;
}

static int
cmp_name(const struct rte_device *dev, const void *name)
{
	return strcmp(rte_dev_name(dev), name);
}

struct rte_vfiofd_device *
vfiofd_dev(const char *bdf)
{
	struct rte_bus *bus = rte_bus_find_by_name(RTE_BUS_VFIOFD_NAME);
	struct rte_device *dev;

	if (bus == NULL)
		return NULL;
	dev = bus->find_device(NULL, cmp_name, bdf);
	return dev != NULL ? RTE_DEV_TO_VFIOFD(dev) : NULL;
}

struct rte_device *
pci_dev(const char *bdf)
{
	struct rte_bus *bus = rte_bus_find_by_name("pci");

	return bus != NULL ? bus->find_device(NULL, cmp_name, bdf) : NULL;
}

int
list_count(const char *list)
{
	int n = 0;

	if (list == NULL || list[0] == '\0' || strcmp(list, "none") == 0)
		return 0;
	for (const char *p = list; p != NULL; p = strchr(p, ','), p = p ? p + 1 : NULL)
		n++;
	return n;
}

bool
list_item(const char *list, int i, char *out, size_t len)
{
	const char *p = list;
	size_t n;

	if (i >= list_count(list))
		return false;
	while (i-- > 0)
		p = strchr(p, ',') + 1;
	n = strcspn(p, ",");
	if (n >= len)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

bool
list_has(const char *list, const char *item)
{
	char buf[64];

	for (int i = 0; list_item(list, i, buf, sizeof(buf)); i++)
		if (strcmp(buf, item) == 0)
			return true;
	return false;
}

void
split_args(int argc, char **argv, int *opt_argc, char ***eal_argv, int *eal_argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	*opt_argc = i;
	if (i < argc) {
		/* reuse the "--" slot for argv[0] */
		argv[i] = argv[0];
		*eal_argv = &argv[i];
		*eal_argc = argc - i;
	} else {
		*eal_argv = argv;
		*eal_argc = 1;
	}
}

bool
dev_only_args(int argc, char **argv, const char **dev, int *eal_argc, char ***eal_argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int opt_argc, c;

	*dev = NULL;
	split_args(argc, argv, &opt_argc, eal_argv, eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd')
			return false;
		*dev = optarg;
	}
	return *dev != NULL;
}

int
any_device(const struct rte_device *dev, const void *arg)
{
	(void)dev;
	(void)arg;
	return 0;
}

/* ---- telemetry client ---- */

static int
tel_query(int fd, const char *cmd, char *buf, size_t len)
{
	ssize_t n;

	if (send(fd, cmd, strlen(cmd), 0) < 0)
		return -errno;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static void
check_telemetry(struct tap *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[16384];
	int fd, ret;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/dpdk_telemetry.v2",
		 rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	if (!tap_check(t, ret == 0, "telemetry socket %s (%s)", sun.sun_path, strerror(-ret))) {
		close(fd);
		return;
	}
	recv(fd, buf, sizeof(buf) - 1, 0); /* the greeting */
	ret = tel_query(fd, "/vfiofd/list", buf, sizeof(buf));
	tap_diag("telemetry /vfiofd/list: %s", buf);
	tap_check(t, ret == 0 && strstr(buf, "\"/vfiofd/list\"") != NULL, "/vfiofd/list answers");
	{
		struct rte_bus *bus = rte_bus_find_by_name(RTE_BUS_VFIOFD_NAME);
		struct rte_device *dev = NULL;
		char cmd[96], want[128];

		/* every probed device, whoever drives it: vfiofd's test driver, or a DPDK PCI
		 * driver (--no-test-driver) */
		while ((dev = bus->find_device(dev, any_device, NULL)) != NULL) {
			const struct rte_vfiofd_device *d = RTE_DEV_TO_VFIOFD(dev);
			char info[16384];

			if (!rte_dev_is_probed(dev))
				continue;
			tap_check(t, strstr(buf, d->name) != NULL, "/vfiofd/list has %s", d->name);
			snprintf(cmd, sizeof(cmd), "/vfiofd/info,%s", d->name);
			ret = tel_query(fd, cmd, info, sizeof(info));
			tap_diag("telemetry %s: %s", cmd, info);
			snprintf(want, sizeof(want), "\"driver\":\"%s\",\"driver_kind\":\"%s\"",
				 rte_driver_name(rte_dev_driver(dev)), d->driver != NULL ? "vfiofd" :
				 "pci");
			tap_check(t, ret == 0 && strstr(info, "\"probed\":1") != NULL &&
				  strstr(info, "\"ioas\":") != NULL && strstr(info, want) != NULL,
				  "/vfiofd/info,%s: probed (%s), has an IOAS", d->name, want);
		}
		ret = tel_query(fd, "/vfiofd/info,0000:ff:1f.7", buf, sizeof(buf));
		tap_check(t, ret == 0 && strstr(buf, "null") != NULL,
			  "/vfiofd/info of an unknown device answers null: %s", buf);
		ret = tel_query(fd, "/vfiofd/info,../../x", buf, sizeof(buf));
		tap_check(t, ret == 0 && strstr(buf, "null") != NULL,
			  "/vfiofd/info of garbage answers null: %s", buf);
	}
	close(fd);
}

/* ---- scan ---- */

int
cmd_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expect-devices", required_argument, NULL, 'd' },
		{ "expect-probed", required_argument, NULL, 'p' },
		{ "expect-pci-probed", required_argument, NULL, 'P' },
		{ "expect-log", required_argument, NULL, 'l' },
		{ "expect-no-log", required_argument, NULL, 'n' },
		{ "expect-init-fail", no_argument, NULL, 'f' },
		{ "expect-iova", required_argument, NULL, 'i' },
		{ "telemetry", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *devices = NULL, *probed = NULL, *pci_probed = NULL, *iova = NULL;
	const char *logs[16], *nologs[16];
	int nlogs = 0, nnologs = 0, opt_argc, eal_argc, c, ret;
	int nprobed = 0; /* devices on bus vfiofd probed, by any driver */
	bool init_fail = false, telemetry = false, noiommu = false;
	struct tap t = { 0 };
	struct rte_bus *bus;
	struct rte_device *dev;
	char **eal_argv;
	struct res r;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': devices = optarg; break;
		case 'p': probed = optarg; break;
		case 'P': pci_probed = optarg; break;
		case 'l': if (nlogs < 16) logs[nlogs++] = optarg; break;
		case 'n': if (nnologs < 16) nologs[nnologs++] = optarg; break;
		case 'f': init_fail = true; break;
		case 'i': iova = optarg; break;
		case 't': telemetry = true; break;
		default: return 2;
		}
	}

	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (init_fail) {
		tap_check(&t, ret < 0, "rte_eal_init refused (%d)", ret);
	} else if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret)) {
		for (int i = 0; i < nlogs; i++)
			tap_check(&t, log_seen(0, logs[i]), "logged: %s", logs[i]);
		return tap_done(&t);
	}
	for (int i = 0; i < nlogs; i++)
		tap_check(&t, log_seen(0, logs[i]), "logged: %s", logs[i]);
	for (int i = 0; i < nnologs; i++)
		tap_check(&t, !log_seen(0, nologs[i]), "not logged: %s", nologs[i]);
	if (init_fail)
		return tap_done(&t);

	bus = rte_bus_find_by_name(RTE_BUS_VFIOFD_NAME);
	if (!tap_check(&t, bus != NULL, "bus vfiofd registered"))
		return tap_done(&t);
	{
		int ndev = 0;

		for (dev = NULL; (dev = bus->find_device(dev, any_device, NULL)) != NULL;) {
			bool p = rte_dev_is_probed(dev);

			tap_diag("vfiofd device %s%s", rte_dev_name(dev), p ? " (probed)" : "");
			ndev++;
			nprobed += p;
			if (devices != NULL)
				tap_check(&t, list_has(devices, rte_dev_name(dev)),
					  "%s expected on the bus", rte_dev_name(dev));
			if (probed != NULL)
				tap_check(&t, p == list_has(probed, rte_dev_name(dev)),
					  "%s %sprobed, as expected", rte_dev_name(dev),
					  p ? "" : "not ");
		}
		if (devices != NULL)
			tap_check(&t, ndev == list_count(devices), "%d device(s) on bus vfiofd "
				  "(expected %d: %s)", ndev, list_count(devices), devices);
		/* the test driver's, or DPDK PCI drivers' (--no-test-driver) */
		if (probed != NULL)
			tap_check(&t, nprobed == list_count(probed) &&
				  (test_drv.ndevs == (unsigned int)nprobed || test_drv.ndevs == 0),
				  "%d device(s) probed (expected %d: %s)", nprobed,
				  list_count(probed), probed);
	}
	if (pci_probed != NULL) {
		struct rte_bus *pci = rte_bus_find_by_name("pci");
		int n = 0;

		for (dev = NULL; pci != NULL &&
		     (dev = pci->find_device(dev, any_device, NULL)) != NULL;) {
			if (!rte_dev_is_probed(dev))
				continue;
			tap_diag("bus pci probed %s (driver %s)", rte_dev_name(dev),
				 rte_driver_name(rte_dev_driver(dev)));
			tap_check(&t, list_has(pci_probed, rte_dev_name(dev)),
				  "bus pci probed %s, as expected", rte_dev_name(dev));
			tap_check(&t, vfiofd_dev(rte_dev_name(dev)) == NULL ||
				  !rte_dev_is_probed(&vfiofd_dev(rte_dev_name(dev))->device),
				  "%s is not also probed by vfiofd", rte_dev_name(dev));
			n++;
		}
		tap_check(&t, n == list_count(pci_probed), "%d device(s) probed by bus pci "
			  "(expected %d: %s)", n, list_count(pci_probed), pci_probed);
	}
	if (iova != NULL) {
		enum rte_iova_mode m = rte_eal_iova_mode();

		tap_check(&t, strcmp(iova, m == RTE_IOVA_VA ? "va" : m == RTE_IOVA_PA ? "pa" : "dc")
			  == 0, "IOVA mode %s", iova);
	}
	for (unsigned int i = 0; i < test_drv.ndevs; i++) {
		struct rte_vfiofd_device *d = test_drv.devs[i];
		uint32_t word;
		ssize_t n = -EINVAL;

		for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS && n < 0; b++)
			if (d->regions[b].flags & RTE_VFIOFD_REGION_MAPPED)
				n = rte_vfiofd_region_read(d, b, 0, &word, sizeof(word));
		tap_check(&t, n == sizeof(word), "%s: a mapped BAR reads (%zd)", d->name, n);
	}
	if (telemetry)
		check_telemetry(&t);
	res_get(&r);
	res_diag("after init", &r);
	/* one cdev per probed device, plus the iommufd if any: a failed probe left none */
	/* (a no-IOMMU cdev of Linux 7.3+ counts as any cdev: it has an iommufd) */
	noiommu = rte_iommufd_mem_mode() == RTE_IOMMUFD_MEM_MODE_NOIOMMU &&
		  rte_iommufd_mem_iommufd() < 0;
	if (noiommu)
		/* no-IOMMU group path: a group and a device fd each (the container is the
		 * EAL's too) */
		tap_check(&t, r.vfio_fds == 0 && r.noiommu_fds == 2 * (long)nprobed,
			  "no-IOMMU: %ld group/device fd(s) open for %d probed device(s), %ld "
			  "cdev/iommufd", r.noiommu_fds, nprobed, r.vfio_fds);
	else
		tap_check(&t, r.vfio_fds == (long)nprobed + (nprobed > 0),
			  "%ld vfio/iommufd fd(s) open for %d probed device(s)", r.vfio_fds,
			  nprobed);
	if (nprobed == 0)
		tap_check(&t, r.vmpin_kb == 0, "nothing pinned without a device (%ld kB)",
			  r.vmpin_kb);

	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0, "rte_eal_cleanup (%d)", ret);
	res_get(&r);
	res_diag("after cleanup", &r);
	/* (bus/pci keeps a VFIO device fd of its own after cleanup: count ours only when
	 * vfiofd ran in no-IOMMU mode, with bus/pci off) */
	tap_check(&t, r.vfio_fds == 0 && (!noiommu || r.noiommu_fds == 0) && r.vmpin_kb == 0,
		  "after cleanup: no vfio/iommufd fd (%ld), no no-IOMMU fd (%ld), nothing pinned "
		  "(%ld kB)", r.vfio_fds, noiommu ? r.noiommu_fds : 0, r.vmpin_kb);
	tap_check(&t, test_drv.ndevs == 0, "the driver saw every device removed");
	return tap_done(&t);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "scan", cmd_scan }, { "cycles", cmd_cycles }, { "hostile", cmd_hostile },
		{ "bar", cmd_bar }, { "intr", cmd_intr }, { "coexist", cmd_coexist },
		{ "hotunplug", cmd_hotunplug }, { "sigbus", cmd_sigbus }, { "mp", cmd_mp }, { "stock", cmd_stock },
		{ "dmafault", cmd_dmafault }, { "errno", cmd_errno }, { "faults", cmd_faults },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* without the test driver, the e1000e and virtio NICs go to DPDK's PCI drivers */
	if (argc >= 2 && strcmp(argv[1], "--no-test-driver") == 0) {
		rte_vfiofd_unregister(&test_vfiofd_driver);
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc >= 2)
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s [--no-test-driver] scan|cycles|hostile|bar|intr|coexist|"
		"hotunplug|sigbus|mp|stock|dmafault|errno|faults [options] [-- EAL arguments]\n",
		argv[0]);
	return 2;
}
