// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock debugfs: /sys/kernel/debug/glock/{locks,owners,stats}.
 *
 * One record per line: a type word, then key=value pairs separated by
 * single spaces; durations in nanoseconds under *_ns keys. Names never need
 * quoting; a comm's bytes outside 0x21..0x7e print as '_'.
 *
 * "locks" and "owners" are streamed with seq_file iteration, 64 KiB and a
 * page at a time, so no read builds the whole text and none holds a lock that opens,
 * closes or lock requests need for longer than a few records.
 *
 * Locking during a print:
 *
 * - "locks": a position is (bucket index, index of the object on that
 *   bucket's chain). start() and next() take the bucket lock only to check
 *   that the position holds an object; show() takes it again, finds the
 *   object and prints its lock, holder and waiter lines (all protected by
 *   that bucket lock, so one object's records are consistent), and unlocks.
 *   Nothing is held between records. Objects that come or go between two
 *   calls shift the positions after them, so a reader may miss or repeat
 *   an object that changed during the read, never see half of one or loop.
 *   One object's lines are printed under its bucket lock: an object with
 *   N holders and waiters costs O(N) there.
 * - "owners": glock_owners_lock (mutex) is taken in start() and released in
 *   stop(), which seq_file calls whenever its page fills or a read ends, so
 *   an open or close waits for at most a page of records. Each owner's
 *   ->lock is held while its refs are counted (a ref's counts change under
 *   its bucket lock, so they are read once). start() finds its position by
 *   walking the list from its head (seq_list_start), so a whole read costs
 *   O(owners^2 / owners per page); owners that come or go between pages
 *   may make a reader miss or repeat one.
 * - "stats": one line; glock_owners_lock briefly for the owner count.
 */

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "internal.h"

static struct dentry *glock_debugfs_dir;

/* @comm as one printable word. */
static const char *glock_word(char *buf, const char *comm)
{
	size_t i;

	for (i = 0; i < GLOCK_COMM_LEN - 1 && comm[i]; i++)
		buf[i] = comm[i] > 0x20 && comm[i] < 0x7f ? comm[i] : '_';
	if (!i)
		buf[i++] = '-';
	buf[i] = '\0';
	return buf;
}

static const char *glock_kind(const struct glock_owner *owner)
{
	return owner->kernel ? "kernel" : "user";
}

static void glock_show_obj(struct seq_file *m, struct glock_obj *obj, u64 now)
{
	u64 coarse = ktime_get_coarse_ns();
	char word[GLOCK_COMM_LEN];
	struct glock_waiter *w;
	struct glock_ref *ref;

	seq_printf(m, "lock name=%s ipcns=%u mode=%s holders=%u waiters=%u abandoned=%d acquired=%llu contended=%llu timeouts=%llu abandons=%llu wait_max_ns=%llu hold_max_ns=%llu",
		   obj->name, obj->ns_inum, glock_mode_name(obj->mode),
		   obj->nholders, obj->nwaiters, obj->abandoned, obj->acquired,
		   obj->contended, obj->timeouts, obj->abandons,
		   obj->wait_max_ns, obj->hold_max_ns);
	if (obj->abandoned)
		seq_printf(m, " dead_pid=%d abandoned_ns=%llu", obj->dead_pid,
			   now - obj->abandoned_ns);
	seq_putc(m, '\n');

	list_for_each_entry(ref, &obj->refs, obj_node) {
		if (seq_has_overflowed(m))
			return;	/* seq_file retries with a bigger buffer */
		if (!ref->depth)
			continue;
		seq_printf(m, "holder lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s depth=%u held_ns=%llu\n",
			   obj->name, obj->ns_inum, ref->owner->id, glock_kind(ref->owner),
			   pid_nr(ref->pid), glock_word(word, ref->comm),
			   glock_mode_name(ref->mode), ref->depth,
			   coarse - ref->since_ns);
	}
	list_for_each_entry(w, &obj->waiters, node) {
		if (seq_has_overflowed(m))
			return;
		seq_printf(m, "waiter lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s waited_ns=%llu\n",
			   obj->name, obj->ns_inum, w->ref->owner->id,
			   glock_kind(w->ref->owner), w->pid,
			   glock_word(word, w->comm), glock_mode_name(w->mode),
			   now - w->since_ns);
	}
}

/*
 * A "locks" position: the bucket index in the upper 32 bits, the index of
 * the object on the bucket's chain in the lower 32.
 */
static loff_t glock_pos(unsigned int bucket, unsigned int index)
{
	return (loff_t)((u64)bucket << 32 | index);
}

static unsigned int glock_pos_bucket(loff_t pos)
{
	return upper_32_bits(pos);
}

static unsigned int glock_pos_index(loff_t pos)
{
	return lower_32_bits(pos);
}

/* Where show() is to print; seq_file's private data for "locks". */
struct glock_locks_iter {
	loff_t pos;
};

/* The @index-th object on @b's chain, or NULL. */
static struct glock_obj *glock_bucket_nth(struct glock_bucket *b,
					  unsigned int index)
{
	struct glock_obj *obj;

	lockdep_assert_held(&b->lock);
	hlist_for_each_entry(obj, &b->objs, hnode)
		if (!index--)
			return obj;
	return NULL;
}

/*
 * Move *@pos to the first position at or after it that holds an object.
 * Return: the iterator, or NULL past the last bucket.
 * Context: may sleep; takes and releases bucket locks.
 */
static void *glock_locks_seek(struct seq_file *m, loff_t *pos)
{
	struct glock_locks_iter *it = m->private;
	unsigned int n = glock_table_size();
	unsigned int i = glock_pos_index(*pos);
	unsigned int b = glock_pos_bucket(*pos);
	struct glock_bucket *bucket;
	bool found;

	for (; b < n; b++, i = 0) {
		bucket = glock_table_bucket(b);
		/* A hint without the lock; rechecked under it. */
		if (!hlist_empty(&bucket->objs)) {
			spin_lock(&bucket->lock);
			found = glock_bucket_nth(bucket, i);
			spin_unlock(&bucket->lock);
			if (found) {
				*pos = glock_pos(b, i);
				it->pos = *pos;
				return it;
			}
		}
		cond_resched();
	}
	*pos = glock_pos(n, 0);
	return NULL;
}

static void *glock_locks_start(struct seq_file *m, loff_t *pos)
{
	return glock_locks_seek(m, pos);
}

static void *glock_locks_next(struct seq_file *m, void *v, loff_t *pos)
{
	*pos = glock_pos(glock_pos_bucket(*pos), glock_pos_index(*pos) + 1);
	cond_resched();
	return glock_locks_seek(m, pos);
}

static void glock_locks_stop(struct seq_file *m, void *v)
{
}

static int glock_locks_show(struct seq_file *m, void *v)
{
	struct glock_locks_iter *it = v;
	struct glock_bucket *b = glock_table_bucket(glock_pos_bucket(it->pos));
	struct glock_obj *obj;

	spin_lock(&b->lock);
	/* Gone since start() or next(): print nothing for this position. */
	obj = glock_bucket_nth(b, glock_pos_index(it->pos));
	if (obj)
		glock_show_obj(m, obj, ktime_get_ns());
	spin_unlock(&b->lock);
	return 0;
}

static const struct seq_operations glock_locks_sops = {
	.start = glock_locks_start,
	.next = glock_locks_next,
	.stop = glock_locks_stop,
	.show = glock_locks_show,
};

/*
 * A read returns up to this much of "locks" (seq_file's own default is a
 * page): fewer calls for cat, and a reader that takes one read() of a small
 * table still gets all of it, as it did before "locks" was streamed.
 */
#define GLOCK_LOCKS_CHUNK	SZ_64K

static int glock_locks_open(struct inode *inode, struct file *file)
{
	struct seq_file *m;
	char *buf;
	int ret;

	buf = kvmalloc(GLOCK_LOCKS_CHUNK, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	ret = seq_open_private(file, &glock_locks_sops,
			       sizeof(struct glock_locks_iter));
	if (ret) {
		kvfree(buf);
		return ret;
	}
	/* As single_open_size() does; seq_release() frees it. */
	m = file->private_data;
	m->buf = buf;
	m->size = GLOCK_LOCKS_CHUNK;
	return 0;
}

static const struct file_operations glock_locks_fops = {
	.owner = THIS_MODULE,
	.open = glock_locks_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/* Held from start() to stop(): a page of records at most. */
static void *glock_owners_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&glock_owners_lock);
	return seq_list_start(&glock_owners, *pos);
}

static void *glock_owners_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &glock_owners, pos);
}

static void glock_owners_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&glock_owners_lock);
}

static int glock_owners_show(struct seq_file *m, void *v)
{
	struct glock_owner *owner = list_entry(v, struct glock_owner, node);
	char word[GLOCK_COMM_LEN];
	unsigned int held = 0, waits = 0;
	struct glock_ref *ref;

	lockdep_assert_held(&glock_owners_lock);
	spin_lock(&owner->lock);
	list_for_each_entry(ref, &owner->refs, owner_node) {
		held += !!READ_ONCE(ref->depth);
		waits += READ_ONCE(ref->nwait);
	}
	spin_unlock(&owner->lock);
	seq_printf(m, "owner id=%llu kind=%s pid=%d comm=%s ipcns=%u locks=%u waits=%u\n",
		   owner->id, glock_kind(owner), owner->pid,
		   glock_word(word, owner->comm), owner->ns_inum, held, waits);
	return 0;
}

static const struct seq_operations glock_owners_sops = {
	.start = glock_owners_start,
	.next = glock_owners_next,
	.stop = glock_owners_stop,
	.show = glock_owners_show,
};

static int glock_owners_open(struct inode *inode, struct file *file)
{
	return seq_open(file, &glock_owners_sops);
}

static const struct file_operations glock_owners_fops = {
	.owner = THIS_MODULE,
	.open = glock_owners_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release,
};

static int glock_stats_show(struct seq_file *m, void *v)
{
	struct glock_stats sum = {};
	unsigned int nmarks, nowners;
	u64 dropped;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct glock_stats *s = per_cpu_ptr(&glock_stats, cpu);

		sum.acquired += READ_ONCE(s->acquired);
		sum.contended += READ_ONCE(s->contended);
		sum.timeouts += READ_ONCE(s->timeouts);
		sum.deadlocks += READ_ONCE(s->deadlocks);
		sum.abandons += READ_ONCE(s->abandons);
	}
	glock_marks_stats(&nmarks, &dropped);
	mutex_lock(&glock_owners_lock);
	nowners = glock_nowners;
	mutex_unlock(&glock_owners_lock);

	seq_printf(m, "stats locks=%lld owners=%u marks=%u marks_dropped=%llu acquired=%llu contended=%llu timeouts=%llu deadlocks=%llu abandons=%llu\n",
		   percpu_counter_sum(&glock_nobjs), nowners, nmarks, dropped,
		   sum.acquired, sum.contended, sum.timeouts, sum.deadlocks,
		   sum.abandons);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(glock_stats);

void glock_debugfs_init(void)
{
	glock_debugfs_dir = debugfs_create_dir("glock", NULL);
	debugfs_create_file("locks", 0400, glock_debugfs_dir, NULL,
			    &glock_locks_fops);
	debugfs_create_file("owners", 0400, glock_debugfs_dir, NULL,
			    &glock_owners_fops);
	debugfs_create_file("stats", 0400, glock_debugfs_dir, NULL,
			    &glock_stats_fops);
}

void glock_debugfs_exit(void)
{
	debugfs_remove_recursive(glock_debugfs_dir);
}
