/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "errno --dev BDF" (an e1000e): the bus meets the kernel's errno contracts
 * (test-vfiofd-errno-contracts checks the kernel's side), each with a line that names
 * the device, the step and the cause, and leaves nothing behind:
 *
 *   - probe while another process holds the device's cdev bound: refused at
 *     VFIO_DEVICE_BIND_IOMMUFD (EINVAL), the line names the holder's pid; no fd,
 *     mapping, pin or probed device left; once the holder exits, the probe succeeds;
 *   - probe of a device that is probed already: the bus answers -EEXIST (checked at its
 *     plug), which rte_dev_probe() reports as success; a line says so, nothing changes;
 *   - a partial DMA unmap (rte_dev_dma_unmap() of part of an rte_dev_dma_map()): refused
 *     before any ioctl, with the mapping it would split; the mapping still works (the
 *     device DMAs through both ends of it) and unmaps whole afterwards.
 *
 * Start the EAL with "-a vfiofd:" (nothing probed at init). The holder is forked before
 * rte_eal_init(), while this process has no threads.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <bus_driver.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_interrupts.h>
#include <rte_memory.h>

#include "rte_iommufd_mem.h"
#include "vfiofd_sysfs.h"
#include "../cdev_holder.h"
#include "e1000e_tx.h"
#include "test_bus.h"

#define EXT_LEN (2u << 20)
#define PAGE_SZ 4096u

static long
vmpin_kb(void)
{
	struct res r;

	res_get(&r);
	return r.vmpin_kb;
}

static bool
same_res(const struct res *a, const struct res *b)
{
	return a->fds == b->fds && a->maps == b->maps && a->vmpin_kb == b->vmpin_kb &&
	       a->vfio_fds == b->vfio_fds && a->devargs == b->devargs;
}

/*
 * Probe refused while @h holds the cdev; then @h exits and a probe succeeds. @released:
 * this process's resources once the holder is gone, before that probe.
 */
static bool
bind_held(struct tap *t, const char *bdf, struct cdev_holder *h, struct res *released)
{
	struct rte_vfiofd_device *dev;
	struct res before, after;
	unsigned int probes = test_drv.probes;
	char devargs[64], want[96];
	size_t mark = log_mark();
	int ret, status;

	snprintf(devargs, sizeof(devargs), "vfiofd:%s", bdf);
	res_get(&before);
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	tap_check(t, ret == -EINVAL && test_drv.probes == probes &&
		  (dev == NULL || !rte_dev_is_probed(&dev->device)),
		  "held by pid %d: rte_dev_probe(%s) refused: %d, want -EINVAL", (int)h->pid,
		  devargs, ret);
	snprintf(want, sizeof(want), "%s: VFIO_DEVICE_BIND_IOMMUFD failed: Invalid argument: "
		 "the device is already in use", bdf);
	tap_check(t, log_seen(mark, want), "the line names the device, the step and the "
		  "cause: '%s...'", want);
	snprintf(want, sizeof(want), "its cdev is also open in pid %d (", (int)h->pid);
	tap_check(t, log_seen(mark, want), "... and the process that holds it: '%s'", want);
	/* the EAL keeps the devargs of a failed hotplug probe: drop them as an application
	 * would, before comparing */
	if (dev != NULL)
		rte_devargs_remove(dev->device.devargs);
	res_get(&after);
	res_diag("before the refused probe", &before);
	res_diag("after it", &after);
	tap_check(t, same_res(&before, &after) && after.vfio_fds == 0 && after.vmpin_kb == 0,
		  "nothing left behind: no cdev or iommufd open, nothing pinned");

	status = cdev_holder_release(h);
	tap_check(t, WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the holder exited (status 0x%x)", status);
	res_get(released);
	ret = rte_dev_probe(devargs);
	dev = vfiofd_dev(bdf);
	return tap_check(t, ret == 0 && dev != NULL && rte_dev_is_probed(&dev->device) &&
			 test_drv.probes == probes + 1, "then rte_dev_probe(%s) succeeds: %d",
			 devargs, ret);
}

/*
 * Probes of the probed device change nothing, whether the EAL finds its devargs by name
 * and replaces them in place (the new syntax) or adds a second one ("vfiofd:<BDF>",
 * which the bus makes canonical).
 */
static void
probe_again(struct tap *t, const char *bdf)
{
	static const char *const forms[] = {
		"vfiofd:%s,intr=none", "bus=vfiofd,addr=%s,intr=none",
	};
	struct rte_bus *bus = rte_bus_find_by_name(RTE_BUS_VFIOFD_NAME);
	struct rte_vfiofd_device *dev = vfiofd_dev(bdf);
	unsigned int probes = test_drv.probes;
	struct res before, after;
	char devargs[64], want[96];
	uint16_t vendor = 0;
	size_t mark;
	int ret;

	res_get(&before);
	for (size_t i = 0; i < RTE_DIM(forms); i++) {
		mark = log_mark();
		snprintf(devargs, sizeof(devargs), forms[i], bdf);
		ret = rte_dev_probe(devargs);
		/* rte_dev_probe(): local_dev_probe() gets -EEXIST from the bus and keeps the
		 * device; -EEXIST then only skips the rollback, and with no secondary
		 * process to sync the call returns 0 */
		tap_check(t, ret == 0 && test_drv.probes == probes && vfiofd_dev(bdf) == dev &&
			  rte_dev_is_probed(&dev->device), "probed already: rte_dev_probe(%s): "
			  "%d (the EAL's answer for a device already attached), not probed again",
			  devargs, ret);
		snprintf(want, sizeof(want), "%s: already probed by driver %s: not probed again",
			 bdf, test_vfiofd_driver.driver.name);
		tap_check(t, log_seen(mark, want), "the line says so: '%s'", want);
	}
	rte_errno = 0;
	ret = bus->plug(&dev->device);
	tap_check(t, ret == -EEXIST && rte_errno == EEXIST, "the bus's plug of it: %d, want "
		  "-EEXIST (rte_errno %d)", ret, rte_errno);
	res_get(&after);
	res_diag("before the probes again", &before);
	res_diag("after them", &after);
	tap_check(t, same_res(&before, &after), "no fd, mapping, pin or devargs more");
	tap_check(t, rte_vfiofd_config_read(dev, 0, &vendor, 2) == 2 &&
		  vendor == dev->id.vendor_id && dev->intr_handle != NULL &&
		  rte_intr_type_get(dev->intr_handle) != RTE_INTR_HANDLE_UNKNOWN,
		  "the device works as before, with the options it was probed with "
		  "(interrupts, not intr=none)");
}

/*
 * rte_dev_dma_map() of 2 MiB of external memory, refused partial unmaps, the mapping
 * still used by the device, then the whole unmap. @base_pin: VmPin with the device
 * probed.
 */
static void
dma_partial_unmap(struct tap *t, const char *bdf, long base_pin)
{
	struct rte_vfiofd_device *dev = vfiofd_dev(bdf);
	struct e1000e_tx_result tx;
	static const struct {
		uint64_t off, len;
		int64_t iova_delta;
		const char *what, *why;
	} parts[] = {
		{ 0, EXT_LEN / 2, 0, "its first half",
		  "does not match the mapping VA" },
		{ PAGE_SZ, PAGE_SZ, 0, "one page inside it",
		  "does not match the mapping VA" },
		{ 0, EXT_LEN, PAGE_SZ, "all of it at another IOVA",
		  "that memory is mapped at IOVA" },
	};
	uint64_t iova, fixed;
	char want[128];
	size_t mark;
	char *mem;
	int ret;

	mem = mmap(NULL, EXT_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!tap_check(t, mem != MAP_FAILED, "2 MiB of external memory"))
		return;
	iova = (uintptr_t)mem;
	ret = rte_extmem_register(mem, EXT_LEN, NULL, 0, PAGE_SZ);
	if (ret == 0)
		ret = rte_dev_dma_map(&dev->device, mem, iova, EXT_LEN);
	if (!tap_check(t, ret == 0 && vmpin_kb() == base_pin + 2048,
		       "rte_dev_dma_map() of it at IOVA 0x%" PRIx64 " (%d), VmPin %ld kB", iova,
		       ret == 0 ? 0 : -rte_errno, vmpin_kb()))
		goto out;

	for (size_t i = 0; i < RTE_DIM(parts); i++) {
		mark = log_mark();
		rte_errno = 0;
		ret = rte_dev_dma_unmap(&dev->device, mem + parts[i].off,
					iova + parts[i].off + parts[i].iova_delta, parts[i].len);
		tap_check(t, ret == -1 && rte_errno == ENOENT, "rte_dev_dma_unmap() of %s: %d, "
			  "rte_errno %d, want ENOENT", parts[i].what, ret, rte_errno);
		snprintf(want, sizeof(want), "%s: DMA unmap of %" PRIu64 " bytes at %p", bdf,
			 parts[i].len, mem + parts[i].off);
		tap_check(t, log_seen(mark, want) && log_seen(mark, "nothing was unmapped") &&
			  log_seen(mark, parts[i].why), "the lines name the device, the range "
			  "and why: '%s'", parts[i].why);
	}
	tap_check(t, vmpin_kb() == base_pin + 2048 &&
		  rte_iommufd_mem_va2iova(mem + EXT_LEN - 1) == iova + EXT_LEN - 1,
		  "still mapped whole: VmPin %ld kB, the translation cache still has it",
		  vmpin_kb());
	/* the device reads a descriptor at the first page, a frame at the last page, and
	 * writes the descriptor back: a hole there would be a DMAR fault, which fails the
	 * test bed's command */
	e1000e_tx_one(dev, mem, iova, iova + EXT_LEN - PAGE_SZ, &tx);
	tap_check(t, tx.tdh == 1 && tx.dd, "the device DMAs through it: descriptor read at "
		  "IOVA 0x%" PRIx64 " (TDH %u), frame read at +0x%x, status written back (DD "
		  "%d)", iova, tx.tdh, EXT_LEN - PAGE_SZ, tx.dd);

	ret = rte_dev_dma_unmap(&dev->device, mem, iova, EXT_LEN);
	tap_check(t, ret == 0 && vmpin_kb() == base_pin &&
		  rte_iommufd_mem_va2iova(mem) == RTE_BAD_IOVA,
		  "rte_dev_dma_unmap() of the whole mapping: %d, VmPin back to %ld kB", ret,
		  vmpin_kb());
	/* and the kernel let go of the IOVA: a map of one page there is taken */
	fixed = iova;
	ret = iommufd_ioas_map(rte_iommufd_mem_iommufd(), rte_iommufd_mem_default_ioas(), mem,
			       PAGE_SZ, &fixed, true);
	tap_check(t, ret == 0, "the kernel holds nothing at IOVA 0x%" PRIx64 " any more (a "
		  "FIXED_IOVA map there: %d)", iova, ret);
	if (ret == 0)
		iommufd_ioas_unmap(rte_iommufd_mem_iommufd(), rte_iommufd_mem_default_ioas(),
				   fixed, PAGE_SZ, NULL);
	mark = log_mark();
	rte_errno = 0;
	ret = rte_dev_dma_unmap(&dev->device, mem, iova, EXT_LEN);
	tap_check(t, ret == -1 && rte_errno == ENOENT && log_seen(mark, "no such mapping"),
		  "unmapping it again: ENOENT, 'no such mapping' (%d)", rte_errno);
out:
	rte_extmem_unregister(mem, EXT_LEN);
	munmap(mem, EXT_LEN);
}

int
cmd_errno(int argc, char **argv)
{
	const char *bdf;
	struct vfiofd_cdev_id cdev;
	struct cdev_holder h = { .pid = -1, .release = -1 };
	struct res base, r;
	struct tap t = { 0 };
	int eal_argc, ret;
	char **eal_argv;

	if (!dev_only_args(argc, argv, &bdf, &eal_argc, &eal_argv))
		return 2;
	ret = vfiofd_sysfs_find_cdev(VFIOFD_SYSFS_PCI_DEVICES, VFIOFD_DEV_ROOT, bdf, &cdev);
	if (ret == 0)
		ret = cdev_holder_start(&h, VFIOFD_DEV_ROOT "/iommu", cdev.path, cdev.major,
					cdev.minor);
	if (!tap_check(&t, ret == 0, "another process (pid %d) holds %s's cdev %s bound: %s",
		       (int)h.pid, bdf, cdev.path, strerror(-ret)))
		return tap_done(&t);
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret)) {
		cdev_holder_release(&h);
		return tap_done(&t);
	}
	if (bind_held(&t, bdf, &h, &base)) {
		res_get(&r);
		probe_again(&t, bdf);
		dma_partial_unmap(&t, bdf, r.vmpin_kb);
		tap_check(&t, rte_dev_remove(&vfiofd_dev(bdf)->device) == 0, "%s removed", bdf);
	}
	cdev_holder_release(&h);
	res_get(&r);
	res_diag("once the holder was gone", &base);
	res_diag("at the end", &r);
	tap_check(&t, same_res(&base, &r) && r.vfio_fds == 0 && vfiofd_dev(bdf) == NULL &&
		  test_drv.ndevs == 0, "back to the start: fds, mappings, VmPin, devargs, no "
		  "vfio/iommufd fd, %s off the bus", bdf);
	rte_eal_cleanup();
	return tap_done(&t);
}
