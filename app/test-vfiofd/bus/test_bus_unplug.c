/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel-initiated hot-unplug (QMP device_del on the host, see qmp_unplug.py):
 *
 *   hotunplug --dev BDF --qmp-id ID --other BDF --mode event|ignored
 *             [--results DIR] [-- EAL arguments]
 *
 * Both devices are probed with the test driver; then the program asks the host hook
 * to device_del ID (the QEMU id of BDF) and keeps reading the other device's config
 * space and BAR the whole time. vfio-pci relays the unplug as a request on the
 * device's request notifier:
 *
 *   event     the program handles RTE_DEV_EVENT_REMOVE as testpmd --hot-plug does
 *             (an alarm that calls rte_dev_remove());
 *   ignored   no one listens to device events, and the program keeps loading from
 *             the device's BAR as a polling lcore would: at the kernel's repeated
 *             request (vfio-pci repeats it every 10 s) the bus revokes the device
 *             (BARs to anonymous memory, device file released) without touching
 *             its driver; the program removes the device afterwards.
 *
 * Passes when QEMU reported DEVICE_DELETED (which needs the device released), its PCI
 * function left sysfs, the other device kept answering throughout and after, and
 * nothing of the removed device is left open; in event mode the driver was removed
 * while the process ran, in ignored mode the driver kept the device until the
 * program removed it, which then succeeds.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <linux/pci_regs.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>

#include "test_bus.h"

static char unplug_bdf[32];
static volatile unsigned int events_seen, alarm_removed;
static volatile int alarm_ret = 1;

/* As testpmd's rmv_port_callback(): detach outside the event callback. */
static void
remove_alarm(void *arg)
{
	struct rte_vfiofd_device *dev = vfiofd_dev(arg);

	alarm_ret = dev != NULL ? rte_dev_remove(&dev->device) : -ENODEV;
	alarm_removed = 1;
}

static void
dev_event(const char *name, enum rte_dev_event_type type, void *arg)
{
	RTE_SET_USED(arg);
	if (type != RTE_DEV_EVENT_REMOVE || strcmp(name, unplug_bdf) != 0)
		return;
	events_seen++;
	printf("# RTE_DEV_EVENT_REMOVE for %s\n", name);
	rte_eal_alarm_set(100 * 1000, remove_alarm, unplug_bdf);
}

static bool
file_exists(const char *dir, const char *id, const char *suffix, char *content, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/unplug.%s.%s", dir, id, suffix);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (content != NULL && (fgets(content, (int)len, f) == NULL))
		content[0] = '\0';
	fclose(f);
	return true;
}

/* The other device answers: config space and a mapped BAR. */
static bool
other_ok(struct rte_vfiofd_device *o)
{
	uint16_t vendor = 0;
	uint32_t w;

	if (rte_vfiofd_config_read(o, 0, &vendor, 2) != 2 || vendor != o->id.vendor_id)
		return false;
	for (unsigned int b = 0; b < RTE_VFIOFD_NUM_BARS; b++)
		if (o->regions[b].flags & RTE_VFIOFD_REGION_MAPPED)
			return rte_vfiofd_region_read(o, b, 0, &w, 4) == 4;
	return true;
}

int
cmd_hotunplug(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "qmp-id", required_argument, NULL, 'q' },
		{ "other", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "results", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *id = NULL, *other = NULL, *mode = "event", *results = "/run/results";
	int opt_argc, eal_argc, c, ret;
	unsigned int reads = 0, read_fail = 0, polls = 0;
	struct rte_vfiofd_device *o, *u = NULL;
	const volatile uint32_t *u_reg = NULL;
	uint32_t u_last = 0;
	struct tap t = { 0 };
	char **eal_argv, devargs[64], path[300], buf[64];
	uint64_t t0, t_removed = 0, hz;
	bool event_mode, removed = false, deleted = false;
	struct res r;
	FILE *f;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': snprintf(unplug_bdf, sizeof(unplug_bdf), "%s", optarg); break;
		case 'q': id = optarg; break;
		case 'o': other = optarg; break;
		case 'm': mode = optarg; break;
		case 'r': results = optarg; break;
		default: return 2;
		}
	}
	event_mode = strcmp(mode, "event") == 0;
	if (unplug_bdf[0] == '\0' || id == NULL || other == NULL ||
	    (!event_mode && strcmp(mode, "ignored") != 0))
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	hz = rte_get_timer_hz();
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", unplug_bdf);
	ret = rte_dev_probe(devargs);
	u = vfiofd_dev(unplug_bdf);
	tap_check(&t, ret == 0 && u != NULL, "%s probed (%d)", devargs, ret);
	/* the register a polling lcore would load: the first word of a mapped BAR */
	for (unsigned int b = 0; u != NULL && u_reg == NULL && b < RTE_VFIOFD_NUM_BARS; b++)
		if (u->regions[b].flags & RTE_VFIOFD_REGION_MAPPED)
			u_reg = u->regions[b].addr;
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", other);
	ret = rte_dev_probe(devargs);
	o = vfiofd_dev(other);
	if (!tap_check(&t, ret == 0 && o != NULL, "%s probed (%d)", devargs, ret))
		goto out;
	if (event_mode) {
		ret = rte_dev_event_callback_register(NULL, dev_event, NULL);
		tap_check(&t, ret == 0, "device event callback registered (%d)", ret);
	}

	/* ask the host hook for device_del */
	snprintf(path, sizeof(path), "%s/unplug.%s.req", results, id);
	f = fopen(path, "w");
	if (!tap_check(&t, f != NULL, "request written: %s", path))
		goto out;
	fputs(unplug_bdf, f);
	fclose(f);
	t0 = rte_get_timer_cycles();
	/* ignored mode waits for the kernel's second request, 10 s after the first */
	while (rte_get_timer_cycles() - t0 < 60 * hz) {
		reads++;
		if (!other_ok(o))
			read_fail++;
		if (!event_mode && u_reg != NULL) {
			u_last = *u_reg;
			polls++;
		}
		if (!event_mode && !removed &&
		    file_exists(results, id, "deleted", buf, sizeof(buf))) {
			deleted = true;
			break;
		}
		if (!removed && __atomic_load_n(&test_drv.removes, __ATOMIC_ACQUIRE) > 0) {
			removed = true;
			t_removed = rte_get_timer_cycles();
		}
		if (removed && file_exists(results, id, "deleted", buf, sizeof(buf))) {
			deleted = true;
			break;
		}
		rte_delay_ms(20);
	}
	if (!event_mode && u_reg != NULL) {
		u_last = *u_reg; /* after DEVICE_DELETED: the revocation is done */
		polls++;
	}
	if (event_mode)
		tap_check(&t, removed, "%s removed from its driver while the process runs, "
			  "%.2f s after the request", unplug_bdf,
			  removed ? (double)(t_removed - t0) / hz : -1.0);
	tap_check(&t, deleted, "QEMU reported DEVICE_DELETED for %s (%s s after device_del)",
		  id, deleted ? strtok(buf, "\n") : "-");
	if (event_mode) {
		tap_check(&t, events_seen == 1 && alarm_removed && alarm_ret == 0,
			  "event mode: RTE_DEV_EVENT_REMOVE seen %u time(s), the application's "
			  "rte_dev_remove() returned %d", events_seen, alarm_ret);
	} else {
		/* revoked, not removed: the driver still has it, its file is released */
		tap_check(&t, !removed && vfiofd_dev(unplug_bdf) == u && test_drv.ndevs == 2,
			  "ignored mode: the driver still holds %s after DEVICE_DELETED "
			  "(removes %u)", unplug_bdf, test_drv.removes);
		tap_check(&t, u_reg != NULL && polls > 0 && u_last == UINT32_MAX,
			  "ignored mode: %u loads from its BAR during the unplug, none faulted, "
			  "the last read %#x (all ones, as from a device that is gone)", polls,
			  u_last);
		res_get(&r);
		res_diag("revoked, still probed", &r);
		tap_check(&t, r.vfio_fds == 2, "ignored mode: its device file is released while "
			  "the driver holds it (%ld VFIO fds: the other's cdev and the iommufd)",
			  r.vfio_fds);
		ret = u != NULL ? rte_dev_remove(&u->device) : -ENODEV;
		tap_check(&t, ret == 0, "ignored mode: the program removes the revoked device "
			  "afterwards (%d)", ret);
	}
	tap_check(&t, vfiofd_dev(unplug_bdf) == NULL, "%s is no longer on the bus", unplug_bdf);
	{
		struct stat st;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", unplug_bdf);
		/* the kernel finishes removing the function right after DEVICE_DELETED */
		for (int i = 0; i < 100 && stat(path, &st) == 0; i++)
			rte_delay_ms(20);
		tap_check(&t, stat(path, &st) != 0, "%s has left sysfs", unplug_bdf);
	}
	tap_check(&t, read_fail == 0, "%s answered all %u reads during the unplug", other,
		  reads);
	tap_check(&t, other_ok(o) && test_drv.ndevs == 1 && test_drv.devs[0] == o,
		  "%s still works and is still probed", other);
	res_get(&r);
	res_diag("after the unplug", &r);
	/* the other device's cdev and the iommufd remain */
	tap_check(&t, r.vfio_fds == 2, "only the other device's fds remain (%ld)", r.vfio_fds);
	if (event_mode)
		rte_dev_event_callback_unregister(NULL, dev_event, NULL);
out:
	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0, "rte_eal_cleanup (%d)", ret);
	return tap_done(&t);
}

/*
 * sigbus --dev BDF [-- EAL arguments]
 *
 * A BAR load that faults: with the EAL's SIGBUS handling on
 * (rte_dev_hotplug_handle_enable(), as testpmd --hot-plug does), the device's memory
 * decoding is switched off in its command register, which makes vfio-pci fault every
 * access to its BAR mappings with SIGBUS. The bus must take the fault (its BARs become
 * anonymous memory, the load restarts and reads all ones), raise RTE_DEV_EVENT_REMOVE, and
 * the device must then remove cleanly.
 */
static volatile unsigned int sigbus_events;

static void
sigbus_event(const char *name, enum rte_dev_event_type type, void *arg)
{
	RTE_SET_USED(arg);
	if (type == RTE_DEV_EVENT_REMOVE && strcmp(name, unplug_bdf) == 0)
		sigbus_events++;
}

int
cmd_sigbus(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int opt_argc, eal_argc, c, ret;
	const volatile uint32_t *reg = NULL;
	struct rte_vfiofd_device *u;
	uint16_t cmd = 0, off;
	struct res before, after;
	struct tap t = { 0 };
	char **eal_argv, devargs[64];
	uint32_t v;

	split_args(argc, argv, &opt_argc, &eal_argv, &eal_argc);
	while ((c = getopt_long(opt_argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd')
			return 2;
		snprintf(unplug_bdf, sizeof(unplug_bdf), "%s", optarg);
	}
	if (unplug_bdf[0] == '\0')
		return 2;
	log_capture_start();
	ret = test_eal_init(eal_argc, eal_argv);
	if (!tap_check(&t, ret >= 0, "rte_eal_init (%d)", ret))
		return tap_done(&t);
	res_get(&before);
	snprintf(devargs, sizeof(devargs), "vfiofd:%s", unplug_bdf);
	ret = rte_dev_probe(devargs);
	u = vfiofd_dev(unplug_bdf);
	if (!tap_check(&t, ret == 0 && u != NULL, "%s probed (%d)", devargs, ret))
		goto out;
	for (unsigned int b = 0; reg == NULL && b < RTE_VFIOFD_NUM_BARS; b++)
		if (u->regions[b].flags & RTE_VFIOFD_REGION_MAPPED)
			reg = u->regions[b].addr;
	if (!tap_check(&t, reg != NULL, "%s has a mapped BAR", unplug_bdf))
		goto out;
	ret = rte_dev_hotplug_handle_enable();
	tap_check(&t, ret == 0, "the EAL's SIGBUS handling is on (%d)", ret);
	ret = rte_dev_event_callback_register(unplug_bdf, sigbus_event, NULL);
	tap_check(&t, ret == 0, "device event callback registered (%d)", ret);
	v = *reg;
	off = PCI_COMMAND;
	ret = rte_vfiofd_config_read(u, off, &cmd, sizeof(cmd));
	cmd &= (uint16_t)~PCI_COMMAND_MEMORY;
	if (ret == (int)sizeof(cmd))
		ret = rte_vfiofd_config_write(u, off, &cmd, sizeof(cmd));
	tap_check(&t, ret == (int)sizeof(cmd), "memory decoding off in the command register (%d)",
		  ret);
	printf("# loading from the BAR (%#x before): vfio-pci faults it\n", v);
	fflush(stdout);
	v = *reg;
	tap_check(&t, v == UINT32_MAX && sigbus_events == 1, "the SIGBUS was the bus's: the "
		  "load read %#x (all ones, as from a device that is gone), "
		  "RTE_DEV_EVENT_REMOVE raised %u time(s)", v, sigbus_events);
	v = *reg;
	tap_check(&t, v == UINT32_MAX && sigbus_events == 1, "a second load does not fault "
		  "(%#x, %u event(s))", v, sigbus_events);
	rte_dev_event_callback_unregister(unplug_bdf, sigbus_event, NULL);
	rte_dev_hotplug_handle_disable();
	ret = rte_dev_remove(&u->device);
	tap_check(&t, ret == 0 && vfiofd_dev(unplug_bdf) == NULL,
		  "the device removes cleanly afterwards (%d)", ret);
	res_get(&after);
	res_diag("after the remove", &after);
	tap_check(&t, after.vfio_fds == before.vfio_fds && after.maps == before.maps &&
		  after.vmpin_kb == before.vmpin_kb, "fds, mappings and pinned memory back to "
		  "the baseline (VFIO fds %ld/%ld, maps %ld/%ld, VmPin %ld/%ld kB)",
		  after.vfio_fds, before.vfio_fds, after.maps, before.maps, after.vmpin_kb,
		  before.vmpin_kb);
out:
	ret = rte_eal_cleanup();
	tap_check(&t, ret == 0, "rte_eal_cleanup (%d)", ret);
	return tap_done(&t);
}
