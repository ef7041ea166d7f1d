/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfiofd-diag: can this machine run DPDK over VFIO cdevs and iommufd, and if not, what
 * exactly must be fixed? Checks the kernel interfaces (/dev/iommu, /dev/vfio/devices,
 * an active IOMMU with interrupt remapping), every network device's binding and cdev,
 * hugepages and RLIMIT_MEMLOCK, and prints one line per finding:
 *
 *   ok    <what>               nothing to do
 *   info  <what>               worth knowing
 *   FIX   <what>               followed by the commands that fix it
 *
 * Exit status: 0 if at least one device is ready for vfiofd and nothing blocks it,
 * 1 otherwise. No EAL, no device is opened beyond a harmless open of /dev/iommu.
 *
 * Usage: vfiofd-diag [--all] [--sysfs DIR] [--dev DIR] [BDF...]
 *   --all   every PCI device, not only network controllers (class 0x02)
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "vfiofd_sysfs.h"

static const char *sysfs_pci = VFIOFD_SYSFS_PCI_DEVICES;
static const char *dev_root = VFIOFD_DEV_ROOT;
static unsigned int fixes;

static void __attribute__((format(printf, 2, 3)))
say(const char *tag, const char *fmt, ...)
{
	va_list ap;

	printf("%-5s ", tag);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (strcmp(tag, "FIX") == 0)
		fixes++;
}

#define how(...) printf("        " __VA_ARGS__)

static bool
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok = f != NULL && fgets(buf, len, f) != NULL;

	if (f != NULL)
		fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static unsigned long
read_ulong(const char *path, int base)
{
	char buf[64];

	return read_line(path, buf, sizeof(buf)) ? strtoul(buf, NULL, base) : 0;
}

/* ---- the kernel ---- */

/* Intel VT-d extended capability: bit 3 = interrupt remapping. AMD: always with IOMMUv2. */
static void
check_iommu(bool *have_iommu)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/iommu");
	char path[512], ecap[64];
	unsigned int n = 0;

	*have_iommu = false;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/ecap", de->d_name);
		if (read_line(path, ecap, sizeof(ecap))) {
			bool ir = (strtoull(ecap, NULL, 16) >> 3) & 1;

			if (ir)
				say("ok", "IOMMU %s active, with interrupt remapping", de->d_name);
			else {
				say("FIX", "IOMMU %s has no interrupt remapping: VFIO_DEVICE_BIND_IOMMUFD fails with EPERM",
				    de->d_name);
				how("enable interrupt remapping (firmware; QEMU: -device intel-iommu,intremap=on),\n");
				how("or accept the risk: boot with iommufd.allow_unsafe_interrupts=1\n");
			}
		} else {
			say("ok", "IOMMU %s active", de->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	*have_iommu = n > 0;
	if (n == 0) {
		char mode[8];

		if (read_line("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", mode,
			      sizeof(mode)) && mode[0] == 'Y')
			say("info", "no IOMMU; vfio's unsafe no-IOMMU mode is on: devices can only be used through /dev/vfio/noiommu-N (IOVA = PA)");
		else {
			say("FIX", "no IOMMU is active: devices cannot be isolated");
			how("enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on (or amd_iommu=on)\n");
		}
	}
}

static void
check_dev_nodes(void)
{
	char path[512];
	struct stat st;
	bool cdevs;
	int fd;

	snprintf(path, sizeof(path), "%s/iommu", dev_root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		say("ok", "%s opens (iommufd)", path);
	} else if (errno == ENOENT) {
		say("FIX", "%s does not exist: the kernel lacks iommufd", path);
		how("use Linux 6.6+ with CONFIG_IOMMUFD=y (or: modprobe iommufd)\n");
	} else {
		say("FIX", "%s: %s", path, strerror(errno));
		how("run as root, or give the user read-write access to %s\n", path);
	}
	snprintf(path, sizeof(path), "%s/vfio/devices", dev_root);
	cdevs = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (cdevs)
		say("ok", "%s exists (VFIO device cdevs)", path);
	else {
		say("FIX", "%s does not exist: the kernel lacks VFIO device cdevs", path);
		how("use Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV=y and CONFIG_VFIO_PCI (modprobe vfio-pci)\n");
	}
	snprintf(path, sizeof(path), "%s/vfio/vfio", dev_root);
	if (stat(path, &st) == 0)
		say("info", "%s exists: the legacy group interface is there too (vfiofd does not need it)", path);
	else if (cdevs)
		say("info", "no %s: a cdev-only kernel (vfiofd does not need it)", path);
}

/* ---- devices ---- */

static bool
is_net(const char *bdf)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/class", sysfs_pci, bdf);
	return (read_ulong(path, 16) >> 16) == 0x02;
}

static bool
check_device(const char *bdf, bool have_iommu)
{
	struct vfiofd_cdev_id cdev;
	char path[512], drv[64];
	unsigned long ven, dev;
	int ret, group;

	snprintf(path, sizeof(path), "%s/%s/vendor", sysfs_pci, bdf);
	ven = read_ulong(path, 16);
	snprintf(path, sizeof(path), "%s/%s/device", sysfs_pci, bdf);
	dev = read_ulong(path, 16);
	ret = vfiofd_sysfs_driver(sysfs_pci, bdf, drv, sizeof(drv));
	if (ret < 0)
		snprintf(drv, sizeof(drv), "none");
	group = vfiofd_sysfs_iommu_group(sysfs_pci, bdf);

	if (strcmp(drv, "vfio-pci") != 0) {
		say("FIX", "%s %04lx:%04lx is bound to %s, not vfio-pci", bdf, ven, dev, drv);
		how("echo vfio-pci > %s/%s/driver_override\n", sysfs_pci, bdf);
		if (strcmp(drv, "none") != 0)
			how("echo %s > %s/%s/driver/unbind\n", bdf, sysfs_pci, bdf);
		how("echo %s > /sys/bus/pci/drivers_probe\n", bdf);
		return false;
	}
	ret = vfiofd_sysfs_find_cdev(sysfs_pci, dev_root, bdf, &cdev);
	switch (-ret) {
	case 0:
		say("ok", "%s %04lx:%04lx vfio-pci, %s (%u:%u), iommu_group %d: use -a vfiofd:%s",
		    bdf, ven, dev, cdev.path, cdev.major, cdev.minor, group, bdf);
		return have_iommu;
	case EOPNOTSUPP:
		say("info", "%s %04lx:%04lx vfio-pci without an IOMMU: no cdev exists (Linux creates none for no-IOMMU devices); usable only through %s/vfio/noiommu-%d (IOVA = PA)",
		    bdf, ven, dev, dev_root, group);
		return false;
	case ENODEV:
		say("FIX", "%s is bound to vfio-pci but has no vfio-dev/vfioN in sysfs", bdf);
		how("the kernel lacks CONFIG_VFIO_DEVICE_CDEV: use Linux 6.6+ built with it\n");
		return false;
	case ENXIO:
		say("FIX", "%s: sysfs names %s but the node is missing", bdf, cdev.name);
		how("is devtmpfs mounted on %s? (mount -t devtmpfs devtmpfs %s)\n", dev_root, dev_root);
		return false;
	case ESTALE:
		say("FIX", "%s: %s is not the character device %u:%u sysfs names", bdf, cdev.path,
		    cdev.major, cdev.minor);
		how("remove the stale node; devtmpfs recreates it\n");
		return false;
	default:
		say("FIX", "%s: cannot find its VFIO cdev: %s", bdf, strerror(-ret));
		return false;
	}
}

/* ---- memory ---- */

static uint64_t
check_hugepages(void)
{
	char path[512], line[512];
	struct dirent *de;
	uint64_t total = 0;
	bool mounted = false;
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	FILE *f;

	while (d != NULL && (de = readdir(d)) != NULL) {
		unsigned long kb, nr, fr;

		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/nr_hugepages", de->d_name);
		nr = read_ulong(path, 10);
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/free_hugepages", de->d_name);
		fr = read_ulong(path, 10);
		if (nr > 0)
			say("ok", "%lu x %lu kB hugepages reserved, %lu free", nr, kb, fr);
		total += (uint64_t)nr * kb * 1024;
	}
	if (d != NULL)
		closedir(d);
	if (total == 0) {
		say("FIX", "no hugepages are reserved");
		how("echo 512 > /proc/sys/vm/nr_hugepages   # 1 GiB of 2 MiB pages\n");
	}
	f = fopen("/proc/mounts", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char dev[128], mnt[256], type[64];

		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) == 3 &&
		    strcmp(type, "hugetlbfs") == 0) {
			say("ok", "hugetlbfs mounted at %s", mnt);
			mounted = true;
		}
	}
	if (f != NULL)
		fclose(f);
	if (!mounted) {
		say("FIX", "no hugetlbfs is mounted");
		how("mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages\n");
	}
	return total;
}

static void
check_memlock(uint64_t hugepage_bytes)
{
	struct rlimit rl;
	char line[256];
	bool ipc_lock = false;
	FILE *f = fopen("/proc/self/status", "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapEff:", 7) == 0)
			ipc_lock = (strtoull(line + 7, NULL, 16) >> 14) & 1;
	if (f != NULL)
		fclose(f);
	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (ipc_lock)
		say("ok", "CAP_IPC_LOCK: memory pinned for DMA is not limited by RLIMIT_MEMLOCK");
	else if (rl.rlim_cur == RLIM_INFINITY)
		say("ok", "RLIMIT_MEMLOCK is unlimited");
	else if (rl.rlim_cur < hugepage_bytes) {
		say("FIX", "RLIMIT_MEMLOCK is %" PRIu64 " KiB: too small to pin the %" PRIu64 " KiB of hugepages for DMA",
		    (uint64_t)rl.rlim_cur / 1024, hugepage_bytes / 1024);
		how("ulimit -l unlimited   (or LimitMEMLOCK=infinity in a systemd unit, or grant CAP_IPC_LOCK)\n");
	} else {
		say("ok", "RLIMIT_MEMLOCK %" PRIu64 " KiB covers the hugepages", (uint64_t)rl.rlim_cur / 1024);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "dev", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, have_iommu;
	unsigned int ready = 0, seen = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 's': sysfs_pci = optarg; break;
		case 'd': dev_root = optarg; break;
		default:
			fprintf(stderr, "usage: %s [--all] [--sysfs DIR] [--dev DIR] [BDF...]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	printf("== kernel\n");
	check_iommu(&have_iommu);
	check_dev_nodes();
	printf("== devices\n");
	if (optind < argc) {
		for (int i = optind; i < argc; i++, seen++) {
			if (!vfiofd_pci_addr_valid(argv[i])) {
				say("FIX", "'%s' is not a PCI address (expected dddd:bb:dd.f)", argv[i]);
				continue;
			}
			ready += check_device(argv[i], have_iommu);
		}
	} else {
		struct dirent **list;
		int n = scandir(sysfs_pci, &list, NULL, alphasort);

		for (int i = 0; i < n; i++) {
			if (vfiofd_pci_addr_valid(list[i]->d_name) && (all || is_net(list[i]->d_name))) {
				seen++;
				ready += check_device(list[i]->d_name, have_iommu);
			}
			free(list[i]);
		}
		if (n >= 0)
			free(list);
	}
	if (seen == 0)
		say("info", "no %sPCI device found", all ? "" : "network ");
	printf("== memory\n");
	check_memlock(check_hugepages());
	printf("== verdict: %u device(s) ready for vfiofd, %u thing(s) to fix\n", ready, fixes);
	return ready > 0 && fixes == 0 ? 0 : 1;
}
