// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock abandoned marks on idle locks: kept in a bounded table, charged to
 * the uid whose owner died.
 *
 * A lock whose exclusive holder died while nobody waited stays in the
 * object table with its mark, so whoever takes it next is told. The marks
 * of such idle objects are also linked on their user's list, oldest first.
 * Beyond max_abandoned_marks, the oldest mark of the user with the most
 * marks is dropped (and counted): one uid's abandons never push out
 * another uid's mark while that other holds fewer.
 *
 * Locking: glock_marks_lock protects glock_mark_users, glock_nmarks,
 * glock_marks_dropped, every user's marks list, nmarks and mnode, and
 * every mark's ->lru and ->on_lru. It nests inside an object's lock.
 * Trimming runs with no object lock held and only trylocks the victim's
 * object under glock_marks_lock, so the reverse order never waits. A
 * listed mark's object is idle, and it cannot leave the table without
 * first taking its mark off the list, so it is always valid here.
 */

#include "internal.h"

static DEFINE_SPINLOCK(glock_marks_lock);
static LIST_HEAD(glock_mark_users);	/* users with nmarks > 0 */
static unsigned int glock_nmarks;
static u64 glock_marks_dropped;

/**
 * glock_mark_idle() - park an idle, abandoned object on its user's list
 * @obj: the object, locked; it has a mark, charged to a user
 */
void glock_mark_idle(struct glock_obj *obj)
{
	struct glock_mark *mark = obj->mark;
	struct glock_user *u = mark->user;

	lockdep_assert_held(&obj->lock);
	spin_lock(&glock_marks_lock);
	if (!mark->on_lru) {
		mark->on_lru = true;
		list_add_tail(&mark->lru, &u->marks);
		if (!u->nmarks++)
			list_add_tail(&u->mnode, &glock_mark_users);
		WRITE_ONCE(glock_nmarks, glock_nmarks + 1);
	}
	spin_unlock(&glock_marks_lock);
}

/**
 * glock_mark_busy() - take an object off its list: it is in use again
 * @obj: the object, locked
 */
void glock_mark_busy(struct glock_obj *obj)
{
	struct glock_mark *mark = obj->mark;

	lockdep_assert_held(&obj->lock);
	if (!mark || !READ_ONCE(mark->on_lru))
		return;
	spin_lock(&glock_marks_lock);
	if (mark->on_lru) {
		struct glock_user *u = mark->user;

		mark->on_lru = false;
		list_del_init(&mark->lru);
		if (!--u->nmarks)
			list_del_init(&u->mnode);
		WRITE_ONCE(glock_nmarks, glock_nmarks - 1);
	}
	spin_unlock(&glock_marks_lock);
}

/* The user whose marks go first: the one with the most. */
static struct glock_user *glock_marks_victim(void)
{
	struct glock_user *u, *most = NULL;

	lockdep_assert_held(&glock_marks_lock);
	list_for_each_entry(u, &glock_mark_users, mnode)
		if (!most || u->nmarks > most->nmarks)
			most = u;
	return most;
}

/* Drop marks beyond @max, counting them if @count. */
static void glock_marks_shrink(unsigned int max, bool count)
{
	struct glock_mark *mark;
	struct glock_obj *obj;
	struct glock_user *u;

	spin_lock(&glock_marks_lock);
	while (glock_nmarks > max) {
		u = glock_marks_victim();
		mark = list_first_entry(&u->marks, struct glock_mark, lru);
		obj = mark->obj;
		if (!spin_trylock(&obj->lock)) {
			/* Its owner is busy with it; let it finish. */
			spin_unlock(&glock_marks_lock);
			cpu_relax();
			spin_lock(&glock_marks_lock);
			continue;
		}
		mark->on_lru = false;
		list_del_init(&mark->lru);
		if (!--u->nmarks)
			list_del_init(&u->mnode);
		WRITE_ONCE(glock_nmarks, glock_nmarks - 1);
		if (count)
			glock_marks_dropped++;
		obj->abandoned = false;
		glock_obj_put(obj);
		glock_obj_unlock(obj);
	}
	spin_unlock(&glock_marks_lock);
}

/**
 * glock_marks_trim() - enforce max_abandoned_marks
 *
 * Context: process context, no glock lock held.
 */
void glock_marks_trim(void)
{
	unsigned int max = READ_ONCE(glock_max_abandoned_marks);

	if (READ_ONCE(glock_nmarks) > max)
		glock_marks_shrink(max, true);
}

/**
 * glock_marks_exit() - free every remaining mark at module unload
 */
void glock_marks_exit(void)
{
	glock_marks_shrink(0, false);
}

/**
 * glock_marks_stats() - read the table's counters for debugfs
 * @nmarks: out, marks kept now
 * @dropped: out, marks dropped so far because the table was full
 */
void glock_marks_stats(unsigned int *nmarks, u64 *dropped)
{
	spin_lock(&glock_marks_lock);
	*nmarks = glock_nmarks;
	*dropped = glock_marks_dropped;
	spin_unlock(&glock_marks_lock);
}
