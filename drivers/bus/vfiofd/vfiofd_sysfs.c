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

/* Read a small sysfs attribute, without the trailing newline. */
static int
read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Strict "major:minor": decimal, no sign, no junk, each fitting the kernel's widths. */
static int
parse_dev_t(const char *s, unsigned int *major, unsigned int *minor)
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

/* Name of the single "vfioN" entry in @dir. */
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

		if (strncmp(p, "vfio", 4) != 0 || p[4] == '\0')
			continue;
		for (p += 4; isdigit((unsigned char)*p); p++)
			;
		if (*p != '\0')
			continue;
		if (found++ > 0 || strlen(de->d_name) >= len)
			break;
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
	snprintf(path, sizeof(path), "%s/%s", sysfs_pci, bdf);
	if (stat(path, &st) < 0)
		return -ENOENT;
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
	ret = parse_dev_t(attr, &out->major, &out->minor);
	if (ret < 0)
		return ret;

	if ((size_t)snprintf(out->path, sizeof(out->path), "%s/vfio/devices/%s", dev_root,
			     out->name) >= sizeof(out->path))
		return -ENAMETOOLONG;
	if (stat(out->path, &st) < 0)
		return -ENXIO;
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != out->major ||
	    minor(st.st_rdev) != out->minor)
		return -ESTALE;
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
