/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Linux scan: every PCI function in sysfs that is bound to vfio-pci and has a VFIO
 * device cdev (<sysfs>/<BDF>/vfio-dev/vfioN whose "dev" matches
 * /dev/vfio/devices/vfioN) becomes a device on the bus, subject to the allow/block lists.
 *
 * A function that is not usable is skipped with a DEBUG line, or with an ERROR that
 * names the device and the fix when the user allow-listed it. The roots can be
 * redirected (host tests): VFIOFD_SYSFS_PCI_DEVICES for /sys/bus/pci/devices,
 * VFIOFD_DEV_ROOT for /dev, except in a process that gained privileges at exec.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_devargs.h>
#include <rte_memory.h>
#include <rte_string_fns.h>

#include "../private.h"
#include "vfiofd_sysfs.h"

/* Long enough for any sane root, short enough that every path built from it fits. */
#define VFIOFD_ROOT_MAX 256

/*
 * The roots can be redirected for tests, in every build (the host tests run the
 * libraries that get installed), but only through secure_getenv(): a process that
 * gained privileges at exec (setuid, setgid, file capabilities: AT_SECURE) ignores the
 * variables, so that its caller cannot point the bus at files of its choosing. A
 * privileged process that really wants them has to be started by someone who already
 * holds those privileges, without that elevation.
 */
static const char *
root_from_env(const char *var, const char *def, bool *told)
{
	const char *v = secure_getenv(var);

	if (v == NULL && getenv(var) != NULL) {
		if (!*told)
			VFIOFD_LOG(WARNING, "%s ignored: this process runs with privileges it "
				   "gained at exec (setuid, setgid or file capabilities); using %s",
				   var, def);
		*told = true;
		return def;
	}
	if (v == NULL || v[0] == '\0')
		return def;
	if (v[0] != '/' || strnlen(v, VFIOFD_ROOT_MAX + 1) > VFIOFD_ROOT_MAX) {
		VFIOFD_LOG(ERR, "%s must be an absolute path of at most %d characters",
			   var, VFIOFD_ROOT_MAX);
		return NULL;
	}
	if (!*told)
		VFIOFD_LOG(INFO, "%s=%s: a test override of %s", var, v, def);
	*told = true;
	return v;
}

const char *
vfiofd_sysfs_root(void)
{
	static bool told;

	return root_from_env(VFIOFD_ENV_SYSFS, VFIOFD_SYSFS_PCI_DEVICES, &told);
}

const char *
vfiofd_dev_root(void)
{
	static bool told;

	return root_from_env(VFIOFD_ENV_DEV, VFIOFD_DEV_ROOT, &told);
}

/* The fix, as commands: bind the device to vfio-pci (unbinding it first if bound). */
static const char *
bind_fix(const char *sysfs, const char *bdf, bool bound, char *buf, size_t len)
{
	char unbind[PATH_MAX + 64] = "";

	if (bound)
		snprintf(unbind, sizeof(unbind), "echo %s > %s/%s/driver/unbind; ", bdf, sysfs,
			 bdf);
	snprintf(buf, len, "; to use it with vfiofd: echo vfio-pci > %s/%s/driver_override; "
		 "%secho %s > /sys/bus/pci/drivers_probe", sysfs, bdf, unbind, bdf);
	return buf;
}

/* Why the cdev of a vfio-pci device is unusable, from vfiofd_sysfs_find_cdev(). */
static const char *
cdev_error(int err)
{
	switch (err) {
	case -ENODEV:
		return "vfio-pci created no VFIO device cdev for it (a kernel without "
		       "CONFIG_VFIO_DEVICE_CDEV?)";
	case -EOPNOTSUPP:
		return "its VFIO device has no cdev, and no /dev/vfio/noiommu-N group node "
		       "either";
	case -EBADMSG:
		return "its sysfs vfio-dev entry is malformed (several vfioN, or a 'dev' "
		       "attribute that is not major:minor)";
	case -ENXIO:
		return "its /dev/vfio/devices node is missing (devtmpfs not mounted, or a "
		       "wrong VFIOFD_DEV_ROOT?)";
	case -ESTALE:
		return "its /dev/vfio/devices node is not the character device sysfs names "
		       "(a stale or forged /dev entry)";
	case -ENAMETOOLONG:
		return "its sysfs or /dev path is too long";
	default:
		return NULL;
	}
}

/*
 * A device vfio-pci runs in no-IOMMU mode: Linux 6.12 gives it no cdev, only the group
 * node <devroot>/vfio/noiommu-<group>. Fills @group and @path; 0 or a negative errno.
 */
static int
noiommu_group(const char *sysfs, const char *devroot, const char *bdf, int *group,
	      char *path, size_t len)
{
	struct stat st;
	int g = vfiofd_sysfs_iommu_group(sysfs, bdf);

	if (g < 0)
		return g;
	if ((size_t)snprintf(path, len, "%s/vfio/noiommu-%d", devroot, g) >= len)
		return -ENAMETOOLONG;
	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ESTALE;
	*group = g;
	return 0;
}

/*
 * A device without an IOMMU can DMA anywhere in physical memory. Only an explicit
 * per-device opt-in (noiommu=1) makes vfiofd drive it; the kernel's unsafe mode being on
 * is not consent enough (it is system-wide). @node is its group node or no-IOMMU cdev,
 * @kind says which ("group", "cdev").
 */
static bool
noiommu_consent(const struct rte_devargs *da, const char *bdf, bool explicit,
		const char *kind, const char *node)
{
	if (vfiofd_devargs_noiommu(da))
		return true;
	rte_log(explicit ? RTE_LOG_ERR : RTE_LOG_NOTICE, vfiofd_logtype,
		"vfiofd: %s: %sskipped: it has no IOMMU (vfio-pci runs it in vfio's unsafe "
		"no-IOMMU mode, %s %s), so it could DMA anywhere in memory; to drive it anyway, "
		"opt in with -a vfiofd:%s,noiommu=1 and start the EAL with --iova-mode=pa\n",
		bdf, explicit ? "allow-listed, but " : "", kind, node, bdf);
	vfiofd_bus.scan_refused += explicit;
	return false;
}

/* Forget a device that is no longer usable (rescan); a probed one stays. */
static void
drop_device(const char *bdf)
{
	struct vfiofd_device *d = vfiofd_find_by_name(bdf);

	if (d == NULL || rte_dev_is_probed(&d->pub.device))
		return;
	pthread_mutex_lock(&vfiofd_lock);
	TAILQ_REMOVE(&vfiofd_bus.device_list, &d->pub, next);
	pthread_mutex_unlock(&vfiofd_lock);
	vfiofd_free_device(d);
}

static void
scan_one(const char *sysfs, const char *devroot, const char *bdf)
{
	struct rte_devargs *da = vfiofd_devargs_lookup(bdf);
	bool explicit = vfiofd_allowed_explicitly(da);
	uint32_t level = explicit ? RTE_LOG_ERR : RTE_LOG_DEBUG;
	struct vfiofd_cdev_id cdev;
	struct vfiofd_pci_ids ids;
	struct vfiofd_device *d;
	struct vfiofd_bdf b;
	bool noiommu = false;
	int group = -1;
	uint64_t bar_start[VFIOFD_SYSFS_NUM_BARS];
	char drv[64];
	int ret, numa, numvfs;

	if (vfiofd_ignored(bdf, da)) {
		VFIOFD_LOG(DEBUG, "%s: %s", bdf, da != NULL ? "blocked" : "not allow-listed");
		drop_device(bdf);
		return;
	}
	d = vfiofd_find_by_name(bdf);
	if (d != NULL && rte_dev_is_probed(&d->pub.device))
		return; /* probed: nothing a rescan may change */

	ret = vfiofd_sysfs_driver(sysfs, bdf, drv, sizeof(drv));
	if (ret != 0 || strcmp(drv, "vfio-pci") != 0) {
		char what[96];

		if (ret == -ENOENT)
			snprintf(what, sizeof(what), "not bound to any driver");
		else if (ret != 0)
			snprintf(what, sizeof(what), "cannot read its driver (%s)", strerror(-ret));
		else
			snprintf(what, sizeof(what), "bound to %s, not vfio-pci", drv);
		if (explicit) {
			char fix[3 * PATH_MAX];

			rte_log(level, vfiofd_logtype, "vfiofd: %s: allow-listed, but %s%s\n", bdf,
				what, bind_fix(sysfs, bdf, ret != -ENOENT, fix, sizeof(fix)));
			vfiofd_bus.scan_refused++;
		} else {
			rte_log(level, vfiofd_logtype, "vfiofd: %s: skipped: %s\n", bdf, what);
		}
		drop_device(bdf);
		return;
	}

	ret = vfiofd_sysfs_pci_ids(sysfs, bdf, &ids);
	if (ret != 0) {
		rte_log(explicit ? RTE_LOG_ERR : RTE_LOG_WARNING, vfiofd_logtype,
			"vfiofd: %s: %sskipped: cannot read its PCI ids from %s/%s (%s)\n", bdf,
			explicit ? "allow-listed, but " : "", sysfs, bdf,
			ret == -EBADMSG ? "malformed attribute" : strerror(-ret));
		vfiofd_bus.scan_refused += explicit;
		drop_device(bdf);
		return;
	}

	ret = vfiofd_sysfs_find_cdev(sysfs, devroot, bdf, &cdev);
	if (ret == -EOPNOTSUPP &&
	    noiommu_group(sysfs, devroot, bdf, &group, cdev.path, sizeof(cdev.path)) == 0) {
		/* Linux before 7.3: no cdev, only the group node */
		if (!noiommu_consent(da, bdf, explicit, "group", cdev.path)) {
			drop_device(bdf);
			return;
		}
		noiommu = true;
		snprintf(cdev.name, sizeof(cdev.name), "noiommu-%d", group);
		cdev.major = cdev.minor = 0;
		ret = 0;
	} else if (ret == 0 && cdev.noiommu) {
		/* Linux 7.3+: a no-IOMMU cdev, bound to an iommufd like any other */
		if (!noiommu_consent(da, bdf, explicit, "cdev", cdev.path)) {
			drop_device(bdf);
			return;
		}
		noiommu = true;
	} else if (ret == 0 && vfiofd_devargs_noiommu(da)) {
		VFIOFD_LOG(NOTICE, "%s: noiommu=1 ignored: the device has an IOMMU (%s), which "
			   "vfiofd uses", bdf, cdev.path);
	}
	if (ret != 0) {
		const char *why = cdev_error(ret);

		/* bound to vfio-pci but unusable: worth a notice even if not asked for */
		rte_log(explicit ? RTE_LOG_ERR : RTE_LOG_NOTICE, vfiofd_logtype,
			"vfiofd: %s: %sskipped: %s%s\n", bdf, explicit ? "allow-listed, but " : "",
			why != NULL ? "" : "cannot find its VFIO device cdev through sysfs: ",
			why != NULL ? why : strerror(-ret));
		vfiofd_bus.scan_refused += explicit;
		drop_device(bdf);
		return;
	}

	numa = vfiofd_sysfs_numa_node(sysfs, bdf);
	if (numa == -EBADMSG)
		VFIOFD_LOG(DEBUG, "%s: malformed numa_node, using any socket", bdf);
	/* for the PCI view (a DPDK PCI driver): no BAR addresses or VFs is no failure */
	ret = vfiofd_sysfs_bar_start(sysfs, bdf, bar_start);
	if (ret < 0) {
		VFIOFD_LOG(DEBUG, "%s: no BAR addresses from sysfs (%s)", bdf, strerror(-ret));
		memset(bar_start, 0, sizeof(bar_start));
	}
	numvfs = vfiofd_sysfs_sriov_numvfs(sysfs, bdf);
	if (numvfs < 0) {
		VFIOFD_LOG(DEBUG, "%s: unreadable sriov_numvfs (%s)", bdf, strerror(-numvfs));
		numvfs = 0;
	}

	if (d == NULL) {
		d = calloc(1, sizeof(*d));
		if (d == NULL) {
			VFIOFD_LOG(ERR, "%s: skipped: cannot allocate its state: %s", bdf,
				   strerror(ENOMEM));
			vfiofd_bus.scan_refused += explicit;
			return;
		}
		vfiofd_dev_init_state(d);
		rte_strscpy(d->pub.name, bdf, sizeof(d->pub.name));
		vfiofd_bdf_parse(bdf, &b, NULL);
		d->pub.addr.domain = b.domain;
		d->pub.addr.bus = b.bus;
		d->pub.addr.devid = b.dev;
		d->pub.addr.function = b.func;
		d->pub.device.name = d->pub.name;
		d->pub.device.bus = &vfiofd_bus.bus;
		d->pub.pci_dev.addr = d->pub.addr;
		rte_strscpy(d->pub.pci_dev.name, bdf, sizeof(d->pub.pci_dev.name));
		d->pub.pci_dev.kdrv = RTE_PCI_KDRV_VFIO;
		vfiofd_insert_device(d);
	}
	pthread_mutex_lock(&vfiofd_lock);
	d->pub.id.vendor_id = ids.vendor;
	d->pub.id.device_id = ids.device;
	d->pub.id.subsystem_vendor_id = ids.subsystem_vendor;
	d->pub.id.subsystem_device_id = ids.subsystem_device;
	d->pub.id.class_id = ids.class_code;
	d->pub.pci_dev.id = d->pub.id;
	d->pub.pci_dev.max_vfs = (uint16_t)numvfs;
	memcpy(d->bar_phys, bar_start, sizeof(d->bar_phys));
	/* what bus/pci says of its devices (testpmd's "show port info" prints it) */
	snprintf(d->bus_info, sizeof(d->bus_info), "vendor_id=%" PRIx16 ", device_id=%" PRIx16,
		 ids.vendor, ids.device);
	d->pub.device.bus_info = d->bus_info;
	d->pub.pci_dev.bus_info = d->bus_info;
	d->pub.device.numa_node = numa >= 0 ? numa : SOCKET_ID_ANY;
	d->pub.device.devargs = da;
	rte_strscpy(d->cdev_path, cdev.path, sizeof(d->cdev_path));
	rte_strscpy(d->cdev_name, cdev.name, sizeof(d->cdev_name));
	d->cdev_major = cdev.major;
	d->cdev_minor = cdev.minor;
	d->noiommu = noiommu;
	d->noiommu_cdev = noiommu && group < 0;
	d->iommu_group = group;
	vfiofd_load_options(d);
	pthread_mutex_unlock(&vfiofd_lock);

	if (explicit || vfiofd_any_driver_matches(&d->pub))
		vfiofd_claim(d, explicit);
	VFIOFD_LOG(DEBUG, "%s: %04x:%04x via %s (%u:%u), NUMA %d", bdf, ids.vendor, ids.device,
		   cdev.path, cdev.major, cdev.minor, d->pub.device.numa_node);
}

/* Only canonical names: sysfs writes lower-case "dddd:bb:dd.f". */
static int
pci_name_filter(const struct dirent *de)
{
	char canon[VFIOFD_BDF_LEN];

	return vfiofd_pci_addr_valid(de->d_name) &&
	       vfiofd_bdf_parse(de->d_name, NULL, canon) == 0 &&
	       strcmp(canon, de->d_name) == 0;
}

int
vfiofd_scan(void)
{
	const char *sysfs = vfiofd_sysfs_root(), *devroot = vfiofd_dev_root();
	struct dirent **list = NULL;
	struct rte_devargs *da;
	int n;

	if (sysfs == NULL || devroot == NULL)
		return -1;
	vfiofd_devargs_normalize();
	vfiofd_bus.scan_refused = 0;
	vfiofd_mp_init(); /* the primary serves its secondaries from the first scan on */

	n = scandir(sysfs, &list, pci_name_filter, alphasort);
	if (n < 0) {
		if (errno != ENOENT) {
			VFIOFD_LOG(ERR, "cannot list PCI devices in %s: %s", sysfs,
				   strerror(errno));
			return -1;
		}
		VFIOFD_LOG(DEBUG, "no %s: no PCI devices", sysfs);
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		scan_one(sysfs, devroot, list[i]->d_name);
		free(list[i]);
	}
	free(list);

	/* a device the user named that is not there at all */
	RTE_EAL_DEVARGS_FOREACH(VFIOFD_BUS_NAME, da) {
		char path[PATH_MAX];
		struct stat st;

		if (!vfiofd_allowed_explicitly(da))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sysfs, da->name);
		if (stat(path, &st) == 0)
			continue;
		VFIOFD_LOG(ERR, "%s: allow-listed, but there is no such PCI device (%s: %s)",
			   da->name, path, strerror(errno));
		vfiofd_bus.scan_refused++;
		drop_device(da->name);
	}
	return 0;
}
