/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal TAP output for the vfiofd test programs: one "ok"/"not ok" line per check,
 * diagnostics as "# " lines, the plan at the end. A failed check never stops the
 * program by itself; callers decide whether later checks still make sense.
 */

#ifndef VFIOFD_TAP_H
#define VFIOFD_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tap {
	unsigned int run;
	unsigned int failed;
};

static inline bool __attribute__((format(printf, 3, 4)))
tap_check(struct tap *t, bool cond, const char *fmt, ...)
{
	va_list ap;

	t->run++;
	if (!cond)
		t->failed++;
	printf("%sok %u - ", cond ? "" : "not ", t->run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

#define tap_diag(...) do { printf("# " __VA_ARGS__); putchar('\n'); fflush(stdout); } while (0)

/* Print the plan and return the process exit status. */
static inline int
tap_done(struct tap *t)
{
	printf("1..%u\n# %u of %u checks failed\n", t->run, t->failed, t->run);
	return t->failed == 0 && t->run > 0 ? 0 : 1;
}

#endif /* VFIOFD_TAP_H */
