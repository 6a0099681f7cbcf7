/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glock internals shared by the core's files.
 *
 * Lock order (outermost first); each file says what its locks protect:
 *
 *   glock_owners_lock (mutex)         the list of owners
 *   graph lock (sleeping bit lock)    serialises "no cycle, then enqueue";
 *                                     taken with the request's deadline
 *     owner->wait_lock (spinlock)     the owner's list of queued requests
 *       obj->lock (spinlock)          one lock object: all its fields, its
 *                                     refs and waiters
 *         owner->lock (spinlock)      the owner's list of refs
 *         glock_marks_lock (spinlock) the lists of idle abandoned marks
 *           glock_users_lock (spinlock) per-uid accounting entries
 *   glock_rules_lock (mutex)          the rules tables (RCU for readers)
 *
 * owner->handles.lock (spinlock, changes to the owner's handle table)
 * nests in no other lock; an object lock is taken inside it (handle.c).
 *
 * No path holds two object locks. Only the cycle search nests an object
 * lock inside owner->wait_lock, one object at a time; every other path
 * takes them one after the other. glock_marks_trim() takes glock_marks_lock
 * and then only *trylocks* an object, so it adds no object-after-marks
 * dependency. The rhashtables' own bucket locks nest inside obj->lock.
 */
#ifndef _GLOCK_INTERNAL_H
#define _GLOCK_INTERNAL_H

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/percpu_counter.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <uapi/linux/glock.h>

#include "glock_kernel.h"

struct cred;
struct file;
struct ipc_namespace;
struct seq_file;

/* Rule bits a request needs, as for a file. */
#define GLOCK_RULE_READ		4	/* STATE */
#define GLOCK_RULE_WRITE	2	/* LOCK */

/*
 * struct glock_user - accounting of one kernel uid (users.c, marks.c).
 *
 * nlocks counts the refs of its user owners (max_locks_per_user); marks,
 * nmarks and mnode are protected by glock_marks_lock.
 */
struct glock_user {
	struct hlist_node node;		/* glock_users; glock_users_lock */
	kuid_t uid;
	refcount_t ref;			/* owners and marks */
	atomic_t nlocks;
	unsigned int nmarks;
	struct list_head marks;		/* its idle marks, oldest first */
	struct list_head mnode;		/* glock_mark_users while nmarks */
};

/*
 * struct glock_mark - the last abandonment of an object (marks.c).
 *
 * Made when an exclusive holder's owner ends holding it, and kept with
 * the object until the object is freed, so a grant that is undone can put
 * the notice back. lru and on_lru are protected by glock_marks_lock (the
 * user's list of idle marks), the rest by the object's lock.
 */
struct glock_mark {
	struct list_head lru;
	struct glock_obj *obj;
	struct glock_user *user;	/* charged, referenced */
	u64 when_ns;
	pid_t pid;			/* the dead holder's tgid */
	bool on_lru;
};

/* Names up to this long live inside the object; longer ones after it. */
#define GLOCK_NAME_INLINE	23

/*
 * The read side of the lockless lookups (a handle's slot, an owner's
 * cached ref). With preemption off a section is an RCU reader (the
 * flavours are one since v4.20) and costs no call, where Debian's
 * preemptible rcu_read_lock() costs two, as dear as the lookup itself.
 * Under PREEMPT_RT the object lock sleeps: there it is RCU proper.
 */
static inline void glock_lockless_begin(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_lock();
	else
		rcu_read_lock_sched();
}

static inline void glock_lockless_end(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		rcu_read_unlock();
	else
		rcu_read_unlock_sched();
}

/*
 * struct glock_obj - a named lock. It exists while held, waited for, pinned
 * (a finishing waiter, a cycle search, a handle's ref) or carrying an
 * abandoned mark; and it may stay *resident*, kept by the idle ref that an
 * owner caches (glock_owner.cached): in the table, but not counted, listed
 * or limited, as if gone (lock.c).
 *
 * Every field is protected by lock, except hnode (the table's). Key: (ns,
 * name, name_len); ns is referenced for as long as the object is in the
 * table, so a dead namespace's address cannot be reused by a new one while
 * any object still carries it. A lookup reads the key unlocked, then takes
 * lock and checks dead and the key again (lock.c): an object with a short
 * name may be freed and reused at once (SLAB_TYPESAFE_BY_RCU), one with a
 * long name is freed after a grace period through rcu, which reuses the
 * (empty) waiters.
 *
 * hnode and lock come first: each new use clears everything from mode to
 * name in one go (lock.c), leaving those two to the table and to readers.
 *
 * Sized for the common case (pahole, x86-64): 128 bytes before the name,
 * 160 in its slab with a short name inline (the slab keeps its free
 * pointer after the object); a name longer than GLOCK_NAME_INLINE makes
 * the object a kmalloc of its exact size instead.
 */
struct glock_obj {
	struct rhash_head hnode;
	spinlock_t lock;		/* see above */
	u8 mode;		/* 0 (free), GLOCK_EXCLUSIVE or GLOCK_SHARED */
	u8 name_len;
	bool dead;		/* left the table */
	bool refs_hashed;	/* refs are found in glock_refs */
	bool abandoned;		/* mark pending for the next acquirer */
	bool resident;		/* kept only by cached refs: uncounted */
	u16 nidle;		/* refs kept idle by owner caches */
	u32 nholders;		/* refs with depth > 0 */
	u32 nwaiters;		/* entries on waiters */
	u32 pins;		/* finishing waiters and cycle searches */
	u32 nrefs;		/* entries on refs, idle ones included */
	u32 contended;		/* statistics; the u32 ones saturate */
	struct ipc_namespace *ns;
	struct glock_ref *excl;	/* the exclusive holder's ref, or NULL */
	struct list_head refs;		/* glock_ref.obj_node */
	union {
		struct list_head waiters;	/* glock_waiter.node, FIFO */
		struct rcu_head rcu;		/* once dead and empty */
	};
	struct glock_mark *mark;	/* last abandonment, or NULL */

	/* Statistics, for debugfs. */
	u64 acquired;
	u64 wait_max_ns;
	u64 hold_max;		/* jiffies: shown in ns by debugfs */
	u32 timeouts;
	u32 abandons;

	char name[];		/* NUL-terminated for printing */
};

/*
 * struct glock_ref - one owner's interest in one object: holds and/or waits.
 *
 * Exists while depth, nwait or nhandles is nonzero (it is then charged to
 * the per-owner and per-user limits), or while it is its owner's cached
 * ref: idle, uncharged, kept so that the next request for the name needs
 * no allocation and no lookup (lock.c). One that a handle or the owner
 * cache has named may be held by a lockless reader: rcu_free, freed after
 * a grace period. Protected by obj->lock; owner_node also by owner->lock
 * (debugfs reads depth and nwait there, once each). Key in glock_refs:
 * (obj, owner). A hashed ref is freed after an RCU grace period (rcu
 * reuses owner_node, which no RCU reader follows); the holder's comm is
 * read from its process when printed, as lslocks does.
 */
struct glock_ref_key {
	struct glock_obj *obj;
	struct glock_owner *owner;
};

struct glock_ref {
	struct glock_ref_key key;
	struct rhash_head hnode;
	struct list_head obj_node;
	union {
		struct list_head owner_node;
		struct rcu_head rcu;
	};
	struct pid *pid;	/* last acquirer's tgid, kept; NULL for kernel */
	u64 since;		/* jiffies64 when depth went 0 -> 1 */
	u32 depth;
	u32 nwait;		/* this owner's requests queued on obj */
	u16 nhandles;		/* this owner's handles on obj */
	u8 mode;		/* held mode, valid while depth > 0 */
	bool rcu_free;		/* named by a handle or the owner cache */
	bool charged;		/* counted in the owner's limits */
	bool cached;		/* its owner's cached ref */
};

/*
 * struct glock_waiter - a sleeping request; lives on the waiter's stack.
 *
 * node, granted and result are protected by obj->lock; owner_node
 * by owner->wait_lock. The waiting task takes both locks before it returns,
 * so neither a waker nor a cycle search can use it after that. spin_on is
 * set under obj->lock (at queueing, or by the releaser that makes the
 * waiter the head) and taken with xchg() by the waiting task.
 */
struct glock_waiter {
	struct list_head node;
	struct list_head owner_node;
	struct glock_obj *obj;
	struct glock_ref *ref;
	struct task_struct *task;
	struct pid *spin_on;	/* holder to spin on, referenced, or NULL */
	u32 mode;
	u32 result;
	bool granted;
	u64 since_ns;		/* local_clock(): no slow clocksource read */
	pid_t pid;
	char comm[GLOCK_COMM_LEN];
};

/*
 * Nanoseconds from @since to @now, two local_clock() stamps that may come
 * from different CPUs: 0 where their skew would make it negative.
 */
static inline u64 glock_clock_delta(u64 since, u64 now)
{
	return now > since ? now - since : 0;
}

/*
 * struct glock_handles - one owner's handles (handle.c): slot[h] is the
 * ref of handle h, 0 < h < cap; NULL is free. used, a bitmap of the slots
 * in use (0 always), lives in slot's allocation. HLOCK and HUNLOCK read
 * cap, slot and slot[h] under RCU alone.
 */
struct glock_handles {
	spinlock_t lock;	/* serialises changes */
	u32 cap;		/* slots in slot[]: 0 or a power of two */
	struct glock_ref * __rcu *slot;
	unsigned long *used;
};

/*
 * struct glock_owner - an open file of /dev/glock, or a kernel client.
 *
 * ns is referenced for the owner's whole life. nrefs is the number of refs
 * (locks held or waited for), charged before a ref is made.
 */
struct glock_owner {
	spinlock_t lock;		/* protects refs and cached */
	struct list_head refs;		/* glock_ref.owner_node */
	atomic_t nrefs;
	spinlock_t wait_lock;		/* protects waits */
	struct list_head waits;		/* glock_waiter.owner_node */
	struct glock_handles handles;	/* handle -> glock_ref (handle.c) */
	struct glock_ref *cached;	/* last ref it let go idle; lock */
	struct ipc_namespace *ns;	/* fixed at open; key scope */
	unsigned int ns_inum;
	u64 id;
	bool kernel;
	bool rules_bypass;		/* CAP_DAC_OVERRIDE at open */
	const struct cred *cred;	/* the opener's; NULL for kernel */
	struct glock_user *user;	/* its real uid's; NULL for kernel */
	pid_t pid;			/* opener's tgid, 0 for kernel owners */
	char comm[GLOCK_COMM_LEN];	/* opener's comm, or the kernel label */
	void *cluster;			/* the cluster backend's (cluster.h) */
	struct list_head node;		/* glock_owners; glock_owners_lock */

	/* Cycle search scratch, under the graph lock. */
	struct list_head dd_node;
	u64 dd_gen;

};

/**
 * struct glock_snapshot - STATE result before pid translation
 * @st: the counts, flags and holder comm
 * @holder: exclusive holder's pid (referenced) or NULL
 */
struct glock_snapshot {
	struct glock_kstate st;
	struct pid *holder;
};

/**
 * struct glock_stats - global counters, per CPU, summed by debugfs
 * @acquired: grants at depth 0 -> 1
 * @contended: requests that found the lock busy
 * @timeouts: timed waits that expired
 * @deadlocks: requests refused with EDEADLK for a cycle
 * @abandons: exclusive holds ended by their owner's end
 * @dd_truncated: cycle searches stopped by max_deadlock_steps
 * @denials: LOCK and STATE requests refused by a rule
 * @quota_refusals: requests refused by max_locks_per_user
 */
struct glock_stats {
	u64 acquired;
	u64 contended;
	u64 timeouts;
	u64 deadlocks;
	u64 abandons;
	u64 dd_truncated;
	u64 denials;
	u64 quota_refusals;
};

DECLARE_PER_CPU(struct glock_stats, glock_stats);

/* Module parameters (main.c); read with READ_ONCE(), they change at will. */
extern unsigned int glock_max_locks_per_owner;
extern unsigned int glock_max_locks;
extern unsigned int glock_max_abandoned_marks;
extern unsigned int glock_max_depth;
extern unsigned int glock_max_deadlock_steps;
extern unsigned int glock_max_locks_per_user;
extern unsigned int glock_max_rules;
extern unsigned int glock_spin_us;

/* lock.c */
extern struct rhashtable glock_objs;
s64 glock_nobjs_counted(void);
int glock_table_init(void);
void glock_table_exit(void);
void glock_obj_put(struct glock_obj *obj);
void glock_obj_unlock(struct glock_obj *obj) __releases(obj_lock);
int glock_check_name(const char *name, size_t len);
int glock_check_args(const char *name, size_t len, u32 mode, u32 flags);
int glock_acquire(struct glock_owner *owner, const char *name, u32 len,
		  u32 mode, s64 timeout_ns, u32 flags, u32 *result, u32 *depth);
int glock_release(struct glock_owner *owner, const char *name, u32 len,
		  u32 mode, u32 *depth);
void glock_unacquire(struct glock_owner *owner, const char *name, u32 len,
		     u32 result);
void glock_snapshot(struct glock_owner *owner, const char *name, u32 len,
		    struct glock_snapshot *snap);
void glock_release_all(struct glock_owner *owner);
int glock_ref_for_handle(struct glock_owner *owner, const char *name,
			 u32 len, struct glock_ref **refp);
int glock_ref_unhandle(struct glock_ref *ref, bool force);
int glock_hlock(struct glock_owner *owner, struct glock_ref *ref, u32 mode,
		bool try, u32 *result) __releases(obj_lock);
int glock_hunlock(struct glock_ref *ref, u32 *depth) __releases(obj_lock);
void glock_holder_comm(const struct glock_ref *ref, char *buf);

/* owner.c */
extern struct mutex glock_owners_lock;
extern struct list_head glock_owners;
extern unsigned int glock_nowners;
struct glock_owner *glock_owner_alloc(bool kernel, const char *label);
void glock_owner_free(struct glock_owner *owner);
void glock_put_ipc_ns(struct ipc_namespace *ns);

/* deadlock.c */
int glock_graph_lock(ktime_t *deadline);
void glock_graph_lock_sync(void);
void glock_graph_unlock(void);
bool glock_would_deadlock(struct glock_owner *me, struct glock_waiter *w);

/* handle.c */
int glock_ioctl_get_handle(struct glock_owner *owner,
			   struct glock_handle __user *uarg);
int glock_ioctl_put_handle(struct glock_owner *owner, unsigned long arg);
long glock_ioctl_hlock(struct glock_owner *owner, unsigned long arg);
long glock_ioctl_hunlock(struct glock_owner *owner, unsigned long arg);
void glock_handles_release(struct glock_owner *owner);

/* rules.c */
int glock_rules_check(struct glock_owner *owner, const char *name, u32 len,
		      unsigned int want);
int glock_rules_set(struct file *file, struct glock_owner *owner,
		    struct glock_rules __user *uarg);
int glock_rules_get(struct file *file, struct glock_owner *owner,
		    struct glock_rules __user *uarg);
void glock_rules_show(struct seq_file *m);
unsigned int glock_rules_count(void);
void glock_rules_exit(void);

/* users.c */
extern struct glock_user glock_kernel_user;
struct glock_user *glock_user_get(kuid_t uid);
struct glock_user *glock_user_hold(struct glock_user *u);
void glock_user_put(struct glock_user *u);
bool glock_user_charge(struct glock_user *u);

/* marks.c */
void glock_mark_idle(struct glock_obj *obj);
void glock_mark_busy(struct glock_obj *obj);
void glock_marks_trim(void);
void glock_marks_exit(void);
void glock_marks_stats(unsigned int *nmarks, u64 *dropped);

/* debugfs.c */
void glock_debugfs_init(void);
void glock_debugfs_exit(void);

/*
 * Kept only by idle cached refs: the lock is free, nobody waits for it,
 * and it carries no abandoned notice. Such an object is not counted
 * (glock_nobjs_counted()) and not listed; locking it again needs no
 * allocation.
 */
static inline bool glock_obj_resident(const struct glock_obj *obj)
{
	return obj->nrefs && obj->nidle == obj->nrefs && !obj->pins &&
	       !obj->abandoned;
}

/* One more event for an object's u32 counter, which saturates. */
static inline void glock_count(u32 *counter)
{
	if (*counter != U32_MAX)
		(*counter)++;
}

static inline const char *glock_mode_name(u32 mode)
{
	switch (mode) {
	case GLOCK_EXCLUSIVE:
		return "exclusive";
	case GLOCK_SHARED:
		return "shared";
	default:
		return "free";
	}
}

#endif /* _GLOCK_INTERNAL_H */
