/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A user-space fault injector, loaded with LD_PRELOAD ("test-vfiofd-bus faults",
 * test fault_user_probe). It interposes the C library's open, open64, openat,
 * openat64, fopen, fopen64, opendir, ioctl, mmap, mmap64, eventfd, malloc, calloc,
 * realloc and posix_memalign. Disarmed, each only forwards. Armed with N, each counts
 * the calls made directly from the watched objects (the vfiofd bus and the memory
 * library: the call's return address lies in one of their executable mappings) and
 * fails the Nth with the errno a kernel or allocator could give there: EMFILE for the
 * calls that make a file descriptor, EIO for ioctl, ENOMEM for mmap and allocations.
 * Calls from anywhere else (DPDK, the C library's own, the test) are never counted, so
 * the fault points are the project's own call sites, in the order it makes them.
 */

/* the plain names are what this file defines: no redirection to the *64 variants, no
 * fortified inline wrappers of open() */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "fault_preload.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_RANGES 16

/* glibc's own allocator entry points: forwarding there needs no dlsym (which may
 * allocate) */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

static struct {
	uintptr_t lo, hi;
} ranges[MAX_RANGES];
static unsigned int nranges;
static unsigned long fail_at;
static unsigned long count;
static int armed;
static struct vfiofd_fault_info fired;

static bool
watched(const void *caller)
{
	uintptr_t a = (uintptr_t)caller;

	for (unsigned int i = 0; i < nranges; i++)
		if (a >= ranges[i].lo && a < ranges[i].hi)
			return true;
	return false;
}

/*
 * Whether this call (@call with @arg, from @caller) is the one to fail; records it. The
 * Nth counted call fails, whichever thread makes it.
 */
static bool
inject(const char *call, unsigned long arg, const char *path, const void *caller, int err)
{
	if (!__atomic_load_n(&armed, __ATOMIC_ACQUIRE) || !watched(caller))
		return false;
	if (__atomic_add_fetch(&count, 1, __ATOMIC_ACQ_REL) != fail_at)
		return false;
	fired.fired = true;
	snprintf(fired.call, sizeof(fired.call), "%s", call);
	snprintf(fired.path, sizeof(fired.path), "%s", path != NULL ? path : "");
	fired.arg = arg;
	fired.caller = (void *)(uintptr_t)caller;
	fired.err = err;
	errno = err;
	return true;
}

#define CALLER __builtin_return_address(0)
/* the next definition of @name (the C library's), looked up once */
#define REAL(name) \
	static __typeof__(&name) real_ ## name; \
	if (real_ ## name == NULL) \
		real_ ## name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static int
collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *const *names = ((const void *const *)arg)[0];
	unsigned int n = *(const unsigned int *)((const void *const *)arg)[1];
	int *found = (int *)((void *const *)arg)[2];
	bool match = false;

	(void)size;
	for (unsigned int i = 0; i < n && info->dlpi_name != NULL; i++)
		match |= strstr(info->dlpi_name, names[i]) != NULL;
	if (!match)
		return 0;
	(*found)++;
	for (int i = 0; i < info->dlpi_phnum && nranges < MAX_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
		ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
		nranges++;
	}
	return 0;
}

EXPORT int
vfiofd_fault_watch(const char *const *names, unsigned int n)
{
	int found = 0;
	const void *arg[3] = { names, &n, &found };

	nranges = 0;
	dl_iterate_phdr(collect, arg);
	return found;
}

EXPORT void
vfiofd_fault_arm(unsigned long nth)
{
	memset(&fired, 0, sizeof(fired));
	fail_at = nth;
	__atomic_store_n(&count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&armed, 1, __ATOMIC_RELEASE);
}

EXPORT unsigned long
vfiofd_fault_calls(void)
{
	return __atomic_load_n(&count, __ATOMIC_ACQUIRE);
}

EXPORT void
vfiofd_fault_disarm(struct vfiofd_fault_info *info)
{
	__atomic_store_n(&armed, 0, __ATOMIC_RELEASE);
	*info = fired;
	info->calls = __atomic_load_n(&count, __ATOMIC_ACQUIRE);
}

/* ---- the interposed calls ---- */

EXPORT void *
malloc(size_t size)
{
	if (inject("malloc", size, NULL, CALLER, ENOMEM))
		return NULL;
	return __libc_malloc(size);
}

EXPORT void *
calloc(size_t n, size_t size)
{
	if (inject("calloc", n * size, NULL, CALLER, ENOMEM))
		return NULL;
	return __libc_calloc(n, size);
}

EXPORT void *
realloc(void *p, size_t size)
{
	if (inject("realloc", size, NULL, CALLER, ENOMEM))
		return NULL;
	return __libc_realloc(p, size);
}

EXPORT int
posix_memalign(void **p, size_t align, size_t size)
{
	REAL(posix_memalign);
	if (inject("posix_memalign", size, NULL, CALLER, ENOMEM))
		return ENOMEM;
	return real_posix_memalign(p, align, size);
}

/* the mode argument exists only with O_CREAT or O_TMPFILE */
#define OPEN_MODE(flags, mode) do { \
	va_list ap; \
	va_start(ap, flags); \
	mode = __OPEN_NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0; \
	va_end(ap); \
} while (0)

/* open() and openat() with the mode argument they have only where the flags need one,
 * and their *64 twins */
#define DEFINE_OPEN(fn) \
EXPORT int \
fn(const char *path, int flags, ...) \
{ \
	mode_t mode; \
 \
	REAL(fn); \
	OPEN_MODE(flags, mode); \
	if (inject("open", (unsigned long)flags, path, CALLER, EMFILE)) \
		return -1; \
	return real_ ## fn(path, flags, mode); \
}
#define DEFINE_OPENAT(fn) \
EXPORT int \
fn(int dirfd, const char *path, int flags, ...) \
{ \
	mode_t mode; \
 \
	REAL(fn); \
	OPEN_MODE(flags, mode); \
	if (inject("openat", (unsigned long)flags, path, CALLER, EMFILE)) \
		return -1; \
	return real_ ## fn(dirfd, path, flags, mode); \
}
#define DEFINE_FOPEN(fn) \
EXPORT FILE * \
fn(const char *path, const char *how) \
{ \
	REAL(fn); \
	if (inject("fopen", 0, path, CALLER, EMFILE)) \
		return NULL; \
	return real_ ## fn(path, how); \
}

DEFINE_OPEN(open)
DEFINE_OPEN(open64)
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)
DEFINE_FOPEN(fopen)
DEFINE_FOPEN(fopen64)

EXPORT DIR *
opendir(const char *path)
{
	REAL(opendir);
	if (inject("opendir", 0, path, CALLER, EMFILE))
		return NULL;
	return real_opendir(path);
}

EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	REAL(ioctl);
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (inject("ioctl", req, NULL, CALLER, EIO))
		return -1;
	return real_ioctl(fd, req, arg);
}

#define DEFINE_MMAP(fn, off_type) \
EXPORT void * \
fn(void *addr, size_t len, int prot, int flags, int fd, off_type off) \
{ \
	REAL(fn); \
	if (inject("mmap", len, NULL, CALLER, ENOMEM)) \
		return MAP_FAILED; \
	return real_ ## fn(addr, len, prot, flags, fd, off); \
}

DEFINE_MMAP(mmap, off_t)
DEFINE_MMAP(mmap64, off64_t)

EXPORT int
eventfd(unsigned int initval, int flags)
{
	REAL(eventfd);
	if (inject("eventfd", (unsigned long)flags, NULL, CALLER, EMFILE))
		return -1;
	return real_eventfd(initval, flags);
}
