// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock basics: exclusion across processes, shared coexistence, recursion,
 * EDEADLK on mode change, EPERM on foreign unlock, STATE snapshots.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(basic) {
	int fd;
	struct gt_child c[4];
};

FIXTURE_SETUP(basic)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(basic)
{
	for (int i = 0; i < 4; i++)
		gt_child_kill(&self->c[i]);
	close(self->fd);
}

TEST_F(basic, exclusive_excludes_other_process)
{
	const char *x = gt_name("x");
	struct glock_state st;
	struct gt_rep rp;
	uint32_t result, depth;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-other"));

	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_EXCLUSIVE, 0, 0,
				  &result, &depth));
	EXPECT_EQ(0, result);
	EXPECT_EQ(1, depth);

	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	EXPECT_EQ(EAGAIN, errno);
	/* A timed request from the other process must not get it either. */
	EXPECT_EQ(-1, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE,
				    100 * GT_MSEC));
	EXPECT_EQ(ETIMEDOUT, errno);

	/* The other process sees us as the exclusive holder. */
	ASSERT_EQ(0, gt_child_call(&self->c[0], GT_OP_STATE, x, 0, 0, &rp));
	EXPECT_EQ(GLOCK_EXCLUSIVE, rp.st.mode);
	EXPECT_EQ(1, rp.st.holders);
	EXPECT_EQ(0, rp.st.waiters);
	EXPECT_EQ(0, rp.st.depth);
	EXPECT_EQ(getpid(), rp.st.owner_pid);
	EXPECT_EQ(0, rp.st.result);

	ASSERT_EQ(0, gt_unlock_full(self->fd, x, 0, &depth));
	EXPECT_EQ(0, depth);

	/* Released: now the other process gets it and we do not. */
	EXPECT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(-1, gt_trylock(self->fd, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, gt_trylock(self->fd, x, GLOCK_SHARED));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(self->c[0].pid, st.owner_pid);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));

	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.mode);
	EXPECT_EQ(0, st.holders);
}

TEST_F(basic, two_files_in_one_process_are_two_owners)
{
	const char *x = gt_name("x");
	int fd2 = gt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, gt_trylock(self->fd, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(-1, gt_trylock(fd2, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, gt_unlock(fd2, x));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, gt_trylock(fd2, x, GLOCK_EXCLUSIVE));
	EXPECT_EQ(0, gt_unlock(fd2, x));
	close(fd2);
}

TEST_F(basic, shared_holders_coexist)
{
	const char *x = gt_name("s");
	struct glock_state st;
	uint32_t result, depth;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gt_child_start(&self->c[i], -1, "gt-sh"));
	}

	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_SHARED, 0, 0, &result,
				  &depth));
	EXPECT_EQ(0, result);
	EXPECT_EQ(1, depth);
	EXPECT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_child_lock(&self->c[1], x, GLOCK_SHARED, -1));

	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_SHARED, st.mode);
	EXPECT_EQ(3, st.holders);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(0, st.owner_pid); /* reported for an exclusive holder only */

	/* Exclusive is refused while any shared holder remains. */
	EXPECT_EQ(-1, gt_child_lock(&self->c[2], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));
	EXPECT_EQ(-1, gt_child_lock(&self->c[2], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, gt_child_unlock(&self->c[1], x));
	EXPECT_EQ(0, gt_child_lock(&self->c[2], x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_child_unlock(&self->c[2], x));
}

TEST_F(basic, recursion_counts_depth)
{
	static const uint32_t modes[] = { GLOCK_EXCLUSIVE, GLOCK_SHARED };
	const char *x = gt_name("r");
	struct glock_state st;
	uint32_t result, depth;

	for (int m = 0; m < 2; m++) {
		for (uint32_t i = 1; i <= 3; i++) {
			ASSERT_EQ(0, gt_lock_full(self->fd, x, modes[m],
						  i == 2 ? -1 : 0, 0,
						  &result, &depth));
			EXPECT_EQ(0, result);
			EXPECT_EQ(i, depth);
		}
		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ(modes[m], st.mode);
		EXPECT_EQ(1, st.holders);
		EXPECT_EQ(3, st.depth);

		for (uint32_t i = 3; i >= 1; i--) {
			ASSERT_EQ(0, gt_unlock_full(self->fd, x, 0, &depth));
			EXPECT_EQ(i - 1, depth);
			ASSERT_EQ(0, gt_state(self->fd, x, &st));
			EXPECT_EQ(i - 1, st.depth);
			EXPECT_EQ(i > 1 ? 1 : 0, st.holders);
		}
		EXPECT_EQ(-1, gt_unlock(self->fd, x));
		EXPECT_EQ(EPERM, errno);
	}
}

TEST_F(basic, recursion_granted_despite_queue)
{
	const char *x = gt_name("rq");
	uint32_t depth;
	struct gt_rep rp;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-waiter"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-late"));

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));

	/* Same owner, same mode: granted at once, try or not. */
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_SHARED, 0, 0, NULL,
				  &depth));
	EXPECT_EQ(2, depth);
	gt_alarm_guard(10);
	ASSERT_EQ(0, gt_lock_full(self->fd, x, GLOCK_SHARED, -1, 0, NULL,
				  &depth));
	alarm(0);
	EXPECT_EQ(3, depth);

	/* A new shared owner must queue behind the exclusive waiter. */
	EXPECT_EQ(-1, gt_child_lock(&self->c[1], x, GLOCK_SHARED, 0));
	EXPECT_EQ(EAGAIN, errno);

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, gt_unlock(self->fd, x));
	}
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	EXPECT_EQ(1, rp.depth);
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));
}

TEST_F(basic, mode_change_is_edeadlk)
{
	const char *x = gt_name("m");
	struct glock_state st;
	int64_t t0;

	for (int m = GLOCK_EXCLUSIVE; m <= GLOCK_SHARED; m++) {
		uint32_t other = m == GLOCK_EXCLUSIVE ? GLOCK_SHARED :
							GLOCK_EXCLUSIVE;

		ASSERT_EQ(0, gt_lock(self->fd, x, m, 0));
		/* try, timed and unbounded requests are all refused at once */
		EXPECT_EQ(-1, gt_lock(self->fd, x, other, 0));
		EXPECT_EQ(EDEADLK, errno);
		t0 = gt_now();
		EXPECT_EQ(-1, gt_lock(self->fd, x, other, 5 * GT_NSEC));
		EXPECT_EQ(EDEADLK, errno);
		EXPECT_GT(4 * GT_NSEC, gt_now() - t0);
		gt_alarm_guard(10);
		EXPECT_EQ(-1, gt_lock(self->fd, x, other, -1));
		EXPECT_EQ(EDEADLK, errno);
		alarm(0);
		EXPECT_EQ(-1, gt_lock_full(self->fd, x, other,
					   gt_now() + 5 * GT_NSEC,
					   GLOCK_F_ABSTIME, NULL, NULL));
		EXPECT_EQ(EDEADLK, errno);

		/* Nothing changed. */
		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ((uint32_t)m, st.mode);
		EXPECT_EQ(1, st.depth);
		EXPECT_EQ(1, st.holders);
		EXPECT_EQ(0, st.waiters);
		ASSERT_EQ(0, gt_unlock(self->fd, x));
		EXPECT_EQ(-1, gt_unlock(self->fd, x));
		EXPECT_EQ(EPERM, errno);
	}
}

TEST_F(basic, unlock_by_non_holder_is_eperm)
{
	const char *x = gt_name("p");
	const char *never = gt_name("never-locked");
	struct glock_state st;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-holder"));

	EXPECT_EQ(-1, gt_unlock(self->fd, never));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(0, gt_state(self->fd, never, &st));
	EXPECT_EQ(0, st.holders);

	for (int m = GLOCK_EXCLUSIVE; m <= GLOCK_SHARED; m++) {
		ASSERT_EQ(0, gt_child_lock(&self->c[0], x, m, 0));
		EXPECT_EQ(-1, gt_unlock(self->fd, x));
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(-1, gt_unlock_full(self->fd, x, m, NULL));
		EXPECT_EQ(EPERM, errno);
		ASSERT_EQ(0, gt_state(self->fd, x, &st));
		EXPECT_EQ((uint32_t)m, st.mode);
		EXPECT_EQ(1, st.holders);
		EXPECT_EQ(m == GLOCK_EXCLUSIVE ? self->c[0].pid : 0,
			  st.owner_pid);
		EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));
	}
}

TEST_F(basic, unlock_with_held_mode)
{
	const char *x = gt_name("u");
	uint32_t depth = 99;

	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	EXPECT_EQ(0, gt_unlock_full(self->fd, x, GLOCK_EXCLUSIVE, &depth));
	EXPECT_EQ(0, depth);
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	EXPECT_EQ(0, gt_unlock_full(self->fd, x, GLOCK_SHARED, &depth));
	EXPECT_EQ(0, depth);
}

TEST_F(basic, state_of_unknown_name_is_all_zero)
{
	const char *x = gt_name("nobody");
	struct glock_state st;

	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.mode);
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.depth);
	EXPECT_EQ(0, st.owner_pid);
	EXPECT_EQ(0, st.result);
	EXPECT_EQ(0, st.flags);
	for (int i = 0; i < 6; i++) {
		EXPECT_EQ(0, st.padding[i]);
	}
}

TEST_F(basic, state_counts_waiters)
{
	const char *x = gt_name("w");
	struct glock_state st;
	struct gt_rep rp;

	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-w1"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-w2"));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, x, GLOCK_SHARED,
				   30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));	/* c0 first */
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, 30 * GT_NSEC, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 2));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_EXCLUSIVE, st.mode);
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(2, st.waiters);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(getpid(), st.owner_pid);

	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_SHARED, st.mode);
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(1, st.waiters);
	EXPECT_EQ(0, st.owner_pid);
	EXPECT_EQ(0, gt_child_unlock(&self->c[0], x));
	ASSERT_EQ(0, gt_child_wait(&self->c[1], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	EXPECT_EQ(0, gt_child_unlock(&self->c[1], x));
}

TEST_F(basic, names_are_bytes_not_strings)
{
	static const char buf[] = "abcdef";
	struct glock_lock lk;
	struct glock_state st;
	char up[] = "gt-case-A", low[] = "gt-case-a";

	/* "abc" given as 3 bytes of "abcdef": the same lock as "abc". */
	gt_fill_lock(&lk, buf, 3, GLOCK_EXCLUSIVE, 0, 0);
	ASSERT_EQ(0, ioctl(self->fd, GLOCK_IOC_LOCK, &lk));
	ASSERT_EQ(0, gt_state(self->fd, "abc", &st));
	EXPECT_EQ(1, st.depth);
	ASSERT_EQ(0, gt_state(self->fd, "abcdef", &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, gt_unlock(self->fd, "abc"));

	/* Case matters. */
	ASSERT_EQ(0, gt_trylock(self->fd, up, GLOCK_EXCLUSIVE));
	ASSERT_EQ(0, gt_state(self->fd, low, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, gt_unlock(self->fd, up));
}

static void *thread_lock(void *arg)
{
	int *a = arg;

	a[2] = gt_lock(a[0], gt_name("thr"), GLOCK_EXCLUSIVE, 0) ? errno : 0;
	a[3] = syscall(SYS_gettid);
	return NULL;
}

TEST_F(basic, owner_pid_is_the_tgid_of_a_threaded_holder)
{
	int arg[4] = { self->fd, 0, -1, 0 };
	struct glock_state st;
	pthread_t t;

	/* gt_name() keys on getpid(), the same in the thread. */
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_lock, arg));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, arg[2]);
	ASSERT_NE(getpid(), arg[3]);
	ASSERT_EQ(0, gt_state(self->fd, gt_name("thr"), &st));
	EXPECT_EQ(getpid(), st.owner_pid);
	/* The owner is the file, not the thread: we may unlock. */
	EXPECT_EQ(0, gt_unlock(self->fd, gt_name("thr")));
}

TEST_F(basic, owner_pid_seen_through_pid_namespaces)
{
	const char *x = gt_name("pidns");
	int p2c[2], c2p[2], status;
	struct pollfd pfd;
	pid_t pid;
	int32_t seen[2] = { -2, -2 };
	char go;
	struct glock_state st;

	ASSERT_EQ(0, pipe(p2c));
	ASSERT_EQ(0, pipe(c2p));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, unshare(CLONE_NEWPID)) TH_LOG("%s", strerror(errno));
	pid = fork();	/* pid 1 of a new pid namespace */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(30);
		fd = gt_open();
		/* Our parent holds x: not visible from here. */
		seen[0] = gt_state(fd, x, &st) ? -3 : st.owner_pid;
		if (write(c2p[1], "l", 1) != 1 || read(p2c[0], &go, 1) != 1)
			_exit(1);
		/* Now we hold it; we are pid 1 here. */
		if (gt_lock(fd, x, GLOCK_EXCLUSIVE, 0))
			_exit(2);
		seen[1] = gt_state(fd, x, &st) ? -3 : st.owner_pid;
		if (write(c2p[1], seen, sizeof(seen)) != sizeof(seen))
			_exit(3);
		if (read(p2c[0], &go, 1) != 1)
			_exit(4);
		_exit(0);
	}
	/* The child looks while we hold it, then waits for "g". */
	pfd.fd = c2p[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, GT_SOON_MS));
	ASSERT_EQ(1, read(c2p[0], &go, 1));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	ASSERT_EQ(1, write(p2c[1], "g", 1));
	ASSERT_EQ(1, poll(&pfd, 1, GT_SOON_MS));
	ASSERT_EQ(sizeof(seen), read(c2p[0], seen, sizeof(seen)));
	EXPECT_EQ(0, seen[0]);	/* holder outside its pid namespace */
	EXPECT_EQ(1, seen[1]);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(pid, st.owner_pid);	/* its pid in our namespace */
	ASSERT_EQ(1, write(p2c[1], "g", 1));
	status = gt_reap(pid, GT_SOON_MS);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status));
	/* It unlocked by exiting: abandoned; take the mark away. */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
}

TEST_HARNESS_MAIN
