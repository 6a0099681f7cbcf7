// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock abandoned marks on idle locks: kept, oldest first, in a bounded list.
 *
 * A lock whose exclusive holder died while nobody waited stays in the table
 * with its mark, so whoever takes it next is told. Such idle objects are
 * also linked here, in the order they became idle; beyond
 * glock_max_abandoned_marks the oldest are dropped (and counted).
 *
 * Locking: glock_marks_lock protects glock_marks, glock_nmarks,
 * glock_marks_dropped and every object's ->lru and ->on_lru. It nests inside
 * an object's lock. Trimming runs with no object lock held and only
 * trylocks the victim under glock_marks_lock, so the reverse order never
 * waits. An object on the list is idle, and it cannot be freed without
 * first leaving the list, so a listed object is always valid here.
 */

#include "internal.h"

static DEFINE_SPINLOCK(glock_marks_lock);
static LIST_HEAD(glock_marks);
static unsigned int glock_nmarks;
static u64 glock_marks_dropped;

/**
 * glock_mark_idle() - park an idle, abandoned object on the list
 * @obj: the object, locked
 */
void glock_mark_idle(struct glock_obj *obj)
{
	lockdep_assert_held(&obj->lock);
	spin_lock(&glock_marks_lock);
	if (!obj->on_lru) {
		obj->on_lru = true;
		list_add_tail(&obj->lru, &glock_marks);
		WRITE_ONCE(glock_nmarks, glock_nmarks + 1);
	}
	spin_unlock(&glock_marks_lock);
}

/**
 * glock_mark_busy() - take an object off the list: it is in use again
 * @obj: the object, locked
 */
void glock_mark_busy(struct glock_obj *obj)
{
	lockdep_assert_held(&obj->lock);
	if (!READ_ONCE(obj->on_lru))
		return;
	spin_lock(&glock_marks_lock);
	if (obj->on_lru) {
		obj->on_lru = false;
		list_del_init(&obj->lru);
		WRITE_ONCE(glock_nmarks, glock_nmarks - 1);
	}
	spin_unlock(&glock_marks_lock);
}

/* Drop the oldest marks beyond @max, counting them if @count. */
static void glock_marks_shrink(unsigned int max, bool count)
{
	struct glock_obj *obj;

	spin_lock(&glock_marks_lock);
	while (glock_nmarks > max) {
		obj = list_first_entry(&glock_marks, struct glock_obj, lru);
		if (!spin_trylock(&obj->lock)) {
			/* Its owner is busy with it; let it finish. */
			spin_unlock(&glock_marks_lock);
			cpu_relax();
			spin_lock(&glock_marks_lock);
			continue;
		}
		obj->on_lru = false;
		list_del_init(&obj->lru);
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
 * glock_marks_trim() - enforce glock_max_abandoned_marks
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
 * glock_marks_stats() - read the list's counters for debugfs
 * @nmarks: out, marks kept now
 * @dropped: out, marks dropped so far because the list was full
 */
void glock_marks_stats(unsigned int *nmarks, u64 *dropped)
{
	spin_lock(&glock_marks_lock);
	*nmarks = glock_nmarks;
	*dropped = glock_marks_dropped;
	spin_unlock(&glock_marks_lock);
}
