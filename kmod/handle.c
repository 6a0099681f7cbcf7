// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock handles: the fast path. GET_HANDLE names a lock once; HLOCK and
 * HUNLOCK then take only an integer, so the hot path copies no struct and
 * no name and hashes nothing. A handle holds its owner's ref on the lock
 * (lock.c), which keeps the object in the table.
 *
 * Locking: owner->handles.lock serialises changes to the owner's slot
 * table; PUT_HANDLE clears a slot holding it and the ref's object lock
 * (order: handles.lock, obj->lock). HLOCK and HUNLOCK take no table lock:
 * in an RCU read section (preemption off, but under PREEMPT_RT) they read
 * the slot, lock the ref's object and check that the slot still holds
 * that ref, which no PUT_HANDLE can then change. RCU keeps what they read
 * valid: a grown table frees the old one after a grace period, and a ref
 * that has had a handle is freed after one (ref->rcu_free, lock.c).
 *
 * The table is a flat array indexed by handle, not an xarray: a lookup is
 * a bounds check and a load (an xarray's RCU walk was a quarter of the
 * pair's own cost). It grows by doubling to 65536 slots (512 KiB), with a
 * bitmap of the used ones in the same allocation: a new handle is the
 * lowest free slot, found by a bitmap search of at most 1024 words.
 */

#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cluster.h"
#include "internal.h"

static_assert(sizeof(struct glock_handle) == 64);

#define GLOCK_HANDLE_MAX	65535U
#define GLOCK_HANDLE_SLOTS_MIN	16U
#define GLOCK_H_HANDLE_MASK	0xffffU
#define GLOCK_H_MODE_MASK	(0xfU << GLOCK_H_MODE_SHIFT)

/* The table doubles up to exactly the handle space. */
static_assert(!((GLOCK_HANDLE_MAX + 1) & GLOCK_HANDLE_MAX));

/* The slot table; handles.lock held. */
static struct glock_ref **glock_handle_table(struct glock_handles *hs)
{
	return rcu_dereference_protected(hs->slot, lockdep_is_held(&hs->lock));
}

/* The ref of handle @h, or NULL; handles.lock held. */
static struct glock_ref *glock_handle_ref(struct glock_handles *hs,
					  unsigned long h)
{
	return h < hs->cap ? glock_handle_table(hs)[h] : NULL; /* 0: NULL */
}

/* The same without the lock, in a read section: NULL, or a ref it keeps. */
static struct glock_ref *glock_handle_peek(struct glock_handles *hs,
					   unsigned long h)
{
	/* Pairs with smp_store_release() in glock_handle_grow(). */
	u32 cap = smp_load_acquire(&hs->cap);
	struct glock_ref **slot;

	if (h >= cap)
		return NULL;
	slot = rcu_dereference_check(hs->slot, rcu_read_lock_sched_held());
	return READ_ONCE(slot[h]);
}

/*
 * The ref of handle @h, with its object locked: true with it in *@refp,
 * false if @h is not one. Through glock_handle_lock(), for sparse. Inline:
 * in the guest each call on the pair's path costs what a lock does.
 */
static __always_inline bool __glock_handle_lock(struct glock_owner *owner,
						unsigned long h,
						struct glock_ref **refp)
{
	struct glock_handles *hs = &owner->handles;
	struct glock_obj *obj;
	struct glock_ref *ref;

	glock_lockless_begin();
	while ((ref = glock_handle_peek(hs, h))) {
		obj = ref->key.obj;	/* fixed for the ref's life */
		spin_lock(&obj->lock);
		/* Not put meanwhile (maybe to be reused)? */
		if (glock_handle_peek(hs, h) == ref) {
			glock_lockless_end();
			*refp = ref;
			__release(obj_lock);	/* counted by the caller */
			return true;
		}
		spin_unlock(&obj->lock);
	}
	glock_lockless_end();
	*refp = NULL;
	return false;
}

#define glock_handle_lock(owner, h, refp)				\
	__cond_lock(obj_lock, __glock_handle_lock(owner, h, refp))

/* Free slot @h; handles.lock held. */
static void glock_handle_clear(struct glock_handles *hs, u32 h)
{
	WRITE_ONCE(glock_handle_table(hs)[h], NULL);
	__clear_bit(h, hs->used);
}

/* The used-slot bitmap that follows a table of @cap slots. */
static unsigned long *glock_handle_bitmap(struct glock_ref **slot, u32 cap)
{
	return (unsigned long *)(slot + cap);
}

/*
 * Move to the zeroed table @slot of @cap slots (and bitmap); the old one,
 * to be freed after an RCU grace period, is left in *@slot. handles.lock
 * held.
 */
static void glock_handle_grow(struct glock_handles *hs,
			      struct glock_ref ***slot, u32 cap)
{
	struct glock_ref **old = glock_handle_table(hs);
	unsigned long *used = glock_handle_bitmap(*slot, cap);

	if (hs->cap) {
		memcpy(*slot, old, hs->cap * sizeof(**slot));
		bitmap_copy(used, hs->used, hs->cap);
	} else {
		__set_bit(0, used);	/* 0 is never a handle */
	}
	rcu_assign_pointer(hs->slot, *slot);
	/* A lockless reader that sees the new cap sees the new table. */
	smp_store_release(&hs->cap, cap);
	hs->used = used;
	*slot = old;
}

/*
 * Free @table; @was_read: it was the owner's, and lockless lookups may be
 * reading it, so it goes after a grace period. Not waited for: 12 grace
 * periods took GET_HANDLE of 65535 handles past 30 s on the debug kernel.
 */
static void glock_handle_free_table(struct glock_ref **table, bool was_read)
{
	if (was_read)
		kvfree_rcu_mightsleep(table);
	else
		kvfree(table);
}

/*
 * Give @ref the lowest free handle, growing the table if it is full.
 * Return: the handle, -ENOLCK with 65535 in use, or -ENOMEM.
 */
static int glock_handle_alloc(struct glock_handles *hs, struct glock_ref *ref)
{
	struct glock_ref **spare = NULL;
	bool grown = false;
	u32 h, cap = 0;

	for (;;) {
		spin_lock(&hs->lock);
		if (spare && hs->cap < cap) {	/* nobody grew it meanwhile */
			grown = hs->cap;	/* an old table to free */
			glock_handle_grow(hs, &spare, cap);
		}
		h = hs->cap ? find_first_zero_bit(hs->used, hs->cap) : 0;
		if (h && h < hs->cap) {
			__set_bit(h, hs->used);
			/* Pairs with READ_ONCE() in glock_handle_peek(). */
			smp_store_release(&glock_handle_table(hs)[h], ref);
			spin_unlock(&hs->lock);
			glock_handle_free_table(spare, grown);
			return h;
		}
		cap = hs->cap ? hs->cap * 2 : GLOCK_HANDLE_SLOTS_MIN;
		spin_unlock(&hs->lock);
		/* Never published: a table grown above has a free slot. */
		kvfree(spare);
		if (cap > GLOCK_HANDLE_MAX + 1)
			return -ENOLCK;
		spare = kvzalloc(cap * sizeof(*spare) +
				 BITS_TO_LONGS(cap) * sizeof(long),
				 GFP_KERNEL_ACCOUNT);
		if (!spare)
			return -ENOMEM;
	}
}

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
	ret = glock_handle_alloc(&owner->handles, ref);
	if (ret < 0) {
		glock_ref_unhandle(ref, true);
		return ret;
	}
	if (put_user(ret, &uarg->handle)) {
		spin_lock(&owner->handles.lock);
		glock_handle_clear(&owner->handles, ret);
		spin_unlock(&owner->handles.lock);
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
	struct glock_handles *hs = &owner->handles;
	struct glock_ref *ref;
	struct glock_obj *obj;

	spin_lock(&hs->lock);
	ref = glock_handle_ref(hs, arg);
	if (!ref) {
		spin_unlock(&hs->lock);
		return -EINVAL;
	}
	obj = ref->key.obj;
	spin_lock(&obj->lock);
	if (ref->depth || ref->nwait) {
		spin_unlock(&obj->lock);
		spin_unlock(&hs->lock);
		return -EBUSY;
	}
	glock_handle_clear(hs, arg);
	spin_unlock(&hs->lock);
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
	struct glock_handles *hs = &owner->handles;
	/* No request of the owner is in progress, so no lookup either. */
	struct glock_ref **slot = rcu_dereference_protected(hs->slot, true);
	u32 h;

	for (h = 1; h < hs->cap; h++)
		if (slot[h])
			glock_ref_unhandle(slot[h], true);
	kvfree(slot);
}
