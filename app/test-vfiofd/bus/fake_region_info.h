/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pretend kernel's answer to VFIO_DEVICE_GET_REGION_INFO, for the tests and fuzzers
 * that stand in for the ioctl (test_kernel_replies.c, fuzz/fuzz_region_caps.c): what
 * vfio-pci writes back, with the values a case plants. The fixed part is written back;
 * the capability chain is copied after it only if the caller's argsz holds it (then
 * cap_offset points at it), else argsz is raised to what is needed, as the kernel does.
 * The caller then overwrites whatever a hostile reply should say instead.
 */

#ifndef VFIOFD_FAKE_REGION_INFO_H
#define VFIOFD_FAKE_REGION_INFO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/vfio.h>

static inline void
fake_region_info_reply(struct vfio_region_info *info, uint32_t flags, uint64_t size,
		       uint64_t offset, const void *chain, size_t chain_len)
{
	uint32_t room = info->argsz, need = (uint32_t)(sizeof(*info) + chain_len);

	info->flags = flags;
	info->size = size;
	info->offset = offset;
	info->cap_offset = 0;
	if (chain_len == 0)
		return;
	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (room >= need) {
		/* never past the caller's argsz, as the kernel never writes there */
		memcpy(info + 1, chain, chain_len);
		info->cap_offset = sizeof(*info);
	} else {
		info->argsz = need;
	}
}

#endif /* VFIOFD_FAKE_REGION_INFO_H */
