// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock against a model: a randomized, model-checked stress.
 *
 * NW worker process groups (some with threads) hammer NL names through
 * private owners (one fd each), an owner shared by the threads of a process
 * (each thread takes only its own share of the names, so one owner's depth
 * of one name is only ever changed by one thread), dup()ed fds and an owner
 * lent to a forked child. Requests: exclusive and shared, recursion, tries,
 * short timed waits (relative and absolute), medium waits, and waits without
 * a deadline. This process is the supervisor: it SIGKILLs worker groups,
 * holders and waiters alike, at random moments and respawns them.
 *
 * A shared-memory model (MAP_SHARED, updated with atomics right after a
 * grant and right before an unlock or close) is a subset of the kernel's
 * holds at all times, so it checks:
 * - exclusion: an exclusive holder never coexists with another holder;
 * - depth: every LOCK/UNLOCK returns the model's depth for that owner;
 * - abandoned exactly once: per name, the GLOCK_R_ABANDONED results seen
 *   (by workers and by a final take of every name) equal the exclusive
 *   holds that ended with their owner. The request structs live in the
 *   shared mapping, so after a kill the supervisor reads what the kernel
 *   wrote back and knows whether a request in flight was granted;
 * - dying waiters: a waiter killed while an incompatible live holder held
 *   the name from before the kill to after it must never be granted (issue
 *   9 item 4: such a grant marks the lock falsely, or swallows a mark);
 * - errors: only the errnos the request allows; EDEADLK for an owner that
 *   holds nothing cannot close a cycle, and a try never gets it;
 * - no hang: every request has a bound; a watchdog fails the test;
 * - nothing left: at the end no name of this test is in debugfs.
 *
 * GLOCK_SEED replays a seed (timing still differs), GLOCK_STRESS_SECS sets
 * the duration (default 20), GLOCK_MODEL_BREAK=exclusion makes one worker
 * pretend to hold exclusive locks it never asked for: the test must fail.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>

#include "glock_test_util.h"

#define NL		6	/* names */
#define NW		8	/* worker process groups */
#define NTHR_MT		3	/* threads of the multithreaded workers */
#define NMT		3	/* workers 0..NMT-1 are multithreaded */
#define MAXO		64	/* owner slots (bits of a mask) */
#define MAXT		4
#define NMSG		24
#define KILLBIT		(1 << 30)
#define POISON32	0xccccccccU

/*
 * Issue 9 item 4: a SIGKILLed waiter must never keep a grant. The module
 * before the fix did (the model caught it 3-7 times per run); with 0 the
 * check only reports, as a SKIP, for running against such a module.
 */
#define STRICT_ITEM4	1

enum { I_NONE, I_LOCK, I_UNLOCK };

struct intent {
	uint32_t op;
	uint32_t mode;
	int64_t tmo;
	uint32_t seq;
	uint32_t pad;
};

struct oslot {
	int state;		/* 0 free, 1 in use */
	int group;
	int single;		/* used by one thread at a time */
	int fake[NL];		/* break mode: a hold never asked for */
	uint32_t depth[NL];
	uint32_t mode[NL];
	uint64_t hgen[NL];	/* hold generation, bumped at every new hold */
	struct intent in[NL];
	/*
	 * The request structs themselves live here, poisoned before each call,
	 * so that after a kill the supervisor sees what the kernel wrote back:
	 * depth >= 1 means a LOCK was granted and copied out; an UNLOCK still
	 * poisoned never ran.
	 */
	struct glock_lock req[NL];
	/*
	 * ABANDONED results this owner got, per name: count << 32 | the
	 * intent seq of the last one, stored in one go, so a kill between
	 * the grant and the store is told apart from one after it.
	 */
	uint64_t ab[NL];
};

struct lockm {
	uint64_t ex, sh;	/* owner slots holding, per mode */
	long long seen;		/* GLOCK_R_ABANDONED results */
	long long certain;	/* exclusive holds that ended with their owner */
	long long possible;	/* ... that may have (request in flight) */
	long long proven;	/* killed waiters provably never granted */
};

struct wslot {
	pid_t pid;
	int gen;
	int crit;		/* threads in a no-kill section | KILLBIT */
	int64_t since[MAXT];	/* in a request since (0: not) */
	int64_t bound[MAXT];	/* ... and for at most this long */
};

struct model {
	int stop;
	int brk;
	uint64_t dying;		/* owner slots being killed */
	char names[NL][64];
	struct oslot o[MAXO];
	struct lockm l[NL];
	struct wslot w[NW];
	long long ops, grants, eagain, etimedout, edeadlk, eperm, einval;
	long long kills, kill_waiters, kill_holders, pair_kills;
	long long closes, dups, forks, child_kills, resyncs, dying_grants;
	long long violations;
	long long vcat[7];
	uint64_t holdgen;
	int nmsg;
	char msg[NMSG][200];
};

static struct model *M;
static int strict4;
static uint64_t master_seed;

#define A_LOAD(p)	__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define A_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define A_ADD(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define A_OR(p, v)	__atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define A_AND(p, v)	__atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define A_CAS(p, o, n)	__atomic_compare_exchange_n((p), (o), (n), false, \
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

/* Kinds of violation, one TAP line each. */
enum { V_EXCL, V_DEPTH, V_ABANDON, V_ERRNO, V_HANG, V_OTHER, V_DYING };

static void viol(int cat, const char *fmt, ...)
{
	long long n = A_ADD(&M->violations, 1);
	int i;
	va_list ap;

	A_ADD(&M->vcat[cat], 1);
	if (n > NMSG)
		return;
	i = A_ADD(&M->nmsg, 1) - 1;
	if (i >= NMSG)
		return;
	va_start(ap, fmt);
	vsnprintf(M->msg[i], sizeof(M->msg[i]), fmt, ap);
	va_end(ap);
}

/* xorshift64*: per thread, seeded from the master seed. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rn(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return (z ^ (z >> 31)) | 1;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- owners ------------------------------------------------------------- */

static int slot_alloc(int g, int single)
{
	for (int i = 0; i < MAXO; i++) {
		int z = 0;

		if (A_LOAD(&M->o[i].state) == 0 && A_CAS(&M->o[i].state, &z, 2)) {
			struct oslot *os = &M->o[i];

			memset(os->fake, 0, sizeof(*os) - offsetof(struct oslot, fake));
			os->group = g;
			os->single = single;
			A_STORE(&os->state, 1);
			return i;
		}
	}
	return -1;
}

/*
 * An owner ended (closed by its worker, or its whole group died): account
 * its holds and free the slot. @death: killed, so requests in flight count.
 */
static void slot_end(int o, bool death, const bool *proven)
{
	struct oslot *os = &M->o[o];
	uint64_t bit = 1ULL << o;

	for (int l = 0; l < NL; l++) {
		struct lockm *L = &M->l[l];
		struct intent *in = &os->in[l];

		uint32_t out = os->req[l].depth;
		bool granted = out != POISON32 && out != 0;
		uint64_t ab = A_LOAD(&os->ab[l]);

		/* ABANDONED results, one maybe not counted before a kill. */
		A_ADD(&L->seen, (long long)(ab >> 32));
		if (death && in->op == I_LOCK && granted &&
		    (os->req[l].result & GLOCK_R_ABANDONED) &&
		    (uint32_t)ab != in->seq)
			A_ADD(&L->seen, 1);

		if (os->depth[l]) {
			if (os->mode[l] == GLOCK_EXCLUSIVE)
				A_ADD(&L->certain, 1);
		} else if (death && in->op == I_LOCK) {
			bool pr = proven && proven[l];

			if (granted && pr) {
				/* Issue 9 item 4: a grant to a dying waiter. */
				viol(V_DYING, "%s: %s waiter killed while blocked behind a live holder was granted the lock (depth %u copied out)",
				     M->names[l], in->mode == GLOCK_EXCLUSIVE ?
				     "exclusive" : "shared", out);
				A_ADD(&M->dying_grants, 1);
				if (in->mode == GLOCK_EXCLUSIVE)
					A_ADD(&L->possible, 1);
			} else if (granted && in->mode == GLOCK_EXCLUSIVE) {
				A_ADD(&L->certain, 1);
			} else if (pr) {
				A_ADD(&L->proven, 1);
			}
		} else if (death && in->op == I_UNLOCK &&
			   os->mode[l] == GLOCK_EXCLUSIVE && out == POISON32) {
			/* Killed before the UNLOCK ran: still held. */
			A_ADD(&L->certain, 1);
		}
		A_AND(&L->ex, ~bit);
		A_AND(&L->sh, ~bit);
	}
	A_AND(&M->dying, ~bit);
	memset(os->fake, 0, sizeof(*os) - offsetof(struct oslot, fake));
	A_STORE(&os->state, 0);
}

/* A no-kill section for close/exit bookkeeping; false if being killed. */
static bool crit_enter(int g)
{
	for (;;) {
		int v = A_LOAD(&M->w[g].crit);

		if (v & KILLBIT)
			return false;
		if (A_CAS(&M->w[g].crit, &v, v + 1))
			return true;
	}
}

static void crit_leave(int g)
{
	A_ADD(&M->w[g].crit, -1);
}

static void wait_to_die(void)
{
	for (;;)
		pause();
}

/* ---- requests ----------------------------------------------------------- */

struct wctx {
	int g, t;
	bool child;		/* a forked child lent an owner */
	uint64_t seed;
};

static void intent_set(struct oslot *os, int l, uint32_t op, uint32_t mode,
		       int64_t tmo)
{
	struct intent *in = &os->in[l];

	in->mode = mode;
	in->tmo = tmo;
	A_ADD(&in->seq, 1);
	A_STORE(&in->op, op);
}

static void inop(struct wctx *c, int64_t bound)
{
	if (c->child)
		return;
	A_STORE(&M->w[c->g].bound[c->t], bound);
	A_STORE(&M->w[c->g].since[c->t], bound ? gt_now() : 0);
}

static int owner_holds(struct oslot *os)
{
	int n = 0;

	for (int l = 0; l < NL; l++)
		n += os->depth[l] != 0;
	return n;
}

static int owner_holds_in(struct oslot *os, unsigned int lmask)
{
	int n = 0;

	for (int l = 0; l < NL; l++)
		n += (lmask & (1U << l)) && os->depth[l] != 0;
	return n;
}

/* The model's part of a grant: right after the ioctl returned 0. */
static void model_grant(int o, int l, uint32_t mode, uint32_t d0,
			uint32_t result, uint32_t depth)
{
	struct oslot *os = &M->o[o];
	struct lockm *L = &M->l[l];
	uint64_t bit = 1ULL << o, others;

	if (result & GLOCK_R_ABANDONED) {
		uint64_t ab = A_LOAD(&os->ab[l]);

		A_STORE(&os->ab[l], ((ab >> 32) + 1) << 32 | A_LOAD(&os->in[l].seq));
		if (d0)
			viol(V_ABANDON, "%s: recursive grant (depth %u) reported ABANDONED",
			     M->names[l], d0);
	}
	if (result & ~GLOCK_R_ABANDONED)
		viol(V_OTHER, "%s: LOCK result has unknown bits %#x", M->names[l], result);
	if (depth != d0 + 1)
		viol(V_DEPTH, "%s: LOCK depth %u, model expects %u", M->names[l], depth,
		     d0 + 1);
	if (d0) {
		A_STORE(&os->depth[l], d0 + 1);
		return;
	}
	os->mode[l] = mode;
	os->hgen[l] = A_ADD(&M->holdgen, 1);
	A_STORE(&os->depth[l], 1);
	if (mode == GLOCK_EXCLUSIVE) {
		A_OR(&L->ex, bit);
		others = (A_LOAD(&L->ex) | A_LOAD(&L->sh)) & ~bit;
	} else {
		A_OR(&L->sh, bit);
		others = A_LOAD(&L->ex) & ~bit;
	}
	others &= ~A_LOAD(&M->dying);
	if (others)
		viol(V_EXCL, "exclusion: %s granted %s to owner %d while owners %#llx hold it",
		     M->names[l], mode == GLOCK_EXCLUSIVE ? "exclusive" : "shared",
		     o, (unsigned long long)others);
}

static void do_lock(struct wctx *c, int o, int fd, int l, uint32_t mode,
		    int64_t tmo, uint32_t flags)
{
	struct oslot *os = &M->o[o];
	uint32_t d0 = os->depth[l], result, depth;
	bool upgrade = d0 && os->mode[l] != mode;
	int64_t bound;
	int ret, e;

	if (M->brk && c->g == NMT && c->t == 0 && !c->child && !d0 &&
	    mode == GLOCK_EXCLUSIVE) {
		/* GLOCK_MODEL_BREAK=exclusion: pretend, never ask. */
		os->fake[l] = 1;
		model_grant(o, l, mode, 0, 0, 1);
		A_ADD(&M->ops, 1);
		return;
	}
	bound = tmo < 0 ? 30 * GT_NSEC :
		(flags & GLOCK_F_ABSTIME ? 0 : tmo) + 10 * GT_NSEC;
	gt_fill_lock(&os->req[l], M->names[l], strlen(M->names[l]), mode, tmo,
		     flags);
	intent_set(os, l, I_LOCK, mode, (flags & GLOCK_F_ABSTIME) ? 1 : tmo);
	inop(c, bound);
	ret = ioctl(fd, GLOCK_IOC_LOCK, &os->req[l]);
	e = errno;
	result = os->req[l].result;
	depth = os->req[l].depth;
	inop(c, 0);
	if (!ret) {
		if (upgrade)
			viol(V_EXCL, "%s: %s request granted to an owner holding the other mode",
			     M->names[l], mode == GLOCK_EXCLUSIVE ? "exclusive" : "shared");
		A_ADD(&M->grants, 1);
		model_grant(o, l, mode, d0, result, depth);
	} else if (upgrade || (d0 && e == EDEADLK)) {
		if (e != EDEADLK)
			viol(V_ERRNO, "%s: change of mode while holding: errno %d, want EDEADLK",
			     M->names[l], e);
		A_ADD(&M->edeadlk, 1);
	} else if (d0) {
		viol(V_ERRNO, "%s: recursive request failed: %s", M->names[l], strerror(e));
	} else if (e == EAGAIN && (tmo == 0 || (flags & GLOCK_F_ABSTIME))) {
		A_ADD(&M->eagain, 1);
	} else if (e == ETIMEDOUT && tmo > 0) {
		A_ADD(&M->etimedout, 1);
	} else if (e == EDEADLK && tmo != 0) {
		A_ADD(&M->edeadlk, 1);
		/* No holds, no other request: nothing can wait for it. */
		if (os->single && !owner_holds(os))
			viol(V_ERRNO, "%s: EDEADLK for an owner that holds nothing",
			     M->names[l]);
	} else {
		viol(V_ERRNO, "%s: LOCK %s tmo %lld flags %u: unexpected errno %d (%s)",
		     M->names[l], mode == GLOCK_EXCLUSIVE ? "ex" : "sh",
		     (long long)tmo, flags, e, strerror(e));
	}
	A_STORE(&os->in[l].op, I_NONE);
	A_ADD(&M->ops, 1);
}

static void do_unlock(struct wctx *c, int o, int fd, int l, uint64_t *s)
{
	struct oslot *os = &M->o[o];
	uint32_t d0 = os->depth[l], depth, mode = 0;
	int ret, e;

	if (!d0 || rn(s, 30) == 0) {
		/* Not held (EPERM), or held in a mode we do not name (EINVAL). */
		uint32_t wrong = d0 ? 3 - os->mode[l] : 1 + rn(s, 2);

		if (os->fake[l])
			return;
		inop(c, 10 * GT_NSEC);
		ret = gt_unlock_full(fd, M->names[l], wrong, &depth);
		e = errno;
		inop(c, 0);
		if (!ret)
			viol(V_ERRNO, "%s: UNLOCK %s succeeded (depth %u, mode %u)",
			     M->names[l], d0 ? "in the wrong mode" : "of a lock not held",
			     d0, wrong);
		else if (e != (d0 ? EINVAL : EPERM))
			viol(V_ERRNO, "%s: bad UNLOCK: errno %d, want %s", M->names[l], e,
			     d0 ? "EINVAL" : "EPERM");
		else
			A_ADD(d0 ? &M->einval : &M->eperm, 1);
		A_ADD(&M->ops, 1);
		return;
	}
	if (rn(s, 2))
		mode = os->mode[l];
	if (os->fake[l]) {
		if (d0 == 1) {
			A_AND(&M->l[l].ex, ~(1ULL << o));
			os->fake[l] = 0;
		}
		A_STORE(&os->depth[l], d0 - 1);
		return;
	}
	gt_fill_lock(&os->req[l], M->names[l], strlen(M->names[l]), mode, 0, 0);
	intent_set(os, l, I_UNLOCK, os->mode[l], 0);
	A_STORE(&os->depth[l], d0 - 1);
	if (d0 == 1) {
		A_AND(&M->l[l].ex, ~(1ULL << o));
		A_AND(&M->l[l].sh, ~(1ULL << o));
	}
	inop(c, 10 * GT_NSEC);
	ret = ioctl(fd, GLOCK_IOC_UNLOCK, &os->req[l]);
	e = errno;
	depth = os->req[l].depth;
	inop(c, 0);
	if (ret)
		viol(V_ERRNO, "%s: UNLOCK at depth %u failed: %s", M->names[l], d0,
		     strerror(e));
	else if (depth != d0 - 1)
		viol(V_DEPTH, "%s: UNLOCK depth %u, model expects %u", M->names[l], depth,
		     d0 - 1);
	A_STORE(&os->in[l].op, I_NONE);
	A_ADD(&M->ops, 1);
}

/* One random request on owner @o (fd @fd), on a name in @lmask. */
static void step(struct wctx *c, int o, int fd, unsigned int lmask, bool forever)
{
	uint64_t *s = &c->seed;
	struct oslot *os = &M->o[o];
	int l;

	do
		l = rn(s, NL);
	while (!(lmask & (1U << l)));

	if (os->depth[l] && rn(s, 100) < 50) {
		do_unlock(c, o, fd, l, s);
	} else if (!os->depth[l] && rn(s, 100) < 4) {
		do_unlock(c, o, fd, l, s);
	} else {
		uint32_t mode = rn(s, 2) ? GLOCK_SHARED : GLOCK_EXCLUSIVE;
		uint32_t flags = 0;
		int64_t tmo;
		unsigned int k = rn(s, 100);

		if (os->depth[l] && rn(s, 100) < 90)
			mode = os->mode[l];	/* mostly recursion */
		if (k < 35) {
			tmo = 0;
		} else if (k < 70) {
			tmo = 1000 + rn(s, 3 * GT_MSEC);
		} else if (k < 80) {
			flags = GLOCK_F_ABSTIME;
			tmo = gt_now() + (int64_t)rn(s, 4 * GT_MSEC) - GT_MSEC;
			if (tmo <= 0)
				tmo = 1;
		} else if (k < 95 || !forever) {
			tmo = 50 * GT_MSEC + rn(s, 250 * GT_MSEC);
		} else {
			tmo = -1;
		}
		do_lock(c, o, fd, l, mode, tmo, flags);
		if (os->depth[l] && rn(s, 2))
			sleep_us(rn(s, 400));
	}
}

/* Release what @o holds of the names in @lmask (normal unlocks). */
static void release_all(struct wctx *c, int o, int fd, unsigned int lmask)
{
	struct oslot *os = &M->o[o];
	uint64_t s = 1;

	for (int l = 0; l < NL; l++)
		if (lmask & (1U << l))
			while (os->depth[l] && !os->fake[l]) {
				uint32_t d0 = os->depth[l];

				do_unlock(c, o, fd, l, &s);
				if (os->depth[l] >= d0)
					break;
			}
}

/* Close owner @o (its worker's no-kill section): holds end with it. */
static bool close_owner(struct wctx *c, int o, int *fd)
{
	if (!crit_enter(c->g))
		return false;
	slot_end(o, false, NULL);	/* certain marks; model cleared */
	close(*fd);
	*fd = -1;
	crit_leave(c->g);
	A_ADD(&M->closes, 1);
	return true;
}

static int open_owner(struct wctx *c, int *fd, int single)
{
	int o;

	*fd = gt_open();
	if (*fd < 0) {
		viol(V_OTHER, "open %s: %s", GT_DEV, strerror(errno));
		return -1;
	}
	o = slot_alloc(c->g, single);
	if (o < 0)
		viol(V_OTHER, "out of owner slots");
	return o;
}

/* The kernel's view of @o's depths, after a lent child was killed. */
static void resync(int o, int fd)
{
	struct oslot *os = &M->o[o];
	struct glock_state st;

	for (int l = 0; l < NL; l++) {
		bool inflight = A_LOAD(&os->in[l].op) != I_NONE;

		if (gt_state(fd, M->names[l], &st)) {
			viol(V_ERRNO, "%s: STATE failed: %s", M->names[l], strerror(errno));
			continue;
		}
		if (st.depth != os->depth[l] && !inflight)
			viol(V_DEPTH, "%s: owner %d has depth %u in STATE, %u in the model",
			     M->names[l], o, st.depth, os->depth[l]);
		if (st.depth && !os->depth[l]) {
			model_grant(o, l, st.mode, 0, 0, 1);
			A_STORE(&os->depth[l], st.depth);
		} else if (!st.depth && os->depth[l]) {
			A_STORE(&os->depth[l], 0);
			A_AND(&M->l[l].ex, ~(1ULL << o));
			A_AND(&M->l[l].sh, ~(1ULL << o));
		} else {
			A_STORE(&os->depth[l], st.depth);
		}
		A_STORE(&os->in[l].op, I_NONE);
	}
	A_ADD(&M->resyncs, 1);
}

/* Lend owner @o to a forked child for a few requests; maybe kill it. */
static void fork_op(struct wctx *c, int o, int fd, int other_fd)
{
	pid_t pid;
	int64_t end;
	int status;

	inop(c, 30 * GT_NSEC);
	pid = fork();
	if (pid < 0) {
		viol(V_OTHER, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		struct wctx cc = *c;
		int n;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (other_fd >= 0)
			close(other_fd);
		cc.child = true;
		cc.seed = mix(c->seed, 77);
		n = 1 + rn(&cc.seed, 20);
		for (int i = 0; i < n && !A_LOAD(&M->stop); i++)
			step(&cc, o, fd, (1U << NL) - 1, false);
		_exit(0);
	}
	A_ADD(&M->forks, 1);
	if (rn(&c->seed, 2)) {
		sleep_us(rn(&c->seed, 3000));
		kill(pid, SIGKILL);
		A_ADD(&M->child_kills, 1);
	}
	end = gt_now() + 25 * GT_NSEC;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (gt_now() > end) {
			viol(V_HANG, "lent child %d did not finish in 25 s", pid);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		sleep_us(500);
	}
	/* The owner lives on in this process: nothing was abandoned. */
	resync(o, fd);
	inop(c, 0);
}

/* ---- workers ------------------------------------------------------------ */

struct tctx {
	struct wctx c;
	int shared_o, shared_fd;
	pthread_t th;
};

static unsigned int share_mask(int t)
{
	unsigned int m = 0;

	for (int l = 0; l < NL; l++)
		if (l % NTHR_MT == t)
			m |= 1U << l;
	return m;
}

/* A thread of a multithreaded worker: a private owner and the shared one. */
static void *mt_thread(void *arg)
{
	struct tctx *x = arg;
	struct wctx *c = &x->c;
	int fd, o = open_owner(c, &fd, 1);

	if (o < 0)
		return NULL;
	while (!A_LOAD(&M->stop)) {
		/*
		 * A wait without deadline only while the thread's other owner
		 * holds nothing: else it could wait for itself, which no
		 * owner-based deadlock detection can see.
		 */
		if (rn(&c->seed, 100) < 30)
			step(c, x->shared_o, x->shared_fd, share_mask(c->t),
			     !owner_holds(&M->o[o]));
		else
			step(c, o, fd, (1U << NL) - 1,
			     !owner_holds_in(&M->o[x->shared_o], share_mask(c->t)));
	}
	release_all(c, x->shared_o, x->shared_fd, share_mask(c->t));
	if (!close_owner(c, o, &fd))
		wait_to_die();
	return NULL;
}

static void mt_worker(int g, uint64_t seed)
{
	struct tctx x[NTHR_MT];
	int sfd, so;
	struct wctx c0 = { .g = g, .t = 0, .seed = seed };

	so = open_owner(&c0, &sfd, 0);
	if (so < 0)
		_exit(1);
	for (int t = 0; t < NTHR_MT; t++) {
		x[t].c = (struct wctx){ .g = g, .t = t, .seed = mix(seed, t) };
		x[t].shared_o = so;
		x[t].shared_fd = sfd;
		if (t && pthread_create(&x[t].th, NULL, mt_thread, &x[t])) {
			viol(V_OTHER, "pthread_create failed");
			_exit(1);
		}
	}
	mt_thread(&x[0]);
	for (int t = 1; t < NTHR_MT; t++)
		pthread_join(x[t].th, NULL);
	if (!close_owner(&c0, so, &sfd))
		wait_to_die();
	_exit(0);
}

/* A single-threaded worker: two private owners, dup, close, fork. */
static void st_worker(int g, uint64_t seed)
{
	struct wctx c = { .g = g, .t = 0, .seed = seed };
	int fd[2], o[2];

	for (int i = 0; i < 2; i++) {
		o[i] = open_owner(&c, &fd[i], 1);
		if (o[i] < 0)
			_exit(1);
	}
	while (!A_LOAD(&M->stop)) {
		unsigned int k = rn(&c.seed, 1000);
		int i = rn(&c.seed, 2);

		if (k < 6) {
			/* dup, close the original: the owner lives on. */
			int nfd = dup(fd[i]);
			struct glock_state st;
			int l = rn(&c.seed, NL);

			if (nfd < 0) {
				viol(V_OTHER, "dup: %s", strerror(errno));
				continue;
			}
			close(fd[i]);
			fd[i] = nfd;
			A_ADD(&M->dups, 1);
			if (gt_state(fd[i], M->names[l], &st))
				viol(V_ERRNO, "STATE after dup: %s", strerror(errno));
			else if (st.depth != M->o[o[i]].depth[l] &&
				 !M->o[o[i]].fake[l])
				viol(V_DEPTH, "%s: depth %u after dup+close, model %u",
				     M->names[l], st.depth, M->o[o[i]].depth[l]);
		} else if (k < 10) {
			if (!close_owner(&c, o[i], &fd[i]))
				wait_to_die();
			o[i] = open_owner(&c, &fd[i], 1);
			if (o[i] < 0)
				_exit(1);
		} else if (k < 16) {
			fork_op(&c, o[i], fd[i], fd[1 - i]);
		} else {
			step(&c, o[i], fd[i], (1U << NL) - 1,
			     !owner_holds(&M->o[o[1 - i]]));
		}
	}
	for (int i = 0; i < 2; i++)
		if (!close_owner(&c, o[i], &fd[i]))
			wait_to_die();
	_exit(0);
}

static pid_t spawn(int g)
{
	int gen = ++M->w[g].gen;
	uint64_t seed = mix(master_seed, (uint64_t)g << 32 | gen);
	pid_t pid;

	A_STORE(&M->w[g].crit, 0);
	memset(M->w[g].since, 0, sizeof(M->w[g].since));
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		gt_close_other_fds(-1, -1, -1);	/* not the supervisor's owner */
		if (g < NMT)
			mt_worker(g, seed);
		else
			st_worker(g, seed);
		_exit(0);
	}
	setpgid(pid, pid);
	M->w[g].pid = pid;
	return pid;
}

/* ---- the supervisor ----------------------------------------------------- */

struct victim {
	int g;
	bool proven[MAXO][NL];
};

/* Reap whatever ended: workers, and children they left (subreaper). */
static void reap_any(void)
{
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0)
		;
}

static bool group_gone(pid_t pgid)
{
	return kill(-pgid, 0) && errno == ESRCH;
}

static bool group_waits(int g)
{
	for (int o = 0; o < MAXO; o++) {
		struct oslot *os = &M->o[o];

		if (A_LOAD(&os->state) != 1 || os->group != g)
			continue;
		for (int l = 0; l < NL; l++)
			if (A_LOAD(&os->in[l].op) == I_LOCK && !os->depth[l] &&
			    os->in[l].tmo)
				return true;
	}
	return false;
}

static bool group_holds(int g)
{
	for (int o = 0; o < MAXO; o++)
		if (A_LOAD(&M->o[o].state) == 1 && M->o[o].group == g &&
		    owner_holds(&M->o[o]))
			return true;
	return false;
}

static bool compatible(uint32_t a, uint32_t b)
{
	return a == GLOCK_SHARED && b == GLOCK_SHARED;
}

/*
 * Kill group @v->g. Before the kill, note each blocking request in flight
 * with the live incompatible holders of its name; after it, a request still
 * in flight behind a holder that still holds the very same hold (same
 * generation) could not have been granted before the kill: it must never
 * be granted at all.
 */
struct pend {
	int o, l;
	uint32_t seq;
	int n;
	int p[MAXO];
	uint64_t gen[MAXO];
};

static bool kill_group(struct victim *v)
{
	static struct pend pend[MAXO * NL];
	int g = v->g, np = 0, z = 0;
	uint64_t mine = 0;

	memset(v->proven, 0, sizeof(v->proven));
	if (M->w[g].pid <= 0 || !A_CAS(&M->w[g].crit, &z, KILLBIT))
		return false;
	for (int o = 0; o < MAXO; o++)
		if (A_LOAD(&M->o[o].state) == 1 && M->o[o].group == g)
			mine |= 1ULL << o;
	for (int o = 0; o < MAXO; o++) {
		struct oslot *os = &M->o[o];

		if (!(mine & (1ULL << o)))
			continue;
		for (int l = 0; l < NL; l++) {
			struct intent *in = &os->in[l];
			struct pend *p = &pend[np];
			uint64_t dying = A_LOAD(&M->dying);

			if (A_LOAD(&in->op) != I_LOCK || A_LOAD(&os->depth[l]) ||
			    !in->tmo)
				continue;
			p->o = o;
			p->l = l;
			p->seq = A_LOAD(&in->seq);
			p->n = 0;
			for (int q = 0; q < MAXO; q++) {
				struct oslot *qs = &M->o[q];

				if ((mine | dying) & (1ULL << q) ||
				    A_LOAD(&qs->state) != 1 ||
				    !A_LOAD(&qs->depth[l]) ||
				    compatible(qs->mode[l], in->mode) ||
				    qs->fake[l])
					continue;
				p->p[p->n] = q;
				p->gen[p->n++] = A_LOAD(&qs->hgen[l]);
			}
			if (A_LOAD(&in->op) == I_LOCK && A_LOAD(&in->seq) == p->seq)
				np++;
		}
	}
	A_OR(&M->dying, mine);
	kill(-M->w[g].pid, SIGKILL);
	A_ADD(&M->kills, 1);
	for (int i = 0; i < np; i++) {
		struct pend *p = &pend[i];
		struct intent *in = &M->o[p->o].in[p->l];

		if (A_LOAD(&in->op) != I_LOCK || A_LOAD(&in->seq) != p->seq)
			continue;
		for (int k = 0; k < p->n; k++) {
			struct oslot *qs = &M->o[p->p[k]];

			if (A_LOAD(&qs->state) == 1 && A_LOAD(&qs->depth[p->l]) &&
			    A_LOAD(&qs->hgen[p->l]) == p->gen[k]) {
				v->proven[p->o][p->l] = true;
				break;
			}
		}
	}
	return true;
}

/* Wait for a killed group to be gone, account its owners, respawn. */
static void bury(struct victim *v, bool respawn)
{
	int g = v->g;
	pid_t pgid = M->w[g].pid;
	int64_t end = gt_now() + 20 * GT_NSEC;

	while (!group_gone(pgid)) {
		reap_any();
		if (gt_now() > end) {
			viol(V_HANG, "killed worker group %d (pgid %d) still there after 20 s",
			     g, pgid);
			break;
		}
		sleep_us(300);
	}
	for (int o = 0; o < MAXO; o++)
		if (A_LOAD(&M->o[o].state) == 1 && M->o[o].group == g)
			slot_end(o, true, v->proven[o]);
	M->w[g].pid = 0;
	if (respawn && spawn(g) < 0)
		viol(V_OTHER, "respawn of worker %d failed", g);
}

/* A lock one group waits for while another group holds it, incompatibly. */
static bool find_pair(uint64_t *s, int *gw, int *gh)
{
	int start = rn(s, MAXO);

	for (int i = 0; i < MAXO; i++) {
		int o = (start + i) % MAXO;
		struct oslot *os = &M->o[o];

		if (A_LOAD(&os->state) != 1)
			continue;
		for (int l = 0; l < NL; l++) {
			if (A_LOAD(&os->in[l].op) != I_LOCK || os->depth[l] ||
			    !os->in[l].tmo)
				continue;
			for (int q = 0; q < MAXO; q++) {
				struct oslot *qs = &M->o[q];

				if (A_LOAD(&qs->state) == 1 && qs->group != os->group &&
				    qs->depth[l] && !compatible(qs->mode[l], os->in[l].mode)) {
					*gw = os->group;
					*gh = qs->group;
					return true;
				}
			}
		}
	}
	return false;
}

static void dump_debugfs(void)
{
	char *buf = gt_debugfs("locks"), *line, *save = NULL;
	int n = 0;

	if (!buf)
		return;
	for (line = strtok_r(buf, "\n", &save); line && n < 60;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, M->names[0]) || strstr(line, "=gt-")) {
			printf("# debugfs: %s\n", line);
			n++;
		}
	free(buf);
}

static void watchdog(int64_t *last_ops_t, long long *last_ops)
{
	int64_t now = gt_now();
	long long ops = A_LOAD(&M->ops);

	if (ops != *last_ops) {
		*last_ops = ops;
		*last_ops_t = now;
	} else if (now - *last_ops_t > 20 * GT_NSEC) {
		viol(V_HANG, "no request completed for 20 s");
		dump_debugfs();
		*last_ops_t = now;
	}
	for (int g = 0; g < NW; g++)
		for (int t = 0; t < MAXT; t++) {
			int64_t since = A_LOAD(&M->w[g].since[t]);
			int64_t bound = A_LOAD(&M->w[g].bound[t]);

			if (since && now - since > bound + 5 * GT_NSEC) {
				viol(V_HANG, "worker %d thread %d: request not done after %lld ms",
				     g, t, (long long)((now - since) / GT_MSEC));
				dump_debugfs();
				A_STORE(&M->w[g].since[t], 0);
			}
		}
}

static int tap_n;
static int tap(bool ok, const char *what)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++tap_n, what);
	return ok ? 0 : 1;
}

int main(void)
{
	const char *e;
	int64_t secs = 20, t_end, last_ops_t;
	long long last_ops = -1, v0;
	uint64_t srng;
	int fd, fails = 0;
	bool clean = true, consumed_once = true;
	long long seen = 0, certain = 0, possible = 0, proven = 0;
	bool abandon_ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	fd = gt_open();
	if (fd < 0) {
		printf("1..0 # SKIP %s: %s\n", GT_DEV, strerror(errno));
		return 4;
	}
	e = getenv("GLOCK_SEED");
	master_seed = e && *e ? strtoull(e, NULL, 0) : (uint64_t)gt_now() ^ getpid();
	e = getenv("GLOCK_STRESS_SECS");
	if (e && *e)
		secs = strtoll(e, NULL, 0);
	M = mmap(NULL, sizeof(*M), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (M == MAP_FAILED) {
		printf("1..0 # SKIP mmap failed\n");
		return 4;
	}
	memset(M, 0, sizeof(*M));
	e = getenv("GLOCK_MODEL_STRICT");
	strict4 = STRICT_ITEM4 || (e && atoi(e));
	e = getenv("GLOCK_MODEL_BREAK");
	if (e && !strcmp(e, "exclusion"))
		M->brk = 1;
	for (int l = 0; l < NL; l++)
		snprintf(M->names[l], sizeof(M->names[l]), "gt-%d-m%d",
			 (int)getpid(), l);
	printf("# model: seed %#llx (GLOCK_SEED to replay), %lld s, %d names, "
	       "%d worker groups%s\n", (unsigned long long)master_seed,
	       (long long)secs, NL, NW,
	       M->brk ? ", BREAK=exclusion (must fail)" : "");
	printf("1..7\n");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	srng = mix(master_seed, 0xfeed);

	for (int g = 0; g < NW; g++)
		if (spawn(g) < 0) {
			printf("Bail out! fork failed\n");
			return 1;
		}
	t_end = gt_now() + secs * GT_NSEC;
	last_ops_t = gt_now();
	while (gt_now() < t_end) {
		unsigned int k;
		struct victim *v = calloc(2, sizeof(*v));
		int gw, gh;

		sleep_us(5000 + rn(&srng, 80000));
		reap_any();
		watchdog(&last_ops_t, &last_ops);
		k = rn(&srng, 100);
		if (k < 25 && find_pair(&srng, &gw, &gh) && gw != gh) {
			/* The waiter first, then the holder it waits for. */
			v[0].g = gw;
			v[1].g = gh;
			if (kill_group(&v[0])) {
				A_ADD(&M->kill_waiters, 1);
				if (kill_group(&v[1])) {
					A_ADD(&M->kill_holders, 1);
					A_ADD(&M->pair_kills, 1);
					bury(&v[1], true);
				}
				bury(&v[0], true);
			}
		} else {
			int g = rn(&srng, NW);

			/* Mostly a group caught waiting, else any. */
			for (int i = 0; k < 75 && i < NW; i++) {
				int h = (g + i) % NW;

				if (group_waits(h)) {
					g = h;
					break;
				}
			}
			v[0].g = g;
			if (group_waits(g))
				A_ADD(&M->kill_waiters, 1);
			if (group_holds(g))
				A_ADD(&M->kill_holders, 1);
			if (kill_group(&v[0]))
				bury(&v[0], true);
		}
		free(v);
	}

	/* Stop: workers release, close and exit; bounded. */
	A_STORE(&M->stop, 1);
	{
		int64_t end = gt_now() + 40 * GT_NSEC;

		for (;;) {
			bool any = false;

			reap_any();
			for (int g = 0; g < NW; g++)
				if (M->w[g].pid && !group_gone(M->w[g].pid))
					any = true;
			if (!any)
				break;
			watchdog(&last_ops_t, &last_ops);
			if (gt_now() > end) {
				viol(V_HANG, "workers did not stop within 40 s");
				dump_debugfs();
				for (int g = 0; g < NW; g++)
					if (M->w[g].pid && !group_gone(M->w[g].pid)) {
						struct victim v = { .g = g };

						A_STORE(&M->w[g].crit, 0);
						kill_group(&v);
						bury(&v, false);
					}
				break;
			}
			sleep_us(2000);
		}
	}
	for (int o = 0; o < MAXO; o++)
		if (A_LOAD(&M->o[o].state) == 1)
			slot_end(o, true, NULL);

	/* Take every name once: a pending mark goes to exactly this taker. */
	for (int l = 0; l < NL; l++) {
		uint32_t result = 0, depth = 0;
		struct glock_state st;

		if (gt_lock_full(fd, M->names[l], GLOCK_EXCLUSIVE, 5 * GT_NSEC, 0,
				 &result, &depth)) {
			viol(V_OTHER, "%s: final take failed: %s", M->names[l], strerror(errno));
			clean = false;
			continue;
		}
		if (result & GLOCK_R_ABANDONED)
			M->l[l].seen++;
		gt_unlock(fd, M->names[l]);
		if (gt_lock_full(fd, M->names[l], GLOCK_EXCLUSIVE, 0, 0, &result,
				 &depth) || result) {
			consumed_once = false;
			viol(V_ABANDON, "%s: second final take: ret/result %#x", M->names[l], result);
		}
		gt_unlock(fd, M->names[l]);
		if (gt_state(fd, M->names[l], &st) || st.holders || st.waiters ||
		    st.result || st.mode) {
			clean = false;
			viol(V_OTHER, "%s: left behind: holders %u waiters %u result %#x",
			     M->names[l], st.holders, st.waiters, st.result);
		}
	}
	close(fd);
	{
		char *buf = gt_debugfs("locks");
		char pfx[80];

		snprintf(pfx, sizeof(pfx), "gt-%d-m", (int)getpid());
		if (!buf) {
			printf("# debugfs locks not readable: not checked\n");
		} else if (strstr(buf, pfx)) {
			clean = false;
			viol(V_OTHER, "debugfs still lists %s*", pfx);
			dump_debugfs();
		}
		free(buf);
	}

	v0 = M->violations;
	for (int l = 0; l < NL; l++) {
		struct lockm *L = &M->l[l];

		printf("# %s: abandoned seen %lld, expected %lld (+%lld from dying "
		       "grants), killed waiters not granted %lld\n", M->names[l], L->seen,
		       L->certain, L->possible, L->proven);
		seen += L->seen;
		certain += L->certain;
		possible += L->possible;
		proven += L->proven;
		if (L->seen < L->certain) {
			abandon_ok = false;
			viol(V_ABANDON, "%s: %lld abandoned marks lost (seen %lld < certain %lld)",
			     M->names[l], L->certain - L->seen, L->seen, L->certain);
		}
		if (L->seen > L->certain + L->possible) {
			abandon_ok = false;
			viol(V_ABANDON, "%s: %lld false abandoned (seen %lld > certain %lld + possible %lld)",
			     M->names[l], L->seen - L->certain - L->possible, L->seen,
			     L->certain, L->possible);
		}
	}
	printf("# totals: ops %lld, grants %lld, EAGAIN %lld, ETIMEDOUT %lld, "
	       "EDEADLK %lld, EPERM %lld, EINVAL %lld\n", M->ops, M->grants,
	       M->eagain, M->etimedout, M->edeadlk, M->eperm, M->einval);
	printf("# totals: kills %lld (groups caught waiting %lld, holding %lld, "
	       "waiter+holder pairs %lld), closes %lld, dups %lld, lent forks %lld "
	       "(killed %lld)\n", M->kills, M->kill_waiters, M->kill_holders,
	       M->pair_kills, M->closes, M->dups, M->forks, M->child_kills);
	printf("# totals: abandons seen %lld, expected %lld..%lld; killed waiters "
	       "provably never to be granted %lld, of which granted anyway "
	       "(issue 9 item 4) %lld; violations %lld\n", seen, certain,
	       certain + possible, proven + M->dying_grants, M->dying_grants,
	       M->violations);
	for (int i = 0; i < M->nmsg && i < NMSG; i++)
		printf("# violation: %s\n", M->msg[i]);
	if (M->violations > NMSG)
		printf("# ... and %lld more\n", M->violations - NMSG);
	(void)v0;

	fails += tap(!M->vcat[V_EXCL],
		     "model: exclusion (no exclusive holder with any other)");
	fails += tap(!M->vcat[V_DEPTH], "model: depths equal the model's");
	fails += tap(abandon_ok && consumed_once && !M->vcat[V_ABANDON],
		     "model: abandoned delivered exactly once, never falsely");
	fails += tap(!M->vcat[V_ERRNO],
		     "model: only allowed errors, no EDEADLK without a cycle");
	fails += tap(!M->vcat[V_HANG], "model: no hang (watchdog)");
	if (!M->vcat[V_DYING] || strict4) {
		fails += tap(!M->vcat[V_DYING],
			     "model: a waiter killed behind a live holder is never granted (issue 9 item 4)");
	} else {
		printf("ok %d model: a waiter killed behind a live holder is never granted # SKIP known bug, issue 9 item 4: %lld such grants (GLOCK_MODEL_STRICT=1 fails on it)\n",
		       ++tap_n, M->vcat[V_DYING]);
	}
	fails += tap(clean && M->violations == (strict4 ? 0 : M->vcat[V_DYING]),
		     "model: nothing left behind, no other violation");
	return fails ? 1 : 0;
}
