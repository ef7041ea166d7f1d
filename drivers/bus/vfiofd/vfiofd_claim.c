/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Coexistence with bus/pci: a PCI function is driven by one bus only.
 *
 * DPDK 22.11's bus/pci scans the same /sys/bus/pci and would probe a vfio-pci device
 * with its own PMD through the VFIO group. The kernel already refuses the second user
 * (a device bound through its cdev blocks its group, and an open group blocks cdev
 * binds, both with EBUSY), but then one of the buses fails loudly at probe. So vfiofd
 * settles it before any probe, at scan time, with the EAL's own mechanism:
 *
 *   - A device vfiofd will drive (allow-listed with -a vfiofd:..., or in the default
 *     mode matched by a vfiofd driver) is *claimed*: bus/pci gets a blocked devargs for
 *     it, exactly what "-b <BDF>" would have given it. bus/pci honours that at probe
 *     (and ignores the device at its next scan), whichever bus scanned first, because
 *     the devargs is also attached to bus/pci's device if it already exists.
 *   - A device the user allow-listed on bus/pci ("-a <BDF>") is left to bus/pci when
 *     vfiofd only found it by scanning; if it is allow-listed on both buses the user
 *     asked for the impossible and vfiofd refuses it with an error.
 *   - A device bus/pci has already probed (hotplug ordering) is refused by vfiofd.
 *
 * The claim devargs is never freed: bus/pci's device may point at it for the rest of
 * the process. A later "rte_dev_probe(<BDF>)" on bus/pci rewrites it in place (the
 * EAL's devargs update), which is the user's explicit choice; the kernel's EBUSY then
 * still keeps the two buses apart.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dev_driver.h>
#include <rte_bus.h>
#include <rte_devargs.h>
#include <rte_pci.h>

#include "private.h"

#define PCI_BUS_NAME "pci"

const char *
vfiofd_claim_str(enum vfiofd_claim_state s)
{
	switch (s) {
	case VFIOFD_CLAIM_NONE: return "none";
	case VFIOFD_CLAIM_HELD: return "held";
	case VFIOFD_CLAIM_PCI_ALLOWED: return "left-to-pci";
	case VFIOFD_CLAIM_CONFLICT: return "conflict";
	case VFIOFD_CLAIM_PCI_PROBED: return "driven-by-pci";
	}
	return "?";
}

static int
cmp_dev_name(const struct rte_device *dev, const void *name)
{
	return strcmp(dev->name, name);
}

/* bus/pci's devargs for @addr, the first one, as bus/pci's own lookup picks it. */
static struct rte_devargs *
pci_devargs(const struct rte_pci_addr *addr)
{
	struct rte_devargs *da;

	RTE_EAL_DEVARGS_FOREACH(PCI_BUS_NAME, da) {
		struct rte_pci_addr a;

		if (rte_pci_addr_parse(da->name, &a) == 0 && rte_pci_addr_cmp(&a, addr) == 0)
			return da;
	}
	return NULL;
}

void
vfiofd_claim(struct vfiofd_device *d, bool explicit)
{
	struct rte_bus *pci = rte_bus_find_by_name(PCI_BUS_NAME);
	struct rte_devargs *da;
	struct rte_device *pdev;

	if (pci == NULL) {
		d->claim = VFIOFD_CLAIM_NONE;
		return;
	}
	pdev = pci->find_device(NULL, cmp_dev_name, d->pub.name);
	if (pdev != NULL && rte_dev_is_probed(pdev)) {
		d->claim = VFIOFD_CLAIM_PCI_PROBED; /* refused, with the reason, at probe */
		return;
	}
	da = pci_devargs(&d->pub.addr);
	if (da != NULL && da->policy == RTE_DEV_ALLOWED) {
		if (explicit) {
			if (d->claim != VFIOFD_CLAIM_CONFLICT)
				VFIOFD_DEV_LOG(ERR, d, "allow-listed on both bus pci and bus "
					       "vfiofd: a device is driven by one bus only; drop "
					       "'-a %s' or '-a vfiofd:%s'", d->pub.name,
					       d->pub.name);
			d->claim = VFIOFD_CLAIM_CONFLICT;
		} else {
			if (d->claim != VFIOFD_CLAIM_PCI_ALLOWED)
				VFIOFD_DEV_LOG(NOTICE, d, "allow-listed on bus pci, left to it "
					       "(use -a vfiofd:%s to drive it through vfiofd)",
					       d->pub.name);
			d->claim = VFIOFD_CLAIM_PCI_ALLOWED;
		}
		return;
	}
	if (da == NULL) {
		da = calloc(1, sizeof(*da));
		if (da == NULL)
			goto nomem;
		if (rte_devargs_parsef(da, PCI_BUS_NAME ":%s", d->pub.name) != 0) {
			free(da);
			goto nomem;
		}
		da->type = RTE_DEVTYPE_BLOCKED;
		da->policy = RTE_DEV_BLOCKED;
		if (rte_devargs_insert(&da) != 0) { /* only without a bus: cannot be */
			free(da->data);
			free(da);
			goto nomem;
		}
		VFIOFD_DEV_LOG(DEBUG, d, "claimed: bus pci will not probe it");
	}
	/* blocked on bus/pci now (by us, or by the user's -b) */
	if (pdev != NULL)
		pdev->devargs = da;
	d->claim = VFIOFD_CLAIM_HELD;
	return;
nomem:
	/* the kernel's EBUSY still keeps the buses apart; say why bus/pci may complain */
	VFIOFD_DEV_LOG(WARNING, d, "cannot tell bus pci to leave it alone (no memory)");
	d->claim = VFIOFD_CLAIM_NONE;
}

int
vfiofd_claim_check(struct vfiofd_device *d)
{
	struct rte_bus *pci = rte_bus_find_by_name(PCI_BUS_NAME);
	struct rte_device *pdev;

	if (d->claim == VFIOFD_CLAIM_PCI_ALLOWED)
		return 1;
	if (d->claim == VFIOFD_CLAIM_CONFLICT) {
		VFIOFD_DEV_LOG(ERR, d, "refused: allow-listed on both bus pci and bus vfiofd");
		return -EBUSY;
	}
	if (pci == NULL)
		return 0;
	pdev = pci->find_device(NULL, cmp_dev_name, d->pub.name);
	if (pdev != NULL && rte_dev_is_probed(pdev)) {
		VFIOFD_DEV_LOG(ERR, d,
			       "refused: already driven by bus pci (driver %s); a device is "
			       "driven by one bus only: detach it from bus pci first "
			       "(rte_dev_remove), and do not allow-list it there",
			       pdev->driver != NULL && pdev->driver->name != NULL ?
			       pdev->driver->name : "?");
		return -EBUSY;
	}
	return 0;
}
