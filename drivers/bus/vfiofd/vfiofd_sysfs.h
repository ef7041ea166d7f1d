/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What sysfs says about a PCI device's VFIO side: its device cdev
 * (<sysfs>/<BDF>/vfio-dev/vfioN and the matching /dev/vfio/devices/vfioN), its driver and
 * its IOMMU group. The sysfs and /dev roots are parameters so that host tests can point
 * them at fake trees. Functions return 0 (or a non-negative value) or a negative errno
 * whose meaning is documented per function, so that callers can tell the user exactly
 * what is wrong; they never log.
 */

#ifndef VFIOFD_SYSFS_H
#define VFIOFD_SYSFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default roots. */
#define VFIOFD_SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define VFIOFD_DEV_ROOT "/dev"

/** A VFIO device cdev, as found through sysfs and checked against /dev. */
/** How Linux 7.3+ names the cdev of a device without an IOMMU: "noiommu-vfioN". */
#define VFIOFD_NOIOMMU_CDEV_PREFIX "noiommu-"

struct vfiofd_cdev_id {
	char name[32];          /**< "vfioN", or "noiommu-vfioN" */
	char path[PATH_MAX];    /**< <dev_root>/vfio/devices/<name> */
	unsigned int major;     /**< from sysfs vfio-dev/<name>/dev */
	unsigned int minor;
	bool noiommu;           /**< a no-IOMMU cdev (Linux 7.3+: "noiommu-vfioN") */
};

/**
 * Find the cdev of PCI device @bdf ("0000:00:05.0").
 * Errors: -EINVAL @bdf is not a PCI address; -ENOENT no such PCI device;
 * -ENODEV the device has no vfio-dev directory (not bound to vfio-pci, or a kernel
 * without CONFIG_VFIO_DEVICE_CDEV); -EOPNOTSUPP vfio-dev/vfioN has no "dev" attribute
 * (a no-IOMMU device: 6.12 creates no cdev for those; 7.3 does, named noiommu-vfioN,
 * which sets @out->noiommu); -EBADMSG the "dev" attribute is
 * not "major:minor"; -ENXIO the /dev node is missing; -ESTALE the /dev node is not the
 * character device sysfs names.
 */
int vfiofd_sysfs_find_cdev(const char *sysfs_pci, const char *dev_root, const char *bdf,
			   struct vfiofd_cdev_id *out);

/**
 * Name of the kernel driver bound to @bdf into @buf. -ENOENT if no driver is bound,
 * -ENAMETOOLONG if @buf is too small, -EINVAL if @bdf is not a PCI address.
 */
int vfiofd_sysfs_driver(const char *sysfs_pci, const char *bdf, char *buf, size_t len);

/** IOMMU group number of @bdf (>= 0), -ENOENT if it has none. */
int vfiofd_sysfs_iommu_group(const char *sysfs_pci, const char *bdf);

/**
 * Address width in bits of the IOMMU in front of @bdf, as sysfs tells it before anything
 * is mapped: Intel VT-d's MGAW (bits 21:16 of iommu/intel-iommu/cap, plus one), the
 * width DPDK's bus/pci reads too. -ENOENT if sysfs does not say (no IOMMU, or one of
 * another kind), -EINVAL @bdf is not a PCI address, -EBADMSG garbage (or a width below
 * 32 bits, which no IOMMU has).
 */
int vfiofd_sysfs_iommu_addr_width(const char *sysfs_pci, const char *bdf);
/** Non-zero if @s is a full PCI address "DDDD:BB:DD.F" (lower or upper case hex). */
int vfiofd_pci_addr_valid(const char *s);

/** A PCI function's identity, from sysfs. */
struct vfiofd_pci_ids {
	uint16_t vendor;
	uint16_t device;
	uint16_t subsystem_vendor;
	uint16_t subsystem_device;
	uint32_t class_code;  /**< 24-bit class code (class, subclass, prog-if) */
};

/**
 * Read vendor, device, subsystem_vendor, subsystem_device and class of @bdf.
 * Errors: -EINVAL @bdf is not a PCI address; -ENOENT an attribute is missing;
 * -EBADMSG an attribute is not the hex number sysfs writes ("0x1af4"), is too large
 * for its field, or the file is longer than any sysfs attribute of its kind; another
 * -errno if it cannot be read (EMFILE, EACCES, ...).
 */
int vfiofd_sysfs_pci_ids(const char *sysfs_pci, const char *bdf, struct vfiofd_pci_ids *ids);

/**
 * NUMA node of @bdf (>= 0). -ENOENT if unknown (no attribute, or "-1" as the kernel
 * writes without NUMA), -EBADMSG if garbage.
 */
int vfiofd_sysfs_numa_node(const char *sysfs_pci, const char *bdf);

/**
 * Number of VFs enabled on @bdf (its sriov_numvfs attribute), 0 if it has no SR-IOV
 * capability; -EINVAL @bdf is not a PCI address, -EBADMSG garbage.
 */
int vfiofd_sysfs_sriov_numvfs(const char *sysfs_pci, const char *bdf);

/** BARs per PCI function. */
#define VFIOFD_SYSFS_NUM_BARS 6

/**
 * Bus address of each BAR of @bdf (0 for a BAR the function does not have), from its
 * "resource" attribute. -EINVAL @bdf is not a PCI address, -ENOENT no such device,
 * -EBADMSG a malformed attribute.
 */
int vfiofd_sysfs_bar_start(const char *sysfs_pci, const char *bdf,
			   uint64_t bar_start[VFIOFD_SYSFS_NUM_BARS]);

/*
 * The attribute parsers, exposed for the unit tests and fuzzers. Each takes a
 * NUL-terminated attribute value (trailing newline already removed) and is strict:
 * no sign, no spaces, no junk, no overflow. Return 0 or -EBADMSG.
 */
/** "major:minor", decimal, major < 4096, minor < 2^20. */
int vfiofd_sysfs_parse_dev_t(const char *s, unsigned int *major, unsigned int *minor);
/** "0x" followed by hex digits, no more than @max has (0xffff: 4), value <= @max. */
int vfiofd_sysfs_parse_hex(const char *s, uint64_t max, uint64_t *v);
/**
 * The first VFIOFD_SYSFS_NUM_BARS lines of a "resource" attribute (modified in
 * place): each "0x<start> 0x<end> 0x<flags>", end >= start. Fills @bar_start.
 */
int vfiofd_sysfs_parse_resource(char *s, uint64_t bar_start[VFIOFD_SYSFS_NUM_BARS]);
/** Optional '-', 1-10 decimal digits, value in [@min, @max]. */
int vfiofd_sysfs_parse_int(const char *s, long min, long max, long *v);

#ifdef __cplusplus
}
#endif

#endif /* VFIOFD_SYSFS_H */
