// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock owners: their lifetime, and the exported in-kernel API.
 *
 * An owner is an open file of /dev/glock or a kernel client's handle; it
 * knows nothing of struct file. Its end releases every hold it has, marking
 * exclusive ones abandoned.
 *
 * Locking: glock_owners_lock (mutex) protects glock_owners and
 * glock_nowners. An owner's refs are its own business (lock.c); before an
 * owner is freed it passes through the graph lock, because a cycle search
 * may have reached it through a hold it no longer has.
 *
 * An owner references the IPC namespace it was opened in until it is
 * freed, so the namespace (its address, its inode number) cannot be reused
 * while the owner's names are in use.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/ipc_namespace.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/proc_ns.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "cluster.h"
#include "compat.h"
#include "internal.h"

/* Protects glock_owners and glock_nowners. */
DEFINE_MUTEX(glock_owners_lock);
LIST_HEAD(glock_owners);
unsigned int glock_nowners;
static atomic64_t glock_next_owner_id;

/**
 * glock_owner_alloc() - create an owner in the caller's IPC namespace
 * @kernel: a kernel client (initial IPC namespace, no pid)
 * @label: the kernel client's label; ignored for user owners
 *
 * Return: the owner, or NULL when out of memory.
 */
struct glock_owner *glock_owner_alloc(bool kernel, const char *label)
{
	struct glock_owner *owner;
	struct ipc_namespace *ns;

	owner = kzalloc(sizeof(*owner), GFP_KERNEL_ACCOUNT);
	if (!owner)
		return NULL;
	spin_lock_init(&owner->lock);
	spin_lock_init(&owner->wait_lock);
	INIT_LIST_HEAD(&owner->refs);
	INIT_LIST_HEAD(&owner->waits);
	spin_lock_init(&owner->handles.lock);
	INIT_LIST_HEAD(&owner->dd_node);
	owner->id = atomic64_inc_return(&glock_next_owner_id);
	owner->kernel = kernel;
	if (kernel) {
		ns = init_task.nsproxy->ipc_ns;
		strscpy(owner->comm, label, sizeof(owner->comm));
	} else {
		ns = current->nsproxy->ipc_ns;
		owner->pid = task_tgid_nr(current);
		strscpy(owner->comm, current->comm, sizeof(owner->comm));
	}
	owner->ns = get_ipc_ns(ns);
	owner->ns_inum = ns->ns.inum;

	mutex_lock(&glock_owners_lock);
	list_add_tail(&owner->node, &glock_owners);
	glock_nowners++;
	mutex_unlock(&glock_owners_lock);
	return owner;
}

/**
 * glock_owner_free() - end an owner: release its holds, then free it
 * @owner: the owner; no request of it may be in progress
 */
void glock_owner_free(struct glock_owner *owner)
{
	glock_handles_release(owner);
	glock_release_all(owner);
	glock_cluster_release(owner);

	mutex_lock(&glock_owners_lock);
	list_del(&owner->node);
	glock_nowners--;
	mutex_unlock(&glock_owners_lock);

	/* Wait out a cycle search that may still look at this owner. */
	glock_graph_lock_sync();

	glock_put_ipc_ns(owner->ns);
	if (owner->cred)
		put_cred(owner->cred);
	glock_user_put(owner->user);
	kfree(owner);
}

/**
 * glock_put_ipc_ns() - drop a reference taken with get_ipc_ns()
 * @ns: the namespace
 *
 * put_ipc_ns() is not exported; the namespace's own operations reach it.
 * Safe under a spinlock: the last put only queues the namespace's freeing.
 */
void glock_put_ipc_ns(struct ipc_namespace *ns)
{
	ns->ns.ops->put(&ns->ns);
}

static int glock_check_label(const char *label)
{
	size_t len = strnlen(label, GLOCK_COMM_LEN);

	if (len == GLOCK_COMM_LEN)
		return -EINVAL;
	return glock_check_name(label, len);
}

/**
 * glock_owner_create() - create a kernel owner of glocks
 * @label: 1..31 printable characters without spaces, shown as the owner's
 *	comm in debugfs (e.g. "glock_i2c-1-0050")
 *
 * The owner lives in the initial IPC namespace and keeps the glock module
 * loaded until glock_owner_destroy().
 *
 * Context: process context; may sleep.
 * Return: the owner, ERR_PTR(-EINVAL) for a bad label, ERR_PTR(-ENOMEM).
 */
struct glock_owner *glock_owner_create(const char *label)
{
	struct glock_owner *owner;

	if (!label || glock_check_label(label))
		return ERR_PTR(-EINVAL);
	owner = glock_owner_alloc(true, label);
	if (!owner)
		return ERR_PTR(-ENOMEM);
	__module_get(THIS_MODULE);
	return owner;
}
EXPORT_SYMBOL_NS_GPL(glock_owner_create, GLOCK_NS);

/**
 * glock_owner_destroy() - end a kernel owner, as a close ends a file's
 * @owner: the owner, or NULL (nothing is done)
 *
 * Every lock still held is released; exclusive holds are marked abandoned
 * and the next acquirer is told. None of the owner's requests may still be
 * waiting.
 *
 * Context: process context; may sleep.
 */
void glock_owner_destroy(struct glock_owner *owner)
{
	unsigned int nrefs;

	if (!owner)
		return;
	WARN_ON_ONCE(!list_empty(&owner->waits));
	nrefs = atomic_read(&owner->nrefs);
	if (nrefs)
		pr_notice("owner %llu (%s) destroyed holding %u lock(s): released as abandoned\n",
			  owner->id, owner->comm, nrefs);
	glock_owner_free(owner);
	module_put(THIS_MODULE);
}
EXPORT_SYMBOL_NS_GPL(glock_owner_destroy, GLOCK_NS);

/**
 * glock_lock() - acquire a named lock for a kernel owner
 * @owner: from glock_owner_create()
 * @name: name bytes, 1..GLOCK_NAME_MAX in 0x21..0x7e, not NUL-terminated
 * @len: length of @name
 * @mode: GLOCK_EXCLUSIVE or GLOCK_SHARED
 * @timeout_ns: < 0 waits forever, 0 tries once, > 0 relative nanoseconds,
 *	or an absolute CLOCK_MONOTONIC time with GLOCK_F_ABSTIME
 * @flags: GLOCK_F_* bits
 * @result: out (may be NULL), GLOCK_R_ABANDONED if the previous exclusive
 *	holder died holding the lock: re-initialise what it guarded
 *
 * Same rules as the GLOCK_IOC_LOCK ioctl: FIFO without barging, recursion
 * in the same mode, deadlock detection across user and kernel owners.
 *
 * Context: process context; may sleep. Takes no lock the caller may hold.
 * Return: 0 on success; -EINVAL for bad arguments, -EAGAIN (try, busy),
 * -ETIMEDOUT, -EINTR (signal), -EDEADLK (mode change while holding, or a
 * wait-for cycle), -ENOLCK (a limit), -ENOMEM.
 */
int glock_lock(struct glock_owner *owner, const char *name, size_t len,
	       u32 mode, s64 timeout_ns, u32 flags, u32 *result)
{
	u32 res, depth;
	int ret;

	might_sleep();
	ret = glock_check_args(name, len, mode, flags);
	if (ret)
		return ret;
	ret = glock_acquire(owner, name, len, mode, timeout_ns, flags, &res,
			    &depth);
	if (!ret && result)
		*result = res;
	return ret;
}
EXPORT_SYMBOL_NS_GPL(glock_lock, GLOCK_NS);

/**
 * glock_unlock() - drop one level of a kernel owner's hold
 * @owner: from glock_owner_create()
 * @name: name bytes
 * @len: length of @name
 *
 * Context: process context.
 * Return: 0; -EINVAL for a bad name; -EPERM if @owner does not hold it.
 */
int glock_unlock(struct glock_owner *owner, const char *name, size_t len)
{
	u32 depth;
	int ret;

	ret = glock_check_name(name, len);
	if (ret)
		return ret;
	return glock_release(owner, name, len, 0, &depth);
}
EXPORT_SYMBOL_NS_GPL(glock_unlock, GLOCK_NS);

/**
 * glock_state() - snapshot one lock, e.g. to name a holder in a log line
 * @owner: the asking owner (for @state->depth)
 * @name: name bytes
 * @len: length of @name
 * @state: out
 *
 * Context: process context.
 * Return: 0, or -EINVAL for a bad name.
 */
int glock_state(struct glock_owner *owner, const char *name, size_t len,
		struct glock_kstate *state)
{
	struct glock_snapshot snap;
	int ret;

	ret = glock_check_name(name, len);
	if (ret)
		return ret;
	glock_snapshot(owner, name, len, &snap);
	put_pid(snap.holder);
	*state = snap.st;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(glock_state, GLOCK_NS);
