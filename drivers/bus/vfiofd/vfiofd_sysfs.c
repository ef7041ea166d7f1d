/* SPDX-License-Identifier: BSD-3-Clause */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vfiofd_sysfs.h"

int
vfiofd_pci_addr_valid(const char *s)
{
	/* "DDDD:BB:DD.F": domain, bus and device in hex, function 0-7. */
	static const char shape[] = "xxxx:xx:xx.f";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		switch (shape[i]) {
		case 'x':
			if (!isxdigit((unsigned char)s[i]))
				return 0;
			break;
		case 'f':
			if (s[i] < '0' || s[i] > '7')
				return 0;
			break;
		default:
			if (s[i] != shape[i])
				return 0;
		}
	}
	return 1;
}

/*
 * Read a small sysfs attribute, without the trailing newline. O_NONBLOCK so that a FIFO
 * planted in a (fake or hostile) tree cannot hang the scan; a value that fills @buf is
 * refused rather than silently truncated, and so is an embedded NUL.
 */
static int
read_attr(const char *path, char *buf, size_t len)
{
	char extra;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n == (ssize_t)len - 1 && read(fd, &extra, 1) > 0)
		n = -2;
	else if (n < 0)
		n = -errno;
	close(fd);
	if (n == -2 || n == -EAGAIN)
		return -EBADMSG;
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (strlen(buf) != (size_t)n)
		return -EBADMSG;
	return 0;
}

/* Strict "major:minor": decimal, no sign, no junk, each fitting the kernel's widths. */
int
vfiofd_sysfs_parse_dev_t(const char *s, unsigned int *major, unsigned int *minor)
{
	unsigned long ma, mi;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EBADMSG;
	errno = 0;
	ma = strtoul(s, &end, 10);
	if (errno != 0 || *end != ':' || ma > 0xfff || !isdigit((unsigned char)end[1]))
		return -EBADMSG;
	mi = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || mi > 0xfffff)
		return -EBADMSG;
	*major = ma;
	*minor = mi;
	return 0;
}

int
vfiofd_sysfs_parse_hex(const char *s, uint64_t max, uint64_t *v)
{
	size_t i, digits = 0;
	uint64_t x = 0;

	/* no more digits than @max has: what the kernel's fixed widths write, no padding */
	for (uint64_t m = max; digits == 0 || m != 0; m >>= 4)
		digits++;
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EBADMSG;
	for (i = 2; s[i] != '\0'; i++) {
		int d = s[i];

		if (i >= 2 + digits || !isxdigit((unsigned char)d))
			return -EBADMSG;
		d = isdigit((unsigned char)d) ? d - '0' : tolower((unsigned char)d) - 'a' + 10;
		x = x << 4 | (uint64_t)d;
	}
	if (i == 2 || x > max)
		return -EBADMSG;
	*v = x;
	return 0;
}

int
vfiofd_sysfs_parse_int(const char *s, long min, long max, long *v)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	long x;
	char *end;

	if (!isdigit((unsigned char)p[0]) || strlen(p) > 10)
		return -EBADMSG;
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -EBADMSG;
	*v = x;
	return 0;
}

/*
 * Name of the single "vfioN" entry in @dir, or "noiommu-vfioN": Linux 7.3+ names the
 * cdev of a device without an IOMMU so (with vfio's unsafe no-IOMMU mode on).
 */
static int
find_vfio_entry(const char *dir, char *name, size_t len)
{
	struct dirent *de;
	int found = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;

		if (strncmp(p, VFIOFD_NOIOMMU_CDEV_PREFIX, strlen(VFIOFD_NOIOMMU_CDEV_PREFIX)) == 0)
			p += strlen(VFIOFD_NOIOMMU_CDEV_PREFIX);
		if (strncmp(p, "vfio", 4) != 0 || p[4] == '\0')
			continue;
		for (p += 4; isdigit((unsigned char)*p); p++)
			;
		if (*p != '\0')
			continue;
		/* a second entry, or a name no cdev can have: sysfs is not what we know */
		if (found++ > 0 || strlen(de->d_name) >= len) {
			found = -1;
			break;
		}
		strcpy(name, de->d_name);
	}
	closedir(d);
	if (found == 0)
		return -ENODEV;
	return found == 1 ? 0 : -EBADMSG;
}

int
vfiofd_sysfs_find_cdev(const char *sysfs_pci, const char *dev_root, const char *bdf,
		       struct vfiofd_cdev_id *out)
{
	char path[PATH_MAX], attr[64];
	struct stat st;
	int ret;

	if (!vfiofd_pci_addr_valid(bdf))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/vfio-dev/%s/dev", sysfs_pci, bdf,
			     "vfio4294967295") >= sizeof(path))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", sysfs_pci, bdf);
	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	snprintf(path, sizeof(path), "%s/%s/vfio-dev", sysfs_pci, bdf);
	ret = find_vfio_entry(path, out->name, sizeof(out->name));
	if (ret < 0)
		return ret;

	snprintf(path, sizeof(path), "%s/%s/vfio-dev/%s/dev", sysfs_pci, bdf, out->name);
	ret = read_attr(path, attr, sizeof(attr));
	if (ret == -ENOENT)
		return -EOPNOTSUPP;
	if (ret < 0)
		return ret;
	ret = vfiofd_sysfs_parse_dev_t(attr, &out->major, &out->minor);
	if (ret < 0)
		return ret;

	if ((size_t)snprintf(out->path, sizeof(out->path), "%s/vfio/devices/%s", dev_root,
			     out->name) >= sizeof(out->path))
		return -ENAMETOOLONG;
	if (stat(out->path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENXIO : -errno;
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != out->major ||
	    minor(st.st_rdev) != out->minor)
		return -ESTALE;
	out->noiommu = strncmp(out->name, VFIOFD_NOIOMMU_CDEV_PREFIX,
			       strlen(VFIOFD_NOIOMMU_CDEV_PREFIX)) == 0;
	return 0;
}

/* Last path component of the symlink <sysfs_pci>/<bdf>/<link>. */
static int
link_basename(const char *sysfs_pci, const char *bdf, const char *link, char *buf,
	      size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (!vfiofd_pci_addr_valid(bdf))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s/%s", sysfs_pci, bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int
vfiofd_sysfs_driver(const char *sysfs_pci, const char *bdf, char *buf, size_t len)
{
	return link_basename(sysfs_pci, bdf, "driver", buf, len);
}

int
vfiofd_sysfs_iommu_group(const char *sysfs_pci, const char *bdf)
{
	char name[32], *end;
	long group;
	int ret = link_basename(sysfs_pci, bdf, "iommu_group", name, sizeof(name));

	if (ret < 0)
		return ret;
	errno = 0;
	group = strtol(name, &end, 10);
	if (errno != 0 || *end != '\0' || end == name || group < 0 || group > 0x7fffffff)
		return -EBADMSG;
	return (int)group;
}

/* Read attribute @attr of @bdf into @buf. */
static int
dev_attr(const char *sysfs_pci, const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (!vfiofd_pci_addr_valid(bdf))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", sysfs_pci, bdf, attr) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	return read_attr(path, buf, len);
}

int
vfiofd_sysfs_pci_ids(const char *sysfs_pci, const char *bdf, struct vfiofd_pci_ids *ids)
{
	static const struct {
		const char *name;
		uint64_t max;
	} attrs[] = {
		{ "vendor", 0xffff }, { "device", 0xffff },
		{ "subsystem_vendor", 0xffff }, { "subsystem_device", 0xffff },
		{ "class", 0xffffff },
	};
	uint64_t v[5];
	char buf[32];

	for (size_t i = 0; i < 5; i++) {
		int ret = dev_attr(sysfs_pci, bdf, attrs[i].name, buf, sizeof(buf));

		/* not a small file of text: what a tree made by hand, not sysfs, holds */
		if (ret == -EISDIR || ret == -EBADMSG ||
		    (ret == 0 && vfiofd_sysfs_parse_hex(buf, attrs[i].max, &v[i]) < 0))
			return -EBADMSG;
		/* the reader's own trouble (EMFILE, EACCES, ...) is said as it is */
		if (ret < 0)
			return ret;
	}
	ids->vendor = (uint16_t)v[0];
	ids->device = (uint16_t)v[1];
	ids->subsystem_vendor = (uint16_t)v[2];
	ids->subsystem_device = (uint16_t)v[3];
	ids->class_code = (uint32_t)v[4];
	return 0;
}

int
vfiofd_sysfs_numa_node(const char *sysfs_pci, const char *bdf)
{
	char buf[32];
	long node;
	int ret = dev_attr(sysfs_pci, bdf, "numa_node", buf, sizeof(buf));

	if (ret == -ENOENT || ret == -EINVAL)
		return ret;
	if (ret < 0 || vfiofd_sysfs_parse_int(buf, -1, 1023, &node) < 0)
		return -EBADMSG;
	return node < 0 ? -ENOENT : (int)node;
}

int
vfiofd_sysfs_iommu_addr_width(const char *sysfs_pci, const char *bdf)
{
	char buf[40], hex[42];
	uint64_t cap;
	int ret = dev_attr(sysfs_pci, bdf, "iommu/intel-iommu/cap", buf, sizeof(buf));

	if (ret == -ENOENT || ret == -ENOTDIR)
		return -ENOENT;
	if (ret == -EINVAL)
		return ret;
	/* the kernel writes the register as bare hex ("%llx"): one parser, given its 0x */
	if (ret < 0 || snprintf(hex, sizeof(hex), "0x%s", buf) >= (int)sizeof(hex) ||
	    vfiofd_sysfs_parse_hex(hex, UINT64_MAX, &cap) < 0)
		return -EBADMSG;
	ret = (int)((cap >> 16) & 0x3f) + 1;
	/* no IOMMU addresses less than 4 GiB: a register that says so is not one */
	return ret < 32 ? -EBADMSG : ret;
}

int
vfiofd_sysfs_sriov_numvfs(const char *sysfs_pci, const char *bdf)
{
	char buf[32];
	long n;
	int ret = dev_attr(sysfs_pci, bdf, "sriov_numvfs", buf, sizeof(buf));

	if (ret == -ENOENT)
		return 0; /* no SR-IOV capability */
	if (ret == -EINVAL || ret == -ENAMETOOLONG)
		return ret;
	if (ret < 0 || vfiofd_sysfs_parse_int(buf, 0, UINT16_MAX, &n) < 0)
		return -EBADMSG;
	return (int)n;
}

/*
 * The "resource" attribute: one line per resource, "0x<start> 0x<end> 0x<flags>" with 16
 * hex digits each (start = end = 0 for a BAR the function does not have); the BARs are
 * the first six lines.
 */
int
vfiofd_sysfs_parse_resource(char *s, uint64_t bar_start[VFIOFD_SYSFS_NUM_BARS])
{
	char *line = s, *f[3];

	for (unsigned int i = 0; i < VFIOFD_SYSFS_NUM_BARS; i++) {
		char *nl = strchr(line, '\n');
		uint64_t v[3];

		if (nl == NULL && i + 1 < VFIOFD_SYSFS_NUM_BARS)
			return -EBADMSG;
		if (nl != NULL)
			*nl = '\0';
		f[0] = line;
		f[1] = strchr(f[0], ' ');
		f[2] = f[1] != NULL ? strchr(f[1] + 1, ' ') : NULL;
		if (f[2] == NULL || strchr(f[2] + 1, ' ') != NULL)
			return -EBADMSG;
		*f[1]++ = '\0';
		*f[2]++ = '\0';
		for (unsigned int j = 0; j < 3; j++)
			if (vfiofd_sysfs_parse_hex(f[j], UINT64_MAX, &v[j]) < 0)
				return -EBADMSG;
		if (v[1] < v[0])
			return -EBADMSG;
		bar_start[i] = v[0];
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return 0;
}

int
vfiofd_sysfs_bar_start(const char *sysfs_pci, const char *bdf,
		       uint64_t bar_start[VFIOFD_SYSFS_NUM_BARS])
{
	/* 13 resources of 57 characters on x86 (BARs, ROM, SR-IOV BARs, bridge windows) */
	char buf[2048];
	int ret = dev_attr(sysfs_pci, bdf, "resource", buf, sizeof(buf));

	if (ret < 0)
		return ret == -ENOENT || ret == -EINVAL || ret == -ENAMETOOLONG ? ret : -EBADMSG;
	return vfiofd_sysfs_parse_resource(buf, bar_start);
}
