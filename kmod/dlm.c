// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock_dlm: glock's "cluster:" names on the kernel's distributed lock
 * manager (fs/dlm), with membership by corosync and dlm_controld.
 *
 * One lockspace (parameter lockspace, default "glock") is joined by a
 * worker, never in init or a syscall, and joined again with backoff while
 * dlm_controld is not there. Until it is up (and while it recovers) every
 * request fails with -ENOTCONN and changes nothing.
 *
 * One DLM lock per held glock (owner x name). Each acquisition:
 *   1. NL with VALBLK|EXPEDITE (granted at once even behind queued
 *      conversions, which a plain NL request waits for; reads the LVB),
 *   2. convert to EX (exclusive) or PR (shared) with CONVERT|VALBLK, and
 *      NOQUEUE for a try; while it waits it is on the convert queue, so
 *      DLM recovery keeps the LVB,
 *   3. exclusive only: convert EX -> PW with VALBLK, which writes
 *      {magic, HELD, nodeid, pid, seq} and still excludes PR, PW and EX,
 *   4. release: unlock with VALBLK, writing FREE; when the owner ended
 *      holding it exclusive, convert to NL with VALBLK writing ABANDONED
 *      and keep that NL lock (a "mark", up to max_marks per node, oldest
 *      dropped first; dropped too when an owner here takes the name
 *      again): DLM frees the LVB of a resource nobody has a lock on, so
 *      without it the notice would be lost when nobody else was waiting.
 * A grant reports GLOCK_R_ABANDONED when DLM says the LVB is not valid
 * (its holder's node died) or the LVB says HELD or ABANDONED. Shared
 * holders cannot write the LVB: the notice stays until an exclusive holder
 * takes the lock and releases it. The hole: a node dies holding the lock
 * while no surviving node has any lock on the resource (none waiting, no
 * mark): DLM keeps no LVB for it, and the next holder sees a never-used
 * lock (no notice).
 *
 * No syscall calls dlm_lock() or dlm_unlock(): they may sleep
 * uninterruptibly while the lockspace recovers. Each lock has a work item
 * that issues its DLM requests; the AST moves the lock's state machine on.
 * The caller sleeps interruptibly on a completion. On a timeout or a
 * signal it gives the lock to the state machine ("abort"), which cancels
 * a waiting conversion and unlocks whatever DLM still holds. A grant that
 * wins the race with the cancel is undone the same way (the LVB is written
 * back as it was read): the caller gets -ETIMEDOUT or -EINTR and never
 * holds a lock it was told it did not get.
 *
 * Recursion and the per-owner limits are local: a second LOCK of a held
 * name in the same mode only counts depth, another mode gives -EDEADLK.
 * There is no deadlock detection across names or nodes.
 *
 * DLM resource names: "g:" + the name after "cluster:" when it fits in
 * DLM_RESNAME_MAXLEN, else "h:" + its SHA-256. Cluster names are the same
 * in every IPC namespace: the cluster is their scope.
 *
 * Locking (outermost first):
 *   gdlm_owner.mutex   the owner's list of locks and their owner-side
 *                      fields (mode, depth, onode)
 *     gdlm_lock.lock   (spinlock) the DLM-side state of one lock: step,
 *                      next, abort, done, status, result, held, lvb
 *       gdlm.all_lock  (spinlock) the list of live locks (debugfs, STATE),
 *                      the list of marks and their count
 *   gdlm.ls_lock       (spinlock) lockspace state, members, generation;
 *                      taken alone
 * ASTs run in DLM's callback context and take only gdlm_lock.lock. A lock
 * is freed when both its owner-side and its DLM-side references are gone;
 * the DLM side ends with the last AST, so rmmod, after all owners have
 * ended (each keeps the module pinned), waits for the live count to drop
 * to zero before it releases the lockspace.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/sha2.h>
#include <linux/debugfs.h>
#include <linux/dlm.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "cluster.h"
#include "compat.h"

#define GDLM_LVB_LEN	32
#define GDLM_LVB_MAGIC	0x474c4b31	/* "GLK1" */
#define GDLM_MAX_MEMBERS 32

enum { GDLM_LVB_FREE = 1, GDLM_LVB_HELD, GDLM_LVB_ABANDONED };

struct gdlm_lvb {
	__le32 magic;
	__le32 state;
	__le32 nodeid;
	__le32 pid;
	__le64 seq;
	__le64 reserved;
};

static_assert(sizeof(struct gdlm_lvb) == GDLM_LVB_LEN);

enum gdlm_ls_state {
	GDLM_DOWN, GDLM_JOINING, GDLM_UP, GDLM_RECOVERING, GDLM_LEAVING,
};

static const char *const gdlm_state_names[] = {
	[GDLM_DOWN] = "down", [GDLM_JOINING] = "joining", [GDLM_UP] = "up",
	[GDLM_RECOVERING] = "recovering", [GDLM_LEAVING] = "leaving",
};

static char *lockspace = "glock";
module_param(lockspace, charp, 0444);
MODULE_PARM_DESC(lockspace, "DLM lockspace of the cluster: names (default glock)");

static char *cluster = "";
module_param(cluster, charp, 0444);
MODULE_PARM_DESC(cluster, "corosync cluster name to check against (default: any)");

static unsigned int max_locks_per_owner = 1024;
module_param(max_locks_per_owner, uint, 0644);
MODULE_PARM_DESC(max_locks_per_owner, "cluster: locks one owner may hold or wait for (ENOLCK beyond)");

static unsigned int max_marks = 1024;
module_param(max_marks, uint, 0644);
MODULE_PARM_DESC(max_marks, "NL locks kept to hold abandoned notices in the LVB (oldest dropped beyond)");

static unsigned int max_depth = 65535;
module_param(max_depth, uint, 0644);
MODULE_PARM_DESC(max_depth, "Recursion depth on one cluster: lock (EOVERFLOW beyond)");

static struct {
	spinlock_t ls_lock;		/* the next fields, up to members */
	enum gdlm_ls_state state;
	dlm_lockspace_t *ls;		/* set once joined; stable after */
	u32 generation;
	int nodeid;			/* ours, from recover_done */
	int nmembers;
	int members[GDLM_MAX_MEMBERS];
	int last_failed;		/* the last node recover_slot named */
	unsigned int joins;		/* attempts */
	int join_err;			/* the last attempt's */
	unsigned int recoveries;
	u64 up_ns;			/* when the join succeeded */

	struct delayed_work join_work;
	unsigned int backoff_ms;
	struct workqueue_struct *wq;

	spinlock_t all_lock;		/* all, marks, nmarks */
	struct list_head all;
	struct list_head marks;		/* keepers of abandoned notices */
	unsigned int nmarks;
	atomic_t nlive;
	wait_queue_head_t drain;
	atomic64_t seq;
	struct dentry *dir;
} gdlm;

/* What a lock's work item does next (gdlm_lock.next). */
enum gdlm_op { OP_NONE, OP_NL, OP_CVT, OP_MARK, OP_KEEP, OP_UNLOCK };

/* The DLM request in flight (gdlm_lock.step). */
enum gdlm_step {
	STEP_NONE, STEP_NL, STEP_CVT, STEP_MARK, STEP_KEEP, STEP_UNLOCK,
};

struct gdlm_owner {
	struct mutex mutex;		/* locks, nlocks, owner-side fields */
	struct list_head locks;
	unsigned int nlocks;
};

struct gdlm_lock {
	struct kref kref;		/* owner side + DLM side */
	/* Owner side, under owner->mutex. */
	struct list_head onode;
	u32 mode;
	u32 depth;

	/* DLM side, under lock. */
	spinlock_t lock;
	enum gdlm_step step;
	enum gdlm_op next;
	bool cancel;			/* cancel the conversion in flight */
	bool abort;			/* the requester gave up */
	bool done;			/* the requester's answer is ready */
	bool held;			/* granted and handed to the owner */
	bool unlocked;			/* no DLM lock left */
	bool try;
	bool probe;			/* STATE: NL, read the LVB, unlock */
	int status;			/* the answer: 0 or -errno */
	u32 result;			/* GLOCK_R_* for the answer */
	u32 unlock_state;		/* LVB state to write on unlock, 0: as seen */
	struct completion answer;
	struct completion gone;		/* the unlock completed */
	struct dlm_lksb lksb;
	struct gdlm_lvb lvb;		/* lksb.sb_lvbptr */
	struct gdlm_lvb seen;		/* the LVB at the grant */
	bool valnotvalid;
	bool mark;			/* on gdlm.marks (under gdlm.all_lock) */
	struct list_head mnode;		/* gdlm.marks */
	struct delayed_work work;

	/* Fixed at creation. */
	struct list_head anode;		/* gdlm.all, under gdlm.all_lock */
	struct pid *pid;
	char comm[TASK_COMM_LEN];
	u64 since_ns;
	u32 reslen;
	u8 resname[DLM_RESNAME_MAXLEN];
	u32 name_len;
	char name[GLOCK_NAME_MAX + 1];
};

/* ---- lockspace ----------------------------------------------------------- */

static enum gdlm_ls_state gdlm_state(void)
{
	return READ_ONCE(gdlm.state);
}

static void gdlm_recover_prep(void *arg)
{
	spin_lock(&gdlm.ls_lock);
	if (gdlm.state == GDLM_UP)
		gdlm.state = GDLM_RECOVERING;
	gdlm.recoveries++;
	spin_unlock(&gdlm.ls_lock);
}

static void gdlm_recover_slot(void *arg, struct dlm_slot *slot)
{
	pr_notice("%s: node %d (slot %d) failed; its locks are released\n",
		  lockspace, slot->nodeid, slot->slot);
	spin_lock(&gdlm.ls_lock);
	gdlm.last_failed = slot->nodeid;
	spin_unlock(&gdlm.ls_lock);
}

static void gdlm_recover_done(void *arg, struct dlm_slot *slots,
			      int num_slots, int our_slot, u32 generation)
{
	int i;

	spin_lock(&gdlm.ls_lock);
	gdlm.generation = generation;
	gdlm.nmembers = min(num_slots, GDLM_MAX_MEMBERS);
	for (i = 0; i < gdlm.nmembers; i++) {
		gdlm.members[i] = slots[i].nodeid;
		if (slots[i].slot == our_slot)
			gdlm.nodeid = slots[i].nodeid;
	}
	if (gdlm.state == GDLM_RECOVERING)
		gdlm.state = GDLM_UP;
	spin_unlock(&gdlm.ls_lock);
}

static const struct dlm_lockspace_ops gdlm_ls_ops = {
	.recover_prep = gdlm_recover_prep,
	.recover_slot = gdlm_recover_slot,
	.recover_done = gdlm_recover_done,
};

/* Join the lockspace; on failure try again later, up to every 30 s. */
static void gdlm_join_work(struct work_struct *work)
{
	dlm_lockspace_t *ls;
	int ops_result = 0;
	int ret;

	spin_lock(&gdlm.ls_lock);
	if (gdlm.state != GDLM_DOWN) {
		spin_unlock(&gdlm.ls_lock);
		return;
	}
	gdlm.state = GDLM_JOINING;
	gdlm.joins++;
	spin_unlock(&gdlm.ls_lock);

	ret = dlm_new_lockspace(lockspace, *cluster ? cluster : NULL, 0,
				GDLM_LVB_LEN, &gdlm_ls_ops, NULL, &ops_result,
				&ls);
	spin_lock(&gdlm.ls_lock);
	gdlm.join_err = ret;
	if (ret) {
		gdlm.state = GDLM_DOWN;
		spin_unlock(&gdlm.ls_lock);
		if (gdlm.backoff_ms < 1000 || ret != -ENOTCONN)
			pr_info("%s: joining the lockspace failed (%d): trying again in %u ms\n",
				lockspace, ret, gdlm.backoff_ms);
		queue_delayed_work(gdlm.wq, &gdlm.join_work,
				   msecs_to_jiffies(gdlm.backoff_ms));
		gdlm.backoff_ms = min(gdlm.backoff_ms * 2, 30000U);
		return;
	}
	gdlm.ls = ls;
	gdlm.up_ns = ktime_get_ns();
	/* A recovery that started since is still reported by recover_prep. */
	gdlm.state = GDLM_UP;
	spin_unlock(&gdlm.ls_lock);
	pr_info("%s: joined the lockspace as node %d (recover callbacks %s)\n",
		lockspace, gdlm.nodeid, ops_result ? "off" : "on");
}

static int gdlm_state_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", gdlm_state_names[gdlm_state()]);
}

static const struct kernel_param_ops gdlm_state_ops = {
	.get = gdlm_state_get,
};

module_param_cb(state, &gdlm_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "Lockspace state: down, joining, up, recovering (read only)");

/* ---- locks: the state machine ------------------------------------------- */

static void gdlm_lock_free(struct kref *kref)
{
	struct gdlm_lock *lk = container_of(kref, struct gdlm_lock, kref);

	spin_lock(&gdlm.all_lock);
	list_del(&lk->anode);
	spin_unlock(&gdlm.all_lock);
	put_pid(lk->pid);
	kfree(lk);
	if (atomic_dec_and_test(&gdlm.nlive))
		wake_up_all(&gdlm.drain);
}

static void gdlm_lock_put(struct gdlm_lock *lk)
{
	kref_put(&lk->kref, gdlm_lock_free);
}

static void gdlm_resname(struct gdlm_lock *lk, const char *name, u32 len)
{
	const char *s = name + GLOCK_CLUSTER_PREFIX_LEN;
	u32 n = len - GLOCK_CLUSTER_PREFIX_LEN;

	if (n + 2 <= DLM_RESNAME_MAXLEN) {
		memcpy(lk->resname, "g:", 2);
		memcpy(lk->resname + 2, s, n);
		lk->reslen = n + 2;
	} else {
		memcpy(lk->resname, "h:", 2);
		sha256(s, n, lk->resname + 2);
		lk->reslen = 2 + SHA256_DIGEST_SIZE;
	}
}

static struct gdlm_lock *gdlm_lock_alloc(const char *name, u32 len, u32 mode)
{
	struct gdlm_lock *lk = kzalloc(sizeof(*lk), GFP_KERNEL_ACCOUNT);

	if (!lk)
		return NULL;
	kref_init(&lk->kref);		/* the owner side's */
	kref_get(&lk->kref);		/* the DLM side's */
	spin_lock_init(&lk->lock);
	init_completion(&lk->answer);
	init_completion(&lk->gone);
	lk->lksb.sb_lvbptr = (char *)&lk->lvb;
	lk->mode = mode;
	lk->pid = get_pid(task_tgid(current));
	get_task_comm(lk->comm, current);
	lk->since_ns = ktime_get_ns();
	memcpy(lk->name, name, len);
	lk->name_len = len;
	gdlm_resname(lk, name, len);
	atomic_inc(&gdlm.nlive);
	spin_lock(&gdlm.all_lock);
	list_add_tail(&lk->anode, &gdlm.all);
	spin_unlock(&gdlm.all_lock);
	return lk;
}

/* Under lk->lock: have the work item issue @op. */
static void gdlm_next(struct gdlm_lock *lk, enum gdlm_op op)
{
	lk->next = op;
	mod_delayed_work(gdlm.wq, &lk->work, 0);
}

/* Under lk->lock: the requester's answer. */
static void gdlm_answer(struct gdlm_lock *lk, int status)
{
	lk->status = status;
	lk->done = true;
	lk->held = !status && !lk->probe;
	complete(&lk->answer);
}

static bool gdlm_lvb_abandoned(struct gdlm_lock *lk)
{
	u32 st = le32_to_cpu(lk->seen.state);

	return lk->valnotvalid ||
	       (le32_to_cpu(lk->seen.magic) == GDLM_LVB_MAGIC &&
		(st == GDLM_LVB_HELD || st == GDLM_LVB_ABANDONED));
}

/*
 * Unlock abandoned-notice keepers: those of resource @res (NULL: any), and
 * then the oldest until at most @keep are left. A keeper taken off the
 * list is ours to unlock: nobody else finds it.
 */
static void gdlm_marks_drop(const u8 *res, u32 reslen, unsigned int keep)
{
	struct gdlm_lock *lk, *tmp;
	LIST_HEAD(drop);

	spin_lock(&gdlm.all_lock);
	list_for_each_entry_safe(lk, tmp, &gdlm.marks, mnode) {
		bool same = res && lk->reslen == reslen &&
			    !memcmp(lk->resname, res, reslen);

		if (same || (!res && gdlm.nmarks > keep)) {
			list_move_tail(&lk->mnode, &drop);
			lk->mark = false;
			gdlm.nmarks--;
		}
	}
	spin_unlock(&gdlm.all_lock);
	list_for_each_entry_safe(lk, tmp, &drop, mnode) {
		list_del_init(&lk->mnode);
		spin_lock(&lk->lock);
		lk->unlock_state = 0;
		gdlm_next(lk, OP_UNLOCK);
		spin_unlock(&lk->lock);
	}
}

/*
 * The request in flight ended with @status (the AST's, or the error of a
 * call that queued nothing). Moves the machine on; drops the DLM side's
 * reference when no DLM lock is left.
 */
static void gdlm_step_done(struct gdlm_lock *lk, int status)
{
	enum gdlm_step step;
	bool gone = false, trim = false;

	spin_lock(&lk->lock);
	step = lk->step;
	lk->step = STEP_NONE;
	switch (step) {
	case STEP_NL:
		if (status) {		/* no DLM lock was made */
			if (!lk->abort)
				gdlm_answer(lk, status == -EAGAIN ? -EAGAIN : -ENOTCONN);
			gone = true;
		} else if (lk->abort) {
			gdlm_next(lk, OP_UNLOCK);
		} else if (lk->probe) {
			lk->seen = lk->lvb;
			lk->valnotvalid = lk->lksb.sb_flags & DLM_SBF_VALNOTVALID;
			gdlm_answer(lk, 0);
			lk->unlock_state = 0;
			gdlm_next(lk, OP_UNLOCK);
		} else {
			gdlm_next(lk, OP_CVT);
		}
		break;
	case STEP_CVT:
		lk->cancel = false;
		if (!status) {
			lk->seen = lk->lvb;
			lk->valnotvalid = lk->lksb.sb_flags & DLM_SBF_VALNOTVALID;
			lk->result = gdlm_lvb_abandoned(lk) ? GLOCK_R_ABANDONED : 0;
			if (lk->abort)
				gdlm_next(lk, OP_UNLOCK);
			else if (lk->mode == GLOCK_EXCLUSIVE)
				gdlm_next(lk, OP_MARK);
			else
				gdlm_answer(lk, 0);
		} else {
			/* Refused or cancelled: back in NL, unlock that. */
			if (!lk->abort)
				gdlm_answer(lk, status == -EAGAIN ? -EAGAIN :
					    status == -EDEADLK ? -EDEADLK : -EIO);
			lk->unlock_state = 0;
			lk->seen = lk->lvb;
			lk->valnotvalid = false;
			gdlm_next(lk, OP_UNLOCK);
		}
		break;
	case STEP_MARK:
		if (status)
			pr_warn("%s: marking %.*s held failed (%d)\n", lockspace,
				lk->name_len, lk->name, status);
		if (lk->abort)
			gdlm_next(lk, OP_UNLOCK);
		else
			gdlm_answer(lk, 0);
		break;
	case STEP_KEEP:
		if (status) {	/* still PW: unlock, writing ABANDONED */
			lk->unlock_state = GDLM_LVB_ABANDONED;
			gdlm_next(lk, OP_UNLOCK);
			break;
		}
		spin_lock(&gdlm.all_lock);
		list_add_tail(&lk->mnode, &gdlm.marks);
		lk->mark = true;
		gdlm.nmarks++;
		spin_unlock(&gdlm.all_lock);
		trim = true;
		break;
	case STEP_UNLOCK:
		if (status != -DLM_EUNLOCK)
			pr_warn("%s: unlocking %.*s: status %d\n", lockspace,
				lk->name_len, lk->name, status);
		lk->unlocked = true;
		lk->held = false;
		complete_all(&lk->gone);
		gone = true;
		break;
	case STEP_NONE:
		WARN_ONCE(1, "glock_dlm: AST with no request in flight\n");
		break;
	}
	spin_unlock(&lk->lock);
	if (gone)
		gdlm_lock_put(lk);
	if (trim)
		gdlm_marks_drop(NULL, 0, READ_ONCE(max_marks));
}

static void gdlm_ast(void *arg)
{
	struct gdlm_lock *lk = arg;

	gdlm_step_done(lk, lk->lksb.sb_status);
}

/* Fill the LVB for an unlock from PW or EX. */
static void gdlm_lvb_release(struct gdlm_lock *lk)
{
	if (!lk->unlock_state) {
		/* Undo: leave it as the grant showed it (keeps a notice). */
		lk->lvb = lk->seen;
		if (lk->valnotvalid) {
			lk->lvb.magic = cpu_to_le32(GDLM_LVB_MAGIC);
			lk->lvb.state = cpu_to_le32(GDLM_LVB_ABANDONED);
		}
		return;
	}
	lk->lvb.magic = cpu_to_le32(GDLM_LVB_MAGIC);
	lk->lvb.state = cpu_to_le32(lk->unlock_state);
}

/*
 * The DLM mode and flags of a lock step. Only the first step makes a
 * lock (NL, EXPEDITE so it never waits behind a queued conversion); the
 * others convert it: to the wanted mode (NOQUEUE for a try), to PW to
 * write the HELD record, back to NL to keep an abandoned mark. All carry
 * the LVB.
 */
static int gdlm_op_mode(const struct gdlm_lock *lk, enum gdlm_op op,
			u32 *flags)
{
	*flags = DLM_LKF_CONVERT | DLM_LKF_VALBLK;
	switch (op) {
	case OP_NL:
		*flags = DLM_LKF_VALBLK | DLM_LKF_EXPEDITE;
		return DLM_LOCK_NL;
	case OP_CVT:
		if (lk->try)
			*flags |= DLM_LKF_NOQUEUE;
		return lk->mode == GLOCK_EXCLUSIVE ? DLM_LOCK_EX : DLM_LOCK_PR;
	case OP_MARK:
		return DLM_LOCK_PW;
	default:	/* OP_KEEP */
		return DLM_LOCK_NL;
	}
}

static void gdlm_work(struct work_struct *work)
{
	struct gdlm_lock *lk = container_of(to_delayed_work(work),
					    struct gdlm_lock, work);
	dlm_lockspace_t *ls = gdlm.ls;
	enum gdlm_op op;
	bool cancel;
	u32 flags;
	int mode;
	int ret = 0;

	spin_lock(&lk->lock);
	op = lk->next;
	lk->next = OP_NONE;
	/* Given up before the conversion went out: just unlock the NL. */
	if (op == OP_CVT && lk->abort) {
		op = OP_UNLOCK;
		lk->unlock_state = 0;
	}
	switch (op) {
	case OP_NL:
		lk->step = STEP_NL;
		break;
	case OP_CVT:
		lk->step = STEP_CVT;
		break;
	case OP_MARK:
		lk->step = STEP_MARK;
		lk->lvb.magic = cpu_to_le32(GDLM_LVB_MAGIC);
		lk->lvb.state = cpu_to_le32(GDLM_LVB_HELD);
		lk->lvb.nodeid = cpu_to_le32(READ_ONCE(gdlm.nodeid));
		lk->lvb.pid = cpu_to_le32(pid_nr(lk->pid));
		lk->lvb.seq = cpu_to_le64(atomic64_inc_return(&gdlm.seq));
		break;
	case OP_KEEP:
		lk->step = STEP_KEEP;
		lk->held = false;
		lk->lvb.magic = cpu_to_le32(GDLM_LVB_MAGIC);
		lk->lvb.state = cpu_to_le32(GDLM_LVB_ABANDONED);
		break;
	case OP_UNLOCK:
		lk->step = STEP_UNLOCK;
		gdlm_lvb_release(lk);
		break;
	case OP_NONE:
		break;
	}
	/* A cancel only makes sense while the conversion is in flight. */
	cancel = op == OP_NONE && lk->cancel && lk->step == STEP_CVT;
	spin_unlock(&lk->lock);

	switch (op) {
	case OP_NL:
	case OP_CVT:
	case OP_MARK:
	case OP_KEEP:
		mode = gdlm_op_mode(lk, op, &flags);
		ret = dlm_lock(ls, mode, &lk->lksb, flags, lk->resname,
			       lk->reslen, 0, gdlm_ast, lk, NULL);
		break;
	case OP_UNLOCK:
		ret = dlm_unlock(ls, lk->lksb.sb_lkid, DLM_LKF_VALBLK,
				 &lk->lksb, lk);
		break;
	case OP_NONE:
		if (!cancel)
			return;
		ret = dlm_unlock(ls, lk->lksb.sb_lkid, DLM_LKF_CANCEL,
				 &lk->lksb, lk);
		if (ret == -EBUSY) {	/* a reply is in flight: again soon */
			spin_lock(&lk->lock);
			if (lk->next == OP_NONE)
				mod_delayed_work(gdlm.wq, &lk->work,
						 msecs_to_jiffies(10));
			spin_unlock(&lk->lock);
		}
		/* Else exactly one AST ends the conversion: cancelled or not. */
		return;
	}
	if (ret == -EBUSY) {
		/* Another reply for this lock is due: issue @op again soon. */
		spin_lock(&lk->lock);
		lk->step = STEP_NONE;
		lk->next = op;
		mod_delayed_work(gdlm.wq, &lk->work, msecs_to_jiffies(10));
		spin_unlock(&lk->lock);
	} else if (ret) {
		gdlm_step_done(lk, ret);
	}
}

/* ---- the backend's operations -------------------------------------------- */

static struct gdlm_owner *gdlm_owner_get(void **priv, bool create)
{
	struct gdlm_owner *o = READ_ONCE(*priv), *old;

	if (o || !create)
		return o;
	o = kzalloc(sizeof(*o), GFP_KERNEL_ACCOUNT);
	if (!o)
		return NULL;
	mutex_init(&o->mutex);
	INIT_LIST_HEAD(&o->locks);
	old = cmpxchg(priv, NULL, o);
	if (old) {
		kfree(o);
		return old;
	}
	/* Pinned until the owner ends: rmmod waits for every owner. */
	__module_get(THIS_MODULE);
	return o;
}

static struct gdlm_lock *gdlm_find(struct gdlm_owner *o, const char *name,
				   u32 len)
{
	struct gdlm_lock *lk;

	list_for_each_entry(lk, &o->locks, onode)
		if (lk->name_len == len && !memcmp(lk->name, name, len))
			return lk;
	return NULL;
}

/* Wait for the answer; the lock's owner-side reference is the caller's. */
static int gdlm_wait(struct gdlm_lock *lk, s64 timeout_ns, u32 flags)
{
	long left = 1;
	int ret;

	if (timeout_ns < 0 || lk->try) {
		left = wait_for_completion_interruptible(&lk->answer);
	} else {
		ktime_t dl = flags & GLOCK_F_ABSTIME ? ns_to_ktime(timeout_ns) :
			     ktime_add_safe(ktime_get(), ns_to_ktime(timeout_ns));
		s64 rel = ktime_to_ns(ktime_sub(dl, ktime_get()));

		unsigned long j = rel > 0 ? nsecs_to_jiffies(rel) + 1 : 0;

		if (j)
			left = wait_for_completion_interruptible_timeout(&lk->answer, j);
		else
			left = 0;
	}

	spin_lock(&lk->lock);
	if (lk->done) {
		ret = lk->status;
	} else {
		/* Give up: the machine cancels and unlocks what DLM has. */
		ret = left < 0 ? -EINTR : -ETIMEDOUT;
		lk->abort = true;
		lk->cancel = true;
		if (lk->step == STEP_CVT && lk->next == OP_NONE)
			mod_delayed_work(gdlm.wq, &lk->work, 0);
	}
	spin_unlock(&lk->lock);
	return ret;
}

static int gdlm_op_lock(void **priv, const char *name, u32 len, u32 mode,
			s64 timeout_ns, u32 flags, u32 *result, u32 *depth)
{
	struct gdlm_owner *o;
	struct gdlm_lock *lk;
	int ret;

	*result = 0;
	*depth = 0;
	if (gdlm_state() != GDLM_UP)
		return -ENOTCONN;
	o = gdlm_owner_get(priv, true);
	if (!o)
		return -ENOMEM;

	mutex_lock(&o->mutex);
	lk = gdlm_find(o, name, len);
	if (lk) {
		if (!READ_ONCE(lk->held) || lk->mode != mode)
			ret = -EDEADLK;
		else if (lk->depth >= READ_ONCE(max_depth))
			ret = -EOVERFLOW;
		else
			ret = 0;
		if (!ret)
			*depth = ++lk->depth;
		mutex_unlock(&o->mutex);
		return ret;
	}
	if (o->nlocks >= READ_ONCE(max_locks_per_owner)) {
		mutex_unlock(&o->mutex);
		return -ENOLCK;
	}
	lk = gdlm_lock_alloc(name, len, mode);
	if (!lk) {
		mutex_unlock(&o->mutex);
		return -ENOMEM;
	}
	INIT_DELAYED_WORK(&lk->work, gdlm_work);
	lk->try = !timeout_ns ||
		  (timeout_ns > 0 && (flags & GLOCK_F_ABSTIME) &&
		   ktime_compare(ns_to_ktime(timeout_ns), ktime_get()) <= 0);
	list_add_tail(&lk->onode, &o->locks);
	o->nlocks++;
	mutex_unlock(&o->mutex);

	spin_lock(&lk->lock);
	gdlm_next(lk, OP_NL);
	spin_unlock(&lk->lock);

	ret = gdlm_wait(lk, timeout_ns, flags);

	mutex_lock(&o->mutex);
	if (ret) {
		list_del(&lk->onode);
		o->nlocks--;
	} else {
		lk->depth = 1;
		*depth = 1;
		*result = lk->result;
	}
	mutex_unlock(&o->mutex);
	if (ret)
		gdlm_lock_put(lk);
	else	/* our own lock keeps the LVB now */
		gdlm_marks_drop(lk->resname, lk->reslen, 0);
	return ret;
}

/* Under o->mutex, lk taken off the owner's list: release it in DLM. */
static void gdlm_release_lock(struct gdlm_lock *lk, u32 state)
{
	spin_lock(&lk->lock);
	lk->unlock_state = state;
	gdlm_next(lk, OP_UNLOCK);
	spin_unlock(&lk->lock);
}

static int gdlm_op_unlock(void **priv, const char *name, u32 len, u32 mode,
			  u32 *depth)
{
	struct gdlm_owner *o = gdlm_owner_get(priv, false);
	struct gdlm_lock *lk;

	*depth = 0;
	if (!o)
		return -EPERM;
	mutex_lock(&o->mutex);
	lk = gdlm_find(o, name, len);
	if (!lk || !READ_ONCE(lk->held)) {
		mutex_unlock(&o->mutex);
		return -EPERM;
	}
	if (mode && mode != lk->mode) {
		mutex_unlock(&o->mutex);
		return -EINVAL;
	}
	if (--lk->depth) {
		*depth = lk->depth;
		mutex_unlock(&o->mutex);
		return 0;
	}
	list_del(&lk->onode);
	o->nlocks--;
	gdlm_release_lock(lk, GDLM_LVB_FREE);
	mutex_unlock(&o->mutex);
	/*
	 * Return once DLM has let go, so that a lock released here can be
	 * taken at once elsewhere; a signal ends the wait, not the unlock.
	 */
	wait_for_completion_interruptible(&lk->gone);
	gdlm_lock_put(lk);
	return 0;
}

/*
 * Read the LVB of @name with a short-lived NL lock (STATE of a lock no
 * owner of this node holds): an exclusive holder elsewhere has written
 * HELD there. Bounded by 5 s; interruptible.
 */
static void gdlm_probe(const char *name, u32 len, struct glock_state *st)
{
	struct gdlm_lock *lk = gdlm_lock_alloc(name, len, 0);
	u32 state;

	if (!lk)
		return;
	INIT_DELAYED_WORK(&lk->work, gdlm_work);
	lk->probe = true;
	spin_lock(&lk->lock);
	gdlm_next(lk, OP_NL);
	spin_unlock(&lk->lock);
	if (!gdlm_wait(lk, 5 * NSEC_PER_SEC, 0)) {
		state = le32_to_cpu(lk->seen.state);
		if (le32_to_cpu(lk->seen.magic) != GDLM_LVB_MAGIC)
			state = 0;
		if (state == GDLM_LVB_HELD) {
			st->mode = GLOCK_EXCLUSIVE;
			st->holders = 1;
		}
		if (lk->valnotvalid || state == GDLM_LVB_ABANDONED)
			st->result |= GLOCK_R_ABANDONED;
	}
	gdlm_lock_put(lk);
}

/*
 * STATE: mode/holders/waiters count this node's owners; owner_pid names a
 * local exclusive holder. When no owner here holds it, the LVB says
 * whether an exclusive holder elsewhere has it (holders 1, owner_pid 0)
 * or an abandon is pending; shared holders elsewhere are not seen.
 */
static int gdlm_op_state(void **priv, const char *name, u32 len,
			 struct glock_state *st)
{
	struct gdlm_owner *o = gdlm_owner_get(priv, false);
	struct gdlm_lock *lk;
	struct pid *holder = NULL;

	if (gdlm_state() != GDLM_UP && gdlm_state() != GDLM_RECOVERING)
		return -ENOTCONN;
	st->mode = 0;
	st->holders = 0;
	st->waiters = 0;
	st->depth = 0;
	st->owner_pid = 0;
	st->result = 0;
	if (o) {
		mutex_lock(&o->mutex);
		lk = gdlm_find(o, name, len);
		if (lk && READ_ONCE(lk->held))
			st->depth = lk->depth;
		mutex_unlock(&o->mutex);
	}
	spin_lock(&gdlm.all_lock);
	list_for_each_entry(lk, &gdlm.all, anode) {
		if (lk->name_len != len || memcmp(lk->name, name, len) ||
		    READ_ONCE(lk->unlocked) || lk->probe)
			continue;
		if (READ_ONCE(lk->held)) {
			st->holders++;
			st->mode = lk->mode;
			if (lk->mode == GLOCK_EXCLUSIVE && !holder)
				holder = get_pid(lk->pid);
		} else if (!READ_ONCE(lk->done) && !READ_ONCE(lk->abort)) {
			st->waiters++;
		}
	}
	spin_unlock(&gdlm.all_lock);
	if (holder) {
		st->owner_pid = pid_vnr(holder);
		put_pid(holder);
	}
	if (!st->holders && gdlm_state() == GDLM_UP)
		gdlm_probe(name, len, st);
	return 0;
}

/* The owner ended: release its holds, exclusive ones as abandoned. */
static void gdlm_op_release(void *priv)
{
	struct gdlm_owner *o = priv;
	struct gdlm_lock *lk, *tmp;

	mutex_lock(&o->mutex);
	list_for_each_entry_safe(lk, tmp, &o->locks, onode) {
		list_del(&lk->onode);
		if (READ_ONCE(lk->held) && lk->mode == GLOCK_EXCLUSIVE &&
		    READ_ONCE(max_marks)) {
			/* Keep an NL lock: DLM drops an LVB nobody locks. */
			spin_lock(&lk->lock);
			gdlm_next(lk, OP_KEEP);
			spin_unlock(&lk->lock);
		} else if (READ_ONCE(lk->held)) {
			gdlm_release_lock(lk, lk->mode == GLOCK_EXCLUSIVE ?
					  GDLM_LVB_ABANDONED : GDLM_LVB_FREE);
		} else {
			/*
			 * Cannot happen for a file (no request runs during its
			 * release); should it, hand the request to the machine.
			 */
			spin_lock(&lk->lock);
			if (!lk->done) {
				lk->abort = true;
				lk->cancel = true;
				if (lk->step == STEP_CVT && lk->next == OP_NONE)
					mod_delayed_work(gdlm.wq, &lk->work, 0);
			}
			spin_unlock(&lk->lock);
		}
		gdlm_lock_put(lk);
	}
	mutex_unlock(&o->mutex);
	mutex_destroy(&o->mutex);
	kfree(o);
	module_put(THIS_MODULE);
}

static const struct glock_cluster_ops gdlm_ops = {
	.owner = THIS_MODULE,
	.lock = gdlm_op_lock,
	.unlock = gdlm_op_unlock,
	.state = gdlm_op_state,
	.release = gdlm_op_release,
};

/* ---- debugfs --------------------------------------------------------------- */

static int gdlm_status_show(struct seq_file *m, void *v)
{
	int i;

	spin_lock(&gdlm.ls_lock);
	seq_printf(m, "lockspace name=%s cluster=%s state=%s nodeid=%d generation=%u members=",
		   lockspace, *cluster ? cluster : "-",
		   gdlm_state_names[gdlm.state], gdlm.nodeid, gdlm.generation);
	for (i = 0; i < gdlm.nmembers; i++)
		seq_printf(m, "%s%d", i ? "," : "", gdlm.members[i]);
	if (!gdlm.nmembers)
		seq_puts(m, "-");
	seq_printf(m, " joins=%u join_err=%d recoveries=%u last_failed=%d live_locks=%d marks=%u\n",
		   gdlm.joins, gdlm.join_err, gdlm.recoveries,
		   gdlm.last_failed, atomic_read(&gdlm.nlive),
		   READ_ONCE(gdlm.nmarks));
	spin_unlock(&gdlm.ls_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdlm_status);

static const char *gdlm_lock_phase(struct gdlm_lock *lk)
{
	if (READ_ONCE(lk->unlocked))
		return "gone";
	if (READ_ONCE(lk->mark))
		return "mark";
	if (READ_ONCE(lk->held))
		return "held";
	if (READ_ONCE(lk->abort) || READ_ONCE(lk->done))
		return "releasing";
	/* Queued at the master once the conversion is out. */
	return READ_ONCE(lk->step) == STEP_CVT ? "waiting" : "requesting";
}

static const char *glock_mode_str(u32 mode)
{
	return mode == GLOCK_EXCLUSIVE ? "exclusive" : "shared";
}

static int gdlm_locks_show(struct seq_file *m, void *v)
{
	struct gdlm_lock *lk;
	u64 now = ktime_get_ns();
	int node = READ_ONCE(gdlm.nodeid);

	spin_lock(&gdlm.all_lock);
	list_for_each_entry(lk, &gdlm.all, anode) {
		seq_printf(m, "cluster name=%.*s node=%d pid=%d comm=%s mode=%s state=%s lkid=%x abandoned=%d since_ns=%llu\n",
			   lk->name_len, lk->name, node, pid_nr(lk->pid),
			   lk->comm, lk->probe ? "probe" :
			   glock_mode_str(lk->mode), gdlm_lock_phase(lk),
			   lk->lksb.sb_lkid,
			   !!(READ_ONCE(lk->result) & GLOCK_R_ABANDONED),
			   now - lk->since_ns);
	}
	spin_unlock(&gdlm.all_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gdlm_locks);

/*
 * "bench": raw dlm_lock() for comparison, debugfs only (root). Writing
 * "hold RES" takes an NL lock on resource RES and keeps it until rmmod
 * (so this node masters RES if it is the first to use it); "run RES N"
 * does N rounds of EX request + unlock and waits for each AST; reading
 * gives the last run's "raw res=RES rounds=N ns_per_round=...". It calls
 * DLM from the writing task, which may then sleep uninterruptibly during a
 * recovery: a test tool, not an interface.
 */
struct gdlm_raw {
	struct dlm_lksb lksb;
	struct completion done;
	struct list_head node;
};

static LIST_HEAD(gdlm_raw_held);
static DEFINE_MUTEX(gdlm_bench_mutex);	/* gdlm_raw_held, the result */
static char gdlm_bench_result[128];

static void gdlm_raw_ast(void *arg)
{
	struct gdlm_raw *r = arg;

	complete(&r->done);
}

static int gdlm_raw_op(struct gdlm_raw *r, int mode, u32 flags,
		       const char *res, bool unlock)
{
	int ret;

	reinit_completion(&r->done);
	if (unlock)
		ret = dlm_unlock(gdlm.ls, r->lksb.sb_lkid, 0, &r->lksb, r);
	else
		ret = dlm_lock(gdlm.ls, mode, &r->lksb, flags, res, strlen(res),
			       0, gdlm_raw_ast, r, NULL);
	if (ret)
		return ret;
	wait_for_completion(&r->done);
	return unlock ? (r->lksb.sb_status == -DLM_EUNLOCK ? 0 :
			 r->lksb.sb_status) : r->lksb.sb_status;
}

static ssize_t gdlm_bench_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	char buf[96], res[DLM_RESNAME_MAXLEN + 1];
	struct gdlm_raw *r;
	unsigned int n, i;
	u64 t0;
	int ret;

	if (gdlm_state() != GDLM_UP)
		return -ENOTCONN;
	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	init_completion(&r->done);
	mutex_lock(&gdlm_bench_mutex);
	if (sscanf(buf, "hold %64s", res) == 1) {
		ret = gdlm_raw_op(r, DLM_LOCK_NL, 0, res, false);
		if (!ret) {
			list_add(&r->node, &gdlm_raw_held);
			r = NULL;
		}
	} else if (sscanf(buf, "run %64s %u", res, &n) == 2 && n) {
		t0 = ktime_get_ns();
		for (i = 0, ret = 0; i < n && !ret; i++) {
			ret = gdlm_raw_op(r, DLM_LOCK_EX, 0, res, false) ?:
			      gdlm_raw_op(r, 0, 0, res, true);
			if (fatal_signal_pending(current))
				ret = -EINTR;
		}
		if (!ret)
			snprintf(gdlm_bench_result, sizeof(gdlm_bench_result),
				 "raw res=%s rounds=%u ns_per_round=%llu\n",
				 res, n, div_u64(ktime_get_ns() - t0, n));
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&gdlm_bench_mutex);
	kfree(r);
	return ret ?: count;
}

static ssize_t gdlm_bench_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[sizeof(gdlm_bench_result)];

	mutex_lock(&gdlm_bench_mutex);
	strscpy(buf, gdlm_bench_result, sizeof(buf));
	mutex_unlock(&gdlm_bench_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, buf, strlen(buf));
}

static const struct file_operations gdlm_bench_fops = {
	.owner = THIS_MODULE,
	.write = gdlm_bench_write,
	.read = gdlm_bench_read,
};

static void gdlm_raw_release(void)
{
	struct gdlm_raw *r, *tmp;

	list_for_each_entry_safe(r, tmp, &gdlm_raw_held, node) {
		gdlm_raw_op(r, 0, 0, NULL, true);
		list_del(&r->node);
		kfree(r);
	}
}

/* ---- module ------------------------------------------------------------------ */

static int __init gdlm_init(void)
{
	int ret;

	if (strlen(lockspace) < 1 || strlen(lockspace) > DLM_LOCKSPACE_LEN)
		return -EINVAL;
	spin_lock_init(&gdlm.ls_lock);
	spin_lock_init(&gdlm.all_lock);
	INIT_LIST_HEAD(&gdlm.all);
	INIT_LIST_HEAD(&gdlm.marks);
	init_waitqueue_head(&gdlm.drain);
	INIT_DELAYED_WORK(&gdlm.join_work, gdlm_join_work);
	gdlm.backoff_ms = 250;
	gdlm.wq = alloc_workqueue("glock_dlm", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!gdlm.wq)
		return -ENOMEM;
	ret = glock_cluster_register(&gdlm_ops);
	if (ret) {
		destroy_workqueue(gdlm.wq);
		return ret;
	}
	gdlm.dir = debugfs_create_dir("glock_dlm", NULL);
	debugfs_create_file("status", 0400, gdlm.dir, NULL, &gdlm_status_fops);
	debugfs_create_file("locks", 0400, gdlm.dir, NULL, &gdlm_locks_fops);
	debugfs_create_file("bench", 0600, gdlm.dir, NULL, &gdlm_bench_fops);
	queue_delayed_work(gdlm.wq, &gdlm.join_work, 0);
	return 0;
}

static void __exit gdlm_exit(void)
{
	unsigned int waited = 0;
	int ret;

	/* No new request; no owner is left (each pinned the module). */
	glock_cluster_unregister(&gdlm_ops);
	debugfs_remove_recursive(gdlm.dir);
	cancel_delayed_work_sync(&gdlm.join_work);
	spin_lock(&gdlm.ls_lock);
	gdlm.state = GDLM_LEAVING;
	spin_unlock(&gdlm.ls_lock);
	/*
	 * Unlocks of ended owners may still be in flight, and the keepers
	 * of abandoned notices go now (a KEEP still in flight adds one more:
	 * drop again while waiting): drain their ASTs.
	 */
	gdlm_marks_drop(NULL, 0, 0);
	while (!wait_event_timeout(gdlm.drain, !atomic_read(&gdlm.nlive),
				   HZ)) {
		gdlm_marks_drop(NULL, 0, 0);
		if (++waited % 30)
			continue;
		pr_warn("%s: waiting for %d lock(s) to be released in DLM\n",
			lockspace, atomic_read(&gdlm.nlive));
	}
	if (gdlm.ls) {
		gdlm_raw_release();
		ret = dlm_release_lockspace(gdlm.ls, 0);
		if (ret)
			pr_warn("%s: releasing the lockspace: %d\n", lockspace,
				ret);
	}
	destroy_workqueue(gdlm.wq);
}

module_init(gdlm_init);
module_exit(gdlm_exit);

MODULE_DESCRIPTION("glock cluster: names on the kernel's distributed lock manager");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: dlm");
