/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Setting a device up for a driver, and taking it down again:
 *
 *   memory library reference (iommufd + default IOAS) -> cdev open -> BIND_IOMMUFD
 *   (vfio-pci resets the function here) -> [private IOAS] -> ATTACH_IOMMUFD_PT ->
 *   rte_iommufd_mem_attached() -> GET_INFO -> regions (config, BARs, mmap) ->
 *   command register (memory, I/O, master) -> interrupt handle -> request notifier
 *
 * A no-IOMMU device (noiommu=1) on Linux before 7.3 is opened through its group instead
 * of cdev, BIND and ATTACH; the rest is the same. From 7.3 its cdev (noiommu-vfioN)
 * takes the same steps as any other, in the memory library's no-IOMMU cdev mode.
 *
 * vfiofd_dev_close() undoes whatever part of that is done, in reverse, so it is both
 * the error path of vfiofd_dev_open() and the remove path: every resource has a
 * "nothing" value in struct vfiofd_device, set by vfiofd_dev_init_state().
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/pci_regs.h>

#include <rte_eal.h>

#include "rte_iommufd_mem.h"
#include "private.h"
#include "vfio_cdev.h"
#include "vfio_device.h"
#include "vfiofd_sysfs.h"
#include "vfio_noiommu.h"

void
vfiofd_dev_init_state(struct vfiofd_device *d)
{
	d->devfd = -1;
	d->nio_container = -1;
	d->nio_group = -1;
	d->mem_ref = false;
	d->devid = 0;
	d->ioas_id = 0;
	d->hwpt_id = 0;
	d->ioas_private = false;
	d->attached = false;
	memset(&d->info, 0, sizeof(d->info));
	d->cfg_info = NULL;
	memset(d->regions, 0, sizeof(d->regions));
	memset(d->pub.regions, 0, sizeof(d->pub.regions));
	memset(d->bar_va, 0, sizeof(d->bar_va));
	d->has_msix = false;
	d->do_reset = false;
	d->intr_index = VFIO_PCI_NUM_IRQS;
	d->intr_efd = -1;
	d->intr_enabled = false;
	d->pub.intr_handle = NULL;
	d->pub.intr_vectors = 0;
	d->req_handle = NULL;
}

static const char *
iommufd_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return ": the kernel has no iommufd (CONFIG_IOMMUFD) or it is not loaded "
		       "(modprobe iommufd)";
	case -EACCES:
	case -EPERM:
		return ": no permission (run as root, or give the user access to it)";
	case -ENOTTY:
	case -EINVAL:
		return ": that is not an iommufd character device";
	default:
		return "";
	}
}

static const char *
bind_hint(int err)
{
	switch (err) {
	case -EBUSY:
		return ": the device is in use through the VFIO group interface (DPDK's "
		       "bus/pci, QEMU or another process has its /dev/vfio/<group> open)";
	case -EPERM:
		return ": the IOMMU does not remap interrupts, so iommufd refuses the device "
		       "(enable interrupt remapping; iommufd.allow_unsafe_interrupts=1 only "
		       "if you accept the risk)";
	case -EINVAL:
		/* vfio_df_open(): a cdev file may not open a device that is open already */
		return ": the device is already in use through another open file of its VFIO "
		       "cdev (the kernel lets one file at a time bind a device cdev; stop the "
		       "other user first)";
	default:
		return "";
	}
}

/* Does process @pid (its /proc/<pid>/fd at @fd_dir) hold character device @rdev open
 * in a file other than @skip_fd? */
static bool
proc_holds(const char *fd_dir, dev_t rdev, int skip_fd)
{
	struct dirent *f;
	bool holds = false;
	DIR *fds = opendir(fd_dir);

	if (fds == NULL)
		return false;
	while (!holds && (f = readdir(fds)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (f->d_name[0] == '.' || atoi(f->d_name) == skip_fd)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fd_dir, f->d_name);
		/* stat() follows the fd's link to the file without opening it */
		holds = stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == rdev;
	}
	closedir(fds);
	return holds;
}

/*
 * Who else has the device cdev open, for the message when BIND_IOMMUFD finds the device
 * taken: "; its cdev is also open in pid 1234 (testpmd)", up to three processes, from
 * /proc/<pid>/fd (only those this process may inspect: all of them as root). The
 * kernel does not say which opener bound it; an application that holds the cdev open
 * is named all the same. Our own file, @self_fd, is left out. Empty if none is seen.
 */
static void
cdev_openers(const struct vfiofd_device *d, int self_fd, char *buf, size_t len)
{
	const dev_t rdev = makedev(d->cdev_major, d->cdev_minor);
	const pid_t self = getpid();
	unsigned int found = 0, more = 0;
	struct dirent *p;
	size_t n = 0;
	DIR *proc;

	buf[0] = '\0';
	proc = opendir("/proc");
	if (proc == NULL)
		return;
	while ((p = readdir(proc)) != NULL) {
		char dir[64], comm[32] = "?";
		char *end;
		long pid = strtol(p->d_name, &end, 10);
		FILE *f;
		int w;

		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(dir, sizeof(dir), "/proc/%ld/fd", pid);
		if (!proc_holds(dir, rdev, pid == self ? self_fd : -1))
			continue;
		if (found == 3) {
			more++;
			continue;
		}
		snprintf(dir, sizeof(dir), "/proc/%ld/comm", pid);
		f = fopen(dir, "re");
		if (f != NULL) {
			if (fgets(comm, sizeof(comm), f) != NULL)
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		w = snprintf(buf + n, len - n, "%s pid %ld (%s%s)",
			     found == 0 ? "; its cdev is also open in" : ",", pid, comm,
			     pid == self ? ", this process" : "");
		if (w < 0 || (size_t)w >= len - n)
			break;
		n += (size_t)w;
		found++;
	}
	closedir(proc);
	if (more > 0 && n < len)
		snprintf(buf + n, len - n, " and %u more", more);
}

static const char *
noiommu_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return ": no /dev/vfio/vfio or no group node (a kernel without the VFIO group "
		       "interface, or the device has an IOMMU after all)";
	case -EBUSY:
		return ": the group is in use (DPDK's bus/pci, QEMU or another process has it "
		       "open) or not viable (another device of the group has a host driver)";
	case -EOPNOTSUPP:
		return ": the VFIO container offers no no-IOMMU backend (CONFIG_VFIO_NOIOMMU, "
		       "vfio.enable_unsafe_noiommu_mode=1)";
	default:
		return "";
	}
}

/*
 * The no-IOMMU path: Linux 6.12 makes no cdev for such a device and refuses to bind it
 * to an iommufd, so it is opened through its group and a container set to
 * VFIO_NOIOMMU_IOMMU (lib/iommufd_mem's fallback). The device fd is then used exactly
 * like a cdev's; there is nothing to bind or attach, and DMA uses physical addresses.
 */
static int
dev_open_noiommu(struct vfiofd_device *d, const char *sysfs, const char *devroot)
{
	struct vfio_noiommu_dev nd;
	int group, ret;

	/* sysfs again: the device may have been rebound since the scan */
	group = vfiofd_sysfs_iommu_group(sysfs, d->pub.name);
	if (group != d->iommu_group) {
		VFIOFD_DEV_LOG(ERR, d, "its IOMMU group changed since the scan (%d, was %d)",
			       group, d->iommu_group);
		return -ENODEV;
	}
	ret = vfio_noiommu_open(devroot, group, d->pub.name, &nd);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot open it through %s/vfio/noiommu-%d: %s%s",
			       devroot, group, strerror(-ret), noiommu_hint(ret));
		return ret;
	}
	d->devfd = nd.device;
	d->nio_container = nd.container;
	d->nio_group = nd.group;
	return 0;
}

/*
 * A secondary process: the primary's device fd and iommufd (vfiofd_mp.c), the memory
 * library in secondary mode, then only what reads the device: info, regions and BAR
 * mappings. The command register, resets, interrupts and the request notifier are the
 * primary's: the handle has type RTE_INTR_HANDLE_UNKNOWN (as intr=none).
 */
static int
dev_open_secondary(struct vfiofd_device *d)
{
	struct rte_iommufd_mem_conf conf;
	bool translated = false;
	int iommufd = -1, devfd = -1, ret;

	ret = vfiofd_mp_get_fds(d, &iommufd, &devfd, &translated);
	if (ret < 0)
		return ret;
	d->devfd = devfd;
	d->secondary = true;
	if (translated) {
		close(iommufd);
		VFIOFD_DEV_LOG(ERR, d, "the primary maps DPDK memory at IOVAs other than its "
			       "addresses (translated IOVAs, or its IOMMU's ranges forced it): "
			       "a secondary process cannot know them");
		ret = -ENOTSUP;
		goto fail;
	}
	memset(&conf, 0, sizeof(conf));
	conf.secondary = true;
	conf.iommufd = iommufd; /* the library owns it now */
	ret = rte_iommufd_mem_init(&conf);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "the memory library cannot run in this secondary "
			       "process: %s", strerror(-ret));
		goto fail;
	}
	d->mem_ref = true;
	ret = vfio_device_get_info(d->devfd, &d->info);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_GET_INFO failed: %s", strerror(-ret));
		goto fail;
	}
	ret = vfiofd_regions_setup(d);
	if (ret < 0)
		goto fail;
	d->opts.intr = VFIOFD_OPT_INTR_NONE;
	ret = vfiofd_intr_setup(d);
	if (ret < 0)
		goto fail;
	VFIOFD_DEV_LOG(DEBUG, d, "set up in a secondary process on the primary's fds");
	return 0;
fail:
	vfiofd_dev_close(d);
	return ret;
}

int
vfiofd_dev_open(struct vfiofd_device *d, uint32_t drv_flags)
{
	const char *sysfs = vfiofd_sysfs_root(), *devroot = vfiofd_dev_root();
	struct rte_iommufd_mem_conf conf;
	struct vfiofd_cdev_id cdev;
	char iommu_path[PATH_MAX];
	int ret;

	if (sysfs == NULL || devroot == NULL)
		return -EINVAL;
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return dev_open_secondary(d);
	snprintf(iommu_path, sizeof(iommu_path), "%s/iommu", devroot);
	memset(&conf, 0, sizeof(conf));
	conf.iommufd_path = iommu_path;
	conf.noiommu = d->noiommu;
	conf.noiommu_cdev = d->noiommu_cdev;
	ret = rte_iommufd_mem_init(&conf);
	if (ret < 0) {
		if (d->noiommu)
			/* the library logged the precise reason just before */
			VFIOFD_DEV_LOG(ERR, d, "no-IOMMU device refused: the memory library "
				       "cannot run in no-IOMMU mode (%s; see above)",
				       strerror(-ret));
		else if (iommufd_hint(ret)[0] != '\0')
			VFIOFD_DEV_LOG(ERR, d, "cannot use %s: %s%s", iommu_path, strerror(-ret),
				       iommufd_hint(ret));
		else
			/* the library's line just before says which of its steps failed */
			VFIOFD_DEV_LOG(ERR, d, "the memory library cannot start on %s: %s (see "
				       "above)", iommu_path, strerror(-ret));
		goto fail;
	}
	d->mem_ref = true;

	if (d->noiommu && !d->noiommu_cdev) {
		ret = dev_open_noiommu(d, sysfs, devroot);
		if (ret < 0)
			goto fail;
		goto opened;
	}

	/* sysfs again: the device may have been unbound or rebound since the scan */
	ret = vfiofd_sysfs_find_cdev(sysfs, devroot, d->pub.name, &cdev);
	if (ret != 0) {
		VFIOFD_DEV_LOG(ERR, d, "%s (%s)", ret == -ENOENT || ret == -ENODEV ||
			       ret == -ENXIO ? "its VFIO device cdev is gone since the scan" :
			       "cannot find its VFIO device cdev through sysfs again",
			       strerror(-ret));
		goto fail;
	}
	ret = vfio_cdev_open(cdev.path, cdev.major, cdev.minor);
	if (ret == -ESTALE) {
		VFIOFD_DEV_LOG(ERR, d, "refused: %s is not its VFIO device cdev %u:%u once "
			       "opened (the node was replaced between the check and the open)",
			       cdev.path, cdev.major, cdev.minor);
		goto fail;
	} else if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot open %s: %s%s", cdev.path, strerror(-ret),
			       ret == -EPERM && d->noiommu_cdev ?
			       " (the kernel opens a no-IOMMU cdev only for CAP_SYS_RAWIO)" : "");
		goto fail;
	}
	d->devfd = ret;

	ret = vfio_cdev_bind_iommufd(d->devfd, rte_iommufd_mem_iommufd(), &d->devid);
	if (ret < 0) {
		char openers[256] = "";

		if (ret == -EINVAL)
			cdev_openers(d, d->devfd, openers, sizeof(openers));
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_BIND_IOMMUFD failed: %s%s%s", strerror(-ret),
			       bind_hint(ret), openers);
		goto fail;
	}

	if (d->opts.ioas == VFIOFD_OPT_IOAS_PRIVATE) {
		ret = rte_iommufd_mem_ioas_create(&d->ioas_id);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "cannot create a private IOAS: %s", strerror(-ret));
			goto fail;
		}
		d->ioas_private = true;
	} else {
		d->ioas_id = rte_iommufd_mem_default_ioas();
	}
	ret = vfio_cdev_attach_pt(d->devfd, d->ioas_id, &d->hwpt_id);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_ATTACH_IOMMUFD_PT to IOAS %u failed: %s%s",
			       d->ioas_id, strerror(-ret), ret == -ENOENT ?
			       " (the iommufd holds no such IOAS: it was destroyed)" : "");
		goto fail;
	}
	d->attached = true;
	ret = rte_iommufd_mem_attached(d->ioas_id, d->pub.name);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "IOAS %u cannot hold DPDK memory for it: %s%s",
			       d->ioas_id, strerror(-ret), ret == -ERANGE ?
			       " (its IOMMU's address range excludes memory already mapped at "
			       "IOVA == VA)" : "");
		goto fail;
	}

opened:
	ret = vfio_device_get_info(d->devfd, &d->info);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_GET_INFO failed: %s", strerror(-ret));
		goto fail;
	}
	if (!(d->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    d->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO does not present it as a PCI device (flags 0x%x, "
			       "%u regions)", d->info.flags, d->info.num_regions);
		ret = -ENODEV;
		goto fail;
	}

	/*
	 * No VFIO_DEVICE_RESET of our own: vfio-pci resets a function that supports it
	 * (that is what VFIO_DEVICE_FLAGS_RESET reports) when the device is first opened
	 * (vfio_pci_core_enable(), here inside BIND_IOMMUFD or GET_DEVICE_FD) and again at
	 * the last close. The device is thus fresh from a reset already, and a second
	 * function-level reset would only add its 100 ms wait (PCIe FLR) to every probe
	 * and every remove. do_reset records that the device gets those resets.
	 */
	d->do_reset = d->opts.reset && !(drv_flags & RTE_VFIOFD_DRV_NO_RESET) &&
		      (d->info.flags & VFIO_DEVICE_FLAGS_RESET);

	ret = vfiofd_regions_setup(d);
	if (ret < 0)
		goto fail;

	{
		uint16_t set = PCI_COMMAND_MEMORY;

		for (unsigned int i = 0; i < RTE_VFIOFD_NUM_BARS; i++)
			if (d->pub.regions[i].flags & RTE_VFIOFD_REGION_IO)
				set |= PCI_COMMAND_IO;
		if (!(drv_flags & RTE_VFIOFD_DRV_NO_BUS_MASTER))
			set |= PCI_COMMAND_MASTER;
		ret = vfiofd_config_update16(d, PCI_COMMAND, set, 0);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "cannot enable decoding and bus mastering in the "
				       "command register: %s", strerror(-ret));
			goto fail;
		}
	}

	ret = vfiofd_intr_setup(d);
	if (ret < 0)
		goto fail;
	ret = vfiofd_req_setup(d);
	if (ret < 0)
		goto fail;
	VFIOFD_DEV_LOG(DEBUG, d, "set up: %s devid %u, IOAS %u (%s), hwpt %u, %u regions, "
		       "%u irqs", d->cdev_path, d->devid, d->ioas_id,
		       d->ioas_private ? "private" : "default", d->hwpt_id, d->info.num_regions,
		       d->info.num_irqs);
	return 0;
fail:
	vfiofd_dev_close(d);
	return ret;
}

void
vfiofd_dev_close(struct vfiofd_device *d)
{
	int ret;

	vfiofd_req_teardown(d);
	vfiofd_intr_teardown(d);
	if (d->devfd >= 0 && d->cfg_info != NULL && !d->secondary && !d->revoked)
		/* stop DMA before the device leaves its address space (a secondary leaves
		 * the device to the primary, which keeps it running) */
		vfiofd_config_update16(d, PCI_COMMAND, 0, PCI_COMMAND_MASTER);
	vfiofd_regions_teardown(d);
	/* the reset at remove is vfio-pci's, at the close below (see vfiofd_dev_open()) */
	d->do_reset = false;
	if (d->attached && !d->revoked) {
		ret = vfio_cdev_detach_pt(d->devfd);
		if (ret < 0)
			VFIOFD_DEV_LOG(WARNING, d, "VFIO_DEVICE_DETACH_IOMMUFD_PT failed: %s",
				       strerror(-ret));
		d->attached = false;
	}
	if (d->ioas_private) {
		ret = rte_iommufd_mem_ioas_release(d->ioas_id);
		if (ret < 0)
			VFIOFD_DEV_LOG(WARNING, d, "cannot release private IOAS %u: %s",
				       d->ioas_id, strerror(-ret));
		d->ioas_private = false;
	}
	d->ioas_id = 0;
	d->hwpt_id = 0;
	if (d->nio_group >= 0) {
		struct vfio_noiommu_dev nd = {
			.container = d->nio_container, .group = d->nio_group, .device = d->devfd,
		};

		vfio_noiommu_close(&nd);
		d->nio_container = d->nio_group = d->devfd = -1;
	} else if (d->devfd >= 0) {
		close(d->devfd);
		d->devfd = -1;
	}
	d->devid = 0;
	d->secondary = false;
	d->revoked = false;
	memset(&d->info, 0, sizeof(d->info));
	if (d->mem_ref) {
		rte_iommufd_mem_fini();
		d->mem_ref = false;
	}
}

/*
 * The kernel takes the device back while its driver still has it (a hot-unplug the
 * application did not act on): release the device without touching what the driver
 * owns. Its queues, interrupt handle and port stay until the application removes the
 * device, and lcores may still be polling it, so nothing is freed or unmapped here:
 *
 * - the BARs become anonymous memory at the same addresses (vfiofd_regions_revoke());
 * - the device fd is replaced, under the same number, by /dev/null (dup3() swaps the
 *   file in one step): the device file is released (vfio-pci detaches it from the IOAS
 *   and stops its interrupts), while whoever still holds the number (the interrupt
 *   handle's dev_fd, through which DPDK's PCI accessors pread() config space) gets EOF
 *   or ENOTTY, never another file that reused the number.
 *
 * The kernel then completes the removal. Teardown later skips the device ioctls.
 * Called under the remove lock. Secondary processes hold their own copies of the fd
 * and must exit (or remove the device) for the release to complete.
 */
int
vfiofd_dev_revoke(struct vfiofd_device *d)
{
	int nullfd, ret;

	if (d->revoked || d->devfd < 0)
		return 0;
	ret = vfiofd_regions_revoke(d);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot put anonymous memory in place of its BARs: %s",
			       strerror(-ret));
		return ret;
	}
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0 || dup3(nullfd, d->devfd, O_CLOEXEC) < 0) {
		ret = -errno;
		VFIOFD_DEV_LOG(ERR, d, "cannot release its device fd: %s", strerror(-ret));
		if (nullfd >= 0)
			close(nullfd);
		return ret;
	}
	close(nullfd);
	d->revoked = true;
	d->attached = false;
	d->intr_enabled = false;
	return 0;
}
