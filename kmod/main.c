// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock: daemon-free named locks owned by open files of /dev/glock.
 *
 * This file is the user-space face: module parameters, the misc device, and
 * one small handler per ioctl that copies and checks the arguments, then
 * calls into lock.c. The private data of an open file is its owner.
 *
 * Locking: none of its own; see internal.h for the order of the core's.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ipc_namespace.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "cluster.h"
#include "internal.h"

static_assert(sizeof(struct glock_lock) == 64);
static_assert(sizeof(struct glock_state) == 64);

/*
 * Every parameter is writable at run time and checked on write: a value
 * outside [min, max] is refused with EINVAL and the old one stays.
 */
struct glock_param_range {
	unsigned int *var;
	unsigned int min;
	unsigned int max;
};

static int glock_param_set(const char *val, const struct kernel_param *kp)
{
	const struct glock_param_range *r = kp->arg;
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < r->min || v > r->max)
		return -EINVAL;
	WRITE_ONCE(*r->var, v);
	return 0;
}

static int glock_param_get(char *buf, const struct kernel_param *kp)
{
	const struct glock_param_range *r = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*r->var));
}

static const struct kernel_param_ops glock_param_ops = {
	.set = glock_param_set,
	.get = glock_param_get,
};

unsigned int glock_max_locks_per_owner = 1024;
static const struct glock_param_range glock_range_max_locks_per_owner = {
	.var = &glock_max_locks_per_owner, .min = 1, .max = INT_MAX,
};
module_param_cb(max_locks_per_owner, &glock_param_ops,
		(void *)&glock_range_max_locks_per_owner, 0644);
MODULE_PARM_DESC(max_locks_per_owner, "Locks one owner may hold or wait for at once (ENOLCK beyond), 1..2^31-1");

unsigned int glock_max_locks = 1000000;
static const struct glock_param_range glock_range_max_locks = {
	.var = &glock_max_locks, .min = 1, .max = INT_MAX,
};
module_param_cb(max_locks, &glock_param_ops,
		(void *)&glock_range_max_locks, 0644);
MODULE_PARM_DESC(max_locks, "Lock objects in existence (ENOLCK beyond), 1..2^31-1");

unsigned int glock_max_abandoned_marks = 1024;
static const struct glock_param_range glock_range_max_abandoned_marks = {
	.var = &glock_max_abandoned_marks, .min = 0, .max = 1000000,
};
module_param_cb(max_abandoned_marks, &glock_param_ops,
		(void *)&glock_range_max_abandoned_marks, 0644);
MODULE_PARM_DESC(max_abandoned_marks, "Abandoned marks kept on idle locks (oldest dropped beyond), 0..1000000");

unsigned int glock_max_depth = 65535;
static const struct glock_param_range glock_range_max_depth = {
	.var = &glock_max_depth, .min = 1, .max = INT_MAX,
};
module_param_cb(max_depth, &glock_param_ops,
		(void *)&glock_range_max_depth, 0644);
MODULE_PARM_DESC(max_depth, "Recursion depth of one owner on one lock (EOVERFLOW beyond), 1..2^31-1");

unsigned int glock_max_deadlock_steps = 4096;
static const struct glock_param_range glock_range_max_deadlock_steps = {
	.var = &glock_max_deadlock_steps, .min = 1, .max = 1000000,
};
module_param_cb(max_deadlock_steps, &glock_param_ops,
		(void *)&glock_range_max_deadlock_steps, 0644);
MODULE_PARM_DESC(max_deadlock_steps, "Wait-for edges one cycle search follows before it lets the request wait, 1..1000000");

unsigned int glock_spin_us = 100;
static const struct glock_param_range glock_range_spin_us = {
	.var = &glock_spin_us, .min = 0, .max = 1000,
};
module_param_cb(spin_us, &glock_param_ops,
		(void *)&glock_range_spin_us, 0644);
MODULE_PARM_DESC(spin_us, "Longest a queue's head spins for its hand-off while the holder runs (0: always sleep), 0..1000");

static const struct glock_param_range glock_range_max_locks_per_user = {
	.var = &glock_max_locks_per_user, .min = 1, .max = INT_MAX,
};
module_param_cb(max_locks_per_user, &glock_param_ops,
		(void *)&glock_range_max_locks_per_user, 0644);
MODULE_PARM_DESC(max_locks_per_user, "Locks the user owners of one uid may hold or wait for at once (ENOLCK beyond), 1..2^31-1");

static const struct glock_param_range glock_range_max_rules = {
	.var = &glock_max_rules, .min = 0, .max = 65536,
};
module_param_cb(max_rules, &glock_param_ops,
		(void *)&glock_range_max_rules, 0644);
MODULE_PARM_DESC(max_rules, "Rules one IPC namespace's table may hold (ENOSPC beyond), 0..65536");

/*
 * The request paths read and write user memory in a few explicit user
 * accesses of plain word moves, not copy_from_user()/copy_to_user(): those
 * are out-of-line calls with hardening checks around a string move, one
 * access each, and LOCK and UNLOCK made six of them per call (make bench,
 * section 1b).
 */

/*
 * Read a LOCK or UNLOCK request by words and store its two output fields
 * back as read (they are ignored on input, so nobody sees the store): a
 * struct whose outputs cannot be written fails with EFAULT here, before
 * anything changes.
 */
static int glock_get_lock_args(struct glock_lock *args,
			       struct glock_lock __user *uarg)
{
	const u64 __user *src = (const u64 __user *)uarg;
	u64 *dst = (u64 *)args;
	unsigned int i;

	BUILD_BUG_ON(sizeof(*args) % sizeof(u64));
	if (!user_access_begin(uarg, sizeof(*uarg)))
		return -EFAULT;
	for (i = 0; i < sizeof(*args) / sizeof(u64); i++)
		unsafe_get_user(dst[i], &src[i], efault);
	unsafe_put_user(args->result, &uarg->result, efault);
	unsafe_put_user(args->depth, &uarg->depth, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Copy in the name of a request, by words, the last one overlapping the
 * one before (no byte loop but for names under 8 bytes); the caller
 * checks its bytes.
 */
static int glock_get_name(char *buf, u64 uname, u32 len)
{
	const char __user *src = u64_to_user_ptr(uname);
	u32 i;
	u64 word;
	u8 byte;

	if (!len || len > GLOCK_NAME_MAX)
		return -EINVAL;
	if (!user_access_begin(src, len))
		return -EFAULT;
	if (len < sizeof(word)) {
		for (i = 0; i < len; i++) {
			unsafe_get_user(byte, (const u8 __user *)(src + i),
					efault);
			buf[i] = byte;
		}
		goto done;
	}
	for (i = 0; i < len - sizeof(word); i += sizeof(word)) {
		unsafe_get_user(word, (const u64 __user *)(src + i), efault);
		memcpy(buf + i, &word, sizeof(word));
	}
	i = len - sizeof(word);
	unsafe_get_user(word, (const u64 __user *)(src + i), efault);
	memcpy(buf + i, &word, sizeof(word));
done:
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Padding words are all zero; cheaper than memchr_inv() for 7 words. */
static bool glock_zero_padding(const u32 *padding, size_t n)
{
	u32 any = 0;

	while (n--)
		any |= padding[n];
	return !any;
}

/* The outputs of LOCK and UNLOCK. */
static int glock_put_lock_out(struct glock_lock __user *uarg, u32 result,
			      u32 depth)
{
	if (!user_access_begin(&uarg->result, 2 * sizeof(u32)))
		return -EFAULT;
	unsafe_put_user(result, &uarg->result, efault);
	unsafe_put_user(depth, &uarg->depth, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * LOCK and UNLOCK keep their copies of the request out of the kernel's
 * stack zeroing (INIT_STACK_ALL_ZERO, on in Debian's kernels): every byte
 * they read was copied in first, and clearing 320 bytes cost 4-7% of an
 * UNLOCK that fails (make bench, section 1b).
 */
static int glock_ioctl_lock(struct glock_owner *owner,
			    struct glock_lock __user *uarg)
{
	char name[GLOCK_NAME_MAX] __uninitialized;
	struct glock_lock args __uninitialized;
	u32 result, depth;
	int ret;

	ret = glock_get_lock_args(&args, uarg);
	if (ret)
		return ret;
	if (!glock_zero_padding(args.padding, ARRAY_SIZE(args.padding)))
		return -EINVAL;
	ret = glock_get_name(name, args.name, args.name_len) ?:
	      glock_check_args(name, args.name_len, args.mode, args.flags) ?:
	      glock_rules_check(owner, name, args.name_len, GLOCK_RULE_WRITE);
	if (ret)
		return ret;

	ret = (glock_cluster_name(name, args.name_len) ? glock_cluster_lock :
	       glock_acquire)(owner, name, args.name_len, args.mode,
			      args.timeout_ns, args.flags, &result, &depth);
	if (ret)
		return ret;
	ret = glock_put_lock_out(uarg, result, depth);
	if (ret && glock_cluster_name(name, args.name_len))
		glock_cluster_unlock(owner, name, args.name_len, 0, &depth);
	else if (ret)	/* The page went away under us: undo, mark and all. */
		glock_unacquire(owner, name, args.name_len, result);
	return ret;
}

static int glock_ioctl_unlock(struct glock_owner *owner,
			      struct glock_lock __user *uarg)
{
	char name[GLOCK_NAME_MAX] __uninitialized;
	struct glock_lock args __uninitialized;
	u32 depth = 0;
	int ret;

	ret = glock_get_lock_args(&args, uarg);
	if (ret)
		return ret;
	if (!glock_zero_padding(args.padding, ARRAY_SIZE(args.padding)) ||
	    args.flags || args.timeout_ns ||
	    (args.mode && args.mode != GLOCK_EXCLUSIVE &&
	     args.mode != GLOCK_SHARED))
		return -EINVAL;
	ret = glock_get_name(name, args.name, args.name_len) ?:
	      glock_check_name(name, args.name_len);
	if (ret)
		return ret;

	ret = (glock_cluster_name(name, args.name_len) ? glock_cluster_unlock :
	       glock_release)(owner, name, args.name_len, args.mode, &depth);
	if (ret)
		return ret;
	return glock_put_lock_out(uarg, 0, depth);
}

static int glock_ioctl_state(struct glock_owner *owner,
			     struct glock_state __user *uarg)
{
	char name[GLOCK_NAME_MAX];
	struct glock_snapshot snap;
	struct glock_state args;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || memchr_inv(args.padding, 0, sizeof(args.padding)))
		return -EINVAL;
	ret = glock_get_name(name, args.name, args.name_len) ?:
	      glock_check_name(name, args.name_len) ?:
	      glock_rules_check(owner, name, args.name_len, GLOCK_RULE_READ);
	if (ret)
		return ret;
	if (glock_cluster_name(name, args.name_len))
		return glock_cluster_state(owner, name, args.name_len, &args) ?:
		       (copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0);

	glock_snapshot(owner, name, args.name_len, &snap);
	args.mode = snap.st.mode;
	args.holders = snap.st.holders;
	args.waiters = snap.st.waiters;
	args.depth = snap.st.depth;
	args.result = snap.st.result;
	/* 0 when the holder's process is not visible from here. */
	args.owner_pid = snap.holder ? pid_vnr(snap.holder) : 0;
	put_pid(snap.holder);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

static long glock_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct glock_owner *owner = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GLOCK_IOC_LOCK:
		return glock_ioctl_lock(owner, argp);
	case GLOCK_IOC_UNLOCK:
		return glock_ioctl_unlock(owner, argp);
	case GLOCK_IOC_STATE:
		return glock_ioctl_state(owner, argp);
	case GLOCK_IOC_SET_RULES:
		return glock_rules_set(file, owner, argp);
	case GLOCK_IOC_GET_RULES:
		return glock_rules_get(file, owner, argp);
	case GLOCK_IOC_GET_HANDLE:
		return glock_ioctl_get_handle(owner, argp);
	case GLOCK_IOC_PUT_HANDLE:
		return glock_ioctl_put_handle(owner, arg);
	case GLOCK_IOC_HLOCK:
		return glock_ioctl_hlock(owner, arg);
	case GLOCK_IOC_HUNLOCK:
		return glock_ioctl_hunlock(owner, arg);
	default:
		return -ENOTTY;
	}
}

/*
 * Rights are fixed at open, like the namespace: the opener's credentials
 * (their classes for the rules, their real uid for the quota) and whether
 * they may bypass rules.
 */
static int glock_open(struct inode *inode, struct file *file)
{
	struct glock_owner *owner = glock_owner_alloc(false, NULL);

	if (!owner)
		return -ENOMEM;
	owner->user = glock_user_get(file->f_cred->uid);
	if (!owner->user) {
		glock_owner_free(owner);
		return -ENOMEM;
	}
	owner->cred = get_cred(file->f_cred);
	owner->rules_bypass = file_ns_capable(file, owner->ns->user_ns,
					      CAP_DAC_OVERRIDE);
	file->private_data = owner;
	return nonseekable_open(inode, file);
}

/* The last close of the file description: the owner ends. */
static int glock_release_file(struct inode *inode, struct file *file)
{
	glock_owner_free(file->private_data);
	return 0;
}

static const struct file_operations glock_fops = {
	.owner = THIS_MODULE,
	.open = glock_open,
	.release = glock_release_file,
	.unlocked_ioctl = glock_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	/* No .llseek: lseek() fails with ESPIPE (see compat.h). */
};

static struct miscdevice glock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "glock",
	.fops = &glock_fops,
	.mode = 0666,
};

static int __init glock_init(void)
{
	int ret;

	ret = glock_table_init();
	if (ret)
		return ret;
	glock_debugfs_init();
	ret = misc_register(&glock_misc);
	if (ret) {
		glock_debugfs_exit();
		glock_table_exit();
	}
	return ret;
}

static void __exit glock_exit(void)
{
	misc_deregister(&glock_misc);
	glock_debugfs_exit();
	glock_table_exit();
	glock_rules_exit();
}

module_init(glock_init);
module_exit(glock_exit);

MODULE_DESCRIPTION("Named locks owned by open files, shared with kernel drivers");
MODULE_LICENSE("GPL");
