/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A field of /proc/self/status in kB, for the tests that check what a process pins
 * for DMA (VmPin: every page pinned through iommufd is counted there, whatever the
 * RLIMIT_MEMLOCK accounting mode).
 */

#ifndef VFIOFD_PROC_STATUS_H
#define VFIOFD_PROC_STATUS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* @field with its colon ("VmPin:"); -1 if absent or unreadable. */
static inline long
proc_status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0)
			kb = strtol(line + n, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kb;
}

#endif /* VFIOFD_PROC_STATUS_H */
