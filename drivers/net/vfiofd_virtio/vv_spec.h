/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parts of the virtio 1.x specification (OASIS virtio v1.2) this driver uses:
 * the PCI transport's capabilities and common configuration layout, the network
 * device's feature bits, configuration and header, the control queue's commands and
 * the split virtqueue's in-memory layout. Everything the device reads or writes is
 * little-endian; the driver only builds for little-endian hosts (see meson.build), so
 * the fields are used as they are.
 */

#ifndef VV_SPEC_H
#define VV_SPEC_H

#include <assert.h>
#include <stdint.h>

#include <rte_common.h>

/* --- PCI transport (spec 4.1) --- */

#define VV_PCI_VENDOR_ID        0x1af4
#define VV_PCI_DEVICE_ID_NET    0x1041 /* 0x1040 + device type 1 (network) */

#define VV_PCI_CAP_PTR          0x34   /* capabilities pointer in config space */
#define VV_PCI_STATUS           0x06
#define VV_PCI_STATUS_CAP_LIST  0x10
#define VV_PCI_CAP_ID_VNDR      0x09   /* vendor-specific capability */

/* cfg_type of a virtio vendor capability */
#define VV_PCI_CAP_COMMON_CFG   1
#define VV_PCI_CAP_NOTIFY_CFG   2
#define VV_PCI_CAP_ISR_CFG      3
#define VV_PCI_CAP_DEVICE_CFG   4
#define VV_PCI_CAP_PCI_CFG      5

/* struct virtio_pci_cap: byte offsets inside the capability */
#define VV_CAP_OFF_VNDR         0
#define VV_CAP_OFF_NEXT         1
#define VV_CAP_OFF_LEN          2
#define VV_CAP_OFF_CFG_TYPE     3
#define VV_CAP_OFF_BAR          4
#define VV_CAP_OFF_OFFSET       8
#define VV_CAP_OFF_LENGTH       12
#define VV_CAP_LEN              16
/* struct virtio_pci_notify_cap adds the multiplier after the generic part */
#define VV_CAP_OFF_NOTIFY_MULT  16
#define VV_NOTIFY_CAP_LEN       20

/* struct virtio_pci_common_cfg: byte offsets */
#define VV_COMMON_DFSELECT      0x00   /* le32 device_feature_select */
#define VV_COMMON_DF            0x04   /* le32 device_feature */
#define VV_COMMON_GFSELECT      0x08   /* le32 driver_feature_select */
#define VV_COMMON_GF            0x0c   /* le32 driver_feature */
#define VV_COMMON_MSIX          0x10   /* le16 msix_config */
#define VV_COMMON_NUMQ          0x12   /* le16 num_queues */
#define VV_COMMON_STATUS        0x14   /* u8 device_status */
#define VV_COMMON_CFGGEN        0x15   /* u8 config_generation */
#define VV_COMMON_Q_SELECT      0x16   /* le16 queue_select */
#define VV_COMMON_Q_SIZE        0x18   /* le16 queue_size */
#define VV_COMMON_Q_MSIX        0x1a   /* le16 queue_msix_vector */
#define VV_COMMON_Q_ENABLE      0x1c   /* le16 queue_enable */
#define VV_COMMON_Q_NOFF        0x1e   /* le16 queue_notify_off */
#define VV_COMMON_Q_DESCLO      0x20   /* le64 queue_desc, as two le32 */
#define VV_COMMON_Q_DESCHI      0x24
#define VV_COMMON_Q_AVAILLO     0x28   /* le64 queue_driver */
#define VV_COMMON_Q_AVAILHI     0x2c
#define VV_COMMON_Q_USEDLO      0x30   /* le64 queue_device */
#define VV_COMMON_Q_USEDHI      0x34
#define VV_COMMON_LEN           0x38   /* the 1.0 layout; later fields are optional */

#define VV_MSI_NO_VECTOR        0xffff

/* ISR status bits */
#define VV_ISR_QUEUE            0x1
#define VV_ISR_CONFIG           0x2

/* device_status bits (spec 2.1) */
#define VV_STATUS_ACKNOWLEDGE   0x01
#define VV_STATUS_DRIVER        0x02
#define VV_STATUS_DRIVER_OK     0x04
#define VV_STATUS_FEATURES_OK   0x08
#define VV_STATUS_NEEDS_RESET   0x40
#define VV_STATUS_FAILED        0x80

/* --- Feature bits (spec 5.1.3 and 6) --- */

#define VV_NET_F_CSUM           0
#define VV_NET_F_GUEST_CSUM     1
#define VV_NET_F_MTU            3
#define VV_NET_F_MAC            5
#define VV_NET_F_MRG_RXBUF      15
#define VV_NET_F_STATUS         16
#define VV_NET_F_CTRL_VQ        17
#define VV_NET_F_CTRL_RX        18
#define VV_NET_F_CTRL_VLAN      19
#define VV_NET_F_GUEST_ANNOUNCE 21
#define VV_NET_F_MQ             22
#define VV_NET_F_CTRL_MAC_ADDR  23
#define VV_F_INDIRECT_DESC      28
#define VV_F_EVENT_IDX          29
#define VV_F_VERSION_1          32
#define VV_F_ACCESS_PLATFORM    33
#define VV_F_RING_PACKED        34
#define VV_F_IN_ORDER           35
#define VV_F_ORDER_PLATFORM     36
#define VV_NET_F_SPEED_DUPLEX   63

#define VV_BIT(f) (UINT64_C(1) << (f))

/* --- Network device configuration (spec 5.1.4): byte offsets --- */

#define VV_NET_CFG_MAC          0      /* u8[6], with VIRTIO_NET_F_MAC */
#define VV_NET_CFG_STATUS       6      /* le16, with VIRTIO_NET_F_STATUS */
#define VV_NET_CFG_MAX_PAIRS    8      /* le16, with VIRTIO_NET_F_MQ */
#define VV_NET_CFG_MTU          10     /* le16, with VIRTIO_NET_F_MTU */
#define VV_NET_CFG_SPEED        12     /* le32 Mb/s, with VIRTIO_NET_F_SPEED_DUPLEX */
#define VV_NET_CFG_DUPLEX       16     /* u8 */

#define VV_NET_S_LINK_UP        1
#define VV_NET_S_ANNOUNCE       2

#define VV_NET_SPEED_UNKNOWN    UINT32_MAX
#define VV_NET_DUPLEX_FULL      1

/*
 * The header in front of every packet. With VIRTIO_F_VERSION_1 it always has
 * num_buffers, whether or not VIRTIO_NET_F_MRG_RXBUF is negotiated: 12 bytes.
 */
struct vv_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VV_NET_HDR_LEN          12
/* every field is naturally aligned: no packing needed for the wire layout */
static_assert(sizeof(struct vv_net_hdr) == VV_NET_HDR_LEN, "virtio-net header layout");

/* --- Control queue (spec 5.1.6.5) --- */

#define VV_CTRL_RX              0
#define VV_CTRL_RX_PROMISC      0
#define VV_CTRL_RX_ALLMULTI     1
#define VV_CTRL_MAC             1
#define VV_CTRL_MAC_TABLE_SET   0
#define VV_CTRL_MAC_ADDR_SET    1
#define VV_CTRL_ANNOUNCE        3
#define VV_CTRL_ANNOUNCE_ACK    0
#define VV_CTRL_MQ              4
#define VV_CTRL_MQ_VQ_PAIRS_SET 0

#define VV_CTRL_OK              0
#define VV_CTRL_ERR             1

/* --- Split virtqueue (spec 2.7) --- */

#define VV_DESC_F_NEXT          1
#define VV_DESC_F_WRITE         2
#define VV_DESC_F_INDIRECT      4

#define VV_AVAIL_F_NO_INTERRUPT 1
#define VV_USED_F_NO_NOTIFY     1

struct vv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* ring[num], then used_event (with VIRTIO_F_EVENT_IDX) */
struct vv_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vv_used_elem {
	uint32_t id;
	uint32_t len;
};

/* ring[num], then avail_event (with VIRTIO_F_EVENT_IDX) */
struct vv_used {
	uint16_t flags;
	uint16_t idx;
	struct vv_used_elem ring[];
};

/* The largest queue a split ring may have. */
#define VV_QUEUE_MAX            32768

/*
 * True when a driver (or device) that moved its index from @old to @new_idx has
 * passed @event, i.e. the other side asked to be notified at @event (spec 2.7.10).
 */
static inline int
vv_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* VV_SPEC_H */
