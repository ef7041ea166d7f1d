/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry:
 *   /vfiofd/list            the devices on the bus (PCI addresses)
 *   /vfiofd/info,<address>  one device: identity, cdev, driver, IOAS, interrupts, BARs
 *
 * Runs in the telemetry thread: reads the device list and state under vfiofd_lock.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "private.h"
#include "rte_iommufd_mem.h"
#include "vfiofd_compat.h"

static int
tel_list(const char *cmd __rte_unused, const char *params __rte_unused,
	 struct rte_tel_data *t)
{
	struct rte_vfiofd_device *dev;

	rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&vfiofd_lock);
	FOREACH_VFIOFD_DEVICE(dev)
		rte_tel_data_add_array_string(t, dev->name);
	pthread_mutex_unlock(&vfiofd_lock);
	return 0;
}

static void
add_hex(struct rte_tel_data *t, const char *key, uint32_t v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%0*x", width, v);
	rte_tel_data_add_dict_string(t, key, buf);
}

static void
region_flags_str(uint32_t f, char *buf, size_t len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ RTE_VFIOFD_REGION_READ, "read" }, { RTE_VFIOFD_REGION_WRITE, "write" },
		{ RTE_VFIOFD_REGION_MMAP, "mmap" }, { RTE_VFIOFD_REGION_MAPPED, "mapped" },
		{ RTE_VFIOFD_REGION_PARTIAL, "partial" }, { RTE_VFIOFD_REGION_IO, "io" },
		{ RTE_VFIOFD_REGION_MSIX, "msix" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < RTE_DIM(names); i++) {
		int n;

		if (!(f & names[i].bit))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += n;
	}
}

static int
tel_info(const char *cmd __rte_unused, const char *params, struct rte_tel_data *t)
{
	char canon[VFIOFD_BDF_LEN], key[32], flags[64];
	const struct rte_devargs *da;
	struct vfiofd_device *d;
	const char *name;

	if (params == NULL ||
	    (vfiofd_bdf_parse(params, NULL, canon) != 0 && vfiofd_name_parse(params, canon) != 0))
		return -EINVAL;
	pthread_mutex_lock(&vfiofd_lock);
	d = vfiofd_find_by_name(canon);
	if (d == NULL) {
		pthread_mutex_unlock(&vfiofd_lock);
		return -ENODEV;
	}
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_string(t, "name", d->pub.name);
	add_hex(t, "vendor_id", d->pub.id.vendor_id, 4);
	add_hex(t, "device_id", d->pub.id.device_id, 4);
	add_hex(t, "subsystem_vendor_id", d->pub.id.subsystem_vendor_id, 4);
	add_hex(t, "subsystem_device_id", d->pub.id.subsystem_device_id, 4);
	add_hex(t, "class", d->pub.id.class_id, 6);
	rte_tel_data_add_dict_int(t, "numa_node", d->pub.device.numa_node);
	rte_tel_data_add_dict_string(t, "cdev", d->cdev_path);
	name = vfiofd_dev_driver_name(d);
	rte_tel_data_add_dict_string(t, "driver", name != NULL ? name : "");
	/* "vfiofd": one of the bus's own drivers; "pci": one of DPDK's PCI drivers */
	rte_tel_data_add_dict_string(t, "driver_kind", d->pub.driver != NULL ? "vfiofd" :
				     d->pub.pci_dev.driver != NULL ? "pci" : "");
	rte_tel_data_add_dict_int(t, "probed", name != NULL);
	rte_tel_data_add_dict_string(t, "pci_claim", vfiofd_claim_str(d->claim));
	da = d->pub.device.devargs;
	rte_tel_data_add_dict_string(t, "policy", da == NULL ? "default" :
				     da->policy == RTE_DEV_ALLOWED ? "allowed" : "blocked");
	if (d->opts_err != 0)
		rte_tel_data_add_dict_string(t, "devargs_error", d->opts_errmsg);
	rte_tel_data_add_dict_string(t, "ioas_mode", vfiofd_opt_ioas_str(d->opts.ioas));
	rte_tel_data_add_dict_int(t, "noiommu", d->noiommu);
	rte_tel_data_add_dict_int(t, "noiommu_cdev", d->noiommu_cdev);
	/* process-wide: the EAL's IOVAs are not the device's (see iova=translated) */
	rte_tel_data_add_dict_int(t, "iova_translated", rte_iommufd_mem_translated());
	if (d->devfd >= 0) {
		vfiofd_tel_add_uint(t, "iommufd_devid", d->devid);
		vfiofd_tel_add_uint(t, "ioas", d->ioas_id);
		vfiofd_tel_add_uint(t, "hwpt", d->hwpt_id);
		rte_tel_data_add_dict_int(t, "reset", d->do_reset);
		rte_tel_data_add_dict_string(t, "intr", vfiofd_intr_index_str(d->intr_index));
		vfiofd_tel_add_uint(t, "intr_vectors", d->pub.intr_vectors);
		rte_tel_data_add_dict_int(t, "intr_enabled", d->intr_enabled);
		rte_tel_data_add_dict_int(t, "req_notifier", d->req_handle != NULL);
		vfiofd_tel_add_uint(t, "req_count", d->req_count);
		rte_tel_data_add_dict_int(t, "revoked", d->revoked);
		if (d->has_msix) {
			vfiofd_tel_add_uint(t, "msix_bar", d->msix.table_bar);
			vfiofd_tel_add_uint(t, "msix_table_offset", d->msix.table_off);
			vfiofd_tel_add_uint(t, "msix_vectors", d->msix.vectors);
		}
		for (unsigned int i = 0; i < RTE_VFIOFD_NUM_BARS; i++) {
			const struct rte_vfiofd_region *r = &d->pub.regions[i];

			if (r->size == 0)
				continue;
			snprintf(key, sizeof(key), "bar%u_size", i);
			vfiofd_tel_add_uint(t, key, r->size);
			region_flags_str(r->flags, flags, sizeof(flags));
			snprintf(key, sizeof(key), "bar%u_flags", i);
			rte_tel_data_add_dict_string(t, key, flags);
			snprintf(key, sizeof(key), "bar%u_mmap_areas", i);
			vfiofd_tel_add_uint(t, key, d->regions[i].n_areas);
		}
	}
	pthread_mutex_unlock(&vfiofd_lock);
	return 0;
}

RTE_INIT(vfiofd_telemetry_init)
{
	rte_telemetry_register_cmd("/vfiofd/list", tel_list,
		"Returns the devices on the vfiofd bus. Takes no parameters");
	rte_telemetry_register_cmd("/vfiofd/info", tel_info,
		"Returns the state of a vfiofd device. Parameters: PCI address");
}
