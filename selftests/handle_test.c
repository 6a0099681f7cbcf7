// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock handles: GET_HANDLE once, then HLOCK/HUNLOCK by number. The same
 * lock as by name: FIFO, recursion, modes, abandon, deadlock, EINTR, the
 * per-owner limit; handles are per file, pin their object, and go with the
 * file; a lookup racing with PUT_HANDLE and reuse finds one lock or none.
 */
#include <pthread.h>

#include "glock_test_util.h"
#include "kselftest_harness.h"

FIXTURE(h) {
	int fd;
	struct gt_child c[3];
};

FIXTURE_SETUP(h)
{
	self->fd = gt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(h)
{
	for (int i = 0; i < 3; i++)
		gt_child_kill(&self->c[i]);
	close(self->fd);
}

TEST_F(h, lock_unlock_and_state)
{
	const char *x = gt_name("h-basic");
	struct glock_state st;
	int h = gt_handle(self->fd, x);

	ASSERT_LE(1, h);
	ASSERT_GE(65535, h);
	/* A handle alone holds nothing. */
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.holders);
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, false));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(GLOCK_EXCLUSIVE, st.mode);
	EXPECT_EQ(1, st.depth);
	EXPECT_EQ(getpid(), st.owner_pid);
	/* Recursion, mixed with the name path: one lock. */
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, true));
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(3, st.depth);
	EXPECT_EQ(1, st.holders);
	EXPECT_EQ(2, gt_hunlock(self->fd, h));
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, gt_hunlock(self->fd, h));
	EXPECT_EQ(-1, gt_hunlock(self->fd, h));
	EXPECT_EQ(EPERM, errno);
	/* The other mode while holding: EDEADLK, try or not. */
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_SHARED, false));
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, true));
	EXPECT_EQ(EDEADLK, errno);
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, false));
	EXPECT_EQ(EDEADLK, errno);
	EXPECT_EQ(0, gt_hunlock(self->fd, h));
	EXPECT_EQ(0, gt_hput(self->fd, h));
}

TEST_F(h, bad_handles_and_bits)
{
	const char *x = gt_name("h-bad");
	int h = gt_handle(self->fd, x), other = gt_open();
	struct glock_handle gh;
	unsigned long bad[] = {
		0, 65536, (unsigned long)h | 1U << 21,
		(unsigned long)h | 3U << GLOCK_H_MODE_SHIFT,
		(unsigned long)h | 0U << GLOCK_H_MODE_SHIFT,
	};

	ASSERT_LE(1, h);
	ASSERT_LE(0, other);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_HLOCK, bad[i]))
			TH_LOG("arg %#lx", bad[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	/* Never issued; from another file; put. */
	EXPECT_EQ(-1, gt_hlock(self->fd, h + 1, GLOCK_SHARED, true));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, gt_hlock(other, h, GLOCK_SHARED, true));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, gt_hunlock(other, h));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, gt_hput(other, h));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, gt_hput(self->fd, h));
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_SHARED, true));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, gt_hput(self->fd, h));
	EXPECT_EQ(EINVAL, errno);
	/* GET_HANDLE's own input: flags, padding, names. */
	memset(&gh, 0, sizeof(gh));
	gh.name = (uintptr_t)x;
	gh.name_len = strlen(x);
	gh.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_GET_HANDLE, &gh));
	EXPECT_EQ(EINVAL, errno);
	gh.flags = 0;
	gh.padding[10] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_GET_HANDLE, &gh));
	EXPECT_EQ(EINVAL, errno);
	gh.padding[10] = 0;
	gh.name = (uintptr_t)"a b";
	gh.name_len = 3;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_GET_HANDLE, &gh));
	EXPECT_EQ(EINVAL, errno);
	gh.name = 8;
	EXPECT_EQ(-1, ioctl(self->fd, GLOCK_IOC_GET_HANDLE, &gh));
	EXPECT_EQ(EFAULT, errno);
	close(other);
}

TEST_F(h, put_while_held_is_busy)
{
	const char *x = gt_name("h-busy");
	int h = gt_handle(self->fd, x);

	ASSERT_LE(1, h);
	/* Held by name counts too: "by any path". */
	ASSERT_EQ(0, gt_lock(self->fd, x, GLOCK_SHARED, 0));
	EXPECT_EQ(-1, gt_hput(self->fd, h));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, gt_unlock(self->fd, x));
	EXPECT_EQ(0, gt_hput(self->fd, h));
}

TEST_F(h, fifo_and_try_with_name_waiters)
{
	const char *x = gt_name("h-fifo");
	int h = gt_handle(self->fd, x);
	struct gt_rep rp;

	ASSERT_LE(1, h);
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-a"));
	ASSERT_EQ(0, gt_child_start(&self->c[1], -1, "gt-b"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_SHARED, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[1], GT_OP_LOCK, x,
				   GLOCK_EXCLUSIVE, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	/* Compatible, but someone waits: no barging through a handle. */
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_SHARED, true));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_child_unlock(&self->c[0], x));
	ASSERT_EQ(0, gt_child_wait(&self->c[1], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_SHARED, true));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, gt_child_unlock(&self->c[1], x));
	EXPECT_EQ(0, gt_hlock(self->fd, h, GLOCK_SHARED, true));
	EXPECT_EQ(0, gt_hunlock(self->fd, h));
}

struct hl_arg {
	int fd, h, ret, err;
};

static void *hl_thread(void *p)
{
	struct hl_arg *a = p;

	a->ret = gt_hlock(a->fd, a->h, GLOCK_EXCLUSIVE, false);
	a->err = errno;
	return NULL;
}

/* A waiting HLOCK gets the abandoned mark as its return value. */
TEST_F(h, abandoned_reaches_a_waiting_handle)
{
	const char *x = gt_name("h-aband");
	struct hl_arg a = { .fd = self->fd };
	pthread_t t;

	a.h = gt_handle(self->fd, x);
	ASSERT_LE(1, a.h);
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-holder"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, hl_thread, &a));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	gt_child_kill(&self->c[0]);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(GLOCK_R_ABANDONED, a.ret) TH_LOG("%s", strerror(a.err));
	EXPECT_EQ(0, gt_hunlock(self->fd, a.h));
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A signal ends a handle's wait with EINTR, nothing held or queued. */
TEST_F(h, signal_ends_the_wait)
{
	const char *x = gt_name("h-intr");
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct hl_arg a = { .fd = self->fd };
	struct glock_state st;
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	a.h = gt_handle(self->fd, x);
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-holder"));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], x, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, hl_thread, &a));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, x, 1));
	pthread_kill(t, SIGUSR1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(-1, a.ret);
	EXPECT_EQ(EINTR, a.err);
	ASSERT_EQ(0, gt_state(self->fd, x, &st));
	EXPECT_EQ(0, st.waiters);
	EXPECT_EQ(0, st.depth);
}

/* A cycle closed through a handle is refused like one by name. */
TEST_F(h, deadlock_through_a_handle)
{
	const char *a = gt_name("h-dl-a"), *b = gt_name("h-dl-b");
	int h = gt_handle(self->fd, b);
	struct gt_rep rp;

	ASSERT_LE(1, h);
	ASSERT_EQ(0, gt_child_start(&self->c[0], -1, "gt-other"));
	ASSERT_EQ(0, gt_lock(self->fd, a, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_lock(&self->c[0], b, GLOCK_EXCLUSIVE, 0));
	ASSERT_EQ(0, gt_child_send(&self->c[0], GT_OP_LOCK, a,
				   GLOCK_EXCLUSIVE, -1, 0));
	ASSERT_EQ(0, gt_wait_waiters(self->fd, a, 1));
	EXPECT_EQ(-1, gt_hlock(self->fd, h, GLOCK_EXCLUSIVE, false));
	EXPECT_EQ(EDEADLK, errno);
	ASSERT_EQ(0, gt_unlock(self->fd, a));
	ASSERT_EQ(0, gt_child_wait(&self->c[0], &rp, GT_SOON_MS));
	EXPECT_EQ(0, rp.ret);
}

/* A handle pins the object and takes a place in the per-owner limit. */
TEST_F(h, pins_and_counts)
{
	long long saved = gt_param_get("max_locks_per_owner");
	char *buf, rec[128];
	int h1, h2, fd2;

	ASSERT_EQ(0, gt_param_set("max_locks_per_owner", 2));
	fd2 = gt_open();
	ASSERT_LE(0, fd2);
	h1 = gt_handle(fd2, gt_name("h-pin-1"));
	h2 = gt_handle(fd2, gt_name("h-pin-2"));
	EXPECT_LE(1, h1);
	EXPECT_LE(1, h2);
	EXPECT_EQ(-1, gt_handle(fd2, gt_name("h-pin-3")));
	EXPECT_EQ(ENOLCK, errno);
	EXPECT_EQ(-1, gt_lock(fd2, gt_name("h-pin-4"), GLOCK_SHARED, 0));
	EXPECT_EQ(ENOLCK, errno);
	/* The same name twice: one place. */
	EXPECT_LE(1, gt_handle(fd2, gt_name("h-pin-1")));
	gt_param_set("max_locks_per_owner", saved);

	snprintf(rec, sizeof(rec), "lock name=%s ", gt_name("h-pin-1"));
	buf = gt_debugfs("locks");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, rec)) TH_LOG("a handle's object is kept");
	free(buf);
	/* Closing the file drops its handles and their objects. */
	close(fd2);
	buf = gt_debugfs("locks");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(NULL, strstr(buf, rec));
	free(buf);
}

/*
 * A file's handle space: 1..65535, each new handle the lowest free one,
 * ENOLCK past it; the table grows and keeps every handle working. 65535
 * GET_HANDLEs took 26-43 s on the debug kernel under TCG: past the
 * harness's default 30 s.
 */
TEST_F_TIMEOUT(h, handle_space, 180)
{
	const char *x = gt_name("h-space");
	int fd2 = gt_open(), i, h, bad = 0;

	ASSERT_LE(0, fd2);
	for (i = 1; i <= 65535; i++) {
		h = gt_handle(fd2, x);
		if (h != i && !bad++)
			TH_LOG("handle %d where %d was expected (errno %d)",
			       h, i, errno);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(-1, gt_handle(fd2, x));
	EXPECT_EQ(ENOLCK, errno);
	/* Freed handles come back lowest first; then full again. */
	EXPECT_EQ(0, gt_hput(fd2, 40000));
	EXPECT_EQ(0, gt_hput(fd2, 17));
	EXPECT_EQ(0, gt_hput(fd2, 1));
	EXPECT_EQ(1, gt_handle(fd2, x));
	EXPECT_EQ(17, gt_handle(fd2, x));
	EXPECT_EQ(40000, gt_handle(fd2, x));
	EXPECT_EQ(-1, gt_handle(fd2, x));
	EXPECT_EQ(ENOLCK, errno);
	/* Handles from the first table and the last both reach the lock. */
	EXPECT_EQ(0, gt_hlock(fd2, 1, GLOCK_EXCLUSIVE, true));
	EXPECT_EQ(0, gt_hlock(fd2, 65535, GLOCK_EXCLUSIVE, true));
	EXPECT_EQ(1, gt_hunlock(fd2, 1));
	EXPECT_EQ(0, gt_hunlock(fd2, 65535));
	EXPECT_EQ(-1, gt_hunlock(fd2, 65536));
	EXPECT_EQ(EINVAL, errno);
	close(fd2);
}

/*
 * Threads sharing one file take, use and put handles at once, so the
 * table grows under lookups and other takers: no handle is ever given to
 * two threads, and every one reaches the lock. A new file each epoch
 * grows a table from nothing again. Each thread has its own name: the
 * threads are one owner, and a PUT_HANDLE while that owner holds the lock
 * through any handle is EBUSY.
 */
#define HT_THREADS	4
#define HT_EPOCHS	5
#define HT_ROUNDS	20
#define HT_KEEP		100	/* handles a thread holds at once */

static int ht_user[65536];	/* thread + 1 holding each handle, or 0 */

struct ht_arg {
	int fd, id, errors;
	char name[GLOCK_NAME_MAX + 1];
};

static void *ht_thread(void *p)
{
	struct ht_arg *a = p;
	int hs[HT_KEEP], r, i;

	for (r = 0; r < HT_ROUNDS; r++) {
		for (i = 0; i < HT_KEEP; i++) {
			hs[i] = gt_handle(a->fd, a->name);
			if (hs[i] < 1 || hs[i] > 65535 ||
			    __atomic_exchange_n(&ht_user[hs[i]], a->id + 1,
						__ATOMIC_SEQ_CST)) {
				a->errors++;
				hs[i] = 0;
			}
		}
		for (i = 0; i < HT_KEEP; i++)
			if (hs[i] && (gt_hlock(a->fd, hs[i], GLOCK_SHARED, true) ||
				      gt_hunlock(a->fd, hs[i]) < 0))
				a->errors++;
		for (i = 0; i < HT_KEEP; i++) {
			if (!hs[i])
				continue;
			__atomic_store_n(&ht_user[hs[i]], 0, __ATOMIC_SEQ_CST);
			if (gt_hput(a->fd, hs[i]))
				a->errors++;
		}
	}
	return NULL;
}

TEST_F(h, threads_share_a_handle_table)
{
	struct ht_arg a[HT_THREADS];
	pthread_t t[HT_THREADS];
	int e, i, errors = 0;

	for (e = 0; e < HT_EPOCHS; e++) {
		int fd = gt_open();

		ASSERT_LE(0, fd);
		for (i = 0; i < HT_THREADS; i++) {
			a[i] = (struct ht_arg){ .fd = fd, .id = i };
			snprintf(a[i].name, sizeof(a[i].name), "%s-%d",
				 gt_name("h-threads"), i);
			ASSERT_EQ(0, pthread_create(&t[i], NULL, ht_thread,
						    &a[i]));
		}
		for (i = 0; i < HT_THREADS; i++) {
			ASSERT_EQ(0, pthread_join(t[i], NULL));
			errors += a[i].errors;
		}
		/* All put: the next handle is 1 again. */
		EXPECT_EQ(1, gt_handle(fd, a[0].name));
		close(fd);
	}
	EXPECT_EQ(0, errors);
}

/*
 * HLOCK and HUNLOCK race with PUT_HANDLE and with the slot being given
 * again: the lookup takes no table lock, locks the object of the ref it
 * read and must see the slot still hold that ref. One thread puts handle
 * 1 and gets it back for the other of two names, over and over; another
 * locks and unlocks handle 1 (EINVAL while the slot is empty). A lock it
 * got must be exactly one of the two (a second file sees which), the
 * handle cannot move while it is held, and HUNLOCK must reach the same
 * lock. On the debug kernel this also runs under KASAN.
 */
#define HR_SWAPS	20000

struct hr_ctx {
	int fd;
	char names[2][GLOCK_NAME_MAX + 1];
	int done, errors;
};

static void *hr_churn(void *p)
{
	struct hr_ctx *c = p;

	for (int i = 0; i < HR_SWAPS; i++) {
		if (gt_hput(c->fd, 1)) {
			if (errno != EBUSY)
				c->errors++;
			continue;		/* held right now */
		}
		if (gt_handle(c->fd, c->names[i % 2]) != 1)
			c->errors++;
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

TEST_F(h, lookup_races_put_and_reuse)
{
	struct hr_ctx c = { .fd = self->fd };
	long got[2] = { 0, 0 }, empty = 0, errors = 0;
	int fd2 = gt_open();
	pthread_t t;

	ASSERT_LE(0, fd2);
	for (int i = 0; i < 2; i++)
		snprintf(c.names[i], sizeof(c.names[i]), "%s-%d",
			 gt_name("h-race"), i);
	ASSERT_EQ(1, gt_handle(self->fd, c.names[1]));
	ASSERT_EQ(0, pthread_create(&t, NULL, hr_churn, &c));
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE)) {
		int busy[2];

		if (gt_hlock(self->fd, 1, GLOCK_EXCLUSIVE, true) < 0) {
			if (errno == EINVAL)
				empty++;
			else
				errors++;
			continue;
		}
		for (int i = 0; i < 2; i++) {
			busy[i] = gt_trylock(fd2, c.names[i], GLOCK_EXCLUSIVE);
			if (busy[i] == 0)
				gt_unlock(fd2, c.names[i]);
		}
		if (busy[0] == busy[1])		/* none or both held */
			errors++;
		else
			got[busy[1] != 0]++;
		if (gt_hunlock(self->fd, 1) != 0)
			errors++;
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%ld + %ld locks through the moving handle, %ld while it was gone",
	       got[0], got[1], empty);
	EXPECT_EQ(0, c.errors);
	EXPECT_EQ(0, errors);
	EXPECT_LT(0, got[0]);
	EXPECT_LT(0, got[1]);
	/* Nothing is left held by either file. */
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(0, gt_trylock(fd2, c.names[i], GLOCK_EXCLUSIVE));
		EXPECT_EQ(0, gt_unlock(fd2, c.names[i]));
	}
	close(fd2);
}

TEST_HARNESS_MAIN
