/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupts: the device's rte_intr_handle (MSI-X, MSI or INTx through eventfds,
 * programmed with VFIO_DEVICE_SET_IRQS) and the request notifier (the eventfd on
 * VFIO_PCI_REQ_IRQ_INDEX through which vfio-pci asks user space to release a device
 * the kernel wants to remove).
 *
 * The handle is shaped like bus/pci's VFIO handles (type VFIO_MSIX/MSI/LEGACY, fd =
 * vector 0's eventfd, dev_fd = the device fd), so the EAL's rte_intr_enable(),
 * rte_intr_efd_enable() and the rx-interrupt epoll helpers work on it unchanged; a
 * VFIO device fd from a cdev takes the same SET_IRQS as one from a group.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_interrupts.h>

#include "private.h"
#include "vfio_device.h"

const char *
vfiofd_intr_index_str(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX: return "intx";
	case VFIO_PCI_MSI_IRQ_INDEX: return "msi";
	case VFIO_PCI_MSIX_IRQ_INDEX: return "msix";
	default: return "none";
	}
}

static enum rte_intr_handle_type
handle_type(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_MSIX_IRQ_INDEX: return RTE_INTR_HANDLE_VFIO_MSIX;
	case VFIO_PCI_MSI_IRQ_INDEX: return RTE_INTR_HANDLE_VFIO_MSI;
	default: return RTE_INTR_HANDLE_VFIO_LEGACY;
	}
}

int
vfiofd_intr_setup(struct vfiofd_device *d)
{
	static const uint32_t all[] = {
		VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX,
	};
	enum vfiofd_opt_intr mode = d->opts.intr;
	struct rte_intr_handle *h;
	struct vfio_irq_info irq;
	uint32_t want = VFIO_PCI_NUM_IRQS;
	int efd, ret;

	if (mode == VFIOFD_OPT_INTR_AUTO) {
		/* the EAL's --vfio-intr, when given, applies to vfiofd devices too */
		switch (rte_eal_vfio_intr_mode()) {
		case RTE_INTR_MODE_MSIX: mode = VFIOFD_OPT_INTR_MSIX; break;
		case RTE_INTR_MODE_MSI: mode = VFIOFD_OPT_INTR_MSI; break;
		case RTE_INTR_MODE_LEGACY: mode = VFIOFD_OPT_INTR_INTX; break;
		default: break;
		}
	}
	switch (mode) {
	case VFIOFD_OPT_INTR_MSIX: want = VFIO_PCI_MSIX_IRQ_INDEX; break;
	case VFIOFD_OPT_INTR_MSI: want = VFIO_PCI_MSI_IRQ_INDEX; break;
	case VFIOFD_OPT_INTR_INTX: want = VFIO_PCI_INTX_IRQ_INDEX; break;
	default: break;
	}

	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL) {
		VFIOFD_DEV_LOG(ERR, d, "cannot allocate an interrupt handle");
		return -ENOMEM;
	}
	d->pub.intr_handle = h;
	/*
	 * The device fd goes in whatever the interrupt mode: DPDK's PCI drivers reach config
	 * space through it (bus/pci's accessors read the handle's dev_fd), in polling mode,
	 * with intr=none and in secondary processes too.
	 */
	if (rte_intr_dev_fd_set(h, d->devfd) != 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot fill the interrupt handle");
		return -EINVAL;
	}
	if (mode == VFIOFD_OPT_INTR_NONE)
		return 0;

	for (unsigned int i = 0; i < RTE_DIM(all); i++) {
		if (want != VFIO_PCI_NUM_IRQS && all[i] != want)
			continue;
		if (all[i] >= d->info.num_irqs)
			continue;
		ret = vfio_device_get_irq_info(d->devfd, all[i], &irq);
		if (ret == -EPROTO) {
			VFIOFD_DEV_LOG(WARNING, d, "IRQ_INFO(%s): malformed kernel reply (index "
				       "%u, %u vectors; at most %u): not used",
				       vfiofd_intr_index_str(all[i]), irq.index, irq.count,
				       VFIO_IRQ_COUNT_MAX);
		} else if (ret < 0) {
			/* an index below num_irqs must answer: no quiet fallback to another */
			VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_GET_IRQ_INFO(%s) failed: %s",
				       vfiofd_intr_index_str(all[i]), strerror(-ret));
			return ret;
		}
		if (ret < 0 || irq.count == 0 || !(irq.flags & VFIO_IRQ_INFO_EVENTFD))
			continue;
		d->intr_index = all[i];
		break;
	}
	if (d->intr_index == VFIO_PCI_NUM_IRQS) {
		if (want == VFIO_PCI_NUM_IRQS) {
			VFIOFD_DEV_LOG(NOTICE, d, "no interrupt with eventfd support: the device "
				       "is usable in polling mode only");
			return 0;
		}
		VFIOFD_DEV_LOG(ERR, d, "intr=%s asked for, but the device offers no %s "
			       "interrupt with eventfd support", vfiofd_intr_index_str(want),
			       vfiofd_intr_index_str(want));
		return -ENOTSUP;
	}
	if (d->intr_index == VFIO_PCI_MSIX_IRQ_INDEX &&
	    (uint32_t)rte_intr_nb_intr_get(h) < irq.count &&
	    rte_intr_event_list_update(h, (int)irq.count) != 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot size the interrupt handle for %u vectors",
			       irq.count);
		d->intr_index = VFIO_PCI_NUM_IRQS;
		return -ENOMEM;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		ret = -errno;
		VFIOFD_DEV_LOG(ERR, d, "cannot create an eventfd: %s", strerror(-ret));
		d->intr_index = VFIO_PCI_NUM_IRQS;
		return ret;
	}
	d->intr_efd = efd;
	if (rte_intr_fd_set(h, efd) != 0 ||
	    rte_intr_type_set(h, handle_type(d->intr_index)) != 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot fill the interrupt handle");
		return -EINVAL; /* teardown closes the eventfd */
	}
	d->pub.intr_vectors = irq.count;
	VFIOFD_DEV_LOG(INFO, d, "interrupts: %s, %u vector(s)",
		       vfiofd_intr_index_str(d->intr_index), irq.count);
	return 0;
}

void
vfiofd_intr_teardown(struct vfiofd_device *d)
{
	struct rte_intr_handle *h = d->pub.intr_handle;

	/* triggers off first, whoever enabled them (us or rte_intr_enable()) */
	if (d->intr_index < VFIO_PCI_NUM_IRQS && d->devfd >= 0 && !d->revoked)
		vfio_device_set_irqs_disable(d->devfd, d->intr_index);
	if (h != NULL) {
		/* queue eventfds a driver left behind */
		if (rte_intr_nb_efd_get(h) > 0)
			rte_intr_efd_disable(h);
		rte_intr_vec_list_free(h);
		rte_intr_instance_free(h);
		d->pub.intr_handle = NULL;
	}
	if (d->intr_efd >= 0) {
		close(d->intr_efd);
		d->intr_efd = -1;
	}
	d->intr_index = VFIO_PCI_NUM_IRQS;
	d->intr_enabled = false;
	d->pub.intr_vectors = 0;
}

int
rte_vfiofd_intr_enable(struct rte_vfiofd_device *dev)
{
	struct vfiofd_device *d;
	int fds[RTE_MAX_RXTX_INTR_VEC_ID + 1];
	uint32_t count;
	int nb_efd, ret;

	if (dev == NULL)
		return -EINVAL;
	d = VFIOFD_DEV(dev);
	if (d->devfd < 0 || d->intr_index >= VFIO_PCI_NUM_IRQS)
		return -ENOTSUP;
	if (d->revoked)
		return -ENODEV;
	nb_efd = rte_intr_nb_efd_get(dev->intr_handle);
	count = 1;
	fds[0] = d->intr_efd;
	if (d->intr_index != VFIO_PCI_INTX_IRQ_INDEX) {
		for (int i = 0; i < nb_efd && count < dev->intr_vectors &&
		     count < RTE_DIM(fds); i++) {
			int fd = rte_intr_efds_index_get(dev->intr_handle, i);

			/* with MSI/INTx the EAL aliases efd 0 to the handle's own fd */
			if (fd == d->intr_efd)
				break;
			fds[count++] = fd;
		}
	}
	ret = vfio_device_set_irqs_eventfds(d->devfd, d->intr_index, 0, count, fds);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_SET_IRQS(%s, %u vectors) failed: %s",
			       vfiofd_intr_index_str(d->intr_index), count, strerror(-ret));
		return ret;
	}
	if (d->intr_index == VFIO_PCI_INTX_IRQ_INDEX) {
		ret = vfio_device_irq_unmask(d->devfd, VFIO_PCI_INTX_IRQ_INDEX, 0);
		if (ret < 0) {
			VFIOFD_DEV_LOG(ERR, d, "cannot unmask INTx: %s", strerror(-ret));
			vfio_device_set_irqs_disable(d->devfd, d->intr_index);
			return ret;
		}
	}
	d->intr_enabled = true;
	return 0;
}

int
rte_vfiofd_intr_disable(struct rte_vfiofd_device *dev)
{
	struct vfiofd_device *d;
	int ret;

	if (dev == NULL)
		return -EINVAL;
	d = VFIOFD_DEV(dev);
	if (d->devfd < 0 || d->intr_index >= VFIO_PCI_NUM_IRQS)
		return -ENOTSUP;
	if (d->revoked) {
		/* the kernel stopped them when it took the device back */
		d->intr_enabled = false;
		return 0;
	}
	ret = vfio_device_set_irqs_disable(d->devfd, d->intr_index);
	/* vfio-pci answers EINVAL when no trigger is set (e.g. rte_intr_disable() ran
	 * first): the interrupts are off, which is what was asked */
	if (ret == -EINVAL)
		ret = 0;
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot disable %s interrupts: %s",
			       vfiofd_intr_index_str(d->intr_index), strerror(-ret));
		return ret;
	}
	d->intr_enabled = false;
	return 0;
}

int
rte_vfiofd_intr_ack(struct rte_vfiofd_device *dev)
{
	struct vfiofd_device *d;

	if (dev == NULL)
		return -EINVAL;
	d = VFIOFD_DEV(dev);
	if (d->devfd < 0 || d->intr_index >= VFIO_PCI_NUM_IRQS)
		return -ENOTSUP;
	if (d->intr_index != VFIO_PCI_INTX_IRQ_INDEX || d->revoked)
		return 0;
	return vfio_device_irq_unmask(d->devfd, VFIO_PCI_INTX_IRQ_INDEX, 0);
}

/*
 * The kernel asks for the device back (hot-unplug, or an unbind from vfio-pci); it
 * cannot complete until the device is closed. DPDK 22.11's interrupt thread reads the
 * VFIO_REQ eventfd before calling us (one call per signal); anything more that has
 * accumulated is drained here so that epoll does not report it again.
 *
 * As bus/pci does, the first request raises RTE_DEV_EVENT_REMOVE for the device: only
 * the application knows when its data path has left the device (testpmd --hot-plug
 * stops and detaches the port from an alarm). Removing it under a running PMD would
 * unmap BARs its lcores still poll. Unlike bus/pci, a request nobody handles does not
 * block the kernel until the process exits: vfio-pci repeats the request every 10 s
 * while the device stays open, and at a repeated request the bus revokes the device
 * (vfiofd_dev_revoke()): the kernel gets it back, while the driver keeps its port,
 * queues and (now anonymous) BARs, so lcores that still poll it read all ones instead
 * of freed memory. The application removes the port when it sees fit.
 */
static void
req_handler(void *arg)
{
	struct vfiofd_device *d = arg;
	char name[RTE_DEV_NAME_MAX_LEN];
	uint64_t v, n = 0;
	int ret;

	if (d->req_handle == NULL)
		return;
	while (read(rte_intr_fd_get(d->req_handle), &v, sizeof(v)) == sizeof(v))
		n += v;
	d->req_count += n > 0 ? n : 1;
	snprintf(name, sizeof(name), "%s", d->pub.name);
	if (d->req_events++ == 0) {
		VFIOFD_DEV_LOG(NOTICE, d, "the kernel asks to release the device (hot-unplug): "
			       "raising RTE_DEV_EVENT_REMOVE");
		rte_dev_event_callback_process(name, RTE_DEV_EVENT_REMOVE);
		return; /* a callback may have removed (freed) the device */
	}
	/* someone else is removing a device (maybe this one): leave it to them; if it
	 * is not this one, the kernel asks again in 10 s */
	if (!vfiofd_remove_trylock())
		return;
	if (!rte_dev_is_probed(&d->pub.device) || d->revoked) {
		vfiofd_remove_unlock();
		return;
	}
	VFIOFD_DEV_LOG(NOTICE, d, "the kernel asks again (request %" PRIu64 ") and the "
		       "application did not release the device: the bus revokes it (its BARs "
		       "now read as all ones, its fd is released); the port stays until the "
		       "application removes it", d->req_count);
	ret = vfiofd_dev_revoke(d);
	vfiofd_remove_unlock();
	if (ret < 0)
		VFIOFD_LOG(ERR, "%s: cannot revoke the device the kernel asks back: %s", name,
			   strerror(-ret));
	else
		VFIOFD_LOG(NOTICE, "%s: released to the kernel", name);
}

/* After a deferred unregister (teardown from inside req_handler): close the eventfd. */
static void
req_release(struct rte_intr_handle *h, void *arg __rte_unused)
{
	close(rte_intr_fd_get(h));
}

int
vfiofd_req_setup(struct vfiofd_device *d)
{
	struct vfio_irq_info irq;
	struct rte_intr_handle *h;
	int efd, ret;

	if (VFIO_PCI_REQ_IRQ_INDEX >= d->info.num_irqs) {
		VFIOFD_DEV_LOG(DEBUG, d, "no request notifier");
		return 0;
	}
	ret = vfio_device_get_irq_info(d->devfd, VFIO_PCI_REQ_IRQ_INDEX, &irq);
	if (ret < 0 && ret != -EPROTO) {
		/* without it the kernel's requests to release the device go unheard */
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_GET_IRQ_INFO(request notifier) failed: %s",
			       strerror(-ret));
		return ret;
	}
	if (ret < 0 || irq.count == 0 || !(irq.flags & VFIO_IRQ_INFO_EVENTFD)) {
		VFIOFD_DEV_LOG(DEBUG, d, "no request notifier");
		return 0;
	}
	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL) {
		VFIOFD_DEV_LOG(ERR, d, "cannot allocate the request notifier handle");
		return -ENOMEM;
	}
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		ret = -errno;
		VFIOFD_DEV_LOG(ERR, d, "cannot create the request notifier eventfd: %s",
			       strerror(-ret));
		rte_intr_instance_free(h);
		return ret;
	}
	if (rte_intr_fd_set(h, efd) != 0 || rte_intr_dev_fd_set(h, d->devfd) != 0 ||
	    rte_intr_type_set(h, RTE_INTR_HANDLE_VFIO_REQ) != 0) {
		ret = -EINVAL;
		VFIOFD_DEV_LOG(ERR, d, "cannot fill the request notifier handle");
		goto fail;
	}
	ret = rte_intr_callback_register(h, req_handler, d);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "cannot register the request notifier: %s",
			       strerror(-ret));
		goto fail;
	}
	ret = vfio_device_set_irqs_eventfds(d->devfd, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd);
	if (ret < 0) {
		VFIOFD_DEV_LOG(ERR, d, "VFIO_DEVICE_SET_IRQS(request) failed: %s",
			       strerror(-ret));
		rte_intr_callback_unregister_sync(h, req_handler, d);
		goto fail;
	}
	d->req_handle = h;
	d->req_events = 0;
	return 0;
fail:
	close(efd);
	rte_intr_instance_free(h);
	return ret;
}

void
vfiofd_req_teardown(struct vfiofd_device *d)
{
	struct rte_intr_handle *h = d->req_handle;
	int ret;

	if (h == NULL)
		return;
	if (d->devfd >= 0 && !d->revoked)
		vfio_device_set_irqs_disable(d->devfd, VFIO_PCI_REQ_IRQ_INDEX);
	if (rte_thread_is_intr()) {
		/* on the interrupt thread nothing of ours runs concurrently; but if we are
		 * inside req_handler() itself (a removal the request triggered) the EAL
		 * must drop it once it returns, and close the eventfd then */
		ret = rte_intr_callback_unregister(h, req_handler, d);
		if (ret == -EAGAIN)
			ret = rte_intr_callback_unregister_pending(h, req_handler, d,
								   req_release);
		else
			ret = -1;
		if (ret <= 0)
			close(rte_intr_fd_get(h));
	} else {
		/* waits for a running req_handler() to finish before d can go away */
		rte_intr_callback_unregister_sync(h, req_handler, d);
		close(rte_intr_fd_get(h));
	}
	rte_intr_instance_free(h);
	d->req_handle = NULL;
}
