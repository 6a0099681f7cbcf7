// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock under load: many processes taking a few locks in random modes and
 * timeouts keep exclusion intact and never see EDEADLK when they take locks
 * in one global order; owners killed at random leave nothing behind; the
 * threads of one file race on the lock it keeps after a release.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

#define NLOCKS	4
#define NPROC	6
#define ITERS	300

struct counters {
	int excl[NLOCKS];
	int shared[NLOCKS];
	int violations;
	int unexpected;
	int last_errno;
	int ops;
	int granted;
	int stop;
};

FIXTURE(st) {
	int fd;
	struct counters *sh;
	pid_t pids[NPROC];
};

FIXTURE_SETUP(st)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", GT_DEV, strerror(errno));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset(self->sh, 0, sizeof(*self->sh));
}

FIXTURE_TEARDOWN(st)
{
	for (int i = 0; i < NPROC; i++) {
		if (self->pids[i] > 0) {
			kill(self->pids[i], SIGKILL);
			gt_reap(self->pids[i], GT_SOON_MS);
		}
	}
	munmap(self->sh, sizeof(*self->sh));
	close(self->fd);
}

static const char *lname(int i, pid_t base)
{
	static char buf[NLOCKS][48];

	snprintf(buf[i], sizeof(buf[i]), "gt-%d-stress%d", (int)base, i);
	return buf[i];
}

static void enter(struct counters *c, int i, uint32_t mode)
{
	if (mode == GLOCK_EXCLUSIVE) {
		if (__atomic_add_fetch(&c->excl[i], 1, __ATOMIC_SEQ_CST) != 1 ||
		    __atomic_load_n(&c->shared[i], __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&c->violations, 1, __ATOMIC_SEQ_CST);
	} else {
		__atomic_add_fetch(&c->shared[i], 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->excl[i], __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&c->violations, 1, __ATOMIC_SEQ_CST);
	}
}

static void leave(struct counters *c, int i, uint32_t mode)
{
	if (mode == GLOCK_EXCLUSIVE)
		__atomic_sub_fetch(&c->excl[i], 1, __ATOMIC_SEQ_CST);
	else
		__atomic_sub_fetch(&c->shared[i], 1, __ATOMIC_SEQ_CST);
}

static void worker(struct counters *c, pid_t base, unsigned int seed)
{
	int fd = gt_open();

	if (fd < 0)
		_exit(10);
	for (int it = 0; it < ITERS; it++) {
		/* One or two locks, always in ascending index order. */
		int a = rand_r(&seed) % NLOCKS;
		int b = rand_r(&seed) % 3 ? -1 : a + 1 + rand_r(&seed) % NLOCKS;
		int idx[2] = { a, b < NLOCKS ? b : -1 }, got = 0;
		uint32_t mode[2];

		for (int k = 0; k < 2 && idx[k] >= 0; k++) {
			int kind = rand_r(&seed) % 3;
			int64_t tmo = kind == 0 ? 0 : kind == 1 ?
				(1 + rand_r(&seed) % 5) * GT_MSEC :
				30 * GT_NSEC;

			mode[k] = rand_r(&seed) % 2 ? GLOCK_SHARED :
						      GLOCK_EXCLUSIVE;
			__atomic_add_fetch(&c->ops, 1, __ATOMIC_SEQ_CST);
			if (gt_lock(fd, lname(idx[k], base), mode[k], tmo)) {
				int e = errno;

				if (!((kind == 0 && e == EAGAIN) ||
				      (kind == 1 && e == ETIMEDOUT))) {
					c->last_errno = e;
					__atomic_add_fetch(&c->unexpected, 1,
							   __ATOMIC_SEQ_CST);
				}
				break;
			}
			__atomic_add_fetch(&c->granted, 1, __ATOMIC_SEQ_CST);
			enter(c, idx[k], mode[k]);
			got++;
		}
		if (rand_r(&seed) % 4 == 0)
			usleep(rand_r(&seed) % 300);
		while (got-- > 0) {
			leave(c, idx[got], mode[got]);
			if (gt_unlock(fd, lname(idx[got], base))) {
				c->last_errno = errno;
				__atomic_add_fetch(&c->unexpected, 1,
						   __ATOMIC_SEQ_CST);
			}
		}
	}
	_exit(0);
}

TEST_F_TIMEOUT(st, random_modes_and_timeouts_keep_exclusion, 600)
{
	pid_t base = getpid();
	struct glock_state st;
	int status, ok = 0;

	for (int i = 0; i < NPROC; i++) {
		self->pids[i] = fork();
		ASSERT_LE(0, self->pids[i]);
		if (self->pids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			gt_close_other_fds(-1, -1, -1);
			worker(self->sh, base, 1000 + i);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		status = gt_reap(self->pids[i], 500 * 1000);
		if (status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status))
			ok++;
		else
			TH_LOG("worker %d: status %#x", i, status);
		self->pids[i] = 0;
	}
	TH_LOG("%d requests, %d granted", self->sh->ops, self->sh->granted);
	EXPECT_EQ(NPROC, ok);
	EXPECT_EQ(0, self->sh->violations);
	EXPECT_EQ(0, self->sh->unexpected)
		TH_LOG("last unexpected errno %d (%s)", self->sh->last_errno,
		       strerror(self->sh->last_errno));
	EXPECT_LT(NPROC * ITERS / 4, self->sh->granted);
	for (int i = 0; i < NLOCKS; i++) {
		ASSERT_EQ(0, gt_state(self->fd, lname(i, base), &st));
		EXPECT_EQ(0, st.holders);
		EXPECT_EQ(0, st.waiters);
		EXPECT_EQ(0, st.result);
	}
}

TEST_F_TIMEOUT(st, owners_killed_at_random_leave_nothing, 600)
{
	pid_t base = getpid();
	long long owners0 = gt_stat("owners");
	struct glock_state st;
	unsigned int seed = 7;
	int rounds = 40;

	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < NPROC; i++) {
			if (self->pids[i] > 0)
				continue;
			self->pids[i] = fork();
			ASSERT_LE(0, self->pids[i]);
			if (self->pids[i] == 0) {
				int fd;

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				gt_close_other_fds(-1, -1, -1);
				fd = gt_open();
				for (unsigned int s = i;; s++) {
					const char *n = lname(s % 2, base);
					uint32_t m = s % 3 ? GLOCK_EXCLUSIVE :
							     GLOCK_SHARED;

					if (!gt_lock(fd, n, m, 20 * GT_MSEC))
						gt_unlock(fd, n);
				}
			}
		}
		gt_sleep_ms(rand_r(&seed) % 30);
		{
			int v = rand_r(&seed) % NPROC;

			kill(self->pids[v], SIGKILL);
			ASSERT_NE(-1, gt_reap(self->pids[v], GT_SOON_MS));
			self->pids[v] = 0;
		}
	}
	for (int i = 0; i < NPROC; i++) {
		if (self->pids[i] > 0) {
			kill(self->pids[i], SIGKILL);
			ASSERT_NE(-1, gt_reap(self->pids[i], GT_SOON_MS));
			self->pids[i] = 0;
		}
	}
	/* Everything released; marks (if any) are consumed by one lock. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, gt_state(self->fd, lname(i, base), &st));
		EXPECT_EQ(0, st.holders);
		EXPECT_EQ(0, st.waiters);
		EXPECT_EQ(0, gt_lock(self->fd, lname(i, base),
				     GLOCK_EXCLUSIVE, 0));
		EXPECT_EQ(0, gt_unlock(self->fd, lname(i, base)));
		ASSERT_EQ(0, gt_state(self->fd, lname(i, base), &st));
		EXPECT_EQ(0, st.result);
	}
	if (owners0 >= 0)
		EXPECT_EQ(owners0, gt_stat("owners"));
}

#define KEPT_THREADS	3
#define KEPT_ITERS	4000

struct kept_arg {
	int fd;
	struct counters *c;
	const char *names[2];	/* lname()'s buffers are not for threads */
	unsigned int seed;
};

/* A thread of the shared file: lock 0 or 1 at random, shared, by name. */
static void *kept_thread(void *p)
{
	struct kept_arg *a = p;
	struct counters *c = a->c;

	for (int it = 0; it < KEPT_ITERS; it++) {
		int i = rand_r(&a->seed) % 2;

		__atomic_add_fetch(&c->ops, 1, __ATOMIC_SEQ_CST);
		if (gt_lock(a->fd, a->names[i], GLOCK_SHARED, -1)) {
			c->last_errno = errno;
			__atomic_add_fetch(&c->unexpected, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		enter(c, i, GLOCK_SHARED);
		leave(c, i, GLOCK_SHARED);
		if (gt_unlock(a->fd, a->names[i])) {
			c->last_errno = errno;
			__atomic_add_fetch(&c->unexpected, 1, __ATOMIC_SEQ_CST);
		}
	}
	return NULL;
}

/*
 * A file keeps the last lock it released by name and looks there first,
 * without the table. Three threads of one file take two names in turn,
 * so each release evicts the lock another thread may be taking that way,
 * while another process takes them exclusively with a 1 ms timeout (and
 * so the threads queue behind it): exclusion holds, no call fails, and
 * at the end nothing is held or listed.
 */
TEST_F_TIMEOUT(st, threads_of_one_file_race_on_its_kept_lock, 300)
{
	struct kept_arg args[KEPT_THREADS];
	pthread_t t[KEPT_THREADS];
	pid_t base = getpid();
	struct glock_state st;
	struct counters *c = self->sh;
	char *locks, rec[64];
	int xgot = 0;

	self->pids[0] = fork();
	ASSERT_LE(0, self->pids[0]);
	if (!self->pids[0]) {
		int fd = gt_open(), i = 0;

		if (fd < 0)
			_exit(10);
		while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
			i ^= 1;
			if (gt_lock(fd, lname(i, base), GLOCK_EXCLUSIVE,
				    GT_MSEC)) {
				if (errno != ETIMEDOUT)
					_exit(11);
				continue;
			}
			__atomic_add_fetch(&c->granted, 1, __ATOMIC_SEQ_CST);
			enter(c, i, GLOCK_EXCLUSIVE);
			usleep(50);
			leave(c, i, GLOCK_EXCLUSIVE);
			if (gt_unlock(fd, lname(i, base)))
				_exit(12);
		}
		_exit(0);
	}
	for (int k = 0; k < KEPT_THREADS; k++) {
		args[k] = (struct kept_arg){ self->fd, c,
					     { lname(0, base), lname(1, base) },
					     7 * k + 1 };
		ASSERT_EQ(0, pthread_create(&t[k], NULL, kept_thread,
					    &args[k]));
	}
	for (int k = 0; k < KEPT_THREADS; k++)
		ASSERT_EQ(0, pthread_join(t[k], NULL));
	xgot = __atomic_load_n(&c->granted, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	EXPECT_EQ(0, gt_reap(self->pids[0], GT_SOON_MS));
	self->pids[0] = 0;

	EXPECT_EQ(0, c->unexpected) TH_LOG("last errno %d", c->last_errno);
	EXPECT_EQ(0, c->violations);
	EXPECT_EQ(KEPT_THREADS * KEPT_ITERS, c->ops);
	EXPECT_LT(0, xgot) TH_LOG("the exclusive process never got in");
	TH_LOG("%d pairs by %d threads of one file, %d exclusive grants to "
	       "another", c->ops, KEPT_THREADS, xgot);
	locks = gt_debugfs("locks");
	ASSERT_NE(NULL, locks);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, gt_state(self->fd, lname(i, base), &st));
		EXPECT_EQ(0, st.depth);
		EXPECT_EQ(0, st.holders);
		EXPECT_EQ(0, st.waiters);
		snprintf(rec, sizeof(rec), "name=%s ", lname(i, base));
		EXPECT_EQ(NULL, strstr(locks, rec)) TH_LOG("%s listed", rec);
	}
	free(locks);
}

TEST_HARNESS_MAIN
