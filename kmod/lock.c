// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock lock table: lookup, grant, FIFO hand-off, waiting, release.
 *
 * Locking rules (order in internal.h):
 *
 * - Objects live in an rhashtable keyed by (IPC namespace, name), which
 *   grows and shrinks with its content. Lookups run under RCU and then take
 *   the object's own spinlock, obj->lock, which protects every field of the
 *   object, its refs' counts and its waiters' queue links. An object leaves
 *   the table under its lock and is marked dead there; a lookup that finds
 *   a dead object treats it as absent.
 * - Objects with a short name come from a SLAB_TYPESAFE_BY_RCU cache: one
 *   that left the table is freed at once and may be reused at once, for
 *   any name, but stays a glock_obj with an initialised lock for as long
 *   as an RCU reader may hold a pointer to it. So a lookup locks what it
 *   found and then checks that it is still live *and still has its key*;
 *   a reused object is (re)initialised under its lock before it enters the
 *   table. Objects with a long name (kmalloc) are freed after an RCU grace
 *   period instead. Freeing at once spares every short-lived lock an RCU
 *   callback, which was a quarter of a name pair's cost (perf, README).
 * - An owner's ref on an object is found by walking obj->refs while the
 *   object has few refs; an object that gets more (many shared holders)
 *   hashes all its refs by (object, owner) in glock_refs from then on, so
 *   no lookup walks a list users make long. A hashed ref is freed after
 *   an RCU grace period, for those RCU walks, and so is a ref that has
 *   had a handle, for the lockless handle lookup (handle.c).
 * - owner->lock nests inside obj->lock; it guards only the owner's list of
 *   refs, so debugfs and owner teardown can walk it, and owner->cached.
 *   owner->nrefs is an atomic charged before a ref is used, so threads of
 *   one owner never exceed the per-owner limit together.
 * - The owner cache: the ref an owner last released by name stays, idle
 *   and uncharged (ref->cached, under obj->lock), and keeps its object in
 *   the table, uncounted and unlisted (obj->nidle, obj->resident). Caching
 *   another evicts it: whoever takes a ref out of owner->cached clears its
 *   flag, under its object's lock, and only then may it be freed. A
 *   request by name looks there first, without the table: it reads the
 *   field locklessly, locks the ref's object and reads the field again
 *   (glock_cached_lock()), as a handle's lookup does; so a ref that has
 *   been cached is freed after a grace period too.
 * - The graph lock (deadlock.c) is taken, outside any spinlock, by a request
 *   that must sleep: "enqueue, then look for a cycle" is atomic against
 *   every other enqueue. The search runs with no object lock held; the
 *   queued request pins its object.
 * - A waiter is granted by whoever releases: under obj->lock the lock is
 *   handed over and w->granted set. The waiter always retakes obj->lock
 *   before it returns, so the waker's use of the on-stack waiter cannot
 *   outlive it. An unlock wakes the task after it has dropped obj->lock,
 *   through a reference on the task (struct glock_wakeups); other paths
 *   wake it under the lock. obj->pins keeps the object in the table until
 *   each waiter has taken that lock. A waiter leaves its owner's list of
 *   waits under owner->wait_lock alone, never the graph lock, so a killed
 *   or timed-out waiter leaves at once.
 * - The head of a queue behind a single user holder may spin for its grant
 *   before it sleeps, while that holder runs (glock_spin()): it holds no
 *   lock then, only a reference on the holder's struct pid, and RCU. The
 *   holder to spin on is named in w->spin_on under obj->lock, when the
 *   request queues at the head or when a release makes it the head.
 * - A grant that never reaches user space (the waiter was killed, or the
 *   result could not be written) is undone as if it never happened: the
 *   lock goes on to the next waiter and a consumed abandoned mark with it.
 * - Every object holds a reference on its IPC namespace; it is dropped
 *   when the object leaves the table.
 * - Nothing is allocated under a spinlock: a request allocates its object
 *   and ref when the lookup misses, before it locks anything, or finds
 *   the object without a ref of its owner, unlocks, allocates and looks
 *   again; it frees what it did not use. A per-owner cache of spare
 *   allocations did not pay (README); keeping the whole ref, object and
 *   table entry does.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/ipc_namespace.h>
#include <linux/jhash.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/wait.h>

#include "internal.h"
#include "trace.h"

/* Refs an object keeps on its list before it hashes them. */
#define GLOCK_REFS_LISTED	4

/* Outcome of looking at the table without sleeping, or -errno. */
enum glock_try {
	GLOCK_TRY_GRANTED,
	GLOCK_TRY_BUSY,
	GLOCK_TRY_NEED_REF,	/* allocate a ref, unlocked, and try again */
};

static struct kmem_cache *glock_obj_cache;
static struct kmem_cache *glock_ref_cache;
static bool glock_objs_ready, glock_refs_ready;

struct rhashtable glock_objs;
static struct rhashtable glock_refs;
static struct percpu_counter glock_nobjs;	/* every object in the table */
/*
 * Resident objects, per CPU (signed: one may become resident on one CPU
 * and be used again on another). An object goes resident and back on
 * every name pair, so this is a plain per-CPU count, one instruction
 * each way, where glock_nobjs, which counts every object in the table,
 * changes only when one is made or removed: a percpu_counter update and
 * compare on every pair cost 0.1-0.2x two no-op ioctls (make bench).
 */
static DEFINE_PER_CPU(long, glock_nresident);
DEFINE_PER_CPU(struct glock_stats, glock_stats);

/* Names are compared and checked by 8-byte words, loaded unaligned. */
static inline u64 glock_name_word(const char *p)
{
	u64 w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * Every byte of @w in 0x21..0x7e. A byte with bit 7 set fails at once;
 * below 0x80, adding 0x5f sets bit 7 exactly from 0x21 on and adding 1
 * sets it only for 0x7f, and neither carries into the next byte.
 */
static inline bool glock_name_word_ok(u64 w)
{
	const u64 high = 0x8080808080808080ULL;

	return !((w | ~(w + 0x5f5f5f5f5f5f5f5fULL) |
		  (w + 0x0101010101010101ULL)) & high);
}

/**
 * glock_check_name() - validate a lock name
 * @name: name bytes (kernel memory)
 * @len: length of @name
 *
 * Return: 0, or -EINVAL unless 1..GLOCK_NAME_MAX bytes in 0x21..0x7e.
 */
int glock_check_name(const char *name, size_t len)
{
	size_t i;

	if (!len || len > GLOCK_NAME_MAX)
		return -EINVAL;
	if (len < sizeof(u64)) {
		for (i = 0; i < len; i++)
			if (name[i] < 0x21 || name[i] > 0x7e)
				return -EINVAL;
		return 0;
	}
	/* By words, the last one overlapping the one before. */
	for (i = 0; i < len - sizeof(u64); i += sizeof(u64))
		if (!glock_name_word_ok(glock_name_word(name + i)))
			return -EINVAL;
	return glock_name_word_ok(glock_name_word(name + len - sizeof(u64))) ?
	       0 : -EINVAL;
}

/* @a and @b hold the same @len bytes; by words as glock_check_name(). */
static bool glock_name_eq(const char *a, const char *b, size_t len)
{
	size_t i;

	if (len < sizeof(u64))
		return !memcmp(a, b, len);
	for (i = 0; i < len - sizeof(u64); i += sizeof(u64))
		if (glock_name_word(a + i) != glock_name_word(b + i))
			return false;
	i = len - sizeof(u64);
	return glock_name_word(a + i) == glock_name_word(b + i);
}

/**
 * glock_check_args() - validate a lock request's name, mode and flags
 * @name: name bytes (kernel memory)
 * @len: length of @name
 * @mode: GLOCK_EXCLUSIVE or GLOCK_SHARED
 * @flags: GLOCK_F_* bits
 *
 * Return: 0, or -EINVAL.
 */
int glock_check_args(const char *name, size_t len, u32 mode, u32 flags)
{
	if (mode != GLOCK_EXCLUSIVE && mode != GLOCK_SHARED)
		return -EINVAL;
	if (flags & ~GLOCK_F_ABSTIME)
		return -EINVAL;
	return glock_check_name(name, len);
}

/* A request's key, hashed once. */
struct glock_key {
	struct ipc_namespace *ns;
	const char *name;
	u32 len;
	u32 hash;
};

static void glock_key_init(struct glock_key *key, struct glock_owner *owner,
			   const char *name, u32 len)
{
	key->ns = owner->ns;
	key->name = name;
	key->len = len;
	key->hash = full_name_hash(owner->ns, name, len);
}

static u32 glock_key_hashfn(const void *data, u32 len, u32 seed)
{
	const struct glock_key *key = data;

	return jhash_1word(key->hash, seed);
}

/* Only inserts and resizes hash an object: recomputing saves its bytes. */
static u32 glock_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct glock_obj *obj = data;

	return jhash_1word(full_name_hash(obj->ns, obj->name, obj->name_len),
			   seed);
}

/* 0 if @obj has @key. Unlocked callers re-check under obj->lock. */
static int glock_obj_keycmp(const struct glock_obj *obj,
			    const struct glock_key *key)
{
	return obj->ns != key->ns || obj->name_len != key->len ||
	       !glock_name_eq(obj->name, key->name, key->len);
}

/* The table's compare, unlocked. */
static int glock_obj_cmpfn(struct rhashtable_compare_arg *arg,
			   const void *data)
{
	/*
	 * A reused object may be set up anew meanwhile; the caller checks
	 * again under its lock, so a torn read here costs only a retry.
	 */
	return data_race(glock_obj_keycmp(data, arg->key));
}

static const struct rhashtable_params glock_obj_params = {
	.head_offset = offsetof(struct glock_obj, hnode),
	.hashfn = glock_key_hashfn,
	.obj_hashfn = glock_obj_hashfn,
	.obj_cmpfn = glock_obj_cmpfn,
	/*
	 * Never fewer buckets than this (8 KiB): in a table of 4, every
	 * CPU's lookups and bucket locks share one cache line.
	 */
	.min_size = 1024,
	.automatic_shrinking = true,
};

/* glock_ref.key: the owner and object, adjacent, hashed as 2 words. */
static const struct rhashtable_params glock_ref_params = {
	.head_offset = offsetof(struct glock_ref, hnode),
	.key_offset = offsetof(struct glock_ref, key),
	.key_len = sizeof_field(struct glock_ref, key),
	.automatic_shrinking = true,
};

/**
 * glock_nobjs_counted() - lock objects counted in stats and limits
 *
 * Return: the objects in the table but the resident ones, summed over
 * the CPUs now (exact when nothing changes meanwhile).
 */
s64 glock_nobjs_counted(void)
{
	s64 n = percpu_counter_sum(&glock_nobjs);
	int cpu;

	for_each_possible_cpu(cpu)
		n -= per_cpu(glock_nresident, cpu);
	return n;
}

/*
 * Is max_locks reached? glock_nobjs counts resident objects too, so when
 * its rough value is below the limit by more than its error, the counted
 * ones are: the common case, two loads. Near the limit, the exact sums.
 */
static bool glock_objs_full(void)
{
	s64 max = READ_ONCE(glock_max_locks);

	if (percpu_counter_read(&glock_nobjs) +
	    (s64)percpu_counter_batch * num_online_cpus() < max)
		return false;
	return glock_nobjs_counted() >= max;
}

/*
 * Find @key's live object and lock it: true with it in *@objp. The RCU
 * read lock keeps what the table returned a glock_obj until its lock is
 * taken; then it must still be live and still be @key's, else it was
 * reused for another name meanwhile and the table is asked again. Callers
 * use glock_lookup_lock(), which tells sparse that the object is locked
 * when it returns true.
 */
static bool __glock_lookup_lock(const struct glock_key *key,
				struct glock_obj **objp)
{
	struct glock_obj *obj;
	bool dead;

	rcu_read_lock();
again:
	obj = rhashtable_lookup(&glock_objs, key, glock_obj_params);
	if (obj) {
		spin_lock(&obj->lock);
		dead = obj->dead;
		if (!dead && !glock_obj_keycmp(obj, key)) {
			rcu_read_unlock();
			*objp = obj;
			__release(obj_lock);	/* counted by the caller */
			return true;
		}
		spin_unlock(&obj->lock);
		/* As seen under the lock: it may be reused by now (KCSAN). */
		if (!dead)
			goto again;	/* reused: ours may be elsewhere */
	}
	rcu_read_unlock();
	*objp = NULL;
	return false;
}

#define glock_lookup_lock(key, objp)					\
	__cond_lock(obj_lock, __glock_lookup_lock(key, objp))

/* The cache's objects keep an initialised lock for their whole life. */
static void glock_obj_ctor(void *p)
{
	struct glock_obj *obj = p;

	spin_lock_init(&obj->lock);
	obj->dead = true;
}

/*
 * An object for @len bytes of name, from the cache or sized for it, with
 * its lock initialised. Its other fields are the caller's to set, under
 * that lock: an RCU reader may still be looking at a reused one.
 */
static struct glock_obj *glock_obj_alloc(u32 len)
{
	struct glock_obj *obj;

	if (len <= GLOCK_NAME_INLINE)
		return kmem_cache_alloc(glock_obj_cache, GFP_KERNEL_ACCOUNT);
	obj = kmalloc(offsetof(struct glock_obj, name) + len + 1,
		      GFP_KERNEL_ACCOUNT);
	if (obj)
		spin_lock_init(&obj->lock);
	return obj;
}

static void glock_obj_free_rcu(struct rcu_head *head)
{
	struct glock_obj *obj = container_of(head, struct glock_obj, rcu);

	kfree(obj->mark);
	kfree(obj);
}

/* Free a dead object, unlocked: at once into the cache, or after RCU. */
static void glock_obj_free(struct glock_obj *obj)
{
	if (obj->name_len > GLOCK_NAME_INLINE) {
		call_rcu(&obj->rcu, glock_obj_free_rcu);
		return;
	}
	kfree(obj->mark);
	obj->mark = NULL;
	kmem_cache_free(glock_obj_cache, obj);
}

/**
 * glock_obj_unlock() - unlock an object, freeing it if it left the table
 * @obj: the object, locked
 */
void glock_obj_unlock(struct glock_obj *obj)
	__releases(obj_lock)
{
	bool dead = obj->dead;

	spin_unlock(&obj->lock);
	if (dead)
		glock_obj_free(obj);
}

static struct glock_ref *glock_find_ref(struct glock_obj *obj,
					struct glock_owner *owner)
{
	struct glock_ref_key key = { .obj = obj, .owner = owner };
	struct glock_ref *ref;

	lockdep_assert_held(&obj->lock);
	if (obj->refs_hashed)
		return rhashtable_lookup_fast(&glock_refs, &key,
					      glock_ref_params);
	list_for_each_entry(ref, &obj->refs, obj_node)
		if (ref->key.owner == owner)
			return ref;
	return NULL;
}

/* Count one more ref for @owner, unless that goes over the limit. */
static bool glock_owner_charge(struct glock_owner *owner)
{
	unsigned int max = READ_ONCE(glock_max_locks_per_owner);
	int n = atomic_read(&owner->nrefs);

	do {
		if ((unsigned int)n >= max)
			return false;
	} while (!atomic_try_cmpxchg(&owner->nrefs, &n, n + 1));
	if (owner->user && !glock_user_charge(owner->user)) {
		atomic_dec(&owner->nrefs);
		return false;
	}
	return true;
}

static void glock_owner_uncharge(struct glock_owner *owner)
{
	atomic_dec(&owner->nrefs);
	if (owner->user)
		atomic_dec(&owner->user->nlocks);
}

static bool glock_owner_full(struct glock_owner *owner)
{
	return (unsigned int)atomic_read(&owner->nrefs) >=
	       READ_ONCE(glock_max_locks_per_owner);
}

/* A ref's memory; the caller sets it up under its object's lock. */
static struct glock_ref *glock_ref_alloc(void)
{
	return kmem_cache_alloc(glock_ref_cache, GFP_KERNEL_ACCOUNT);
}

/*
 * Find @key's object, or make it: true with it locked in *@objp; false
 * with -ENOLCK (a limit) or -ENOMEM in *@err. A new object needs a new
 * ref: then *@spare is allocated too, unless the caller has one. Called
 * with no spinlock held, through glock_obj_get() (see glock_lookup_lock()).
 */
static bool __glock_obj_get(struct glock_owner *owner,
			    const struct glock_key *key,
			    struct glock_obj **objp, struct glock_ref **spare,
			    int *err)
{
	struct glock_obj *obj, *old;

	for (;;) {
		if (glock_lookup_lock(key, objp)) {
			__release(obj_lock);	/* counted by the caller */
			return true;
		}
		/* Kernel owners never lose to room that users took. */
		if (glock_owner_full(owner) ||
		    (!owner->kernel && glock_objs_full())) {
			*err = -ENOLCK;
			return false;
		}
		if (!*spare) {
			*spare = glock_ref_alloc();
			if (!*spare) {
				*err = -ENOMEM;
				return false;
			}
		}
		obj = glock_obj_alloc(key->len);
		if (!obj) {
			*err = -ENOMEM;
			return false;
		}
		/* Locked before it is set up or visible: see the top. */
		spin_lock(&obj->lock);
		/* All but hnode and lock, which a stale reader may use. */
		memset((u8 *)obj + offsetof(struct glock_obj, mode), 0,
		       offsetof(struct glock_obj, name) -
		       offsetof(struct glock_obj, mode));
		obj->ns = key->ns;
		INIT_LIST_HEAD(&obj->refs);
		INIT_LIST_HEAD(&obj->waiters);
		obj->name_len = key->len;
		memcpy(obj->name, key->name, key->len);
		obj->name[key->len] = '\0';

		old = rhashtable_lookup_get_insert_key(&glock_objs, key,
						       &obj->hnode,
						       glock_obj_params);
		if (!old) {
			get_ipc_ns(obj->ns);
			percpu_counter_inc(&glock_nobjs);
			*objp = obj;
			__release(obj_lock);	/* counted by the caller */
			return true;
		}
		obj->dead = true;	/* never in the table */
		spin_unlock(&obj->lock);
		glock_obj_free(obj);
		if (IS_ERR(old)) {
			*err = PTR_ERR(old) == -E2BIG ? -ENOLCK : -ENOMEM;
			return false;
		}
		/* Someone made it first: look again. */
	}
}

#define glock_obj_get(owner, key, objp, spare, err)			\
	__cond_lock(obj_lock, __glock_obj_get(owner, key, objp, spare, err))

/* Nobody holds, waits for, pins or has a handle on it; cached refs may. */
static bool glock_obj_idle(const struct glock_obj *obj)
{
	return obj->nrefs == obj->nidle && !obj->pins;
}

/**
 * glock_obj_put() - drop an object nobody holds, waits for or pins
 * @obj: the object, locked; glock_obj_unlock() frees it if it left
 *
 * An abandoned mark keeps the object, parked on the bounded list of idle
 * marks, so the next acquirer learns of it. Idle cached refs keep it
 * resident: it then leaves the count of objects (glock_nobjs_counted()),
 * and comes back when used again.
 * Every change to an object ends here, so the count follows.
 */
void glock_obj_put(struct glock_obj *obj)
{
	bool resident;

	lockdep_assert_held(&obj->lock);
	if (obj->dead)
		return;
	resident = glock_obj_resident(obj);
	if (resident != obj->resident) {
		obj->resident = resident;
		if (resident)
			this_cpu_inc(glock_nresident);
		else
			this_cpu_dec(glock_nresident);
	}
	if (!glock_obj_idle(obj))
		return;
	if (obj->abandoned) {
		glock_mark_idle(obj);
		return;
	}
	if (obj->nrefs)
		return;		/* resident */
	rhashtable_remove_fast(&glock_objs, &obj->hnode, glock_obj_params);
	obj->dead = true;
	percpu_counter_dec(&glock_nobjs);
	glock_put_ipc_ns(obj->ns);
	if (obj->mark) {
		glock_user_put(obj->mark->user);
		obj->mark->user = NULL;
	}
}

/* From now on @obj finds its refs by hash: it has more than a few. */
static int glock_refs_hash_all(struct glock_obj *obj)
{
	struct glock_ref *ref, *undo;
	int ret;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry(ref, &obj->refs, obj_node) {
		ret = rhashtable_insert_fast(&glock_refs, &ref->hnode,
					     glock_ref_params);
		if (ret)
			goto unwind;
	}
	obj->refs_hashed = true;
	return 0;

unwind:
	list_for_each_entry(undo, &obj->refs, obj_node) {
		if (undo == ref)
			break;
		rhashtable_remove_fast(&glock_refs, &undo->hnode,
				       glock_ref_params);
	}
	return -ENOMEM;
}

/*
 * Charge @owner for a ref on @obj that is about to be used: false over a
 * limit. A resident object comes back into the global count, so it is
 * held to the global limit as a new one is.
 */
static bool glock_ref_charge(struct glock_obj *obj, struct glock_owner *owner)
{
	if (obj->resident && !owner->kernel && glock_objs_full())
		return false;
	return glock_owner_charge(owner);
}

/*
 * Find @owner's ref on @obj (@ref if the caller knows it, else NULL),
 * charged, or make it from *@spare (taken when used). NULL with -ENOLCK
 * over a limit, -ENOMEM if the ref hash cannot grow, or GLOCK_TRY_NEED_REF
 * if a ref must be made and there is no spare: the caller allocates one,
 * unlocked, and asks again.
 */
static struct glock_ref *glock_ref_get(struct glock_obj *obj,
				       struct glock_owner *owner,
				       struct glock_ref *ref,
				       struct glock_ref **spare, int *err)
{
	lockdep_assert_held(&obj->lock);
	if (!ref)
		ref = glock_find_ref(obj, owner);
	if (ref && ref->charged)
		return ref;
	if (!ref && (!spare || !*spare)) {
		*err = GLOCK_TRY_NEED_REF;
		return NULL;
	}
	if (!glock_ref_charge(obj, owner)) {
		*err = -ENOLCK;
		return NULL;
	}
	if (ref) {		/* its owner's cached ref, idle until now */
		ref->charged = true;
		obj->nidle--;
		return ref;
	}
	ref = *spare;
	memset(ref, 0, sizeof(*ref));
	ref->key.obj = obj;
	ref->key.owner = owner;
	ref->charged = true;
	list_add_tail(&ref->obj_node, &obj->refs);
	obj->nrefs++;
	/* Once hashed, every ref of the object is; lookups go there. */
	if (obj->refs_hashed ?
	    rhashtable_insert_fast(&glock_refs, &ref->hnode,
				   glock_ref_params) :
	    obj->nrefs > GLOCK_REFS_LISTED && glock_refs_hash_all(obj)) {
		list_del(&ref->obj_node);
		obj->nrefs--;
		glock_owner_uncharge(owner);
		*err = -ENOMEM;
		return NULL;
	}
	*spare = NULL;
	spin_lock(&owner->lock);
	list_add_tail(&ref->owner_node, &owner->refs);
	spin_unlock(&owner->lock);
	return ref;
}

static void glock_ref_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(glock_ref_cache,
			container_of(head, struct glock_ref, rcu));
}

/* The owner neither holds, waits for nor has a handle on it. */
static bool glock_ref_unused(const struct glock_ref *ref)
{
	return !ref->depth && !ref->nwait && !ref->nhandles;
}

/*
 * An object keeps at most U16_MAX idle refs (obj->nidle). A kept ref used
 * again and released at that cap leaves its owner's cache instead, unless
 * an eviction has taken it out already: false then, and the evictor, which
 * waits for this object's lock, frees it.
 */
static bool glock_uncache_at_cap(struct glock_owner *owner,
				 struct glock_ref *ref)
{
	spin_lock(&owner->lock);
	if (owner->cached == ref) {
		WRITE_ONCE(owner->cached, NULL);
		ref->cached = false;
	}
	spin_unlock(&owner->lock);
	return !ref->cached;
}

/*
 * A ref nobody uses any more is uncharged and freed, unless it is its
 * owner's cached ref, which stays on, idle.
 */
static void glock_ref_put(struct glock_ref *ref)
{
	struct glock_owner *owner = ref->key.owner;
	struct glock_obj *obj = ref->key.obj;

	lockdep_assert_held(&obj->lock);
	if (!glock_ref_unused(ref))
		return;
	if (!ref->charged) {
		if (ref->cached)
			return;		/* idle already, and kept */
		obj->nidle--;		/* idle, and out of its owner's cache */
	} else {
		if (ref->cached && obj->nidle == U16_MAX &&
		    !glock_uncache_at_cap(owner, ref))
			return;	/* being evicted: the evictor frees it */
		glock_owner_uncharge(owner);
		ref->charged = false;
		if (ref->cached) {
			obj->nidle++;	/* kept for the owner's next request */
			return;
		}
	}
	list_del(&ref->obj_node);
	obj->nrefs--;
	spin_lock(&owner->lock);
	list_del(&ref->owner_node);
	spin_unlock(&owner->lock);
	put_pid(ref->pid);
	if (obj->refs_hashed)
		rhashtable_remove_fast(&glock_refs, &ref->hnode,
				       glock_ref_params);
	/* A hash walk or a handle lookup (handle.c) may still pass by it. */
	if (obj->refs_hashed || ref->rcu_free)
		call_rcu(&ref->rcu, glock_ref_free_rcu);
	else
		kmem_cache_free(glock_ref_cache, ref);
}

/*
 * The owner cache: the last ref an owner let go idle by name stays, with
 * its object, so that taking that name again (a lock taken and released
 * in a loop, or a contended one) allocates and inserts nothing. One per
 * owner: caching a ref evicts the one before. An object keeps at most
 * U16_MAX idle refs (obj->nidle): at the cap a release frees its ref
 * (glock_uncache_at_cap()). The ref that the owner's field names has
 * cached set, under its object's lock; whoever takes it out of the field
 * clears that flag, so it cannot be freed in between.
 */
static struct glock_ref *glock_cache_ref(struct glock_owner *owner,
					 struct glock_ref *ref)
{
	struct glock_ref *old;

	lockdep_assert_held(&ref->key.obj->lock);
	ref->cached = true;
	ref->rcu_free = true;	/* glock_cached_lock() reads it locklessly */
	spin_lock(&owner->lock);
	old = owner->cached;
	/* Set up before it is seen: pairs with glock_cached_lock()'s read. */
	smp_store_release(&owner->cached, ref);
	spin_unlock(&owner->lock);
	return old;
}

/* Let go of a ref taken out of its owner's cache; no lock held. */
static void glock_uncache_ref(struct glock_ref *ref)
{
	struct glock_obj *obj = ref->key.obj;	/* kept by the ref */

	spin_lock(&obj->lock);
	ref->cached = false;
	glock_ref_put(ref);
	glock_obj_put(obj);
	glock_obj_unlock(obj);
}

/*
 * The owner's cached ref, if it is @name's: true with it in *@refp and its
 * object locked. A name taken and released in a loop then needs no hash
 * and no table lookup, as a handle does not. Read as a handle's slot is
 * (handle.c): in a lockless section, the field, the ref's object locked,
 * the field again. A ref leaves the field before it can be freed and is
 * freed after a grace period (ref->rcu_free), so seeing it there under
 * its object's lock means it is live, and so is its object, whose name
 * is then fixed. Through glock_cached_lock(), for sparse.
 */
static __always_inline bool __glock_cached_lock(struct glock_owner *owner,
						const char *name, u32 len,
						struct glock_ref **refp)
{
	struct glock_obj *obj;
	struct glock_ref *ref;

	glock_lockless_begin();
	ref = READ_ONCE(owner->cached);
	if (ref) {
		obj = ref->key.obj;	/* fixed for the ref's life */
		spin_lock(&obj->lock);
		if (READ_ONCE(owner->cached) == ref && obj->name_len == len &&
		    glock_name_eq(obj->name, name, len)) {
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

#define glock_cached_lock(owner, name, len, refp)			\
	__cond_lock(obj_lock, __glock_cached_lock(owner, name, len, refp))

/* Would @mode be compatible with the current holders, for @ref's owner? */
static bool glock_compatible(const struct glock_obj *obj,
			     const struct glock_ref *ref, u32 mode)
{
	lockdep_assert_held(&obj->lock);
	if (!obj->nholders)
		return true;
	if (ref && ref->depth)
		return ref->mode == mode;
	return obj->mode == GLOCK_SHARED && mode == GLOCK_SHARED;
}

/*
 * Give @ref one more level of @obj in @mode; @pid is the task that asked
 * (NULL for a kernel owner). Delivers a pending abandoned mark into
 * @result, once.
 */
static __always_inline void glock_grant(struct glock_obj *obj,
					struct glock_ref *ref, u32 mode,
					struct pid *pid, u32 *result)
{
	lockdep_assert_held(&obj->lock);
	/* debugfs reads depth and nwait under owner->lock: WRITE_ONCE. */
	WRITE_ONCE(ref->depth, ref->depth + 1);
	if (ref->depth == 1) {
		obj->nholders++;
		obj->mode = mode;
		obj->acquired++;
		if (mode == GLOCK_EXCLUSIVE)
			obj->excl = ref;
		ref->mode = mode;
		ref->since = get_jiffies_64();
		/* Kept from the last hold when it is the same process. */
		if (ref->pid != pid) {
			put_pid(ref->pid);
			ref->pid = get_pid(pid);
		}
		this_cpu_inc(glock_stats.acquired);
		if (obj->abandoned) {
			*result |= GLOCK_R_ABANDONED;
			obj->abandoned = false;
			glock_mark_busy(obj);
		}
	}
	trace_glock_acquire(obj->name, ref->key.owner->id, mode, ref->depth);
}

/*
 * The holder the head of @obj's queue may spin on, referenced: only one
 * exclusive holder that has a process, with spinning on and more than
 * one CPU; else NULL.
 */
static struct pid *glock_spin_target(struct glock_obj *obj)
{
	lockdep_assert_held(&obj->lock);
	if (!obj->excl || !obj->excl->pid || !READ_ONCE(glock_spin_us) ||
	    num_online_cpus() < 2)
		return NULL;
	return get_pid(obj->excl->pid);
}

/*
 * Wake-ups an unlock makes once it has dropped obj->lock: the task it
 * granted then finds that lock free when it settles, instead of spinning
 * on it while the releaser wakes it and the next head (perf: 7% of a
 * contended run's samples, the largest lock wait in it). They are made
 * as one synchronous wake-up (WF_SYNC, as a pipe's writer makes), which
 * lets the scheduler queue a woken task on the releaser's CPU, where a
 * program that locks in a loop sleeps next. Modules have neither wake_q
 * nor WF_SYNC; a wait queue on the flush's stack whose entries name the
 * tasks gives both. Each task is referenced: its waiter may see its grant
 * and return first, which makes the wake-up spurious, as wake_q's may be;
 * every sleep allows for that. The few a release makes fit (a grant and
 * the next head; a shared batch wakes the rest at once).
 */
#define GLOCK_WAKE_DEFER	2

/* Small: kernels built to zero the stack clear it on every unlock. */
struct glock_wakeups {
	unsigned int n;
	struct task_struct *task[GLOCK_WAKE_DEFER];
};

static __always_inline void glock_wakeups_init(struct glock_wakeups *wake)
{
	wake->n = 0;
}

/* Wake @task now, or at glock_wake_flush() (@wake NULL: now). */
static void glock_wake(struct glock_wakeups *wake, struct task_struct *task)
{
	if (!wake || wake->n == GLOCK_WAKE_DEFER) {
		wake_up_process(task);
		return;
	}
	wake->task[wake->n++] = get_task_struct(task);
}

static noinline void __glock_wake_flush(struct glock_wakeups *wake)
{
	struct wait_queue_entry entry[GLOCK_WAKE_DEFER];
	struct wait_queue_head wq;
	unsigned int i;

	init_waitqueue_head(&wq);
	for (i = 0; i < wake->n; i++) {
		init_waitqueue_entry(&entry[i], wake->task[i]);
		__add_wait_queue_entry_tail(&wq, &entry[i]);
	}
	__wake_up_sync(&wq, TASK_NORMAL);
	for (i = 0; i < wake->n; i++)
		put_task_struct(wake->task[i]);
	wake->n = 0;
}

/* Make the wake-ups @wake holds, in order; no object lock held. */
static __always_inline void glock_wake_flush(struct glock_wakeups *wake)
{
	if (wake->n)
		__glock_wake_flush(wake);
}

/*
 * After a hand-off to one exclusive user holder, wake the new head of the
 * queue to spin on that holder while it runs (glock_spin()), so its
 * wake-up overlaps the critical section instead of following the
 * release. Order is untouched: only a release grants.
 */
static void glock_wake_next_spinner(struct glock_obj *obj,
				    struct glock_wakeups *wake)
{
	struct glock_waiter *head;
	struct pid *holder;

	head = list_first_entry_or_null(&obj->waiters, struct glock_waiter,
					node);
	if (!head)
		return;
	holder = glock_spin_target(obj);
	if (!holder)
		return;
	put_pid(xchg(&head->spin_on, holder));
	glock_wake(wake, head->task);
}

/*
 * Hand the lock to the head of the queue while it is compatible; the
 * wake-ups go to @wake (NULL: made at once).
 */
static void glock_wake_waiters(struct glock_obj *obj,
			       struct glock_wakeups *wake)
{
	struct glock_waiter *w, *tmp;
	u64 now = 0;

	lockdep_assert_held(&obj->lock);
	list_for_each_entry_safe(w, tmp, &obj->waiters, node) {
		if (!glock_compatible(obj, w->ref, w->mode))
			break;
		list_del_init(&w->node);
		obj->nwaiters--;
		WRITE_ONCE(w->ref->nwait, w->ref->nwait - 1);
		glock_grant(obj, w->ref, w->mode,
			    w->ref->key.owner->kernel ? NULL : task_tgid(w->task),
			    &w->result);
		/* One clock read for a whole shared batch. */
		if (!now)
			now = local_clock();
		obj->wait_max_ns = max(obj->wait_max_ns,
				       glock_clock_delta(w->since_ns, now));
		/* Pairs with smp_load_acquire() in glock_wait(). */
		smp_store_release(&w->granted, true);
		glock_wake(wake, w->task);
	}
	if (now)
		glock_wake_next_spinner(obj, wake);
}

/*
 * Mark @obj abandoned by @ref's ending owner, in the object's mark or, on
 * its first abandonment, in *@spare.
 */
static void glock_mark_abandoned(struct glock_obj *obj,
				 struct glock_ref *ref,
				 struct glock_mark **spare)
{
	struct glock_mark *mark;

	lockdep_assert_held(&obj->lock);
	if (!obj->mark) {
		obj->mark = *spare;
		*spare = NULL;
		INIT_LIST_HEAD(&obj->mark->lru);
		obj->mark->on_lru = false;
		obj->mark->obj = obj;
		obj->mark->user = NULL;
	}
	mark = obj->mark;
	/* Charged to the uid whose owner died. */
	glock_user_put(mark->user);
	mark->user = glock_user_hold(ref->key.owner->user ?:
				     &glock_kernel_user);
	mark->pid = pid_nr(ref->pid);
	mark->when_ns = ktime_get_ns();
	obj->abandoned = true;
	glock_count(&obj->abandons);
	this_cpu_inc(glock_stats.abandons);
	trace_glock_abandon(obj->name, ref->key.owner->id, ref->mode, 0);
}

/*
 * Drop one level (or all) of @ref's hold; on the last hand the lock on.
 * With @spare (its owner is ending), an exclusive hold is marked abandoned.
 * Inline, as glock_try() is: the uncontended pair is then one call deep.
 */
static __always_inline void glock_drop(struct glock_obj *obj,
				       struct glock_ref *ref, bool all,
				       struct glock_mark **spare,
				       struct glock_wakeups *wake)
{
	lockdep_assert_held(&obj->lock);
	WRITE_ONCE(ref->depth, all ? 0 : ref->depth - 1);
	trace_glock_release(obj->name, ref->key.owner->id, ref->mode, ref->depth);
	if (ref->depth)
		return;

	obj->hold_max = max(obj->hold_max, get_jiffies_64() - ref->since);
	if (obj->excl == ref)
		obj->excl = NULL;
	if (!--obj->nholders)
		obj->mode = 0;
	if (spare && ref->mode == GLOCK_EXCLUSIVE)
		glock_mark_abandoned(obj, ref, spare);
	if (!list_empty(&obj->waiters))
		glock_wake_waiters(obj, wake);
}

/*
 * Grant at once if the rules allow it: recursion, or a compatible lock with
 * nobody queued. @obj is locked; @ref is @owner's ref on it if the caller
 * knows it (a handle's), else NULL. Returns GLOCK_TRY_* or -errno. Inline
 * with glock_grant(): in the guest a call on the uncontended path costs as
 * much as a spinlock (make bench, section 1b).
 */
static __always_inline int glock_try(struct glock_owner *owner,
				     struct glock_obj *obj,
				     struct glock_ref *ref, u32 mode,
				     struct glock_ref **spare, u32 *result,
				     u32 *depth)
{
	int err;

	if (!ref)
		ref = glock_find_ref(obj, owner);
	if (ref && ref->depth) {
		if (ref->mode != mode)
			return -EDEADLK;
		/* Checked before the increment: depth never wraps. */
		if (ref->depth >= READ_ONCE(glock_max_depth))
			return -EOVERFLOW;
		goto grant;
	}
	if (!list_empty(&obj->waiters) || !glock_compatible(obj, NULL, mode))
		return GLOCK_TRY_BUSY;
	if (!ref || !ref->charged) {
		ref = glock_ref_get(obj, owner, ref, spare, &err);
		if (!ref)
			return err;
	}
grant:
	glock_grant(obj, ref, mode, owner->kernel ? NULL : task_tgid(current),
		    result);
	*depth = ref->depth;
	return GLOCK_TRY_GRANTED;
}

/*
 * Undo one grant that never reached its requester: drop the level it gave,
 * and if it consumed an abandoned mark, put the mark back so that the next
 * owner to acquire is told instead.
 */
static void glock_unwind(struct glock_obj *obj, struct glock_ref *ref,
			 u32 result)
{
	lockdep_assert_held(&obj->lock);
	if (result & GLOCK_R_ABANDONED)
		obj->abandoned = true;	/* its mark still has pid and time */
	glock_drop(obj, ref, false, NULL, NULL);
	glock_ref_put(ref);
}

/*
 * FIFO hand-off without a sleep, as a mutex's optimistic spinning: the
 * head of the queue watches for its grant while the holder's process
 * (@spin_on) is on a CPU, for at most spin_us, until the scheduler wants
 * this CPU or another task is runnable on it (the rule of KVM's halt
 * polling: a spin must not keep a runnable task, maybe one about to
 * queue, off the CPU), a signal comes or @deadline passes. The grant is
 * made by the releaser as ever; spinning only saves the sleep and the
 * wake-up. The holder is seen through its thread group leader (what the
 * ref records): a heuristic that is exact for single-threaded holders and
 * only ever costs a bounded spin for others. local_clock() bounds it:
 * the clocksource may be slow to read (an HPET), sched_clock never is.
 */
static void glock_spin(struct glock_waiter *w, struct pid *spin_on,
		       ktime_t *deadline)
{
	struct task_struct *holder;
	u64 start = local_clock(), end;
	s64 left;

	end = start + READ_ONCE(glock_spin_us) * NSEC_PER_USEC;
	if (deadline) {
		left = ktime_to_ns(ktime_sub(*deadline, ktime_get()));
		if (left <= 0)
			return;
		end = min_t(u64, end, start + left);
	}
	rcu_read_lock();
	/* Pairs with smp_store_release() in glock_wake_waiters(). */
	while (!smp_load_acquire(&w->granted)) {
		holder = pid_task(spin_on, PIDTYPE_TGID);
		if (!holder || !owner_on_cpu(holder) || need_resched() ||
		    !single_task_running() || signal_pending(current) ||
		    local_clock() >= end)
			break;
		cpu_relax();
	}
	rcu_read_unlock();
}

/*
 * Sleep until granted, signalled or past @deadline (NULL: no deadline).
 * Whenever w->spin_on names a holder, spin on it first.
 */
static int glock_wait(struct glock_waiter *w, ktime_t *deadline)
{
	bool timed_out = false;
	struct pid *spin_on;
	int ret;

	for (;;) {
		spin_on = xchg(&w->spin_on, NULL);
		if (spin_on) {
			glock_spin(w, spin_on, deadline);
			put_pid(spin_on);
		}
		set_current_state(TASK_INTERRUPTIBLE);
		/* Pairs with smp_store_release() in glock_wake_waiters(). */
		if (smp_load_acquire(&w->granted)) {
			ret = 0;
			break;
		}
		if (timed_out) {
			ret = -ETIMEDOUT;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (READ_ONCE(w->spin_on)) {	/* named since we looked */
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (!schedule_hrtimeout(deadline, HRTIMER_MODE_ABS))
			timed_out = true;
	}
	__set_current_state(TASK_RUNNING);
	return ret;
}

/*
 * Under the graph lock: look again (the lock may have become free), and
 * queue @w if it is still busy. Called and returns with @obj locked.
 */
static int glock_queue(struct glock_owner *owner, struct glock_obj *obj,
		       u32 mode, struct glock_ref **spare, u32 *result,
		       u32 *depth, struct glock_waiter *w)
{
	int ret;

	ret = glock_try(owner, obj, NULL, mode, spare, result, depth);
	if (ret != GLOCK_TRY_BUSY)
		return ret;
	w->ref = glock_ref_get(obj, owner, NULL, spare, &ret);
	if (!w->ref)
		return ret;
	w->obj = obj;
	w->task = current;
	w->mode = mode;
	w->result = 0;
	w->granted = false;
	w->since_ns = local_clock();
	w->pid = owner->kernel ? 0 : task_tgid_nr(current);
	strscpy(w->comm, owner->kernel ? owner->comm : current->comm,
		sizeof(w->comm));
	list_add_tail(&w->node, &obj->waiters);
	obj->nwaiters++;
	obj->pins++;
	WRITE_ONCE(w->ref->nwait, w->ref->nwait + 1);
	/* Spin only at the head. */
	w->spin_on = obj->nwaiters == 1 ? glock_spin_target(obj) : NULL;
	trace_glock_contended(obj->name, owner->id, mode, 0);
	return GLOCK_TRY_BUSY;
}

/*
 * The slow path. Under the graph lock the request queues, then searches
 * for a cycle with no spinlock held: being queued, it bars any owner from
 * taking the lock without queueing behind it, so the holders it waits for
 * can only leave while it looks. A cycle takes it off the queue again
 * (EDEADLK, nothing queued), unless it was granted meanwhile. Otherwise it
 * sleeps, and settles under obj->lock. A grant that races with a timeout
 * or signal wins: the caller holds the lock and is told so, unless the
 * caller is a user task being killed, which would never see it.
 */
static int glock_block(struct glock_owner *owner, const struct glock_key *key,
		       struct glock_obj *obj, u32 mode, ktime_t *deadline,
		       struct glock_ref **spare, u32 *result, u32 *depth)
{
	struct glock_waiter w;
	struct glock_ref *ref;
	int ret;

	ret = glock_graph_lock(deadline);
	if (ret)
		return ret;
	if (obj) {	/* a handle's: kept in the table by its ref */
		spin_lock(&obj->lock);
	} else if (!glock_obj_get(owner, key, &obj, spare, &ret)) {
		glock_graph_unlock();
		return ret;
	}
	ret = glock_queue(owner, obj, mode, spare, result, depth, &w);
	/* Callers come with a ref or a spare: this cannot be. */
	if (WARN_ON_ONCE(ret == GLOCK_TRY_NEED_REF))
		ret = -ENOMEM;
	if (ret != GLOCK_TRY_BUSY) {
		glock_obj_put(obj);
		glock_obj_unlock(obj);
		glock_graph_unlock();
		return ret < 0 ? ret : 0;
	}
	spin_unlock(&obj->lock);	/* pinned by the queued waiter */
	spin_lock(&owner->wait_lock);
	list_add_tail(&w.owner_node, &owner->waits);
	spin_unlock(&owner->wait_lock);

	ret = glock_would_deadlock(owner, &w) ? -EDEADLK : 0;
	glock_graph_unlock();
	if (!ret)
		ret = glock_wait(&w, deadline);

	spin_lock(&owner->wait_lock);
	list_del(&w.owner_node);
	spin_unlock(&owner->wait_lock);

	spin_lock(&obj->lock);
	if (w.granted) {
		/* Another thread of this owner may have unlocked it already. */
		ref = glock_find_ref(obj, owner);
		if (ref && ref->depth && !owner->kernel &&
		    fatal_signal_pending(current)) {
			glock_unwind(obj, ref, w.result);
			ret = -EINTR;
		} else {
			ret = 0;
			*result |= w.result;
			*depth = ref ? ref->depth : 0;
		}
	} else {
		list_del(&w.node);
		obj->nwaiters--;
		WRITE_ONCE(w.ref->nwait, w.ref->nwait - 1);
		obj->wait_max_ns = max(obj->wait_max_ns,
				       glock_clock_delta(w.since_ns,
							 local_clock()));
		if (ret == -EDEADLK) {
			this_cpu_inc(glock_stats.deadlocks);
			trace_glock_deadlock(obj->name, owner->id, mode, 0);
		} else if (ret == -ETIMEDOUT) {
			glock_count(&obj->timeouts);
			this_cpu_inc(glock_stats.timeouts);
			trace_glock_timeout(obj->name, owner->id, mode, 0);
		}
		glock_ref_put(w.ref);
		/* A departed head may unblock compatible requests behind it. */
		glock_wake_waiters(obj, NULL);
	}
	/* Off the queue: no releaser names a holder to it any more. */
	put_pid(xchg(&w.spin_on, NULL));
	obj->pins--;
	glock_obj_put(obj);
	glock_obj_unlock(obj);
	return ret;
}

/*
 * One glock_try() on @obj, locked by the caller, which this unlocks:
 * a busy lock is counted as contended, and is -EAGAIN for a @try.
 */
static __always_inline int glock_try_once(struct glock_owner *owner,
					  struct glock_obj *obj,
					  struct glock_ref *ref, u32 mode,
					  bool try, struct glock_ref **spare,
					  u32 *result, u32 *depth)
	__releases(obj_lock)
{
	int ret = glock_try(owner, obj, ref, mode, spare, result, depth);

	if (ret == GLOCK_TRY_BUSY) {
		glock_count(&obj->contended);
		this_cpu_inc(glock_stats.contended);
		if (try)
			ret = -EAGAIN;
	}
	glock_obj_put(obj);
	glock_obj_unlock(obj);
	return ret;
}

/**
 * glock_acquire() - take @name for @owner (arguments already validated)
 * @owner: the requesting owner
 * @name: name bytes
 * @len: length of @name
 * @mode: GLOCK_EXCLUSIVE or GLOCK_SHARED
 * @timeout_ns: < 0 forever, 0 try, > 0 relative or (GLOCK_F_ABSTIME)
 *	absolute CLOCK_MONOTONIC
 * @flags: GLOCK_F_* bits
 * @result: out, GLOCK_R_* bits
 * @depth: out, the owner's depth after the call
 *
 * Return: 0, -EAGAIN, -ETIMEDOUT, -EINTR, -EDEADLK, -EOVERFLOW, -ENOLCK or
 * -ENOMEM.
 */
int glock_acquire(struct glock_owner *owner, const char *name, u32 len,
		  u32 mode, s64 timeout_ns, u32 flags, u32 *result, u32 *depth)
{
	struct glock_ref *spare, *ref;
	struct glock_key key;
	struct glock_obj *obj;
	ktime_t deadline, *dl = NULL;
	bool try = !timeout_ns;
	int ret = GLOCK_TRY_NEED_REF;	/* nothing looked at yet */

	*result = 0;
	*depth = 0;
	if (timeout_ns > 0) {
		if (flags & GLOCK_F_ABSTIME) {
			deadline = ns_to_ktime(timeout_ns);
			try = ktime_compare(deadline, ktime_get()) <= 0;
		} else {
			deadline = ktime_add_safe(ktime_get(),
						  ns_to_ktime(timeout_ns));
		}
		dl = &deadline;
	}

	/* The owner's cached ref first: no hash, no lookup, no allocation. */
	spare = NULL;
	if (glock_cached_lock(owner, name, len, &ref)) {
		ret = glock_try_once(owner, ref->key.obj, ref, mode, try,
				     &spare, result, depth);
		if (ret != GLOCK_TRY_BUSY)
			return ret < 0 ? ret : 0;
	}

	/* A ref is allocated only when the owner has none on the object. */
	glock_key_init(&key, owner, name, len);
	while (ret != GLOCK_TRY_BUSY) {
		if (!glock_obj_get(owner, &key, &obj, &spare, &ret))
			break;
		ret = glock_try_once(owner, obj, NULL, mode, try, &spare,
				     result, depth);
		if (ret != GLOCK_TRY_NEED_REF)
			break;
		spare = glock_ref_alloc();
		if (!spare)
			return -ENOMEM;
	}

	if (ret == GLOCK_TRY_BUSY) {
		/* The slow path: a ref in hand, as it may need one. */
		if (!spare)
			spare = glock_ref_alloc();
		ret = spare ? glock_block(owner, &key, NULL, mode, dl, &spare,
					  result, depth) : -ENOMEM;
	}
	if (spare)
		kmem_cache_free(glock_ref_cache, spare);
	return ret < 0 ? ret : 0;
}

/**
 * glock_release() - drop one level of @owner's hold on @name
 * @owner: the owner
 * @name: name bytes (validated)
 * @len: length of @name
 * @mode: 0, or the mode the owner must hold
 * @depth: out, the depth still held
 *
 * Return: 0, -EPERM if @owner does not hold @name, -EINVAL if @mode is not
 * the held mode.
 */
int glock_release(struct glock_owner *owner, const char *name, u32 len,
		  u32 mode, u32 *depth)
{
	struct glock_ref *ref = NULL, *evict = NULL;
	struct glock_wakeups wake;
	struct glock_key key;
	struct glock_obj *obj;
	int ret = 0;

	glock_wakeups_init(&wake);
	if (glock_cached_lock(owner, name, len, &ref)) {
		obj = ref->key.obj;
	} else {
		glock_key_init(&key, owner, name, len);
		if (!glock_lookup_lock(&key, &obj))
			return -EPERM;
		ref = glock_find_ref(obj, owner);
	}
	if (!ref || !ref->depth) {
		ret = -EPERM;
	} else if (mode && mode != ref->mode) {
		ret = -EINVAL;
	} else {
		glock_drop(obj, ref, false, NULL, &wake);
		*depth = ref->depth;
		if (glock_ref_unused(ref) && !ref->cached &&
		    obj->nidle < U16_MAX)
			evict = glock_cache_ref(owner, ref);
		glock_ref_put(ref);
		glock_obj_put(obj);
	}
	glock_obj_unlock(obj);
	glock_wake_flush(&wake);
	if (evict)
		glock_uncache_ref(evict);
	return ret;
}

/**
 * glock_unacquire() - undo a grant whose result could not be delivered
 * @owner: the owner
 * @name: name bytes (validated)
 * @len: length of @name
 * @result: the GLOCK_R_* bits the grant returned
 *
 * Drops the level just granted and, if the grant consumed an abandoned
 * mark, restores it: on any error nothing changes, the mark included.
 */
void glock_unacquire(struct glock_owner *owner, const char *name, u32 len,
		     u32 result)
{
	struct glock_key key;
	struct glock_obj *obj;
	struct glock_ref *ref;

	glock_key_init(&key, owner, name, len);
	if (!glock_lookup_lock(&key, &obj))
		return;
	ref = glock_find_ref(obj, owner);
	/* Another thread of the owner may have unlocked it meanwhile. */
	if (ref && ref->depth) {
		glock_unwind(obj, ref, result);
		glock_obj_put(obj);
	}
	glock_obj_unlock(obj);
}

/**
 * glock_ref_for_handle() - make or find @owner's ref on @name, for a handle
 * @owner: the owner
 * @name: name bytes (validated and allowed by the rules)
 * @len: length of @name
 * @refp: out, the ref; it and its object stay until glock_ref_unhandle()
 *
 * Return: 0, -ENOLCK (a limit), -ENOMEM.
 */
int glock_ref_for_handle(struct glock_owner *owner, const char *name,
			 u32 len, struct glock_ref **refp)
{
	struct glock_ref *spare;
	struct glock_key key;
	struct glock_obj *obj;
	struct glock_ref *ref;
	int ret;

	spare = glock_ref_alloc();
	if (!spare)
		return -ENOMEM;
	glock_key_init(&key, owner, name, len);
	if (!glock_obj_get(owner, &key, &obj, &spare, &ret)) {
		kmem_cache_free(glock_ref_cache, spare);
		return ret;
	}
	ref = glock_ref_get(obj, owner, NULL, &spare, &ret);
	if (ref) {
		ref->nhandles++;
		ref->rcu_free = true;
	}
	glock_obj_put(obj);
	glock_obj_unlock(obj);
	if (spare)
		kmem_cache_free(glock_ref_cache, spare);
	*refp = ref;
	return ref ? 0 : ret;
}

/**
 * glock_ref_unhandle() - a handle lets go of @ref
 * @ref: a ref from glock_ref_for_handle()
 * @force: the owner is ending: do not refuse
 *
 * Return: 0, or -EBUSY (unless @force) while the owner holds or waits for
 * the lock.
 */
int glock_ref_unhandle(struct glock_ref *ref, bool force)
{
	struct glock_obj *obj = ref->key.obj;

	spin_lock(&obj->lock);
	if (!force && (ref->depth || ref->nwait)) {
		spin_unlock(&obj->lock);
		return -EBUSY;
	}
	ref->nhandles--;
	glock_ref_put(ref);
	glock_obj_put(obj);
	glock_obj_unlock(obj);
	return 0;
}

/**
 * glock_hlock() - acquire through a handle's ref
 * @owner: the owner
 * @ref: the handle's ref; its object is locked by the caller
 * @mode: GLOCK_EXCLUSIVE or GLOCK_SHARED
 * @try: fail with -EAGAIN instead of waiting
 * @result: out, GLOCK_R_* bits
 *
 * Same rules as glock_acquire() without a deadline. Unlocks the object.
 *
 * Return: 0, -EAGAIN, -EINTR, -EDEADLK, -EOVERFLOW, -ENOLCK, -ENOMEM.
 */
int glock_hlock(struct glock_owner *owner, struct glock_ref *ref, u32 mode,
		bool try, u32 *result)
	__releases(obj_lock)
{
	struct glock_obj *obj = ref->key.obj;
	u32 depth;
	int ret;

	*result = 0;
	lockdep_assert_held(&obj->lock);
	ret = glock_try(owner, obj, ref, mode, NULL, result, &depth);
	if (ret == GLOCK_TRY_BUSY) {
		glock_count(&obj->contended);
		this_cpu_inc(glock_stats.contended);
		if (try)
			ret = -EAGAIN;
		else
			obj->pins++;	/* the handle may be put meanwhile */
	}
	spin_unlock(&obj->lock);
	if (ret != GLOCK_TRY_BUSY)
		return ret < 0 ? ret : 0;

	/* The handle's ref exists: nothing to allocate. */
	ret = glock_block(owner, NULL, obj, mode, NULL, NULL, result, &depth);
	spin_lock(&obj->lock);
	obj->pins--;
	glock_obj_put(obj);
	glock_obj_unlock(obj);
	return ret;
}

/**
 * glock_hunlock() - drop one level through a handle's ref
 * @ref: the handle's ref; its object is locked by the caller
 * @depth: out, the depth still held
 *
 * Unlocks the object.
 *
 * Return: 0, or -EPERM if the owner does not hold the lock.
 */
int glock_hunlock(struct glock_ref *ref, u32 *depth)
	__releases(obj_lock)
{
	struct glock_obj *obj = ref->key.obj;
	struct glock_wakeups wake;
	int ret = 0;

	lockdep_assert_held(&obj->lock);
	glock_wakeups_init(&wake);
	if (!ref->depth) {
		ret = -EPERM;
	} else {
		glock_drop(obj, ref, false, NULL, &wake);
		*depth = ref->depth;
	}
	spin_unlock(&obj->lock);	/* the handle keeps ref and obj */
	glock_wake_flush(&wake);
	return ret;
}

/**
 * glock_holder_comm() - the comm to show for a holder
 * @ref: the holder's ref, its object locked
 * @buf: out, GLOCK_COMM_LEN bytes
 *
 * A kernel owner's label; else the command of the process that took the
 * lock, read now as lslocks reads /proc, or the opener's once it is gone.
 */
void glock_holder_comm(const struct glock_ref *ref, char *buf)
{
	const struct glock_owner *owner = ref->key.owner;
	struct task_struct *task;

	strscpy(buf, owner->comm, GLOCK_COMM_LEN);
	if (owner->kernel || !ref->pid)
		return;
	rcu_read_lock();
	task = pid_task(ref->pid, PIDTYPE_TGID);
	if (task)
		__get_task_comm(buf, TASK_COMM_LEN, task);
	rcu_read_unlock();
}

/**
 * glock_snapshot() - read the state of @name as seen by @owner
 * @owner: the asking owner
 * @name: name bytes (validated)
 * @len: length of @name
 * @snap: out; @snap->holder is referenced, for the caller to put
 */
void glock_snapshot(struct glock_owner *owner, const char *name, u32 len,
		    struct glock_snapshot *snap)
{
	struct glock_key key;
	struct glock_obj *obj;
	struct glock_ref *ref;

	memset(snap, 0, sizeof(*snap));
	glock_key_init(&key, owner, name, len);
	if (!glock_lookup_lock(&key, &obj))
		return;
	snap->st.mode = obj->mode;
	snap->st.holders = obj->nholders;
	snap->st.waiters = obj->nwaiters;
	if (obj->abandoned)
		snap->st.result |= GLOCK_R_ABANDONED;
	ref = glock_find_ref(obj, owner);
	if (ref)
		snap->st.depth = ref->depth;
	ref = obj->excl;
	if (ref) {
		if (ref->key.owner->kernel)
			snap->st.result |= GLOCK_R_KERNEL;
		/* Once the taker has exited its number may name another. */
		if (ref->pid && pid_has_task(ref->pid, PIDTYPE_TGID))
			snap->holder = get_pid(ref->pid);
		snap->st.holder_pid = pid_nr(snap->holder);
		glock_holder_comm(ref, snap->st.holder_comm);
	}
	glock_obj_unlock(obj);
}

/**
 * glock_release_all() - end every hold of a departing owner
 * @owner: the owner; none of its requests can be waiting
 *
 * Exclusive holds are marked abandoned. Runs at the last close of a file or
 * at glock_owner_destroy().
 */
void glock_release_all(struct glock_owner *owner)
{
	struct glock_mark *spare;
	struct glock_ref *ref;
	struct glock_obj *obj;

	spin_lock(&owner->lock);
	WRITE_ONCE(owner->cached, NULL);	/* each ref's flag: below */
	spin_unlock(&owner->lock);
	for (;;) {
		/* Only this owner adds or removes its refs, and it is ending. */
		spin_lock(&owner->lock);
		ref = list_first_entry_or_null(&owner->refs, struct glock_ref,
					       owner_node);
		spin_unlock(&owner->lock);
		if (!ref)
			break;
		obj = ref->key.obj;		/* kept in the table by the ref */
		/*
		 * Only this owner changes its holds, and it is ending. An
		 * abandonment must not be lost for want of memory: the mark
		 * is small and this is process context.
		 */
		spare = NULL;
		if (ref->depth && ref->mode == GLOCK_EXCLUSIVE)
			spare = kmalloc(sizeof(*spare),
					GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
		spin_lock(&obj->lock);
		if (WARN_ON_ONCE(ref->nwait))
			WRITE_ONCE(ref->nwait, 0);
		if (ref->depth)
			glock_drop(obj, ref, true, &spare, NULL);
		ref->cached = false;
		glock_ref_put(ref);
		glock_obj_put(obj);
		glock_obj_unlock(obj);
		kfree(spare);
		cond_resched();
	}
	glock_marks_trim();
}

int glock_table_init(void)
{
	int ret;

	ret = percpu_counter_init(&glock_nobjs, 0, GFP_KERNEL);
	if (ret)
		return ret;
	ret = rhashtable_init(&glock_objs, &glock_obj_params);
	glock_objs_ready = !ret;
	if (!ret)
		ret = rhashtable_init(&glock_refs, &glock_ref_params);
	glock_refs_ready = glock_objs_ready && !ret;
	/* Objects with a short name inline; longer ones are kmalloc'ed. */
	glock_obj_cache = kmem_cache_create("glock_obj",
					    offsetof(struct glock_obj, name) +
					    GLOCK_NAME_INLINE + 1,
					    __alignof__(struct glock_obj),
					    SLAB_ACCOUNT |
					    SLAB_TYPESAFE_BY_RCU,
					    glock_obj_ctor);
	glock_ref_cache = KMEM_CACHE(glock_ref, SLAB_ACCOUNT);
	if (ret || !glock_obj_cache || !glock_ref_cache) {
		glock_table_exit();
		return ret ?: -ENOMEM;
	}
	return 0;
}

/*
 * Called once no owner is left (only idle abandoned marks remain), or to
 * unwind a failed glock_table_init(), whose counter is always set up.
 */
void glock_table_exit(void)
{
	if (glock_objs_ready)
		glock_marks_exit();
	/* Objects and refs still on their way back through RCU. */
	rcu_barrier();
	WARN_ON_ONCE(glock_nobjs_counted() || percpu_counter_sum(&glock_nobjs));
	percpu_counter_destroy(&glock_nobjs);
	if (glock_refs_ready)
		rhashtable_destroy(&glock_refs);
	if (glock_objs_ready)
		rhashtable_destroy(&glock_objs);
	glock_objs_ready = false;
	glock_refs_ready = false;
	kmem_cache_destroy(glock_ref_cache);
	kmem_cache_destroy(glock_obj_cache);
}
