/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libglock: named locks owned by open files of /dev/glock, for C programs.
 *
 * Conventions, the same for every call:
 *  - Errors: functions returning int return -1 and set errno; functions
 *    returning a pointer return NULL and set errno. Nothing else.
 *  - Timeouts are int64_t nanoseconds, the unit of the kernel ABI:
 *    < 0 (GLOCK_FOREVER) waits forever, 0 tries once, > 0 is relative.
 *    glock_lock_until() takes an absolute CLOCK_MONOTONIC deadline in ns.
 *  - A handle is one lock owner: every lock taken through it is released
 *    when it is closed, or when the process exits or crashes. An exclusive
 *    lock released that way is marked abandoned; the next acquirer gets
 *    GLOCK_R_ABANDONED in *result (success, with a warning flag).
 *  - Names are NUL-terminated C strings of 1..GLOCK_NAME_MAX bytes, each
 *    0x21..0x7e (printable, no space).
 */
#ifndef LIBGLOCK_GLOCK_H
#define LIBGLOCK_GLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/glock.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBGLOCK_VERSION	"0.1.0"

/* Timeout values (nanoseconds). */
#define GLOCK_FOREVER		((int64_t)-1)
#define GLOCK_TRY		((int64_t)0)
#define GLOCK_NSEC_PER_SEC	1000000000LL
#define GLOCK_MSEC(ms)		((int64_t)(ms) * 1000000LL)
#define GLOCK_SEC(s)		((int64_t)(s) * GLOCK_NSEC_PER_SEC)

/* Default device path; glock_open() uses it. */
#define GLOCK_DEVICE		"/dev/glock"

/** An open /dev/glock: one lock owner. Opaque. */
struct glock_dev;

/**
 * struct glock_info - snapshot of one lock, filled by glock_state()
 * @mode: 0 if free, else GLOCK_EXCLUSIVE or GLOCK_SHARED
 * @holders: owners holding it
 * @waiters: requests queued
 * @depth: depth held through the handle that asked, 0 if none
 * @owner_pid: pid of the exclusive holder, 0 if none, shared, kernel or
 *	not visible from this pid namespace
 * @result: GLOCK_R_ABANDONED if an abandoned mark is pending,
 *	GLOCK_R_KERNEL if the exclusive holder is a kernel owner
 * @reserved: zero; room to grow without changing the size
 */
struct glock_info {
	unsigned int mode;
	unsigned int holders;
	unsigned int waiters;
	unsigned int depth;
	pid_t owner_pid;
	unsigned int result;
	unsigned int reserved[10];
};

/* Open GLOCK_DEVICE (O_RDWR | O_CLOEXEC). NULL + errno on error. */
struct glock_dev *glock_open(void);

/*
 * Wrap a descriptor of /dev/glock the caller opened (e.g. a shell's fd 9).
 * glock_close() frees the handle but leaves @fd open: the locks stay with
 * the open file. NULL + errno (EBADF, ENOTTY if not /dev/glock, ENOMEM).
 */
struct glock_dev *glock_open_fd(int fd);

/* Close the handle (releasing what it alone holds). NULL is ignored. */
void glock_close(struct glock_dev *dev);

/* The descriptor behind the handle. */
int glock_fd(const struct glock_dev *dev);

/*
 * Acquire @name in @mode (GLOCK_EXCLUSIVE or GLOCK_SHARED), waiting at most
 * @timeout_ns. On success return the depth now held (>= 1) and store the
 * GLOCK_R_* bits in *@result if @result is not NULL. On failure return -1:
 * errno ETIMEDOUT (timed out), EAGAIN (busy, try), EDEADLK (cycle, or the
 * other mode already held), EINTR (signal; nothing held or queued),
 * EINVAL (bad name or mode), ENOLCK (limit), or an open/ioctl error.
 */
int glock_lock(struct glock_dev *dev, const char *name, unsigned int mode,
	       int64_t timeout_ns, unsigned int *result);

/* As glock_lock(), with an absolute CLOCK_MONOTONIC deadline in ns. */
int glock_lock_until(struct glock_dev *dev, const char *name,
		     unsigned int mode, int64_t deadline_ns,
		     unsigned int *result);

/* As glock_lock() with timeout GLOCK_TRY: never sleeps, EAGAIN if busy. */
int glock_trylock(struct glock_dev *dev, const char *name, unsigned int mode,
		  unsigned int *result);

/*
 * Drop one level of @name. Return the depth still held (0 = released) or
 * -1: EPERM if this handle does not hold it, EINVAL for a bad name.
 */
int glock_unlock(struct glock_dev *dev, const char *name);

/* Snapshot @name into *@info. 0, or -1 + errno (EINVAL bad name). */
int glock_state(struct glock_dev *dev, const char *name,
		struct glock_info *info);

/* 0 if @name is a valid lock name, else -1 with errno EINVAL. */
int glock_name_check(const char *name);

/* CLOCK_MONOTONIC now, in ns: the clock of glock_lock_until(). */
int64_t glock_now_ns(void);

/*
 * A message for @errnum as glock means it ("timed out", "busy", "not held
 * by this owner", "/dev/glock missing: is glock.ko loaded?", ...); falls
 * back to strerror(). Never NULL; static storage.
 */
const char *glock_strerror(int errnum);

/*
 * A message for the GLOCK_R_* bits of a successful lock: "" for none,
 * "abandoned: the previous holder died holding it" for GLOCK_R_ABANDONED.
 */
const char *glock_strresult(unsigned int result);

/* "exclusive", "shared", or "free" for 0; "?" otherwise. */
const char *glock_mode_name(unsigned int mode);

/*
 * Handles: the fast path for a name locked again and again. A handle is a
 * number (1..65535) valid in this glock_dev only; it keeps the lock's place
 * (and a place in the per-owner limit) until glock_handle_close() or the
 * device's close. Locking through it copies and hashes no name. The same
 * lock as by name: FIFO, recursion, modes, abandon, deadlock detection.
 */

/* Make a handle for @name (rules are checked now). The handle, or -1. */
int glock_handle_open(struct glock_dev *dev, const char *name);

/*
 * Acquire through @handle, waiting forever. 0 with the GLOCK_R_* bits in
 * *@result, or -1: EINVAL (not a handle of @dev), EDEADLK, EINTR,
 * EOVERFLOW (max_depth). Timed waits: glock_lock() by name.
 */
int glock_handle_lock(struct glock_dev *dev, int handle, unsigned int mode,
		      unsigned int *result);

/* As glock_handle_lock(), but never sleeps: EAGAIN if busy. */
int glock_handle_trylock(struct glock_dev *dev, int handle,
			 unsigned int mode, unsigned int *result);

/* Drop one level; the depth still held, or -1 (EPERM if not held). */
int glock_handle_unlock(struct glock_dev *dev, int handle);

/* Give the handle back: 0, or -1 (EBUSY while the lock is held or waited). */
int glock_handle_close(struct glock_dev *dev, int handle);

/**
 * struct glock_rule_spec - one access rule of an IPC namespace's table
 * @pattern: an exact name, or a prefix ending in '*' ("*" matches all)
 * @uid: the user class's uid
 * @gid: the group class's gid
 * @mode: 0..0666 read like a file's: 4 may ask STATE, 2 may LOCK
 * @reserved: zero
 */
struct glock_rule_spec {
	char pattern[GLOCK_NAME_MAX + 1];
	unsigned int uid;
	unsigned int gid;
	unsigned int mode;
	unsigned int reserved[5];
};

/*
 * Replace the access rules of the handle's IPC namespace with @count rules
 * (0 clears them); first match wins. 0, or -1: EPERM without CAP_SYS_ADMIN
 * over the namespace, ENOSPC beyond the module's max_rules, EINVAL.
 */
int glock_rules_set(struct glock_dev *dev,
		    const struct glock_rule_spec *rules, unsigned int count);

/*
 * Read up to @cap rules into @rules. Returns the number of rules in the
 * table (which may exceed @cap), or -1 + errno.
 */
int glock_rules_get(struct glock_dev *dev, struct glock_rule_spec *rules,
		    unsigned int cap);

/*
 * Parse a rules file: one rule a line, "PATTERN USER GROUP MODE" (names or
 * numbers, octal mode), '#' comments, blank lines. On success 0, with a
 * malloc()ed array in *@rules (free() it) of *@count rules. On a bad line
 * -1 with errno EINVAL and "line N: why" in @err; nothing is returned.
 */
int glock_rules_parse(FILE *in, struct glock_rule_spec **rules,
		      unsigned int *count, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* LIBGLOCK_GLOCK_H */
