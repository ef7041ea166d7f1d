/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsers for what a user hands the vfiofd bus on the command line: the device name
 * ("vfiofd:0000:01:00.0") and the option string after it ("ioas=private,intr=msi").
 *
 * Pure C, no DPDK and no I/O: the same code runs in the bus, in the host unit tests and
 * under libFuzzer. Everything here treats its input as hostile: bounded lengths, a
 * closed character set, no duplicates, and error messages that quote the input only
 * after vfiofd_str_sanitize() (so a devargs string cannot inject lines into a log).
 */

#ifndef VFIOFD_DEVARGS_H
#define VFIOFD_DEVARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bus name, and the prefix that selects the bus in a device string. */
#define VFIOFD_BUS_NAME "vfiofd"
#define VFIOFD_NAME_PREFIX VFIOFD_BUS_NAME ":"

/** Canonical PCI address "dddd:bb:dd.f" plus its NUL. */
#define VFIOFD_BDF_LEN 13

/** Limits on an option string (well above anything legitimate). */
#define VFIOFD_ARGS_MAX 512   /**< characters in the whole option string */
#define VFIOFD_KEY_MAX 32     /**< characters in a key */
#define VFIOFD_VALUE_MAX 128  /**< characters in a value */
#define VFIOFD_PAIRS_MAX 16   /**< key=value pairs */

/** A PCI address, numerically. */
struct vfiofd_bdf {
	uint32_t domain;  /**< 0..0xffff */
	uint8_t bus;
	uint8_t dev;      /**< 0..0x1f */
	uint8_t func;     /**< 0..7 */
};

/**
 * Parse a PCI address: "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hex digits of either
 * case. On success fills @out (may be NULL) and the canonical lower-case form into
 * @canon (may be NULL; VFIOFD_BDF_LEN bytes). Returns 0 or -EINVAL.
 */
int vfiofd_bdf_parse(const char *s, struct vfiofd_bdf *out, char *canon);

/**
 * Parse a vfiofd device name as the EAL hands it to the bus: "vfiofd:" followed by a
 * PCI address, or "vfiofd:" alone (the empty name: allow-list mode with no device).
 * A bare PCI address is NOT accepted: it belongs to bus/pci, and accepting it would
 * make "-a 0000:01:00.0" land on whichever bus registered first.
 * @canon receives the canonical address ("" for the empty name).
 * Returns 0, -EINVAL (not a vfiofd name), -EBADF (prefix right, address wrong).
 */
int vfiofd_name_parse(const char *s, char *canon);

/** Which I/O address space the device attaches to. */
enum vfiofd_opt_ioas {
	VFIOFD_OPT_IOAS_DEFAULT = 0, /**< the process-wide default IOAS */
	VFIOFD_OPT_IOAS_PRIVATE,     /**< an IOAS of its own */
};

/** Interrupt mode. */
enum vfiofd_opt_intr {
	VFIOFD_OPT_INTR_AUTO = 0, /**< EAL --vfio-intr if given, else MSI-X, MSI, INTx */
	VFIOFD_OPT_INTR_MSIX,
	VFIOFD_OPT_INTR_MSI,
	VFIOFD_OPT_INTR_INTX,
	VFIOFD_OPT_INTR_NONE,     /**< no interrupt handle at all */
};

/** The bus's own options, and the keys it leaves to the driver. */
struct vfiofd_options {
	enum vfiofd_opt_ioas ioas;
	enum vfiofd_opt_intr intr;
	bool reset;      /**< VFIO_DEVICE_RESET at probe and remove (where supported) */
	bool bar_mmap;   /**< mmap BARs; false: every access goes through pread/pwrite */
	/**
	 * The user accepts driving the device without an IOMMU (vfio's unsafe no-IOMMU
	 * mode: the device can DMA anywhere). Never implied: "noiommu=1" or "noiommu=on".
	 */
	bool noiommu;
	/**
	 * iova=translated: the process runs in the memory library's translated mode
	 * (rte_iommufd_mem_translated()), which otherwise only an IOMMU too narrow for
	 * user addresses in a process that cannot read physical addresses selects. One
	 * device asking sets it for the process.
	 */
	bool iova_translated;
	unsigned int n_driver_keys;
	/** Keys that are not the bus's, in order: the matched driver must know them. */
	char driver_keys[VFIOFD_PAIRS_MAX][VFIOFD_KEY_MAX + 1];
	/**
	 * The same keys with their values, "key=value[,key=value...]" in the user's order
	 * ("" if none): the option string the driver gets to see.
	 */
	char driver_args[VFIOFD_ARGS_MAX + 1];
};

/** Defaults: default IOAS, automatic interrupts, reset on, BARs mapped. */
void vfiofd_options_default(struct vfiofd_options *o);

/**
 * Parse an option string "key=value[,key=value...]" ("" and NULL are valid: defaults).
 * Keys: [A-Za-z][A-Za-z0-9_-]*; values: [A-Za-z0-9._:+-]+ or a bracketed list
 * "[...]" of the same characters and commas. Bus keys (ioas, intr, reset, bar_mmap,
 * noiommu, iova)
 * are checked here; other keys are collected for the driver. Keys listed in
 * @ignore_keys (NULL-terminated, may be NULL) are accepted and skipped (the EAL's own
 * "bus" and "addr" in the bus layer of the new devargs syntax).
 * On error returns -EINVAL (or -E2BIG for a string over the limits) and writes a
 * one-line reason into @err (@errlen bytes, may be 0).
 */
int vfiofd_options_parse(const char *s, const char *const *ignore_keys,
			 struct vfiofd_options *o, char *err, size_t errlen);

/**
 * The value of @key in option string @s, into @buf (@len bytes). The string is read by
 * the same tokenizer as vfiofd_options_parse() and must be valid as a whole (limits,
 * no duplicate key), so that the bus and the options parser never see two different
 * strings: what a bracketed list holds is part of its value, never a key. Returns 0,
 * -ENOENT (no such key), -E2BIG (@buf too small), or the parse error (-EINVAL, -E2BIG)
 * with its reason in @err (@errlen bytes, may be 0).
 */
int vfiofd_options_get(const char *s, const char *key, char *buf, size_t len, char *err,
		       size_t errlen);

/**
 * The bus key that @key is one typing slip away from (one character inserted, deleted
 * or replaced, or two neighbours swapped: "iosa" for "ioas"), or NULL. @key itself
 * being a bus key is no slip (NULL). For telling a mistyped bus key from a key of a
 * driver whose keys the bus does not know.
 */
const char *vfiofd_bus_key_like(const char *key);

/** The bus's keys, comma-separated, for messages ("ioas, intr, ..."). */
extern const char vfiofd_bus_keys_str[];

/** Names of the option values, for logs and telemetry. */
const char *vfiofd_opt_ioas_str(enum vfiofd_opt_ioas v);
const char *vfiofd_opt_intr_str(enum vfiofd_opt_intr v);

/**
 * Copy @in into @out (@outlen bytes) for a log line: printable ASCII is kept, anything
 * else becomes \xNN, backslash becomes \\; at most @max input bytes are shown, then
 * "...". Returns @out.
 */
char *vfiofd_str_sanitize(const char *in, size_t max, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif /* VFIOFD_DEVARGS_H */
