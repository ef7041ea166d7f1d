/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vfiofd_devargs.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly @n hex digits at @s; the value into *v. */
static int
hex_field(const char *s, unsigned int n, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned int i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

int
vfiofd_bdf_parse(const char *s, struct vfiofd_bdf *out, char *canon)
{
	struct vfiofd_bdf b;
	uint32_t domain = 0, bus, dev, func;
	size_t len;

	if (s == NULL)
		return -EINVAL;
	/* Fixed widths only: "dddd:bb:dd.f" (12) or "bb:dd.f" (7). */
	len = strnlen(s, VFIOFD_BDF_LEN);
	if (len == 12) {
		if (hex_field(s, 4, &domain) < 0 || s[4] != ':')
			return -EINVAL;
		s += 5;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (hex_field(s, 2, &bus) < 0 || s[2] != ':' || hex_field(s + 3, 2, &dev) < 0 ||
	    s[5] != '.' || s[6] < '0' || s[6] > '7' || s[7] != '\0')
		return -EINVAL;
	func = (uint32_t)(s[6] - '0');
	if (dev > 0x1f)
		return -EINVAL;
	b.domain = domain;
	b.bus = (uint8_t)bus;
	b.dev = (uint8_t)dev;
	b.func = (uint8_t)func;
	if (out != NULL)
		*out = b;
	if (canon != NULL)
		snprintf(canon, VFIOFD_BDF_LEN, "%04x:%02x:%02x.%x", b.domain & 0xffff, b.bus,
			 b.dev, b.func);
	return 0;
}

int
vfiofd_name_parse(const char *s, char *canon)
{
	const size_t plen = sizeof(VFIOFD_NAME_PREFIX) - 1;

	if (s == NULL || strncmp(s, VFIOFD_NAME_PREFIX, plen) != 0)
		return -EINVAL;
	s += plen;
	if (*s == '\0') {
		if (canon != NULL)
			canon[0] = '\0';
		return 0;
	}
	return vfiofd_bdf_parse(s, NULL, canon) == 0 ? 0 : -EBADF;
}

void
vfiofd_options_default(struct vfiofd_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ioas = VFIOFD_OPT_IOAS_DEFAULT;
	o->intr = VFIOFD_OPT_INTR_AUTO;
	o->reset = true;
	o->bar_mmap = true;
}

char *
vfiofd_str_sanitize(const char *in, size_t max, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (outlen == 0)
		return out;
	if (in == NULL)
		in = "(null)";
	for (i = 0; in[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[4];
		size_t n;

		if (c == '\\') {
			tmp[0] = '\\';
			tmp[1] = '\\';
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		}
		if (o + n + 4 > outlen) /* keep room for "..." and the NUL */
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (in[i] != '\0' && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* One character of the input, shown safely. */
static const char *
show_char(char c, char *buf, size_t len)
{
	char one[2] = { c, '\0' };

	return vfiofd_str_sanitize(one, 1, buf, len);
}

static bool
key_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '_' || c == '-');
}

static bool
value_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '+' || c == '-';
}

/* Choose @value among @names (NULL-terminated); index or -1. */
static int
pick(const char *value, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	return -1;
}

static const char *const ioas_names[] = { "default", "private", NULL };
static const char *const intr_names[] = { "auto", "msix", "msi", "intx", "none", NULL };
static const char *const onoff_names[] = { "off", "on", NULL };
/* noiommu also takes 0/1: the opt-in is usually written "noiommu=1". */
static const char *const noiommu_names[] = { "off", "on", "0", "1", NULL };
static const char *const iova_names[] = { "auto", "translated", NULL };

const char *
vfiofd_opt_ioas_str(enum vfiofd_opt_ioas v)
{
	return (unsigned int)v < 2 ? ioas_names[v] : "?";
}

const char *
vfiofd_opt_intr_str(enum vfiofd_opt_intr v)
{
	return (unsigned int)v < 5 ? intr_names[v] : "?";
}

static const char *const bus_keys[] = { "ioas", "intr", "reset", "bar_mmap", "noiommu", "iova",
					NULL };
const char vfiofd_bus_keys_str[] = "ioas, intr, reset, bar_mmap, noiommu, iova";

/* @a and @b differ by one insertion, deletion, replacement or neighbour swap. */
static bool
one_slip(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0;

	if (la < lb)
		return one_slip(b, a);
	if (la - lb > 1)
		return false;
	while (i < lb && a[i] == b[i])
		i++;
	if (i == lb)
		return la != lb;                      /* one appended, or equal */
	if (la > lb)
		return strcmp(a + i + 1, b + i) == 0; /* one inserted */
	if (strcmp(a + i + 1, b + i + 1) == 0)
		return true;                          /* one replaced */
	return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       strcmp(a + i + 2, b + i + 2) == 0;  /* two swapped */
}

const char *
vfiofd_bus_key_like(const char *key)
{
	if (pick(key, bus_keys) >= 0)
		return NULL;
	for (unsigned int i = 0; bus_keys[i] != NULL; i++)
		if (one_slip(key, bus_keys[i]))
			return bus_keys[i];
	return NULL;
}

/* Apply one bus key; 1 if @key is not a bus key, 0 if applied, -EINVAL on a bad value. */
static int
apply_bus_key(struct vfiofd_options *o, const char *key, const char *value, char *err,
	      size_t errlen)
{
	char shown[64];
	int v;

	if (strcmp(key, "ioas") == 0) {
		v = pick(value, ioas_names);
		if (v < 0)
			goto bad;
		o->ioas = (enum vfiofd_opt_ioas)v;
	} else if (strcmp(key, "intr") == 0) {
		v = pick(value, intr_names);
		if (v < 0)
			goto bad;
		o->intr = (enum vfiofd_opt_intr)v;
	} else if (strcmp(key, "reset") == 0) {
		v = pick(value, onoff_names);
		if (v < 0)
			goto bad;
		o->reset = v == 1;
	} else if (strcmp(key, "bar_mmap") == 0) {
		v = pick(value, onoff_names);
		if (v < 0)
			goto bad;
		o->bar_mmap = v == 1;
	} else if (strcmp(key, "noiommu") == 0) {
		v = pick(value, noiommu_names);
		if (v < 0)
			goto bad;
		o->noiommu = v == 1 || v == 3;
	} else if (strcmp(key, "iova") == 0) {
		v = pick(value, iova_names);
		if (v < 0)
			goto bad;
		o->iova_translated = v == 1;
	} else {
		return 1;
	}
	return 0;
bad:
	set_err(err, errlen, "bad value '%s' for '%s' (expected %s)",
		vfiofd_str_sanitize(value, 32, shown, sizeof(shown)), key,
		strcmp(key, "ioas") == 0 ? "default or private" :
		strcmp(key, "intr") == 0 ? "auto, msix, msi, intx or none" :
		strcmp(key, "noiommu") == 0 ? "1, 0, on or off" :
		strcmp(key, "iova") == 0 ? "auto or translated" : "on or off");
	return -EINVAL;
}

/*
 * The one tokenizer of "key=value[,key=value...]" strings: the next pair from s[*pos]
 * into @key and @value, *pos moved past it and past its ','. 0, or a negative errno
 * with a one-line reason in @err. A bracketed value "[...]" may hold commas; what is
 * inside it is part of the value, never a key of the string.
 */
static int
next_pair(const char *s, size_t *pos, char *key, char *value, char *err, size_t errlen)
{
	size_t k = 0, v = 0, start = *pos, p = *pos;
	bool bracket = false;
	char shown[64];

	/* key */
	while (s[p] != '\0' && s[p] != '=' && s[p] != ',') {
		if (!key_char(s[p], k == 0)) {
			set_err(err, errlen, "forbidden character '%s' at offset %zu in a key",
				show_char(s[p], shown, sizeof(shown)), p);
			return -EINVAL;
		}
		if (k == VFIOFD_KEY_MAX) {
			set_err(err, errlen, "key at offset %zu longer than %d characters", start,
				VFIOFD_KEY_MAX);
			return -E2BIG;
		}
		key[k++] = s[p++];
	}
	key[k] = '\0';
	if (k == 0) {
		set_err(err, errlen, "empty %s at offset %zu", s[p] == '=' ? "key" : "element", p);
		return -EINVAL;
	}
	if (s[p] != '=') {
		set_err(err, errlen, "'%s' has no value (expected %s=value)", key, key);
		return -EINVAL;
	}
	p++;

	/* value: plain, or a bracketed list that may hold commas */
	if (s[p] == '[') {
		bracket = true;
		value[v++] = s[p++];
	}
	while (s[p] != '\0' && (bracket || s[p] != ',')) {
		char c = s[p];

		if (bracket && c == ']') {
			break;
		} else if (!value_char(c) && !(bracket && c == ',')) {
			set_err(err, errlen,
				"forbidden character '%s' at offset %zu in the value of '%s'",
				show_char(c, shown, sizeof(shown)), p, key);
			return -EINVAL;
		}
		if (v == VFIOFD_VALUE_MAX - 1) {
			set_err(err, errlen, "value of '%s' longer than %d characters", key,
				VFIOFD_VALUE_MAX - 1);
			return -E2BIG;
		}
		value[v++] = s[p++];
	}
	if (bracket) {
		if (s[p] != ']') {
			set_err(err, errlen, "unterminated '[' in the value of '%s'", key);
			return -EINVAL;
		}
		if (v == 1) {
			set_err(err, errlen, "empty list in the value of '%s'", key);
			return -EINVAL;
		}
		value[v++] = s[p++];
		if (s[p] != '\0' && s[p] != ',') {
			set_err(err, errlen, "junk after ']' in the value of '%s'", key);
			return -EINVAL;
		}
	}
	value[v] = '\0';
	if (v == 0) {
		set_err(err, errlen, "empty value for '%s'", key);
		return -EINVAL;
	}
	if (s[p] == ',') {
		p++;
		if (s[p] == '\0') {
			set_err(err, errlen, "trailing ',' at offset %zu", p - 1);
			return -EINVAL;
		}
	}
	*pos = p;
	return 0;
}

/*
 * Walk every pair of @s (limits, duplicates), calling @fn for each; @fn returns 0 to
 * go on, < 0 to stop with that error (its reason in @err), > 0 to stop with success.
 */
static int
options_walk(const char *s, int (*fn)(void *ctx, const char *key, const char *value,
				       char *err, size_t errlen),
	     void *ctx, char *err, size_t errlen)
{
	char seen[VFIOFD_PAIRS_MAX][VFIOFD_KEY_MAX + 1];
	char key[VFIOFD_KEY_MAX + 1], value[VFIOFD_VALUE_MAX + 1];
	unsigned int nseen = 0;
	size_t pos = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || s[0] == '\0')
		return 0;
	if (strnlen(s, VFIOFD_ARGS_MAX + 1) > VFIOFD_ARGS_MAX) {
		set_err(err, errlen, "option string longer than %d characters", VFIOFD_ARGS_MAX);
		return -E2BIG;
	}
	while (s[pos] != '\0') {
		int ret = next_pair(s, &pos, key, value, err, errlen);

		if (ret < 0)
			return ret;
		for (unsigned int i = 0; i < nseen; i++) {
			if (strcmp(seen[i], key) == 0) {
				set_err(err, errlen, "duplicate key '%s'", key);
				return -EINVAL;
			}
		}
		if (nseen == VFIOFD_PAIRS_MAX) {
			set_err(err, errlen, "more than %d options", VFIOFD_PAIRS_MAX);
			return -E2BIG;
		}
		memcpy(seen[nseen++], key, strlen(key) + 1);
		ret = fn(ctx, key, value, err, errlen);
		if (ret != 0)
			return ret < 0 ? ret : 0;
	}
	return 0;
}

struct parse_ctx {
	struct vfiofd_options *o;
	const char *const *ignore_keys;
};

static int
parse_pair(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct parse_ctx *c = arg;
	struct vfiofd_options *o = c->o;
	size_t n;
	int ret;

	if (c->ignore_keys != NULL && pick(key, c->ignore_keys) >= 0)
		return 0;
	ret = apply_bus_key(o, key, value, err, errlen);
	if (ret <= 0)
		return ret;
	n = strlen(o->driver_args);
	memcpy(o->driver_keys[o->n_driver_keys++], key, strlen(key) + 1);
	/* fits: it is a part of s, which is no longer than the buffer */
	snprintf(o->driver_args + n, sizeof(o->driver_args) - n, "%s%s=%s", n > 0 ? "," : "",
		 key, value);
	return 0;
}

int
vfiofd_options_parse(const char *s, const char *const *ignore_keys,
		     struct vfiofd_options *o, char *err, size_t errlen)
{
	struct parse_ctx c = { .o = o, .ignore_keys = ignore_keys };

	vfiofd_options_default(o);
	return options_walk(s, parse_pair, &c, err, errlen);
}

struct get_ctx {
	const char *key;
	char *buf;
	size_t len;
	int ret;
};

static int
get_pair(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct get_ctx *c = arg;

	(void)err;
	(void)errlen;
	if (strcmp(key, c->key) != 0)
		return 0;
	if (strlen(value) >= c->len) {
		c->ret = -E2BIG;
	} else {
		strcpy(c->buf, value);
		c->ret = 0;
	}
	return 0;   /* go on: the rest of the string must be valid too */
}

int
vfiofd_options_get(const char *s, const char *key, char *buf, size_t len, char *err,
		   size_t errlen)
{
	struct get_ctx c = { .key = key, .buf = buf, .len = len, .ret = -ENOENT };
	int ret = options_walk(s, get_pair, &c, err, errlen);

	return ret < 0 ? ret : c.ret;
}
