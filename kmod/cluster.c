// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock's cluster hook: one registered backend (glock_dlm.ko) serves the
 * names that begin with "cluster:". See cluster.h.
 *
 * Locking: glock_cluster_mutex serialises register and unregister.
 * Callers find the backend under RCU and pin its module with
 * try_module_get() before they leave the read side, so a call never runs
 * in a module that is going away: unregister() clears the pointer and
 * waits for a grace period, and the backend only unregisters from its
 * exit, when no reference is left. Nothing else is shared.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>

#include "cluster.h"
#include "compat.h"
#include "internal.h"

static const struct glock_cluster_ops __rcu *glock_cluster_ops;
static DEFINE_MUTEX(glock_cluster_mutex);

/**
 * glock_cluster_register() - make a backend serve the "cluster:" names
 * @ops: the backend; it must stay valid until glock_cluster_unregister()
 *
 * Context: process context (the backend's init or a worker).
 * Return: 0, -EINVAL for incomplete @ops, or -EBUSY when another backend is
 * registered.
 */
int glock_cluster_register(const struct glock_cluster_ops *ops)
{
	int ret = 0;

	if (!ops || !ops->lock || !ops->unlock || !ops->state || !ops->release)
		return -EINVAL;
	mutex_lock(&glock_cluster_mutex);
	if (rcu_access_pointer(glock_cluster_ops))
		ret = -EBUSY;
	else
		rcu_assign_pointer(glock_cluster_ops, ops);
	mutex_unlock(&glock_cluster_mutex);
	if (!ret)
		pr_info("cluster backend %s registered\n",
			ops->owner ? module_name(ops->owner) : "(built-in)");
	return ret;
}
EXPORT_SYMBOL_GPL(glock_cluster_register);

/**
 * glock_cluster_unregister() - stop handing "cluster:" names to a backend
 * @ops: as given to glock_cluster_register(); another backend is left alone
 *
 * On return no new call reaches @ops. Calls already running hold a
 * reference on @ops->owner, so a backend that unregisters from its module
 * exit has none left.
 *
 * Context: process context; sleeps for an RCU grace period.
 */
void glock_cluster_unregister(const struct glock_cluster_ops *ops)
{
	mutex_lock(&glock_cluster_mutex);
	if (rcu_access_pointer(glock_cluster_ops) == ops)
		RCU_INIT_POINTER(glock_cluster_ops, NULL);
	mutex_unlock(&glock_cluster_mutex);
	synchronize_rcu();
}
EXPORT_SYMBOL_GPL(glock_cluster_unregister);

/* The backend with its module pinned, or NULL. */
static const struct glock_cluster_ops *glock_cluster_get(void)
{
	const struct glock_cluster_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(glock_cluster_ops);
	if (ops && !try_module_get(ops->owner))
		ops = NULL;
	rcu_read_unlock();
	return ops;
}

int glock_cluster_lock(struct glock_owner *owner, const char *name, u32 len,
		       u32 mode, s64 timeout_ns, u32 flags, u32 *result,
		       u32 *depth)
{
	const struct glock_cluster_ops *ops = glock_cluster_get();
	int ret;

	*result = 0;
	*depth = 0;
	if (!ops)
		return -ENOTCONN;
	ret = ops->lock(&owner->cluster, name, len, mode, timeout_ns, flags,
			result, depth);
	module_put(ops->owner);
	return ret;
}

int glock_cluster_unlock(struct glock_owner *owner, const char *name,
			 u32 len, u32 mode, u32 *depth)
{
	const struct glock_cluster_ops *ops = glock_cluster_get();
	int ret;

	*depth = 0;
	if (!ops)
		return -ENOTCONN;
	ret = ops->unlock(&owner->cluster, name, len, mode, depth);
	module_put(ops->owner);
	return ret;
}

int glock_cluster_state(struct glock_owner *owner, const char *name, u32 len,
			struct glock_state *st)
{
	const struct glock_cluster_ops *ops = glock_cluster_get();
	int ret;

	if (!ops)
		return -ENOTCONN;
	ret = ops->state(&owner->cluster, name, len, st);
	module_put(ops->owner);
	return ret;
}

/* The owner ends: let the backend release what it holds for it. */
void glock_cluster_release(struct glock_owner *owner)
{
	const struct glock_cluster_ops *ops;
	void *priv = READ_ONCE(owner->cluster);

	if (!priv)
		return;
	/*
	 * The backend keeps its module pinned while it has state for an
	 * owner, so it is still registered here.
	 */
	ops = glock_cluster_get();
	if (WARN_ON_ONCE(!ops))
		return;
	owner->cluster = NULL;
	ops->release(priv);
	module_put(ops->owner);
}
