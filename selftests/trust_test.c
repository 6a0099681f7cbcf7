// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock under attack and bad luck: IPC namespaces never share names,
 * holders or marks; the cycle search is exact for shared batches and
 * bounded in cost; a grant that never reaches user space (a killed waiter,
 * an output page that went away) passes the lock and its abandoned mark on;
 * recursion depth and the per-owner limit hold exactly.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

/* Only for the per-test timeouts of TEST_F_TIMEOUT. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

static int64_t ms_since(int64_t t0)
{
	return (gt_now() - t0) / GT_MSEC;
}

/* A child in a new IPC namespace with a /dev/glock opened there. */
static int child_in_new_ns(struct gt_child *c)
{
	if (gt_child_start(c, -1, "gt-ns"))
		return -1;
	if (gt_child_call(c, GT_OP_UNSHARE_IPC, NULL, 0, 0, NULL) ||
	    gt_child_call(c, GT_OP_CLOSE, NULL, 0, 0, NULL) ||
	    gt_child_call(c, GT_OP_OPEN, NULL, 0, 0, NULL))
		return -1;
	return 0;
}

/*
 * A holder dies in a namespace that then dies too (its mark outlives
 * both): a new namespace, likely at the old one's address, must not see
 * that mark.
 */
TEST_F_TIMEOUT(slow, ns_mark_stays_in_its_namespace, 120)
{
	const char *x = gt_name("nsmark");
	struct gt_child a, b;
	struct gt_rep rp;

	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, child_in_new_ns(&a));
		ASSERT_EQ(0, gt_child_lock(&a, x, GLOCK_EXCLUSIVE, 0));
		gt_child_kill(&a);
		/* Let the dead namespace's deferred free run. */
		gt_sleep_ms(50);

		ASSERT_EQ(0, child_in_new_ns(&b));
		ASSERT_EQ(0, gt_child_call(&b, GT_OP_LOCK, x, GLOCK_EXCLUSIVE,
					   0, &rp)) TH_LOG("round %d", i);
		EXPECT_EQ(0, rp.result & GLOCK_R_ABANDONED)
			TH_LOG("round %d: another namespace's mark", i);
		gt_child_kill(&b);
		gt_sleep_ms(50);
	}
}

/*
 * The namespace dies first, while the holder's file lives on (the holder
 * moved to yet another namespace): a new namespace must not see its hold.
 */
TEST(ns_hold_stays_in_its_namespace)
{
	const char *x = gt_name("nshold");
	struct gt_child a, b;
	struct gt_rep rp;

	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, child_in_new_ns(&a));
		ASSERT_EQ(0, gt_child_lock(&a, x, GLOCK_EXCLUSIVE, 0));
		ASSERT_EQ(0, gt_child_call(&a, GT_OP_UNSHARE_IPC, NULL, 0, 0,
					   NULL));
		gt_sleep_ms(50);

		ASSERT_EQ(0, child_in_new_ns(&b));
		ASSERT_EQ(0, gt_child_call(&b, GT_OP_STATE, x, 0, 0, &rp));
		EXPECT_EQ(0, rp.st.holders) TH_LOG("round %d", i);
		EXPECT_EQ(0, gt_child_lock(&b, x, GLOCK_EXCLUSIVE, 0))
			TH_LOG("round %d: %s", i, strerror(errno));
		/* The first namespace's lock is still there for its file. */
		ASSERT_EQ(0, gt_child_call(&a, GT_OP_STATE, x, 0, 0, &rp));
		EXPECT_EQ(1, rp.st.holders);
		EXPECT_EQ(1, rp.st.depth);
		gt_child_kill(&b);
		gt_child_kill(&a);
	}
}

/*
 * Owner B has two requests queued: shared on L (held exclusive by A) and
 * exclusive on M (held by C). C's request on L waits for A only when it is
 * shared (granted in B's batch), and for B too when it is exclusive.
 */
static void shared_batch(struct __test_metadata *_metadata, uint32_t cmode,
			 bool expect_cycle)
{
	const char *l = gt_name("batch-l"), *m = gt_name("batch-m");
	struct gt_child a, b1, b2, c;
	struct gt_rep rp;
	int fd = gt_open(), fdb = gt_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fdb);
	ASSERT_EQ(0, gt_child_start(&a, -1, "gt-a"));
	ASSERT_EQ(0, gt_child_start(&b1, fdb, "gt-b"));
	ASSERT_EQ(0, gt_child_start(&b2, fdb, "gt-b"));
	ASSERT_EQ(0, gt_child_start(&c, -1, "gt-c"));
	close(fdb);

	ASSERT_EQ(0, gt_child_lock(&a, l, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_lock(&c, m, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&b1, GT_OP_LOCK, l, GLOCK_SHARED, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(fd, l, 1));
	ASSERT_EQ(0, gt_child_send(&b2, GT_OP_LOCK, m, GLOCK_EXCLUSIVE, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(fd, m, 1));

	ASSERT_EQ(0, gt_child_send(&c, GT_OP_LOCK, l, cmode, -1, 0));
	if (expect_cycle) {
		ASSERT_EQ(0, gt_child_wait(&c, &rp, GT_SOON_MS));
		EXPECT_EQ(-1, rp.ret);
		EXPECT_EQ(EDEADLK, rp.err);
	} else {
		ASSERT_EQ(0, gt_wait_waiters(fd, l, 2))
			TH_LOG("C's shared request did not queue");
		EXPECT_FALSE(gt_child_ready(&c));
		/* A lets go: B's and C's shared requests come in one batch. */
		ASSERT_EQ(0, gt_child_unlock(&a, l));
		ASSERT_EQ(0, gt_child_wait(&c, &rp, GT_SOON_MS));
		EXPECT_EQ(0, rp.ret) TH_LOG("C: %s", strerror(rp.err));
		ASSERT_EQ(0, gt_child_wait(&b1, &rp, GT_SOON_MS));
		EXPECT_EQ(0, rp.ret);
	}
	gt_child_kill(&a);
	gt_child_kill(&b1);
	gt_child_kill(&b2);
	gt_child_kill(&c);
	close(fd);
}

TEST(shared_behind_shared_is_no_cycle)
{
	shared_batch(_metadata, GLOCK_SHARED, false);
}

/* Control: the same wait-for graph with an exclusive request is a cycle. */
TEST(exclusive_behind_shared_is_a_cycle)
{
	shared_batch(_metadata, GLOCK_EXCLUSIVE, true);
}

/*
 * A waiter killed just before the holder lets go may still be granted the
 * lock on its way out. That grant never reaches user space and must
 * vanish: no false abandoned mark after a plain unlock (@holder_dies
 * false), no mark swallowed after a holder's death. The kill comes first,
 * so any grant the waiter gets is one it can never use.
 */
static void killed_waiter_race(struct __test_metadata *_metadata,
			       bool holder_dies)
{
	const char *x = gt_name(holder_dies ? "kw-dead" : "kw-unlock");
	struct gt_child h = { .pid = 0 }, w;
	int fd = gt_open(), bad = 0;
	uint32_t result;

	ASSERT_LE(0, fd);
	for (int i = 0; i < 150; i++) {
		if (holder_dies) {
			ASSERT_EQ(0, gt_child_start(&h, -1, "gt-holder"));
			ASSERT_EQ(0, gt_child_lock(&h, x, GLOCK_EXCLUSIVE, 0));
		} else {
			ASSERT_EQ(0, gt_lock(fd, x, GLOCK_EXCLUSIVE, 0));
		}
		ASSERT_EQ(0, gt_child_start(&w, -1, "gt-waiter"));
		ASSERT_EQ(0, gt_child_send(&w, GT_OP_LOCK, x, GLOCK_EXCLUSIVE,
					   -1, 0));
		ASSERT_EQ(0, gt_wait_waiters(fd, x, 1));

		kill(w.pid, SIGKILL);
		for (volatile int spin = 0; spin < (i % 30) * 100; spin++)
			;
		if (holder_dies)
			kill(h.pid, SIGKILL);
		else
			ASSERT_EQ(0, gt_unlock(fd, x));
		gt_child_kill(&w);
		if (holder_dies)
			gt_child_kill(&h);

		ASSERT_EQ(0, gt_lock_full(fd, x, GLOCK_EXCLUSIVE, 0, 0,
					  &result, NULL))
			TH_LOG("round %d: %s", i, strerror(errno));
		if (!!(result & GLOCK_R_ABANDONED) != holder_dies)
			bad++;
		ASSERT_EQ(0, gt_unlock(fd, x));
	}
	EXPECT_EQ(0, bad) TH_LOG("%d of 150 rounds %s", bad, holder_dies ?
				 "lost the mark" : "saw a false mark");
	close(fd);
}

TEST_F_TIMEOUT(slow, killed_waiter_no_false_abandon, 180)
{
	killed_waiter_race(_metadata, false);
}

TEST_F_TIMEOUT(slow, killed_waiter_keeps_the_mark, 180)
{
	killed_waiter_race(_metadata, true);
}

struct efault_req {
	int fd;
	struct glock_lock *lk;
	int ret;
	int err;
};

static void *efault_locker(void *arg)
{
	struct efault_req *r = arg;

	r->ret = ioctl(r->fd, GLOCK_IOC_LOCK, r->lk);
	r->err = errno;
	return NULL;
}

/* The output page goes away during the wait: EFAULT, and the mark stays. */
TEST(efault_after_wait_keeps_the_mark)
{
	const char *x = gt_name("efault");
	struct efault_req r = {};
	struct gt_child h;
	pthread_t t;
	uint32_t result;
	long pg = sysconf(_SC_PAGESIZE);
	void *page;

	r.fd = gt_open();
	ASSERT_LE(0, r.fd);
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	r.lk = page;
	gt_fill_lock(r.lk, x, strlen(x), GLOCK_EXCLUSIVE, -1, 0);

	ASSERT_EQ(0, gt_child_start(&h, -1, "gt-holder"));
	ASSERT_EQ(0, gt_child_lock(&h, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, efault_locker, &r));
	ASSERT_EQ(0, gt_wait_waiters(r.fd, x, 1));
	ASSERT_EQ(0, munmap(page, pg));
	gt_child_kill(&h);		/* abandoned, handed to the waiter */
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-1, r.ret);
	EXPECT_EQ(EFAULT, r.err);

	/* Nothing changed: free, and the next taker is told. */
	ASSERT_EQ(0, gt_lock_full(r.fd, x, GLOCK_EXCLUSIVE, 0, 0, &result,
				  NULL));
	EXPECT_EQ(GLOCK_R_ABANDONED, result & GLOCK_R_ABANDONED);
	close(r.fd);
}

/*
 * An object with many holders finds refs by hash; with few again, a new
 * holder must still be found (its unlock is not EPERM).
 */
TEST(many_holders_then_few)
{
	const char *x = gt_name("many");
	int fds[8], late;

	for (int i = 0; i < 8; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, gt_lock(fds[i], x, GLOCK_SHARED, 0));
	}
	for (int i = 1; i < 8; i++)
		ASSERT_EQ(0, gt_unlock(fds[i], x));
	late = gt_open();
	ASSERT_LE(0, late);
	ASSERT_EQ(0, gt_lock(late, x, GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_unlock(late, x)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, gt_unlock(fds[0], x)) TH_LOG("%s", strerror(errno));
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	close(late);
}

/* Median time of @n shared lock+unlock pairs of @name through @fd, ns. */
static int64_t pair_median(int fd, const char *name, int n)
{
	int64_t t[101], t0;

	if (n > 101)
		n = 101;
	for (int i = 0; i < n; i++) {
		t0 = gt_now();
		if (gt_lock(fd, name, GLOCK_SHARED, 0) || gt_unlock(fd, name))
			return -1;
		t[i] = gt_now() - t0;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			int64_t x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[n / 2];
}

/*
 * Finding an owner's ref costs the same with 4,000 other shared holders as
 * with one: no lookup walks the holders (the old code walked them twice
 * per LOCK and once per UNLOCK, under the bucket lock).
 */
TEST_F_TIMEOUT(slow, lookup_cost_does_not_grow_with_holders, 120)
{
	const char *x = gt_name("many-holders"), *one = gt_name("one-holder");
	struct rlimit rl = { 8192, 8192 };
	int64_t base, crowd;
	int *fds, fd;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(4000, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	for (int i = 0; i < 4000; i++) {
		fds[i] = gt_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, gt_lock(fds[i], x, GLOCK_SHARED, 0));
	}
	ASSERT_EQ(0, gt_lock(fds[0], one, GLOCK_SHARED, 0));
	fd = gt_open();
	ASSERT_LE(0, fd);
	base = pair_median(fd, one, 101);
	crowd = pair_median(fd, x, 101);
	ASSERT_LT(0, base);
	ASSERT_LT(0, crowd);
	TH_LOG("shared pair: %lld ns beside 1 holder, %lld ns beside 4000",
	       (long long)base, (long long)crowd);
	/* On a debug kernel (scale > 1) cost is not what is judged. */
	EXPECT_GE(3 * gt_time_scale() * base, crowd);
	close(fd);
	for (int i = 0; i < 4000; i++)
		close(fds[i]);
	free(fds);
}

/* Recursion stops at max_depth with EOVERFLOW; the parameter is checked. */
TEST(depth_is_capped)
{
	const char *x = gt_name("depth");
	long long saved = gt_param_get("max_depth");
	struct glock_state st;
	uint32_t depth;
	int fd = gt_open();

	ASSERT_LE(0, fd);
	ASSERT_LT(0, saved) TH_LOG("no max_depth parameter");
	EXPECT_EQ(65535, saved);
	EXPECT_EQ(-1, gt_param_set("max_depth", 0));
	EXPECT_EQ(-1, gt_param_set("max_depth", 2147483648LL));
	EXPECT_EQ(saved, gt_param_get("max_depth"));
	EXPECT_EQ(0, gt_param_set("max_depth", 2147483647LL));
	ASSERT_EQ(0, gt_param_set("max_depth", 3));

	for (int i = 1; i <= 3; i++) {
		ASSERT_EQ(0, gt_lock_full(fd, x, GLOCK_SHARED, 0, 0, NULL,
					  &depth));
		EXPECT_EQ(i, depth);
	}
	EXPECT_EQ(-1, gt_lock(fd, x, GLOCK_SHARED, -1));
	EXPECT_EQ(EOVERFLOW, errno);
	ASSERT_EQ(0, gt_state(fd, x, &st));
	EXPECT_EQ(3, st.depth);
	EXPECT_EQ(1, st.holders);
	gt_param_set("max_depth", saved);
	close(fd);
}

/* The other limits' parameters refuse nonsense too. */
TEST(parameters_are_checked)
{
	static const char *const params[] = {
		"max_locks_per_owner", "max_locks", "max_deadlock_steps",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(params); i++) {
		long long saved = gt_param_get(params[i]);

		ASSERT_LT(0, saved) TH_LOG("%s", params[i]);
		EXPECT_EQ(-1, gt_param_set(params[i], 0)) TH_LOG("%s",
								  params[i]);
		EXPECT_EQ(-1, gt_param_set(params[i], -1)) TH_LOG("%s",
								   params[i]);
		EXPECT_EQ(saved, gt_param_get(params[i]));
		/* A module that took the nonsense must not keep it. */
		gt_param_set(params[i], saved);
	}
	EXPECT_EQ(4096, gt_param_get("max_deadlock_steps"));
}

#define LIM_THREADS	8
#define LIM_NAMES	4

struct lim_ctx {
	int fd;
	pthread_barrier_t go;
	int got[LIM_THREADS];
	char names[LIM_THREADS][LIM_NAMES][64];
};

struct lim_arg {
	struct lim_ctx *ctx;
	int i;
};

static void *lim_thread(void *p)
{
	struct lim_arg *a = p;
	struct lim_ctx *ctx = a->ctx;

	pthread_barrier_wait(&ctx->go);
	for (int k = 0; k < LIM_NAMES; k++)
		if (!gt_trylock(ctx->fd, ctx->names[a->i][k], GLOCK_SHARED))
			ctx->got[a->i]++;
	return NULL;
}

/* Threads of one owner racing for distinct names never pass the limit. */
TEST_F_TIMEOUT(slow, per_owner_limit_is_exact, 120)
{
	long long saved = gt_param_get("max_locks_per_owner");
	struct lim_arg args[LIM_THREADS];
	pthread_t t[LIM_THREADS];
	struct lim_ctx ctx;
	int over = 0, total;

	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", LIM_THREADS));
	for (int round = 0; round < 100; round++) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.fd = gt_open();
		ASSERT_LE(0, ctx.fd);
		pthread_barrier_init(&ctx.go, NULL, LIM_THREADS);
		for (int i = 0; i < LIM_THREADS; i++) {
			for (int k = 0; k < LIM_NAMES; k++)
				snprintf(ctx.names[i][k], 64, "gt-%d-lim-%d-%d",
					 getpid(), i, k);
			args[i] = (struct lim_arg){ &ctx, i };
			ASSERT_EQ(0, pthread_create(&t[i], NULL, lim_thread,
						    &args[i]));
		}
		total = 0;
		for (int i = 0; i < LIM_THREADS; i++) {
			pthread_join(t[i], NULL);
			total += ctx.got[i];
		}
		pthread_barrier_destroy(&ctx.go);
		EXPECT_LE(1, total);
		if (total > LIM_THREADS)
			over++;
		close(ctx.fd);
	}
	EXPECT_EQ(0, over) TH_LOG("%d of 100 rounds went over the limit", over);
	gt_param_set("max_locks_per_owner", saved);
}

/*
 * Bounded costs: owner A holds M and has 2,000 threads queued on L (held by
 * H). Every request on M makes the cycle search look through A's queue.
 */
#define FLOOD_THREADS	2000

static struct {
	int fd;
	char name[GLOCK_NAME_MAX + 1];
} flood;

static void *flood_waiter(void *p)
{
	gt_lock(flood.fd, flood.name, GLOCK_EXCLUSIVE, -1);
	return NULL;
}

/* Child: open, take @m, queue FLOOD_THREADS threads on @l, then sleep. */
static void flood_owner(const char *l, const char *m)
{
	pthread_attr_t attr;
	pthread_t t;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	flood.fd = gt_open();
	if (flood.fd < 0 || gt_lock(flood.fd, m, GLOCK_EXCLUSIVE, 0))
		_exit(2);
	snprintf(flood.name, sizeof(flood.name), "%s", l);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < FLOOD_THREADS; i++)
		if (pthread_create(&t, &attr, flood_waiter, NULL))
			_exit(3);
	for (;;)
		pause();
}

/* Child: ask for @m with a 2 ms timeout, over and over (a busy searcher). */
static void busy_searcher(const char *m)
{
	int fd = gt_open();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;)
		gt_lock(fd, m, GLOCK_EXCLUSIVE, 2 * GT_MSEC);
}

static int64_t timed_wait_ms(int fd, const char *m)
{
	int64_t t0 = gt_now();

	if (gt_lock(fd, m, GLOCK_EXCLUSIVE, 20 * GT_MSEC) != -1 ||
	    errno != ETIMEDOUT)
		return -1;
	return ms_since(t0);
}

/* The longest of five 20 ms waits on @m, or -1 if one was not ETIMEDOUT. */
static int64_t worst_timed_wait_ms(int fd, const char *m)
{
	int64_t t, worst = 0;

	for (int i = 0; i < 5; i++) {
		t = timed_wait_ms(fd, m);
		if (t < 0)
			return -1;
		worst = t > worst ? t : worst;
	}
	return worst;
}

/*
 * Rounds of five waits, until one keeps every wait within @bound ms, at
 * most three: a loaded host's scheduling hiccup spoils one round, while a
 * path that is not bounded (the pre-issue-9 module: 385 ms) spoils every
 * one. Returns the best round's worst, or -1.
 */
static int64_t best_round_ms(int fd, const char *m, int64_t bound)
{
	int64_t worst, best = -1;

	for (int r = 0; r < 3 && (best < 0 || best > bound); r++) {
		worst = worst_timed_wait_ms(fd, m);
		if (worst < 0)
			return -1;
		if (best < 0 || worst < best)
			best = worst;
	}
	return best;
}

/* Five waiters on @n, each SIGKILLed: the longest until it left, in *@worst. */
static int kill_round_ms(int fd, const char *n, int64_t *worst)
{
	struct gt_child w = { 0 };
	int64_t t;

	*worst = 0;
	for (int i = 0; i < 5; i++) {
		if (gt_child_start(&w, -1, "gt-waiter") ||
		    gt_child_send(&w, GT_OP_LOCK, n, GLOCK_EXCLUSIVE, -1, 0) ||
		    gt_wait_waiters(fd, n, 1)) {
			gt_child_kill(&w);
			return -1;
		}
		t = gt_now();
		kill(w.pid, SIGKILL);
		if (gt_wait_waiters(fd, n, 0)) {
			gt_child_kill(&w);
			return -1;
		}
		t = ms_since(t);
		*worst = t > *worst ? t : *worst;
		gt_child_kill(&w);
	}
	return 0;
}

TEST_F_TIMEOUT(slow, bounded_with_2000_queued, 300)
{
	const char *l = gt_name("flood-l"), *m = gt_name("flood-m");
	const char *n = gt_name("flood-n");
	int64_t worst = 0, t, worst_kill = 0;
	long long trunc0 = gt_stat("deadlock_search_truncated");
	struct glock_state st;
	struct gt_child h;
	pid_t flooder, busy;
	int fd = gt_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, trunc0);
	ASSERT_EQ(0, gt_child_start(&h, -1, "gt-holder"));
	ASSERT_EQ(0, gt_child_lock(&h, l, GLOCK_EXCLUSIVE, 0));
	flooder = fork();
	ASSERT_LE(0, flooder);
	if (!flooder)
		flood_owner(l, m);
	ASSERT_EQ(0, gt_wait_state(fd, l, &st, 120000,
				   st.waiters == FLOOD_THREADS))
		TH_LOG("only %u waiters", st.waiters);

	/* A 20 ms wait on M, whose search meets the 2,000 queued requests. */
	worst = best_round_ms(fd, m, 40);
	ASSERT_LE(0, worst) TH_LOG("not ETIMEDOUT: %s", strerror(errno));
	TH_LOG("20 ms wait, 2000 queued: worst %lld ms",
	       (long long)worst);
	EXPECT_GE(40, worst);
	EXPECT_LT(trunc0, gt_stat("deadlock_search_truncated"));

	/* Again while another owner searches the same graph nonstop. */
	busy = fork();
	ASSERT_LE(0, busy);
	if (!busy)
		busy_searcher(m);
	gt_sleep_ms(50);
	worst = best_round_ms(fd, m, 40);
	ASSERT_LE(0, worst) TH_LOG("not ETIMEDOUT: %s", strerror(errno));
	TH_LOG("20 ms wait, 2000 queued, busy searcher: worst %lld ms",
	       (long long)worst);
	EXPECT_GE(40, worst);

	/* A killed waiter leaves at once, searches or not (rounds as above). */
	ASSERT_EQ(0, gt_lock(fd, n, GLOCK_EXCLUSIVE, 0));
	worst_kill = INT64_MAX;
	for (int r = 0; r < 3 && worst_kill > 40; r++) {
		ASSERT_EQ(0, kill_round_ms(fd, n, &t));
		worst_kill = t < worst_kill ? t : worst_kill;
	}
	TH_LOG("killed waiter gone after at most %lld ms",
	       (long long)worst_kill);
	EXPECT_GE(40, worst_kill);

	kill(busy, SIGKILL);
	waitpid(busy, NULL, 0);
	kill(flooder, SIGKILL);
	waitpid(flooder, NULL, 0);
	gt_child_kill(&h);
	close(fd);
}

TEST_HARNESS_MAIN
