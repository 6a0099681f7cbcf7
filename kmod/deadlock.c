// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock deadlock detection: refuse a wait that would close a cycle.
 *
 * The wait-for graph has an edge from owner A to owner B when A has a
 * request queued on a lock that B holds, or that B is queued on ahead of A
 * (the queue is strict FIFO, so A is granted only after B). Edges appear
 * only when a request is queued, and every queueing happens under
 * glock_graph_lock right after this check; a hand-off turns "B is ahead of
 * A" into "B holds", which is the same edge. So checking at enqueue time,
 * under that lock, sees every cycle as it would form.
 *
 * Locking: glock_graph_lock is held (it keeps every owner's ->waits stable
 * and owners alive: an ending owner passes through it before it is freed).
 * The requester's bucket lock is held too; other buckets are locked one at
 * a time, nested, while their object is read. The search is a breadth-first
 * walk using each owner's dd_node/dd_gen as queue link and visited mark.
 */

#include "internal.h"

static u64 glock_dd_gen;

struct glock_search {
	struct glock_owner *me;
	struct glock_obj *start;
	struct list_head queue;
	bool found;
};

static void glock_visit(struct glock_search *s, struct glock_owner *owner)
{
	if (owner == s->me) {
		s->found = true;
		return;
	}
	if (owner->dd_gen == glock_dd_gen)
		return;
	owner->dd_gen = glock_dd_gen;
	list_add_tail(&owner->dd_node, &s->queue);
}

/*
 * Visit the owners that a request on @obj waits for: the holders, and the
 * owners queued ahead of @until (NULL: the whole queue, as for a request
 * about to be appended). Other requests of @self do not count.
 */
static void glock_visit_blockers(struct glock_search *s, struct glock_obj *obj,
				 struct glock_waiter *until,
				 struct glock_owner *self)
{
	struct glock_waiter *w;
	struct glock_ref *ref;

	lockdep_assert_held(&obj->bucket->lock);
	list_for_each_entry(ref, &obj->refs, obj_node)
		if (ref->depth && ref->owner != self)
			glock_visit(s, ref->owner);
	list_for_each_entry(w, &obj->waiters, node) {
		if (w == until)
			break;
		if (w->ref->owner != self)
			glock_visit(s, w->ref->owner);
	}
}

/* Visit what @owner's request @w waits for; @held is already locked. */
static void glock_visit_waiter(struct glock_search *s, struct glock_waiter *w,
			       struct glock_owner *owner,
			       struct glock_bucket *held)
{
	struct glock_bucket *b = w->obj->bucket;

	/*
	 * Everyone a request on the start object waits for was visited
	 * first; going through it again would make a long queue quadratic.
	 */
	if (w->obj == s->start)
		return;
	/* A granted waiter still finishing holds, it does not wait. */
	if (b == held) {
		if (!w->granted)
			glock_visit_blockers(s, w->obj, w, owner);
		return;
	}
	spin_lock_nested(&b->lock, SINGLE_DEPTH_NESTING);
	if (!w->granted)
		glock_visit_blockers(s, w->obj, w, owner);
	spin_unlock(&b->lock);
}

/**
 * glock_would_deadlock() - would queueing @me on @obj close a cycle?
 * @me: the requesting owner
 * @obj: the busy object; its bucket lock is held
 *
 * Return: true if some owner @me would wait for already waits, directly or
 * through others, for @me.
 */
bool glock_would_deadlock(struct glock_owner *me, struct glock_obj *obj)
{
	struct glock_search s = { .me = me, .start = obj };
	struct glock_bucket *held = obj->bucket;
	struct glock_owner *owner;
	struct glock_waiter *w;

	lockdep_assert_held(&glock_graph_lock);
	lockdep_assert_held(&held->lock);

	INIT_LIST_HEAD(&s.queue);
	glock_dd_gen++;
	glock_visit_blockers(&s, obj, NULL, me);

	while (!s.found && !list_empty(&s.queue)) {
		owner = list_first_entry(&s.queue, struct glock_owner, dd_node);
		list_del(&owner->dd_node);
		list_for_each_entry(w, &owner->waits, owner_node) {
			glock_visit_waiter(&s, w, owner, held);
			if (s.found)
				break;
		}
	}
	/* Leave no owner linked into this search's queue. */
	while (!list_empty(&s.queue))
		list_del(s.queue.next);
	return s.found;
}
