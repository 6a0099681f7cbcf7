// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock handles: the fast path. GET_HANDLE names a lock once; HLOCK and
 * HUNLOCK then take only an integer, so the hot path copies no struct and
 * no name and hashes nothing. A handle holds its owner's ref on the lock
 * (lock.c), which keeps the object in the table.
 *
 * Locking: owner->handles is an xarray (its own xa_lock). A handle's ref
 * is looked up under xa_lock, and its object locked before xa_lock is
 * dropped: PUT_HANDLE takes the same two locks in the same order, so a
 * ref cannot go away between lookup and use. Order: xa_lock, obj->lock.
 */

#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "cluster.h"
#include "internal.h"

static_assert(sizeof(struct glock_handle) == 64);

#define GLOCK_HANDLE_MAX	65535U
#define GLOCK_H_HANDLE_MASK	0xffffU
#define GLOCK_H_MODE_MASK	(0xfU << GLOCK_H_MODE_SHIFT)

/*
 * The ref of handle @h, with its object locked: true with it in *@refp,
 * false if @h is not one. Through glock_handle_lock(), for sparse.
 */
static bool __glock_handle_lock(struct glock_owner *owner, unsigned long h,
				struct glock_ref **refp)
{
	struct glock_ref *ref;

	*refp = NULL;
	if (!h || h > GLOCK_HANDLE_MAX)
		return false;
	xa_lock(&owner->handles);
	ref = xa_load(&owner->handles, h);
	if (!ref) {
		xa_unlock(&owner->handles);
		return false;
	}
	spin_lock(&ref->key.obj->lock);
	xa_unlock(&owner->handles);
	*refp = ref;
	__release(obj_lock);	/* counted by the caller */
	return true;
}

#define glock_handle_lock(owner, h, refp)				\
	__cond_lock(obj_lock, __glock_handle_lock(owner, h, refp))

/**
 * glock_ioctl_get_handle() - GLOCK_IOC_GET_HANDLE
 * @owner: the file's owner
 * @uarg: struct glock_handle in user memory
 *
 * Return: 0; -EINVAL, -EFAULT, -EACCES (rules), -ENOLCK (a limit, or
 * 65535 handles), -ENOMEM.
 */
int glock_ioctl_get_handle(struct glock_owner *owner,
			   struct glock_handle __user *uarg)
{
	char name[GLOCK_NAME_MAX];
	struct glock_handle args;
	struct glock_ref *ref;
	u32 id;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || memchr_inv(args.padding, 0, sizeof(args.padding)))
		return -EINVAL;
	if (!args.name_len || args.name_len > GLOCK_NAME_MAX)
		return -EINVAL;
	if (copy_from_user(name, u64_to_user_ptr(args.name), args.name_len))
		return -EFAULT;
	/* Handles name local locks only: "cluster:" names go by name. */
	if (glock_cluster_name(name, args.name_len))
		return -EOPNOTSUPP;
	ret = glock_check_name(name, args.name_len) ?:
	      glock_rules_check(owner, name, args.name_len, GLOCK_RULE_WRITE) ?:
	      glock_ref_for_handle(owner, name, args.name_len, &ref);
	if (ret)
		return ret;
	ret = xa_alloc(&owner->handles, &id, ref,
		       XA_LIMIT(1, GLOCK_HANDLE_MAX), GFP_KERNEL_ACCOUNT);
	if (ret) {
		glock_ref_unhandle(ref, true);
		return ret == -EBUSY ? -ENOLCK : ret;
	}
	if (put_user(id, &uarg->handle)) {
		xa_erase(&owner->handles, id);
		glock_ref_unhandle(ref, true);
		return -EFAULT;
	}
	return 0;
}

/**
 * glock_ioctl_put_handle() - GLOCK_IOC_PUT_HANDLE
 * @owner: the file's owner
 * @arg: the handle
 *
 * Return: 0; -EINVAL for a handle this file does not have; -EBUSY while
 * the owner holds or waits for the lock, by any path.
 */
int glock_ioctl_put_handle(struct glock_owner *owner, unsigned long arg)
{
	struct glock_ref *ref;
	struct glock_obj *obj;

	if (!arg || arg > GLOCK_HANDLE_MAX)
		return -EINVAL;
	xa_lock(&owner->handles);
	ref = xa_load(&owner->handles, arg);
	if (!ref) {
		xa_unlock(&owner->handles);
		return -EINVAL;
	}
	obj = ref->key.obj;
	spin_lock(&obj->lock);
	if (ref->depth || ref->nwait) {
		spin_unlock(&obj->lock);
		xa_unlock(&owner->handles);
		return -EBUSY;
	}
	__xa_erase(&owner->handles, arg);
	xa_unlock(&owner->handles);
	spin_unlock(&obj->lock);
	/* Nothing else reaches the ref through this handle now. */
	return glock_ref_unhandle(ref, true);
}

/**
 * glock_ioctl_hlock() - GLOCK_IOC_HLOCK
 * @owner: the file's owner
 * @arg: handle | mode << GLOCK_H_MODE_SHIFT [| GLOCK_H_TRY]
 *
 * Return: the GLOCK_R_* bits (>= 0); -EINVAL, -EAGAIN (try), -EINTR,
 * -EDEADLK, -EOVERFLOW, -ENOLCK, -ENOMEM.
 */
long glock_ioctl_hlock(struct glock_owner *owner, unsigned long arg)
{
	u32 mode = (arg & GLOCK_H_MODE_MASK) >> GLOCK_H_MODE_SHIFT;
	struct glock_ref *ref;
	u32 result;
	int ret;

	if (arg & ~(GLOCK_H_HANDLE_MASK | GLOCK_H_MODE_MASK | GLOCK_H_TRY))
		return -EINVAL;
	if (mode != GLOCK_EXCLUSIVE && mode != GLOCK_SHARED)
		return -EINVAL;
	if (!glock_handle_lock(owner, arg & GLOCK_H_HANDLE_MASK, &ref))
		return -EINVAL;
	ret = glock_hlock(owner, ref, mode, arg & GLOCK_H_TRY, &result);
	return ret ?: result;
}

/**
 * glock_ioctl_hunlock() - GLOCK_IOC_HUNLOCK
 * @owner: the file's owner
 * @arg: the handle
 *
 * Return: the depth still held (>= 0); -EINVAL; -EPERM if not held.
 */
long glock_ioctl_hunlock(struct glock_owner *owner, unsigned long arg)
{
	struct glock_ref *ref;
	u32 depth;
	int ret;

	if (!glock_handle_lock(owner, arg, &ref))
		return -EINVAL;
	ret = glock_hunlock(ref, &depth);
	return ret ?: depth;
}

/**
 * glock_handles_release() - drop every handle of an ending owner
 * @owner: the owner; no request of it is in progress
 */
void glock_handles_release(struct glock_owner *owner)
{
	struct glock_ref *ref;
	unsigned long id;

	xa_for_each(&owner->handles, id, ref)
		glock_ref_unhandle(ref, true);
	xa_destroy(&owner->handles);
}
