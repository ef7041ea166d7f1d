/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bus's side of EAL devargs: the name parser the EAL asks ("is this yours?"), the
 * new-syntax bus layer ("bus=vfiofd,addr=..."), allow/block-list decisions, the
 * per-device options, and device iteration.
 *
 * Names. The EAL stores a legacy "-a vfiofd:0000:01:00.0" as the name
 * "vfiofd:0000:01:00.0" whenever another bus (bus/pci) claims bare PCI addresses, and
 * as "0000:01:00.0" otherwise, depending on which bus registered first. The bus
 * accepts only the prefixed form (a bare address is bus/pci's) and rewrites the names
 * of its own devargs to the canonical address at every scan, so that lookups, the EAL's
 * find_device(da->name) after a hotplug rescan, and rte_devargs_remove() all see the
 * device name.
 */

#include <errno.h>
#include <string.h>

#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_kvargs.h>
#include <rte_string_fns.h>

#include "private.h"

/* Keys of the EAL's bus layer that are not options. */
static const char *const bus_layer_keys[] = { "bus", "addr", NULL };

int
vfiofd_parse(const char *name, void *addr)
{
	char canon[VFIOFD_BDF_LEN], shown[96];
	int ret = vfiofd_name_parse(name, canon);

	if (ret == -EBADF)
		/* the prefix is ours, so the user meant this bus: say what is wrong */
		VFIOFD_LOG(ERR, "'%s' is not a vfiofd device: expected vfiofd:DDDD:BB:DD.F "
			   "(hex PCI address, device 00-1f, function 0-7)",
			   vfiofd_str_sanitize(name, 64, shown, sizeof(shown)));
	if (ret != 0)
		return -1;
	if (addr != NULL)
		*(const char **)addr = name;
	return 0;
}

/*
 * The bus layer of the new syntax holds the EAL's keys and the bus's options only: a
 * key that is neither is refused here, as the legacy syntax refuses a key no driver
 * knows, rather than passed on (a mistyped "iosa=private" would leave the device in the
 * shared IOAS without a word). The reason goes into @buf; false if there is none.
 */
static bool
bus_layer_unknown_key(const struct vfiofd_options *o, char *buf, size_t len)
{
	const char *key, *like;

	if (o->n_driver_keys == 0)
		return false;
	key = o->driver_keys[0];
	like = vfiofd_bus_key_like(key);
	snprintf(buf, len, "unknown devargs key '%s' in the bus layer (keys there: bus, addr, "
		 "%s%s%s%s; a driver's keys go in the driver layer, .../driver=NAME,key=value)",
		 key, vfiofd_bus_keys_str, like != NULL ? "; did you mean '" : "",
		 like != NULL ? like : "", like != NULL ? "'?" : "");
	return true;
}

/* New syntax: "bus=vfiofd,addr=0000:01:00.0[,options]" names the device by addr=. */
int
vfiofd_devargs_parse(struct rte_devargs *da)
{
	struct vfiofd_options o;
	char err[288], shown[96], addr[32], canon[VFIOFD_BDF_LEN] = "";
	int ret;

	if (da == NULL || da->bus_str == NULL)
		return 0;
	vfiofd_str_sanitize(da->bus_str, 64, shown, sizeof(shown));
	ret = vfiofd_options_parse(da->bus_str, bus_layer_keys, &o, err, sizeof(err));
	if (ret != 0) {
		VFIOFD_LOG(ERR, "bad devargs '%s': %s", shown, err);
		rte_errno = EINVAL;
		return -EINVAL;
	}
	/* the options parser's own tokenizer: brackets hide what is inside them */
	ret = vfiofd_options_get(da->bus_str, "addr", addr, sizeof(addr), NULL, 0);
	if (ret == 0 && vfiofd_bdf_parse(addr, NULL, canon) != 0) {
		VFIOFD_LOG(ERR, "bad devargs '%s': addr is not a PCI address DDDD:BB:DD.F", shown);
		rte_errno = EINVAL;
		return -EINVAL;
	} else if (ret != 0 && ret != -ENOENT) {
		VFIOFD_LOG(ERR, "bad devargs '%s': addr: %s", shown, strerror(-ret));
		rte_errno = EINVAL;
		return -EINVAL;
	}
	if (bus_layer_unknown_key(&o, err, sizeof(err))) {
		VFIOFD_LOG(ERR, "%s: refused: %s", canon[0] != '\0' ? canon : VFIOFD_BUS_NAME,
			   err);
		rte_errno = EINVAL;
		return -EINVAL;
	}
	if (ret == -ENOENT)
		return 0; /* no device named: matches every device (iteration) */
	rte_strscpy(da->name, canon, sizeof(da->name));
	return 0;
}

/* Number of this bus's devargs naming @name. */
static unsigned int
devargs_count(const char *name)
{
	struct rte_devargs *da;
	unsigned int n = 0;

	RTE_EAL_DEVARGS_FOREACH(VFIOFD_BUS_NAME, da)
		if (strcmp(da->name, name) == 0)
			n++;
	return n;
}

void
vfiofd_devargs_normalize(void)
{
	struct rte_devargs *da, *db;
	char canon[VFIOFD_BDF_LEN];

	RTE_EAL_DEVARGS_FOREACH(VFIOFD_BUS_NAME, da) {
		if (vfiofd_name_parse(da->name, canon) == 0 ||
		    vfiofd_bdf_parse(da->name, NULL, canon) == 0)
			rte_strscpy(da->name, canon, sizeof(da->name));
	}
	if (!vfiofd_bus.init_done)
		return; /* duplicates on the command line are refused per device */

	/*
	 * After init, a second devargs for a device comes from rte_dev_probe() (one the
	 * EAL could not match by name: "vfiofd:<BDF>" before it was made canonical
	 * here). The newer one wins, as when the EAL replaces a devargs of the same name
	 * itself: the EAL holds on to it. A probed device keeps the options it was probed
	 * with (vfiofd_plug() refuses to probe it again), but takes the newer devargs
	 * all the same: the older one would outlive the device's removal otherwise.
	 */
again:
	RTE_EAL_DEVARGS_FOREACH(VFIOFD_BUS_NAME, da) {
		struct vfiofd_device *d;

		if (da->name[0] == '\0')
			continue;
		for (db = TAILQ_NEXT(da, next); db != NULL; db = TAILQ_NEXT(db, next))
			if (db->bus == da->bus && strcmp(db->name, da->name) == 0)
				break;
		if (db == NULL)
			continue;
		d = vfiofd_find_by_name(da->name);
		pthread_mutex_lock(&vfiofd_lock);
		if (d != NULL && d->pub.device.devargs == da) {
			if (d->user_args != NULL) {
				/* a DPDK PCI driver's view (vfiofd_pci.c) moves along: what
				 * the user gave is put back into the devargs that stay */
				d->user_args = db->args;
				db->args = d->opts.driver_args;
			}
			d->pub.device.devargs = db;
		}
		pthread_mutex_unlock(&vfiofd_lock);
		rte_devargs_remove(da); /* removes the first of that name: da */
		goto again;
	}
}

struct rte_devargs *
vfiofd_devargs_lookup(const char *name)
{
	struct rte_devargs *da;

	RTE_EAL_DEVARGS_FOREACH(VFIOFD_BUS_NAME, da)
		if (strcmp(da->name, name) == 0)
			return da;
	return NULL;
}

bool
vfiofd_allowed_explicitly(const struct rte_devargs *da)
{
	return da != NULL && da->policy == RTE_DEV_ALLOWED && da->name[0] != '\0';
}

/* The EAL's allow/block-list rules, for this bus only. */
bool
vfiofd_ignored(const char *name, const struct rte_devargs *da)
{
	RTE_SET_USED(name);
	switch (vfiofd_bus.bus.conf.scan_mode) {
	case RTE_BUS_SCAN_ALLOWLIST:
		return !(da != NULL && da->policy == RTE_DEV_ALLOWED);
	case RTE_BUS_SCAN_UNDEFINED:
	case RTE_BUS_SCAN_BLOCKLIST:
	default:
		return da != NULL && da->policy == RTE_DEV_BLOCKED;
	}
}

void
vfiofd_load_options(struct vfiofd_device *d)
{
	const struct rte_devargs *da = d->pub.device.devargs;
	char err[160], shown[96];
	int ret;

	vfiofd_options_default(&d->opts);
	d->opts_err = 0;
	d->opts_errmsg[0] = '\0';
	d->check_driver_keys = false;
	if (da == NULL)
		return;
	if (!vfiofd_bus.init_done && devargs_count(d->pub.name) > 1) {
		d->opts_err = -EINVAL;
		snprintf(d->opts_errmsg, sizeof(d->opts_errmsg),
			 "named more than once with -a/-b vfiofd:%s; give each device once",
			 d->pub.name);
		return;
	}
	if (da->bus_str != NULL) {
		/* new syntax: options in the bus layer, the driver layer is the PMD's */
		ret = vfiofd_options_parse(da->bus_str, bus_layer_keys, &d->opts, err,
					   sizeof(err));
		vfiofd_str_sanitize(da->bus_str, 64, shown, sizeof(shown));
	} else {
		ret = vfiofd_options_parse(da->args, NULL, &d->opts, err, sizeof(err));
		vfiofd_str_sanitize(da->args, 64, shown, sizeof(shown));
		d->check_driver_keys = true;
	}
	if (ret != 0) {
		d->opts_err = ret;
		snprintf(d->opts_errmsg, sizeof(d->opts_errmsg), "bad devargs '%s': %s", shown,
			 err);
		vfiofd_options_default(&d->opts);
	} else if (da->bus_str != NULL &&
		   bus_layer_unknown_key(&d->opts, d->opts_errmsg, sizeof(d->opts_errmsg))) {
		d->opts_err = -EINVAL;
		vfiofd_options_default(&d->opts);
	}
}

/*
 * Whether @da opts into no-IOMMU mode. The scan needs this before the device exists
 * (its full options are loaded later); a malformed string counts as no opt-in, and
 * its error is reported by vfiofd_load_options() like any other.
 */
bool
vfiofd_devargs_noiommu(const struct rte_devargs *da)
{
	struct vfiofd_options o;

	if (da == NULL)
		return false;
	if (da->bus_str != NULL)
		return vfiofd_options_parse(da->bus_str, bus_layer_keys, &o, NULL, 0) == 0 &&
		       o.noiommu;
	return vfiofd_options_parse(da->args, NULL, &o, NULL, 0) == 0 && o.noiommu;
}

int
vfiofd_check_driver_keys(struct vfiofd_device *d, const struct rte_vfiofd_driver *drv)
{
	char known[160];
	size_t o = 0;

	if (!d->check_driver_keys)
		return 0;
	for (unsigned int i = 0; i < d->opts.n_driver_keys; i++) {
		const char *key = d->opts.driver_keys[i];
		bool ok = false;

		for (const char *const *k = drv->devargs_keys; k != NULL && *k != NULL; k++)
			if (strcmp(*k, key) == 0)
				ok = true;
		if (ok)
			continue;
		known[0] = '\0';
		for (const char *const *k = drv->devargs_keys; k != NULL && *k != NULL; k++) {
			int n = snprintf(known + o, sizeof(known) - o, "%s%s", o ? ", " : "", *k);

			if (n < 0 || (size_t)n >= sizeof(known) - o)
				break;
			o += n;
		}
		VFIOFD_DEV_LOG(ERR, d,
			       "refused: unknown devargs key '%s' (bus keys: %s; driver %s keys: "
			       "%s)", key, vfiofd_bus_keys_str, drv->driver.name,
			       o ? known : "none");
		return -EINVAL;
	}
	return 0;
}

static int
iterate_match(const struct rte_device *dev, const void *arg)
{
	const struct rte_kvargs *kv = arg;
	char canon[VFIOFD_BDF_LEN];
	const char *addr;

	if (kv == NULL)
		return 0;
	addr = rte_kvargs_get(kv, "addr");
	if (addr == NULL)
		return 0;
	if (vfiofd_bdf_parse(addr, NULL, canon) != 0)
		return -1;
	return strcmp(canon, dev->name) == 0 ? 0 : -1;
}

void *
vfiofd_dev_iterate(const void *start, const char *str,
		   const struct rte_dev_iterator *it __rte_unused)
{
	static const char *const keys[] = { "addr", NULL };
	struct rte_kvargs *kv = NULL;
	struct rte_device *dev;

	if (str != NULL && str[0] != '\0') {
		kv = rte_kvargs_parse(str, keys);
		if (kv == NULL) {
			char shown[96];

			VFIOFD_LOG(ERR, "cannot iterate over '%s': only addr= is known",
				   vfiofd_str_sanitize(str, 64, shown, sizeof(shown)));
			rte_errno = EINVAL;
			return NULL;
		}
	}
	dev = vfiofd_bus.bus.find_device(start, iterate_match, kv);
	rte_kvargs_free(kv);
	return dev;
}
