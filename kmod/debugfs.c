// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock debugfs: /sys/kernel/debug/glock/{locks,owners,stats,rules}.
 *
 * One record per line: a type word, then key=value pairs separated by
 * single spaces; durations in nanoseconds under *_ns keys. Names never need
 * quoting; a comm's bytes outside 0x21..0x7e print as '_'.
 *
 * Both lists stream: seq_file asks for one record at a time and stops at
 * every full page, so no print builds the whole text or holds a lock for
 * all of it.
 *
 * Locking: "locks" walks the object table with an rhashtable walker (RCU
 * held between seq_file's start and stop) and takes one object's lock
 * while it prints that object. A walk that meets a table resize may repeat
 * or skip records, as /proc files may. "owners" holds glock_owners_lock
 * from start to stop, one page of output at a time, and each owner's lock
 * while it counts its refs (a ref's counts change under its object's lock,
 * so they are read once).
 */

#include <linux/debugfs.h>
#include <linux/ipc_namespace.h>
#include <linux/ktime.h>
#include <linux/rhashtable.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

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
	u64 jiffies_now = get_jiffies_64();
	unsigned int inum = obj->ns->ns.inum;
	char word[GLOCK_COMM_LEN], comm[GLOCK_COMM_LEN];
	struct glock_waiter *w;
	struct glock_ref *ref;

	seq_printf(m, "lock name=%s ipcns=%u mode=%s holders=%u waiters=%u abandoned=%d acquired=%llu contended=%u timeouts=%u abandons=%u wait_max_ns=%llu hold_max_ns=%llu",
		   obj->name, inum, glock_mode_name(obj->mode),
		   obj->nholders, obj->nwaiters, obj->abandoned, obj->acquired,
		   obj->contended, obj->timeouts, obj->abandons,
		   obj->wait_max_ns, jiffies64_to_nsecs(obj->hold_max));
	if (obj->abandoned)
		seq_printf(m, " dead_pid=%d abandoned_ns=%llu", obj->mark->pid,
			   now - obj->mark->when_ns);
	seq_putc(m, '\n');

	list_for_each_entry(ref, &obj->refs, obj_node) {
		if (!ref->depth)
			continue;
		glock_holder_comm(ref, comm);
		seq_printf(m, "holder lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s depth=%u held_ns=%llu\n",
			   obj->name, inum, ref->key.owner->id, glock_kind(ref->key.owner),
			   pid_nr(ref->pid), glock_word(word, comm),
			   glock_mode_name(ref->mode), ref->depth,
			   jiffies64_to_nsecs(jiffies_now - ref->since));
	}
	list_for_each_entry(w, &obj->waiters, node)
		seq_printf(m, "waiter lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s waited_ns=%llu\n",
			   obj->name, inum, w->ref->key.owner->id,
			   glock_kind(w->ref->key.owner), w->pid,
			   glock_word(word, w->comm), glock_mode_name(w->mode),
			   glock_clock_delta(w->since_ns, local_clock()));
}

/* The "locks" reader: a walker over the table, kept across reads. */
struct glock_locks_iter {
	struct rhashtable_iter hti;
	loff_t pos;		/* the record the walker stands on */
};

/* The walker's next live object; a resize (-EAGAIN) just goes on. */
static struct glock_obj *glock_locks_advance(struct glock_locks_iter *it,
					     bool peek)
{
	struct glock_obj *obj;

	for (;;) {
		obj = peek ? rhashtable_walk_peek(&it->hti) :
			     rhashtable_walk_next(&it->hti);
		if (!IS_ERR(obj))
			return obj;
		if (PTR_ERR(obj) != -EAGAIN)
			return NULL;
		peek = false;
	}
}

static void *glock_locks_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct glock_locks_iter *it = m->private;

	/* A reader that went back to the start (lseek 0) walks again. */
	if (*pos < it->pos) {
		rhashtable_walk_exit(&it->hti);
		rhashtable_walk_enter(&glock_objs, &it->hti);
		it->pos = 0;
	}
	rhashtable_walk_start(&it->hti);
	/* seq_file asks again for the record it could not fit: peek. */
	while (it->pos < *pos) {
		if (!glock_locks_advance(it, false))
			return NULL;
		it->pos++;
	}
	return glock_locks_advance(it, true);
}

static void *glock_locks_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct glock_locks_iter *it = m->private;

	++*pos;
	it->pos = *pos;
	return glock_locks_advance(it, false);
}

static void glock_locks_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	struct glock_locks_iter *it = m->private;

	rhashtable_walk_stop(&it->hti);
}

static int glock_locks_show(struct seq_file *m, void *v)
{
	struct glock_obj *obj = v;

	spin_lock(&obj->lock);
	/* A resident object is a cache of a lock that is gone. */
	if (!obj->dead && !glock_obj_resident(obj))
		glock_show_obj(m, obj, ktime_get_ns());
	spin_unlock(&obj->lock);
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
 * page): fewer calls for cat, and a reader that takes one read() of a
 * small table still gets all of it.
 */
#define GLOCK_LOCKS_CHUNK	SZ_64K

static int glock_locks_open(struct inode *inode, struct file *file)
{
	struct glock_locks_iter *it;
	struct seq_file *m;
	char *buf;

	buf = kvmalloc(GLOCK_LOCKS_CHUNK, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	it = __seq_open_private(file, &glock_locks_sops, sizeof(*it));
	if (!it) {
		kvfree(buf);
		return -ENOMEM;
	}
	/* As single_open_size() does; seq_release() frees it. */
	m = file->private_data;
	m->buf = buf;
	m->size = GLOCK_LOCKS_CHUNK;
	/*
	 * Let a pending resize finish first: a walk that meets one starts
	 * over, so a table nobody changes is then listed exactly once.
	 */
	flush_work(&glock_objs.run_work);
	rhashtable_walk_enter(&glock_objs, &it->hti);
	return 0;
}

static int glock_locks_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct glock_locks_iter *it = m->private;

	rhashtable_walk_exit(&it->hti);
	return seq_release_private(inode, file);
}

static const struct file_operations glock_locks_fops = {
	.owner = THIS_MODULE,
	.open = glock_locks_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = glock_locks_release,
};

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
DEFINE_SEQ_ATTRIBUTE(glock_owners);

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
		sum.dd_truncated += READ_ONCE(s->dd_truncated);
		sum.denials += READ_ONCE(s->denials);
		sum.quota_refusals += READ_ONCE(s->quota_refusals);
	}
	glock_marks_stats(&nmarks, &dropped);
	mutex_lock(&glock_owners_lock);
	nowners = glock_nowners;
	mutex_unlock(&glock_owners_lock);

	seq_printf(m, "stats locks=%lld owners=%u marks=%u marks_dropped=%llu acquired=%llu contended=%llu timeouts=%llu deadlocks=%llu abandons=%llu deadlock_search_truncated=%llu rules=%u denials=%llu quota_refusals=%llu\n",
		   glock_nobjs_counted(), nowners, nmarks, dropped,
		   sum.acquired, sum.contended, sum.timeouts, sum.deadlocks,
		   sum.abandons, sum.dd_truncated, glock_rules_count(),
		   sum.denials, sum.quota_refusals);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(glock_stats);

static int glock_rules_file_show(struct seq_file *m, void *v)
{
	glock_rules_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(glock_rules_file);

void glock_debugfs_init(void)
{
	glock_debugfs_dir = debugfs_create_dir("glock", NULL);
	debugfs_create_file("locks", 0400, glock_debugfs_dir, NULL,
			    &glock_locks_fops);
	debugfs_create_file("owners", 0400, glock_debugfs_dir, NULL,
			    &glock_owners_fops);
	debugfs_create_file("stats", 0400, glock_debugfs_dir, NULL,
			    &glock_stats_fops);
	debugfs_create_file("rules", 0400, glock_debugfs_dir, NULL,
			    &glock_rules_file_fops);
}

void glock_debugfs_exit(void)
{
	debugfs_remove_recursive(glock_debugfs_dir);
}
