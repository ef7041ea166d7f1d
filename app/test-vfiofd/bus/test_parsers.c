/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host unit tests of the vfiofd bus's pure parsers: device names and PCI addresses,
 * the devargs option string, the MSI-X capability walk and the BAR mmap plan.
 * No EAL, no kernel: every case is a table row, hostile input included.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfiofd_devargs.h"
#include "vfiofd_layout.h"
#include "../tap.h"

static void
test_bdf(struct tap *t)
{
	static const struct {
		const char *in;
		const char *canon; /* NULL: must be refused */
	} cases[] = {
		{ "0000:01:00.0", "0000:01:00.0" },
		{ "0000:0A:1f.7", "0000:0a:1f.7" },
		{ "ffff:ff:1f.7", "ffff:ff:1f.7" },
		{ "01:00.0", "0000:01:00.0" },
		{ "0000:01:20.0", NULL },       /* device > 0x1f */
		{ "0000:01:00.8", NULL },       /* function > 7 */
		{ "0000:01:00", NULL },
		{ "0000:01:00.0 ", NULL },
		{ " 0000:01:00.0", NULL },
		{ "00000:01:00.0", NULL },
		{ "0000:001:00.0", NULL },
		{ "0000-01-00.0", NULL },
		{ "g000:01:00.0", NULL },
		{ "", NULL },
		{ "0000:01:00.0\n", NULL },
		{ "+000:01:00.0", NULL },
		{ "0x00:01:00.0", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char canon[VFIOFD_BDF_LEN] = "", shown[64];
		int ret = vfiofd_bdf_parse(cases[i].in, NULL, canon);

		vfiofd_str_sanitize(cases[i].in, 32, shown, sizeof(shown));
		if (cases[i].canon != NULL)
			tap_check(t, ret == 0 && strcmp(canon, cases[i].canon) == 0,
				  "bdf '%s' -> '%s'", shown, canon);
		else
			tap_check(t, ret == -EINVAL, "bdf '%s' refused (%d)", shown, ret);
	}
	tap_check(t, vfiofd_bdf_parse(NULL, NULL, NULL) == -EINVAL, "bdf NULL refused");
}

static void
test_names(struct tap *t)
{
	static const struct {
		const char *in;
		int ret;
		const char *canon;
	} cases[] = {
		{ "vfiofd:0000:01:00.0", 0, "0000:01:00.0" },
		{ "vfiofd:01:00.0", 0, "0000:01:00.0" },
		{ "vfiofd:0000:AB:0c.1", 0, "0000:ab:0c.1" },
		{ "vfiofd:", 0, "" },
		{ "0000:01:00.0", -EINVAL, NULL },  /* bare address: bus/pci's */
		{ "pci:0000:01:00.0", -EINVAL, NULL },
		{ "vfiofd", -EINVAL, NULL },
		{ "VFIOFD:0000:01:00.0", -EINVAL, NULL },
		{ "vfiofd:../../etc/passwd", -EBADF, NULL },
		{ "vfiofd:%s%n%x", -EBADF, NULL },
		{ "vfiofd:0000:01:00.0/x", -EBADF, NULL },
		{ "vfiofd:vfiofd:0000:01:00.0", -EBADF, NULL },
		{ "vfiofd: 0000:01:00.0", -EBADF, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char canon[VFIOFD_BDF_LEN] = "?";
		int ret = vfiofd_name_parse(cases[i].in, canon);

		tap_check(t, ret == cases[i].ret &&
			  (cases[i].canon == NULL || strcmp(canon, cases[i].canon) == 0),
			  "name '%s' -> %d '%s'", cases[i].in, ret, ret == 0 ? canon : "");
	}
}

static void
test_options(struct tap *t)
{
	static const char *const ignore[] = { "bus", "addr", NULL };
	static const struct {
		const char *in;
		int ret;
		const char *err;   /* substring of the message, or expected state below */
	} bad[] = {
		{ "ioas=public", -EINVAL, "bad value 'public' for 'ioas'" },
		{ "ioas=private,ioas=default", -EINVAL, "duplicate key 'ioas'" },
		{ "ioas", -EINVAL, "'ioas' has no value" },
		{ "ioas=", -EINVAL, "empty value for 'ioas'" },
		{ "=private", -EINVAL, "empty key" },
		{ ",ioas=private", -EINVAL, "empty element" },
		{ "ioas=private,,intr=msi", -EINVAL, "empty element" },
		{ "ioas=private,", -EINVAL, "trailing ','" },
		{ "intr=msix%n", -EINVAL, "forbidden character '%'" },
		{ "k=../../etc", -EINVAL, "forbidden character '/'" },
		{ "k=a\nEAL: forged", -EINVAL, "forbidden character '\\x0a'" },
		{ "k=\xff\xfe", -EINVAL, "forbidden character '\\xff'" },
		{ "k%s=1", -EINVAL, "forbidden character '%'" },
		{ "1k=1", -EINVAL, "forbidden character '1'" },
		{ "k=[a,b", -EINVAL, "unterminated '['" },
		{ "k=[]", -EINVAL, "empty list" },
		{ "k=[a]b", -EINVAL, "junk after ']'" },
		{ "k=a]", -EINVAL, "forbidden character ']'" },
		{ "k=[a[b]", -EINVAL, "forbidden character '['" },
		{ "reset=maybe", -EINVAL, "bad value 'maybe' for 'reset'" },
		{ "bar_mmap=1", -EINVAL, "bad value '1' for 'bar_mmap'" },
		{ "intr=msi-x", -EINVAL, "bad value 'msi-x' for 'intr'" },
		{ "noiommu=yes", -EINVAL, "bad value 'yes' for 'noiommu' (expected 1, 0, on or off)" },
		{ "k k=1", -EINVAL, "forbidden character ' '" },
		{ "k=a b", -EINVAL, "forbidden character ' '" },
	};
	struct vfiofd_options o;
	char err[256], big[VFIOFD_ARGS_MAX + 64];
	int ret;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char shown[64];

		ret = vfiofd_options_parse(bad[i].in, NULL, &o, err, sizeof(err));
		vfiofd_str_sanitize(bad[i].in, 32, shown, sizeof(shown));
		tap_check(t, ret == bad[i].ret && strstr(err, bad[i].err) != NULL &&
			  strchr(err, '\n') == NULL,
			  "options '%s' refused: %s", shown, err);
	}

	/* limits */
	memset(big, 'a', sizeof(big));
	memcpy(big, "k=", 2);
	big[VFIOFD_ARGS_MAX + 1] = '\0';
	ret = vfiofd_options_parse(big, NULL, &o, err, sizeof(err));
	tap_check(t, ret == -E2BIG && strstr(err, "longer than") != NULL,
		  "option string of %d characters refused: %s", VFIOFD_ARGS_MAX + 1, err);
	memset(big, 'a', sizeof(big));
	memcpy(big, "k=", 2);
	big[2 + VFIOFD_VALUE_MAX] = '\0';
	ret = vfiofd_options_parse(big, NULL, &o, err, sizeof(err));
	tap_check(t, ret == -E2BIG, "value of %d characters refused: %s", VFIOFD_VALUE_MAX, err);
	memset(big, 'k', sizeof(big));
	big[VFIOFD_KEY_MAX + 1] = '=';
	big[VFIOFD_KEY_MAX + 2] = '1';
	big[VFIOFD_KEY_MAX + 3] = '\0';
	ret = vfiofd_options_parse(big, NULL, &o, err, sizeof(err));
	tap_check(t, ret == -E2BIG, "key of %d characters refused: %s", VFIOFD_KEY_MAX + 1, err);
	big[0] = '\0';
	for (int i = 0; i <= VFIOFD_PAIRS_MAX; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%sk%d=1", i ? "," : "", i);
	ret = vfiofd_options_parse(big, NULL, &o, err, sizeof(err));
	tap_check(t, ret == -E2BIG && strstr(err, "more than") != NULL,
		  "%d options refused: %s", VFIOFD_PAIRS_MAX + 1, err);

	/* good strings */
	ret = vfiofd_options_parse(NULL, NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && o.ioas == VFIOFD_OPT_IOAS_DEFAULT &&
		  o.intr == VFIOFD_OPT_INTR_AUTO && o.reset && o.bar_mmap && !o.noiommu &&
		  o.n_driver_keys == 0, "NULL: defaults (no-IOMMU never implied)");
	{
		static const struct { const char *in; bool v; } nio[] = {
			{ "noiommu=1", true }, { "noiommu=on", true },
			{ "noiommu=0", false }, { "noiommu=off", false },
		};

		for (size_t i = 0; i < sizeof(nio) / sizeof(nio[0]); i++) {
			ret = vfiofd_options_parse(nio[i].in, NULL, &o, err, sizeof(err));
			tap_check(t, ret == 0 && o.noiommu == nio[i].v && o.n_driver_keys == 0,
				  "'%s': noiommu %d (%s)", nio[i].in, o.noiommu, err);
		}
	}
	ret = vfiofd_options_parse("iova=translated", NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && o.iova_translated && o.n_driver_keys == 0,
		  "'iova=translated': translated mode asked (%s)", err);
	ret = vfiofd_options_parse("iova=auto", NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && !o.iova_translated, "'iova=auto': not asked (%s)", err);
	ret = vfiofd_options_parse("iova=va", NULL, &o, err, sizeof(err));
	tap_check(t, ret == -EINVAL && strstr(err, "auto or translated") != NULL,
		  "'iova=va' refused: %s", err);
	ret = vfiofd_options_parse("", NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && o.n_driver_keys == 0 && !o.iova_translated,
		  "empty string: defaults");
	ret = vfiofd_options_parse("ioas=private,intr=intx,reset=off,bar_mmap=off", NULL, &o, err,
				   sizeof(err));
	tap_check(t, ret == 0 && o.ioas == VFIOFD_OPT_IOAS_PRIVATE &&
		  o.intr == VFIOFD_OPT_INTR_INTX && !o.reset && !o.bar_mmap,
		  "all bus keys parsed (%s)", err);
	ret = vfiofd_options_parse("intr=none,speed=1000,list=[0-3,5],mac=52:54:00:12:34:56,"
				   "x_y-z=a.b+c", NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && o.intr == VFIOFD_OPT_INTR_NONE && o.n_driver_keys == 4 &&
		  strcmp(o.driver_keys[0], "speed") == 0 && strcmp(o.driver_keys[1], "list") == 0 &&
		  strcmp(o.driver_keys[3], "x_y-z") == 0,
		  "driver keys collected in order (%u) (%s)", o.n_driver_keys, err);
	tap_check(t, strcmp(o.driver_args, "speed=1000,list=[0-3,5],mac=52:54:00:12:34:56,"
			    "x_y-z=a.b+c") == 0,
		  "the driver's option string keeps its keys and values: %s", o.driver_args);
	ret = vfiofd_options_parse("ioas=private,intr=msix", NULL, &o, err, sizeof(err));
	tap_check(t, ret == 0 && o.driver_args[0] == '\0', "no driver keys: empty string");
	{
		static const struct { const char *key, *like; } slips[] = {
			{ "iosa", "ioas" }, { "ioa", "ioas" }, { "ioass", "ioas" },
			{ "inrt", "intr" }, { "intx", "intr" }, { "bar-mmap", "bar_mmap" },
			{ "barmmap", "bar_mmap" }, { "noimmu", "noiommu" }, { "rest", "reset" },
			{ "ioas", NULL }, { "intr", NULL }, { "speed", NULL }, { "devargs", NULL },
			{ "i", NULL }, { "representor", NULL }, { "ios", "ioas" },
			{ "iovaa", "iova" }, { "ivoa", "iova" },
		};

		for (size_t i = 0; i < sizeof(slips) / sizeof(slips[0]); i++) {
			const char *like = vfiofd_bus_key_like(slips[i].key);

			tap_check(t, slips[i].like == NULL ? like == NULL :
				  like != NULL && strcmp(like, slips[i].like) == 0,
				  "'%s' looks like bus key %s", slips[i].key,
				  like != NULL ? like : "none");
		}
	}
	ret = vfiofd_options_parse("bus=vfiofd,addr=0000:01:00.0,ioas=private", ignore, &o, err,
				   sizeof(err));
	tap_check(t, ret == 0 && o.ioas == VFIOFD_OPT_IOAS_PRIVATE && o.n_driver_keys == 0,
		  "bus layer: bus= and addr= skipped (%s)", err);
	tap_check(t, strcmp(vfiofd_opt_ioas_str(VFIOFD_OPT_IOAS_PRIVATE), "private") == 0 &&
		  strcmp(vfiofd_opt_intr_str(VFIOFD_OPT_INTR_MSIX), "msix") == 0,
		  "option names");
	/* the value of one key, read by the same tokenizer */
	{
		static const struct {
			const char *in, *key;
			int ret;
			const char *value;
		} get[] = {
			{ "bus=vfiofd,addr=0000:01:00.0,ioas=private", "addr", 0, "0000:01:00.0" },
			/* no key can hide in a bracketed list: '=' is no value character */
			{ "bus=vfiofd,x=[a,addr=0000:01:00.0,b],addr=0000:07:00.0", "addr",
			  -EINVAL, NULL },
			{ "bus=vfiofd,x=[addr=0000:01:00.0]", "addr", -EINVAL, NULL },
			{ "bus=vfiofd,x=[a,addr,b],addr=0000:07:00.0", "addr", 0, "0000:07:00.0" },
			{ "addr=[0000:01:00.0]", "addr", 0, "[0000:01:00.0]" },
			{ "bus=vfiofd", "addr", -ENOENT, NULL },
			{ "", "addr", -ENOENT, NULL },
			{ "addr=0000:01:00.0,addr=0000:07:00.0", "addr", -EINVAL, NULL },
			{ "addr=0000:01:00.0,x=[a", "addr", -EINVAL, NULL },
			{ "addr=0000:01:00.0,", "addr", -EINVAL, NULL },
			{ "addr=0000:01:00.0000000000000000000000000000000000", "addr", -E2BIG,
			  NULL },
		};

		for (size_t i = 0; i < sizeof(get) / sizeof(get[0]); i++) {
			char v[32] = "";

			ret = vfiofd_options_get(get[i].in, get[i].key, v, sizeof(v), err,
						 sizeof(err));
			tap_check(t, ret == get[i].ret &&
				  (get[i].value == NULL || strcmp(v, get[i].value) == 0),
				  "'%s': %s = '%s' (%d%s%s)", get[i].in, get[i].key, v, ret,
				  err[0] ? ": " : "", err);
		}
	}
	/* errors without an error buffer must not crash */
	ret = vfiofd_options_parse("ioas=x", NULL, &o, NULL, 0);
	tap_check(t, ret == -EINVAL, "error without a buffer");
}

static void
test_sanitize(struct tap *t)
{
	char out[32];

	vfiofd_str_sanitize("a\nb\\c\x01", 64, out, sizeof(out));
	tap_check(t, strcmp(out, "a\\x0ab\\\\c\\x01") == 0, "sanitize escapes: %s", out);
	vfiofd_str_sanitize("0123456789", 4, out, sizeof(out));
	tap_check(t, strcmp(out, "0123...") == 0, "sanitize truncates: %s", out);
	vfiofd_str_sanitize("01234567890123456789012345678901234567890123456789", 64, out,
			    sizeof(out));
	tap_check(t, strlen(out) < sizeof(out) && strstr(out, "...") != NULL,
		  "sanitize respects the buffer: %s", out);
}

/* A config space with a capability chain: PM at 0x40 -> MSI-X at 0x50 [-> next]. */
static void
make_cfg(uint8_t *cfg, uint8_t msix_next, uint32_t table, uint32_t pba, uint16_t qsize)
{
	memset(cfg, 0, 256);
	cfg[0x06] = 0x10;
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x01;
	cfg[0x41] = 0x50;
	cfg[0x50] = 0x11;
	cfg[0x51] = msix_next;
	cfg[0x52] = qsize & 0xff;
	cfg[0x53] = qsize >> 8;
	memcpy(&cfg[0x54], &table, 4);
	memcpy(&cfg[0x58], &pba, 4);
}

static void
test_msix(struct tap *t)
{
	struct vfiofd_msix_loc m;
	uint8_t cfg[256];
	int ret;

	make_cfg(cfg, 0, 0x2000 | 3, 0x3000 | 3, 4);
	ret = vfiofd_msix_parse(cfg, sizeof(cfg), &m);
	tap_check(t, ret == 0 && m.table_bar == 3 && m.table_off == 0x2000 && m.vectors == 5 &&
		  m.table_size == 80 && m.pba_bar == 3 && m.pba_off == 0x3000 && m.pba_size == 8 &&
		  m.cap_off == 0x50,
		  "MSI-X found: BAR%u +0x%x, %u vectors", m.table_bar, m.table_off, m.vectors);
	make_cfg(cfg, 0, 0x2000 | 3, 0x3000 | 3, 0x7ff);
	ret = vfiofd_msix_parse(cfg, sizeof(cfg), &m);
	tap_check(t, ret == 0 && m.vectors == 2048 && m.table_size == 32768 && m.pba_size == 256,
		  "2048 vectors");
	make_cfg(cfg, 0, 0x2000 | 6, 0x3000, 4);
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -EBADMSG, "BIR 6 refused");
	make_cfg(cfg, 0x40, 0, 0, 0);
	cfg[0x50] = 0x05; /* not MSI-X, and points back: a loop */
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -EBADMSG,
		  "capability loop refused");
	make_cfg(cfg, 0, 0, 0, 0);
	cfg[0x34] = 0x10;
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -EBADMSG,
		  "pointer into the header refused");
	make_cfg(cfg, 0, 0, 0, 0);
	cfg[0x50] = 0x05;
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -ENOENT, "no MSI-X");
	make_cfg(cfg, 0, 0, 0, 0);
	cfg[0x06] = 0;
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -ENOENT, "no capability list");
	make_cfg(cfg, 0, 0x2000 | 3, 0x3000 | 3, 4);
	cfg[0x34] = 0xfc;
	cfg[0xfc] = 0x11;
	cfg[0xfd] = 0;
	tap_check(t, vfiofd_msix_parse(cfg, sizeof(cfg), &m) == -EBADMSG,
		  "capability running past the space refused");
	tap_check(t, vfiofd_msix_parse(cfg, 32, &m) == -EBADMSG, "short config space refused");
	tap_check(t, vfiofd_msix_parse(cfg, 64, &m) == -EBADMSG, "pointer beyond a 64-byte space");
}

static void
test_plan(struct tap *t)
{
	const uint64_t pg = 4096;
	struct vfiofd_area out[16];
	struct vfiofd_region_desc d;
	unsigned int n;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = 0x20000;
	d.page_size = pg;
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 1 && out[0].offset == 0 && out[0].size == 0x20000,
		  "whole BAR: one area");

	d.size = 0x100; /* a BAR smaller than a page: one page */
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 1 && out[0].size == pg, "small BAR: one page");

	/* MSI-X table in the middle, not mappable: two areas around the table's page */
	d.size = 0x4000;
	d.has_msix_table = 1;
	d.msix_off = 0x2000;
	d.msix_size = 80;
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 2 && out[0].offset == 0 && out[0].size == 0x2000 &&
		  out[1].offset == 0x3000 && out[1].size == 0x1000,
		  "MSI-X hole: [0,0x2000) + [0x3000,0x4000)");
	tap_check(t, vfiofd_areas_cover(out, n, 0x1ffc, 4) &&
		  !vfiofd_areas_cover(out, n, 0x1ffe, 4) &&
		  !vfiofd_areas_cover(out, n, 0x2000, 4) &&
		  vfiofd_areas_cover(out, n, 0x3000, 0x1000) &&
		  !vfiofd_areas_cover(out, n, 0x3000, 0x1001) &&
		  !vfiofd_areas_cover(out, n, UINT64_MAX, 2),
		  "coverage follows the hole");
	d.msix_mappable = 1;
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 1 && out[0].size == 0x4000, "MSIX_MAPPABLE: whole BAR");
	d.msix_mappable = 0;
	d.msix_off = 0;
	d.msix_size = 0x4000;
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 0, "BAR that is all MSI-X table: nothing to map");
	d.msix_off = 0x3ff0;
	d.msix_size = 0x20;
	tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG, "table past the BAR refused");
	d.msix_off = 0x0ff0;
	d.msix_size = 0x20; /* straddles two pages */
	ret = vfiofd_region_plan(&d, out, 16, &n);
	tap_check(t, ret == 0 && n == 1 && out[0].offset == 0x2000 && out[0].size == 0x2000,
		  "table straddling pages: both pages left out");

	/* sparse areas, unsorted and unaligned, plus the hole */
	{
		struct vfiofd_area sp[3] = {
			{ 0x8000, 0x8000 }, { 0x0, 0x3000 }, { 0x4100, 0x2000 },
		};

		memset(&d, 0, sizeof(d));
		d.size = 0x10000;
		d.page_size = pg;
		d.sparse = sp;
		d.nr_sparse = 3;
		ret = vfiofd_region_plan(&d, out, 16, &n);
		tap_check(t, ret == 0 && n == 3 && out[0].offset == 0 && out[1].offset == 0x5000 &&
			  out[1].size == 0x1000 && out[2].offset == 0x8000,
			  "sparse areas sorted and shrunk to whole pages (%u)", n);
		d.has_msix_table = 1;
		d.msix_off = 0xa000;
		d.msix_size = 0x10;
		ret = vfiofd_region_plan(&d, out, 16, &n);
		tap_check(t, ret == 0 && n == 4 && out[2].offset == 0x8000 &&
			  out[2].size == 0x2000 &&
			  out[3].offset == 0xb000 && out[3].size == 0x5000,
			  "sparse area split by the MSI-X hole (%u)", n);
		ret = vfiofd_region_plan(&d, out, 3, &n);
		tap_check(t, ret == -ENOSPC, "too many areas for the output refused");
		sp[0].offset = 0x2000; /* overlaps [0, 0x3000) */
		d.has_msix_table = 0;
		tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG,
			  "overlapping sparse areas refused");
		sp[0].offset = 0x10000; /* past the end */
		tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG,
			  "sparse area past the BAR refused");
		sp[0].offset = UINT64_MAX - 10;
		tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG,
			  "overflowing sparse area refused");
	}
	memset(&d, 0, sizeof(d));
	d.size = 0x1000;
	d.page_size = 3000;
	tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG, "page size not a power of 2");
	d.page_size = pg;
	d.size = UINT64_MAX - 5;
	tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == -EBADMSG, "size overflow refused");
	d.size = 0;
	tap_check(t, vfiofd_region_plan(&d, out, 16, &n) == 0 && n == 0, "empty BAR: no area");
}

int
main(void)
{
	struct tap t = { 0 };

	test_bdf(&t);
	test_names(&t);
	test_options(&t);
	test_sanitize(&t);
	test_msix(&t);
	test_plan(&t);
	return tap_done(&t);
}
