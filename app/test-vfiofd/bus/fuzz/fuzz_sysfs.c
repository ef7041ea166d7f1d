/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the strict parsers of sysfs attribute values the scanner reads
 * (vfio-dev/vfioN/dev "major:minor", hex ids, numa_node), and the PCI-address check
 * applied to every directory name under /sys/bus/pci/devices.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vfiofd_sysfs.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	unsigned int ma, mi;
	uint64_t v, bars[VFIOFD_SYSFS_NUM_BARS];
	long l;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (vfiofd_sysfs_parse_dev_t(s, &ma, &mi) == 0)
		CHECK(ma <= 0xfff && mi <= 0xfffff);
	if (vfiofd_sysfs_parse_hex(s, 0xffff, &v) == 0)
		CHECK(v <= 0xffff && s[0] == '0');
	if (vfiofd_sysfs_parse_int(s, -1, 1023, &l) == 0)
		CHECK(l >= -1 && l <= 1023);
	if (vfiofd_pci_addr_valid(s))
		CHECK(strlen(s) == 12);
	/* last: it writes into s */
	if (vfiofd_sysfs_parse_resource(s, bars) == 0)
		CHECK(s[0] == '0');
	free(s);
	return 0;
}
