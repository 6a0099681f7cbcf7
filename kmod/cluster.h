/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glock's cluster scope: the hook between glock.ko and a cluster backend
 * (glock_dlm.ko). Names that begin with "cluster:" are not looked up in
 * glock's table: LOCK, UNLOCK and STATE hand them to the registered
 * backend, after the same argument, name and rules checks as any name.
 * Without a backend every such request fails with -ENOTCONN.
 *
 * The backend keeps what it knows about one owner behind the owner's
 * cluster pointer (NULL until the backend sets it); the core passes the
 * pointer's address to every call and the pointer itself to release() when
 * the owner ends. An owner's requests may run concurrently (threads sharing
 * one file), so the backend sets the pointer with cmpxchg().
 */
#ifndef _GLOCK_CLUSTER_H
#define _GLOCK_CLUSTER_H

#include <linux/types.h>
#include <uapi/linux/glock.h>

struct module;
struct glock_owner;

#define GLOCK_CLUSTER_PREFIX		"cluster:"
#define GLOCK_CLUSTER_PREFIX_LEN	(sizeof(GLOCK_CLUSTER_PREFIX) - 1)

/**
 * struct glock_cluster_ops - a cluster backend
 * @owner: the backend's module (THIS_MODULE); each call holds a reference
 * @lock: LOCK of a cluster name, arguments already checked; as
 *	glock_acquire(): 0 with *@result and *@depth set, or -errno
 *	(-ENOTCONN while the cluster is not usable); process context
 * @unlock: UNLOCK of a cluster name (@mode 0 or the held mode); 0 with
 *	*@depth set, or -errno (-EPERM when not held)
 * @state: STATE of a cluster name: fill the out fields of @st
 * @release: the owner ends; @priv is its cluster pointer, never NULL.
 *	Release every hold it has (exclusive ones abandoned) and free @priv.
 *	Must not sleep long: the owner's file is being closed.
 *
 * @priv points at the owner's cluster pointer.
 */
struct glock_cluster_ops {
	struct module *owner;
	int (*lock)(void **priv, const char *name, u32 len, u32 mode,
		    s64 timeout_ns, u32 flags, u32 *result, u32 *depth);
	int (*unlock)(void **priv, const char *name, u32 len, u32 mode,
		      u32 *depth);
	int (*state)(void **priv, const char *name, u32 len,
		     struct glock_state *st);
	void (*release)(void *priv);
};

int glock_cluster_register(const struct glock_cluster_ops *ops);
void glock_cluster_unregister(const struct glock_cluster_ops *ops);

/* Inside glock.ko (cluster.c). */
static inline bool glock_cluster_name(const char *name, u32 len)
{
	return len >= GLOCK_CLUSTER_PREFIX_LEN &&
	       !memcmp(name, GLOCK_CLUSTER_PREFIX, GLOCK_CLUSTER_PREFIX_LEN);
}

int glock_cluster_lock(struct glock_owner *owner, const char *name, u32 len,
		       u32 mode, s64 timeout_ns, u32 flags, u32 *result,
		       u32 *depth);
int glock_cluster_unlock(struct glock_owner *owner, const char *name,
			 u32 len, u32 mode, u32 *depth);
int glock_cluster_state(struct glock_owner *owner, const char *name, u32 len,
			struct glock_state *st);
void glock_cluster_release(struct glock_owner *owner);

#endif /* _GLOCK_CLUSTER_H */
