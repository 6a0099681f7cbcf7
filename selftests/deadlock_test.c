// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock deadlock detection: a blocking request that would close a cycle in
 * the wait-for graph fails with EDEADLK at once and queues nothing; timed
 * requests take part, tries never do.
 */
#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(dl) {
	int fd;
	struct gt_child c[4];
};

FIXTURE_SETUP(dl)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gt_child_start(&self->c[i], -1, "gt-dl"));
	}
}

FIXTURE_TEARDOWN(dl)
{
	for (int i = 0; i < 4; i++)
		gt_child_kill(&self->c[i]);
	close(self->fd);
}

/*
 * @c[i] holds @n[i] in @hold_mode[i]; c[i] waits for n[i + 1] for i <
 * @k - 1 (timeout @wait_tmo). Returns with the chain built.
 */
static void build_chain(struct __test_metadata *_metadata, int fd,
			struct gt_child *c, const char **n, int k,
			const uint32_t *hold_mode, int64_t wait_tmo)
{
	for (int i = 0; i < k; i++) {
		ASSERT_EQ(0, gt_child_lock(&c[i], n[i], hold_mode[i], 0));
	}
	for (int i = 0; i < k - 1; i++) {
		ASSERT_EQ(0, gt_child_send(&c[i], GT_OP_LOCK, n[i + 1],
					   GLOCK_EXCLUSIVE, wait_tmo, 0));
		ASSERT_EQ(0, gt_wait_waiters(fd, n[i + 1], 1));
	}
}

/* The closing request from c[k-1] on n[0]: EDEADLK at once, nothing queued. */
static void expect_edeadlk(struct __test_metadata *_metadata, int fd,
			   struct gt_child *c, const char **n, int k,
			   uint32_t mode, int64_t tmo)
{
	struct glock_state st;
	struct gt_rep rp;

	ASSERT_EQ(0, gt_child_send(&c[k - 1], GT_OP_LOCK, n[0], mode, tmo,
				   0));
	ASSERT_EQ(0, gt_child_wait(&c[k - 1], &rp, GT_SOON_MS))
		TH_LOG("cycle-closing request slept instead of EDEADLK");
	EXPECT_EQ(-1, rp.ret);
	EXPECT_EQ(EDEADLK, rp.err);
	if (tmo > 0) {
		EXPECT_GT(tmo, rp.t_end - rp.t_start);
	}
	ASSERT_EQ(0, gt_state(fd, n[0], &st));
	EXPECT_EQ(0, st.waiters);
	EXPECT_LE(1, st.holders);
	/* The refused owner still holds what it held. */
	ASSERT_EQ(0, gt_state(fd, n[k - 1], &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(k > 1 ? 1 : 0, st.waiters);
}

/* Break the cycle from the end; every waiter in the chain then gets in. */
static void unwind_chain(struct __test_metadata *_metadata,
			 struct gt_child *c, const char **n, int k)
{
	struct gt_rep rp;

	for (int i = k - 1; i >= 1; i--) {
		ASSERT_EQ(0, gt_child_unlock(&c[i], n[i]));
		ASSERT_EQ(0, gt_child_wait(&c[i - 1], &rp, GT_SOON_MS));
		EXPECT_EQ(0, rp.ret);
		ASSERT_EQ(0, gt_child_unlock(&c[i - 1], n[i]));
	}
	ASSERT_EQ(0, gt_child_unlock(&c[0], n[0]));
}

static const uint32_t all_excl[] = { GLOCK_EXCLUSIVE, GLOCK_EXCLUSIVE,
				     GLOCK_EXCLUSIVE };

TEST_F(dl, two_owner_cycle)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };

	build_chain(_metadata, self->fd, self->c, n, 2, all_excl, -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 2, GLOCK_EXCLUSIVE,
		       -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 2, GLOCK_SHARED, -1);
	unwind_chain(_metadata, self->c, n, 2);
}

TEST_F(dl, three_owner_cycle)
{
	const char *n[3] = { gt_name("a"), gt_name("b"), gt_name("c") };

	build_chain(_metadata, self->fd, self->c, n, 3, all_excl, -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 3, GLOCK_EXCLUSIVE,
		       -1);
	unwind_chain(_metadata, self->c, n, 3);
}

TEST_F(dl, timed_request_closing_cycle_is_edeadlk)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	struct gt_rep rp;

	build_chain(_metadata, self->fd, self->c, n, 2, all_excl, -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 2, GLOCK_EXCLUSIVE,
		       5 * GT_NSEC);
	/* An absolute deadline in the future is a timed request too. */
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, n[0],
				   GLOCK_EXCLUSIVE, gt_now() + 5 * GT_NSEC,
				   GLOCK_F_ABSTIME));
	ASSERT_EQ(0, gt_child_wait(&self->c[1], &rp, GT_SOON_MS));
	EXPECT_EQ(-1, rp.ret);
	EXPECT_EQ(EDEADLK, rp.err);
	unwind_chain(_metadata, self->c, n, 2);
}

TEST_F(dl, timed_waiters_form_the_cycle)
{
	const char *n[3] = { gt_name("a"), gt_name("b"), gt_name("c") };

	build_chain(_metadata, self->fd, self->c, n, 3, all_excl,
		    60 * GT_NSEC);
	expect_edeadlk(_metadata, self->fd, self->c, n, 3, GLOCK_EXCLUSIVE,
		       -1);
	unwind_chain(_metadata, self->c, n, 3);
}

TEST_F(dl, try_never_runs_detection)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	struct glock_state st;

	build_chain(_metadata, self->fd, self->c, n, 2, all_excl, -1);
	EXPECT_EQ(-1, gt_child_lock(&self->c[1], n[0], GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_state(self->fd, n[0], &st));
	EXPECT_EQ(0, st.waiters);
	unwind_chain(_metadata, self->c, n, 2);
}

TEST_F(dl, cycle_through_shared_holder)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	static const uint32_t modes[] = { GLOCK_SHARED, GLOCK_EXCLUSIVE };

	/* A shares n0 with us (a second, innocent holder), waits for n1. */
	ASSERT_EQ(0, gt_lock(self->fd, n[0], GLOCK_SHARED, 0));
	build_chain(_metadata, self->fd, self->c, n, 2, modes, -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 2, GLOCK_EXCLUSIVE,
		       -1);
	ASSERT_EQ(0, gt_unlock(self->fd, n[0]));
	unwind_chain(_metadata, self->c, n, 2);
}

TEST_F(dl, chain_without_cycle_just_waits)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	struct gt_rep rp;

	/*
	 * c0 holds a and waits for b (held by c1). c2 holds nothing and
	 * asks for a: a wait, not a deadlock. c1 asking for something c2
	 * does not hold is none either.
	 */
	build_chain(_metadata, self->fd, self->c, n, 2, all_excl, -1);
	EXPECT_EQ(-1, gt_child_call(&self->c[2], GT_OP_LOCK, n[0],
				    GLOCK_EXCLUSIVE, 200 * GT_MSEC, &rp));
	EXPECT_EQ(-1, rp.ret);
	EXPECT_EQ(ETIMEDOUT, rp.err);
	EXPECT_EQ(-1, gt_child_call(&self->c[2], GT_OP_LOCK, n[1],
				    GLOCK_EXCLUSIVE, 200 * GT_MSEC, &rp));
	EXPECT_EQ(-1, rp.ret);
	EXPECT_EQ(ETIMEDOUT, rp.err);
	unwind_chain(_metadata, self->c, n, 2);
}

TEST_F(dl, refused_request_leaves_graph_usable)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	struct gt_rep rp;
	long long before = gt_stat("deadlocks");

	build_chain(_metadata, self->fd, self->c, n, 2, all_excl, -1);
	expect_edeadlk(_metadata, self->fd, self->c, n, 2, GLOCK_EXCLUSIVE,
		       -1);
	if (before >= 0) {
		EXPECT_EQ(before + 1, gt_stat("deadlocks"));
	}
	/* c1 gives up b; c0 gets it; now c1 may wait for a without EDEADLK. */
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], n[1]));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, n[0],
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, n[0], 1));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], n[0]));
	ASSERT_EQ(0, gt_child_wait(&self->c[1], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], n[0]));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], n[1]));
}

TEST_F(dl, shared_owner_of_fd_is_one_node)
{
	const char *n[2] = { gt_name("a"), gt_name("b") };
	struct gt_rep rp;

	/*
	 * Owner O (our fd, also in forked c[3]) holds a; c0 holds b and
	 * waits for a. O asking for b (through the forked process) closes a
	 * cycle: the owner, not the process, is the graph node.
	 */
	ASSERT_EQ(0, gt_lock(self->fd, n[0], GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_start(&self->c[3], self->fd, "gt-sameowner"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], n[1], GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, n[0],
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, n[0], 1));
	EXPECT_EQ(-1, gt_child_call(&self->c[3], GT_OP_LOCK, n[1],
				    GLOCK_EXCLUSIVE, -1, &rp));
	EXPECT_EQ(EDEADLK, rp.err);
	ASSERT_EQ(0, gt_unlock(self->fd, n[0]));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], n[0]));
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], n[1]));
}

TEST_HARNESS_MAIN
