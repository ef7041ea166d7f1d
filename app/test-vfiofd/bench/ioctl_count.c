/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim: count the DMA-map ioctls a process issues and the time spent inside
 * them, the same way for DPDK's VFIO type1 path (VFIO_IOMMU_MAP_DMA) and for iommufd
 * (IOMMU_IOAS_MAP), so that the two registration paths are measured alike.
 * At exit it prints:  IOCTLS <name> calls=<n> ms=<total time inside the ioctl>
 * A program that wants to count one phase only finds ioctl_count_reset() and
 * ioctl_count_report() with dlsym(RTLD_DEFAULT, ...) and calls them around it.
 */

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

static struct counter {
	const char *name;
	unsigned long request;
	unsigned long calls;
	double ms;
} counters[] = {
	{ "VFIO_IOMMU_MAP_DMA", VFIO_IOMMU_MAP_DMA, 0, 0 },
	{ "VFIO_IOMMU_UNMAP_DMA", VFIO_IOMMU_UNMAP_DMA, 0, 0 },
	{ "IOMMU_IOAS_MAP", IOMMU_IOAS_MAP, 0, 0 },
	{ "IOMMU_IOAS_UNMAP", IOMMU_IOAS_UNMAP, 0, 0 },
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	void *arg;
	double t0;
	int ret;

	if (real == NULL)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	for (unsigned int i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		if (counters[i].request != request)
			continue;
		t0 = now_ms();
		ret = real(fd, request, arg);
		counters[i].ms += now_ms() - t0;
		counters[i].calls++;
		return ret;
	}
	return real(fd, request, arg);
}

static int reported;

void ioctl_count_reset(void);
void ioctl_count_report(void);

void
ioctl_count_reset(void)
{
	for (unsigned int i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		counters[i].calls = 0;
		counters[i].ms = 0;
	}
}

void
ioctl_count_report(void)
{
	reported = 1;
	for (unsigned int i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].calls > 0)
			fprintf(stderr, "IOCTLS %s calls=%lu ms=%.3f\n", counters[i].name,
				counters[i].calls, counters[i].ms);
}

static void __attribute__((destructor))
report_at_exit(void)
{
	if (!reported)
		ioctl_count_report();
}
