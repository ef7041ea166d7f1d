/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Figures of the first line of rte_iova_cache_dump(), for the tests: the
 * cache's internal counts (leaves, nodes, retirements) are not API.
 */

#ifndef IOVA_CACHE_DUMP_H
#define IOVA_CACHE_DUMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rte_iova_cache.h"

/* The number before ", <N> <what>" in the first line of the dump (e.g.
 * "13 leaves"; what is the first word after the number), or -1.
 */
static inline long
iova_cache_dump_figure(struct rte_iova_cache *c, const char *what)
{
	char *buf = NULL, *p, *end;
	size_t sz = 0;
	long v = -1;
	FILE *f = open_memstream(&buf, &sz);

	if (f == NULL)
		return -1;
	rte_iova_cache_dump(f, c);
	fclose(f);
	end = strchr(buf, '\n');
	for (p = strchr(buf, ','); p != NULL && (end == NULL || p < end); p = strchr(p + 1, ',')) {
		char word[32];
		long n;

		if (sscanf(p, ", %ld %31[a-z]", &n, word) == 2 && strcmp(word, what) == 0) {
			v = n;
			break;
		}
	}
	free(buf);
	return v;
}

#endif /* IOVA_CACHE_DUMP_H */
