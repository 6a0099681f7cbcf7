/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * glock: named locks owned by open files of /dev/glock.
 */
#ifndef _UAPI_LINUX_GLOCK_H
#define _UAPI_LINUX_GLOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: glock ownership
 *
 * A lock belongs to the open file description of /dev/glock that took it
 * (like an OFD lock): dup(), fork() and SCM_RIGHTS share the owner, and the
 * owner ends at the last close. When an owner ends, every lock it holds is
 * released; an exclusive hold released that way marks the lock abandoned,
 * and the next owner to acquire it sees %GLOCK_R_ABANDONED in @result once.
 *
 * Names are 1..%GLOCK_NAME_MAX bytes, each in 0x21..0x7e (printable, no
 * space), not NUL-terminated, and scoped by the opener's IPC namespace.
 */

#define GLOCK_NAME_MAX		255

/* Lock modes. */
#define GLOCK_EXCLUSIVE		1
#define GLOCK_SHARED		2

/* Request flags (struct glock_lock.flags). */
#define GLOCK_F_ABSTIME		(1U << 0) /* timeout_ns is absolute CLOCK_MONOTONIC */

/* Result bits (struct glock_lock.result, struct glock_state.result). */
#define GLOCK_R_ABANDONED	(1U << 0) /* the previous exclusive holder died holding it */
#define GLOCK_R_KERNEL		(1U << 1) /* STATE: the exclusive holder is a kernel owner */

/**
 * struct glock_lock - argument of %GLOCK_IOC_LOCK and %GLOCK_IOC_UNLOCK
 * @name: in: user pointer to the name bytes
 * @name_len: in: 1..%GLOCK_NAME_MAX
 * @mode: in: LOCK: %GLOCK_EXCLUSIVE or %GLOCK_SHARED; UNLOCK: 0 or the
 *	held mode
 * @timeout_ns: in: LOCK: < 0 waits forever, 0 tries once (EAGAIN), > 0 is
 *	relative nanoseconds (ETIMEDOUT), or an absolute CLOCK_MONOTONIC time
 *	with %GLOCK_F_ABSTIME; UNLOCK: must be 0
 * @flags: in: %GLOCK_F_* (LOCK only; UNLOCK takes 0)
 * @result: out: %GLOCK_R_* bits
 * @depth: out: depth this owner holds after the call (0 = released)
 * @padding: must be zero
 */
struct glock_lock {
	__u64 name;
	__u32 name_len;
	__u32 mode;
	__s64 timeout_ns;
	__u32 flags;
	__u32 result;
	__u32 depth;
	__u32 padding[7];
};

/**
 * struct glock_state - argument of %GLOCK_IOC_STATE: a snapshot of one lock
 * @name: in: user pointer to the name bytes
 * @name_len: in: 1..%GLOCK_NAME_MAX
 * @flags: in: must be 0
 * @mode: out: 0 if free, else the held mode
 * @holders: out: number of owners holding it
 * @waiters: out: number of requests queued
 * @depth: out: depth held by the calling owner, 0 if none
 * @owner_pid: out: tgid of the exclusive holder in the caller's pid
 *	namespace; 0 if none, not visible, shared, or a kernel owner
 * @result: out: %GLOCK_R_ABANDONED if a mark is pending, %GLOCK_R_KERNEL if
 *	the exclusive holder is a kernel owner
 * @padding: must be zero
 */
struct glock_state {
	__u64 name;
	__u32 name_len;
	__u32 flags;
	__u32 mode;
	__u32 holders;
	__u32 waiters;
	__u32 depth;
	__s32 owner_pid;
	__u32 result;
	__u32 padding[6];
};

/**
 * DOC: glock access rules
 *
 * Each IPC namespace has an ordered table of rules; the first whose pattern
 * matches a name decides. A pattern is an exact name, or a prefix when its
 * last byte is '*' (a lone "*" matches every name). @mode is read like a
 * file's, for the user, group and other classes of the opener's
 * credentials: 4 (r) may ask %GLOCK_IOC_STATE, 2 (w) may %GLOCK_IOC_LOCK;
 * the x bits must be 0. A name no rule matches is open to all.
 */

/**
 * struct glock_rule - one rule, an element of the array of struct glock_rules
 * @pattern: user pointer to the pattern bytes (GET: a 255-byte buffer)
 * @pattern_len: 1..%GLOCK_NAME_MAX (GET: out)
 * @uid: the user class's uid, in the caller's user namespace
 * @gid: the group class's gid, in the caller's user namespace
 * @mode: 0..0777 with the x bits 0
 * @flags: must be 0
 * @padding: must be zero
 */
struct glock_rule {
	__u64 pattern;
	__u32 pattern_len;
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 flags;
	__u32 padding[9];
};

/**
 * struct glock_rules - argument of %GLOCK_IOC_SET_RULES and %GLOCK_IOC_GET_RULES
 * @rules: user pointer to an array of struct glock_rule
 * @count: SET: entries (0 clears the table); GET: in, the array's capacity;
 *	out, the number of rules in the table (which may be more)
 * @flags: must be 0
 * @padding: must be zero
 */
struct glock_rules {
	__u64 rules;
	__u32 count;
	__u32 flags;
	__u32 padding[12];
};

/**
 * struct glock_handle - argument of %GLOCK_IOC_GET_HANDLE
 * @name: in: user pointer to the name bytes
 * @name_len: in: 1..%GLOCK_NAME_MAX
 * @flags: in: must be 0
 * @handle: out: 1..65535, valid in this open file until
 *	%GLOCK_IOC_PUT_HANDLE or the last close
 * @padding: must be zero
 *
 * A handle names one lock of this file's owner without copying or hashing
 * the name again: %GLOCK_IOC_HLOCK and %GLOCK_IOC_HUNLOCK take it as their
 * integer argument. It keeps the lock object (and a place in the per-owner
 * and per-user limits) until it is put. Rules are checked when it is made.
 */
struct glock_handle {
	__u64 name;
	__u32 name_len;
	__u32 flags;
	__u32 handle;
	__u32 padding[11];
};

/* HLOCK's argument: handle | mode << GLOCK_H_MODE_SHIFT [| GLOCK_H_TRY]. */
#define GLOCK_H_MODE_SHIFT	16
#define GLOCK_H_TRY		(1U << 20) /* EAGAIN instead of waiting */

/* 0xC4 is free in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define GLOCK_IOC_MAGIC		0xC4
#define GLOCK_IOC_LOCK		_IOWR(GLOCK_IOC_MAGIC, 1, struct glock_lock)
#define GLOCK_IOC_UNLOCK	_IOWR(GLOCK_IOC_MAGIC, 2, struct glock_lock)
#define GLOCK_IOC_STATE		_IOWR(GLOCK_IOC_MAGIC, 3, struct glock_state)
#define GLOCK_IOC_SET_RULES	_IOW(GLOCK_IOC_MAGIC, 4, struct glock_rules)
#define GLOCK_IOC_GET_RULES	_IOWR(GLOCK_IOC_MAGIC, 5, struct glock_rules)
#define GLOCK_IOC_GET_HANDLE	_IOWR(GLOCK_IOC_MAGIC, 6, struct glock_handle)
/* PUT_HANDLE: arg = handle; EBUSY while this owner holds or waits for it. */
#define GLOCK_IOC_PUT_HANDLE	_IO(GLOCK_IOC_MAGIC, 7)
/* HLOCK: waits forever (or tries); returns the GLOCK_R_* bits, >= 0. */
#define GLOCK_IOC_HLOCK		_IO(GLOCK_IOC_MAGIC, 8)
/* HUNLOCK: arg = handle; returns the depth still held. */
#define GLOCK_IOC_HUNLOCK	_IO(GLOCK_IOC_MAGIC, 9)

#endif /* _UAPI_LINUX_GLOCK_H */
