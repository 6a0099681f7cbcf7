/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glock in-kernel API: drivers take the same named locks as /dev/glock users.
 *
 * Client modules add MODULE_IMPORT_NS(GLOCK) (MODULE_IMPORT_NS("GLOCK") from
 * 6.13 on; kmod/compat.h has GLOCK_NS for both). Every call may sleep; none is
 * for atomic context. Kernel owners live in the initial IPC namespace.
 */
#ifndef _GLOCK_KERNEL_H
#define _GLOCK_KERNEL_H

#include <linux/sched.h>
#include <linux/types.h>
#include <uapi/linux/glock.h>

struct glock_owner;

/* A kernel owner's label (with its NUL), e.g. "glock_i2c-12-0050". */
#define GLOCK_COMM_LEN	32

/**
 * struct glock_kstate - snapshot of one lock for kernel callers
 * @mode: 0 if free, else %GLOCK_EXCLUSIVE or %GLOCK_SHARED
 * @holders: number of owners holding it
 * @waiters: number of requests queued
 * @depth: depth held by the asking owner
 * @result: %GLOCK_R_ABANDONED if a mark is pending, %GLOCK_R_KERNEL if the
 *	exclusive holder is a kernel owner
 * @holder_pid: tgid (initial pid namespace) of the exclusive holder, or 0
 * @holder_comm: comm of the exclusive holder (the whole label for a kernel
 *	owner), empty if none
 */
struct glock_kstate {
	u32 mode;
	u32 holders;
	u32 waiters;
	u32 depth;
	u32 result;
	pid_t holder_pid;
	char holder_comm[GLOCK_COMM_LEN];
};

struct glock_owner *glock_owner_create(const char *label);
void glock_owner_destroy(struct glock_owner *owner);
int glock_lock(struct glock_owner *owner, const char *name, size_t len,
	       u32 mode, s64 timeout_ns, u32 flags, u32 *result);
int glock_unlock(struct glock_owner *owner, const char *name, size_t len);
int glock_state(struct glock_owner *owner, const char *name, size_t len,
		struct glock_kstate *state);

#endif /* _GLOCK_KERNEL_H */
