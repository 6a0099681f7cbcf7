// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock access rules: who may LOCK or ask STATE of which names, per IPC
 * namespace, read like a file's mode against the opener's credentials.
 *
 * Locking: glock_rules_lock (mutex) serialises SET_RULES and GET_RULES and
 * protects the hash of per-namespace entries against additions and
 * removals. Every LOCK and STATE by name finds its entry and table under
 * RCU. A table never changes in place: SET_RULES builds a new one, swaps
 * the pointer and frees the old one after a grace period.
 *
 * An entry references its namespace, so a dead namespace's table cannot be
 * mistaken for a new one's. Entries whose namespace has no other user left
 * are dropped by the next SET_RULES, and at unload.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>

#include "internal.h"

static_assert(sizeof(struct glock_rule) == 64);
static_assert(sizeof(struct glock_rules) == 64);

/* One rule, as checked. */
struct glock_krule {
	kuid_t uid;
	kgid_t gid;
	u16 mode;
	bool prefix;		/* the pattern ended in '*' */
	u8 len;			/* bytes to compare (without the '*') */
	const char *pattern;	/* in the table's byte area */
};

/* An immutable table: the rules, then their pattern bytes. */
struct glock_rtable {
	struct rcu_head rcu;
	unsigned int count;
	struct glock_krule rule[];
};

/* One IPC namespace's table. */
struct glock_nsrules {
	struct hlist_node node;		/* glock_rules_hash; RCU readers */
	struct ipc_namespace *ns;	/* referenced */
	struct glock_rtable __rcu *table;
	struct rcu_head rcu;
};

static DEFINE_MUTEX(glock_rules_lock);
static DEFINE_HASHTABLE(glock_rules_hash, 6);	/* glock_rules_lock, RCU */
static unsigned int glock_nrules;	/* all tables' rules; glock_rules_lock */

unsigned int glock_max_rules = 256;

static void glock_rtable_free_rcu(struct rcu_head *head)
{
	kvfree(container_of(head, struct glock_rtable, rcu));
}

static void glock_nsrules_free_rcu(struct rcu_head *head)
{
	kfree(container_of(head, struct glock_nsrules, rcu));
}

static struct glock_nsrules *glock_nsrules_find(struct ipc_namespace *ns)
{
	struct glock_nsrules *e;

	hash_for_each_possible_rcu(glock_rules_hash, e, node, (unsigned long)ns)
		if (e->ns == ns)
			return e;
	return NULL;
}

static const struct glock_krule *glock_rule_match(const struct glock_rtable *t,
						  const char *name, u32 len)
{
	const struct glock_krule *r;
	unsigned int i;

	for (i = 0; i < t->count; i++) {
		r = &t->rule[i];
		if (r->prefix ? len >= r->len : len == r->len)
			if (!memcmp(name, r->pattern, r->len))
				return r;
	}
	return NULL;
}

/* Is @gid among @cred's supplementary groups (sorted, as set_groups keeps)? */
static bool glock_cred_in_group(const struct cred *cred, kgid_t gid)
{
	const struct group_info *gi = cred->group_info;
	unsigned int lo = 0, hi = gi->ngroups, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (gid_gt(gid, gi->gid[mid]))
			lo = mid + 1;
		else if (gid_lt(gid, gi->gid[mid]))
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The rwx bits of @r that apply to @cred, as for a file. */
static unsigned int glock_rule_bits(const struct glock_krule *r,
				    const struct cred *cred)
{
	if (uid_eq(cred->fsuid, r->uid))
		return (r->mode >> 6) & 7;
	if (gid_eq(cred->fsgid, r->gid) || glock_cred_in_group(cred, r->gid))
		return (r->mode >> 3) & 7;
	return r->mode & 7;
}

/**
 * glock_rules_check() - may @owner do @want with @name?
 * @owner: the asking owner
 * @name: name bytes (validated)
 * @len: length of @name
 * @want: GLOCK_RULE_READ (STATE) or GLOCK_RULE_WRITE (LOCK)
 *
 * Kernel owners and openers with CAP_DAC_OVERRIDE over the namespace's
 * user namespace are never refused.
 *
 * Return: 0, or -EACCES.
 */
int glock_rules_check(struct glock_owner *owner, const char *name, u32 len,
		      unsigned int want)
{
	const struct glock_krule *r = NULL;
	const struct glock_rtable *t;
	struct glock_nsrules *e;
	bool ok = true;

	if (owner->kernel || owner->rules_bypass ||
	    !READ_ONCE(glock_nrules))
		return 0;
	rcu_read_lock();
	e = glock_nsrules_find(owner->ns);
	t = e ? rcu_dereference(e->table) : NULL;
	if (t)
		r = glock_rule_match(t, name, len);
	if (r)
		ok = glock_rule_bits(r, owner->cred) & want;
	rcu_read_unlock();
	if (ok)
		return 0;
	this_cpu_inc(glock_stats.denials);
	return -EACCES;
}

/* Check one user rule and copy its pattern to @buf; 0 or -errno. */
static int glock_rule_in(const struct glock_rule *ur, struct user_namespace *uns,
			 struct glock_krule *r, char *buf)
{
	if (ur->flags || memchr_inv(ur->padding, 0, sizeof(ur->padding)) ||
	    !ur->pattern_len || ur->pattern_len > GLOCK_NAME_MAX ||
	    ur->mode > 0777 || (ur->mode & 0111))
		return -EINVAL;
	if (copy_from_user(buf, u64_to_user_ptr(ur->pattern), ur->pattern_len))
		return -EFAULT;
	if (glock_check_name(buf, ur->pattern_len))
		return -EINVAL;
	r->uid = make_kuid(uns, ur->uid);
	r->gid = make_kgid(uns, ur->gid);
	if (!uid_valid(r->uid) || !gid_valid(r->gid))
		return -EINVAL;
	r->mode = ur->mode;
	r->prefix = buf[ur->pattern_len - 1] == '*';
	r->len = ur->pattern_len - r->prefix;
	r->pattern = buf;
	return 0;
}

/* Build a table from @count user rules at @urules. */
static struct glock_rtable *glock_rtable_build(const struct glock_rule __user *urules,
					       u32 count,
					       struct user_namespace *uns)
{
	struct glock_rtable *t;
	struct glock_rule ur;
	char *bytes;
	u32 i;
	int ret;

	t = kvzalloc(struct_size(t, rule, count) + (size_t)count * GLOCK_NAME_MAX,
		     GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	bytes = (char *)&t->rule[count];
	for (i = 0; i < count; i++) {
		if (copy_from_user(&ur, &urules[i], sizeof(ur))) {
			ret = -EFAULT;
			goto err_free;
		}
		ret = glock_rule_in(&ur, uns, &t->rule[i], bytes);
		if (ret)
			goto err_free;
		bytes += ur.pattern_len;
	}
	t->count = count;
	return t;

err_free:
	kvfree(t);
	return ERR_PTR(ret);
}

/* Drop entries whose namespace only this table still keeps alive. */
static void glock_rules_reap(void)
{
	struct glock_nsrules *e;
	struct hlist_node *tmp;
	struct glock_rtable *t;
	int bkt;

	lockdep_assert_held(&glock_rules_lock);
	hash_for_each_safe(glock_rules_hash, bkt, tmp, e, node) {
		if (refcount_read(&e->ns->ns.count) > 1)
			continue;
		t = rcu_dereference_protected(e->table,
					      lockdep_is_held(&glock_rules_lock));
		WRITE_ONCE(glock_nrules, glock_nrules - (t ? t->count : 0));
		hash_del_rcu(&e->node);
		if (t)
			call_rcu(&t->rcu, glock_rtable_free_rcu);
		glock_put_ipc_ns(e->ns);
		call_rcu(&e->rcu, glock_nsrules_free_rcu);
	}
}

/**
 * glock_rules_set() - GLOCK_IOC_SET_RULES: replace the file's namespace's table
 * @file: the open /dev/glock (its opener's capability and user namespace)
 * @owner: the file's owner (its IPC namespace)
 * @uarg: struct glock_rules in user memory
 *
 * Return: 0; -EPERM without CAP_SYS_ADMIN over the user namespace owning
 * the IPC namespace; -ENOSPC beyond max_rules; -EINVAL, -EFAULT, -ENOMEM.
 * On any error the table is unchanged.
 */
int glock_rules_set(struct file *file, struct glock_owner *owner,
		    struct glock_rules __user *uarg)
{
	struct glock_rtable *t = NULL, *old;
	struct glock_nsrules *e, *fresh = NULL;
	struct glock_rules args;
	int ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || memchr_inv(args.padding, 0, sizeof(args.padding)))
		return -EINVAL;
	if (!file_ns_capable(file, owner->ns->user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	if (args.count > READ_ONCE(glock_max_rules))
		return -ENOSPC;
	if (args.count) {
		t = glock_rtable_build(u64_to_user_ptr(args.rules), args.count,
				       file->f_cred->user_ns);
		if (IS_ERR(t))
			return PTR_ERR(t);
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
		if (!fresh) {
			kvfree(t);
			return -ENOMEM;
		}
	}

	mutex_lock(&glock_rules_lock);
	glock_rules_reap();
	e = glock_nsrules_find(owner->ns);
	if (!e && t) {
		e = fresh;
		fresh = NULL;
		e->ns = get_ipc_ns(owner->ns);
		hash_add_rcu(glock_rules_hash, &e->node, (unsigned long)e->ns);
	}
	if (e) {
		old = rcu_replace_pointer(e->table, t,
					  lockdep_is_held(&glock_rules_lock));
		WRITE_ONCE(glock_nrules, glock_nrules + (t ? t->count : 0) -
					 (old ? old->count : 0));
		if (old)
			call_rcu(&old->rcu, glock_rtable_free_rcu);
		if (!t) {
			hash_del_rcu(&e->node);
			glock_put_ipc_ns(e->ns);
			call_rcu(&e->rcu, glock_nsrules_free_rcu);
		}
	}
	mutex_unlock(&glock_rules_lock);
	kfree(fresh);
	return ret;
}

/* Write rule @r to the user's element @ur (pattern into its buffer). */
static int glock_rule_out(struct glock_rule __user *ur,
			  const struct glock_krule *r,
			  struct user_namespace *uns)
{
	struct glock_rule out;
	u32 len = r->len + r->prefix;

	if (copy_from_user(&out, ur, sizeof(out)))
		return -EFAULT;
	if (copy_to_user(u64_to_user_ptr(out.pattern), r->pattern, len))
		return -EFAULT;
	out.pattern_len = len;
	out.flags = 0;
	memset(out.padding, 0, sizeof(out.padding));
	out.uid = from_kuid_munged(uns, r->uid);
	out.gid = from_kgid_munged(uns, r->gid);
	out.mode = r->mode;
	return copy_to_user(ur, &out, sizeof(out)) ? -EFAULT : 0;
}

/**
 * glock_rules_get() - GLOCK_IOC_GET_RULES: read the file's namespace's table
 * @file: the open /dev/glock (its opener's user namespace)
 * @owner: the file's owner (its IPC namespace)
 * @uarg: struct glock_rules in user memory; @count is the array's capacity
 *
 * Fills what fits and reports the whole table's size in @count.
 *
 * Return: 0, -EINVAL, -EFAULT.
 */
int glock_rules_get(struct file *file, struct glock_owner *owner,
		    struct glock_rules __user *uarg)
{
	struct glock_rule __user *urules;
	const struct glock_rtable *t;
	struct glock_nsrules *e;
	struct glock_rules args;
	u32 i, n;
	int ret = 0;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || memchr_inv(args.padding, 0, sizeof(args.padding)))
		return -EINVAL;
	urules = u64_to_user_ptr(args.rules);

	/* Tables change only under this mutex: no RCU across the copies. */
	mutex_lock(&glock_rules_lock);
	e = glock_nsrules_find(owner->ns);
	t = e ? rcu_dereference_protected(e->table,
					  lockdep_is_held(&glock_rules_lock)) :
		NULL;
	n = t ? t->count : 0;
	for (i = 0; i < min(n, args.count) && !ret; i++)
		ret = glock_rule_out(&urules[i], &t->rule[i],
				     file->f_cred->user_ns);
	mutex_unlock(&glock_rules_lock);
	if (ret)
		return ret;
	return put_user(n, &uarg->count);
}

/**
 * glock_rules_show() - debugfs: one "rule" record per rule, namespace by
 *	namespace
 * @m: the seq_file
 */
void glock_rules_show(struct seq_file *m)
{
	const struct glock_rtable *t;
	struct glock_nsrules *e;
	unsigned int i;
	int bkt;

	mutex_lock(&glock_rules_lock);
	hash_for_each(glock_rules_hash, bkt, e, node) {
		t = rcu_dereference_protected(e->table,
					      lockdep_is_held(&glock_rules_lock));
		for (i = 0; t && i < t->count; i++)
			seq_printf(m, "rule ipcns=%u index=%u pattern=%.*s%s uid=%u gid=%u mode=%04o\n",
				   e->ns->ns.inum, i, t->rule[i].len,
				   t->rule[i].pattern,
				   t->rule[i].prefix ? "*" : "",
				   from_kuid(&init_user_ns, t->rule[i].uid),
				   from_kgid(&init_user_ns, t->rule[i].gid),
				   t->rule[i].mode);
	}
	mutex_unlock(&glock_rules_lock);
}

/**
 * glock_rules_count() - the number of rules in all tables, for stats
 *
 * Return: the count.
 */
unsigned int glock_rules_count(void)
{
	return READ_ONCE(glock_nrules);
}

/**
 * glock_rules_exit() - drop every table at unload
 */
void glock_rules_exit(void)
{
	struct glock_nsrules *e;
	struct hlist_node *tmp;
	struct glock_rtable *t;
	int bkt;

	mutex_lock(&glock_rules_lock);
	hash_for_each_safe(glock_rules_hash, bkt, tmp, e, node) {
		t = rcu_dereference_protected(e->table,
					      lockdep_is_held(&glock_rules_lock));
		hash_del_rcu(&e->node);
		kvfree(t);
		glock_put_ipc_ns(e->ns);
		kfree(e);
	}
	WRITE_ONCE(glock_nrules, 0);
	mutex_unlock(&glock_rules_lock);
	/* Tables and entries freed by earlier calls. */
	rcu_barrier();
}
