/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vfiofd_layout.h"

/* Standard config-space offsets (linux/pci_regs.h values, spelled out so that this
 * file needs no kernel header and builds anywhere the fuzzer does). */
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_CAP_PTR 0x34
#define CFG_CAP_ID_MSIX 0x11
#define CFG_HEADER_END 0x40
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_CAP_LEN 12

static uint32_t
le16_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32_at(const uint8_t *p)
{
	return le16_at(p) | le16_at(p + 2) << 16;
}

int
vfiofd_msix_parse(const uint8_t *cfg, size_t len, struct vfiofd_msix_loc *out)
{
	bool seen[64] = { false }; /* one per dword of the 256-byte space */
	size_t ptr;

	if (cfg == NULL || len < CFG_HEADER_END)
		return -EBADMSG;
	if (len > 256)
		len = 256;
	if (!(cfg[CFG_STATUS] & CFG_STATUS_CAP_LIST))
		return -ENOENT;
	for (ptr = cfg[CFG_CAP_PTR] & ~3u; ptr != 0; ptr = cfg[ptr + 1] & ~3u) {
		uint32_t ctrl, table, pba;

		if (ptr < CFG_HEADER_END || ptr + 2 > len || seen[ptr / 4])
			return -EBADMSG;
		seen[ptr / 4] = true;
		if (cfg[ptr] != CFG_CAP_ID_MSIX)
			continue;
		if (ptr + MSIX_CAP_LEN > len)
			return -EBADMSG;
		ctrl = le16_at(&cfg[ptr + MSIX_CTRL]);
		table = le32_at(&cfg[ptr + MSIX_TABLE]);
		pba = le32_at(&cfg[ptr + MSIX_PBA]);
		if ((table & 7) > 5 || (pba & 7) > 5)
			return -EBADMSG;
		memset(out, 0, sizeof(*out));
		out->cap_off = (uint8_t)ptr;
		out->vectors = (uint16_t)((ctrl & 0x7ff) + 1);
		out->table_bar = (uint8_t)(table & 7);
		out->table_off = table & ~7u;
		out->table_size = out->vectors * 16u;
		out->pba_bar = (uint8_t)(pba & 7);
		out->pba_off = pba & ~7u;
		out->pba_size = ((out->vectors + 63u) / 64u) * 8u;
		return 0;
	}
	return -ENOENT;
}

#define PLAN_MAX 64

static int
area_cmp_less(const struct vfiofd_area *a, const struct vfiofd_area *b)
{
	return a->offset < b->offset;
}

int
vfiofd_region_plan(const struct vfiofd_region_desc *d, struct vfiofd_area *out,
		   unsigned int max, unsigned int *n)
{
	struct vfiofd_area tmp[PLAN_MAX + 1];
	unsigned int cnt = 0, i, j;
	uint64_t pg = d->page_size, rsize;

	*n = 0;
	if (pg == 0 || (pg & (pg - 1)) != 0)
		return -EBADMSG;
	if (d->size == 0)
		return 0;
	if (d->size > UINT64_MAX - pg)
		return -EBADMSG;
	rsize = (d->size + pg - 1) & ~(pg - 1);

	if (d->sparse != NULL) {
		if (d->nr_sparse > PLAN_MAX)
			return -ENOSPC;
		for (i = 0; i < d->nr_sparse; i++) {
			uint64_t s = d->sparse[i].offset, e;

			if (d->sparse[i].size > UINT64_MAX - s)
				return -EBADMSG;
			e = s + d->sparse[i].size;
			if (e > rsize)
				return -EBADMSG;
			/* mmap needs page alignment: keep only whole pages inside the area */
			s = (s + pg - 1) & ~(pg - 1);
			e &= ~(pg - 1);
			if (s >= e)
				continue;
			tmp[cnt].offset = s;
			tmp[cnt].size = e - s;
			cnt++;
		}
		/* insertion sort, then reject overlaps: the kernel contradicts itself */
		for (i = 1; i < cnt; i++) {
			struct vfiofd_area a = tmp[i];

			for (j = i; j > 0 && area_cmp_less(&a, &tmp[j - 1]); j--)
				tmp[j] = tmp[j - 1];
			tmp[j] = a;
		}
		for (i = 1; i < cnt; i++)
			if (tmp[i - 1].offset + tmp[i - 1].size > tmp[i].offset)
				return -EBADMSG;
	} else {
		tmp[0].offset = 0;
		tmp[0].size = rsize;
		cnt = 1;
	}

	if (d->has_msix_table && !d->msix_mappable && d->msix_size > 0) {
		uint64_t hs, he;

		if (d->msix_off >= rsize || d->msix_size > rsize - d->msix_off)
			return -EBADMSG;
		hs = d->msix_off & ~(pg - 1);
		he = (d->msix_off + d->msix_size + pg - 1) & ~(pg - 1);
		/* cut [hs, he) out of every area; one area may split in two */
		for (i = 0; i < cnt; i++) {
			uint64_t s = tmp[i].offset, e = s + tmp[i].size;

			if (e <= hs || s >= he)
				continue;
			if (s < hs && e > he) {
				memmove(&tmp[i + 2], &tmp[i + 1], (cnt - i - 1) * sizeof(tmp[0]));
				tmp[i].size = hs - s;
				tmp[i + 1].offset = he;
				tmp[i + 1].size = e - he;
				cnt++;
				i++;
			} else if (s < hs) {
				tmp[i].size = hs - s;
			} else if (e > he) {
				tmp[i].offset = he;
				tmp[i].size = e - he;
			} else {
				memmove(&tmp[i], &tmp[i + 1], (cnt - i - 1) * sizeof(tmp[0]));
				cnt--;
				i--;
			}
		}
	}

	if (cnt > max)
		return -ENOSPC;
	memcpy(out, tmp, cnt * sizeof(tmp[0]));
	*n = cnt;
	return 0;
}

int
vfiofd_areas_cover(const struct vfiofd_area *areas, unsigned int n, uint64_t off,
		   uint64_t len)
{
	if (len > UINT64_MAX - off)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		if (off >= areas[i].offset && off + len <= areas[i].offset + areas[i].size)
			return 1;
	return 0;
}
