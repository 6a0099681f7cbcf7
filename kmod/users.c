// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock users: per-uid accounting. The locks held or waited for by the
 * user owners of one uid (the real uid of the opener's credentials) are
 * capped by max_locks_per_user; abandoned marks are charged to the uid
 * whose owner died (marks.c keeps each user's marks on its own list).
 *
 * Locking: glock_users_lock (spinlock) protects glock_users and the last
 * put of a user; it is a leaf, taken under object and marks locks. A user
 * lives while an owner or a mark references it. Kernel owners have no
 * user; their marks are charged to glock_kernel_user, which never ends.
 */

#include <linux/hashtable.h>
#include <linux/slab.h>

#include "internal.h"

static DEFINE_SPINLOCK(glock_users_lock);
static DEFINE_HASHTABLE(glock_users, 6);	/* glock_users_lock */

unsigned int glock_max_locks_per_user = 16384;

struct glock_user glock_kernel_user = {
	.ref = REFCOUNT_INIT(1),
	.marks = LIST_HEAD_INIT(glock_kernel_user.marks),
	.mnode = LIST_HEAD_INIT(glock_kernel_user.mnode),
};

static struct glock_user *glock_user_find(kuid_t uid)
{
	struct glock_user *u;

	lockdep_assert_held(&glock_users_lock);
	hash_for_each_possible(glock_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/**
 * glock_user_get() - the accounting entry of @uid, made on first use
 * @uid: a kernel uid
 *
 * Context: process context, no spinlock held.
 * Return: a referenced user, or NULL when out of memory.
 */
struct glock_user *glock_user_get(kuid_t uid)
{
	struct glock_user *u, *fresh;

	spin_lock(&glock_users_lock);
	u = glock_user_find(uid);
	if (u)
		refcount_inc(&u->ref);
	spin_unlock(&glock_users_lock);
	if (u)
		return u;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return NULL;
	fresh->uid = uid;
	refcount_set(&fresh->ref, 1);
	INIT_LIST_HEAD(&fresh->marks);
	INIT_LIST_HEAD(&fresh->mnode);

	spin_lock(&glock_users_lock);
	u = glock_user_find(uid);
	if (u) {
		refcount_inc(&u->ref);
	} else {
		hash_add(glock_users, &fresh->node, __kuid_val(uid));
		u = fresh;
		fresh = NULL;
	}
	spin_unlock(&glock_users_lock);
	kfree(fresh);
	return u;
}

/**
 * glock_user_hold() - one more reference on a user
 * @u: the user
 *
 * Return: @u.
 */
struct glock_user *glock_user_hold(struct glock_user *u)
{
	if (u != &glock_kernel_user)
		refcount_inc(&u->ref);
	return u;
}

/**
 * glock_user_put() - drop a reference; the last one frees the user
 * @u: the user, or NULL
 *
 * Context: any context that may take a spinlock.
 */
void glock_user_put(struct glock_user *u)
{
	if (!u || u == &glock_kernel_user)
		return;
	if (!__cond_lock(&glock_users_lock,
			 refcount_dec_and_lock(&u->ref, &glock_users_lock)))
		return;
	hash_del(&u->node);
	spin_unlock(&glock_users_lock);
	WARN_ON_ONCE(atomic_read(&u->nlocks) || u->nmarks);
	kfree(u);
}

/**
 * glock_user_charge() - count one more lock for @u, within the quota
 * @u: the user
 *
 * Return: false (and counted as a quota refusal) when @u is at
 * max_locks_per_user.
 */
bool glock_user_charge(struct glock_user *u)
{
	unsigned int max = READ_ONCE(glock_max_locks_per_user);
	int n = atomic_read(&u->nlocks);

	do {
		if ((unsigned int)n >= max) {
			this_cpu_inc(glock_stats.quota_refusals);
			return false;
		}
	} while (!atomic_try_cmpxchg(&u->nlocks, &n, n + 1));
	return true;
}
