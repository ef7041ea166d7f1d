/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the MSI-X capability walk over a device-controlled config space,
 * and the BAR mmap plan over kernel-reported sizes and sparse areas. Checks the plan's
 * promises: page-aligned, sorted, disjoint areas inside the page-rounded region, none
 * overlapping an unmappable MSI-X table.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vfiofd_layout.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
take64(const uint8_t **p, size_t *n)
{
	uint64_t v = 0;
	size_t k = *n < 8 ? *n : 8;

	memcpy(&v, *p, k);
	*p += k;
	*n -= k;
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfiofd_msix_loc m;
	struct vfiofd_area sparse[70], out[16];
	struct vfiofd_region_desc d;
	unsigned int n = 0;
	int ret;

	/* config space: the first 256 bytes (or fewer) of the input */
	ret = vfiofd_msix_parse(data, size < 256 ? size : 256, &m);
	CHECK(ret == 0 || ret == -ENOENT || ret == -EBADMSG);
	if (ret == 0)
		CHECK(m.table_bar <= 5 && m.pba_bar <= 5 && m.vectors >= 1 && m.vectors <= 2048 &&
		      m.cap_off >= 0x40);

	/* region description from the rest */
	memset(&d, 0, sizeof(d));
	if (size > 256) {
		data += 256;
		size -= 256;
	}
	d.size = take64(&data, &size) & ((1ull << 40) - 1);
	if (size > 0 && (data[0] & 1))
		d.size = take64(&data, &size); /* sometimes a huge one */
	d.page_size = 4096;
	d.has_msix_table = size > 0 && (data[0] & 2);
	d.msix_mappable = size > 0 && (data[0] & 4);
	d.nr_sparse = size > 0 ? data[0] % 71 : 0;
	d.msix_off = take64(&data, &size) & 0xfffff;
	d.msix_size = take64(&data, &size) & 0x1ffff;
	for (unsigned int i = 0; i < d.nr_sparse; i++) {
		sparse[i].offset = take64(&data, &size) & ((1ull << 24) - 1);
		sparse[i].size = take64(&data, &size) & ((1ull << 24) - 1);
	}
	d.sparse = d.nr_sparse > 0 ? sparse : NULL;
	ret = vfiofd_region_plan(&d, out, 16, &n);
	CHECK(ret == 0 || ret == -EBADMSG || ret == -ENOSPC);
	if (ret != 0) {
		CHECK(n == 0);
		return 0;
	}
	CHECK(n <= 16);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t rs = (d.size + 4095) & ~4095ull;

		CHECK(out[i].size > 0 && out[i].offset % 4096 == 0 && out[i].size % 4096 == 0);
		CHECK(out[i].offset < rs && out[i].size <= rs - out[i].offset);
		if (i > 0)
			CHECK(out[i - 1].offset + out[i - 1].size <= out[i].offset);
		if (d.has_msix_table && !d.msix_mappable && d.msix_size > 0)
			CHECK(out[i].offset + out[i].size <= d.msix_off ||
			      out[i].offset >= d.msix_off + d.msix_size);
		CHECK(vfiofd_areas_cover(out, n, out[i].offset, out[i].size));
	}
	return 0;
}
