/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the vfiofd device-name, PCI-address and option-string parsers
 * (what -a vfiofd:... and rte_dev_probe() hand the bus). The input is split at the
 * first NUL-free ',' into a name and options, as the EAL splits a devargs string.
 * Besides memory safety, it checks the parsers' promises: a canonical address parses
 * back to itself, error messages are single printable lines, counts stay in bounds, and
 * the addr= lookup accepts exactly the strings the options parser accepts.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vfiofd_devargs.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void
check_message(const char *err)
{
	for (const char *p = err; *p != '\0'; p++)
		CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ignore[] = { "bus", "addr", NULL };
	char canon[VFIOFD_BDF_LEN], again[VFIOFD_BDF_LEN], err[256], shown[128];
	struct vfiofd_options o;
	struct vfiofd_bdf b;
	char *s = malloc(size + 1), *opts;
	int ret;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	vfiofd_str_sanitize(s, 40, shown, sizeof(shown));
	CHECK(strlen(shown) < sizeof(shown));
	check_message(shown);

	opts = strchr(s, ',');
	if (opts != NULL)
		*opts++ = '\0';

	if (vfiofd_bdf_parse(s, &b, canon) == 0) {
		CHECK(b.dev <= 0x1f && b.func <= 7 && b.domain <= 0xffff);
		CHECK(vfiofd_bdf_parse(canon, NULL, again) == 0 && strcmp(canon, again) == 0);
	}
	ret = vfiofd_name_parse(s, canon);
	CHECK(ret == 0 || ret == -EINVAL || ret == -EBADF);
	if (ret == 0)
		CHECK(canon[0] == '\0' || vfiofd_bdf_parse(canon, NULL, NULL) == 0);

	ret = vfiofd_options_parse(opts != NULL ? opts : s, size & 1 ? ignore : NULL, &o, err,
				   sizeof(err));
	CHECK(ret == 0 || ret == -EINVAL || ret == -E2BIG);
	CHECK(o.n_driver_keys <= VFIOFD_PAIRS_MAX);
	if (ret != 0) {
		CHECK(err[0] != '\0');
		check_message(err);
	}
	for (unsigned int i = 0; i < o.n_driver_keys; i++)
		CHECK(strlen(o.driver_keys[i]) > 0 && strlen(o.driver_keys[i]) <= VFIOFD_KEY_MAX);
	/* the bus's addr= lookup reads the string as the options parser does: what the
	 * parser takes, the lookup takes; what the lookup refuses, the parser refuses (a
	 * bad value of a bus key is the parser's business only) */
	{
		char v[VFIOFD_VALUE_MAX + 1];
		int g = vfiofd_options_get(opts != NULL ? opts : s, "addr", v, sizeof(v), NULL, 0);

		CHECK(g == 0 || g == -ENOENT || g == -EINVAL || g == -E2BIG);
		CHECK(ret != 0 || g == 0 || g == -ENOENT);
		CHECK(g != -EINVAL || ret != 0);
		if (g == 0)
			CHECK(strlen(v) > 0 && strlen(v) < VFIOFD_VALUE_MAX);
	}
	free(s);
	return 0;
}
