// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock debugfs: /sys/kernel/debug/glock/{locks,owners,stats}.
 *
 * One record per line: a type word, then key=value pairs separated by
 * single spaces; durations in nanoseconds under *_ns keys. Names never need
 * quoting; a comm's bytes outside 0x21..0x7e print as '_'.
 *
 * Locking: "locks" takes each bucket lock in turn while it prints that
 * bucket; "owners" holds glock_owners_lock and each owner's lock in turn
 * (a ref's counts change under its bucket lock, so they are read once).
 */

#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>

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
		if (!ref->depth)
			continue;
		seq_printf(m, "holder lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s depth=%u held_ns=%llu\n",
			   obj->name, obj->ns_inum, ref->owner->id, glock_kind(ref->owner),
			   pid_nr(ref->pid), glock_word(word, ref->comm),
			   glock_mode_name(ref->mode), ref->depth,
			   coarse - ref->since_ns);
	}
	list_for_each_entry(w, &obj->waiters, node)
		seq_printf(m, "waiter lock=%s ipcns=%u owner=%llu kind=%s pid=%d comm=%s mode=%s waited_ns=%llu\n",
			   obj->name, obj->ns_inum, w->ref->owner->id,
			   glock_kind(w->ref->owner), w->pid,
			   glock_word(word, w->comm), glock_mode_name(w->mode),
			   now - w->since_ns);
}

static int glock_locks_show(struct seq_file *m, void *v)
{
	unsigned int i, n = glock_table_size();
	struct glock_bucket *b;
	struct glock_obj *obj;

	for (i = 0; i < n; i++) {
		b = glock_table_bucket(i);
		if (hlist_empty(&b->objs))
			continue;
		spin_lock(&b->lock);
		hlist_for_each_entry(obj, &b->objs, hnode)
			glock_show_obj(m, obj, ktime_get_ns());
		spin_unlock(&b->lock);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(glock_locks);

static int glock_owners_show(struct seq_file *m, void *v)
{
	char word[GLOCK_COMM_LEN];
	struct glock_owner *owner;
	struct glock_ref *ref;
	unsigned int held, waits;

	mutex_lock(&glock_owners_lock);
	list_for_each_entry(owner, &glock_owners, node) {
		held = 0;
		waits = 0;
		spin_lock(&owner->lock);
		list_for_each_entry(ref, &owner->refs, owner_node) {
			held += !!READ_ONCE(ref->depth);
			waits += READ_ONCE(ref->nwait);
		}
		spin_unlock(&owner->lock);
		seq_printf(m, "owner id=%llu kind=%s pid=%d comm=%s ipcns=%u locks=%u waits=%u\n",
			   owner->id, glock_kind(owner), owner->pid,
			   glock_word(word, owner->comm), owner->ns_inum, held,
			   waits);
	}
	mutex_unlock(&glock_owners_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(glock_owners);

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
	}
	glock_marks_stats(&nmarks, &dropped);
	mutex_lock(&glock_owners_lock);
	nowners = glock_nowners;
	mutex_unlock(&glock_owners_lock);

	seq_printf(m, "stats locks=%lld owners=%u marks=%u marks_dropped=%llu acquired=%llu contended=%llu timeouts=%llu deadlocks=%llu abandons=%llu deadlock_search_truncated=%llu\n",
		   percpu_counter_sum(&glock_nobjs), nowners, nmarks, dropped,
		   sum.acquired, sum.contended, sum.timeouts, sum.deadlocks,
		   sum.abandons, sum.dd_truncated);
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
