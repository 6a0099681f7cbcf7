// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock deadlock detection: refuse a wait that would close a cycle.
 *
 * The wait-for graph has an edge from owner A to owner B when A has a
 * request queued on a lock that B holds, or that B is queued on ahead of A
 * and will be granted before A and not together with A: a shared request
 * does not wait for the run of shared requests right ahead of it, which a
 * hand-off grants in the same batch. Edges appear only when a request is
 * queued, and every queueing happens under the graph lock, which the
 * request keeps while it looks for a cycle through its own new edges; a
 * hand-off turns "B is ahead of A" into "B holds", the same edge, and a
 * queued request bars anyone from holding its lock without queueing.
 *
 * Bounded work: the search counts every ref and queued request it looks at
 * and gives up after max_deadlock_steps, letting the request wait (as
 * fs/locks.c does) and counting the truncation; a cycle found within the
 * bound is always refused.
 *
 * Locking: the graph lock is a sleeping bit lock, so that a request waiting
 * for it keeps its deadline and its signals; it keeps every owner alive (an
 * ending owner passes through it) and the set of queued requests fixed, as
 * only its holder queues. Requests may still *leave* at any time: an
 * owner's waits are walked under that owner's wait_lock, which a leaving
 * request takes to unlink itself. Each object is read under its own
 * lock, one object at a time; no spinlock is held from one owner to the
 * next. The search is breadth-first, with each owner's dd_node/dd_gen as
 * queue link and visited mark (graph lock).
 */

#include <linux/hrtimer.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>

#include "internal.h"

static unsigned long glock_graph_bits;
static DECLARE_WAIT_QUEUE_HEAD(glock_graph_wq);
static u64 glock_dd_gen;

static bool glock_graph_trylock(void)
{
	return !test_and_set_bit_lock(0, &glock_graph_bits);
}

static void glock_graph_assert_held(void)
{
	WARN_ON_ONCE(!test_bit(0, &glock_graph_bits));
}

/**
 * glock_graph_lock() - take the graph lock before queueing a request
 * @deadline: the request's absolute CLOCK_MONOTONIC deadline, or NULL
 *
 * First come, first served, so that requests join a lock's queue in the
 * order they asked: a newcomer takes the lock at once only if nobody
 * waits for it, and each release wakes the longest waiter, which keeps
 * its place in the wait queue until it gets the lock or gives up.
 *
 * Context: process context; sleeps interruptibly.
 * Return: 0, -ETIMEDOUT once @deadline has passed, -EINTR on a signal.
 */
int glock_graph_lock(ktime_t *deadline)
{
	DECLARE_WAITQUEUE(wait, current);
	bool timed_out = false;
	int ret;

	/*
	 * Unlocked peek, only to avoid barging: a waiter that slips in
	 * meanwhile is woken by the next glock_graph_unlock(), whose
	 * wq_has_sleeper() has the barrier.
	 */
	if (!waitqueue_active(&glock_graph_wq) && glock_graph_trylock())
		return 0;
	add_wait_queue_exclusive(&glock_graph_wq, &wait);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (glock_graph_trylock()) {
			ret = 0;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (timed_out) {
			ret = -ETIMEDOUT;
			break;
		}
		if (!schedule_hrtimeout(deadline, HRTIMER_MODE_ABS))
			timed_out = true;
	}
	__set_current_state(TASK_RUNNING);
	remove_wait_queue(&glock_graph_wq, &wait);
	/* Woken for a turn it does not take: pass the turn on. */
	if (ret && !test_bit(0, &glock_graph_bits))
		wake_up(&glock_graph_wq);
	return ret;
}

/**
 * glock_graph_lock_sync() - wait for any cycle search in progress to end
 *
 * An ending owner calls this before it is freed: a search may have reached
 * it through a hold it no longer has. The wait is bounded by one search.
 *
 * Context: process context; sleeps uninterruptibly.
 */
void glock_graph_lock_sync(void)
{
	wait_event(glock_graph_wq, glock_graph_trylock());
	glock_graph_unlock();
}

/**
 * glock_graph_unlock() - release the graph lock
 */
void glock_graph_unlock(void)
{
	clear_bit_unlock(0, &glock_graph_bits);
	/* Orders the clear before the check for sleepers. */
	smp_mb__after_atomic();
	if (wq_has_sleeper(&glock_graph_wq))
		wake_up(&glock_graph_wq);
}

struct glock_search {
	struct glock_owner *me;
	struct glock_obj *start;
	struct list_head queue;
	unsigned int steps;
	unsigned int max_steps;
	bool found;
	bool truncated;
};

/* Count one unit of work; false once the budget is spent. */
static bool glock_step(struct glock_search *s)
{
	if (s->steps++ < s->max_steps)
		return true;
	s->truncated = true;
	return false;
}

static void glock_visit(struct glock_search *s, struct glock_owner *owner)
{
	glock_graph_assert_held();
	if (owner == s->me) {
		s->found = true;
		return;
	}
	if (owner->dd_gen == glock_dd_gen)
		return;
	owner->dd_gen = glock_dd_gen;
	list_add_tail(&owner->dd_node, &s->queue);
}

static bool glock_search_done(const struct glock_search *s)
{
	return s->found || s->truncated;
}

/*
 * Visit the owners that request @until, in @mode on @obj, waits for: the
 * holders, and the owners queued ahead of it that are granted before it,
 * not with it. Other requests of @self do not count.
 */
static void glock_visit_blockers(struct glock_search *s, struct glock_obj *obj,
				 struct glock_waiter *until, u32 mode,
				 struct glock_owner *self)
{
	struct glock_waiter *w, *last = NULL;
	struct glock_ref *ref;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry(ref, &obj->refs, obj_node) {
		if (!glock_step(s))
			return;
		if (ref->depth && ref->key.owner != self)
			glock_visit(s, ref->key.owner);
		if (s->found)
			return;
	}
	/*
	 * @last: the last request ahead that is granted before ours. For an
	 * exclusive request, the one right ahead; for a shared one, the last
	 * exclusive request ahead (the shared run after it comes with us).
	 */
	list_for_each_entry(w, &obj->waiters, node) {
		if (w == until)
			break;
		if (!glock_step(s))
			return;
		if (mode == GLOCK_EXCLUSIVE || w->mode == GLOCK_EXCLUSIVE)
			last = w;
	}
	if (!last)
		return;
	list_for_each_entry(w, &obj->waiters, node) {
		if (!glock_step(s))
			return;
		if (w->ref->key.owner != self)
			glock_visit(s, w->ref->key.owner);
		if (s->found || w == last)
			return;
	}
}

/* Visit what @owner's queued requests wait for. */
static void glock_visit_owner(struct glock_search *s, struct glock_owner *owner)
{
	struct glock_waiter *w;

	spin_lock(&owner->wait_lock);
	list_for_each_entry(w, &owner->waits, owner_node) {
		if (!glock_step(s))
			break;
		/*
		 * Everyone a request on the start object waits for was
		 * visited first; going through it again would make a long
		 * queue quadratic.
		 */
		if (w->obj == s->start)
			continue;
		/* The waiter pins its object; it cannot leave meanwhile. */
		spin_lock(&w->obj->lock);
		/* A granted waiter still finishing holds, it does not wait. */
		if (!w->granted)
			glock_visit_blockers(s, w->obj, w, w->mode, owner);
		spin_unlock(&w->obj->lock);
		if (glock_search_done(s))
			break;
	}
	spin_unlock(&owner->wait_lock);
}

/**
 * glock_would_deadlock() - does @me's request @w, just queued, close a cycle?
 * @me: the requesting owner
 * @w: its queued request, which pins its object (not locked)
 *
 * Context: graph lock held (since before @w was queued), no spinlock held.
 * Return: true if some owner @w waits for already waits, directly or
 * through others, for @me. False also when the search hit its bound.
 */
bool glock_would_deadlock(struct glock_owner *me, struct glock_waiter *w)
{
	struct glock_obj *obj = w->obj;
	struct glock_search s = {
		.me = me,
		.start = obj,
		.max_steps = max(READ_ONCE(glock_max_deadlock_steps), 1U),
	};
	struct glock_owner *owner;

	glock_graph_assert_held();
	INIT_LIST_HEAD(&s.queue);
	glock_dd_gen++;

	spin_lock(&obj->lock);
	/* Granted meanwhile: it waits for nobody. */
	if (!w->granted)
		glock_visit_blockers(&s, obj, w, w->mode, me);
	spin_unlock(&obj->lock);

	while (!glock_search_done(&s) && !list_empty(&s.queue)) {
		owner = list_first_entry(&s.queue, struct glock_owner, dd_node);
		list_del_init(&owner->dd_node);
		glock_visit_owner(&s, owner);
		cond_resched();
	}
	/* Leave no owner linked into this search's queue. */
	while (!list_empty(&s.queue))
		list_del_init(s.queue.next);
	if (s.truncated && !s.found)
		this_cpu_inc(glock_stats.dd_truncated);
	return s.found;
}
